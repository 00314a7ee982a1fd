//! A bounds-checked big-endian reader over a byte slice that knows its absolute file offset,
//! so every error it returns names the byte where the input fell short.

use crate::error::{Error, Result};

/// Reads big-endian fields from `data`, which starts at file offset `base`.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    what: &'static str,
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

    /// Consumes and returns `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::truncated(self.what, self.offset()));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian 24-bit unsigned integer.
    pub fn u24(&mut self) -> Result<u32> {
        let b = self.array::<3>()?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian i32.
    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian i64.
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// Reads a four-character code.
    pub fn fourcc(&mut self) -> Result<[u8; 4]> {
        self.array()
    }

    /// Reads a full box's version and 24-bit flags.
    pub fn version_flags(&mut self) -> Result<(u8, u32)> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// Reads a u32 when `wide` is false, else a u64.
    pub fn u32_or_u64(&mut self, wide: bool) -> Result<u64> {
        if wide {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }

    /// Reads an entry count and checks that `count * entry_size` bytes are present, so that
    /// a count from the input never sizes an allocation the input cannot fill.
    pub fn count(&mut self, entry_size: usize, what: &'static str) -> Result<usize> {
        let at = self.offset();
        let count = u64::from(self.u32()?);
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
        assert_eq!(c.u32().unwrap(), 2);
        assert_eq!(c.u24().unwrap(), 0x010203);
        let err = c.u32().unwrap_err();
        assert_eq!(err.offset, 107);
    }

    #[test]
    fn count_is_bounded_by_bytes_present() {
        let data = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let mut c = Cursor::new(&data, 0, "test");
        assert!(c.count(4, "entries").is_err());
    }
}
