//! Finished segments on disk: `{root}/{version}/init.mp4` and `seg-{n}.m4s`, written
//! atomically (temp file + rename) and kept under a byte budget, least recently used out
//! first. The index is rebuilt from the directory at start (modification time as recency).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

struct Entry {
    size: u64,
    used: u64,
}

#[derive(Default)]
struct Index {
    files: HashMap<PathBuf, Entry>,
    bytes: u64,
    tick: u64,
    /// Media segments per version directory.
    segments: HashMap<String, usize>,
}

/// Counters of the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Files held.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Files removed to stay under the budget.
    pub evictions: u64,
    /// Requests answered from the cache.
    pub hits: u64,
}

/// The segment cache.
pub struct DiskCache {
    root: PathBuf,
    budget: u64,
    index: Mutex<Index>,
    evictions: AtomicU64,
    hits: AtomicU64,
}

fn version_of(path: &Path) -> Option<String> {
    path.parent()?.file_name()?.to_str().map(str::to_string)
}

fn is_segment(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("seg-") && n.ends_with(".m4s"))
}

impl DiskCache {
    /// The cache under `root`, holding at most `budget` bytes. Scans what earlier runs left
    /// (and removes their unfinished temp files).
    pub fn open(root: PathBuf, budget: u64) -> Self {
        let mut found: Vec<(SystemTime, PathBuf, u64)> = Vec::new();
        for dir in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if !dir.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            for f in std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let path = f.path();
                let name = f.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                if let Ok(meta) = f.metadata() {
                    if meta.is_file() {
                        let at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                        found.push((at, path, meta.len()));
                    }
                }
            }
        }
        found.sort();
        let cache = DiskCache {
            root,
            budget: budget.max(1),
            index: Mutex::new(Index::default()),
            evictions: AtomicU64::new(0),
            hits: AtomicU64::new(0),
        };
        {
            let mut index = cache.lock();
            for (_, path, size) in found {
                Self::add(&mut index, path, size);
            }
        }
        cache.evict(None);
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(index: &mut Index, path: PathBuf, size: u64) {
        index.tick += 1;
        let used = index.tick;
        let segment = is_segment(&path);
        let version = version_of(&path);
        if let Some(old) = index.files.insert(path, Entry { size, used }) {
            index.bytes = index.bytes.saturating_sub(old.size);
        } else if segment {
            if let Some(v) = version {
                *index.segments.entry(v).or_insert(0) += 1;
            }
        }
        index.bytes += size;
    }

    /// Where a file of `version` lives.
    pub fn path(&self, version: &str, name: &str) -> PathBuf {
        self.root.join(version).join(name)
    }

    /// Whether `path` is cached (it counts as a use). A file another instance wrote into the
    /// shared directory is adopted.
    pub fn lookup(&self, path: &Path) -> bool {
        {
            let mut index = self.lock();
            index.tick += 1;
            let tick = index.tick;
            if let Some(e) = index.files.get_mut(path) {
                e.used = tick;
                drop(index);
                if path.is_file() {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                self.forget(path);
                return false;
            }
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                Self::add(&mut self.lock(), path.to_path_buf(), m.len());
                self.hits.fetch_add(1, Ordering::Relaxed);
                self.evict(Some(path));
                true
            }
            _ => false,
        }
    }

    fn forget(&self, path: &Path) {
        let mut index = self.lock();
        if let Some(e) = index.files.remove(path) {
            index.bytes = index.bytes.saturating_sub(e.size);
            if is_segment(path) {
                if let Some(n) = version_of(path).and_then(|v| index.segments.get_mut(&v)) {
                    *n = n.saturating_sub(1);
                }
            }
        }
    }

    /// Writes `bytes` to `path` atomically (blocking) and evicts others if over budget.
    pub fn insert(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = path
            .parent()
            .ok_or_else(|| io::Error::other("cache path without a directory"))?;
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Self::add(&mut self.lock(), path.to_path_buf(), bytes.len() as u64);
        self.evict(Some(path));
        Ok(())
    }

    /// Removes least recently used files (never `keep`) until under budget.
    fn evict(&self, keep: Option<&Path>) {
        loop {
            let victim = {
                let index = self.lock();
                if index.bytes <= self.budget {
                    return;
                }
                index
                    .files
                    .iter()
                    .filter(|(p, _)| Some(p.as_path()) != keep)
                    .min_by_key(|(_, e)| e.used)
                    .map(|(p, _)| p.clone())
            };
            let Some(victim) = victim else { return };
            let _ = std::fs::remove_file(&victim);
            self.forget(&victim);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Media segments cached for `version`.
    pub fn segments(&self, version: &str) -> usize {
        self.lock().segments.get(version).copied().unwrap_or(0)
    }

    /// Counters.
    pub fn stats(&self) -> DiskStats {
        let index = self.lock();
        DiskStats {
            files: index.files.len(),
            bytes: index.bytes,
            evictions: self.evictions.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_budget_least_recently_used_first() {
        let root = std::env::temp_dir().join(format!("frameseek-tcache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let cache = DiskCache::open(root.clone(), 250);
        for n in 0..3 {
            let p = cache.path("v1", &format!("seg-{n}.m4s"));
            cache.insert(&p, &[0u8; 100]).expect("insert");
        }
        // 300 > 250: seg-0 went.
        assert!(!cache.path("v1", "seg-0.m4s").exists());
        assert_eq!(cache.stats().evictions, 1);
        assert_eq!(cache.segments("v1"), 2);
        // Use seg-1, add seg-3: seg-2 goes.
        assert!(cache.lookup(&cache.path("v1", "seg-1.m4s")));
        cache
            .insert(&cache.path("v1", "seg-3.m4s"), &[0u8; 100])
            .expect("insert");
        assert!(cache.path("v1", "seg-1.m4s").exists());
        assert!(!cache.path("v1", "seg-2.m4s").exists());
        // A restart finds what is there.
        let again = DiskCache::open(root.clone(), 250);
        assert_eq!(again.stats().files, 2);
        assert_eq!(again.segments("v1"), 2);
        let _ = std::fs::remove_dir_all(&root);
    }
}
