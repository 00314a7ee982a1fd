//! Transcoded HLS for videos the browser cannot decode (HEVC, MPEG-4 Part 2, MJPEG, .avi,
//! .mkv...): a [`plan::Plan`] known up front from the source's key frames, and segments
//! encoded on demand, one ffmpeg run per segment ([`job`]), so a seek far ahead starts there.
//!
//! Runs are single-flight per segment and capped globally (`--max-transcodes`; past it the
//! caller gets [`SegmentError::Busy`] → 503). A run lives only while someone waits for it:
//! when the last waiter goes away its ffmpeg is killed. Finished segments go to a disk cache
//! with a byte budget ([`cache`]). URLs: `/transcode/{id}/master.m3u8`, `media.m3u8`,
//! `{version}/init.mp4`, `{version}/seg-{n}.m4s` (version: source bytes + options).

pub mod cache;
pub mod encoder;
pub mod fmp4;
pub mod job;
pub mod plan;
pub mod probe;

use crate::hls::cache::{Limits, PackageCache};
use crate::library::{id_of, Video};
use crate::storage::Object;
use cache::DiskCache;
use encoder::Encoder;
use frameseek_core::{read_movie, MediaInfo};
use futures_util::future::{BoxFuture, FutureExt, Shared, WeakShared};
use job::Progress;
use plan::{Plan, Source};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bumped when the bytes of a transcoded rendition change for the same options.
const FORMAT: u32 = 2;
/// Default disk budget for finished segments.
pub const DEFAULT_CACHE_BYTES: u64 = 2 << 30;
/// Containers frameseek-core cannot read but ffmpeg can: listed, and always transcoded.
pub const TRANSCODE_EXTENSIONS: [&str; 11] = [
    "avi", "mkv", "webm", "wmv", "flv", "mpg", "mpeg", "m2ts", "mts", "3gp", "mxf",
];

/// Whether `path` names a container only the transcoder can serve.
pub fn is_transcode_only(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    TRANSCODE_EXTENSIONS
        .iter()
        .any(|e| lower.strip_suffix(e).is_some_and(|s| s.ends_with('.')))
}

/// Whether browsers decode `codec` (a WebCodecs codec string) with WebCodecs/MSE everywhere
/// frameseek runs: H.264, VP8, VP9 and AV1. HEVC, MPEG-4 Part 2, MJPEG and the rest are not.
pub fn browser_decodable(codec: &str) -> bool {
    ["avc1", "avc3", "vp8", "vp09", "av01"]
        .iter()
        .any(|p| codec.starts_with(p))
}

/// Whether the library should point `urls.hls` at the transcoded rendition.
pub fn needs_transcode(path: &str, info: Option<&MediaInfo>) -> bool {
    is_transcode_only(path)
        || info
            .and_then(|i| i.codec.as_deref())
            .is_some_and(|c| !browser_decodable(c))
}

/// Whether a transcoded rendition can be offered at all (a video track, or a container
/// that ffmpeg reads).
pub fn offers_transcode(path: &str, info: Option<&MediaInfo>) -> bool {
    is_transcode_only(path) || info.is_some_and(|i| i.codec.is_some())
}

/// Why a segment could not be had.
#[derive(Debug, Clone)]
pub enum SegmentError {
    /// Every ffmpeg slot is taken: retry after this many seconds.
    Busy(u64),
    /// No such segment.
    NotFound,
    /// The encode failed.
    Failed(String),
}

/// A video's transcoding state for the library item and the status route.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `idle` (nothing encoded), `encoding`, `partial` (some segments cached) or `done`.
    pub state: &'static str,
    /// Segments cached plus running ones' progress, as a percentage of all segments.
    pub percent: f64,
    /// Segments in the rendition (0 until it has been planned).
    pub segments: usize,
    /// Segments cached on disk.
    pub cached: usize,
    /// Segments being encoded now.
    pub running: usize,
    /// The encoder in use.
    pub encoder: &'static str,
}

type JobFuture = BoxFuture<'static, Result<(), Arc<str>>>;
type JobKey = (String, usize);

#[derive(Default)]
struct Counters {
    started: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    rejected: AtomicU64,
    frames: AtomicU64,
    /// Smoothed seconds per job, in milliseconds (for Retry-After).
    avg_ms: AtomicU64,
}

struct Inner {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    requested: String,
    encoder: OnceLock<Encoder>,
    target: f64,
    max_jobs: usize,
    permits: Arc<Semaphore>,
    scans: Semaphore,
    root: PathBuf,
    disk: DiskCache,
    plans: PackageCache<Plan>,
    jobs: Mutex<HashMap<JobKey, WeakShared<JobFuture>>>,
    running: Mutex<HashMap<JobKey, Arc<Progress>>>,
    /// Video id → its latest plan's summary.
    latest: Mutex<HashMap<String, Planned>>,
    counters: Counters,
}

/// A planned rendition's summary (for the library listing).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan's version token.
    pub version: String,
    /// Segments.
    pub segments: usize,
    /// Seconds.
    pub duration: f64,
    /// Source display width.
    pub width: u32,
    /// Source display height.
    pub height: u32,
    /// Source frames.
    pub frames: u64,
    /// Source codec.
    pub codec: String,
}

/// Options of the transcoder.
#[derive(Debug, Clone)]
pub struct Options {
    /// The ffmpeg executable.
    pub ffmpeg: PathBuf,
    /// The ffprobe executable.
    pub ffprobe: PathBuf,
    /// `--encoder`.
    pub encoder: String,
    /// Segment target duration in seconds.
    pub target: f64,
    /// `--max-transcodes` (at least 1).
    pub max_jobs: usize,
    /// Where segments and scans are cached (`{cache}/transcode`).
    pub root: PathBuf,
    /// The segment cache's byte budget.
    pub cache_bytes: u64,
}

/// The default `--max-transcodes`: half the cores, at least one.
pub fn default_max_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The transcoder (cheap to clone).
#[derive(Clone)]
pub struct Transcoder {
    inner: Arc<Inner>,
}

/// Keeps a job in the running map while it runs; counts it as cancelled if dropped early.
struct Running {
    inner: Arc<Inner>,
    key: JobKey,
    done: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        lock(&self.inner.running).remove(&self.key);
        if !self.done {
            self.inner
                .counters
                .cancelled
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Transcoder {
    /// A transcoder with `options` (scans the segment cache left by earlier runs).
    pub fn new(options: Options) -> Self {
        let max_jobs = options.max_jobs.max(1);
        let disk = DiskCache::open(options.root.join("segments"), options.cache_bytes);
        Transcoder {
            inner: Arc::new(Inner {
                ffmpeg: options.ffmpeg,
                ffprobe: options.ffprobe,
                requested: options.encoder,
                encoder: OnceLock::new(),
                target: if options.target.is_finite() && options.target > 0.0 {
                    options.target
                } else {
                    crate::hls::DEFAULT_SEGMENT_SECS
                },
                max_jobs,
                permits: Arc::new(Semaphore::new(max_jobs)),
                scans: Semaphore::new(2),
                root: options.root,
                disk,
                plans: PackageCache::new(Limits {
                    entries: 256,
                    bytes: 64 << 20,
                }),
                jobs: Mutex::new(HashMap::new()),
                running: Mutex::new(HashMap::new()),
                latest: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// Chooses the encoder (a test encode for NVENC). Call once before serving.
    pub async fn init(&self) {
        if self.inner.encoder.get().is_none() {
            let e = Encoder::resolve(&self.inner.requested, &self.inner.ffmpeg).await;
            let _ = self.inner.encoder.set(e);
        }
    }

    /// The encoder in use (libx264 until [`Transcoder::init`] chose another).
    pub fn encoder(&self) -> Encoder {
        self.inner.encoder.get().copied().unwrap_or(Encoder::X264)
    }

    /// `--max-transcodes`.
    pub fn max_jobs(&self) -> usize {
        self.inner.max_jobs
    }

    /// The plan of `video` (built on a miss: core's index for MP4/MOV, else an ffprobe scan
    /// cached on disk). `Err` is a message for a 422.
    pub async fn plan(&self, video: &Video, object: Arc<dyn Object>) -> Result<Arc<Plan>, String> {
        let inner = Arc::clone(&self.inner);
        let input = object
            .ffmpeg_input()
            .ok_or("this video cannot be opened by ffmpeg")?;
        let version = id_of(&format!(
            "{}|{}|{}|{FORMAT}",
            object.version(),
            inner.target,
            self.encoder().name()
        ));
        let key = (video.path.clone(), version.clone());
        let path = video.path.clone();
        let scan_file = inner.root.join("sources").join(format!(
            "{}.json",
            id_of(&format!("{}|{}", path, object.version()))
        ));
        let builder = Arc::clone(&inner);
        let plan = inner
            .plans
            .get_or_build(key, || async move {
                let inner = builder;
                let source = read_source(&inner, &path, object, &input, &scan_file).await?;
                Plan::new(version, input, source, inner.target)
            })
            .await?;
        lock(&self.inner.latest).insert(
            video.id.clone(),
            Planned {
                version: plan.version.clone(),
                segments: plan.segments.len(),
                duration: plan.duration(),
                width: plan.source.width,
                height: plan.source.height,
                frames: plan.segments.iter().map(|s| s.frames).sum(),
                codec: plan.source.codec.clone(),
            },
        );
        Ok(plan)
    }

    /// The cached init segment of `plan`, encoding segment 0 first if needed.
    pub async fn init_segment(
        &self,
        plan: &Arc<Plan>,
        video: &str,
    ) -> Result<PathBuf, SegmentError> {
        let path = self.inner.disk.path(&plan.version, "init.mp4");
        if self.inner.disk.lookup(&path) {
            return Ok(path);
        }
        self.run(plan, video, 0).await?;
        if self.inner.disk.lookup(&path) {
            Ok(path)
        } else {
            Err(SegmentError::Failed(
                "the init segment was not written".into(),
            ))
        }
    }

    /// The cached media segment `n` of `plan`, encoding it first if needed.
    pub async fn segment(
        &self,
        plan: &Arc<Plan>,
        video: &str,
        n: usize,
    ) -> Result<PathBuf, SegmentError> {
        if n >= plan.segments.len() {
            return Err(SegmentError::NotFound);
        }
        let path = self.inner.disk.path(&plan.version, &format!("seg-{n}.m4s"));
        if self.inner.disk.lookup(&path) {
            return Ok(path);
        }
        self.run(plan, video, n).await?;
        if self.inner.disk.lookup(&path) {
            Ok(path)
        } else {
            Err(SegmentError::Failed(
                "the segment was evicted at once (cache budget too small?)".into(),
            ))
        }
    }

    /// Joins the run for segment `n`, or starts one if a slot is free.
    async fn run(&self, plan: &Arc<Plan>, video: &str, n: usize) -> Result<(), SegmentError> {
        let key: JobKey = (plan.version.clone(), n);
        let job: Shared<JobFuture> = {
            let mut jobs = lock(&self.inner.jobs);
            match jobs.get(&key).and_then(WeakShared::upgrade) {
                Some(job) => job,
                None => {
                    let Ok(permit) = Arc::clone(&self.inner.permits).try_acquire_owned() else {
                        self.inner.counters.rejected.fetch_add(1, Ordering::Relaxed);
                        return Err(SegmentError::Busy(self.retry_after()));
                    };
                    jobs.retain(|_, w| w.upgrade().is_some());
                    let job = self
                        .job(Arc::clone(plan), video.to_string(), n, permit)
                        .boxed()
                        .shared();
                    if let Some(weak) = job.downgrade() {
                        jobs.insert(key, weak);
                    }
                    job
                }
            }
        };
        job.await.map_err(|e| SegmentError::Failed(e.to_string()))
    }

    /// Seconds a refused client should wait: about one encode.
    fn retry_after(&self) -> u64 {
        let ms = self.inner.counters.avg_ms.load(Ordering::Relaxed);
        if ms == 0 {
            2
        } else {
            ms.div_ceil(1000).clamp(1, 30)
        }
    }

    /// The future of one run (not spawned: it runs while a waiter polls it, and dropping
    /// the last waiter kills ffmpeg).
    fn job(
        &self,
        plan: Arc<Plan>,
        video: String,
        n: usize,
        permit: OwnedSemaphorePermit,
    ) -> impl std::future::Future<Output = Result<(), Arc<str>>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let encoder = self.encoder();
        async move {
            let key: JobKey = (plan.version.clone(), n);
            let frames_total = plan.segments.get(n).map_or(0, |s| s.frames);
            let progress = Arc::new(Progress {
                video,
                segment: n,
                frames_total,
                frames_done: AtomicU64::new(0),
            });
            lock(&inner.running).insert(key.clone(), Arc::clone(&progress));
            let mut running = Running {
                inner: Arc::clone(&inner),
                key,
                done: false,
            };
            inner.counters.started.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let tmp = inner.disk.path(&plan.version, "");
            let result =
                job::encode(&inner.ffmpeg, encoder, &plan, n, &tmp, &progress, permit).await;
            running.done = true;
            let result = match result {
                Ok(split) => {
                    let inner2 = Arc::clone(&inner);
                    let version = plan.version.clone();
                    tokio::task::spawn_blocking(move || -> Result<(), String> {
                        let init = inner2.disk.path(&version, "init.mp4");
                        if !init.is_file() {
                            inner2
                                .disk
                                .insert(&init, &split.init)
                                .map_err(|e| e.to_string())?;
                        }
                        let seg = inner2.disk.path(&version, &format!("seg-{n}.m4s"));
                        inner2
                            .disk
                            .insert(&seg, &split.media)
                            .map_err(|e| e.to_string())
                    })
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r)
                }
                Err(e) => Err(e),
            };
            let counters = &inner.counters;
            counters.frames.fetch_add(
                progress.frames_done.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
            match &result {
                Ok(()) => {
                    counters.ok.fetch_add(1, Ordering::Relaxed);
                    let ms = started.elapsed().as_millis() as u64;
                    let old = counters.avg_ms.load(Ordering::Relaxed);
                    let avg = if old == 0 { ms } else { (old * 3 + ms) / 4 };
                    counters.avg_ms.store(avg, Ordering::Relaxed);
                }
                Err(e) => {
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("transcode of segment {n} ({}) failed: {e}", plan.version);
                }
            }
            result.map_err(Arc::<str>::from)
        }
    }

    /// The transcoding state of a video (`idle` with 0 segments until it is planned).
    pub fn status(&self, video_id: &str) -> Status {
        let encoder = self.encoder().name();
        let latest = lock(&self.inner.latest)
            .get(video_id)
            .map(|p| (p.version.clone(), p.segments));
        let Some((version, segments)) = latest else {
            return Status {
                state: "idle",
                percent: 0.0,
                segments: 0,
                cached: 0,
                running: 0,
                encoder,
            };
        };
        let cached = self.inner.disk.segments(&version).min(segments);
        let (running, partial): (usize, f64) = {
            let map = lock(&self.inner.running);
            map.iter()
                .filter(|((v, _), _)| *v == version)
                .fold((0, 0.0), |(n, f), (_, p)| (n + 1, f + p.fraction()))
        };
        let percent = if segments == 0 {
            0.0
        } else {
            ((cached as f64 + partial) / segments as f64 * 1000.0).round() / 10.0
        };
        let state = if running > 0 {
            "encoding"
        } else if segments > 0 && cached >= segments {
            "done"
        } else if cached > 0 {
            "partial"
        } else {
            "idle"
        };
        Status {
            state,
            percent: percent.min(100.0),
            segments,
            cached,
            running,
            encoder,
        }
    }

    /// The summary of `video_id`'s latest plan, if it has been planned.
    pub fn planned(&self, video_id: &str) -> Option<Planned> {
        lock(&self.inner.latest).get(video_id).cloned()
    }

    /// ffmpeg runs now (for tests and metrics).
    pub fn running(&self) -> usize {
        lock(&self.inner.running).len()
    }

    /// Prometheus text for `/metrics`.
    pub fn render_metrics(&self) -> String {
        let c = &self.inner.counters;
        let disk = self.inner.disk.stats();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        metric(
            "frameseek_transcode_jobs_running",
            "gauge",
            "ffmpeg segment encodes running now.",
            self.running().to_string(),
        );
        metric(
            "frameseek_transcode_jobs_max",
            "gauge",
            "The cap on concurrent encodes (--max-transcodes).",
            self.inner.max_jobs.to_string(),
        );
        for (name, help, v) in [
            (
                "frameseek_transcode_jobs_started_total",
                "Segment encodes started.",
                &c.started,
            ),
            (
                "frameseek_transcode_jobs_succeeded_total",
                "Segment encodes finished and cached.",
                &c.ok,
            ),
            (
                "frameseek_transcode_jobs_failed_total",
                "Segment encodes that failed.",
                &c.failed,
            ),
            (
                "frameseek_transcode_jobs_cancelled_total",
                "Segment encodes stopped because every client went away.",
                &c.cancelled,
            ),
            (
                "frameseek_transcode_rejected_total",
                "Requests answered 503 because every encode slot was taken.",
                &c.rejected,
            ),
            (
                "frameseek_transcode_frames_total",
                "Frames encoded by finished runs.",
                &c.frames,
            ),
        ] {
            metric(name, "counter", help, v.load(Ordering::Relaxed).to_string());
        }
        metric(
            "frameseek_transcode_cache_bytes",
            "gauge",
            "Bytes of transcoded segments on disk.",
            disk.bytes.to_string(),
        );
        metric(
            "frameseek_transcode_cache_files",
            "gauge",
            "Transcoded files on disk.",
            disk.files.to_string(),
        );
        metric(
            "frameseek_transcode_cache_hits_total",
            "counter",
            "Segment requests answered from the disk cache.",
            disk.hits.to_string(),
        );
        metric(
            "frameseek_transcode_cache_evictions_total",
            "counter",
            "Cached files removed to stay under the budget.",
            disk.evictions.to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP frameseek_transcode_progress_percent Progress of each running encode (ffmpeg -progress)."
        );
        let _ = writeln!(out, "# TYPE frameseek_transcode_progress_percent gauge");
        let running: Vec<Arc<Progress>> = lock(&self.inner.running).values().cloned().collect();
        for p in running {
            let _ = writeln!(
                out,
                "frameseek_transcode_progress_percent{{video=\"{}\",segment=\"{}\"}} {:.1}",
                p.video,
                p.segment,
                p.fraction() * 100.0
            );
        }
        let _ = writeln!(
            out,
            "# HELP frameseek_transcode_encoder_info The encoder in use.\n\
             # TYPE frameseek_transcode_encoder_info gauge\n\
             frameseek_transcode_encoder_info{{encoder=\"{}\"}} 1",
            self.encoder().name()
        );
        out
    }
}

/// The source summary: core's index for what core reads, else an ffprobe scan.
async fn read_source(
    inner: &Inner,
    path: &str,
    object: Arc<dyn Object>,
    input: &str,
    scan_file: &Path,
) -> Result<Source, String> {
    if !is_transcode_only(path) {
        let indexed = tokio::task::spawn_blocking(move || {
            let size = object.len();
            read_movie(size, |start, end| -> anyhow::Result<Vec<u8>> {
                if start > end || end > size {
                    anyhow::bail!("read {start}..{end} outside the object ({size} bytes)");
                }
                let len = usize::try_from(end - start)?;
                Ok(Vec::from(object.read_at(start, len)?))
            })
            .map_err(|e| format!("{e:#}"))
            .and_then(|m| Source::from_movie(&m))
        })
        .await
        .map_err(|e| e.to_string())?;
        match indexed {
            Ok(mut source) => {
                source.start_time = probe::start_time(&inner.ffprobe, input).await;
                return Ok(source);
            }
            Err(e) => tracing::debug!("core cannot index {path} ({e}); asking ffprobe"),
        }
    }
    let _permit = inner.scans.acquire().await.map_err(|e| e.to_string())?;
    probe::source(&inner.ffprobe, input, scan_file).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_videos_are_transcoded() {
        assert!(is_transcode_only("cam/a.AVI"));
        assert!(is_transcode_only("x.mkv"));
        assert!(!is_transcode_only("x.mp4"));
        assert!(!is_transcode_only("xavi"));
        assert!(browser_decodable("avc1.64001e"));
        assert!(browser_decodable("vp09.00.10.08"));
        assert!(!browser_decodable("hvc1.1.6.L63.90"));
        assert!(!browser_decodable("mp4v.20.9"));
        assert!(needs_transcode("a.avi", None));
        assert!(!needs_transcode("a.mp4", None));
    }
}
