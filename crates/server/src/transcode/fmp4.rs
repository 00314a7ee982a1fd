//! The fragmented MP4 that ffmpeg writes for one segment, cut in two: the init segment
//! (ftyp + moov, the same for every segment of a rendition) and the media segment (the
//! moof + mdat pairs), whose `tfdt` decode times are set to the segment's place on the
//! rendition's timeline so that separately encoded segments play as one stream.

use std::collections::HashMap;

/// The two halves of one encoded segment.
#[derive(Debug)]
pub struct Split {
    /// ftyp + moov.
    pub init: Vec<u8>,
    /// moof + mdat pairs (with their tfdt set).
    pub media: Vec<u8>,
}

/// A box: type, start of the whole box, start of its payload, end.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    start: usize,
    body: usize,
    end: usize,
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The boxes in `data[from..to]`, or an error naming the offset of a bad size.
fn boxes(data: &[u8], from: usize, to: usize) -> Result<Vec<BoxAt>, String> {
    let mut out = Vec::new();
    let mut at = from;
    while at + 8 <= to {
        let size32 = read_u32(data, at).ok_or("short box header")?;
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().map_err(|_| "box type")?;
        let (size, header) = match size32 {
            0 => (to - at, 8),
            1 => {
                let s = read_u64(data, at + 8).ok_or("short largesize")?;
                (usize::try_from(s).map_err(|_| "box too large")?, 16)
            }
            s => (s as usize, 8),
        };
        let end = at.checked_add(size).ok_or("box size overflow")?;
        if size < header || end > to {
            return Err(format!("bad box size {size} at offset {at}"));
        }
        out.push(BoxAt {
            kind,
            start: at,
            body: at + header,
            end,
        });
        at = end;
    }
    Ok(out)
}

fn child(data: &[u8], parent: &BoxAt, kind: &[u8; 4]) -> Result<Option<BoxAt>, String> {
    Ok(boxes(data, parent.body, parent.end)?
        .into_iter()
        .find(|b| &b.kind == kind))
}

/// Track id → (is video, timescale), from the moov.
fn tracks(data: &[u8], moov: &BoxAt) -> Result<HashMap<u32, (bool, u32)>, String> {
    let mut out = HashMap::new();
    for trak in boxes(data, moov.body, moov.end)?
        .into_iter()
        .filter(|b| &b.kind == b"trak")
    {
        let tkhd = child(data, &trak, b"tkhd")?.ok_or("trak without tkhd")?;
        let v1 = data.get(tkhd.body) == Some(&1);
        let id = read_u32(data, tkhd.body + if v1 { 20 } else { 12 }).ok_or("short tkhd")?;
        let mdia = child(data, &trak, b"mdia")?.ok_or("trak without mdia")?;
        let mdhd = child(data, &mdia, b"mdhd")?.ok_or("mdia without mdhd")?;
        let v1 = data.get(mdhd.body) == Some(&1);
        let timescale = read_u32(data, mdhd.body + if v1 { 20 } else { 12 }).ok_or("short mdhd")?;
        let hdlr = child(data, &mdia, b"hdlr")?.ok_or("mdia without hdlr")?;
        let handler = data
            .get(hdlr.body + 8..hdlr.body + 12)
            .ok_or("short hdlr")?;
        out.insert(id, (handler == b"vide", timescale.max(1)));
    }
    Ok(out)
}

/// Splits ffmpeg's output and moves its fragments so that the first video sample decodes at
/// `video_start` (video track ticks); audio moves by the same time, never below zero.
pub fn split(data: &[u8], video_start: u64) -> Result<Split, String> {
    let top = boxes(data, 0, data.len())?;
    let moov = top
        .iter()
        .find(|b| &b.kind == b"moov")
        .ok_or("no moov in the encoder's output")?;
    let ftyp_end = top
        .iter()
        .find(|b| &b.kind == b"ftyp")
        .map_or(moov.start, |b| b.end);
    let mut init = Vec::with_capacity(ftyp_end + moov.end - moov.start);
    if ftyp_end <= moov.start {
        init.extend_from_slice(&data[..ftyp_end]);
    }
    init.extend_from_slice(&data[moov.start..moov.end]);
    let tracks = tracks(data, moov)?;
    let mut media = Vec::with_capacity(data.len());
    // (offset in `media` of the tfdt payload, version, track id, value)
    let mut tfdts: Vec<(usize, bool, u32, u64)> = Vec::new();
    for b in top
        .iter()
        .filter(|b| &b.kind == b"moof" || &b.kind == b"mdat")
    {
        let base = media.len();
        if &b.kind == b"moof" {
            for traf in boxes(data, b.body, b.end)?
                .into_iter()
                .filter(|t| &t.kind == b"traf")
            {
                let tfhd = child(data, &traf, b"tfhd")?.ok_or("traf without tfhd")?;
                let id = read_u32(data, tfhd.body + 4).ok_or("short tfhd")?;
                let tfdt = child(data, &traf, b"tfdt")?.ok_or("traf without tfdt")?;
                let v1 = data.get(tfdt.body) == Some(&1);
                let value = if v1 {
                    read_u64(data, tfdt.body + 4)
                } else {
                    read_u32(data, tfdt.body + 4).map(u64::from)
                }
                .ok_or("short tfdt")?;
                tfdts.push((base + tfdt.body + 4 - b.start, v1, id, value));
            }
        }
        media.extend_from_slice(&data[b.start..b.end]);
    }
    if media.is_empty() {
        return Err("the encoder wrote no fragments".into());
    }
    let (vts, first_video) = tfdts
        .iter()
        .find_map(|&(_, _, id, v)| match tracks.get(&id) {
            Some(&(true, ts)) => Some((ts, v)),
            _ => None,
        })
        .ok_or("the encoder wrote no video fragment")?;
    let shift = video_start as f64 / f64::from(vts) - first_video as f64 / f64::from(vts);
    for (at, v1, id, value) in tfdts {
        let (video, ts) = tracks.get(&id).copied().unwrap_or((false, 1));
        let new = if video {
            i128::from(value) + i128::from(video_start) - i128::from(first_video)
        } else {
            i128::from(value) + (shift * f64::from(ts)).round() as i128
        }
        .max(0);
        if v1 {
            let v = u64::try_from(new).map_err(|_| "tfdt overflow")?;
            media[at..at + 8].copy_from_slice(&v.to_be_bytes());
        } else {
            let v = u32::try_from(new).map_err(|_| "tfdt does not fit version 0")?;
            media[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
    }
    Ok(Split { init, media })
}

/// The decode times (track id, tfdt) of every fragment in a media segment, for tests.
pub fn decode_times(media: &[u8]) -> Result<Vec<(u32, u64)>, String> {
    let mut out = Vec::new();
    for b in boxes(media, 0, media.len())?
        .into_iter()
        .filter(|b| &b.kind == b"moof")
    {
        for traf in boxes(media, b.body, b.end)?
            .into_iter()
            .filter(|t| &t.kind == b"traf")
        {
            let tfhd = child(media, &traf, b"tfhd")?.ok_or("traf without tfhd")?;
            let tfdt = child(media, &traf, b"tfdt")?.ok_or("traf without tfdt")?;
            let id = read_u32(media, tfhd.body + 4).ok_or("short tfhd")?;
            let v = if media.get(tfdt.body) == Some(&1) {
                read_u64(media, tfdt.body + 4)
            } else {
                read_u32(media, tfdt.body + 4).map(u64::from)
            }
            .ok_or("short tfdt")?;
            out.push((id, v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn trak(id: u32, handler: &[u8; 4], timescale: u32) -> Vec<u8> {
        let mut tkhd = vec![0u8; 84];
        tkhd[12..16].copy_from_slice(&id.to_be_bytes());
        let mut mdhd = vec![0u8; 24];
        mdhd[12..16].copy_from_slice(&timescale.to_be_bytes());
        let mut hdlr = vec![0u8; 24];
        hdlr[8..12].copy_from_slice(handler);
        let mdia = [mk(b"mdhd", &mdhd), mk(b"hdlr", &hdlr)].concat();
        mk(b"trak", &[mk(b"tkhd", &tkhd), mk(b"mdia", &mdia)].concat())
    }

    fn traf(id: u32, tfdt: u64) -> Vec<u8> {
        let mut tfhd = vec![0u8; 8];
        tfhd[4..8].copy_from_slice(&id.to_be_bytes());
        let mut t = vec![1u8, 0, 0, 0];
        t.extend_from_slice(&tfdt.to_be_bytes());
        mk(b"traf", &[mk(b"tfhd", &tfhd), mk(b"tfdt", &t)].concat())
    }

    #[test]
    fn moves_fragments_to_the_segment_start() {
        let moov = mk(
            b"moov",
            &[trak(1, b"vide", 15_360), trak(2, b"soun", 48_000)].concat(),
        );
        let moof = mk(b"moof", &[traf(1, 328), traf(2, 0)].concat());
        let file = [
            mk(b"ftyp", b"isom"),
            moov.clone(),
            moof,
            mk(b"mdat", b"xx"),
            mk(b"mfra", b""),
        ]
        .concat();
        let split = split(&file, 30_720).expect("split");
        assert_eq!(split.init, [mk(b"ftyp", b"isom"), moov].concat());
        // Video to 2.0 s; audio moved by the same 2.0 - 328/15360 s.
        let times = decode_times(&split.media).expect("times");
        assert_eq!(times[0], (1, 30_720));
        let audio = ((2.0 - 328.0 / 15_360.0) * 48_000.0_f64).round() as u64;
        assert_eq!(times[1], (2, audio));
        assert!(!split.media.windows(4).any(|w| w == b"mfra"));
        assert!(super::split(b"\0\0\0\x05moov", 0).is_err());
    }
}
