//! The `moov` box: movie header, tracks (tkhd, edts/elst, mdia/mdhd/hdlr, stbl) and the
//! fragment defaults of `mvex`, parsed into builders that become a [`Movie`].

use super::boxes::{BoxHeader, Children, FourCC};
use super::cursor::Cursor;
use super::tables::{expand, SampleTable, StblBoxes};
use crate::codec::{parse_sample_entry, CodecConfig, TrackKind};
use crate::error::{Error, ErrorKind, Result};
use crate::index::{Edit, TrackIndex};
use serde::Serialize;

/// The container flavour, from the `ftyp` brands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// ISO BMFF / MP4 (and 3GP, M4V...).
    Mp4,
    /// QuickTime (`qt  ` brand, or no `ftyp`).
    Mov,
}

impl Container {
    /// "mp4" or "mov".
    pub fn as_str(&self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
        }
    }
}

/// One track of a movie, indexed.
#[derive(Debug, Clone)]
pub struct Track {
    /// `track_ID` from tkhd.
    pub id: u32,
    /// Video, audio or other.
    pub kind: TrackKind,
    /// Media timescale (ticks per second) from mdhd.
    pub timescale: u32,
    /// The decoder configuration from the first sample entry; `Err` keeps the reason when
    /// the entry could not be read, so other tracks stay usable.
    pub codec: Result<CodecConfig>,
    /// Clockwise rotation in degrees (0, 90, 180, 270) from the tkhd matrix.
    pub rotation: u16,
    /// Display width and height from tkhd (16.16 rounded), before rotation.
    pub tkhd_size: (u32, u32),
    /// Language code from mdhd (ISO 639-2/T), if any.
    pub language: Option<String>,
    /// The first sample entry box (header included) exactly as in the file, for remuxing.
    pub sample_entry: Vec<u8>,
    /// The edit list as read.
    pub edits: Vec<Edit>,
    /// The samples, in decode and presentation order.
    pub index: TrackIndex,
}

/// A parsed movie: what [`super::Mp4Reader::finish`] returns.
#[derive(Debug, Clone)]
pub struct Movie {
    /// MP4 or QuickTime.
    pub container: Container,
    /// The ftyp major brand, if there was an ftyp.
    pub major_brand: Option<FourCC>,
    /// Whether the file has movie fragments (an `mvex` in moov).
    pub fragmented: bool,
    /// Movie timescale from mvhd.
    pub timescale: u32,
    /// Movie duration in seconds: the longest track's presentation, or mvhd's duration.
    pub duration: f64,
    /// Total file size.
    pub file_size: u64,
    /// The tracks, in moov order.
    pub tracks: Vec<Track>,
}

impl Movie {
    /// The first video track with a readable codec configuration, else the first video track.
    pub fn video_track(&self) -> Option<&Track> {
        let mut video = self.tracks.iter().filter(|t| t.kind == TrackKind::Video);
        let first = video.clone().next();
        video
            .find(|t| t.codec.is_ok() && t.index.frame_count() > 0)
            .or(first)
    }

    /// The first audio track.
    pub fn audio_track(&self) -> Option<&Track> {
        self.tracks.iter().find(|t| t.kind == TrackKind::Audio)
    }
}

/// Fragment defaults from `trex`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Trex {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

/// A track while the file is being read (fragments may still append samples).
#[derive(Debug)]
pub(crate) struct TrackBuilder {
    pub id: u32,
    pub kind: TrackKind,
    pub timescale: u32,
    pub codec: Result<CodecConfig>,
    pub rotation: u16,
    pub tkhd_size: (u32, u32),
    pub language: Option<String>,
    pub sample_entry: Vec<u8>,
    pub edits: Vec<Edit>,
    pub samples: SampleTable,
    pub trex: Trex,
    /// Decode time of the next fragment sample when a traf has no tfdt.
    pub next_dts: i64,
}

/// The movie while it is read.
#[derive(Debug)]
pub(crate) struct MovieBuilder {
    pub timescale: u32,
    pub duration: u64,
    pub fragment_duration: u64,
    pub fragmented: bool,
    pub file_size: u64,
    pub tracks: Vec<TrackBuilder>,
}

impl MovieBuilder {
    /// Builds the movie: applies edit lists and orders frames for presentation.
    pub fn build(self, brand: Option<FourCC>, compatible: &[FourCC]) -> Result<Movie> {
        let container = match brand {
            Some(FourCC(b)) if &b == b"qt  " => Container::Mov,
            None => Container::Mov,
            Some(_)
                if compatible.iter().any(|c| &c.0 == b"qt  ")
                    && !compatible.iter().any(|c| &c.0 == b"isom") =>
            {
                Container::Mov
            }
            Some(_) => Container::Mp4,
        };
        let movie_ts = self.timescale;
        let mut tracks = Vec::with_capacity(self.tracks.len());
        for t in self.tracks {
            let index =
                TrackIndex::build(t.samples, t.timescale, movie_ts, &t.edits, self.file_size)?;
            tracks.push(Track {
                id: t.id,
                kind: t.kind,
                timescale: t.timescale,
                codec: t.codec,
                rotation: t.rotation,
                tkhd_size: t.tkhd_size,
                language: t.language,
                sample_entry: t.sample_entry,
                edits: t.edits,
                index,
            });
        }
        // Like ffprobe: from the earliest first frame to the latest end.
        let media = tracks
            .iter()
            .filter(|t| t.kind != TrackKind::Other && t.index.frame_count() > 0);
        let end = media
            .clone()
            .map(|t| t.index.duration_seconds())
            .fold(0.0f64, f64::max);
        let start = media
            .map(|t| t.index.start_ticks() as f64 / f64::from(t.timescale.max(1)))
            .fold(f64::INFINITY, f64::min);
        let from_tracks = if start.is_finite() {
            end - start.max(0.0)
        } else {
            0.0
        };
        let header = if movie_ts > 0 {
            self.duration.max(self.fragment_duration) as f64 / f64::from(movie_ts)
        } else {
            0.0
        };
        let duration = if from_tracks > 0.0 {
            from_tracks
        } else {
            header
        };
        Ok(Movie {
            container,
            major_brand: brand,
            fragmented: self.fragmented,
            timescale: movie_ts,
            duration,
            file_size: self.file_size,
            tracks,
        })
    }
}

/// Parses a moov payload (at file offset `base`).
pub(crate) fn parse_moov(payload: &[u8], base: u64, file_size: u64) -> Result<MovieBuilder> {
    let mut m = MovieBuilder {
        timescale: 0,
        duration: 0,
        fragment_duration: 0,
        fragmented: false,
        file_size,
        tracks: Vec::new(),
    };
    let mut trex = Vec::new();
    let mut saw_mvhd = false;
    for child in Children::new(payload, base) {
        let (h, p) = child?;
        match &h.kind.0 {
            b"mvhd" => {
                let mut c = Cursor::new(p, h.payload_offset(), "mvhd box");
                let (v, _) = c.version_flags();
                c.skip(if v == 1 { 16 } else { 8 });
                let (timescale, duration) = (c.u32(), c.u32_or_u64(v == 1));
                c.check()?;
                (m.timescale, m.duration) = (timescale, duration);
                saw_mvhd = true;
            }
            b"trak" => {
                if let Some(t) = parse_trak(p, h.payload_offset(), file_size)? {
                    m.tracks.push(t);
                }
            }
            b"mvex" => {
                m.fragmented = true;
                for child in Children::new(p, h.payload_offset()) {
                    let (h, p) = child?;
                    let mut c = Cursor::new(p, h.payload_offset(), "mvex child");
                    match &h.kind.0 {
                        b"trex" => {
                            c.version_flags();
                            let id = c.u32();
                            c.u32();
                            let duration = c.u32();
                            let size = c.u32();
                            let flags = c.u32();
                            c.check()?;
                            trex.push((
                                id,
                                Trex {
                                    duration,
                                    size,
                                    flags,
                                },
                            ));
                        }
                        b"mehd" => {
                            let (v, _) = c.version_flags();
                            let d = c.u32_or_u64(v == 1);
                            c.check()?;
                            m.fragment_duration = d;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_mvhd {
        return Err(Error::new(ErrorKind::Missing { what: "mvhd box" }, base));
    }
    for (id, t) in trex {
        if let Some(track) = m.tracks.iter_mut().find(|tr| tr.id == id) {
            track.trex = t;
        }
    }
    for t in &mut m.tracks {
        t.next_dts = t.samples.end_dts();
    }
    Ok(m)
}

fn parse_trak(payload: &[u8], base: u64, file_size: u64) -> Result<Option<TrackBuilder>> {
    let mut id = 0;
    let mut rotation = 0;
    let mut tkhd_size = (0, 0);
    let mut edits = Vec::new();
    let mut mdia = None;
    for child in Children::new(payload, base) {
        let (h, p) = child?;
        match &h.kind.0 {
            b"tkhd" => {
                let mut c = Cursor::new(p, h.payload_offset(), "tkhd box");
                let (v, _) = c.version_flags();
                c.skip(if v == 1 { 16 } else { 8 });
                id = c.u32();
                c.skip(4);
                c.skip(if v == 1 { 8 } else { 4 });
                c.skip(8 + 2 + 2 + 2 + 2);
                let mut matrix = [0i32; 9];
                for m in &mut matrix {
                    *m = c.i32();
                }
                rotation = rotation_of(&matrix);
                let w = c.u32();
                let hgt = c.u32();
                c.check()?;
                // 16.16 fixed point, rounded (saturating: the fields come from the input).
                tkhd_size = (
                    w.saturating_add(0x8000) >> 16,
                    hgt.saturating_add(0x8000) >> 16,
                );
            }
            b"edts" => {
                if let Some((eh, ep)) = super::boxes::find_child(p, h.payload_offset(), b"elst")? {
                    edits = parse_elst(ep, eh.payload_offset())?;
                }
            }
            b"mdia" => mdia = Some((h, p)),
            _ => {}
        }
    }
    let Some((mh, mp)) = mdia else {
        return Ok(None);
    };
    let mut timescale = 0;
    let mut language = None;
    let mut kind = TrackKind::Other;
    let mut minf = None;
    for child in Children::new(mp, mh.payload_offset()) {
        let (h, p) = child?;
        match &h.kind.0 {
            b"mdhd" => {
                let mut c = Cursor::new(p, h.payload_offset(), "mdhd box");
                let (v, _) = c.version_flags();
                c.skip(if v == 1 { 16 } else { 8 });
                timescale = c.u32();
                c.skip(if v == 1 { 8 } else { 4 });
                let lang = c.u16();
                c.check()?;
                language = decode_language(lang);
            }
            b"hdlr" => {
                let mut c = Cursor::new(p, h.payload_offset(), "hdlr box");
                c.version_flags();
                c.u32();
                let handler = c.fourcc();
                c.check()?;
                kind = match &handler {
                    b"vide" => TrackKind::Video,
                    b"soun" => TrackKind::Audio,
                    _ => TrackKind::Other,
                };
            }
            b"minf" => minf = Some((h, p)),
            _ => {}
        }
    }
    if timescale == 0 {
        return Err(Error::invalid(
            "mdhd box",
            "timescale 0 or mdhd missing",
            mh.offset,
        ));
    }
    let Some((fh, fp)) = minf else {
        return Err(Error::new(
            ErrorKind::Missing { what: "minf box" },
            mh.offset,
        ));
    };
    let Some((sh, sp)) = super::boxes::find_child(fp, fh.payload_offset(), b"stbl")? else {
        return Err(Error::new(
            ErrorKind::Missing { what: "stbl box" },
            fh.offset,
        ));
    };
    let mut boxes = StblBoxes::default();
    let mut sample_entry = Vec::new();
    let mut codec = Err(Error::new(
        ErrorKind::Missing { what: "stsd box" },
        sh.offset,
    ));
    for child in Children::new(sp, sh.payload_offset()) {
        let (h, p) = child?;
        let entry = Some((p, h.payload_offset()));
        match &h.kind.0 {
            b"stsd" => {
                codec = parse_stsd(p, h.payload_offset(), kind);
                sample_entry = first_entry_bytes(p).to_vec();
            }
            b"stts" => boxes.stts = entry,
            b"ctts" => boxes.ctts = entry,
            b"stss" => boxes.stss = entry,
            b"stsc" => boxes.stsc = entry,
            b"stsz" => boxes.stsz = entry,
            b"stz2" => boxes.stz2 = entry,
            b"stco" => boxes.stco = entry,
            b"co64" => boxes.co64 = entry,
            _ => {}
        }
    }
    let samples = if boxes.stsz.is_none() && boxes.stz2.is_none() {
        SampleTable::default()
    } else {
        expand(&boxes, file_size, sh.offset)?
    };
    Ok(Some(TrackBuilder {
        id,
        kind,
        timescale,
        codec,
        rotation,
        tkhd_size,
        language,
        sample_entry,
        edits,
        samples,
        trex: Trex::default(),
        next_dts: 0,
    }))
}

fn parse_stsd(payload: &[u8], base: u64, kind: TrackKind) -> Result<CodecConfig> {
    let mut c = Cursor::new(payload, base, "stsd box");
    c.version_flags();
    let count = c.u32();
    c.check()?;
    if count == 0 {
        return Err(Error::invalid("stsd box", "no sample entries", base));
    }
    let at = c.offset();
    let Some(first) = Children::new(c.rest(), at).next() else {
        return Err(Error::truncated("stsd box", at));
    };
    let (h, p): (BoxHeader, &[u8]) = first?;
    parse_sample_entry(&h, p, kind)
}

/// The bytes of the first sample entry in an stsd payload (empty if malformed).
fn first_entry_bytes(stsd: &[u8]) -> &[u8] {
    let Some(entry) = stsd.get(8..) else {
        return &[];
    };
    match super::boxes::BoxHeader::parse(entry, 0) {
        Ok(Some(h)) => {
            let len = h.size.unwrap_or(entry.len() as u64);
            entry.get(..len as usize).unwrap_or(&[])
        }
        _ => &[],
    }
}

fn parse_elst(payload: &[u8], base: u64) -> Result<Vec<Edit>> {
    let mut c = Cursor::new(payload, base, "elst box");
    let (v, _) = c.version_flags();
    let n = c.count(if v == 1 { 20 } else { 12 }, "elst entry count")?;
    let mut edits = Vec::with_capacity(n);
    for _ in 0..n {
        let (duration, media_time) = if v == 1 {
            (c.u64(), c.i64())
        } else {
            (u64::from(c.u32()), i64::from(c.i32()))
        };
        let rate = c.i32();
        edits.push(Edit {
            duration,
            media_time,
            rate,
        });
    }
    Ok(edits)
}

/// Clockwise display rotation from a tkhd matrix (16.16 a, b, c, d).
fn rotation_of(m: &[i32; 9]) -> u16 {
    let one = 0x10000;
    match (m[0], m[1], m[3], m[4]) {
        (0, b, c, 0) if b == one && c == -one => 90,
        (a, 0, 0, d) if a == -one && d == -one => 180,
        (0, b, c, 0) if b == -one && c == one => 270,
        _ => 0,
    }
}

fn decode_language(code: u16) -> Option<String> {
    if code == 0 || code == 0x7fff || code < 0x400 {
        return None;
    }
    let chars = [(code >> 10) & 31, (code >> 5) & 31, code & 31];
    let s: String = chars.iter().map(|&c| char::from(b'`' + c as u8)).collect();
    (s != "und" && s.chars().all(|c| c.is_ascii_lowercase())).then_some(s)
}
