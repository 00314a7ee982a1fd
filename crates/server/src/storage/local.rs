//! Local files under one root directory. Every open resolves symlinks and checks that the
//! real path is still under the root (and, on Linux, that the opened descriptor is), so a
//! symlink that leaves the root is refused rather than followed. Opens run on the async
//! worker (metadata only, as nginx does); data reads follow `Object::read_cached`.

use super::{ByteStream, Entry, Listed, Object, ReadAtStream, Storage};
use crate::path::SafePath;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashSet;
use std::fmt::Write;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Deepest directory nesting a listing descends into.
const MAX_DEPTH: usize = 32;

/// Files under `root`.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
    /// The root directory, open (for `openat2` relative to it).
    root_dir: Arc<File>,
}

impl LocalStorage {
    /// Serves `root`, which must exist; it is canonicalised once here.
    pub fn new(root: &Path) -> io::Result<Self> {
        let root = std::fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        let root_dir = Arc::new(File::open(&root)?);
        Ok(LocalStorage { root, root_dir })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn contained(&self, real: &Path) -> io::Result<()> {
        if real.starts_with(&self.root) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "path leaves the served directory",
            ))
        }
    }

    fn walk(
        &self,
        dir: &Path,
        rel: &str,
        depth: usize,
        seen: &mut HashSet<PathBuf>,
        out: &mut Vec<Listed>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue; // not UTF-8: not addressable by URL
            };
            if SafePath::from_segments([name]).is_err() {
                continue; // hidden or odd names are not served
            }
            let Ok(real) = std::fs::canonicalize(entry.path()) else {
                continue;
            };
            if self.contained(&real).is_err() {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&real) else {
                continue;
            };
            let rel_path = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            if meta.is_dir() {
                if seen.insert(real.clone()) {
                    self.walk(&real, &rel_path, depth + 1, seen, out);
                }
            } else if meta.is_file() {
                out.push(Listed {
                    path: rel_path,
                    len: meta.len(),
                    modified: meta.modified().unwrap_or(UNIX_EPOCH),
                });
            }
        }
    }
}

impl Storage for LocalStorage {
    fn open<'a>(&'a self, path: &'a SafePath) -> BoxFuture<'a, io::Result<Entry>> {
        Box::pin(std::future::ready(self.open_now(path)))
    }

    fn list(&self) -> BoxFuture<'_, io::Result<Vec<Listed>>> {
        let this = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.list_now())
                .await
                .map_err(io::Error::other)?
        })
    }
}

impl LocalStorage {
    /// Opens `path` now (metadata system calls only). On Linux one `openat2` with
    /// `RESOLVE_BENEATH` resolves the path and refuses any escape from the root; where that
    /// is unavailable or refuses (an escape, or an absolute symlink that may still point
    /// inside), the path is canonicalised and checked instead.
    pub fn open_now(&self, path: &SafePath) -> io::Result<Entry> {
        let relative: PathBuf = path.segments().iter().collect();
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{openat2, Mode, OFlags, ResolveFlags};
            use rustix::io::Errno;
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
            match openat2(&*self.root_dir, &relative, flags, Mode::empty(), resolve) {
                Ok(fd) => return self.entry(File::from(fd), self.root.join(&relative)),
                Err(Errno::XDEV | Errno::LOOP | Errno::NOSYS | Errno::PERM | Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.open_canonical(&relative)
    }

    /// Opens by canonicalising the path and checking it (and, on Linux, the descriptor).
    fn open_canonical(&self, relative: &Path) -> io::Result<Entry> {
        let real = std::fs::canonicalize(self.root.join(relative))?;
        self.contained(&real)?;
        // Check the type before opening: opening a FIFO would block.
        let meta = std::fs::metadata(&real)?;
        if meta.is_dir() {
            return Ok(Entry::Directory);
        }
        if !meta.is_file() {
            return Err(not_regular());
        }
        let file = File::open(&real)?;
        #[cfg(target_os = "linux")]
        {
            // The path could have been swapped for a symlink between the checks and the
            // open; what the descriptor really names settles it.
            use std::os::fd::AsRawFd;
            let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
            self.contained(&opened)?;
        }
        self.entry(file, real)
    }

    /// The entry for an opened descriptor.
    fn entry(&self, file: File, path: PathBuf) -> io::Result<Entry> {
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Ok(Entry::Directory);
        }
        if !meta.is_file() {
            return Err(not_regular());
        }
        Ok(Entry::File(Arc::new(LocalFile {
            file,
            path,
            len: meta.len(),
            modified: meta.modified().unwrap_or(UNIX_EPOCH),
        })))
    }

    /// Walks the tree (blocking).
    pub fn list_now(&self) -> io::Result<Vec<Listed>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        seen.insert(self.root.clone());
        self.walk(&self.root.clone(), "", 0, &mut seen, &mut out);
        Ok(out)
    }
}

fn not_regular() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, "not a regular file")
}

/// An open local file; length and mtime as of the open.
pub struct LocalFile {
    file: File,
    path: PathBuf,
    len: u64,
    modified: SystemTime,
}

impl LocalFile {
    /// Opens a file outside any served tree (thumbnails in the cache directory).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        Ok(LocalFile {
            file,
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().unwrap_or(UNIX_EPOCH),
        })
    }
}

impl Object for LocalFile {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> SystemTime {
        self.modified
    }
    fn version(&self) -> String {
        let nanos = self
            .modified
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut version = String::with_capacity(48);
        let _ = write!(version, "{:x}-{:x}", self.len, nanos);
        version
    }
    fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, offset)?;
        Ok(Bytes::from(buf))
    }
    #[cfg(target_os = "linux")]
    fn read_cached(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        use rustix::io::{preadv2, Errno, ReadWriteFlags};
        let mut buf = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let mut slices = [io::IoSliceMut::new(&mut buf[filled..])];
            match preadv2(
                &self.file,
                &mut slices,
                offset + filled as u64,
                ReadWriteFlags::NOWAIT,
            ) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(Errno::INTR) => continue,
                // Not in memory (AGAIN), or no RWF_NOWAIT here: read on the blocking pool.
                Err(Errno::AGAIN | Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => break,
                Err(e) => return Some(Err(e.into())),
            }
        }
        if filled == 0 {
            return None;
        }
        buf.truncate(filled);
        Some(Ok(Bytes::from(buf)))
    }
    fn file_extent(&self) -> Option<(&File, u64)> {
        Some((&self.file, 0))
    }
    fn ffmpeg_input(&self) -> Option<String> {
        self.path.to_str().map(|p| format!("file:{p}"))
    }
    fn read_range(self: Arc<Self>, range: Range<u64>) -> ByteStream {
        Box::pin(ReadAtStream::new(self, range))
    }
}
