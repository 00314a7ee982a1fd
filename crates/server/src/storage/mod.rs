//! Where bytes come from: one small trait for a readable object (length, modification time,
//! positioned reads, ranged streams) and one for a tree of them. Local files implement it now;
//! object storage (ranged GETs) slots in behind the same two traits later.

mod local;
mod slice;
mod stream;

pub use local::{LocalFile, LocalStorage};
pub use slice::Slice;
pub use stream::{ByteStream, ReadAtStream};

use crate::path::SafePath;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

/// Bytes read per chunk of a streamed body (and per positioned read).
pub const CHUNK: usize = 256 * 1024;

/// One readable object: a file, or a member stored inside an archive.
pub trait Object: Send + Sync + 'static {
    /// Length in bytes.
    fn len(&self) -> u64;
    /// Whether the object is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Last modification time.
    fn modified(&self) -> SystemTime;
    /// A token that changes whenever the content may have changed (size, mtime, offset);
    /// the strong ETag and cache keys are built from it.
    fn version(&self) -> String;
    /// Reads exactly `len` bytes at `offset` (blocking: call it from a blocking thread).
    /// Fails with `UnexpectedEof` if the object is shorter than that now.
    fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes>;
    /// Reads up to `len` bytes at `offset` only if that cannot block (the bytes are in
    /// memory, e.g. the page cache): `None` means "use [`Object::read_at`] on a blocking
    /// thread". Safe to call on an async worker.
    fn read_cached(&self, _offset: u64, _len: usize) -> Option<io::Result<Bytes>> {
        None
    }
    /// The open file that holds this object's bytes and the offset in it where they start,
    /// so that the connection layer can send them with sendfile(2) instead of reading them
    /// into memory. `None` (the default) for anything that is not a window of one file.
    fn file_extent(&self) -> Option<(&File, u64)> {
        None
    }
    /// How ffmpeg can open this object: a local path or a `subfile,,...:path` URL.
    fn ffmpeg_input(&self) -> Option<String>;
    /// The bytes in `range` as a stream of chunks (at most [`CHUNK`] each).
    fn read_range(self: Arc<Self>, range: Range<u64>) -> ByteStream;
}

/// What a path names.
pub enum Entry {
    /// A readable object.
    File(Arc<dyn Object>),
    /// A directory (never served as bytes).
    Directory,
}

/// One file found by a listing.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Path relative to the root, segments joined with `/`.
    pub path: String,
    /// Length in bytes.
    pub len: u64,
    /// Last modification time.
    pub modified: SystemTime,
}

/// A tree of objects under one root.
pub trait Storage: Send + Sync + 'static {
    /// Opens what `path` names. Paths that leave the root (through symlinks) fail with
    /// `PermissionDenied`; missing ones with `NotFound`.
    fn open<'a>(&'a self, path: &'a SafePath) -> BoxFuture<'a, io::Result<Entry>>;
    /// Every regular file under the root (hidden names skipped, symlinks that leave the
    /// root skipped), in no particular order.
    fn list(&self) -> BoxFuture<'_, io::Result<Vec<Listed>>>;
}
