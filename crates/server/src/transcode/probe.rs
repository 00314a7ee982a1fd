//! Key frames of sources core cannot index (.avi, .mkv, ...): one ffprobe of the streams and
//! one scan of the video packets, turned into a [`Source`] and cached on disk as JSON so
//! that the scan runs once per source version, not once per server start.

use super::plan::{Gop, Source};
use crate::child::ChildGuard;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Longest a scan may take.
const SCAN_TIMEOUT: Duration = Duration::from_secs(300);

/// The cached scan of `input` at `cache`, else a fresh one (then written to `cache`).
pub async fn source(ffprobe: &Path, input: &str, cache: &Path) -> Result<Source, String> {
    if let Ok(text) = tokio::fs::read(cache).await {
        if let Ok(source) = serde_json::from_slice::<Source>(&text) {
            return Ok(source);
        }
    }
    let source = tokio::time::timeout(SCAN_TIMEOUT, scan(ffprobe, input))
        .await
        .map_err(|_| "ffprobe took too long".to_string())??;
    if let Ok(json) = serde_json::to_vec(&source) {
        let _ = write_atomic(cache, &json).await;
    }
    Ok(source)
}

async fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    tokio::fs::create_dir_all(&dir).await?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
        std::process::id()
    ));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

/// Runs ffprobe with `args` and returns its stdout (killed if the caller goes away).
async fn run(ffprobe: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut cmd = tokio::process::Command::new(ffprobe);
    cmd.args(["-v", "error"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = ChildGuard::spawn(&mut cmd).map_err(|e| format!("cannot run ffprobe: {e}"))?;
    let child = guard.child();
    let mut stdout = child.stdout.take().ok_or("no ffprobe stdout")?;
    let mut stderr = child.stderr.take().ok_or("no ffprobe stderr")?;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let (a, b) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
    a.map_err(|e| format!("reading ffprobe: {e}"))?;
    b.map_err(|e| format!("reading ffprobe: {e}"))?;
    let status = guard
        .child()
        .wait()
        .await
        .map_err(|e| format!("ffprobe: {e}"))?;
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let last = text.lines().last().unwrap_or("").trim().to_string();
        return Err(format!("ffprobe cannot read the file ({status}): {last}"));
    }
    Ok(out)
}

fn ratio(s: &str) -> Option<(i64, i64)> {
    let (a, b) = s.split_once('/')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (b != 0).then_some((a, b))
}

/// Scans `input` with ffprobe.
async fn scan(ffprobe: &Path, input: &str) -> Result<Source, String> {
    let streams = run(
        ffprobe,
        &[
            "-show_entries",
            "stream=index,codec_type,codec_name,width,height,avg_frame_rate,time_base:stream_side_data=rotation:format=start_time",
            "-of",
            "json",
            input,
        ],
    )
    .await?;
    let json: serde_json::Value =
        serde_json::from_slice(&streams).map_err(|e| format!("ffprobe JSON: {e}"))?;
    let list = json["streams"].as_array().cloned().unwrap_or_default();
    let video = list
        .iter()
        .find(|s| s["codec_type"] == "video")
        .ok_or("the file has no video stream")?;
    let audio = list.iter().any(|s| s["codec_type"] == "audio");
    let (tb_num, tb_den) = video["time_base"]
        .as_str()
        .and_then(ratio)
        .filter(|(n, d)| *n > 0 && *d > 0 && *d <= i64::from(u32::MAX))
        .ok_or("the video stream has no usable time base")?;
    let fps = video["avg_frame_rate"]
        .as_str()
        .and_then(ratio)
        .map_or(0.0, |(a, b)| a as f64 / b as f64);
    let rotation = video["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()))
        .unwrap_or(0);
    let w = video["width"].as_u64().unwrap_or(0) as u32;
    let h = video["height"].as_u64().unwrap_or(0) as u32;
    let (width, height) = if rotation.rem_euclid(180) == 90 {
        (h, w)
    } else {
        (w, h)
    };
    let packets = run(
        ffprobe,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts,dts,duration,flags",
            "-of",
            "csv=p=0",
            input,
        ],
    )
    .await?;
    let text = String::from_utf8_lossy(&packets);
    // (pts in ticks, duration in ticks, key)
    let mut frames: Vec<(i64, i64, bool)> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 4 {
            continue;
        }
        let num = |s: &str| s.trim().parse::<i64>().ok();
        let Some(t) = num(f[0]).or_else(|| num(f[1])) else {
            continue;
        };
        if f[3].contains('D') {
            continue;
        }
        let ticks = t.checked_mul(tb_num).ok_or("timestamp overflow")?;
        let dur = num(f[2]).and_then(|d| d.checked_mul(tb_num)).unwrap_or(0);
        frames.push((ticks, dur, f[3].contains('K')));
    }
    let mut source = source_from_frames(frames, tb_den as u32, width, height, fps, audio, video)?;
    source.start_time = start_time_of(&json);
    Ok(source)
}

fn start_time_of(json: &serde_json::Value) -> f64 {
    json["format"]["start_time"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|t| t.is_finite())
        .unwrap_or(0.0)
}

/// ffmpeg's start time of `input` (seconds; 0 when unknown).
pub async fn start_time(ffprobe: &Path, input: &str) -> f64 {
    match run(
        ffprobe,
        &["-show_entries", "format=start_time", "-of", "json", input],
    )
    .await
    {
        Ok(out) => serde_json::from_slice::<serde_json::Value>(&out)
            .map(|j| start_time_of(&j))
            .unwrap_or(0.0),
        Err(e) => {
            tracing::debug!("ffprobe start_time: {e}");
            0.0
        }
    }
}

fn source_from_frames(
    mut frames: Vec<(i64, i64, bool)>,
    timescale: u32,
    width: u32,
    height: u32,
    fps: f64,
    audio: bool,
    video: &serde_json::Value,
) -> Result<Source, String> {
    if frames.is_empty() {
        return Err("the video stream has no packets".into());
    }
    frames.sort_by_key(|f| f.0);
    let first = frames[0].0;
    let mut keys: Vec<i64> = frames
        .iter()
        .filter(|f| f.2 && f.0 > first)
        .map(|f| f.0)
        .collect();
    keys.dedup();
    keys.insert(0, first);
    let pts: Vec<i64> = frames.iter().map(|f| f.0).collect();
    let before = |t: i64| pts.partition_point(|&p| p < t) as u64;
    let gops = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| Gop {
            pts: k,
            frames: keys.get(i + 1).map_or(pts.len() as u64, |&n| before(n)) - before(k),
        })
        .filter(|g| g.frames > 0)
        .collect();
    let typical = if fps > 0.0 {
        (f64::from(timescale) / fps).round() as i64
    } else {
        0
    };
    let end = frames
        .iter()
        .map(|&(p, d, _)| p + if d > 0 { d } else { typical })
        .max()
        .unwrap_or(0);
    Ok(Source {
        timescale,
        gops,
        end,
        width,
        height,
        fps,
        audio,
        codec: video["codec_name"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
        start_time: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_gops() {
        // 25 fps, key frames at 0 and 1 s, a B-frame order in the second GOP.
        let mut frames: Vec<(i64, i64, bool)> = (0..50).map(|i| (i, 1, i % 25 == 0)).collect();
        frames.swap(26, 27);
        let v = serde_json::json!({ "codec_name": "mpeg4" });
        let s = source_from_frames(frames, 25, 320, 240, 25.0, false, &v).expect("source");
        assert_eq!(
            s.gops,
            vec![
                Gop { pts: 0, frames: 25 },
                Gop {
                    pts: 25,
                    frames: 25
                }
            ]
        );
        assert_eq!(s.end, 50);
        assert_eq!(s.codec, "mpeg4");
    }
}
