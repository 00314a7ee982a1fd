//! One live source's ffmpeg: the command line (input, H.264 with a key frame at every
//! segment boundary, AAC, the HLS muxer in fMP4 mode) and the supervisor that restarts it
//! with backoff when it exits and kills it when the server stops.

use super::{clear_dir, Input, LiveOptions, LiveSource, MEDIA_PLAYLIST};
use crate::child::ChildGuard;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

/// Waits before restarting grow from this...
const BACKOFF_MIN: Duration = Duration::from_secs(1);
/// ...to this.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A run that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(30);

/// The ffmpeg arguments for `source`, writing files named `{run}-…` into its directory (the
/// command runs there, so the playlist's URIs are bare file names).
pub fn args(source: &LiveSource, options: &LiveOptions, run: &str) -> Vec<String> {
    let mut a: Vec<String> = ["-nostdin", "-hide_banner", "-loglevel", "error"]
        .map(String::from)
        .to_vec();
    let audio_map = match &source.spec.input {
        Input::TestSource => {
            a.extend(
                [
                    "-re",
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=size=640x360:rate=30",
                    "-re",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=440:sample_rate=48000",
                ]
                .map(String::from),
            );
            "1:a:0"
        }
        Input::Url(url) => {
            if url.starts_with("rtsp://") || url.starts_with("rtsps://") {
                a.extend(["-rtsp_transport".into(), "tcp".into()]);
            }
            a.extend(["-i".into(), url.clone()]);
            "0:a:0?"
        }
        Input::File(path) => {
            a.extend(["-re", "-stream_loop", "-1", "-i"].map(String::from));
            a.push(path.to_string_lossy().into_owned());
            "0:a:0?"
        }
    };
    let seg = options.segment;
    a.extend([
        "-map".into(),
        "0:v:0".into(),
        "-map".into(),
        audio_map.into(),
    ]);
    a.extend([
        "-vf".into(),
        "scale=trunc(iw/2)*2:trunc(ih/2)*2".into(),
        "-force_key_frames".into(),
        format!("expr:gte(t,n_forced*{seg})"),
    ]);
    let (w, h) = match source.spec.input {
        Input::TestSource => (640, 360),
        _ => (0, 0),
    };
    a.extend(options.encoder.args(w, h, 30.0));
    a.extend(["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000"].map(String::from));
    a.extend([
        "-f".into(),
        "hls".into(),
        "-hls_time".into(),
        format!("{seg}"),
        "-hls_list_size".into(),
        options.window.max(2).to_string(),
        "-hls_delete_threshold".into(),
        "1".into(),
        "-hls_flags".into(),
        "delete_segments+program_date_time+independent_segments+temp_file".into(),
        "-hls_segment_type".into(),
        "fmp4".into(),
        "-hls_fmp4_init_filename".into(),
        format!("{run}-init.mp4"),
        "-hls_segment_filename".into(),
        format!("{run}-seg-%d.m4s"),
        MEDIA_PLAYLIST.into(),
    ]);
    a
}

/// Runs `source`'s ffmpeg until `stop` turns true, restarting it when it exits.
pub async fn supervise(
    source: Arc<LiveSource>,
    options: LiveOptions,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        if *stop.borrow() {
            break;
        }
        let started = Instant::now();
        let result = run_once(&source, &options, &mut stop).await;
        source.update(|s| {
            s.up = false;
            s.run = None;
        });
        match result {
            RunEnd::Stopped => break,
            RunEnd::Exited(err) => {
                tracing::warn!("live {}: ffmpeg stopped: {err}", source.spec.name);
                source.update(|s| {
                    s.restarts += 1;
                    s.last_error = Some(err);
                });
            }
        }
        if started.elapsed() >= STABLE {
            backoff = BACKOFF_MIN;
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => break,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    let _ = clear_dir(&source.dir);
}

enum RunEnd {
    Stopped,
    Exited(String),
}

async fn run_once(
    source: &LiveSource,
    options: &LiveOptions,
    stop: &mut watch::Receiver<bool>,
) -> RunEnd {
    let run = format!(
        "{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    if let Err(e) = clear_dir(&source.dir) {
        return RunEnd::Exited(format!("cannot prepare {}: {e}", source.dir.display()));
    }
    let mut cmd = tokio::process::Command::new(&options.ffmpeg);
    cmd.args(args(source, options, &run))
        .current_dir(&source.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut guard = match ChildGuard::spawn(&mut cmd) {
        Ok(g) => g,
        Err(e) => return RunEnd::Exited(format!("cannot run ffmpeg: {e}")),
    };
    source.update(|s| {
        s.up = true;
        s.run = Some(run.clone());
    });
    tracing::info!(
        "live {}: publishing /live/{}/master.m3u8 (ffmpeg pid {})",
        source.spec.name,
        source.spec.name,
        guard.id().unwrap_or(0)
    );
    let mut stderr = guard.child().stderr.take();
    let errors = async {
        let mut kept = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let mut buf = [0u8; 1024];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 4096 {
                    kept.drain(..kept.len() - 4096);
                }
            }
        }
        kept
    };
    let ended = tokio::select! {
        r = async {
            let kept = errors.await;
            (kept, guard.child().wait().await)
        } => Some(r),
        _ = stop.changed() => None,
    };
    match ended {
        Some((kept, status)) => {
            let text = String::from_utf8_lossy(&kept);
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            RunEnd::Exited(format!("{status}: {last}"))
        }
        None => {
            guard.kill().await;
            RunEnd::Stopped
        }
    }
}
