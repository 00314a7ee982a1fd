//! HLS from plain MP4 with no pre-processing: a movie is indexed by frameseek-core, cut at
//! sync samples, and served as fMP4 segments whose moof core writes and whose sample data
//! streams from byte ranges of the source ([`object`]). Prepared movies are cached ([`cache`]).
//!
//! URLs: `/hls/{id}/master.m3u8` → `media.m3u8` → `{version}/init.mp4` and
//! `{version}/seg-{n}.m4s`, where `version` changes whenever the source's bytes (size, mtime)
//! or the segmenting do, so init and segment URLs can be cached as immutable.

pub mod cache;
pub mod object;
pub mod package;

use crate::library::id_of;
use crate::storage::Object;
use bytes::Bytes;
use cache::{Key, Limits, PackageCache, Weigh};
use frameseek_core::hls::{master_playlist, media_playlist, MediaPlaylistOptions, SegmentUri};
pub use package::Package;
use std::sync::Arc;

/// Default segment target duration in seconds.
pub const DEFAULT_SEGMENT_SECS: f64 = 6.0;
/// Bumped when the segment or playlist bytes for the same source change (a new writer), so
/// versioned URLs never name different bytes.
const FORMAT: u32 = 1;
/// The media playlist's name, relative to the master playlist.
pub const MEDIA_PLAYLIST: &str = "media.m3u8";

/// A movie ready to serve: the package, its URL version token and both playlists.
pub struct Prepared {
    /// Index, segments and init segment.
    pub package: Package,
    /// The version token in init and segment URLs.
    pub version: String,
    /// The master playlist.
    pub master: Bytes,
    /// The media playlist (URIs relative to the master's directory).
    pub media: Bytes,
}

impl Weigh for Prepared {
    fn cost(&self) -> u64 {
        self.package.cost() + (self.master.len() + self.media.len()) as u64
    }
}

impl Prepared {
    /// Writes both playlists for `package`, its init and segment URIs under `version/`.
    pub fn new(package: Package, version: String) -> Self {
        let master = master_playlist(&package.variant, MEDIA_PLAYLIST);
        let media = Self::media_playlist(&package, &version, Vec::new());
        Prepared {
            package,
            version,
            master: Bytes::from(master),
            media: Bytes::from(media),
        }
    }

    fn media_playlist(package: &Package, version: &str, extra_tags: Vec<String>) -> String {
        media_playlist(
            &package.segments,
            &MediaPlaylistOptions {
                init_uri: format!("{version}/init.mp4"),
                segments: SegmentUri::Numbered {
                    prefix: format!("{version}/seg-"),
                    suffix: ".m4s".into(),
                },
                extra_tags,
            },
        )
    }

    /// The media playlist with `extra_tags` (EXT-X-PROGRAM-DATE-TIME and EXT-X-DATERANGE
    /// for markers) before the first segment; segment URIs are unchanged.
    pub fn media_with(&self, extra_tags: Vec<String>) -> Bytes {
        Bytes::from(Self::media_playlist(
            &self.package,
            &self.version,
            extra_tags,
        ))
    }
}

/// The HLS side of the server: segmenting options and the cache.
pub struct Hls {
    target: f64,
    cache: PackageCache<Prepared>,
}

impl Hls {
    /// Segments of about `target` seconds; the default cache limits.
    pub fn new(target: f64) -> Self {
        Hls::with_limits(target, Limits::default())
    }

    /// Segments of about `target` seconds, with explicit cache limits.
    pub fn with_limits(target: f64, limits: Limits) -> Self {
        let target = if target.is_finite() && target > 0.0 {
            target
        } else {
            DEFAULT_SEGMENT_SECS
        };
        Hls {
            target,
            cache: PackageCache::new(limits),
        }
    }

    /// The segment target duration in seconds.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// The cache (for metrics).
    pub fn cache(&self) -> &PackageCache<Prepared> {
        &self.cache
    }

    /// The URL version token for `object` with these options.
    pub fn version_of(&self, object: &dyn Object) -> String {
        id_of(&format!("{}|{}|{FORMAT}", object.version(), self.target))
    }

    /// The prepared movie at `path` (read from `object` on a cache miss, on the blocking
    /// pool). `Err` is a message for the client: the object is not a streamable movie.
    pub async fn prepare(
        &self,
        path: &str,
        object: Arc<dyn Object>,
    ) -> Result<Arc<Prepared>, String> {
        let key: Key = (path.to_string(), object.version());
        let version = self.version_of(object.as_ref());
        let target = self.target;
        self.cache
            .get_or_build(key, || async move {
                let built = tokio::task::spawn_blocking(move || {
                    Package::read(object.as_ref(), target).map(|p| Prepared::new(p, version))
                })
                .await;
                match built {
                    Ok(Ok(p)) => Ok(p),
                    Ok(Err(e)) => Err(format!("{e:#}")),
                    Err(e) => Err(e.to_string()),
                }
            })
            .await
    }
}
