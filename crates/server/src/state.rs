//! Everything a request handler may need, built once from the [`Config`]: the media tree,
//! the library, the thumbnail maker, the web package, CORS policy and metrics.

use crate::config::Config;
use crate::cors::CorsPolicy;
use crate::hls::Hls;
use crate::library::Library;
use crate::live::{Live, LiveOptions};
use crate::markers::sqlite::SqliteStore;
use crate::markers::MarkerStore;
use crate::metrics::Metrics;
use crate::storage::LocalStorage;
use crate::thumbnail::Thumbnails;
use crate::transcode::Transcoder;
use crate::vfs::Vfs;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// Shared server state.
pub struct AppState {
    /// Files and archive members under DIR.
    pub vfs: Arc<Vfs>,
    /// Listing and metadata.
    pub library: Library,
    /// Thumbnail maker.
    pub thumbnails: Thumbnails,
    /// The web package served at `/`, if one was found.
    pub web: Option<LocalStorage>,
    /// CORS policy.
    pub cors: CorsPolicy,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The cache directory in use.
    pub cache_dir: PathBuf,
    /// HLS remux: segmenting options and prepared movies.
    pub hls: Hls,
    /// Timeline markers (SQLite under the cache dir).
    pub markers: Arc<dyn MarkerStore>,
    /// Transcoded HLS for codecs browsers cannot decode.
    pub transcoder: Transcoder,
    /// Live HLS sources (`--live`).
    pub live: Live,
}

impl AppState {
    /// Builds the state; fails if DIR is missing.
    pub fn new(config: &Config) -> Result<Arc<Self>> {
        let storage = LocalStorage::new(&config.media_dir)
            .with_context(|| format!("cannot serve {}", config.media_dir.display()))?;
        let vfs = Arc::new(Vfs::new(Arc::new(storage)));
        let metrics = Arc::new(Metrics::default());
        let cache_dir = config.resolved_cache_dir();
        let web = match config.resolved_web_dir() {
            Some(dir) => Some(
                LocalStorage::new(&dir)
                    .with_context(|| format!("cannot serve the web package {}", dir.display()))?,
            ),
            None => None,
        };
        let markers: Arc<dyn MarkerStore> = Arc::new(
            SqliteStore::open(&cache_dir.join("markers.sqlite"))
                .context("cannot open the marker database")?,
        );
        let transcoder = Transcoder::new(crate::transcode::Options {
            ffmpeg: config.ffmpeg.clone(),
            ffprobe: config.ffprobe.clone(),
            encoder: config.encoder.clone(),
            target: config.hls_segment,
            max_jobs: config.max_transcodes,
            root: cache_dir.join("transcode"),
            cache_bytes: config.transcode_cache_bytes,
        });
        let live = Live::new(
            &config.live,
            LiveOptions {
                ffmpeg: config.ffmpeg.clone(),
                root: cache_dir.join("live"),
                segment: config.live_segment,
                window: config.live_window,
                encoder: crate::transcode::encoder::Encoder::X264,
            },
        );
        let library = Library::new(Arc::clone(&vfs));
        library.set_annotator(Arc::new(crate::annotate::LibraryExtras {
            markers: Arc::clone(&markers),
            transcoder: transcoder.clone(),
        }));
        Ok(Arc::new(AppState {
            library,
            thumbnails: Thumbnails::new(
                cache_dir.join("thumbnails"),
                config.ffmpeg.clone(),
                Arc::clone(&metrics),
            ),
            vfs,
            web,
            cors: CorsPolicy::new(config.cors_origins.clone()),
            metrics,
            cache_dir,
            hls: Hls::new(config.hls_segment),
            markers,
            transcoder,
            live,
        }))
    }
}
