//! Thumbnails: one JPEG frame made by ffmpeg, cached under the cache dir with an atomic
//! write (temp file + rename). Concurrent requests for one thumbnail share one ffmpeg run;
//! runs are bounded in number and time, and a failure is remembered briefly.

use crate::metrics::Metrics;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Longest an ffmpeg run may take.
const FFMPEG_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a failure is answered from memory instead of running ffmpeg again.
const FAILURE_TTL: Duration = Duration::from_secs(30);
/// Default, smallest and largest widths.
pub const DEFAULT_WIDTH: u32 = 320;
/// Smallest width.
pub const MIN_WIDTH: u32 = 16;
/// Largest width.
pub const MAX_WIDTH: u32 = 1920;

type Job = Shared<BoxFuture<'static, Result<PathBuf, Arc<str>>>>;

/// One thumbnail to make.
#[derive(Debug, Clone)]
pub struct Request {
    /// Cache key: identifies video version, time and width (file-name safe).
    pub key: String,
    /// ffmpeg input (`file:...` or `subfile,,...`).
    pub input: String,
    /// Seconds into the video.
    pub time: f64,
    /// Output width in pixels (even).
    pub width: u32,
}

/// The thumbnail maker and its cache directory.
pub struct Thumbnails {
    dir: PathBuf,
    ffmpeg: PathBuf,
    jobs: Mutex<HashMap<String, Job>>,
    failures: Mutex<HashMap<String, (Instant, Arc<str>)>>,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl Thumbnails {
    /// Thumbnails cached in `dir`, made by the `ffmpeg` executable.
    pub fn new(dir: PathBuf, ffmpeg: PathBuf, metrics: Arc<Metrics>) -> Self {
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        Thumbnails {
            dir,
            ffmpeg,
            jobs: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(parallel)),
            metrics,
        }
    }

    /// The path of the cached JPEG, making it first if needed.
    pub async fn get(&self, req: Request) -> Result<PathBuf, Arc<str>> {
        let path = self.dir.join(format!("{}.jpg", req.key));
        if tokio::fs::metadata(&path).await.is_ok() {
            return Ok(path);
        }
        if let Some(err) = self.recent_failure(&req.key) {
            return Err(err);
        }
        let job = {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(job) = jobs.get(&req.key) {
                job.clone()
            } else {
                let job = self.start(req.clone(), path);
                jobs.insert(req.key.clone(), job.clone());
                job
            }
        };
        let result = job.await;
        self.finish(&req.key, &result);
        result
    }

    fn recent_failure(&self, key: &str) -> Option<Arc<str>> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.retain(|_, (at, _)| at.elapsed() < FAILURE_TTL);
        failures.get(key).map(|(_, e)| e.clone())
    }

    /// Spawns the run (it finishes even if every requester goes away) and returns a
    /// shareable handle to its result.
    fn start(&self, req: Request, path: PathBuf) -> Job {
        let ffmpeg = self.ffmpeg.clone();
        let permits = Arc::clone(&self.permits);
        let metrics = Arc::clone(&self.metrics);
        let dir = self.dir.clone();
        let task = tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.map_err(|e| e.to_string())?;
            // Another instance (or an earlier job) may have made it meanwhile.
            if tokio::fs::metadata(&path).await.is_ok() {
                return Ok(path);
            }
            metrics.thumbnail_runs.fetch_add(1, Ordering::Relaxed);
            let result = make(&ffmpeg, &dir, &req, &path).await;
            if result.is_err() {
                metrics.thumbnail_failures.fetch_add(1, Ordering::Relaxed);
            }
            result.map(|()| path)
        });
        async move {
            match task.await {
                Ok(Ok(path)) => Ok(path),
                Ok(Err(e)) => Err(Arc::<str>::from(e)),
                Err(e) => Err(Arc::<str>::from(e.to_string())),
            }
        }
        .boxed()
        .shared()
    }

    /// Forgets a finished job: its result is on disk, or in the failure map (recorded
    /// first, so that no request sees neither and starts another run).
    fn finish(&self, key: &str, result: &Result<PathBuf, Arc<str>>) {
        if let Err(e) = result {
            self.failures
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.to_string(), (Instant::now(), e.clone()));
        }
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Runs ffmpeg into a temporary file in the cache dir, then renames it into place.
async fn make(ffmpeg: &Path, dir: &Path, req: &Request, path: &Path) -> Result<(), String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        req.key,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut cmd = tokio::process::Command::new(ffmpeg);
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-ss"])
        .arg(format!("{:.3}", req.time))
        .arg("-i")
        .arg(&req.input)
        .args(["-map", "0:v:0", "-frames:v", "1", "-an", "-vf"])
        .arg(format!("scale={}:-2", req.width))
        .args([
            "-c:v", "mjpeg", "-q:v", "4", "-f", "image2", "-update", "1", "-y",
        ])
        .arg(&tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let run = async {
        let child = cmd.spawn().map_err(|e| format!("cannot run ffmpeg: {e}"))?;
        child
            .wait_with_output()
            .await
            .map_err(|e| format!("ffmpeg failed: {e}"))
    };
    let output = match tokio::time::timeout(FFMPEG_TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err("ffmpeg timed out".to_string()),
    };
    let result = match output {
        Ok(out) if out.status.success() => match tokio::fs::metadata(&tmp).await {
            Ok(m) if m.len() > 0 => tokio::fs::rename(&tmp, path)
                .await
                .map_err(|e| format!("cannot store thumbnail: {e}")),
            _ => Err("ffmpeg produced no picture (time past the end?)".to_string()),
        },
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("").trim();
            Err(format!("ffmpeg failed ({}): {last}", out.status))
        }
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}
