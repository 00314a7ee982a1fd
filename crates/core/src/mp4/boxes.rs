//! ISO BMFF box headers (ISO/IEC 14496-12 §4.2): 32-bit, 64-bit (`largesize`) and size-0
//! ("to the end of the enclosing box or file") forms, plus iteration over a parent's children.

use super::cursor::Cursor;
use crate::error::{Error, Result};
use crate::text;
use std::fmt;

/// A four-character box or sample-entry code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCC(pub [u8; 4]);

impl FourCC {
    /// The code as text, with non-printable bytes replaced.
    pub fn as_string(&self) -> String {
        self.0
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '?'
                }
            })
            .collect()
    }
}

impl fmt::Debug for FourCC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl fmt::Display for FourCC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// A parsed box header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// The box type.
    pub kind: FourCC,
    /// File offset of the box's first byte.
    pub offset: u64,
    /// Header length in bytes (8, 16, or 24/32 with a `uuid` extended type).
    pub header_len: u64,
    /// Total box size including the header; `None` when the size field is 0, meaning the box
    /// runs to the end of its parent (or of the file, at top level).
    pub size: Option<u64>,
}

/// The longest box header: size, type, largesize and a 16-byte uuid.
pub const MAX_HEADER_LEN: u64 = 32;

impl BoxHeader {
    /// Parses a header from `data`, which starts at file offset `offset`. Returns `Ok(None)`
    /// when `data` is too short to hold the whole header.
    pub fn parse(data: &[u8], offset: u64) -> Result<Option<Self>> {
        // Every read below is after a check that its bytes are there.
        let mut c = Cursor::new(data, offset, "box header");
        if c.remaining() < 8 {
            return Ok(None);
        }
        let size32 = c.u32();
        let kind = FourCC(c.fourcc());
        let mut header_len = 8;
        let size = match size32 {
            0 => None,
            1 => {
                if c.remaining() < 8 {
                    return Ok(None);
                }
                header_len = 16;
                let large = c.u64();
                if large < 16 {
                    return Err(Error::invalid(
                        "box size",
                        text!["64-bit size ", large, " < 16"],
                        offset,
                    ));
                }
                Some(large)
            }
            s if s < 8 => {
                return Err(Error::invalid(
                    "box size",
                    text!["size ", s, " < 8 for '", kind, "'"],
                    offset,
                ));
            }
            s => Some(u64::from(s)),
        };
        if &kind.0 == b"uuid" {
            if c.remaining() < 16 {
                return Ok(None);
            }
            header_len += 16;
        }
        if let Some(s) = size {
            if s < header_len {
                return Err(Error::invalid(
                    "box size",
                    text!["size ", s, " < header ", header_len],
                    offset,
                ));
            }
        }
        Ok(Some(Self {
            kind,
            offset,
            header_len,
            size,
        }))
    }

    /// File offset just past the box, given where its parent (or the file) ends.
    pub fn end(&self, parent_end: u64) -> u64 {
        match self.size {
            Some(s) => self.offset.saturating_add(s),
            None => parent_end,
        }
    }

    /// File offset of the payload.
    pub fn payload_offset(&self) -> u64 {
        self.offset + self.header_len
    }
}

/// Iterates over the child boxes packed in `data` (a parent's payload at file offset `base`).
/// A child that claims to run past the parent is an error, not a silent truncation.
pub struct Children<'a> {
    data: &'a [u8],
    base: u64,
    pos: usize,
}

impl<'a> Children<'a> {
    /// Children of a payload that starts at file offset `base`.
    pub fn new(data: &'a [u8], base: u64) -> Self {
        Self { data, base, pos: 0 }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(BoxHeader, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let at = self.base + self.pos as u64;
        // Some muxers pad container payloads with a 32-bit zero terminator (QuickTime).
        if rest.len() < 8 {
            self.pos = self.data.len();
            if rest.iter().all(|&b| b == 0) {
                return None;
            }
            return Some(Err(Error::truncated("box header", at)));
        }
        let header = match BoxHeader::parse(rest, at) {
            Ok(Some(h)) => h,
            Ok(None) => {
                self.pos = self.data.len();
                return Some(Err(Error::truncated("box header", at)));
            }
            Err(e) => {
                self.pos = self.data.len();
                return Some(Err(e));
            }
        };
        let len = match header.size {
            None => rest.len() as u64,
            Some(s) => s,
        };
        if len > rest.len() as u64 {
            self.pos = self.data.len();
            return Some(Err(Error::invalid(
                "box size",
                text![
                    "'",
                    header.kind,
                    "' of ",
                    len,
                    " bytes overruns its parent (",
                    rest.len(),
                    " left)"
                ],
                at,
            )));
        }
        let len = len as usize;
        let payload = &rest[header.header_len as usize..len];
        self.pos += len;
        Some(Ok((header, payload)))
    }
}

/// Finds the first child of type `kind` in a parent's payload.
pub fn find_child<'a>(
    data: &'a [u8],
    base: u64,
    kind: &[u8; 4],
) -> Result<Option<(BoxHeader, &'a [u8])>> {
    for child in Children::new(data, base) {
        let (h, p) = child?;
        if &h.kind.0 == kind {
            return Ok(Some((h, p)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_forms() {
        let h = BoxHeader::parse(b"\0\0\0\x10moovxxxxxxxx", 5)
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.kind.0, h.size, h.header_len, h.offset),
            (*b"moov", Some(16), 8, 5)
        );
        let h = BoxHeader::parse(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x20", 0)
            .unwrap()
            .unwrap();
        assert_eq!((h.size, h.header_len), (Some(32), 16));
        let h = BoxHeader::parse(b"\0\0\0\0mdat", 0).unwrap().unwrap();
        assert_eq!(h.size, None);
        assert!(BoxHeader::parse(b"\0\0\0\x04free", 0).is_err());
        assert!(BoxHeader::parse(b"\0\0\0", 0).unwrap().is_none());
    }

    #[test]
    fn children_reject_overruns() {
        let data = b"\0\0\0\x08free\0\0\0\x20skip";
        let kids: Vec<_> = Children::new(data, 0).collect();
        assert!(kids[0].is_ok());
        assert!(kids[1].is_err());
    }
}
