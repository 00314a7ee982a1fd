//! Member indexes of uncompressed `.tar` and `.zip` files, so that `pack.tar/clips/a.mp4` can
//! be served from its offset inside the archive. Each index is read once per archive version
//! (size + mtime), by one reader even under concurrent requests, and kept in memory.

use crate::path::SafePath;
use crate::storage::Object;
use bytes::Buf;
use std::collections::HashMap;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Most members indexed per archive (bounds memory for hostile archives).
pub const MAX_MEMBERS: usize = 200_000;
/// Most archive indexes kept; past it the cache starts over.
const MAX_CACHED: usize = 256;

/// Archive formats browsable like folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// POSIX/GNU tar, uncompressed.
    Tar,
    /// Zip; only stored (uncompressed) members can be served.
    Zip,
}

/// The archive kind of a file name, by extension.
pub fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tar") {
        Some(Kind::Tar)
    } else if lower.ends_with(".zip") {
        Some(Kind::Zip)
    } else {
        None
    }
}

/// Where one member's bytes lie in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Offset of the first data byte.
    pub offset: u64,
    /// Length of the data.
    pub len: u64,
    /// False for compressed or encrypted zip members (listed, but not servable).
    pub stored: bool,
}

/// The members of one archive by normalised path (`clips/a.mp4`).
#[derive(Debug, Default)]
pub struct ArchiveIndex {
    members: HashMap<String, Member>,
}

impl ArchiveIndex {
    /// Reads the member table of `archive` (blocking).
    pub fn read(archive: Arc<dyn Object>, kind: Kind) -> io::Result<Self> {
        let reader = BufReader::with_capacity(64 * 1024, ObjectReader::new(archive.clone()));
        let mut index = ArchiveIndex::default();
        match kind {
            Kind::Tar => index.read_tar(reader)?,
            Kind::Zip => index.read_zip(reader)?,
        }
        index.members.retain(|_, m| {
            m.offset
                .checked_add(m.len)
                .is_some_and(|end| end <= archive.len())
        });
        Ok(index)
    }

    fn insert(&mut self, name: &str, member: Member) -> io::Result<()> {
        if self.members.len() >= MAX_MEMBERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "archive has too many members",
            ));
        }
        if let Some(path) = normalise(name) {
            self.members.insert(path, member);
        }
        Ok(())
    }

    fn read_tar<R: Read + Seek>(&mut self, reader: R) -> io::Result<()> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry.path()?;
            let Some(name) = path.to_str() else { continue };
            let member = Member {
                offset: entry.raw_file_position(),
                len: entry.size(),
                stored: true,
            };
            let name = name.to_string();
            self.insert(&name, member)?;
        }
        Ok(())
    }

    fn read_zip<R: Read + Seek>(&mut self, reader: R) -> io::Result<()> {
        let mut archive = zip::ZipArchive::new(reader).map_err(zip_error)?;
        for i in 0..archive.len() {
            let file = archive.by_index_raw(i).map_err(zip_error)?;
            if file.is_dir() {
                continue;
            }
            let Some(offset) = file.data_start() else {
                continue;
            };
            let stored = file.compression() == zip::CompressionMethod::Stored
                && !file.encrypted()
                && file.compressed_size() == file.size();
            let member = Member {
                offset,
                len: file.compressed_size(),
                stored,
            };
            let name = file.name().to_string();
            drop(file);
            self.insert(&name, member)?;
        }
        Ok(())
    }

    /// The member at a normalised path.
    pub fn get(&self, path: &str) -> Option<Member> {
        self.members.get(path).copied()
    }

    /// Every member.
    pub fn members(&self) -> impl Iterator<Item = (&str, Member)> {
        self.members.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the archive has no servable members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// `./clips//a.mp4` → `clips/a.mp4`; names with `..`, hidden segments, backslashes or
/// absolute paths are dropped (they could not be requested safely anyway).
fn normalise(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let segments = name.split('/').filter(|s| !s.is_empty() && *s != ".");
    SafePath::from_segments(segments).ok().map(|p| p.joined())
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// `Read + Seek` over an [`Object`]'s positioned reads, for the tar and zip readers.
struct ObjectReader {
    object: Arc<dyn Object>,
    pos: u64,
}

impl ObjectReader {
    fn new(object: Arc<dyn Object>) -> Self {
        ObjectReader { object, pos: 0 }
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.object.len().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(remaining) as usize;
        if n == 0 {
            return Ok(0);
        }
        let mut bytes = self.object.read_at(self.pos, n)?;
        let got = bytes.len().min(n);
        bytes.copy_to_slice(&mut buf[..got]);
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for ObjectReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.object.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(t) => {
                self.pos = t;
                Ok(t)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start",
            )),
        }
    }
}

type Slot = Arc<OnceCell<Result<Arc<ArchiveIndex>, String>>>;

/// Archive indexes by (path, version), each built once.
#[derive(Default)]
pub struct ArchiveCache {
    slots: Mutex<HashMap<String, Slot>>,
    builds: AtomicU64,
}

impl ArchiveCache {
    /// The index of the archive at `path` (relative path, for the cache key) whose bytes are
    /// `object`. Concurrent callers share one read.
    pub async fn index(
        &self,
        path: &str,
        object: Arc<dyn Object>,
        kind: Kind,
    ) -> Result<Arc<ArchiveIndex>, String> {
        let key = format!("{path}\0{}", object.version());
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.len() >= MAX_CACHED && !slots.contains_key(&key) {
                slots.clear();
            }
            slots.entry(key).or_default().clone()
        };
        slot.get_or_init(|| async {
            self.builds.fetch_add(1, Ordering::Relaxed);
            let path = path.to_string();
            match tokio::task::spawn_blocking(move || ArchiveIndex::read(object, kind)).await {
                Ok(Ok(index)) => Ok(Arc::new(index)),
                Ok(Err(e)) => {
                    tracing::warn!("cannot index archive {path}: {e}");
                    Err(format!("cannot read archive: {e}"))
                }
                Err(e) => Err(format!("archive indexing failed: {e}")),
            }
        })
        .await
        .clone()
    }

    /// How many indexes have been built (a metric; tests check "read once").
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of("a/PACK.TAR"), Some(Kind::Tar));
        assert_eq!(kind_of("x.zip"), Some(Kind::Zip));
        assert_eq!(kind_of("x.tar.gz"), None);
    }

    #[test]
    fn normalises_member_names() {
        assert_eq!(normalise("./clips//a.mp4").as_deref(), Some("clips/a.mp4"));
        assert_eq!(normalise("clips/../../etc/passwd"), None);
        assert_eq!(normalise("/abs.mp4"), None);
        assert_eq!(normalise(".hidden/a.mp4"), None);
        assert_eq!(normalise("a\\b.mp4"), None);
    }
}
