//! The per-instance cache of prepared movies, keyed by what identifies the source's bytes
//! (path and the object's version: size, mtime, archive offset). Bounded by entry count and
//! by an estimate of memory, least recently used first out; concurrent misses build once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Cache key: the path under DIR and the object's version token.
pub type Key = (String, String);

/// What a cached value costs in memory (approximate bytes).
pub trait Weigh {
    /// Approximate bytes held.
    fn cost(&self) -> u64;
}

/// Limits of a [`PackageCache`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most movies kept.
    pub entries: usize,
    /// Most estimated bytes kept (one movie larger than this is still kept alone).
    pub bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: 64,
            bytes: 512 << 20,
        }
    }
}

struct Slot<T> {
    cell: Arc<OnceCell<Arc<T>>>,
    used: u64,
    cost: u64,
}

struct Inner<T> {
    slots: HashMap<Key, Slot<T>>,
    tick: u64,
    bytes: u64,
}

/// Prepared movies, least recently used evicted first.
pub struct PackageCache<T> {
    limits: Limits,
    inner: Mutex<Inner<T>>,
}

/// Cache counters for `/metrics`-style reporting and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Movies held.
    pub entries: usize,
    /// Their estimated bytes.
    pub bytes: u64,
}

impl<T: Weigh> PackageCache<T> {
    /// An empty cache.
    pub fn new(limits: Limits) -> Self {
        PackageCache {
            limits,
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                tick: 0,
                bytes: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Current size.
    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            entries: inner.slots.len(),
            bytes: inner.bytes,
        }
    }

    /// The package for `key`, built by `build` on a miss. Callers that miss at the same time
    /// share one build; a failed build is not cached (the next request tries again).
    pub async fn get_or_build<F, Fut>(&self, key: Key, build: F) -> Result<Arc<T>, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let cell = {
            let mut inner = self.lock();
            inner.tick += 1;
            let tick = inner.tick;
            let slot = inner.slots.entry(key.clone()).or_insert_with(|| Slot {
                cell: Arc::new(OnceCell::new()),
                used: tick,
                cost: 0,
            });
            slot.used = tick;
            Arc::clone(&slot.cell)
        };
        if let Some(p) = cell.get() {
            return Ok(Arc::clone(p));
        }
        let mut built = false;
        let result = cell
            .get_or_try_init(|| async {
                built = true;
                build().await.map(Arc::new)
            })
            .await
            .cloned();
        match &result {
            Ok(package) if built => self.admit(&key, &cell, package.cost()),
            Ok(_) => {}
            Err(_) => {
                let mut inner = self.lock();
                if inner
                    .slots
                    .get(&key)
                    .is_some_and(|s| Arc::ptr_eq(&s.cell, &cell) && s.cell.get().is_none())
                {
                    inner.slots.remove(&key);
                }
            }
        }
        result
    }

    /// Records a new package's cost and evicts the least recently used others over budget.
    fn admit(&self, key: &Key, cell: &Arc<OnceCell<Arc<T>>>, cost: u64) {
        let mut inner = self.lock();
        match inner.slots.get_mut(key) {
            Some(slot) if Arc::ptr_eq(&slot.cell, cell) => slot.cost = cost,
            _ => return,
        }
        inner.bytes += cost;
        while inner.slots.len() > self.limits.entries.max(1) || inner.bytes > self.limits.bytes {
            // Oldest finished entry other than the new one (builds in progress stay).
            let victim = inner
                .slots
                .iter()
                .filter(|(k, s)| *k != key && s.cell.get().is_some())
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else { break };
            if let Some(slot) = inner.slots.remove(&victim) {
                inner.bytes = inner.bytes.saturating_sub(slot.cost);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(u64);
    impl Weigh for Blob {
        fn cost(&self) -> u64 {
            self.0
        }
    }

    fn key(n: u32) -> Key {
        (format!("v{n}.mp4"), "1".into())
    }

    #[tokio::test]
    async fn evicts_least_recently_used_by_count_and_bytes() {
        let cache = PackageCache::new(Limits {
            entries: 2,
            bytes: 100,
        });
        for n in 0..2 {
            cache
                .get_or_build(key(n), || async { Ok(Blob(10)) })
                .await
                .expect("built");
        }
        // Touch 0, then add 2: 1 goes.
        cache
            .get_or_build(key(0), || async { Err("rebuilt".into()) })
            .await
            .expect("cached");
        cache
            .get_or_build(key(2), || async { Ok(Blob(10)) })
            .await
            .expect("built");
        assert_eq!(cache.stats().entries, 2);
        assert!(cache
            .get_or_build(key(1), || async { Err("gone".to_string()) })
            .await
            .is_err());
        // A failed build is not kept; one big entry pushes the others out.
        assert_eq!(cache.stats().entries, 2);
        cache
            .get_or_build(key(3), || async { Ok(Blob(95)) })
            .await
            .expect("built");
        assert_eq!(
            cache.stats(),
            CacheStats {
                entries: 1,
                bytes: 95
            }
        );
    }

    #[tokio::test]
    async fn concurrent_misses_build_once() {
        let cache = Arc::new(PackageCache::new(Limits::default()));
        let builds = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let builds = Arc::clone(&builds);
                tokio::spawn(async move {
                    cache
                        .get_or_build(key(7), || async move {
                            builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                            Ok(Blob(1))
                        })
                        .await
                        .map(|b| b.0)
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("join"), Ok(1));
        }
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
