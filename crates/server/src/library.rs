//! The video library: every MP4/MOV under DIR (and inside its archives) with a stable id,
//! newest first, filtered and paged; metadata read by frameseek-core and cached by
//! (path, size, mtime). Ids are a hash of the path, so every instance agrees on them.

use crate::path::{encode_url_path, SafePath};
use crate::probe::probe_object;
use crate::vfs::{OpenError, Vfs};
use frameseek_core::MediaInfo;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one directory scan is reused.
const SCAN_TTL: Duration = Duration::from_secs(2);
/// How soon an unknown id may trigger a fresh scan.
const MISS_RESCAN_AFTER: Duration = Duration::from_millis(200);
/// Most metadata entries cached; past it the cache starts over.
const MAX_META: usize = 20_000;
/// Files probed at once while building a page.
const PROBE_PARALLELISM: usize = 4;
/// Default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
pub const MAX_LIMIT: usize = 500;

/// File names the library lists.
pub fn is_video(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".mp4", ".m4v", ".mov"].iter().any(|e| lower.ends_with(e))
        || crate::transcode::is_transcode_only(&lower)
}

/// What other parts of the server add to a listing entry (marker counts, transcoding).
#[derive(Debug, Clone, Default)]
pub struct Annotation {
    /// Replaces `urls.hls` (the transcoded rendition for codecs browsers cannot decode).
    pub hls: Option<String>,
    /// `urls.transcoded`: the transcoded rendition, offered whenever one can be made.
    pub transcoded: Option<String>,
    /// `markers`: how many timeline markers the video has.
    pub markers: Option<usize>,
    /// `transcode`: `{ state, percent, ... }`.
    pub transcode: Option<serde_json::Value>,
    /// Fills `container`, `duration`, `width`, `height`, `codec`, `frameCount` and clears
    /// `error` for files core cannot read but ffmpeg can.
    pub fill: Option<Fill>,
}

/// Listing fields known from elsewhere than core (an ffprobe scan).
#[derive(Debug, Clone, Default)]
pub struct Fill {
    /// Container name (the file extension).
    pub container: String,
    /// Seconds, if scanned.
    pub duration: Option<f64>,
    /// Display width, if scanned.
    pub width: Option<u32>,
    /// Display height, if scanned.
    pub height: Option<u32>,
    /// ffmpeg's codec name, if scanned.
    pub codec: Option<String>,
    /// Frames, if scanned.
    pub frame_count: Option<usize>,
}

/// Annotates listing pages (set once by the server state).
pub trait Annotator: Send + Sync {
    /// One annotation per video of a page, in order.
    fn annotate<'a>(
        &'a self,
        videos: &'a [(Arc<Video>, Option<Arc<MediaInfo>>)],
    ) -> futures_util::future::BoxFuture<'a, Vec<Annotation>>;
}

/// One video found by a scan.
#[derive(Debug, Clone)]
pub struct Video {
    /// Stable id (16 hex digits).
    pub id: String,
    /// Path under DIR, `/`-separated (archive members as `pack.tar/clips/a.mp4`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (an archive member has its archive's).
    pub modified: SystemTime,
}

impl Video {
    fn meta_key(&self) -> (String, u64, u128) {
        let nanos = self
            .modified
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        (self.path.clone(), self.size, nanos)
    }

    /// The path as a [`SafePath`].
    pub fn safe_path(&self) -> Option<SafePath> {
        SafePath::from_segments(self.path.split('/')).ok()
    }
}

/// The id of a path: FNV-1a 64 in hex (deterministic across processes and machines).
pub fn id_of(path: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // 16 hex digits written into one allocation (asked for on every /media response).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(16);
    for shift in (0..16).rev() {
        id.push(char::from(HEX[((h >> (shift * 4)) & 0xf) as usize]));
    }
    id
}

struct Scan {
    at: Instant,
    videos: Arc<Vec<Arc<Video>>>,
    by_id: Arc<HashMap<String, Arc<Video>>>,
}

type MetaResult = Result<Arc<MediaInfo>, String>;

/// Scans, id lookup and the metadata cache.
pub struct Library {
    vfs: Arc<Vfs>,
    scan: tokio::sync::Mutex<Option<Scan>>,
    meta: Mutex<HashMap<(String, u64, u128), MetaResult>>,
    annotator: std::sync::OnceLock<Arc<dyn Annotator>>,
}

/// One page of the listing.
#[derive(Serialize)]
pub struct Page {
    /// The videos on this page.
    pub videos: Vec<ListItem>,
    /// Videos matching the filter.
    pub total: usize,
    /// This page (1-based).
    pub page: usize,
    /// Number of pages.
    pub pages: usize,
}

/// One listing entry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListItem {
    id: String,
    path: String,
    size: u64,
    modified: String,
    container: Option<String>,
    duration: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    codec: Option<String>,
    frame_count: Option<usize>,
    urls: Urls,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Timeline markers on the video.
    #[serde(skip_serializing_if = "Option::is_none")]
    markers: Option<usize>,
    /// Transcoding state `{ state, percent, ... }`, for videos with a transcoded rendition.
    #[serde(skip_serializing_if = "Option::is_none")]
    transcode: Option<serde_json::Value>,
}

impl ListItem {
    fn apply(&mut self, a: Annotation) {
        if let Some(hls) = a.hls {
            self.urls.hls = Some(hls);
        }
        self.urls.transcoded = a.transcoded;
        self.markers = a.markers;
        self.transcode = a.transcode;
        if let Some(f) = a.fill {
            self.container = Some(f.container);
            self.duration = f.duration.or(self.duration);
            self.width = f.width.or(self.width);
            self.height = f.height.or(self.height);
            self.codec = f.codec.or(self.codec.take());
            self.frame_count = f.frame_count.or(self.frame_count);
            self.error = None;
        }
    }
}

/// Where to fetch a video's bytes, stream and picture.
#[derive(Serialize)]
pub struct Urls {
    media: String,
    /// The HLS master playlist (`/hls/{id}/master.m3u8`), for videos core can read.
    hls: Option<String>,
    thumbnail: String,
    /// The transcoded (H.264/AAC) HLS rendition, when one can be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    transcoded: Option<String>,
}

impl Library {
    /// A library over `vfs`.
    pub fn new(vfs: Arc<Vfs>) -> Self {
        Library {
            vfs,
            scan: tokio::sync::Mutex::new(None),
            meta: Mutex::new(HashMap::new()),
            annotator: std::sync::OnceLock::new(),
        }
    }

    /// Sets what annotates listing entries (once; later calls are ignored).
    pub fn set_annotator(&self, annotator: Arc<dyn Annotator>) {
        let _ = self.annotator.set(annotator);
    }

    /// The current scan, refreshed when older than `max_age`.
    async fn videos(
        &self,
        max_age: Duration,
    ) -> std::io::Result<(Arc<Vec<Arc<Video>>>, Arc<HashMap<String, Arc<Video>>>)> {
        let mut guard = self.scan.lock().await;
        if let Some(scan) = guard.as_ref() {
            if scan.at.elapsed() < max_age {
                return Ok((scan.videos.clone(), scan.by_id.clone()));
            }
        }
        let listed = self.vfs.list(is_video).await?;
        let mut videos: Vec<Arc<Video>> = listed
            .into_iter()
            .map(|l| {
                Arc::new(Video {
                    id: id_of(&l.path),
                    path: l.path,
                    size: l.len,
                    modified: l.modified,
                })
            })
            .collect();
        // Newest first; ties by path so pages are stable.
        videos.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| a.path.cmp(&b.path))
        });
        let by_id: HashMap<String, Arc<Video>> =
            videos.iter().map(|v| (v.id.clone(), v.clone())).collect();
        let scan = Scan {
            at: Instant::now(),
            videos: Arc::new(videos),
            by_id: Arc::new(by_id),
        };
        let out = (scan.videos.clone(), scan.by_id.clone());
        *guard = Some(scan);
        Ok(out)
    }

    /// The video with `id`, rescanning once if it is not in a recent scan.
    pub async fn find(&self, id: &str) -> std::io::Result<Option<Arc<Video>>> {
        let (_, by_id) = self.videos(SCAN_TTL).await?;
        if let Some(v) = by_id.get(id) {
            return Ok(Some(v.clone()));
        }
        let (_, by_id) = self.videos(MISS_RESCAN_AFTER).await?;
        Ok(by_id.get(id).cloned())
    }

    /// Metadata of a video, from the cache or read with frameseek-core.
    pub async fn metadata(&self, video: &Video) -> MetaResult {
        let key = video.meta_key();
        if let Some(hit) = self.cache().get(&key) {
            return hit.clone();
        }
        let result = self.read_metadata(video).await;
        let mut cache = self.cache();
        if cache.len() >= MAX_META {
            cache.clear();
        }
        cache.insert(key, result.clone());
        result
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u64, u128), MetaResult>> {
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn read_metadata(&self, video: &Video) -> MetaResult {
        let path = video.safe_path().ok_or_else(|| "bad path".to_string())?;
        let object = self.vfs.open(&path).await.map_err(|e| match e {
            OpenError::NotFound | OpenError::Directory => "video no longer exists".to_string(),
            OpenError::Forbidden => "video is not readable".to_string(),
            OpenError::Compressed => "video is compressed inside its archive".to_string(),
            OpenError::Failed(m) => m,
        })?;
        match tokio::task::spawn_blocking(move || probe_object(object.as_ref())).await {
            Ok(Ok(info)) => Ok(Arc::new(info)),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// One page of videos whose path contains `q` (case-insensitive).
    pub async fn page(&self, q: Option<&str>, page: usize, limit: usize) -> std::io::Result<Page> {
        let (videos, _) = self.videos(SCAN_TTL).await?;
        let q = q.map(str::to_lowercase).filter(|q| !q.is_empty());
        let matching: Vec<&Arc<Video>> = videos
            .iter()
            .filter(|v| q.as_ref().is_none_or(|q| v.path.to_lowercase().contains(q)))
            .collect();
        let total = matching.len();
        let pages = total.div_ceil(limit);
        let start = page.saturating_sub(1).saturating_mul(limit);
        // Metadata for the page, a few files at a time (cached after the first listing).
        let jobs: Vec<_> = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|video| self.item(Arc::clone(video)))
            .collect();
        let mut items: Vec<ListItem> = futures_util::stream::iter(jobs)
            .buffered(PROBE_PARALLELISM)
            .collect()
            .await;
        if let Some(annotator) = self.annotator.get() {
            let mut keys = Vec::with_capacity(items.len());
            for video in matching.iter().skip(start).take(limit) {
                keys.push((Arc::clone(video), self.metadata(video).await.ok()));
            }
            for (item, a) in items.iter_mut().zip(annotator.annotate(&keys).await) {
                item.apply(a);
            }
        }
        Ok(Page {
            videos: items,
            total,
            page,
            pages,
        })
    }
}

impl Library {
    async fn item(&self, video: Arc<Video>) -> ListItem {
        let meta = self.metadata(&video).await;
        list_item(&video, meta)
    }
}

fn list_item(video: &Video, meta: MetaResult) -> ListItem {
    let (info, error) = match meta {
        Ok(info) => (Some(info), None),
        Err(e) => (None, Some(e)),
    };
    let info = info.as_deref();
    ListItem {
        id: video.id.clone(),
        path: video.path.clone(),
        size: video.size,
        modified: rfc3339(video.modified),
        container: info.map(|i| i.container.clone()),
        duration: info.map(|i| i.duration),
        width: info.and_then(|i| i.width),
        height: info.and_then(|i| i.height),
        codec: info.and_then(|i| i.codec.clone()),
        frame_count: info.and_then(|i| i.frame_count),
        urls: Urls {
            media: format!("/media/{}", encode_url_path(&video.path)),
            hls: info
                .filter(|i| i.tracks.iter().any(|t| t.frame_count > 0))
                .map(|_| format!("/hls/{}/master.m3u8", video.id)),
            thumbnail: format!("/api/videos/{}/thumbnail", video.id),
            transcoded: None,
        },
        error,
        markers: None,
        transcode: None,
    }
}

/// `2026-11-21T05:32:47Z` (UTC, whole seconds).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    crate::utc::format(
        i64::try_from(secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        assert_eq!(id_of("a.mp4"), id_of("a.mp4"));
        assert_ne!(id_of("a.mp4"), id_of("b.mp4"));
        assert_eq!(id_of("").len(), 16);
        // FNV-1a 64 test vectors, zero-padded lower-case hex.
        assert_eq!(id_of(""), "cbf29ce484222325");
        assert_eq!(id_of("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn video_names() {
        assert!(is_video("a/B.MP4"));
        assert!(is_video("x.mov"));
        assert!(!is_video("x.tar"));
    }
}
