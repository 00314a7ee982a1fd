//! The thumbnail sprite and its WebVTT track: ffmpeg decodes one small frame every
//! `interval` seconds to raw RGB, we count them on the way, and a second ffmpeg tiles them
//! into JPEG sheets; each cue of `thumbnails.vtt` names a sheet and a region (`#xywh=`).

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Thumbnail width in pixels.
pub const WIDTH: u32 = 160;
/// Most thumbnails per sheet row, and most rows per sheet.
const GRID: u32 = 10;
/// Inputs longer than this are sampled at key frames only (a full decode of a long video
/// would take minutes; a thumbnail may then show the key frame before its time).
const KEYFRAMES_ONLY_AFTER: f64 = 120.0;

/// How the thumbnails are laid out.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Layout {
    /// Seconds between thumbnails.
    pub interval: f64,
    /// Thumbnail width.
    pub width: u32,
    /// Thumbnail height.
    pub height: u32,
    /// Thumbnails per sheet row.
    pub columns: u32,
    /// Rows per sheet.
    pub rows: u32,
}

impl Layout {
    /// A layout for a video of `duration` seconds displayed at `display` (after rotation),
    /// one thumbnail every `interval` seconds (automatic: at most ~400 thumbnails).
    pub fn new(duration: f64, display: (u32, u32), interval: Option<f64>) -> Self {
        let interval = interval
            .filter(|i| i.is_finite() && *i > 0.0)
            .unwrap_or_else(|| {
                [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0]
                    .into_iter()
                    .find(|i| duration / i <= 400.0)
                    .unwrap_or(300.0)
            });
        let (w, h) = (display.0.max(1), display.1.max(1));
        let height = ((f64::from(WIDTH) * f64::from(h) / f64::from(w) / 2.0).round() as u32 * 2)
            .clamp(2, 4 * WIDTH);
        let expected = ((duration / interval).ceil() as u32).max(1);
        let columns = expected.clamp(1, GRID);
        let rows = expected.div_ceil(columns).clamp(1, GRID);
        Layout {
            interval,
            width: WIDTH,
            height,
            columns,
            rows,
        }
    }

    fn per_sheet(&self) -> u32 {
        self.columns * self.rows
    }

    /// Sheet number and region `(x, y, w, h)` of thumbnail `k`.
    pub fn region(&self, k: u32) -> (u32, (u32, u32, u32, u32)) {
        let within = k % self.per_sheet();
        (
            k / self.per_sheet(),
            (
                (within % self.columns) * self.width,
                (within / self.columns) * self.height,
                self.width,
                self.height,
            ),
        )
    }
}

/// What [`make`] wrote.
#[derive(Debug, Clone)]
pub struct Sprites {
    /// The layout used.
    pub layout: Layout,
    /// Sheet file names, in order.
    pub sheets: Vec<String>,
    /// Thumbnails referenced by the VTT.
    pub count: u32,
}

/// The sheet file name for sheet `n` of `total`.
fn sheet_name(n: u32, total: u32) -> String {
    if total == 1 {
        "sprite.jpg".to_string()
    } else {
        format!("sprite-{n}.jpg")
    }
}

/// Writes the sprite sheets and `thumbnails.vtt` into `dir`, calling `progress(done)` as
/// thumbnails come out of the decoder.
pub fn make(
    ffmpeg: &Path,
    input: &Path,
    duration: f64,
    layout: Layout,
    dir: &Path,
    progress: &dyn Fn(u64),
) -> Result<Sprites> {
    let input = format!("file:{}", input.display());
    let mut decode = Command::new(ffmpeg);
    decode.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
    if duration > KEYFRAMES_ONLY_AFTER {
        decode.args(["-skip_frame", "nokey"]);
    }
    decode
        .args(["-i", &input, "-an", "-sn", "-dn", "-vf"])
        .arg(format!(
            "fps=fps=1/{}:start_time=0,scale={}:{},setsar=1",
            layout.interval, layout.width, layout.height
        ))
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut decoder = decode
        .spawn()
        .with_context(|| format!("cannot run {} (needed for thumbnails)", ffmpeg.display()))?;
    let pattern = dir.join("sprite-%d.jpg");
    let mut tile = Command::new(ffmpeg);
    tile.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s"])
        .arg(format!("{}x{}", layout.width, layout.height))
        .args(["-r", "1", "-i", "pipe:0", "-vf"])
        .arg(format!("tile={}x{}", layout.columns, layout.rows))
        .args(["-q:v", "4", "-start_number", "0"])
        .arg(&pattern)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut tiler = match tile.spawn() {
        Ok(t) => t,
        Err(e) => {
            let _ = decoder.kill();
            let _ = decoder.wait();
            return Err(e).context("cannot run ffmpeg (needed for thumbnails)");
        }
    };
    let frame = (layout.width * layout.height * 3) as usize;
    let mut frames = 0u64;
    let copied = (|| -> std::io::Result<()> {
        let (Some(mut from), Some(mut to)) = (decoder.stdout.take(), tiler.stdin.take()) else {
            return Err(std::io::Error::other("ffmpeg pipes missing"));
        };
        let mut buf = vec![0u8; frame];
        loop {
            match from.read_exact(&mut buf) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
            to.write_all(&buf)?;
            frames += 1;
            progress(frames);
        }
    })();
    let decoded = decoder.wait_with_output()?;
    let tiled = tiler.wait_with_output()?;
    if !decoded.status.success() {
        bail!(
            "ffmpeg could not decode thumbnails: {}",
            first_line(&decoded.stderr)
        );
    }
    if !tiled.status.success() {
        bail!(
            "ffmpeg could not write the sprite: {}",
            first_line(&tiled.stderr)
        );
    }
    copied.context("thumbnail pipe")?;
    // Thumbnails past the end (the fps filter may emit one more) are not referenced.
    let count = (frames as u32).min(((duration / layout.interval).ceil() as u32).max(1));
    if count == 0 {
        bail!("ffmpeg produced no thumbnails");
    }
    let total = count.div_ceil(layout.per_sheet());
    let mut sheets = Vec::new();
    for n in 0..total {
        let from = dir.join(format!("sprite-{n}.jpg"));
        let name = sheet_name(n, total);
        if !from.is_file() {
            bail!("ffmpeg did not write sprite sheet {n}");
        }
        std::fs::rename(&from, dir.join(&name))?;
        sheets.push(name);
    }
    // Sheets holding only unreferenced thumbnails.
    for n in total.. {
        let extra: PathBuf = dir.join(format!("sprite-{n}.jpg"));
        if std::fs::remove_file(extra).is_err() {
            break;
        }
    }
    let sprites = Sprites {
        layout,
        sheets,
        count,
    };
    std::fs::write(dir.join("thumbnails.vtt"), vtt(&sprites, duration))?;
    Ok(sprites)
}

fn first_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim()
        .to_string()
}

/// `HH:MM:SS.mmm`.
fn timestamp(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}

/// The WebVTT thumbnails track: cue k covers [k·interval, (k+1)·interval) (the last one
/// ends at `duration`) and names its sheet region.
pub fn vtt(sprites: &Sprites, duration: f64) -> String {
    let mut out = String::from("WEBVTT\n");
    let layout = &sprites.layout;
    let total = sprites.sheets.len() as u32;
    for k in 0..sprites.count {
        let start = f64::from(k) * layout.interval;
        let end = if k + 1 == sprites.count {
            duration.max(start + 0.001)
        } else {
            start + layout.interval
        };
        let (sheet, (x, y, w, h)) = layout.region(k);
        let _ = write!(
            out,
            "\n{} --> {}\n{}#xywh={x},{y},{w},{h}\n",
            timestamp(start),
            timestamp(end),
            sheet_name(sheet, total)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let l = Layout::new(3.0, (320, 240), None);
        assert_eq!(
            (l.interval, l.width, l.height, l.columns, l.rows),
            (1.0, 160, 120, 3, 1)
        );
        let l = Layout::new(7200.0, (1920, 1080), None);
        assert_eq!(
            (l.interval, l.height, l.columns, l.rows),
            (30.0, 90, 10, 10)
        );
        let l = Layout::new(10.0, (240, 320), Some(0.5));
        assert_eq!((l.interval, l.height, l.columns, l.rows), (0.5, 214, 10, 2));
        assert_eq!(l.region(0), (0, (0, 0, 160, 214)));
        assert_eq!(l.region(11), (0, (160, 214, 160, 214)));
        assert_eq!(l.region(20), (1, (0, 0, 160, 214)));
    }

    #[test]
    fn cues() {
        let layout = Layout::new(2.5, (320, 240), None);
        let text = vtt(
            &Sprites {
                layout,
                sheets: vec!["sprite.jpg".into()],
                count: 3,
            },
            2.5,
        );
        assert_eq!(
            text,
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,160,120\n\n\
             00:00:01.000 --> 00:00:02.000\nsprite.jpg#xywh=160,0,160,120\n\n\
             00:00:02.000 --> 00:00:02.500\nsprite.jpg#xywh=320,0,160,120\n"
        );
        assert_eq!(timestamp(3723.5), "01:02:03.500");
    }
}
