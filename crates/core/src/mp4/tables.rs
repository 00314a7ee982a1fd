//! Sample tables in decode order, expanded from `stbl` (stts, ctts, stss, stsc, stsz/stz2,
//! stco/co64) or appended from movie fragments. Every count is bounded by the bytes present.

use super::cursor::Cursor;
use crate::error::{Error, Result};
use crate::text;

/// Decode-order samples of one track, as struct-of-arrays.
#[derive(Debug, Clone, Default)]
pub struct SampleTable {
    /// File offset of each sample.
    pub offset: Vec<u64>,
    /// Size in bytes.
    pub size: Vec<u32>,
    /// Decode timestamp in media timescale.
    pub dts: Vec<i64>,
    /// Duration in media timescale.
    pub duration: Vec<u32>,
    /// Composition offset (cts - dts).
    pub cto: Vec<i32>,
    /// Sync (random access) sample.
    pub sync: Vec<bool>,
}

impl SampleTable {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.size.len()
    }

    /// Appends one sample.
    pub fn push(&mut self, offset: u64, size: u32, dts: i64, duration: u32, cto: i32, sync: bool) {
        self.offset.push(offset);
        self.size.push(size);
        self.dts.push(dts);
        self.duration.push(duration);
        self.cto.push(cto);
        self.sync.push(sync);
    }

    /// Decode time just past the last sample.
    pub fn end_dts(&self) -> i64 {
        match (self.dts.last(), self.duration.last()) {
            (Some(&d), Some(&u)) => d.saturating_add(i64::from(u)),
            _ => 0,
        }
    }
}

/// The raw `stbl` child payloads of one track, each with its file offset.
#[derive(Debug, Default, Clone, Copy)]
pub struct StblBoxes<'a> {
    /// time-to-sample
    pub stts: Option<(&'a [u8], u64)>,
    /// composition offsets
    pub ctts: Option<(&'a [u8], u64)>,
    /// sync samples
    pub stss: Option<(&'a [u8], u64)>,
    /// sample-to-chunk
    pub stsc: Option<(&'a [u8], u64)>,
    /// sample sizes
    pub stsz: Option<(&'a [u8], u64)>,
    /// compact sample sizes
    pub stz2: Option<(&'a [u8], u64)>,
    /// 32-bit chunk offsets
    pub stco: Option<(&'a [u8], u64)>,
    /// 64-bit chunk offsets
    pub co64: Option<(&'a [u8], u64)>,
}

// The entry reads below follow Cursor::count, which checked that the entries are all there
// (and that nothing before them ran short), so they cannot fall short themselves.

/// Expands a track's sample tables. `file_size` bounds counts that the tables themselves do
/// not (a constant sample size with a huge count).
pub fn expand(b: &StblBoxes<'_>, file_size: u64, stbl_offset: u64) -> Result<SampleTable> {
    let sizes = read_sizes(b, file_size, stbl_offset)?;
    let n = sizes.len();
    let mut t = SampleTable {
        offset: Vec::with_capacity(n),
        size: Vec::with_capacity(n),
        dts: Vec::with_capacity(n),
        duration: Vec::with_capacity(n),
        cto: Vec::with_capacity(n),
        sync: Vec::with_capacity(n),
    };
    if n == 0 {
        return Ok(t);
    }
    // Offsets from stsc + stco/co64.
    let chunks = read_chunk_offsets(b, stbl_offset)?;
    let (stsc, stsc_at) = b.stsc.ok_or_else(|| missing("stsc box", stbl_offset))?;
    let mut c = Cursor::new(stsc, stsc_at, "stsc box");
    c.version_flags();
    let entries = c.count(12, "stsc entry count")?;
    let mut runs = Vec::with_capacity(entries);
    for _ in 0..entries {
        let at = c.offset();
        let first_chunk = c.u32();
        let per_chunk = c.u32();
        // Only the first sample description is read (stsd holds one per configuration
        // change, as concatenating tools write): samples that use another would decode wrongly.
        if c.u32() > 1 {
            return Err(Error::unsupported("a second sample description", at));
        }
        runs.push((first_chunk, per_chunk));
    }
    let mut sample = 0usize;
    'chunks: for (ri, &(first, per)) in runs.iter().enumerate() {
        if first == 0 {
            return Err(Error::invalid("stsc box", "first_chunk 0", stsc_at));
        }
        let next_first = runs.get(ri + 1).map(|r| r.0).unwrap_or(u32::MAX);
        let mut chunk = first;
        while chunk < next_first {
            let Some(&chunk_offset) = chunks.get(chunk as usize - 1) else {
                break;
            };
            let mut off = chunk_offset;
            for _ in 0..per {
                if sample >= n {
                    break 'chunks;
                }
                t.offset.push(off);
                off = off.saturating_add(u64::from(sizes[sample]));
                sample += 1;
            }
            chunk += 1;
        }
    }
    if t.offset.len() < n {
        return Err(Error::invalid(
            "sample tables",
            text!["stsc/stco place ", t.offset.len(), " of ", n, " samples"],
            stsc_at,
        ));
    }
    t.size = sizes;
    // Decode times from stts.
    let (stts, stts_at) = b.stts.ok_or_else(|| missing("stts box", stbl_offset))?;
    let mut c = Cursor::new(stts, stts_at, "stts box");
    c.version_flags();
    let entries = c.count(8, "stts entry count")?;
    let mut dts = 0i64;
    let mut last_delta = 0u32;
    for _ in 0..entries {
        let count = c.u32();
        let delta = c.u32();
        last_delta = delta;
        for _ in 0..count {
            if t.dts.len() >= n {
                break;
            }
            t.dts.push(dts);
            t.duration.push(delta);
            dts = dts.saturating_add(i64::from(delta));
        }
    }
    // Samples stts does not cover repeat the last delta (as ffmpeg does).
    while t.dts.len() < n {
        t.dts.push(dts);
        t.duration.push(last_delta);
        dts = dts.saturating_add(i64::from(last_delta));
    }
    // Composition offsets from ctts (version 0 values read as signed, as ffmpeg does).
    if let Some((ctts, at)) = b.ctts {
        let mut c = Cursor::new(ctts, at, "ctts box");
        c.version_flags();
        let entries = c.count(8, "ctts entry count")?;
        for _ in 0..entries {
            let count = c.u32();
            let off = c.i32();
            for _ in 0..count {
                if t.cto.len() >= n {
                    break;
                }
                t.cto.push(off);
            }
        }
    }
    t.cto.resize(n, 0);
    // Sync samples: all when stss is absent.
    match b.stss {
        None => t.sync.resize(n, true),
        Some((stss, at)) => {
            t.sync.resize(n, false);
            let mut c = Cursor::new(stss, at, "stss box");
            c.version_flags();
            let entries = c.count(4, "stss entry count")?;
            for _ in 0..entries {
                let s = c.u32() as usize;
                if s >= 1 && s <= n {
                    t.sync[s - 1] = true;
                }
            }
        }
    }
    Ok(t)
}

fn missing(what: &'static str, at: u64) -> Error {
    Error::new(crate::error::ErrorKind::Missing { what }, at)
}

fn read_sizes(b: &StblBoxes<'_>, file_size: u64, stbl_offset: u64) -> Result<Vec<u32>> {
    if let Some((stsz, at)) = b.stsz {
        let mut c = Cursor::new(stsz, at, "stsz box");
        c.version_flags();
        let constant = c.u32();
        if constant == 0 {
            let n = c.count(4, "stsz sample count")?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(c.u32());
            }
            return Ok(v);
        }
        let count_at = c.offset();
        let count = u64::from(c.u32());
        c.check()?;
        let limit = file_size / u64::from(constant);
        if count > limit {
            return Err(Error::too_large(
                "stsz sample count",
                count,
                limit,
                count_at,
            ));
        }
        return Ok(vec![constant; count as usize]);
    }
    if let Some((stz2, at)) = b.stz2 {
        let mut c = Cursor::new(stz2, at, "stz2 box");
        c.version_flags();
        c.u24();
        let field = c.u8();
        let count_at = c.offset();
        let count = u64::from(c.u32());
        c.check()?;
        let bits = u64::from(field);
        if !matches!(field, 4 | 8 | 16) {
            return Err(Error::invalid("stz2 box", text!["field size ", field], at));
        }
        let limit = (c.remaining() as u64) * 8 / bits;
        if count > limit {
            return Err(Error::too_large(
                "stz2 sample count",
                count,
                limit,
                count_at,
            ));
        }
        let data = c.rest();
        let mut v = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let s = match field {
                4 => {
                    let byte = data[i / 2];
                    u32::from(if i % 2 == 0 { byte >> 4 } else { byte & 15 })
                }
                8 => u32::from(data[i]),
                _ => u32::from(u16::from_be_bytes([data[2 * i], data[2 * i + 1]])),
            };
            v.push(s);
        }
        return Ok(v);
    }
    Err(missing("stsz box", stbl_offset))
}

fn read_chunk_offsets(b: &StblBoxes<'_>, stbl_offset: u64) -> Result<Vec<u64>> {
    let (data, at, wide) = match (b.stco, b.co64) {
        (Some((d, at)), _) => (d, at, false),
        (None, Some((d, at))) => (d, at, true),
        (None, None) => return Err(missing("stco box", stbl_offset)),
    };
    let mut c = Cursor::new(data, at, if wide { "co64 box" } else { "stco box" });
    c.version_flags();
    let n = c.count(if wide { 8 } else { 4 }, "chunk offset count")?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(c.u32_or_u64(wide));
    }
    Ok(v)
}
