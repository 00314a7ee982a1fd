//! The fragmented MP4 writer: an init segment (ftyp + moov with mvex) carrying the source's
//! sample entries and edit lists, and media fragments (moof + mdat header) whose sample data
//! the caller streams from byte ranges of the source. Used for HLS remux and `pack`.

use super::moov::Track;
use crate::codec::TrackKind;
use crate::index::Edit;
use crate::plan::ByteRange;

/// Appends boxes to a buffer, patching each size when the box is closed.
#[derive(Default)]
struct BoxWriter {
    buf: Vec<u8>,
    open: Vec<usize>,
}

impl BoxWriter {
    fn begin(&mut self, kind: &[u8; 4]) {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(kind);
    }

    fn begin_full(&mut self, kind: &[u8; 4], version: u8, flags: u32) {
        self.begin(kind);
        self.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
    }

    fn end(&mut self) {
        if let Some(start) = self.open.pop() {
            let size = (self.buf.len() - start) as u32;
            self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
        }
    }

    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    fn matrix(&mut self, rotation: u16) {
        let one = 0x0001_0000i32;
        let (a, b, c, d) = match rotation {
            90 => (0, one, -one, 0),
            180 => (-one, 0, 0, -one),
            270 => (0, -one, one, 0),
            _ => (one, 0, 0, one),
        };
        for v in [a, b, 0, c, d, 0, 0, 0, 0x4000_0000] {
            self.i32(v);
        }
    }
}

/// Writes the init segment for `tracks` (each keeps its id, sample entry, edit list,
/// rotation and language). `movie_timescale` must be the source's: edit durations are in it.
pub fn write_init(movie_timescale: u32, tracks: &[&Track]) -> Vec<u8> {
    let mut w = BoxWriter::default();
    w.begin(b"ftyp");
    w.bytes(b"iso6");
    w.u32(0);
    for brand in [b"iso6", b"isom", b"mp41", b"dash"] {
        w.bytes(brand);
    }
    w.end();
    w.begin(b"moov");
    w.begin_full(b"mvhd", 0, 0);
    w.u32(0);
    w.u32(0);
    w.u32(movie_timescale.max(1));
    w.u32(0);
    w.u32(0x0001_0000);
    w.u16(0x0100);
    w.zeros(10);
    w.matrix(0);
    w.zeros(24);
    // next_track_ID: all ones when no larger ID is left (ISO/IEC 14496-12 §8.2.2.3).
    w.u32(
        tracks
            .iter()
            .map(|t| t.id)
            .max()
            .unwrap_or(0)
            .saturating_add(1),
    );
    w.end();
    for t in tracks {
        write_trak(&mut w, t);
    }
    w.begin(b"mvex");
    for t in tracks {
        w.begin_full(b"trex", 0, 0);
        w.u32(t.id);
        w.u32(1);
        w.u32(0);
        w.u32(0);
        w.u32(0);
        w.end();
    }
    w.end();
    w.end();
    w.buf
}

fn write_trak(w: &mut BoxWriter, t: &Track) {
    let (width, height) = t
        .codec
        .as_ref()
        .ok()
        .and_then(|c| c.video.as_ref())
        .map(|v| (v.display_width, v.display_height))
        .unwrap_or(t.tkhd_size);
    w.begin(b"trak");
    w.begin_full(b"tkhd", 0, 3);
    w.u32(0);
    w.u32(0);
    w.u32(t.id);
    w.u32(0);
    w.u32(0);
    w.zeros(8);
    w.u16(0);
    w.u16(0);
    w.u16(if t.kind == TrackKind::Audio {
        0x0100
    } else {
        0
    });
    w.u16(0);
    w.matrix(t.rotation);
    w.u32(width << 16);
    w.u32(height << 16);
    w.end();
    write_edits(w, &t.edits);
    w.begin(b"mdia");
    w.begin_full(b"mdhd", 0, 0);
    w.u32(0);
    w.u32(0);
    w.u32(t.timescale);
    w.u32(0);
    w.u16(encode_language(t.language.as_deref()));
    w.u16(0);
    w.end();
    let (handler, name): (&[u8; 4], &[u8]) = match t.kind {
        TrackKind::Video => (b"vide", b"VideoHandler\0"),
        TrackKind::Audio => (b"soun", b"SoundHandler\0"),
        TrackKind::Other => (b"meta", b"MetaHandler\0"),
    };
    w.begin_full(b"hdlr", 0, 0);
    w.u32(0);
    w.bytes(handler);
    w.zeros(12);
    w.bytes(name);
    w.end();
    w.begin(b"minf");
    match t.kind {
        TrackKind::Video => {
            w.begin_full(b"vmhd", 0, 1);
            w.zeros(8);
            w.end();
        }
        TrackKind::Audio => {
            w.begin_full(b"smhd", 0, 0);
            w.zeros(4);
            w.end();
        }
        TrackKind::Other => {
            w.begin_full(b"nmhd", 0, 0);
            w.end();
        }
    }
    w.begin(b"dinf");
    w.begin_full(b"dref", 0, 0);
    w.u32(1);
    w.begin_full(b"url ", 0, 1);
    w.end();
    w.end();
    w.end();
    w.begin(b"stbl");
    w.begin_full(b"stsd", 0, 0);
    w.u32(1);
    w.bytes(&t.sample_entry);
    w.end();
    for kind in [b"stts", b"stsc", b"stco"] {
        w.begin_full(kind, 0, 0);
        w.u32(0);
        w.end();
    }
    w.begin_full(b"stsz", 0, 0);
    w.u32(0);
    w.u32(0);
    w.end();
    w.end();
    w.end();
    w.end();
    w.end();
}

/// Writes the edit list, with the last media edit's duration 0 ("to the end of the media",
/// as fragmented files need since their length is not known from the init segment).
fn write_edits(w: &mut BoxWriter, edits: &[Edit]) {
    let trivial = edits
        .iter()
        .all(|e| e.media_time == 0 && e.rate == 0x0001_0000);
    if edits.is_empty() || trivial {
        return;
    }
    w.begin(b"edts");
    w.begin_full(b"elst", 1, 0);
    w.u32(edits.len() as u32);
    for (i, e) in edits.iter().enumerate() {
        let last = i + 1 == edits.len();
        w.u64(if last && e.media_time >= 0 {
            0
        } else {
            e.duration
        });
        w.u64(e.media_time as u64);
        w.i32(e.rate);
    }
    w.end();
    w.end();
}

fn encode_language(lang: Option<&str>) -> u16 {
    let code = lang.unwrap_or("und").as_bytes();
    if code.len() != 3 || !code.iter().all(u8::is_ascii_lowercase) {
        return 0x55c4; // "und"
    }
    code.iter()
        .fold(0u16, |acc, &c| (acc << 5) | u16::from(c - 0x60))
}

/// One track's run of samples in a fragment, in decode order.
#[derive(Debug, Clone, Copy)]
pub struct FragmentRun<'a> {
    /// The track (its index supplies sizes, times, flags and offsets).
    pub track: &'a Track,
    /// First decode-order sample.
    pub first: usize,
    /// One past the last sample.
    pub end: usize,
}

/// A media fragment: `header` (moof + mdat header) followed by the bytes of `payload`, read
/// from the source in order, is the whole fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// moof and mdat header bytes.
    pub header: Vec<u8>,
    /// Source byte ranges that make up the mdat payload, in order.
    pub payload: Vec<ByteRange>,
    /// Total fragment size: header plus payload.
    pub size: u64,
}

const SYNC_FLAGS: u32 = 0x0200_0000;
const NON_SYNC_FLAGS: u32 = 0x0101_0000;

/// Writes fragment number `sequence` (1-based) holding `runs` (one per track). Sample times
/// are the media's own (decode time before the edit list), so the init segment's edit list
/// gives the same presentation as the source.
pub fn write_fragment(sequence: u32, runs: &[FragmentRun<'_>]) -> Fragment {
    let mut w = BoxWriter::default();
    w.begin(b"moof");
    w.begin_full(b"mfhd", 0, 0);
    w.u32(sequence);
    w.end();
    let mut offset_slots = Vec::new();
    for run in runs {
        let index = &run.track.index;
        let shift = index.shift();
        w.begin(b"traf");
        w.begin_full(b"tfhd", 0, 0x02_0000);
        w.u32(run.track.id);
        w.end();
        let base = index
            .sample(run.first)
            .map(|s| s.dts - shift)
            .unwrap_or(0)
            .max(0);
        w.begin_full(b"tfdt", 1, 0);
        w.u64(base as u64);
        w.end();
        w.begin_full(b"trun", 1, 0x1 | 0x100 | 0x200 | 0x400 | 0x800);
        w.u32(run.end.saturating_sub(run.first) as u32);
        offset_slots.push(w.buf.len());
        w.i32(0);
        for i in run.first..run.end {
            let Some(s) = index.sample(i) else { break };
            w.u32(s.duration);
            w.u32(s.size);
            w.u32(if s.sync { SYNC_FLAGS } else { NON_SYNC_FLAGS });
            w.i32(index.composition_offset(i).unwrap_or(0));
        }
        w.end();
        w.end();
    }
    w.end();
    let moof_len = w.buf.len() as u64;
    let payload_len: u64 = runs
        .iter()
        .flat_map(|r| (r.first..r.end).filter_map(|i| r.track.index.sample(i)))
        .map(|s| u64::from(s.size))
        .sum();
    let wide = payload_len + 8 > u64::from(u32::MAX);
    let mdat_header = if wide { 16 } else { 8 };
    // Patch each trun's data offset: from the moof start to its first sample in the mdat.
    let mut data_at = moof_len + mdat_header;
    let mut payload: Vec<ByteRange> = Vec::new();
    for (run, slot) in runs.iter().zip(offset_slots) {
        w.buf[slot..slot + 4].copy_from_slice(&(data_at as u32).to_be_bytes());
        for i in run.first..run.end {
            let Some(s) = run.track.index.sample(i) else {
                break;
            };
            // Keep the order; merge only ranges that continue each other.
            match payload.last_mut() {
                Some(last) if last.end == s.offset => last.end += u64::from(s.size),
                _ => payload.push(ByteRange::new(s.offset, s.offset + u64::from(s.size))),
            }
            data_at += u64::from(s.size);
        }
    }
    if wide {
        w.u32(1);
        w.bytes(b"mdat");
        w.u64(payload_len + 16);
    } else {
        w.u32((payload_len + 8) as u32);
        w.bytes(b"mdat");
    }
    let size = w.buf.len() as u64 + payload_len;
    Fragment {
        header: w.buf,
        payload,
        size,
    }
}
