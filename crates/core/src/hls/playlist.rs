//! Reading HLS playlists (RFC 8216) for the browser module: master playlists (variants and
//! their choice), media playlists (segments with resolved byte ranges, initialization
//! sections, dates), EXT-X-DATERANGE markers, relative URI resolution and live reloads.
//!
//! # Why m3u8-rs
//!
//! The tags are parsed by [`m3u8_rs`] (6.x, maintained, used by GStreamer's HLS elements);
//! this module converts its output into frameseek's own small types and adds what a player
//! needs on top (byte-range continuation, inherited EXT-X-MAP/PROGRAM-DATE-TIME, markers,
//! live diffs). The alternative, `hls_m3u8` 0.7, was ruled out because it
//!
//! - validates on parse and rejects playlists that real packagers write (any EXTINF that
//!   rounds above EXT-X-TARGETDURATION is an error), where a player must be lenient;
//! - needs Rust 1.88 (edition 2024), above this workspace's `rust-version` 1.85.
//!
//! m3u8-rs is built with `default-features = false, features = ["parser"]` (its only feature;
//! without it nothing parses). It brings `nom` 7 and `chrono` with only `std` (no clock, no
//! `js-sys`). Measured in a wasm32 cdylib built like the browser module (release, LTO,
//! `opt-level = "s"`, then `wasm-opt -Oz`), gzipped: core's MP4 reader alone 50.3 KB;
//! with m3u8-rs parsing master and media playlists 94.8 KB; with this module 109.0 KB;
//! with `hls_m3u8` (no chrono) instead of m3u8-rs 117.6 KB. Most of m3u8-rs's share is
//! `nom` and the standard library's float parsing (whose power-of-five table alone is
//! ~20 KB of data). This module keeps its own share down: no float formatting, no chrono
//! format strings, one `HashMap` type, a heapsort instead of the standard sorts.
//!
//! Quirks of m3u8-rs that this module works around:
//!
//! - it attaches EXT-X-MAP and EXT-X-KEY only to the segment right after the tag: they are
//!   carried forward here, as RFC 8216 §4.3.2.4/§4.3.2.5 say;
//! - it refuses `EXT-X-KEY:METHOD=NONE` without an IV (its check is inverted) and hands it on
//!   as an unknown tag: that still ends the key in force here;
//! - it keeps one EXT-X-DATERANGE per segment and drops those after the last segment: each
//!   DATERANGE line is therefore parsed on its own (still by m3u8-rs);
//! - it drops an EXT-X-PROGRAM-DATE-TIME that is not strict RFC 3339 (e.g. `+0000` without a
//!   colon) into the unknown tags: those are read here with a lenient ISO 8601 pattern;
//! - EXTINF durations are `f32`: they are widened through their shortest decimal form, so
//!   `6.006` stays 6.006 and not 6.005_999_851;
//! - its parser stops silently at a line it cannot read: that is an error here, with the
//!   line's byte offset.
//!
//! Hostile input: the playlist size, the number of segments, variants and date ranges are
//! bounded ([`MAX_PLAYLIST_BYTES`], [`MAX_SEGMENTS`], [`MAX_VARIANTS`], [`MAX_DATERANGES`]),
//! checked before m3u8-rs allocates, and every failure is a typed [`Error`] with the byte
//! offset of the line.

#[cfg(test)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::plan::ByteRange;
use m3u8_rs::{MediaPlaylistType, QuotedOrUnquoted};
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;

pub use super::uri::resolve_uri;

/// The largest playlist accepted, in bytes (a 24-hour live window of 2 s segments is ~4 MB).
pub const MAX_PLAYLIST_BYTES: usize = 16 << 20;
/// The most media segments a media playlist may list.
pub const MAX_SEGMENTS: usize = 200_000;
/// The most variant streams a master playlist may list.
pub const MAX_VARIANTS: usize = 1_000;
/// The most EXT-X-DATERANGE tags a media playlist may hold.
pub const MAX_DATERANGES: usize = 20_000;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// A playlist of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    /// Lists variant streams (EXT-X-STREAM-INF).
    Master(MasterPlaylist),
    /// Lists media segments.
    Media(MediaPlaylist),
}

/// One EXT-X-STREAM-INF variant (I-frame-only variants are not listed).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// The media playlist's URI as written (resolve it with [`resolve_uri`]).
    pub uri: String,
    /// BANDWIDTH: peak bits per second.
    pub bandwidth: u64,
    /// AVERAGE-BANDWIDTH, if given.
    pub average_bandwidth: Option<u64>,
    /// CODECS, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: Option<String>,
    /// RESOLUTION as (width, height).
    pub resolution: Option<(u32, u32)>,
    /// FRAME-RATE.
    pub frame_rate: Option<f64>,
    /// AUDIO: the group id of the EXT-X-MEDIA audio renditions that go with this variant.
    pub audio: Option<String>,
}

/// One EXT-X-MEDIA rendition of TYPE=AUDIO.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioRendition {
    /// GROUP-ID.
    pub group_id: String,
    /// NAME.
    pub name: String,
    /// URI of its media playlist; `None` when the audio is muxed into the variant.
    pub uri: Option<String>,
    /// LANGUAGE.
    pub language: Option<String>,
    /// DEFAULT=YES.
    pub default: bool,
}

/// A master playlist.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasterPlaylist {
    /// The variant streams, in playlist order.
    pub variants: Vec<Variant>,
    /// The audio renditions (EXT-X-MEDIA TYPE=AUDIO).
    pub audio: Vec<AudioRendition>,
    /// EXT-X-INDEPENDENT-SEGMENTS.
    pub independent_segments: bool,
}

/// How [`choose_variant`] picks a variant. The default picks the highest resolution, then
/// the highest bandwidth.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantPrefs {
    /// Take this variant (an index into [`MasterPlaylist::variants`]) when it exists.
    pub index: Option<usize>,
    /// Skip variants taller than this.
    pub max_height: Option<u32>,
    /// Skip variants wider than this.
    pub max_width: Option<u32>,
    /// Skip variants whose BANDWIDTH is above this (bits per second).
    pub max_bandwidth: Option<u64>,
    /// When set, skip variants whose CODECS lists a codec that starts with none of these
    /// prefixes (e.g. `["avc1", "mp4a"]`); variants without CODECS are kept.
    pub codecs: Option<Vec<String>>,
}

/// The type of a media playlist (EXT-X-PLAYLIST-TYPE); absent means a live sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaylistType {
    /// The playlist never changes.
    Vod,
    /// Segments are only appended.
    Event,
}

/// The Media Initialization Section of fMP4 segments (EXT-X-MAP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MapInfo {
    /// URI as written.
    pub uri: String,
    /// BYTERANGE, resolved (an absent offset means 0).
    pub byte_range: Option<ByteRange>,
}

/// One media segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentInfo {
    /// URI as written.
    pub uri: String,
    /// EXTINF duration in seconds.
    pub duration: f64,
    /// Start on the playlist's timeline: the sum of the durations before it, in seconds.
    pub start: f64,
    /// EXT-X-BYTERANGE, resolved: an absent offset continues after the previous sub-range of
    /// the same URI (RFC 8216 §4.3.2.2), or starts at 0 when there is none.
    pub byte_range: Option<ByteRange>,
    /// Media sequence number.
    pub sequence: u64,
    /// Discontinuity sequence number.
    pub discontinuity_sequence: u64,
    /// EXT-X-DISCONTINUITY before this segment.
    pub discontinuity: bool,
    /// EXT-X-PROGRAM-DATE-TIME given for this segment, as seconds since the Unix epoch.
    /// [`MediaPlaylist::segment_dates`] extends it to the segments around it.
    pub program_date_time: Option<f64>,
    /// Index into [`MediaPlaylist::maps`] of the EXT-X-MAP in force.
    pub map: Option<usize>,
    /// The EXT-X-KEY in force, when its METHOD is not NONE.
    pub key: Option<KeyInfo>,
}

/// An EXT-X-KEY (RFC 8216 §4.3.2.4) with a METHOD other than NONE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    /// METHOD as written: `AES-128` (whole segments in AES-128-CBC, see
    /// [`super::decrypt`]), `SAMPLE-AES` and others; with a KEYFORMAT other than `identity`
    /// (a DRM system), `METHOD (KEYFORMAT)`.
    pub method: String,
    /// The key's URI as written (resolve it with [`resolve_uri`]).
    pub uri: Option<String>,
    /// IV; when absent, the segment's media sequence number serves (RFC 8216 §5.2).
    pub iv: Option<[u8; 16]>,
}

impl KeyInfo {
    /// Whether frameseek reads segments under this key: AES-128 with an identity key and
    /// a URI.
    pub fn is_aes128(&self) -> bool {
        self.method == "AES-128" && self.uri.is_some()
    }

    /// The IV for the segment with media sequence number `sequence`.
    pub fn iv_for(&self, sequence: u64) -> [u8; 16] {
        self.iv.unwrap_or_else(|| {
            let mut iv = [0u8; 16];
            iv[8..].copy_from_slice(&sequence.to_be_bytes());
            iv
        })
    }
}

/// An IV attribute: `0x` and up to 32 hexadecimal digits, right-aligned in 128 bits.
fn parse_iv(text: &str, at: u64) -> Result<[u8; 16]> {
    let bad = || {
        Error::invalid(
            "EXT-X-KEY",
            format!("IV {text:?} is not a 128-bit hexadecimal number"),
            at,
        )
    };
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .filter(|d| !d.is_empty() && d.len() <= 32 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(bad)?;
    let value = u128::from_str_radix(digits, 16).map_err(|_| bad())?;
    Ok(value.to_be_bytes())
}

/// An EXT-X-DATERANGE (RFC 8216 §4.3.2.7). Tags with the same ID are merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    /// ID.
    pub id: String,
    /// CLASS.
    pub class: Option<String>,
    /// START-DATE, seconds since the Unix epoch.
    pub start: f64,
    /// DURATION, else END-DATE − START-DATE, else (END-ON-NEXT) the start of the next range
    /// of the same class − START-DATE, else PLANNED-DURATION.
    pub duration: Option<f64>,
    /// `start + duration`.
    pub end: Option<f64>,
    /// X-LABEL, X-TITLE or X-NAME, else the first X-COM-… attribute, else CLASS, else ID.
    pub label: String,
    /// END-ON-NEXT=YES.
    pub end_on_next: bool,
    /// The client (X-…) attributes, sorted by name, quotes removed.
    pub attributes: Vec<(String, String)>,
}

/// A timeline marker: a date range placed on the playlist's presentation timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    /// The date range's ID.
    pub id: String,
    /// Seconds on the playlist timeline (segment starts, see [`SegmentInfo::start`]); may lie
    /// outside the playlist when the range starts before its first or after its last segment.
    pub time: f64,
    /// Seconds, if known.
    pub duration: Option<f64>,
    /// What to show.
    pub label: String,
    /// CLASS.
    pub class: Option<String>,
}

/// A media playlist.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaPlaylist {
    /// EXT-X-VERSION.
    pub version: Option<u32>,
    /// EXT-X-TARGETDURATION in seconds.
    pub target_duration: u64,
    /// EXT-X-MEDIA-SEQUENCE: the first segment's sequence number.
    pub media_sequence: u64,
    /// EXT-X-DISCONTINUITY-SEQUENCE.
    pub discontinuity_sequence: u64,
    /// EXT-X-PLAYLIST-TYPE.
    pub playlist_type: Option<PlaylistType>,
    /// EXT-X-ENDLIST: no segments will be added.
    pub ended: bool,
    /// EXT-X-INDEPENDENT-SEGMENTS.
    pub independent_segments: bool,
    /// EXT-X-I-FRAMES-ONLY.
    pub i_frames_only: bool,
    /// The distinct EXT-X-MAP sections, in order of appearance.
    pub maps: Vec<MapInfo>,
    /// The segments.
    pub segments: Vec<SegmentInfo>,
    /// The date ranges, in order of first appearance.
    pub dateranges: Vec<DateRange>,
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// A playlist's lines with their byte offsets, and the offsets of its URI lines.
struct Lines<'a> {
    lines: Vec<(usize, &'a str)>,
}

impl<'a> Lines<'a> {
    /// Splits `text` (already known to be UTF-8) into lines, without line endings.
    fn new(text: &'a str, base: usize) -> Self {
        let mut lines = Vec::new();
        let mut at = 0;
        for line in text.split('\n') {
            let len = line.len();
            lines.push((base + at, line.strip_suffix('\r').unwrap_or(line)));
            at += len + 1;
        }
        Self { lines }
    }

    /// Byte offsets of URI lines (not empty, not `#`).
    fn uri_lines(&self) -> Vec<(usize, &'a str)> {
        self.lines
            .iter()
            .map(|&(o, l)| (o, l.trim()))
            .filter(|(_, t)| !t.is_empty() && !t.starts_with('#'))
            .collect()
    }

    /// The offset of the line that holds byte `at`.
    fn line_at(&self, at: usize) -> usize {
        match self.lines.binary_search_by(|(o, _)| o.cmp(&at)) {
            Ok(i) => self.lines[i].0,
            Err(0) => 0,
            Err(i) => self.lines[i - 1].0,
        }
    }

    fn tags(&self, prefix: &str) -> impl Iterator<Item = (usize, &'a str)> + '_ {
        let prefix = prefix.to_string();
        self.lines
            .iter()
            .filter(move |(_, l)| l.starts_with(&prefix))
            .copied()
    }
}

/// Checks size, encoding and the `#EXTM3U` header; returns the text after a UTF-8 BOM and
/// the BOM's length.
fn prepare(data: &[u8]) -> Result<(&str, usize)> {
    if data.len() > MAX_PLAYLIST_BYTES {
        return Err(Error::too_large(
            "playlist",
            data.len() as u64,
            MAX_PLAYLIST_BYTES as u64,
            0,
        ));
    }
    let bom = if data.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let text = std::str::from_utf8(&data[bom..])
        .map_err(|e| Error::invalid("playlist", "not UTF-8", (bom + e.valid_up_to()) as u64))?;
    if !text.starts_with("#EXTM3U") {
        return Err(Error::invalid(
            "playlist",
            "does not start with #EXTM3U",
            bom as u64,
        ));
    }
    Ok((text, bom))
}

/// The error for input m3u8-rs stopped at: `rest` is what it left unread of `text`.
fn check_rest(text: &str, rest: &[u8], base: usize, lines: &Lines<'_>) -> Result<()> {
    let unread = rest.len();
    let trailing = rest
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if unread == 0 || trailing {
        return Ok(());
    }
    let at = base + text.len() - unread;
    Err(Error::invalid(
        "playlist",
        "unreadable line",
        lines.line_at(at) as u64,
    ))
}

/// m3u8-rs fails only when the header is missing, which [`prepare`] has checked; anything
/// else it stops at is left unread (see [`check_rest`]).
fn header_error<E>(_: E, base: usize) -> Error {
    Error::invalid("playlist", "unreadable header", base as u64)
}

/// Parses a playlist of either kind.
pub fn parse_playlist(data: &[u8]) -> Result<Playlist> {
    let (text, _) = prepare(data)?;
    if m3u8_rs::is_master_playlist(text.as_bytes()) {
        parse_master(data).map(Playlist::Master)
    } else {
        parse_media(data).map(Playlist::Media)
    }
}

/// Parses a master playlist.
pub fn parse_master(data: &[u8]) -> Result<MasterPlaylist> {
    let (text, base) = prepare(data)?;
    let lines = Lines::new(text, base);
    let streams = lines.tags("#EXT-X-STREAM-INF").count()
        + lines.tags("#EXT-X-I-FRAME-STREAM-INF").count()
        + lines.tags("#EXT-X-MEDIA:").count();
    if streams > MAX_VARIANTS {
        return Err(Error::too_large(
            "master playlist variants",
            streams as u64,
            MAX_VARIANTS as u64,
            base as u64,
        ));
    }
    let parsed = m3u8_rs::parse_master_playlist(text.as_bytes());
    let (rest, pl) = parsed.map_err(|e| header_error(e, base))?;
    check_rest(text, rest, base, &lines)?;
    let stream_lines: Vec<usize> = lines.tags("#EXT-X-STREAM-INF").map(|(o, _)| o).collect();
    let mut variants = Vec::new();
    for v in pl.variants.into_iter().filter(|v| !v.is_i_frame) {
        if v.uri.trim().is_empty() {
            let at = stream_lines.get(variants.len()).copied().unwrap_or(base);
            return Err(Error::invalid(
                "EXT-X-STREAM-INF",
                "no URI line follows",
                at as u64,
            ));
        }
        variants.push(Variant {
            uri: v.uri,
            bandwidth: v.bandwidth,
            average_bandwidth: v.average_bandwidth,
            codecs: v.codecs,
            resolution: v
                .resolution
                .and_then(|r| Some((u32::try_from(r.width).ok()?, u32::try_from(r.height).ok()?))),
            frame_rate: v.frame_rate.filter(|f| f.is_finite() && *f > 0.0),
            audio: v.audio,
        });
    }
    let audio = pl
        .alternatives
        .into_iter()
        .filter(|a| a.media_type == m3u8_rs::AlternativeMediaType::Audio)
        .map(|a| AudioRendition {
            group_id: a.group_id,
            name: a.name,
            uri: a.uri,
            language: a.language,
            default: a.default,
        })
        .collect();
    Ok(MasterPlaylist {
        variants,
        audio,
        independent_segments: pl.independent_segments,
    })
}

/// Picks a variant: `prefs.index` when it exists; otherwise, among the variants that meet
/// the limits, the highest resolution (by height, then width) and then the highest
/// bandwidth. When none meets them, the smallest variant (lowest resolution, then lowest
/// bandwidth) is the nearest fit. Variants with video are preferred to audio-only ones
/// (no RESOLUTION and only audio codecs). `None` only for an empty playlist.
pub fn choose_variant(master: &MasterPlaylist, prefs: &VariantPrefs) -> Option<usize> {
    if let Some(i) = prefs.index.filter(|&i| i < master.variants.len()) {
        return Some(i);
    }
    let audio_only = |v: &Variant| {
        v.resolution.is_none()
            && v.codecs.as_deref().is_some_and(|c| {
                c.split(',')
                    .map(str::trim)
                    .all(|c| c.starts_with("mp4a") || c == "ac-3" || c == "ec-3" || c == "opus")
            })
    };
    let codecs_ok = |v: &Variant| match (&prefs.codecs, &v.codecs) {
        (Some(allowed), Some(codecs)) => codecs
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .all(|c| allowed.iter().any(|a| c.starts_with(a.as_str()))),
        _ => true,
    };
    let fits = |v: &Variant| {
        let (w, h) = v.resolution.unwrap_or((0, 0));
        prefs.max_height.is_none_or(|m| h <= m)
            && prefs.max_width.is_none_or(|m| w <= m)
            && prefs.max_bandwidth.is_none_or(|m| v.bandwidth <= m)
    };
    let key = |v: &Variant| {
        let (w, h) = v.resolution.unwrap_or((0, 0));
        (h, w, v.bandwidth)
    };
    let all: Vec<usize> = (0..master.variants.len()).collect();
    let with_codecs: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| codecs_ok(&master.variants[i]))
        .collect();
    let pool = if with_codecs.is_empty() {
        all
    } else {
        with_codecs
    };
    let video: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|&i| !audio_only(&master.variants[i]))
        .collect();
    let pool = if video.is_empty() { pool } else { video };
    pool.iter()
        .copied()
        .filter(|&i| fits(&master.variants[i]))
        .max_by_key(|&i| key(&master.variants[i]))
        .or_else(|| {
            pool.iter()
                .copied()
                .min_by_key(|&i| key(&master.variants[i]))
        })
}

/// Seconds since the Unix epoch of a date.
fn epoch(dt: &chrono::DateTime<chrono::FixedOffset>) -> f64 {
    dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_nanos()) * 1e-9
}

/// A lenient ISO 8601 date-time, `YYYY-MM-DDThh:mm:ss[.f][Z|±hh[:mm]|±hhmm]` (no zone
/// means UTC), as seconds since the Unix epoch. m3u8-rs reads strict RFC 3339 itself; this
/// reads what it rejects, without chrono's format-string parser (which is large in wasm).
fn lenient_date(s: &str) -> Option<f64> {
    let b = s.trim().as_bytes();
    let num = |r: Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(d.iter().fold(0i64, |a, &c| a * 10 + i64::from(c - b'0')))
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac = 0.0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let (mut value, mut scale) = (0u64, 1u64);
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if scale < 1_000_000_000 {
                value = value * 10 + u64::from(c - b'0');
                scale *= 10;
            }
            i += 1;
        }
        if scale == 1 {
            return None;
        }
        frac = value as f64 / scale as f64;
    }
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = match b.len() - (i + 3) {
                0 => 0,
                2 => num(i + 3..i + 5)?,
                3 if b[i + 3] == b':' => num(i + 4..i + 6)?,
                _ => return None,
            };
            let o = oh * 3600 + om * 60;
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) as f64 + frac)
}

/// An `f32` EXTINF widened to the `f64` of the decimal it was written as: rounded to the 7
/// significant digits an `f32` holds (`6.006f32` is 6.005_999_851; this gives 6.006), kept
/// only when it maps back to the same `f32`. No float formatting (large in wasm).
fn widen(d: f32) -> f64 {
    let x = f64::from(d);
    if !x.is_finite() || x <= 0.0 {
        return 0.0;
    }
    if x >= 1e7 {
        return x;
    }
    let mut scale = 1.0f64;
    for _ in 0..40 {
        if x * scale >= 1e6 {
            break;
        }
        scale *= 10.0;
    }
    let r = (x * scale).round() / scale;
    if r as f32 == d {
        r
    } else {
        x
    }
}

/// Rejects EXTINF durations and EXT-X-TARGETDURATION values that are not numbers (m3u8-rs
/// would read them as 0 or skip the line, which shifts every later segment's time).
fn check_numbers(lines: &Lines<'_>) -> Result<()> {
    let number = |v: &str| {
        v.trim()
            .parse::<f64>()
            .is_ok_and(|d| d.is_finite() && d >= 0.0)
    };
    for (at, line) in lines.tags("#EXTINF:") {
        let value = line["#EXTINF:".len()..].split(',').next().unwrap_or("");
        if !number(value) {
            return Err(Error::invalid(
                "playlist",
                "EXTINF duration is not a number",
                at as u64,
            ));
        }
    }
    for (at, line) in lines.tags("#EXT-X-TARGETDURATION:") {
        if !number(&line["#EXT-X-TARGETDURATION:".len()..]) {
            return Err(Error::invalid(
                "playlist",
                "EXT-X-TARGETDURATION is not a number",
                at as u64,
            ));
        }
    }
    Ok(())
}

/// Parses a media playlist.
pub fn parse_media(data: &[u8]) -> Result<MediaPlaylist> {
    let (text, base) = prepare(data)?;
    let lines = Lines::new(text, base);
    let uris = lines.uri_lines();
    if uris.len() > MAX_SEGMENTS {
        return Err(Error::too_large(
            "media playlist segments",
            uris.len() as u64,
            MAX_SEGMENTS as u64,
            uris[MAX_SEGMENTS].0 as u64,
        ));
    }
    let ranges: Vec<(usize, &str)> = lines.tags("#EXT-X-DATERANGE:").collect();
    if ranges.len() > MAX_DATERANGES {
        return Err(Error::too_large(
            "EXT-X-DATERANGE tags",
            ranges.len() as u64,
            MAX_DATERANGES as u64,
            ranges[MAX_DATERANGES].0 as u64,
        ));
    }
    check_numbers(&lines)?;
    let parsed = m3u8_rs::parse_media_playlist(text.as_bytes());
    let (rest, pl) = parsed.map_err(|e| header_error(e, base))?;
    check_rest(text, rest, base, &lines)?;

    let mut out = MediaPlaylist {
        version: pl.version.and_then(|v| u32::try_from(v).ok()),
        target_duration: pl.target_duration,
        media_sequence: pl.media_sequence,
        discontinuity_sequence: pl.discontinuity_sequence,
        playlist_type: match pl.playlist_type {
            Some(MediaPlaylistType::Vod) => Some(PlaylistType::Vod),
            Some(MediaPlaylistType::Event) => Some(PlaylistType::Event),
            _ => None,
        },
        ended: pl.end_list,
        independent_segments: pl.independent_segments,
        i_frames_only: pl.i_frames_only,
        ..MediaPlaylist::default()
    };
    out.segments.reserve(pl.segments.len());
    let mut map: Option<usize> = None;
    let mut key: Option<KeyInfo> = None;
    let mut range_end: HashMap<String, u64> = HashMap::new();
    let mut start = 0.0f64;
    let mut disc_seq = pl.discontinuity_sequence;
    let mut next_line = 0;
    for s in pl.segments {
        // m3u8-rs takes what follows a tag it reads only in part (`#EXT-X-TARGETDURATION:6.0`
        // leaves `.0`) for a URI: such phantom segments are not the next URI line; dropped.
        let at = match uris.get(next_line) {
            Some(&(at, line)) if line == s.uri.trim() => at as u64,
            _ => continue,
        };
        next_line += 1;
        let i = out.segments.len();
        if let Some(m) = s.map {
            let info = MapInfo {
                byte_range: match m.byte_range {
                    Some(r) => Some(byte_range(r.offset.unwrap_or(0), r.length, at)?),
                    None => None,
                },
                uri: m.uri,
            };
            map = Some(match out.maps.iter().position(|x| *x == info) {
                Some(k) => k,
                None => {
                    out.maps.push(info);
                    out.maps.len() - 1
                }
            });
        }
        if let Some(k) = &s.key {
            key = match &k.method {
                m3u8_rs::KeyMethod::None => None,
                method => {
                    let mut method = method.to_string();
                    if let Some(f) = k.keyformat.as_deref().filter(|f| *f != "identity") {
                        method = format!("{method} ({f})");
                    }
                    Some(KeyInfo {
                        method,
                        uri: k.uri.clone(),
                        iv: k.iv.as_deref().map(|iv| parse_iv(iv, at)).transpose()?,
                    })
                }
            };
        } else if s.unknown_tags.iter().any(|t| {
            // m3u8-rs 6 refuses `METHOD=NONE` without an IV (its check is inverted) and hands
            // the tag on as unknown: it still ends the key in force.
            t.tag == "X-KEY"
                && t.rest
                    .as_deref()
                    .is_some_and(|r| r.starts_with("METHOD=NONE"))
        }) {
            key = None;
        }
        let range = match s.byte_range {
            Some(r) => {
                let offset = r
                    .offset
                    .unwrap_or_else(|| range_end.get(&s.uri).copied().unwrap_or(0));
                let range = byte_range(offset, r.length, at)?;
                if let Some(e) = range_end.get_mut(&s.uri) {
                    *e = range.end;
                } else {
                    range_end.insert(s.uri.clone(), range.end);
                }
                Some(range)
            }
            None => None,
        };
        let pdt = s.program_date_time.as_ref().map(epoch).or_else(|| {
            s.unknown_tags
                .iter()
                .find(|t| t.tag == "X-PROGRAM-DATE-TIME")
                .and_then(|t| lenient_date(t.rest.as_deref()?))
        });
        if s.discontinuity && i > 0 {
            disc_seq = disc_seq.saturating_add(1);
        }
        let duration = widen(s.duration);
        out.segments.push(SegmentInfo {
            uri: s.uri,
            duration,
            start,
            byte_range: range,
            sequence: pl.media_sequence.saturating_add(i as u64),
            discontinuity_sequence: disc_seq,
            discontinuity: s.discontinuity,
            program_date_time: pdt,
            map,
            key: key.clone(),
        });
        start += duration;
    }
    out.dateranges = parse_dateranges(&ranges);
    Ok(out)
}

/// `[offset, offset + length)`, which must not overflow.
fn byte_range(offset: u64, length: u64, at: u64) -> Result<ByteRange> {
    let end = offset
        .checked_add(length)
        .ok_or_else(|| Error::invalid("EXT-X-BYTERANGE", "offset + length overflows", at))?;
    Ok(ByteRange::new(offset, end))
}

fn attr_value(v: &QuotedOrUnquoted) -> String {
    v.as_str().to_string()
}

/// Parses each EXT-X-DATERANGE line with m3u8-rs (one at a time: it keeps one per segment)
/// and merges tags with the same ID. Lines it cannot read (no ID or START-DATE, bad dates)
/// are skipped: markers are optional metadata.
fn parse_dateranges(lines: &[(usize, &str)]) -> Vec<DateRange> {
    let mut out: Vec<DateRange> = Vec::new();
    // Same map type as in `parse_media`, so that wasm carries one copy of its code.
    let mut by_id: HashMap<String, u64> = HashMap::new();
    let mut doc = String::new();
    for (_, line) in lines {
        doc.clear();
        doc.push_str("#EXTM3U\n");
        doc.push_str(line);
        doc.push_str("\n#EXTINF:0,\nx\n");
        let Ok(pl) = m3u8_rs::parse_media_playlist_res(doc.as_bytes()) else {
            continue;
        };
        let Some(d) = pl.segments.into_iter().next().and_then(|s| s.daterange) else {
            continue;
        };
        let mut attributes: Vec<(String, String)> = d
            .x_prefixed
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), attr_value(v)))
            .collect();
        heap_sort(&mut attributes, |a, b| a.0 < b.0);
        let end_date = d.end_date.as_ref().map(epoch);
        let start = epoch(&d.start_date);
        let range = DateRange {
            start,
            duration: d
                .duration
                .or_else(|| end_date.map(|e| e - start))
                .filter(|x| x.is_finite() && *x >= 0.0),
            end: None,
            label: String::new(),
            end_on_next: d.end_on_next,
            class: d.class,
            id: d.id,
            attributes,
        };
        let planned = d.planned_duration.filter(|x| x.is_finite() && *x >= 0.0);
        match by_id.get(&range.id) {
            Some(&k) => {
                let old = &mut out[k as usize];
                old.class = old.class.take().or(range.class);
                old.duration = old.duration.or(range.duration);
                old.end_on_next |= range.end_on_next;
                for a in range.attributes {
                    if !old.attributes.iter().any(|(k, _)| *k == a.0) {
                        old.attributes.push(a);
                    }
                }
                heap_sort(&mut old.attributes, |a, b| a.0 < b.0);
                if old.duration.is_none() {
                    old.end = planned; // kept aside until END-ON-NEXT is resolved
                }
            }
            None => {
                by_id.insert(range.id.clone(), out.len() as u64);
                let mut range = range;
                range.end = planned;
                out.push(range);
            }
        }
    }
    // END-ON-NEXT: ends where the next range of the same class starts; then PLANNED-DURATION.
    let starts: Vec<(Option<String>, f64)> =
        out.iter().map(|d| (d.class.clone(), d.start)).collect();
    for d in &mut out {
        let planned = d.end.take();
        if d.duration.is_none() && d.end_on_next {
            d.duration = starts
                .iter()
                .filter(|(c, s)| *c == d.class && *s > d.start)
                .map(|(_, s)| s - d.start)
                .min_by(f64::total_cmp);
        }
        d.duration = d.duration.or(planned);
        d.end = d.duration.map(|x| d.start + x);
        d.label = label(d);
    }
    out
}

/// Heapsort: O(n log n) on hostile input, and much less WebAssembly than the standard
/// library's sorts (which are instantiated per element type).
fn heap_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    for i in (0..v.len() / 2).rev() {
        sift(v, i, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

fn label(d: &DateRange) -> String {
    let get = |name: &str| {
        d.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    get("X-LABEL")
        .or_else(|| get("X-TITLE"))
        .or_else(|| get("X-NAME"))
        .or_else(|| {
            d.attributes
                .iter()
                .find(|(k, _)| k.starts_with("X-COM-"))
                .map(|(_, v)| v.clone())
        })
        .or_else(|| d.class.clone())
        .unwrap_or_else(|| d.id.clone())
}

// ---------------------------------------------------------------------------------------------
// Media playlist helpers: timeline, markers, live reloads
// ---------------------------------------------------------------------------------------------

impl MediaPlaylist {
    /// The first EXT-X-MAP, if any.
    pub fn map(&self) -> Option<&MapInfo> {
        self.maps.first()
    }

    /// The sum of the segment durations, in seconds.
    pub fn duration(&self) -> f64 {
        self.segments.last().map_or(0.0, |s| s.start + s.duration)
    }

    /// Whether the playlist may still change (no ENDLIST and not VOD).
    pub fn is_live(&self) -> bool {
        !self.ended && self.playlist_type != Some(PlaylistType::Vod)
    }

    /// The segment that plays at `time` seconds on the playlist timeline (the last one for
    /// times past the end); `None` for an empty playlist or a negative or NaN time.
    pub fn segment_at(&self, time: f64) -> Option<usize> {
        if self.segments.is_empty() || time.is_nan() || time < 0.0 {
            return None;
        }
        let i = self.segments.partition_point(|s| s.start <= time);
        Some(i.saturating_sub(1))
    }

    /// The date (seconds since the epoch) of each segment's start: its own
    /// EXT-X-PROGRAM-DATE-TIME, else the previous segment's date plus its duration, else (for
    /// segments before the first dated one) the next segment's date minus this duration.
    /// All `None` when no segment is dated.
    pub fn segment_dates(&self) -> Vec<Option<f64>> {
        let mut dates: Vec<Option<f64>> = vec![None; self.segments.len()];
        let mut prev: Option<f64> = None;
        for (i, s) in self.segments.iter().enumerate() {
            let d = s.program_date_time.or(prev);
            dates[i] = d;
            prev = d.map(|d| d + s.duration);
        }
        if let Some(first) = dates.iter().position(Option::is_some) {
            for i in (0..first).rev() {
                dates[i] = dates[i + 1].map(|d| d - self.segments[i].duration);
            }
        }
        dates
    }

    /// The date ranges placed on the playlist timeline through the segments' program dates:
    /// a range starting at date `d` inside segment `i` (dated `D`) is at
    /// `segments[i].start + (d - D)`. Empty when no segment is dated. Sorted by time.
    pub fn markers(&self) -> Vec<Marker> {
        let dates = self.segment_dates();
        let dated: Vec<(usize, f64)> = dates
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((i, (*d)?)))
            .collect();
        let Some(&(first, first_date)) = dated.first() else {
            return Vec::new();
        };
        let mut out: Vec<Marker> = self
            .dateranges
            .iter()
            .filter(|r| r.start.is_finite())
            .map(|r| {
                // The segment that contains the date, else the last one that starts before
                // it, else the first.
                let inside = dated.iter().rev().find(|&&(i, d)| {
                    d <= r.start && r.start < d + self.segments[i].duration.max(f64::EPSILON)
                });
                let before = || dated.iter().rev().find(|&&(_, d)| d <= r.start);
                let (i, d) = inside
                    .or_else(before)
                    .copied()
                    .unwrap_or((first, first_date));
                Marker {
                    id: r.id.clone(),
                    time: self.segments[i].start + (r.start - d),
                    duration: r.duration,
                    label: r.label.clone(),
                    class: r.class.clone(),
                }
            })
            .collect();
        heap_sort(&mut out, |a, b| a.time.total_cmp(&b.time).is_lt());
        out
    }

    /// Resolves every segment and map URI against `base` (the playlist's own URL).
    pub fn resolve_uris(&mut self, base: &str) {
        for s in &mut self.segments {
            s.uri = resolve_uri(base, &s.uri);
        }
        for m in &mut self.maps {
            m.uri = resolve_uri(base, &m.uri);
        }
        for s in &mut self.segments {
            if let Some(u) = s.key.as_mut().and_then(|k| k.uri.as_mut()) {
                *u = resolve_uri(base, u);
            }
        }
    }
}

impl MasterPlaylist {
    /// Resolves every variant and rendition URI against `base` (the playlist's own URL).
    pub fn resolve_uris(&mut self, base: &str) {
        for v in &mut self.variants {
            v.uri = resolve_uri(base, &v.uri);
        }
        for a in &mut self.audio {
            if let Some(u) = &mut a.uri {
                *u = resolve_uri(base, u);
            }
        }
    }
}

/// What changed between two loads of a live media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveUpdate {
    /// The segments of the reloaded playlist that the previous one did not have (by media
    /// sequence number), as indices into its `segments`.
    pub new_segments: Range<usize>,
    /// Segments that slid out of the window between the two loads unseen.
    pub missed: u64,
    /// Whether anything changed (sequence, segments, end, date ranges).
    pub changed: bool,
    /// The media sequence went backwards (the stream restarted): every segment is new.
    pub restarted: bool,
    /// Where the reloaded playlist's first segment starts on the previous playlist's
    /// timeline, when the previous one had it (add it to the new playlist's segment starts
    /// to keep one continuous timeline).
    pub shift: Option<f64>,
}

/// Compares a reloaded live playlist with the previous load (sliding window: segments are
/// matched by media sequence number, RFC 8216 §6.2.2).
pub fn live_update(prev: &MediaPlaylist, next: &MediaPlaylist) -> LiveUpdate {
    let prev_end = prev
        .media_sequence
        .saturating_add(prev.segments.len() as u64);
    let restarted = next.media_sequence < prev.media_sequence;
    let (new_segments, missed) = if restarted {
        (0..next.segments.len(), 0)
    } else if next.media_sequence >= prev_end {
        (0..next.segments.len(), next.media_sequence - prev_end)
    } else {
        let first_new = usize::try_from(prev_end - next.media_sequence)
            .unwrap_or(usize::MAX)
            .min(next.segments.len());
        (first_new..next.segments.len(), 0)
    };
    let shift = if restarted {
        None
    } else {
        usize::try_from(next.media_sequence - prev.media_sequence)
            .ok()
            .and_then(|k| match k.cmp(&prev.segments.len()) {
                std::cmp::Ordering::Less => Some(prev.segments[k].start),
                std::cmp::Ordering::Equal => Some(prev.duration()),
                std::cmp::Ordering::Greater => None,
            })
    };
    let changed = next.media_sequence != prev.media_sequence
        || next.segments.len() != prev.segments.len()
        || next.ended != prev.ended
        || next.segments.last().map(|s| &s.uri) != prev.segments.last().map(|s| &s.uri)
        || next.dateranges != prev.dateranges;
    LiveUpdate {
        new_segments,
        missed,
        changed,
        restarted,
        shift,
    }
}

/// How long to wait before reloading a media playlist (RFC 8216 §6.3.4): the target
/// duration after a load that found it changed (or the first load), half of it after one
/// that found it unchanged; `None` when it will not change (ENDLIST or VOD). At least 0.5 s.
pub fn reload_interval(playlist: &MediaPlaylist, changed: bool) -> Option<f64> {
    if !playlist.is_live() {
        return None;
    }
    let target = playlist.target_duration as f64;
    let wait = if changed { target } else { target / 2.0 };
    Some(wait.max(0.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = r#"#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=700000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO="aud"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2500000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="aud"
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=6000000,CODECS="hvc1.1.6.L120.90,mp4a.40.2",RESOLUTION=1920x1080,AUDIO="aud"
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"
audio-only.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI="iframes.m3u8"
"#;

    #[test]
    fn master_playlist_and_variant_choice() {
        let Playlist::Master(mut m) = parse_playlist(MASTER.as_bytes()).unwrap() else {
            panic!("master");
        };
        assert_eq!(m.variants.len(), 4, "I-frame variants are not listed");
        let v = &m.variants[0];
        assert_eq!(
            (v.bandwidth, v.average_bandwidth, v.resolution),
            (800_000, Some(700_000), Some((640, 360)))
        );
        assert_eq!(v.codecs.as_deref(), Some("avc1.4d401e,mp4a.40.2"));
        assert_eq!(v.frame_rate, Some(29.97));
        assert_eq!(v.audio.as_deref(), Some("aud"));
        assert_eq!(m.audio.len(), 1);
        assert_eq!(m.audio[0].uri.as_deref(), Some("audio/en.m3u8"));
        assert!(m.audio[0].default && m.independent_segments);

        let pick = |p: VariantPrefs| choose_variant(&m, &p);
        assert_eq!(pick(VariantPrefs::default()), Some(2));
        let at_most_720 = VariantPrefs {
            max_height: Some(720),
            ..VariantPrefs::default()
        };
        assert_eq!(pick(at_most_720), Some(1));
        let slow = VariantPrefs {
            max_bandwidth: Some(1_000_000),
            ..VariantPrefs::default()
        };
        assert_eq!(pick(slow), Some(0));
        let no_hevc = VariantPrefs {
            codecs: Some(vec!["avc1".into(), "mp4a".into()]),
            ..VariantPrefs::default()
        };
        assert_eq!(pick(no_hevc), Some(1));
        let tiny = VariantPrefs {
            max_height: Some(100),
            ..VariantPrefs::default()
        };
        assert_eq!(
            pick(tiny),
            Some(0),
            "nearest fit: the smallest video variant"
        );
        let explicit = VariantPrefs {
            index: Some(3),
            ..VariantPrefs::default()
        };
        assert_eq!(pick(explicit), Some(3));
        let out_of_range = VariantPrefs {
            index: Some(9),
            ..VariantPrefs::default()
        };
        assert_eq!(pick(out_of_range), Some(2));
        assert_eq!(
            choose_variant(&MasterPlaylist::default(), &VariantPrefs::default()),
            None
        );

        m.resolve_uris("https://cdn.example/show/master.m3u8");
        assert_eq!(
            m.variants[1].uri,
            "https://cdn.example/show/720p/index.m3u8"
        );
        assert_eq!(
            m.audio[0].uri.as_deref(),
            Some("https://cdn.example/show/audio/en.m3u8")
        );
    }

    #[test]
    fn byteranges_continue_per_uri_and_maps_carry_forward() {
        let text = "#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:7
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI=\"main.mp4\",BYTERANGE=\"720@0\"
#EXTINF:6.006,
#EXT-X-BYTERANGE:1000@720
main.mp4
#EXTINF:6.006,
#EXT-X-BYTERANGE:2000
main.mp4
#EXTINF:6.006,
#EXT-X-BYTERANGE:500
other.mp4
#EXTINF:5.005,
#EXT-X-BYTERANGE:300
main.mp4
#EXT-X-MAP:URI=\"init2.mp4\"
#EXTINF:1.5,
x.m4s
#EXT-X-ENDLIST
";
        let p = parse_media(text.as_bytes()).unwrap();
        let ranges: Vec<Option<(u64, u64)>> = p
            .segments
            .iter()
            .map(|s| s.byte_range.map(|r| (r.start, r.end)))
            .collect();
        assert_eq!(
            ranges,
            vec![
                Some((720, 1720)),
                Some((1720, 3720)),
                Some((0, 500)),
                Some((3720, 4020)),
                None
            ]
        );
        assert_eq!(p.maps.len(), 2);
        assert_eq!(p.maps[0].byte_range, Some(ByteRange::new(0, 720)));
        assert_eq!(p.maps[1].byte_range, None);
        let maps: Vec<Option<usize>> = p.segments.iter().map(|s| s.map).collect();
        assert_eq!(maps, vec![Some(0), Some(0), Some(0), Some(0), Some(1)]);
        // EXTINF is f32 in m3u8-rs; the decimal value survives.
        assert_eq!(p.segments[0].duration, 6.006);
        assert_eq!(p.segments[3].duration, 5.005);
        assert!((p.duration() - 24.523).abs() < 1e-9);
        assert_eq!(p.segments[2].start, 12.012);
        assert_eq!(p.segment_at(0.0), Some(0));
        assert_eq!(p.segment_at(12.011), Some(1));
        assert_eq!(p.segment_at(12.012), Some(2));
        assert_eq!(p.segment_at(1e9), Some(4));
        assert_eq!(p.segment_at(-1.0), None);
        assert_eq!(p.playlist_type, Some(PlaylistType::Vod));
        assert!(p.ended && !p.is_live());
        assert_eq!(reload_interval(&p, true), None);
    }

    const DATED: &str = r#"#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00.000Z
#EXTINF:2.0,
a.ts
#EXT-X-DATERANGE:ID="ad1",CLASS="com.example.ad",START-DATE="2024-05-01T10:00:03.500Z",DURATION=4.0,X-LABEL="Ad break"
#EXTINF:2.0,
b.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00+0000
#EXTINF:2.0,
c.ts
#EXT-X-DATERANGE:ID="goal",START-DATE="2024-05-01T12:00:01Z",END-DATE="2024-05-01T12:00:01.500Z",X-COM-EXAMPLE-PLAYER="Nr 9"
#EXT-X-DATERANGE:ID="chapter",CLASS="chapter",START-DATE="2024-05-01T10:00:00Z",END-ON-NEXT=YES
#EXT-X-DATERANGE:ID="chapter2",CLASS="chapter",START-DATE="2024-05-01T10:00:02Z",END-ON-NEXT=YES
#EXTINF:2.0,
d.ts
#EXT-X-DATERANGE:ID="ad1",CLASS="com.example.ad",START-DATE="2024-05-01T10:00:03.500Z",DURATION=4.0,X-LABEL="Ad break",X-EXTRA="1"
#EXT-X-DATERANGE:ID="broken",START-DATE="yesterday"
"#;

    #[test]
    fn keys_carry_forward_until_the_next_key_tag() {
        let text = "#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:7
#EXTINF:2,
clear.ts
#EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1.bin\"
#EXTINF:2,
a.ts
#EXTINF:2,
b.ts
#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k2\",IV=0x0102
#EXTINF:2,
c.ts
#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\",KEYFORMAT=\"com.apple.streamingkeydelivery\"
#EXTINF:2,
d.ts
#EXT-X-KEY:METHOD=NONE
#EXTINF:2,
e.ts
#EXT-X-ENDLIST
";
        let mut p = parse_media(text.as_bytes()).unwrap();
        p.resolve_uris("https://cdn.example/show/media.m3u8");
        let keys: Vec<Option<&KeyInfo>> = p.segments.iter().map(|s| s.key.as_ref()).collect();
        assert_eq!(keys[0], None);
        let k1 = keys[1].unwrap();
        assert_eq!(
            k1.uri.as_deref(),
            Some("https://cdn.example/show/keys/k1.bin")
        );
        assert_eq!(keys[2], Some(k1));
        assert!(k1.is_aes128());
        // No IV: the media sequence number, big-endian.
        let mut iv = [0u8; 16];
        iv[15] = 8;
        assert_eq!(k1.iv_for(p.segments[1].sequence), iv);
        let k2 = keys[3].unwrap();
        iv = [0u8; 16];
        iv[14..].copy_from_slice(&[1, 2]);
        assert_eq!(k2.iv_for(9), iv);
        assert_eq!(
            keys[4].unwrap().method,
            "SAMPLE-AES (com.apple.streamingkeydelivery)"
        );
        assert!(!keys[4].unwrap().is_aes128());
        assert_eq!(keys[5], None);
        for iv in ["IV=0xZZ", "IV=0x+1", "IV=0x", "IV=0102"] {
            let bad = text.replace("IV=0x0102", iv);
            assert!(parse_media(bad.as_bytes()).is_err(), "{iv}");
        }
    }

    #[test]
    fn dateranges_become_markers_through_program_date_times() {
        let p = parse_media(DATED.as_bytes()).unwrap();
        assert_eq!(
            p.segments.iter().map(|s| s.sequence).collect::<Vec<_>>(),
            vec![100, 101, 102, 103]
        );
        assert_eq!(
            p.segments
                .iter()
                .map(|s| s.discontinuity_sequence)
                .collect::<Vec<_>>(),
            vec![0, 0, 1, 1]
        );
        let t0 = 1_714_557_600.0; // 2024-05-01T10:00:00Z
        let noon = t0 + 7200.0;
        assert_eq!(p.segments[0].program_date_time, Some(t0));
        assert_eq!(
            p.segments[2].program_date_time,
            Some(noon),
            "a +0000 zone without colon is read leniently"
        );
        assert_eq!(
            p.segment_dates(),
            vec![Some(t0), Some(t0 + 2.0), Some(noon), Some(noon + 2.0)]
        );
        // Five tags, one repeated (merged), one unreadable (skipped).
        let ids: Vec<&str> = p.dateranges.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, vec!["ad1", "goal", "chapter", "chapter2"]);
        let ad = &p.dateranges[0];
        assert_eq!(
            ad.attributes.len(),
            2,
            "merged X-EXTRA: {:?}",
            ad.attributes
        );
        assert_eq!((ad.duration, ad.end), (Some(4.0), Some(t0 + 7.5)));

        let markers = p.markers();
        type Row<'a> = (&'a str, f64, Option<f64>, &'a str, Option<&'a str>);
        let got: Vec<Row> = markers
            .iter()
            .map(|m| {
                (
                    m.id.as_str(),
                    m.time,
                    m.duration,
                    m.label.as_str(),
                    m.class.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("chapter", 0.0, Some(2.0), "chapter", Some("chapter")),
                ("chapter2", 2.0, None, "chapter", Some("chapter")),
                ("ad1", 3.5, Some(4.0), "Ad break", Some("com.example.ad")),
                ("goal", 5.0, Some(0.5), "Nr 9", None),
            ]
        );
        // No program date time: no anchor, no markers.
        let undated = DATED.replace("#EXT-X-PROGRAM-DATE-TIME", "#X-NOTHING");
        let p = parse_media(undated.as_bytes()).unwrap();
        assert_eq!(p.dateranges.len(), 4);
        assert!(p.markers().is_empty());
    }

    fn live(seq: u64, count: u64, ended: bool) -> MediaPlaylist {
        let mut t = format!("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:{seq}\n");
        for i in seq..seq + count {
            t.push_str(&format!("#EXTINF:4.0,\nseg{i}.ts\n"));
        }
        if ended {
            t.push_str("#EXT-X-ENDLIST\n");
        }
        parse_media(t.as_bytes()).unwrap()
    }

    #[test]
    fn live_reloads_find_new_segments_by_sequence() {
        let prev = live(10, 5, false);
        assert!(prev.is_live());
        assert_eq!(reload_interval(&prev, true), Some(4.0));
        assert_eq!(reload_interval(&prev, false), Some(2.0));

        let next = live(12, 5, false);
        let u = live_update(&prev, &next);
        assert_eq!(u.new_segments, 3..5);
        assert_eq!(next.segments[3].uri, "seg15.ts");
        assert_eq!((u.missed, u.changed, u.restarted), (0, true, false));
        assert_eq!(u.shift, Some(8.0));

        let same = live_update(&prev, &live(10, 5, false));
        assert_eq!(same.new_segments, 5..5);
        assert!(!same.changed);
        assert_eq!(same.shift, Some(0.0));

        let far = live_update(&prev, &live(20, 3, false));
        assert_eq!((far.new_segments, far.missed, far.shift), (0..3, 5, None));

        let adjacent = live_update(&prev, &live(15, 2, false));
        assert_eq!((adjacent.new_segments, adjacent.shift), (0..2, Some(20.0)));

        let restart = live_update(&prev, &live(0, 3, false));
        assert!(restart.restarted && restart.changed);
        assert_eq!(restart.new_segments, 0..3);

        let ended = live(12, 5, true);
        let u = live_update(&prev, &ended);
        assert!(u.changed);
        assert_eq!(reload_interval(&ended, u.changed), None);
    }

    #[test]
    fn heap_sort_sorts() {
        let mut x = 12345u32;
        for n in 0..50 {
            let mut v: Vec<u32> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x % 20
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            heap_sort(&mut v, |a, b| a < b);
            assert_eq!(v, want);
        }
    }

    #[test]
    fn lenient_dates_and_widened_durations() {
        let t = 1_714_557_600.0; // 2024-05-01T10:00:00Z
        assert_eq!(lenient_date("2024-05-01T10:00:00Z"), Some(t));
        assert_eq!(lenient_date("2024-05-01T10:00:00"), Some(t));
        assert_eq!(lenient_date("2024-05-01T12:00:00+0200"), Some(t));
        assert_eq!(lenient_date("2024-05-01T07:30:00-02:30"), Some(t));
        assert_eq!(lenient_date("2024-05-01 10:00:00.250+00"), Some(t + 0.25));
        assert_eq!(lenient_date("1969-12-31T23:59:59Z"), Some(-1.0));
        assert_eq!(lenient_date("2000-02-29T00:00:00Z"), Some(951_782_400.0));
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T10:00:00Z",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00+1",
            "2024-05-01T10:00:00Zjunk",
            "yesterday at noon, roughly",
        ] {
            assert_eq!(lenient_date(bad), None, "{bad:?}");
        }
        assert_eq!(widen(6.006), 6.006);
        assert_eq!(widen(0.033333), 0.033333);
        assert_eq!(widen(1.0), 1.0);
        assert_eq!(widen(10.010), 10.01);
        assert_eq!(widen(3600.5), 3600.5);
        assert_eq!(widen(-1.0), 0.0);
        assert_eq!(widen(f32::NAN), 0.0);
        assert_eq!(widen(1e9), 1e9);
    }

    #[test]
    fn lenient_where_m3u8_rs_reads_a_tag_in_part() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6.0\n#EXTINF:6,\na.ts\n#EXTINF:5.5,\nb.ts\n";
        let p = parse_media(text.as_bytes()).unwrap();
        let uris: Vec<&str> = p.segments.iter().map(|s| s.uri.as_str()).collect();
        assert_eq!(uris, vec!["a.ts", "b.ts"]);
        assert_eq!(p.target_duration, 6);
        assert_eq!(p.segments[1].start, 6.0);
        assert_eq!(p.segments[1].sequence, 1);
    }

    #[test]
    fn malformed_playlists_are_errors_with_offsets() {
        // Durations that are not numbers are errors, not zero-length segments.
        let e = parse_media(b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:abc,\na.ts\n").unwrap_err();
        assert_eq!(e.offset, 32);
        let e = parse_media(b"#EXTM3U\n#EXT-X-TARGETDURATION:x\n#EXTINF:1,\na.ts\n").unwrap_err();
        assert_eq!(e.offset, 8);
        let e = parse_playlist(b"").unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(parse_playlist(b"#EXTM3").is_err());
        let e = parse_media(b"#EXTM3U\n\xff\xfe\n").unwrap_err();
        assert_eq!(e.offset, 8);
        let text = "#EXTM3U\n#EXTINF:1,\na.ts\n\r garbage\r";
        let e = parse_media(text.as_bytes()).unwrap_err();
        assert_eq!(e.offset, text.find("\r garbage").unwrap() as u64);
        // A BOM is allowed; offsets still count from the start of the bytes.
        let p = parse_media(b"\xEF\xBB\xBF#EXTM3U\n#EXTINF:1,\na.ts\n").unwrap();
        assert_eq!(p.segments.len(), 1);
        let e = parse_media(b"#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:18446744073709551615@10\na\n")
            .unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid { .. }), "{e}");
        let e = parse_master(b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n").unwrap_err();
        assert_eq!(e.offset, 8);
        // Counts are bounded before anything is allocated per line.
        let mut many = String::from("#EXTM3U\n");
        many.push_str(&"a\n".repeat(MAX_SEGMENTS + 1));
        let e = parse_media(many.as_bytes()).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooLarge { .. }), "{e}");
        let big = vec![b'#'; MAX_PLAYLIST_BYTES + 1];
        assert!(matches!(
            parse_playlist(&big).unwrap_err().kind,
            ErrorKind::TooLarge { .. }
        ));
    }

    #[test]
    fn never_panics_on_prefixes_and_corruptions() {
        for text in [MASTER, DATED] {
            let bytes = text.as_bytes();
            for n in 0..=bytes.len() {
                let _ = parse_playlist(&bytes[..n]).map(|p| match p {
                    Playlist::Media(m) => m.markers().len(),
                    Playlist::Master(m) => m.variants.len(),
                });
            }
            let mut x = 0x9e37_79b9u32;
            for _ in 0..300 {
                let mut b = bytes.to_vec();
                for _ in 0..4 {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    let at = x as usize % b.len();
                    b[at] = (x >> 24) as u8;
                }
                if let Ok(Playlist::Media(m)) = parse_playlist(&b) {
                    let _ = m.markers();
                    let _ = live_update(&m, &m);
                }
            }
        }
        for r in ["", ":", "//", "?#", "../..", "a:b:c", "/./../."] {
            let _ = resolve_uri(r, r);
        }
    }
}
