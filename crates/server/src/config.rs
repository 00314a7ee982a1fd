//! `frameseek serve` settings and how their defaults are chosen: the media directory, the
//! address, CORS origins, the cache directory (thumbnails) and the web package directory.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// Name of the default cache directory inside the media directory.
pub const CACHE_DIR_NAME: &str = ".frameseek-cache";

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The directory served under `/media` and listed by `/api/videos`.
    pub media_dir: PathBuf,
    /// Listening address.
    pub host: IpAddr,
    /// Listening port (0: any free port; the chosen one is printed).
    pub port: u16,
    /// Allowed CORS origins; empty means any origin (without credentials).
    pub cors_origins: Vec<String>,
    /// Where thumbnails are cached; `None`: [`Config::resolved_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// The built web package served at `/`; `None`: [`Config::resolved_web_dir`].
    pub web_dir: Option<PathBuf>,
    /// The ffmpeg executable.
    pub ffmpeg: PathBuf,
    /// HLS segment target duration in seconds.
    pub hls_segment: f64,
    /// The ffprobe executable (key frames of containers core cannot read).
    pub ffprobe: PathBuf,
    /// Most ffmpeg transcodes at once (`--max-transcodes`, at least 1).
    pub max_transcodes: usize,
    /// `--encoder`: `libx264` or `h264_nvenc` (falls back to libx264 when unusable).
    pub encoder: String,
    /// Byte budget of the transcoded segment cache.
    pub transcode_cache_bytes: u64,
    /// `--live NAME=SOURCE` sources.
    pub live: Vec<crate::live::LiveSpec>,
    /// Live segment duration in seconds.
    pub live_segment: f64,
    /// Segments in a live playlist's window.
    pub live_window: usize,
}

impl Config {
    /// Defaults for `media_dir`: 127.0.0.1:8080, any origin, derived directories.
    pub fn new(media_dir: PathBuf) -> Self {
        Config {
            media_dir,
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            cors_origins: Vec::new(),
            cache_dir: None,
            web_dir: None,
            ffmpeg: PathBuf::from("ffmpeg"),
            hls_segment: crate::hls::DEFAULT_SEGMENT_SECS,
            ffprobe: PathBuf::from("ffprobe"),
            max_transcodes: crate::transcode::default_max_jobs(),
            encoder: "libx264".to_string(),
            transcode_cache_bytes: crate::transcode::DEFAULT_CACHE_BYTES,
            live: Vec::new(),
            live_segment: crate::live::DEFAULT_SEGMENT_SECS,
            live_window: crate::live::DEFAULT_WINDOW,
        }
    }

    /// The listening socket address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// `--cache-dir`, else `DIR/.frameseek-cache` (hidden from `/media` and the library,
    /// shared by every instance serving DIR). If that cannot be created (a read-only DIR),
    /// `$XDG_CACHE_HOME/frameseek` or `~/.cache/frameseek`.
    pub fn resolved_cache_dir(&self) -> PathBuf {
        if let Some(dir) = &self.cache_dir {
            return dir.clone();
        }
        let inside = self.media_dir.join(CACHE_DIR_NAME);
        if std::fs::create_dir_all(&inside).is_ok() && writable(&inside) {
            return inside;
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("frameseek")
    }

    /// `--web-dir`, else the first `web/dist` found in the working directory or above the
    /// executable (a checkout's `target/release/frameseek` finds the checkout's package).
    pub fn resolved_web_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.web_dir {
            return Some(dir.clone());
        }
        let mut candidates = vec![PathBuf::from("web/dist")];
        if let Ok(exe) = std::env::current_exe() {
            candidates.extend(exe.ancestors().skip(1).map(|p| p.join("web/dist")));
        }
        candidates
            .into_iter()
            .find(|p| p.join("index.html").is_file())
    }
}

fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}
