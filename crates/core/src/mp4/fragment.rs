//! Movie fragments (`moof` → `traf` → `tfhd`/`tfdt`/`trun`, ISO/IEC 14496-12 §8.8): appends
//! each fragment's samples to its track, resolving data offsets and defaults from `trex`.

use super::boxes::Children;
use super::cursor::Cursor;
use super::moov::MovieBuilder;
use crate::error::{Error, Result};
use crate::text;

const SAMPLE_IS_NON_SYNC: u32 = 0x0001_0000;
const SAMPLE_DEPENDS_YES: u32 = 0x0100_0000;

/// Appends the samples of one `moof` (payload at `base`, box at `moof_offset`).
pub(crate) fn parse_moof(
    m: &mut MovieBuilder,
    payload: &[u8],
    moof_offset: u64,
    base: u64,
) -> Result<()> {
    for child in Children::new(payload, base) {
        let (h, p) = child?;
        if &h.kind.0 == b"traf" {
            parse_traf(m, p, h.payload_offset(), moof_offset)?;
        }
    }
    Ok(())
}

fn parse_traf(m: &mut MovieBuilder, payload: &[u8], base: u64, moof_offset: u64) -> Result<()> {
    let file_size = m.file_size;
    let mut track = None;
    let mut base_offset = moof_offset;
    let mut desc_duration = 0;
    let mut desc_size = 0;
    let mut desc_flags = 0;
    let mut tfdt = None;
    let mut next_data: Option<u64> = None;
    for child in Children::new(payload, base) {
        let (h, p) = child?;
        let at = h.payload_offset();
        match &h.kind.0 {
            b"tfhd" => {
                let mut c = Cursor::new(p, at, "tfhd box");
                let (_, flags) = c.version_flags();
                let id = c.u32();
                c.check()?;
                let Some(ti) = m.tracks.iter().position(|t| t.id == id) else {
                    return Err(Error::invalid(
                        "tfhd box",
                        text!["unknown track_ID ", id],
                        at,
                    ));
                };
                let trex = m.tracks[ti].trex;
                (desc_duration, desc_size, desc_flags) = (trex.duration, trex.size, trex.flags);
                if flags & 0x1 != 0 {
                    base_offset = c.u64();
                }
                if flags & 0x2 != 0 {
                    c.u32();
                }
                if flags & 0x8 != 0 {
                    desc_duration = c.u32();
                }
                if flags & 0x10 != 0 {
                    desc_size = c.u32();
                }
                if flags & 0x20 != 0 {
                    desc_flags = c.u32();
                }
                c.check()?;
                track = Some(ti);
            }
            b"tfdt" => {
                let mut c = Cursor::new(p, at, "tfdt box");
                let (v, _) = c.version_flags();
                let d = c.u32_or_u64(v == 1);
                c.check()?;
                tfdt = Some(d);
            }
            b"trun" => {
                let Some(ti) = track else {
                    return Err(Error::invalid("traf box", "trun before tfhd", at));
                };
                let t = &mut m.tracks[ti];
                if let Some(d) = tfdt.take() {
                    t.next_dts = i64::try_from(d)
                        .map_err(|_| Error::invalid("tfdt box", "decode time overflows", at))?;
                }
                let mut c = Cursor::new(p, at, "trun box");
                let (_, flags) = c.version_flags();
                let per_sample = 4 * [0x100, 0x200, 0x400, 0x800]
                    .iter()
                    .filter(|&&f| flags & f != 0)
                    .count();
                let count_at = c.offset();
                let count = u64::from(c.u32());
                let data_offset_at = c.offset();
                let mut data_offset = match (flags & 0x1 != 0, next_data) {
                    (true, _) => base_offset
                        .checked_add_signed(i64::from(c.i32()))
                        .ok_or_else(|| {
                            Error::invalid(
                                "trun box",
                                "data offset before file start",
                                data_offset_at,
                            )
                        })?,
                    // A run without an offset continues after the previous run's data.
                    (false, Some(next)) => next,
                    (false, None) => base_offset,
                };
                let first_flags = if flags & 0x4 != 0 {
                    Some(c.u32())
                } else {
                    None
                };
                c.check()?;
                let fits = if flags & 0x200 == 0 {
                    // Samples of the default size must lie inside the file.
                    file_size.saturating_sub(data_offset) / u64::from(desc_size.max(1))
                } else {
                    (c.remaining() / per_sample.max(1)) as u64
                };
                if count > fits {
                    return Err(Error::too_large("trun sample count", count, fits, count_at));
                }
                for i in 0..count {
                    let duration = if flags & 0x100 != 0 {
                        c.u32()
                    } else {
                        desc_duration
                    };
                    let size = if flags & 0x200 != 0 {
                        c.u32()
                    } else {
                        desc_size
                    };
                    let mut sflags = if flags & 0x400 != 0 {
                        c.u32()
                    } else {
                        desc_flags
                    };
                    if i == 0 {
                        if let Some(f) = first_flags {
                            sflags = f;
                        }
                    }
                    let cto = if flags & 0x800 != 0 { c.i32() } else { 0 };
                    c.check()?;
                    let sync = sflags & (SAMPLE_IS_NON_SYNC | SAMPLE_DEPENDS_YES) == 0;
                    t.samples
                        .push(data_offset, size, t.next_dts, duration, cto, sync);
                    data_offset = data_offset.saturating_add(u64::from(size));
                    t.next_dts = t.next_dts.saturating_add(i64::from(duration));
                }
                next_data = Some(data_offset);
            }
            _ => {}
        }
    }
    Ok(())
}
