//! A window of another object: how a member stored inside a tar or zip archive is served
//! as if it were its own file (offsets shifted, length bounded, ETag kept distinct).

use super::{ByteStream, Object, ReadAtStream};
use bytes::Bytes;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

/// Bytes `offset..offset + len` of `inner`.
pub struct Slice {
    inner: Arc<dyn Object>,
    offset: u64,
    len: u64,
}

impl Slice {
    /// A window of `inner`; fails if it does not fit inside it.
    pub fn new(inner: Arc<dyn Object>, offset: u64, len: u64) -> io::Result<Self> {
        match offset.checked_add(len) {
            Some(end) if end <= inner.len() => Ok(Slice { inner, offset, len }),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "archive member lies outside the archive",
            )),
        }
    }
}

impl Object for Slice {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> SystemTime {
        self.inner.modified()
    }
    fn version(&self) -> String {
        format!("{}-{:x}", self.inner.version(), self.offset)
    }
    fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the member",
            ));
        }
        self.inner.read_at(self.offset + offset, len)
    }
    fn read_cached(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|end| end > self.len) {
            return Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the member",
            )));
        }
        self.inner.read_cached(self.offset + offset, len)
    }
    fn file_extent(&self) -> Option<(&File, u64)> {
        let (file, start) = self.inner.file_extent()?;
        Some((file, start.checked_add(self.offset)?))
    }
    fn ffmpeg_input(&self) -> Option<String> {
        let path = self.inner.ffmpeg_input()?;
        if path.contains(',') {
            return None; // the subfile option syntax cannot carry this path
        }
        Some(format!(
            "subfile,,start,{},end,{},,:{}",
            self.offset,
            self.offset + self.len,
            path
        ))
    }
    fn read_range(self: Arc<Self>, range: Range<u64>) -> ByteStream {
        Box::pin(ReadAtStream::new(self, range))
    }
}
