//! The tree `/media` serves: files under DIR, plus `.tar`/`.zip` files browsable as folders
//! whose members are served from their offsets. Opens paths (refusing escapes) and lists
//! every file, archive members included.

use crate::archive::{self, ArchiveCache, ArchiveIndex};
use crate::path::SafePath;
use crate::storage::{Entry, Listed, Object, Slice, Storage};
use std::io;
use std::sync::Arc;

/// Why a path could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Nothing there (404).
    NotFound,
    /// It leaves the root or is not a regular file (403).
    Forbidden,
    /// A directory (404: directories are not listed).
    Directory,
    /// A compressed or encrypted zip member (415: no byte ranges over compressed data).
    Compressed,
    /// An archive that cannot be read, or an I/O error (500).
    Failed(String),
}

impl OpenError {
    fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => OpenError::NotFound,
            io::ErrorKind::PermissionDenied => OpenError::Forbidden,
            // ENAMETOOLONG, ELOOP (Linux numbers): a path that names nothing servable.
            _ if matches!(e.raw_os_error(), Some(36) | Some(40)) => OpenError::NotFound,
            _ => OpenError::Failed(e.to_string()),
        }
    }
}

/// Files and archive members under one storage root.
pub struct Vfs {
    storage: Arc<dyn Storage>,
    archives: ArchiveCache,
}

impl Vfs {
    /// The tree over `storage`.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Vfs {
            storage,
            archives: ArchiveCache::default(),
        }
    }

    /// The archive index cache (for metrics).
    pub fn archives(&self) -> &ArchiveCache {
        &self.archives
    }

    async fn open_entry(&self, path: &SafePath) -> Result<Entry, OpenError> {
        self.storage.open(path).await.map_err(OpenError::from_io)
    }

    /// Opens a file, or a member of an archive on the path (`pack.tar/clips/a.mp4`).
    pub async fn open(&self, path: &SafePath) -> Result<Arc<dyn Object>, OpenError> {
        let first = match self.open_entry(path).await {
            Ok(Entry::File(object)) => return Ok(object),
            Ok(Entry::Directory) => return Err(OpenError::Directory),
            Err(OpenError::NotFound) => OpenError::NotFound,
            Err(other) => return Err(other),
        };
        // Not a plain file: look for an archive among the parents, nearest first.
        let segments = path.segments();
        for split in (1..segments.len()).rev() {
            let Some(kind) = archive::kind_of(&segments[split - 1]) else {
                continue;
            };
            let Ok(archive_path) = SafePath::from_segments(segments[..split].iter().cloned())
            else {
                continue;
            };
            let object = match self.open_entry(&archive_path).await {
                Ok(Entry::File(object)) => object,
                Ok(Entry::Directory) | Err(OpenError::NotFound) => continue,
                Err(other) => return Err(other),
            };
            let index = self.index(&archive_path, object.clone(), kind).await?;
            let member_path = segments[split..].join("/");
            let Some(member) = index.get(&member_path) else {
                return Err(OpenError::NotFound);
            };
            if !member.stored {
                return Err(OpenError::Compressed);
            }
            let slice = Slice::new(object, member.offset, member.len)
                .map_err(|e| OpenError::Failed(e.to_string()))?;
            return Ok(Arc::new(slice));
        }
        Err(first)
    }

    async fn index(
        &self,
        path: &SafePath,
        object: Arc<dyn Object>,
        kind: archive::Kind,
    ) -> Result<Arc<ArchiveIndex>, OpenError> {
        self.archives
            .index(&path.joined(), object, kind)
            .await
            .map_err(OpenError::Failed)
    }

    /// Every file under the root whose name passes `wanted`, and every stored member of
    /// every archive whose name passes it (as `pack.tar/clips/a.mp4`, with the archive's
    /// modification time).
    pub async fn list(&self, wanted: fn(&str) -> bool) -> io::Result<Vec<Listed>> {
        let files = self.storage.list().await?;
        let mut out = Vec::new();
        for file in files {
            if wanted(&file.path) {
                out.push(file);
                continue;
            }
            let Some(kind) = archive::kind_of(&file.path) else {
                continue;
            };
            let Ok(path) = SafePath::from_segments(file.path.split('/')) else {
                continue;
            };
            let Ok(Entry::File(object)) = self.open_entry(&path).await else {
                continue;
            };
            let Ok(index) = self.index(&path, object, kind).await else {
                continue;
            };
            for (name, member) in index.members() {
                if member.stored && wanted(name) {
                    out.push(Listed {
                        path: format!("{}/{name}", file.path),
                        len: member.len,
                        modified: file.modified,
                    });
                }
            }
        }
        Ok(out)
    }
}
