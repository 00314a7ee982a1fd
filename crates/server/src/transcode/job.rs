//! One ffmpeg run that encodes one segment: seek to just before the segment's key frame,
//! encode exactly its frames (H.264 without B-frames, AAC), write fragmented MP4 to a temp
//! file, report `-progress`, and split the result ([`super::fmp4`]). Dropping the future
//! kills ffmpeg and removes the temp file.

use super::encoder::Encoder;
use super::fmp4::{split, Split};
use super::plan::Plan;
use crate::child::ChildGuard;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Longest one segment's encode may take.
const JOB_TIMEOUT: Duration = Duration::from_secs(600);
/// Most of ffmpeg's stderr kept for the error message.
const STDERR_KEEP: usize = 4096;

/// A job's live progress, read by `/metrics` and the status JSON.
#[derive(Debug)]
pub struct Progress {
    /// The video's library id.
    pub video: String,
    /// The segment being encoded.
    pub segment: usize,
    /// Frames the segment has.
    pub frames_total: u64,
    /// Frames encoded so far (ffmpeg's `frame=`).
    pub frames_done: AtomicU64,
}

impl Progress {
    /// Done fraction in [0, 1].
    pub fn fraction(&self) -> f64 {
        let done = self.frames_done.load(Ordering::Relaxed) as f64;
        (done / self.frames_total.max(1) as f64).clamp(0.0, 1.0)
    }
}

/// Removes a file when dropped (the encoder's temp output).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The ffmpeg arguments for segment `n` of `plan`, writing to `out`.
pub fn args(plan: &Plan, n: usize, encoder: Encoder, out: &Path) -> Option<Vec<String>> {
    let seg = plan.segments.get(n)?;
    let seek = plan.seek(n)?;
    // Read to the next segment's first frame (minus the same margin); the last one to the end.
    let read = match plan.seek(n + 1) {
        Some(next) => next - seek,
        None => seg.duration + 1.0,
    };
    let mut a: Vec<String> = [
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
    ]
    .map(String::from)
    .to_vec();
    a.extend([
        "-ss".into(),
        format!("{seek:.6}"),
        "-t".into(),
        format!("{read:.6}"),
        "-i".into(),
        plan.input.clone(),
        // Source timestamps all the way through; tfdt is fixed up after (fmp4::split).
        "-copyts".into(),
        "-map".into(),
        "0:v:0".into(),
    ]);
    if plan.source.audio {
        a.extend(["-map".into(), "0:a:0?".into()]);
    }
    a.extend([
        "-vf".into(),
        "scale=trunc(iw/2)*2:trunc(ih/2)*2".into(),
        "-fps_mode".into(),
        "passthrough".into(),
        "-enc_time_base:v".into(),
        "-1".into(),
        "-frames:v".into(),
        seg.frames.to_string(),
    ]);
    a.extend(encoder.args(plan.width, plan.height, plan.source.fps));
    if plan.source.audio {
        a.extend(["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000"].map(String::from));
    }
    a.extend([
        "-f".into(),
        "mp4".into(),
        "-video_track_timescale".into(),
        plan.timescale.to_string(),
        "-use_editlist".into(),
        "0".into(),
        "-avoid_negative_ts".into(),
        "make_non_negative".into(),
        "-movflags".into(),
        "frag_keyframe+empty_moov+default_base_moof+frag_discont".into(),
        "-y".into(),
        out.to_string_lossy().into_owned(),
    ]);
    Some(a)
}

/// Encodes segment `n` into a temp file in `tmp_dir` and returns its init and media parts.
pub async fn encode(
    ffmpeg: &Path,
    encoder: Encoder,
    plan: &Plan,
    n: usize,
    tmp_dir: &Path,
    progress: &Progress,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<Split, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    tokio::fs::create_dir_all(tmp_dir)
        .await
        .map_err(|e| format!("cannot create {}: {e}", tmp_dir.display()))?;
    let out = TempFile(tmp_dir.join(format!(
        ".enc-{n}-{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )));
    let args = args(plan, n, encoder, &out.0).ok_or("no such segment")?;
    let mut cmd = tokio::process::Command::new(ffmpeg);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = ChildGuard::spawn(&mut cmd).map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    // The encode slot stays taken until this ffmpeg is really gone.
    guard.hold(permit);
    let stdout = guard.child().stdout.take().ok_or("no ffmpeg stdout")?;
    let mut stderr = guard.child().stderr.take().ok_or("no ffmpeg stderr")?;
    let read_progress = async {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(v) = line.strip_prefix("frame=") {
                if let Ok(f) = v.trim().parse::<u64>() {
                    progress.frames_done.store(f, Ordering::Relaxed);
                }
            }
        }
    };
    let read_errors = async {
        let mut kept = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(k) = stderr.read(&mut buf).await {
            if k == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..k]);
            if kept.len() > STDERR_KEEP {
                kept.drain(..kept.len() - STDERR_KEEP);
            }
        }
        kept
    };
    let run = async {
        let ((), errors) = tokio::join!(read_progress, read_errors);
        let status = guard.child().wait().await;
        (status, errors)
    };
    let (status, errors) = tokio::time::timeout(JOB_TIMEOUT, run)
        .await
        .map_err(|_| "ffmpeg took too long".to_string())?;
    let status = status.map_err(|e| format!("ffmpeg: {e}"))?;
    if !status.success() {
        let text = String::from_utf8_lossy(&errors);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        return Err(format!("ffmpeg failed ({status}): {last}"));
    }
    let bytes = tokio::fs::read(&out.0)
        .await
        .map_err(|e| format!("cannot read the encoder's output: {e}"))?;
    let start = plan.output_start(n).ok_or("no such segment")?;
    tokio::task::spawn_blocking(move || split(&bytes, start))
        .await
        .map_err(|e| e.to_string())?
}
