//! MPEG-2 transport stream demuxing (ISO/IEC 13818-1) for HLS segments: packets → PAT → PMT
//! → the first H.264 (stream type 0x1B) or HEVC (0x24) stream and the first ADTS AAC (0x0F)
//! stream → PES packets → samples in the form MP4 would hold them.
//!
//! - Packets are 188 bytes (192-byte M2TS and 204-byte packets with parity are detected);
//!   after lost sync the demuxer resyncs on the next `0x47` that is followed by another one
//!   a packet later. Packets with the transport error flag or scrambling are skipped;
//!   duplicate packets (same continuity counter) are dropped, counter gaps are counted.
//! - PSI sections are reassembled and checked with their CRC-32. The PAT and PMT are looked
//!   for first, so PES packets before them in the segment (GStreamer's hlssink2 writes its
//!   keyframe first) are read too.
//! - PES timestamps (33 bits, 90 kHz) are unwrapped across the 2^33 wrap: each is taken as
//!   the value nearest to the previous one, starting from [`TsOptions::timestamp_reference`]
//!   (e.g. the previous segment's last DTS) or the segment's first timestamp, which is kept
//!   as it is (so the values equal ffprobe's).
//! - Video: one access unit per PES packet that carries a PTS (what HLS packagers write; a
//!   PES without PTS continues the previous access unit). Access units become samples of
//!   4-byte length-prefixed NAL units with AUD, filler and repeated parameter sets stripped;
//!   the `avcC`/`hvcC` is built from the parameter sets (see [`super::annexb`]) and read back
//!   by [`crate::codec`], so the codec string and `description` are those the same stream
//!   has in MP4. `sync` = the access unit holds an IDR (H.264) or IRAP (HEVC) picture.
//!   Durations are DTS differences; the last sample repeats the previous duration.
//! - Audio: ADTS frames become raw AAC frames (header and CRC removed) with an
//!   AudioSpecificConfig built from the first header (`mp4a.40.N`). The first frame that
//!   starts in a PES gets its PTS; the following ones add 1024 samples each (frames split
//!   across PES packets are joined). Audio uses the same 90 kHz timescale as video, so both
//!   tracks share the transport stream's clock; durations are 1024 samples in 90 kHz ticks.
//!
//! Memory is bounded by the input: the output sample bytes are at most 5/4 of the input
//! (4-byte lengths replace 3-byte start codes), and every buffer holds input bytes.

use super::adts::AdtsHeader;
use super::annexb::{AnnexBConverter, VideoCodec};
use crate::codec::aac::parse_audio_specific_config;
use crate::codec::{AudioParams, CodecConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::mp4::boxes::FourCC;
use std::ops::Range;

/// The transport stream clock: 90 kHz.
pub const TS_TIMESCALE: u32 = 90_000;
const PACKET: usize = 188;
const SYNC: u8 = 0x47;
const WRAP: i64 = 1 << 33;

/// Options for [`demux_ts_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TsOptions {
    /// Unwrap the 33-bit timestamps to the values nearest this one (90 kHz), e.g. the last
    /// DTS of the previous segment, so that a stream that wraps between segments keeps
    /// increasing. Without it the first timestamp of the segment is taken as it is.
    pub timestamp_reference: Option<i64>,
}

/// One sample (access unit or audio frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsSample {
    /// Presentation time, 90 kHz.
    pub pts: i64,
    /// Decode time, 90 kHz.
    pub dts: i64,
    /// Duration, 90 kHz.
    pub duration: u32,
    /// Whether a decoder can start here (IDR/IRAP; every audio frame).
    pub sync: bool,
    /// The sample's bytes in [`TsTrack::data`].
    pub data: Range<usize>,
}

/// One elementary stream, demuxed.
#[derive(Debug, Clone, PartialEq)]
pub struct TsTrack {
    /// Its PID.
    pub pid: u16,
    /// Its PMT stream type (0x1B, 0x24, 0x0F).
    pub stream_type: u8,
    /// The decoder configuration; `None` when the segment carries no (readable) parameter
    /// sets or ADTS header, in which case the previous segment's configuration applies.
    pub codec: Option<CodecConfig>,
    /// Ticks per second of the timestamps: always [`TS_TIMESCALE`].
    pub timescale: u32,
    /// The samples in decode order.
    pub samples: Vec<TsSample>,
    /// The sample bytes (length-prefixed NAL units, or raw AAC frames).
    pub data: Vec<u8>,
}

impl TsTrack {
    /// The bytes of sample `i`.
    pub fn sample_data(&self, i: usize) -> Option<&[u8]> {
        self.data.get(self.samples.get(i)?.data.clone())
    }
}

/// What a transport stream segment holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TsSegment {
    /// The first H.264 or HEVC stream.
    pub video: Option<TsTrack>,
    /// The first ADTS AAC stream.
    pub audio: Option<TsTrack>,
    /// Other elementary streams of the program: (PID, stream type).
    pub other_streams: Vec<(u16, u8)>,
    /// Packets read.
    pub packets: u64,
    /// Bytes skipped to regain sync.
    pub skipped_bytes: u64,
    /// Continuity counter gaps, transport errors, bad PES headers and bad PSI sections.
    pub errors: u32,
    /// The input ended inside a packet or a frame.
    pub truncated: bool,
}

/// Whether `data` looks like a transport stream (sync bytes 188 bytes apart at its start).
pub fn looks_like_ts(data: &[u8]) -> bool {
    data.first() == Some(&SYNC) && data.get(PACKET).is_none_or(|&b| b == SYNC)
}

/// Demuxes one transport stream segment; see the module docs.
pub fn demux_ts(data: &[u8]) -> Result<TsSegment> {
    demux_ts_with(data, &TsOptions::default())
}

/// Demuxes one transport stream segment with options.
///
/// Errors: no sync byte at all, no PAT/PMT, or a program without a supported stream. Damage
/// after that (lost sync, truncation, broken PES packets) gives a partial result with
/// [`TsSegment::errors`], [`TsSegment::skipped_bytes`] and [`TsSegment::truncated`] set.
pub fn demux_ts_with(data: &[u8], opts: &TsOptions) -> Result<TsSegment> {
    if data.is_empty() {
        return Err(Error::truncated("MPEG-TS", 0));
    }
    let (stride, first) =
        detect(data).ok_or_else(|| Error::invalid("MPEG-TS", "no sync byte", 0))?;
    // The PAT and PMT first: a segment may carry them after its first PES packets (GStreamer's
    // hlssink2 starts each segment with the keyframe's), which are then read like the rest.
    let mut d = Demuxer::default();
    walk(data, stride, first, |p, at| {
        d.packet(p, at);
        !d.program_seen
    });
    d.out = TsSegment {
        other_streams: std::mem::take(&mut d.out.other_streams),
        ..TsSegment::default()
    };
    d.clock = Clock {
        reference: opts.timestamp_reference,
    };
    let (skipped, truncated) = walk(data, stride, first, |p, at| {
        d.packet(p, at);
        true
    });
    d.out.skipped_bytes = first as u64 + skipped;
    d.out.truncated = truncated;
    d.finish()
}

/// Calls `f` with each packet and its offset from `first` on, until it returns false. Returns
/// the bytes skipped to regain sync and whether the data ends inside a packet.
fn walk(
    data: &[u8],
    stride: usize,
    first: usize,
    mut f: impl FnMut(&[u8], u64) -> bool,
) -> (u64, bool) {
    let mut skipped = 0u64;
    let mut pos = first;
    while pos < data.len() {
        if data.len() - pos < PACKET {
            return (skipped, true);
        }
        if data[pos] != SYNC {
            let next = (pos + 1..data.len())
                .find(|&p| data[p] == SYNC && data.get(p + stride).is_none_or(|&b| b == SYNC));
            let next = next.unwrap_or(data.len());
            skipped += (next - pos) as u64;
            pos = next;
            continue;
        }
        if !f(&data[pos..pos + PACKET], pos as u64) {
            break;
        }
        pos += stride;
    }
    (skipped, false)
}

/// Packet size and the offset of the first packet.
fn detect(data: &[u8]) -> Option<(usize, usize)> {
    for stride in [PACKET, 192, 204] {
        for o in 0..stride.min(data.len()) {
            if data[o] != SYNC {
                continue;
            }
            let later: Vec<usize> = (1..=4)
                .map(|k| o + k * stride)
                .filter(|&p| p < data.len())
                .collect();
            if later.is_empty() && stride != PACKET {
                continue;
            }
            if later.iter().all(|&p| data[p] == SYNC) {
                return Some((stride, o));
            }
        }
    }
    data.iter().position(|&b| b == SYNC).map(|o| (PACKET, o))
}

/// Unwraps 33-bit timestamps.
#[derive(Debug, Default)]
struct Clock {
    reference: Option<i64>,
}

impl Clock {
    fn unwrap(&mut self, raw: u64) -> i64 {
        let raw = (raw & (WRAP as u64 - 1)) as i64;
        let v = match self.reference {
            None => raw,
            Some(r) => raw + (r - raw + WRAP / 2).div_euclid(WRAP) * WRAP,
        };
        self.reference = Some(v);
        v
    }
}

/// A PSI section being reassembled.
#[derive(Debug, Default)]
struct Section {
    buf: Vec<u8>,
    active: bool,
}

/// A PES packet being reassembled.
#[derive(Debug, Default)]
struct PesBuf {
    buf: Vec<u8>,
    at: u64,
    active: bool,
}

#[derive(Debug)]
struct VideoState {
    pid: u16,
    stream_type: u8,
    conv: AnnexBConverter,
    pes: PesBuf,
    cc: Option<u8>,
    /// The access unit being gathered: (pts, dts, Annex B bytes).
    au: Option<(i64, i64)>,
    raw: Vec<u8>,
    samples: Vec<TsSample>,
    data: Vec<u8>,
}

#[derive(Debug)]
struct AudioState {
    pid: u16,
    pes: PesBuf,
    cc: Option<u8>,
    /// The first header: the stream's configuration.
    config: Option<AdtsHeader>,
    /// Bytes of a frame that continues in the next PES, and its PTS.
    carry: Vec<u8>,
    carry_pts: Option<i64>,
    /// The timestamp base and the samples since it, for the next frame.
    base: Option<i64>,
    since: u64,
    samples: Vec<TsSample>,
    data: Vec<u8>,
}

#[derive(Debug, Default)]
struct Demuxer {
    pat: Section,
    pmt: Section,
    pmt_pid: Option<u16>,
    program_seen: bool,
    video: Option<VideoState>,
    audio: Option<AudioState>,
    clock: Clock,
    out: TsSegment,
}

/// Feeds a PSI payload to a section buffer; returns the complete sections whose CRC holds.
fn section(sec: &mut Section, pusi: bool, payload: &[u8], errors: &mut u32) -> Vec<Vec<u8>> {
    let mut complete = Vec::new();
    if pusi {
        let pointer = usize::from(payload[0]);
        let Some(tail) = payload.get(1..1 + pointer) else {
            *errors += 1;
            return complete;
        };
        if sec.active {
            sec.push(tail, &mut complete, errors);
        }
        sec.buf.clear();
        sec.active = true;
        sec.push(&payload[1 + pointer..], &mut complete, errors);
    } else if sec.active {
        sec.push(payload, &mut complete, errors);
    }
    complete
}

impl Section {
    fn push(&mut self, bytes: &[u8], complete: &mut Vec<Vec<u8>>, errors: &mut u32) {
        self.buf.extend_from_slice(bytes);
        loop {
            if self.buf.first().is_none_or(|&b| b == 0xff) {
                // Stuffing after the last section (or nothing yet).
                if !self.buf.is_empty() {
                    self.buf.clear();
                    self.active = false;
                }
                return;
            }
            if self.buf.len() < 3 {
                return;
            }
            let len = (usize::from(self.buf[1] & 0x0f) << 8) | usize::from(self.buf[2]);
            if len > 1021 {
                *errors += 1;
                self.buf.clear();
                self.active = false;
                return;
            }
            if self.buf.len() < 3 + len {
                return;
            }
            let s: Vec<u8> = self.buf.drain(..3 + len).collect();
            if len >= 4 && crc32_mpeg2(&s) == 0 {
                complete.push(s);
            } else {
                *errors += 1;
            }
        }
    }
}

/// CRC-32/MPEG-2 of `data` (0 over a section that ends in its own CRC).
fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

impl Demuxer {
    fn packet(&mut self, p: &[u8], at: u64) {
        self.out.packets += 1;
        if p[1] & 0x80 != 0 {
            self.out.errors += 1; // transport_error_indicator
            return;
        }
        let pusi = p[1] & 0x40 != 0;
        let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
        if pid == 0x1fff || p[3] >> 6 != 0 {
            return; // null packet, or scrambled
        }
        let afc = (p[3] >> 4) & 3;
        let cc = p[3] & 0x0f;
        let mut start = 4;
        let mut discontinuity = false;
        if afc & 2 != 0 {
            let len = usize::from(p[4]);
            if len > 183 {
                self.out.errors += 1;
                return;
            }
            discontinuity = len > 0 && p[5] & 0x80 != 0;
            start = 5 + len;
        }
        if afc & 1 == 0 || start >= PACKET {
            return; // no payload
        }
        let payload = &p[start..];
        let at = at + start as u64;
        if pid == 0 {
            for sec in section(&mut self.pat, pusi, payload, &mut self.out.errors) {
                self.pat(&sec);
            }
            return;
        }
        if Some(pid) == self.pmt_pid {
            for sec in section(&mut self.pmt, pusi, payload, &mut self.out.errors) {
                self.pmt(&sec);
            }
            return;
        }
        if self.video.as_ref().is_some_and(|v| v.pid == pid) {
            let ok = self.continuity(true, cc, discontinuity);
            if ok {
                self.pes_payload(true, pusi, payload, at);
            }
        } else if self.audio.as_ref().is_some_and(|a| a.pid == pid) {
            let ok = self.continuity(false, cc, discontinuity);
            if ok {
                self.pes_payload(false, pusi, payload, at);
            }
        }
    }

    /// Checks a stream's continuity counter; `false` for a duplicate packet (to drop).
    fn continuity(&mut self, video: bool, cc: u8, discontinuity: bool) -> bool {
        let slot = if video {
            self.video.as_mut().map(|v| &mut v.cc)
        } else {
            self.audio.as_mut().map(|a| &mut a.cc)
        };
        let Some(slot) = slot else { return false };
        let prev = slot.replace(cc);
        match prev {
            Some(p) if !discontinuity && p == cc => false,
            Some(p) if !discontinuity && (p + 1) & 0x0f != cc => {
                self.out.errors += 1;
                true
            }
            _ => true,
        }
    }

    fn pat(&mut self, s: &[u8]) {
        if s[0] != 0x00 || s.len() < 12 {
            return;
        }
        for e in s[8..s.len() - 4].chunks_exact(4) {
            let program = u16::from_be_bytes([e[0], e[1]]);
            if program != 0 {
                let pid = (u16::from(e[2] & 0x1f) << 8) | u16::from(e[3]);
                if self.pmt_pid.is_none() {
                    self.pmt_pid = Some(pid);
                }
                return;
            }
        }
    }

    fn pmt(&mut self, s: &[u8]) {
        if s[0] != 0x02 || s.len() < 16 || self.program_seen {
            return;
        }
        self.program_seen = true;
        let info_len = (usize::from(s[10] & 0x0f) << 8) | usize::from(s[11]);
        let end = s.len() - 4;
        let mut i = 12 + info_len;
        while i + 5 <= end {
            let stream_type = s[i];
            let pid = (u16::from(s[i + 1] & 0x1f) << 8) | u16::from(s[i + 2]);
            let es_len = (usize::from(s[i + 3] & 0x0f) << 8) | usize::from(s[i + 4]);
            i += 5 + es_len;
            let codec = match stream_type {
                0x1b => Some(VideoCodec::H264),
                0x24 => Some(VideoCodec::Hevc),
                _ => None,
            };
            match codec {
                Some(c) if self.video.is_none() => {
                    self.video = Some(VideoState {
                        pid,
                        stream_type,
                        conv: AnnexBConverter::new(c),
                        pes: PesBuf::default(),
                        cc: None,
                        au: None,
                        raw: Vec::new(),
                        samples: Vec::new(),
                        data: Vec::new(),
                    });
                    continue;
                }
                _ => {}
            }
            if stream_type == 0x0f && self.audio.is_none() {
                self.audio = Some(AudioState {
                    pid,
                    pes: PesBuf::default(),
                    cc: None,
                    config: None,
                    carry: Vec::new(),
                    carry_pts: None,
                    base: None,
                    since: 0,
                    samples: Vec::new(),
                    data: Vec::new(),
                });
                continue;
            }
            self.out.other_streams.push((pid, stream_type));
        }
    }

    fn pes_payload(&mut self, video: bool, pusi: bool, payload: &[u8], at: u64) {
        let pes = match video {
            true => self.video.as_mut().map(|v| &mut v.pes),
            false => self.audio.as_mut().map(|a| &mut a.pes),
        };
        let Some(pes) = pes else { return };
        if pusi {
            let done = pes.active.then(|| (std::mem::take(&mut pes.buf), pes.at));
            pes.buf.clear();
            pes.buf.extend_from_slice(payload);
            pes.at = at;
            pes.active = true;
            if let Some((buf, at)) = done {
                self.pes(video, &buf, at);
                self.recycle(video, buf);
            }
        } else if pes.active {
            pes.buf.extend_from_slice(payload);
        } else {
            return;
        }
        // A PES with a length is complete when it has it all.
        let pes = match video {
            true => self.video.as_mut().map(|v| &mut v.pes),
            false => self.audio.as_mut().map(|a| &mut a.pes),
        };
        let Some(pes) = pes else { return };
        if pes.buf.len() >= 6 {
            let len = usize::from(u16::from_be_bytes([pes.buf[4], pes.buf[5]]));
            if len > 0 && pes.buf.len() >= 6 + len {
                pes.active = false;
                let (buf, at) = (std::mem::take(&mut pes.buf), pes.at);
                self.pes(video, &buf, at);
                self.recycle(video, buf);
            }
        }
    }

    /// Gives a PES buffer back for reuse when the stream's buffer is empty.
    fn recycle(&mut self, video: bool, mut buf: Vec<u8>) {
        let pes = match video {
            true => self.video.as_mut().map(|v| &mut v.pes),
            false => self.audio.as_mut().map(|a| &mut a.pes),
        };
        if let Some(pes) = pes {
            if pes.buf.is_empty() && pes.buf.capacity() < buf.capacity() {
                buf.clear();
                pes.buf = buf;
            }
        }
    }

    /// Parses a complete PES packet and hands its payload on.
    fn pes(&mut self, video: bool, buf: &[u8], at: u64) {
        if buf.len() < 9 || buf[..3] != [0, 0, 1] {
            self.out.errors += 1;
            return;
        }
        let declared = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
        let end = if declared == 0 {
            buf.len()
        } else {
            (6 + declared).min(buf.len())
        };
        if matches!(
            buf[3],
            0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff
        ) {
            return; // no media in these streams
        }
        let flags = buf[7] >> 6;
        let header_len = usize::from(buf[8]);
        let start = 9 + header_len;
        if start > end {
            self.out.errors += 1;
            return;
        }
        let ts = |b: &[u8]| -> u64 {
            (u64::from(b[0] >> 1 & 7) << 30)
                | (u64::from(b[1]) << 22)
                | (u64::from(b[2] >> 1) << 15)
                | (u64::from(b[3]) << 7)
                | u64::from(b[4] >> 1)
        };
        let (mut pts, mut dts) = (None, None);
        if flags & 2 != 0 && header_len >= 5 {
            pts = Some(self.clock.unwrap(ts(&buf[9..14])));
            if flags == 3 && header_len >= 10 {
                dts = Some(self.clock.unwrap(ts(&buf[14..19])));
            }
        }
        let payload = &buf[start..end];
        let at = at + start as u64;
        if video {
            self.video_pes(pts, dts, payload);
        } else {
            self.audio_pes(pts, payload, at);
        }
    }

    fn video_pes(&mut self, pts: Option<i64>, dts: Option<i64>, payload: &[u8]) {
        let Some(v) = self.video.as_mut() else { return };
        match pts {
            Some(pts) => {
                v.flush();
                v.au = Some((pts, dts.unwrap_or(pts)));
                v.raw.clear();
                v.raw.extend_from_slice(payload);
            }
            None if v.au.is_some() => v.raw.extend_from_slice(payload),
            None => self.out.errors += 1,
        }
    }

    fn audio_pes(&mut self, pts: Option<i64>, payload: &[u8], at: u64) {
        let Some(a) = self.audio.as_mut() else { return };
        // Joined bytes: a carried partial frame, then this payload.
        let boundary = a.carry.len();
        let mut joined = std::mem::take(&mut a.carry);
        joined.extend_from_slice(payload);
        let carry_pts = a.carry_pts.take();
        if boundary > 0 {
            if let Some(p) = carry_pts {
                a.base = Some(p);
                a.since = 0;
            }
        }
        let mut i = 0;
        let mut pts_pending = pts;
        let mut skipped = 0u64;
        while i < joined.len() {
            if i >= boundary {
                if let Some(p) = pts_pending.take() {
                    a.base = Some(p);
                    a.since = 0;
                }
            }
            let h = match AdtsHeader::parse(&joined[i..], at) {
                Ok(h) => h,
                Err(e) if matches!(e.kind, ErrorKind::Truncated { .. }) => {
                    // A header split across PES packets: carry what there is.
                    if joined[i] == 0xff {
                        a.carry_pts = a.base.map(|b| b + ticks(a.since, a.config));
                        a.carry = joined[i..].to_vec();
                    } else {
                        skipped += (joined.len() - i) as u64;
                    }
                    break;
                }
                Err(_) => {
                    i += 1;
                    skipped += 1;
                    continue;
                }
            };
            if i + h.frame_len > joined.len() {
                a.carry_pts = a.base.map(|b| b + ticks(a.since, a.config.or(Some(h))));
                a.carry = joined[i..].to_vec();
                break;
            }
            let cfg = *a.config.get_or_insert(h);
            let rate = cfg.sample_rate();
            let frame_samples = 1024 * u64::from(h.blocks);
            if let Some(base) = a.base {
                let pts = base + ticks_at(a.since, rate);
                let next = base + ticks_at(a.since + frame_samples, rate);
                let start = a.data.len();
                a.data
                    .extend_from_slice(&joined[i + h.header_len..i + h.frame_len]);
                a.samples.push(TsSample {
                    pts,
                    dts: pts,
                    duration: u32::try_from(next - pts).unwrap_or(0),
                    sync: true,
                    data: start..a.data.len(),
                });
                a.since += frame_samples;
            } else {
                skipped += h.frame_len as u64; // no timestamp yet
            }
            i += h.frame_len;
        }
        if skipped > 0 {
            self.out.errors += 1;
        }
    }

    fn finish(mut self) -> Result<TsSegment> {
        // Flush the PES packets still open (the last of each stream has no successor).
        for video in [true, false] {
            let pes = match video {
                true => self.video.as_mut().map(|v| &mut v.pes),
                false => self.audio.as_mut().map(|a| &mut a.pes),
            };
            if let Some(pes) = pes.filter(|p| p.active) {
                pes.active = false;
                let (buf, at) = (std::mem::take(&mut pes.buf), pes.at);
                self.pes(video, &buf, at);
            }
        }
        if self.pmt_pid.is_none() {
            return Err(Error::new(
                ErrorKind::Missing {
                    what: "MPEG-TS program association table",
                },
                0,
            ));
        }
        if !self.program_seen {
            return Err(Error::new(
                ErrorKind::Missing {
                    what: "MPEG-TS program map table",
                },
                0,
            ));
        }
        if self.video.is_none() && self.audio.is_none() {
            let types: Vec<String> = self
                .out
                .other_streams
                .iter()
                .map(|(_, t)| format!("{t:#04x}"))
                .collect();
            return Err(Error::unsupported(
                format!(
                    "MPEG-TS program without H.264, HEVC or ADTS AAC (stream types: {})",
                    types.join(", ")
                ),
                0,
            ));
        }
        let mut out = self.out;
        if let Some(mut v) = self.video {
            v.flush();
            set_durations(&mut v.samples);
            out.video = Some(TsTrack {
                pid: v.pid,
                stream_type: v.stream_type,
                codec: v.conv.config(),
                timescale: TS_TIMESCALE,
                samples: v.samples,
                data: v.data,
            });
        }
        if let Some(a) = self.audio {
            if !a.carry.is_empty() {
                out.truncated = true;
            }
            out.audio = Some(TsTrack {
                pid: a.pid,
                stream_type: 0x0f,
                codec: a.config.and_then(aac_config),
                timescale: TS_TIMESCALE,
                samples: a.samples,
                data: a.data,
            });
        }
        Ok(out)
    }
}

/// 90 kHz ticks for `samples` audio samples at `rate`, rounded.
fn ticks_at(samples: u64, rate: u32) -> i64 {
    let rate = u64::from(rate.max(1));
    ((samples * u64::from(TS_TIMESCALE) + rate / 2) / rate) as i64
}

fn ticks(samples: u64, config: Option<AdtsHeader>) -> i64 {
    config.map_or(0, |c| ticks_at(samples, c.sample_rate()))
}

impl VideoState {
    /// Converts the access unit being gathered into a sample.
    fn flush(&mut self) {
        let Some((pts, dts)) = self.au.take() else {
            return;
        };
        let start = self.data.len();
        let (sync, _) = self.conv.convert(&self.raw, &mut self.data);
        self.raw.clear();
        if self.data.len() == start {
            return;
        }
        self.samples.push(TsSample {
            pts,
            dts,
            duration: 0,
            sync,
            data: start..self.data.len(),
        });
    }
}

/// Durations from DTS differences; the last sample repeats the previous duration.
fn set_durations(samples: &mut [TsSample]) {
    for i in 1..samples.len() {
        let d = samples[i].dts - samples[i - 1].dts;
        samples[i - 1].duration = u32::try_from(d.max(0)).unwrap_or(u32::MAX);
    }
    if samples.len() >= 2 {
        let n = samples.len();
        samples[n - 1].duration = samples[n - 2].duration;
    }
}

fn aac_config(h: AdtsHeader) -> Option<CodecConfig> {
    let asc = h.audio_specific_config();
    let parsed = parse_audio_specific_config(&asc, 0).ok()?;
    Some(CodecConfig {
        fourcc: FourCC(*b"mp4a"),
        codec: format!("mp4a.40.{}", h.object_type),
        description: Some(asc.to_vec()),
        video: None,
        audio: Some(AudioParams {
            sample_rate: parsed.sample_rate.unwrap_or(h.sample_rate()),
            channels: parsed.channels.unwrap_or(0),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::entry::tests::hex;
    use crate::codec::h264::tests::AVCC_HIGH_13;

    const VIDEO_PID: u16 = 0x100;
    const AUDIO_PID: u16 = 0x101;

    /// A minimal transport stream writer for the tests.
    #[derive(Default)]
    struct Mux {
        out: Vec<u8>,
        cc: std::collections::HashMap<u16, u8>,
    }

    impl Mux {
        /// Writes `payload` as packets of `pid`, the first with PUSI; the last is padded
        /// with adaptation-field stuffing.
        fn write(&mut self, pid: u16, payload: &[u8]) {
            let mut rest = payload;
            let mut first = true;
            loop {
                let cc = self.cc.entry(pid).or_insert(0);
                let mut p = vec![
                    SYNC,
                    (u8::from(first) << 6) | (pid >> 8) as u8,
                    pid as u8,
                    0x10 | *cc,
                ];
                *cc = (*cc + 1) & 15;
                let room = PACKET - 4;
                if rest.len() < room {
                    // Adaptation field of `stuff` bytes (length byte included).
                    let stuff = room - rest.len();
                    p[3] |= 0x20;
                    p.push((stuff - 1) as u8);
                    if stuff > 1 {
                        p.push(0);
                        p.extend(std::iter::repeat_n(0xff, stuff - 2));
                    }
                }
                let take = rest.len().min(PACKET - p.len());
                p.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                self.out.extend_from_slice(&p);
                first = false;
                if rest.is_empty() {
                    return;
                }
            }
        }

        fn section(&mut self, pid: u16, table_id: u8, body: &[u8]) {
            let len = 5 + body.len() + 4;
            let mut s = vec![
                table_id,
                0xb0 | (len >> 8) as u8,
                len as u8,
                0,
                1,
                0xc1,
                0,
                0,
            ];
            s.extend_from_slice(body);
            let crc = crc32_mpeg2(&s);
            s.extend_from_slice(&crc.to_be_bytes());
            let mut payload = vec![0]; // pointer_field
            payload.extend_from_slice(&s);
            self.write(pid, &payload);
        }

        fn tables(&mut self, streams: &[(u8, u16)]) {
            self.section(0, 0, &[0, 1, 0xf0, 0x00]); // program 1 -> PMT PID 0x1000
            let mut body = vec![0xe1, 0x00, 0xf0, 0x00]; // PCR PID 0x100, no program info
            for &(t, pid) in streams {
                body.extend_from_slice(&[t, 0xe0 | (pid >> 8) as u8, pid as u8, 0xf0, 0]);
            }
            self.section(0x1000, 2, &body);
        }

        fn pes(&mut self, pid: u16, pts: Option<u64>, dts: Option<u64>, data: &[u8], sized: bool) {
            let stream_id = if pid == VIDEO_PID { 0xe0 } else { 0xc0 };
            let mut h = Vec::new();
            let flags = match (pts, dts) {
                (Some(_), Some(_)) => 0xc0,
                (Some(_), None) => 0x80,
                _ => 0,
            };
            let ts = |prefix: u8, v: u64| {
                [
                    (prefix << 4) | (((v >> 30) & 7) as u8) << 1 | 1,
                    (v >> 22) as u8,
                    (((v >> 15) & 0x7f) as u8) << 1 | 1,
                    (v >> 7) as u8,
                    ((v & 0x7f) as u8) << 1 | 1,
                ]
            };
            if let Some(p) = pts {
                h.extend_from_slice(&ts(if dts.is_some() { 3 } else { 2 }, p));
            }
            if let Some(d) = dts {
                h.extend_from_slice(&ts(1, d));
            }
            let len = if sized { 3 + h.len() + data.len() } else { 0 };
            let mut p = vec![0, 0, 1, stream_id, (len >> 8) as u8, len as u8, 0x80, flags];
            p.push(h.len() as u8);
            p.extend_from_slice(&h);
            p.extend_from_slice(data);
            self.write(pid, &p);
        }
    }

    fn avc_sets() -> (Vec<u8>, Vec<u8>) {
        let d = hex(AVCC_HIGH_13);
        let sps_len = usize::from(u16::from_be_bytes([d[6], d[7]]));
        let sps = d[8..8 + sps_len].to_vec();
        let at = 8 + sps_len + 1;
        let pps_len = usize::from(u16::from_be_bytes([d[at], d[at + 1]]));
        (sps, d[at + 2..at + 2 + pps_len].to_vec())
    }

    fn access_unit(idr: bool, size: usize) -> Vec<u8> {
        let (sps, pps) = avc_sets();
        let mut au = vec![0, 0, 0, 1, 0x09, 0xf0];
        if idr {
            for s in [&sps, &pps] {
                au.extend_from_slice(&[0, 0, 0, 1]);
                au.extend_from_slice(s);
            }
        }
        au.extend_from_slice(&[0, 0, 1, if idr { 0x65 } else { 0x41 }]);
        au.extend((0..size).map(|i| (i % 200 + 1) as u8));
        au
    }

    fn adts_frame(payload_len: usize, fill: u8) -> Vec<u8> {
        let len = payload_len + 7;
        let mut f = vec![
            0xff,
            0xf1,
            0x4c,
            0x80 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) << 5) as u8 | 0x1f,
            0xfc,
        ];
        f.extend(std::iter::repeat_n(fill, payload_len));
        f
    }

    #[test]
    fn demuxes_synthetic_stream_and_unwraps_timestamps() {
        let mut m = Mux::default();
        m.tables(&[(0x1b, VIDEO_PID), (0x0f, AUDIO_PID), (0x15, 0x102)]);
        // DTS crosses the 2^33 wrap between the second and third access unit.
        let start = WRAP as u64 - 6000;
        let mut want_dts = Vec::new();
        for i in 0..6u64 {
            let dts = (start + i * 3000) % WRAP as u64;
            let pts = (dts + 3000) % WRAP as u64;
            want_dts.push(start as i64 + i as i64 * 3000);
            // Large access units span many packets; unsized PES as real muxers write.
            m.pes(
                VIDEO_PID,
                Some(pts),
                Some(dts),
                &access_unit(i % 3 == 0, 700),
                false,
            );
            // Two ADTS frames per PES, the second split over this and the next PES.
            if i < 5 {
                let a = adts_frame(150, i as u8);
                let b = adts_frame(160, 100 + i as u8);
                let mut payload = a.clone();
                payload.extend_from_slice(&b);
                m.pes(
                    AUDIO_PID,
                    Some((start + i * 3840) % WRAP as u64),
                    None,
                    &payload,
                    true,
                );
            }
        }
        let seg = demux_ts(&m.out).unwrap();
        assert_eq!(seg.errors, 0);
        assert_eq!(seg.other_streams, vec![(0x102, 0x15)]);
        let v = seg.video.as_ref().unwrap();
        assert_eq!(
            v.samples.iter().map(|s| s.dts).collect::<Vec<_>>(),
            want_dts
        );
        assert!(v
            .samples
            .iter()
            .all(|s| s.pts == s.dts + 3000 && s.duration == 3000));
        assert_eq!(
            v.samples.iter().map(|s| s.sync).collect::<Vec<_>>(),
            vec![true, false, false, true, false, false]
        );
        // AUD, SPS and PPS stripped: one 4-byte length + slice.
        assert_eq!(v.sample_data(0).unwrap().len(), 4 + 1 + 700);
        assert_eq!(&v.sample_data(1).unwrap()[..5], &[0, 0, 2, 189, 0x41]);
        assert_eq!(v.codec.as_ref().unwrap().codec, "avc1.64000d");

        let a = seg.audio.as_ref().unwrap();
        assert_eq!(a.samples.len(), 10);
        let pts: Vec<i64> = a.samples.iter().map(|s| s.pts).collect();
        let want: Vec<i64> = (0..10).map(|k| start as i64 + k * 1920).collect();
        assert_eq!(pts, want, "continuous across the wrap");
        assert!(a.samples.iter().all(|s| s.duration == 1920));
        assert_eq!(a.sample_data(1).unwrap(), &[100u8; 160][..]);
        assert_eq!(
            a.codec.as_ref().unwrap().description.as_deref(),
            Some(&[0x11, 0x90][..])
        );

        // With a reference from the previous segment past the wrap, values stay above 2^33.
        let later = demux_ts_with(
            &m.out,
            &TsOptions {
                timestamp_reference: Some(WRAP + 100),
            },
        )
        .unwrap();
        let first = later.video.unwrap().samples[0].dts;
        assert_eq!(first, start as i64, "nearest to the reference");
    }

    #[test]
    fn tables_after_the_first_pes_packets() {
        // As GStreamer's hlssink2 writes segments: the keyframe's PES, then PAT and PMT.
        let mut m = Mux::default();
        m.pes(
            VIDEO_PID,
            Some(3000),
            Some(0),
            &access_unit(true, 500),
            false,
        );
        m.pes(AUDIO_PID, Some(0), None, &adts_frame(100, 1), true);
        m.tables(&[(0x1b, VIDEO_PID), (0x0f, AUDIO_PID)]);
        m.pes(
            VIDEO_PID,
            Some(6000),
            Some(3000),
            &access_unit(false, 300),
            false,
        );
        let seg = demux_ts(&m.out).unwrap();
        let v = seg.video.unwrap();
        assert_eq!(v.samples.len(), 2);
        assert!(v.samples[0].sync);
        assert_eq!((v.samples[0].dts, v.samples[1].dts), (0, 3000));
        assert!(v.codec.unwrap().codec.starts_with("avc1."));
        assert_eq!(seg.audio.unwrap().samples.len(), 1);
        assert_eq!(seg.errors, 0);
        assert_eq!(seg.packets as usize, m.out.len() / PACKET);
    }

    #[test]
    fn split_adts_frames_join_across_pes_packets() {
        let mut m = Mux::default();
        m.tables(&[(0x0f, AUDIO_PID)]);
        let frames: Vec<Vec<u8>> = (0..5).map(|i| adts_frame(100 + i * 10, i as u8)).collect();
        let all: Vec<u8> = frames.concat();
        // Cut in the middle of frame 1's header and in the middle of frame 3's payload; the
        // PTS of a PES is that of the first frame starting in it.
        let cut1 = frames[0].len() + 3;
        let cut2 = frames[..3].iter().map(Vec::len).sum::<usize>() + 50;
        m.pes(AUDIO_PID, Some(90_000), None, &all[..cut1], true);
        m.pes(
            AUDIO_PID,
            Some(90_000 + 2 * 1920),
            None,
            &all[cut1..cut2],
            true,
        );
        m.pes(AUDIO_PID, None, None, &all[cut2..], true);
        let seg = demux_ts(&m.out).unwrap();
        assert!(seg.video.is_none());
        let a = seg.audio.unwrap();
        let pts: Vec<i64> = a.samples.iter().map(|s| s.pts).collect();
        assert_eq!(pts, (0..5).map(|k| 90_000 + k * 1920).collect::<Vec<_>>());
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(a.sample_data(i).unwrap(), &f[7..], "frame {i}");
        }
        assert!(!seg.truncated);
    }

    #[test]
    fn duplicates_gaps_and_damage() {
        let mut m = Mux::default();
        m.tables(&[(0x1b, VIDEO_PID)]);
        for i in 0..4u64 {
            m.pes(
                VIDEO_PID,
                Some(i * 3000),
                None,
                &access_unit(i == 0, 300),
                false,
            );
        }
        let clean = demux_ts(&m.out).unwrap();
        assert_eq!(clean.video.as_ref().unwrap().samples.len(), 4);
        // A duplicated packet (same continuity counter) is dropped.
        let mut dup = m.out.clone();
        let p = m.out[188 * 3..188 * 4].to_vec();
        dup.splice(188 * 4..188 * 4, p);
        let seg = demux_ts(&dup).unwrap();
        assert_eq!(seg.errors, 0);
        assert_eq!(seg.video, clean.video);
        // A lost packet (inside the first PES) is counted.
        assert_eq!(m.out[188 * 3 + 1] & 0x40, 0, "not a PES start");
        let mut lost = m.out.clone();
        lost.drain(188 * 3..188 * 4);
        let seg = demux_ts(&lost).unwrap();
        assert_eq!(seg.errors, 1);
        assert_eq!(seg.video.as_ref().unwrap().samples.len(), 4);
        // A broken PAT CRC: no program.
        let mut bad = m.out.clone();
        bad[187] ^= 0xff; // the PAT section (and its CRC) ends the first packet
        assert!(matches!(
            demux_ts(&bad).unwrap_err().kind,
            ErrorKind::Missing { .. }
        ));
        // A program with only unsupported streams.
        let mut other = Mux::default();
        other.tables(&[(0x03, 0x200)]);
        let e = demux_ts(&other.out).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Unsupported { .. }), "{e}");
        // M2TS: 4-byte timestamps before each packet.
        let m2ts: Vec<u8> = m
            .out
            .chunks(188)
            .flat_map(|p| [0, 0, 0, 0].iter().chain(p).copied().collect::<Vec<_>>())
            .collect();
        let seg = demux_ts(&m2ts).unwrap();
        assert_eq!(seg.video, clean.video);
        assert!(looks_like_ts(&m.out) && !looks_like_ts(&m2ts[1..]));
    }

    #[test]
    fn never_panics_on_corruptions() {
        let mut m = Mux::default();
        m.tables(&[(0x1b, VIDEO_PID), (0x0f, AUDIO_PID)]);
        for i in 0..3u64 {
            m.pes(
                VIDEO_PID,
                Some(i * 3000),
                Some(i * 3000),
                &access_unit(i == 0, 400),
                false,
            );
            m.pes(AUDIO_PID, Some(i * 3000), None, &adts_frame(90, 1), true);
        }
        let valid = m.out;
        for n in 0..valid.len() {
            let _ = demux_ts(&valid[..n]);
        }
        let mut x = 0x2545_f491u32;
        for _ in 0..2000 {
            let mut b = valid.clone();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let at = x as usize % b.len();
                b[at] = (x >> 24) as u8;
            }
            if let Ok(seg) = demux_ts(&b) {
                let out =
                    seg.video.map_or(0, |v| v.data.len()) + seg.audio.map_or(0, |a| a.data.len());
                assert!(out <= b.len() * 5 / 4);
            }
        }
    }
}
