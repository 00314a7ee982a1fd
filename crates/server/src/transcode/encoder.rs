//! The H.264 encoder: libx264 by default, or NVIDIA's NVENC when `--encoder h264_nvenc` is
//! asked for and a test encode works (else a log line and libx264). Also the rendition's
//! declared profile/level (`avc1.6400xx`), bit-rate cap and the ffmpeg arguments.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Encoders `--encoder` accepts.
pub const ENCODERS: [&str; 2] = ["libx264", "h264_nvenc"];
/// The audio codec string (AAC-LC).
pub const AAC: &str = "mp4a.40.2";
/// AAC bit rate, bits per second.
pub const AUDIO_BITRATE: u64 = 128_000;

/// Which encoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// libx264 (CPU).
    X264,
    /// h264_nvenc (NVIDIA GPU).
    Nvenc,
}

impl Encoder {
    /// ffmpeg's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Encoder::X264 => "libx264",
            Encoder::Nvenc => "h264_nvenc",
        }
    }

    /// Resolves `--encoder`: NVENC only if a short test encode succeeds, else libx264 with
    /// a warning that says why.
    pub async fn resolve(requested: &str, ffmpeg: &Path) -> Encoder {
        if requested != Encoder::Nvenc.name() {
            return Encoder::X264;
        }
        match test_encode(ffmpeg, Encoder::Nvenc.name()).await {
            Ok(()) => {
                tracing::info!("transcoding with h264_nvenc");
                Encoder::Nvenc
            }
            Err(why) => {
                tracing::warn!(
                    "--encoder h264_nvenc is not usable here ({why}); falling back to libx264"
                );
                Encoder::X264
            }
        }
    }

    /// The video encoding arguments for a picture of `width`x`height` at `fps` (a size of
    /// 0 when it is not known yet: the encoder then picks the level, and the rate cap is
    /// that of 1080p30).
    pub fn args(self, width: u32, height: u32, fps: f64) -> Vec<String> {
        let known = width > 0 && height > 0;
        let level = level_for(width, height, fps);
        let rate = if known {
            max_bitrate(width, height, fps)
        } else {
            max_bitrate(1920, 1080, 30.0)
        };
        let mut args: Vec<String> = match self {
            Encoder::X264 => ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]
                .map(String::from)
                .to_vec(),
            Encoder::Nvenc => [
                "-c:v",
                "h264_nvenc",
                "-preset",
                "p4",
                "-rc",
                "vbr",
                "-cq",
                "23",
                "-b:v",
                "0",
            ]
            .map(String::from)
            .to_vec(),
        };
        if known {
            args.extend([
                "-level:v".to_string(),
                format!("{}.{}", level / 10, level % 10),
            ]);
        }
        args.extend([
            "-maxrate".to_string(),
            rate.to_string(),
            "-bufsize".to_string(),
            (2 * rate).to_string(),
            "-profile:v".to_string(),
            "high".to_string(),
            // No B-frames: presentation = decode order, so segments encoded apart join
            // without composition offsets or edit lists.
            "-bf".to_string(),
            "0".to_string(),
            "-pix_fmt".to_string(),
            "yuv420p".to_string(),
        ]);
        args
    }
}

/// Runs a one-frame encode with `encoder`; `Err` carries ffmpeg's last error line.
async fn test_encode(ffmpeg: &Path, encoder: &str) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(ffmpeg);
    cmd.args([
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=256x144:r=30:d=0.2",
        "-frames:v",
        "2",
        "-c:v",
        encoder,
        "-f",
        "null",
        "-",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let run = async {
        let out = cmd
            .output()
            .await
            .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = err
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(3)
                .collect();
            Err(if lines.is_empty() {
                "test encode failed".to_string()
            } else {
                lines.join(" / ")
            })
        }
    };
    match tokio::time::timeout(Duration::from_secs(20), run).await {
        Ok(r) => r,
        Err(_) => Err("test encode timed out".into()),
    }
}

/// H.264 levels (level_idc, MaxFS in macroblocks, MaxMBPS).
const LEVELS: [(u32, u64, u64); 13] = [
    (30, 1_620, 40_500),
    (31, 3_600, 108_000),
    (32, 5_120, 216_000),
    (40, 8_192, 245_760),
    (41, 8_192, 245_760),
    (42, 8_704, 522_240),
    (50, 22_080, 589_824),
    (51, 36_864, 983_040),
    (52, 36_864, 2_073_600),
    (60, 139_264, 4_177_920),
    (61, 139_264, 8_355_840),
    (62, 139_264, 16_711_680),
    (62, u64::MAX, u64::MAX),
];

/// The smallest level (at least 3.0) whose frame size and macroblock rate fit.
pub fn level_for(width: u32, height: u32, fps: f64) -> u32 {
    let mbs = u64::from(width.div_ceil(16)) * u64::from(height.div_ceil(16));
    let fps = if fps.is_finite() && fps > 0.0 {
        fps
    } else {
        30.0
    };
    let rate = (mbs as f64 * fps).ceil() as u64;
    LEVELS
        .iter()
        .find(|(_, fs, mbps)| mbs <= *fs && rate <= *mbps)
        .map_or(62, |l| l.0)
}

/// The rendition's CODECS value: High profile at the level chosen for the picture, plus
/// AAC when there is audio.
pub fn codecs(width: u32, height: u32, fps: f64, audio: bool) -> String {
    let video = format!("avc1.6400{:02x}", level_for(width, height, fps));
    if audio {
        format!("{video},{AAC}")
    } else {
        video
    }
}

/// The video bit-rate cap (bits/s): about 0.12 bits per pixel per frame, at least 200 kbit/s.
pub fn max_bitrate(width: u32, height: u32, fps: f64) -> u64 {
    let fps = if fps.is_finite() && fps > 0.0 {
        fps.min(120.0)
    } else {
        30.0
    };
    ((f64::from(width) * f64::from(height) * fps * 0.12) as u64).max(200_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_codecs() {
        assert_eq!(level_for(320, 240, 30.0), 30);
        assert_eq!(level_for(1280, 720, 30.0), 31);
        assert_eq!(level_for(1920, 1080, 30.0), 40);
        assert_eq!(level_for(1920, 1080, 60.0), 42);
        assert_eq!(level_for(3840, 2160, 30.0), 51);
        assert_eq!(codecs(320, 240, 25.0, false), "avc1.64001e");
        assert_eq!(codecs(1920, 1080, 30.0, true), "avc1.640028,mp4a.40.2");
        assert!(max_bitrate(1920, 1080, 30.0) > 7_000_000);
        let args = Encoder::X264.args(320, 240, 30.0);
        assert!(args.windows(2).any(|w| w[0] == "-level:v" && w[1] == "3.0"));
    }
}
