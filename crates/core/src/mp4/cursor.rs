//! A bounds-checked big-endian reader over a byte slice that knows its absolute file offset,
//! so every error it returns names the byte where the input fell short.
//!
//! Fixed-size reads (`u8` ... `i64`, `fourcc`, `skip`, `version_flags`) do not return a
//! `Result`: one that runs past the end yields zeros and records where, and [`Cursor::check`]
//! turns that into the `Truncated` error the read would have returned. Parsers read a group
//! of fields and then `check()?` before they act on them. (A `?` after every field cost
//! the browser module ~5 KB of error plumbing.) Reads whose result sizes something
//! (`bytes`, `count`) still return a `Result` at once.

use crate::error::{Error, Result};

/// Reads big-endian fields from `data`, which starts at file offset `base`.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    what: &'static str,
    /// File offset of the first read that ran past the end.
    short: Option<u64>,
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, which sits at file offset `base`; `what` names the structure in
    /// errors.
    pub fn new(data: &'a [u8], base: u64, what: &'static str) -> Self {
        Self {
            data,
            pos: 0,
            base,
            what,
            short: None,
        }
    }

    /// Absolute file offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// `Truncated` at the first read that ran past the end, if one did.
    pub fn check(&self) -> Result<()> {
        match self.short {
            Some(at) => Err(Error::truncated(self.what, at)),
            None => Ok(()),
        }
    }

    /// The next `n` bytes (an error at once if fewer are left, or if a read already fell
    /// short).
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        self.check()?;
        match self.take(n) {
            Some(b) => Ok(b),
            None => Err(Error::truncated(self.what, self.offset())),
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.remaining() || self.short.is_some() {
            if self.short.is_none() {
                self.short = Some(self.offset());
            }
            return None;
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Some(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) {
        self.take(n);
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(b) = self.take(N) {
            out.copy_from_slice(b);
        }
        out
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// Big-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }

    /// Big-endian 24-bit unsigned.
    pub fn u24(&mut self) -> u32 {
        let b = self.array::<3>();
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }

    /// Big-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    /// Big-endian i32.
    pub fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.array())
    }

    /// Big-endian u64.
    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }

    /// Big-endian i64.
    pub fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.array())
    }

    /// A four-character code.
    pub fn fourcc(&mut self) -> [u8; 4] {
        self.array()
    }

    /// A full box's version (8 bits) and flags (24 bits).
    pub fn version_flags(&mut self) -> (u8, u32) {
        let v = self.u32();
        ((v >> 24) as u8, v & 0x00ff_ffff)
    }

    /// A u64 when `wide`, else a u32 widened (the version-1/version-0 field pairs).
    pub fn u32_or_u64(&mut self, wide: bool) -> u64 {
        if wide {
            self.u64()
        } else {
            u64::from(self.u32())
        }
    }

    /// A u32 entry count, checked against the bytes left: at most `remaining / entry_size`
    /// entries can be present. Errors if the count itself or an earlier read fell short.
    pub fn count(&mut self, entry_size: usize, what: &'static str) -> Result<usize> {
        let at = self.offset();
        let count = u64::from(self.u32());
        self.check()?;
        let fits = (self.remaining() / entry_size.max(1)) as u64;
        if count > fits {
            return Err(Error::too_large(what, count, fits, at));
        }
        Ok(count as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_reports_offsets() {
        let data = [0, 0, 0, 2, 1, 2, 3, 4, 5];
        let mut c = Cursor::new(&data, 100, "test");
        assert_eq!(c.u32(), 2);
        assert_eq!(c.u24(), 0x010203);
        assert!(c.check().is_ok());
        assert_eq!(c.u32(), 0); // short: zeros, recorded
        assert_eq!(c.u8(), 0); // later reads stay short, the first one is reported
        assert_eq!(c.check().unwrap_err().offset, 107);
        assert_eq!(c.bytes(1).unwrap_err().offset, 107);
    }

    #[test]
    fn count_is_bounded_by_bytes_present() {
        let data = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let mut c = Cursor::new(&data, 0, "test");
        assert!(c.count(4, "entries").is_err());
    }
}
