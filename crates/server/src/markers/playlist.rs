//! Markers as HLS tags (RFC 8216 §4.3.2.7): one EXT-X-DATERANGE per marker, with the
//! EXT-X-PROGRAM-DATE-TIME anchor a playlist with date ranges must carry. VOD playlists are
//! anchored at the Unix epoch, so a marker at `t` seconds starts at epoch + `t`.

use super::Marker;
use std::fmt::Write;

/// The program date of a VOD playlist's first segment.
pub const VOD_ANCHOR: f64 = 0.0;

/// `1970-01-01T00:00:01.500Z` for 1.5 seconds since the epoch (millisecond precision, UTC).
pub fn iso8601(unix: f64) -> String {
    let ms = (unix * 1000.0).round();
    let ms = if ms.is_finite() { ms as i64 } else { 0 };
    crate::utc::format(ms, true)
}

/// A quoted-string attribute value: HLS has no escapes, so `"` becomes `'` and control
/// characters are dropped (the API refuses them anyway).
fn quoted(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' { '\'' } else { c })
        .collect()
}

/// The EXT-X-DATERANGE line of `marker`, which starts at `anchor + marker.time`.
pub fn daterange(marker: &Marker, anchor: f64) -> String {
    let mut line = format!("#EXT-X-DATERANGE:ID=\"marker-{}\"", marker.id);
    if let Some(class) = &marker.class {
        let _ = write!(line, ",CLASS=\"{}\"", quoted(class));
    }
    let _ = write!(line, ",START-DATE=\"{}\"", iso8601(anchor + marker.time));
    if let Some(d) = marker.duration {
        let _ = write!(line, ",DURATION={d:.3}");
    }
    let _ = write!(line, ",X-LABEL=\"{}\"", quoted(&marker.label));
    line
}

/// Tags for a VOD media playlist's `extra_tags` (placed before the first segment): the
/// epoch anchor and one date range per marker; empty when there are no markers, so a
/// playlist without markers is byte for byte what it was.
pub fn vod_tags(markers: &[Marker]) -> Vec<String> {
    if markers.is_empty() {
        return Vec::new();
    }
    let mut tags = Vec::with_capacity(markers.len() + 1);
    tags.push(format!("#EXT-X-PROGRAM-DATE-TIME:{}", iso8601(VOD_ANCHOR)));
    tags.extend(markers.iter().map(|m| daterange(m, VOD_ANCHOR)));
    tags
}

/// A short token that changes whenever the tags do (for ETags).
pub fn tags_token(tags: &[String]) -> String {
    crate::library::id_of(&tags.join("\n"))
}

/// Inserts date ranges (markers dated in Unix seconds) into a live media playlist written by
/// ffmpeg, before its first segment's tags. The playlist already dates every segment.
pub fn insert_live(playlist: &str, markers: &[Marker]) -> String {
    if markers.is_empty() {
        return playlist.to_string();
    }
    let mut out = String::with_capacity(playlist.len() + markers.len() * 120);
    let mut inserted = false;
    for line in playlist.lines() {
        let segment_tag = line.starts_with("#EXTINF")
            || line.starts_with("#EXT-X-PROGRAM-DATE-TIME")
            || line.starts_with("#EXT-X-DISCONTINUITY");
        if !inserted && segment_tag {
            for m in markers {
                out.push_str(&daterange(m, 0.0));
                out.push('\n');
            }
            inserted = true;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !inserted {
        for m in markers {
            out.push_str(&daterange(m, 0.0));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, time: f64, label: &str) -> Marker {
        Marker {
            id,
            time,
            duration: None,
            label: label.into(),
            class: None,
            created: String::new(),
        }
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1.5), "1970-01-01T00:00:01.500Z");
        assert_eq!(iso8601(1_700_000_000.25), "2023-11-14T22:13:20.250Z");
        assert_eq!(iso8601(3661.0009), "1970-01-01T01:01:01.001Z");
    }

    #[test]
    fn tags() {
        assert!(vod_tags(&[]).is_empty());
        let mut a = m(7, 1.25, "say \"hi\"");
        a.duration = Some(2.0);
        a.class = Some("com.example".into());
        let tags = vod_tags(&[a]);
        assert_eq!(tags[0], "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z");
        assert_eq!(
            tags[1],
            "#EXT-X-DATERANGE:ID=\"marker-7\",CLASS=\"com.example\",\
             START-DATE=\"1970-01-01T00:00:01.250Z\",DURATION=2.000,X-LABEL=\"say 'hi'\""
        );
    }

    #[test]
    fn live_insertion_goes_before_the_first_segment() {
        let pl = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MAP:URI=\"init.mp4\"\n\
                  #EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00.000Z\n#EXTINF:2.0,\nseg-1.m4s\n";
        let out = insert_live(pl, &[m(1, 1_704_067_201.0, "x")]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[3].starts_with("#EXT-X-DATERANGE:ID=\"marker-1\""));
        assert!(lines[3].contains("2024-01-01T00:00:01.000Z"));
        assert!(lines[4].starts_with("#EXT-X-PROGRAM-DATE-TIME"));
        assert_eq!(insert_live(pl, &[]), pl);
    }
}
