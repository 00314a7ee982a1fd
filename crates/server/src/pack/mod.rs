//! `frameseek pack IN OUTDIR`: a package any static host with Range support can serve:
//! `master.m3u8` → `media.m3u8` with EXT-X-BYTERANGE into one fragmented `video.mp4` (init
//! segment, then every fragment; it also opens as an MP4), a thumbnail sprite with
//! `thumbnails.vtt`, and `metadata.json`. Written beside OUTDIR and renamed into place.

mod sprite;
mod staging;

use crate::hls::Package;
use crate::storage::{LocalFile, Object};
use anyhow::{Context, Result};
use frameseek_core::hls::{master_playlist, media_playlist, MediaPlaylistOptions, SegmentUri};
use frameseek_core::MediaInfo;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use staging::Staging;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

pub use sprite::Layout;

/// Inputs at least this long (seconds) or large (bytes) show a progress bar on a terminal.
const LONG_SECONDS: f64 = 60.0;
const LARGE_BYTES: u64 = 64 << 20;
/// Bytes copied per read from the source.
const COPY_CHUNK: usize = 1 << 20;

/// `frameseek pack` options.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// The source MP4/MOV.
    pub input: PathBuf,
    /// The package directory.
    pub out: PathBuf,
    /// Replace a non-empty OUTDIR.
    pub force: bool,
    /// Segment target duration in seconds.
    pub segment: f64,
    /// Seconds between thumbnails (`None`: chosen from the duration).
    pub thumbnail_interval: Option<f64>,
    /// Skip the sprite and VTT.
    pub no_thumbnails: bool,
    /// The ffmpeg executable (thumbnails).
    pub ffmpeg: PathBuf,
}

/// File names in the package.
pub const MASTER: &str = "master.m3u8";
/// The media playlist.
pub const MEDIA: &str = "media.m3u8";
/// The fragmented MP4.
pub const VIDEO: &str = "video.mp4";
/// The thumbnails track.
pub const THUMBNAILS: &str = "thumbnails.vtt";
/// The metadata JSON.
pub const METADATA: &str = "metadata.json";

/// Runs `frameseek pack`; prints a one-line summary on stdout.
pub fn run(opts: &PackOptions) -> Result<()> {
    let input = &opts.input;
    let file =
        LocalFile::open(input).with_context(|| format!("cannot read {}", input.display()))?;
    let package = Package::read(&file, opts.segment)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let staging = Staging::new(&opts.out, opts.force)?;
    let dir = staging.path().to_path_buf();
    let long = package.movie.duration >= LONG_SECONDS || file.len() >= LARGE_BYTES;
    let show = long && std::io::stderr().is_terminal();

    let ranges = write_video(&package, &file, &dir.join(VIDEO), show)?;
    let (init, segments) = ranges;
    let media = media_playlist(
        &package.segments,
        &MediaPlaylistOptions {
            init_uri: VIDEO.to_string(),
            segments: SegmentUri::ByteRanges {
                uri: VIDEO.to_string(),
                init,
                ranges: segments,
            },
            extra_tags: Vec::new(),
        },
    );
    std::fs::write(dir.join(MEDIA), media)?;
    std::fs::write(dir.join(MASTER), master_playlist(&package.variant, MEDIA))?;

    // The package's own MP4 must read back; its probe is the metadata.
    let info = crate::probe::probe_file(&dir.join(VIDEO))
        .context("the written video.mp4 does not read back")?;
    let sprites = match (opts.no_thumbnails, package.variant.resolution) {
        (false, Some(display)) => {
            let duration = package.movie.duration;
            let layout = Layout::new(duration, display, opts.thumbnail_interval);
            let expected = (duration / layout.interval).ceil() as u64;
            let bar = bar(show, expected.max(1), "thumbnails");
            let made = sprite::make(&opts.ffmpeg, input, duration, layout, &dir, &|n| {
                bar.set_position(n)
            });
            bar.finish_and_clear();
            Some(made?)
        }
        _ => None,
    };
    let metadata = metadata(&info, input, &package, sprites.as_ref())?;
    std::fs::write(dir.join(METADATA), metadata)?;
    staging.commit()?;
    println!(
        "{}: {} segments, {} thumbnails",
        opts.out.display(),
        package.segments.len(),
        sprites.map_or(0, |s| s.count)
    );
    Ok(())
}

/// A progress bar on stderr when `show`, else a hidden one.
fn bar(show: bool, len: u64, what: &'static str) -> ProgressBar {
    if !show {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(len);
    let template = if what == "video.mp4" {
        "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{msg:>10} [{bar:40}] {pos}/{len} eta {eta}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar
}

/// Init segment + every fragment into `path`; returns the init's and each fragment's
/// (offset, length) in the file.
#[allow(clippy::type_complexity)]
fn write_video(
    package: &Package,
    source: &LocalFile,
    path: &Path,
    show: bool,
) -> Result<((u64, u64), Vec<(u64, u64)>)> {
    let fragments: Vec<_> = (0..package.segments.len())
        .filter_map(|n| package.fragment(n))
        .collect();
    let total: u64 = package.init.len() as u64 + fragments.iter().map(|f| f.size).sum::<u64>();
    let bar = bar(show, total, "video.mp4");
    let mut out = BufWriter::with_capacity(COPY_CHUNK, File::create(path)?);
    out.write_all(&package.init)?;
    let init = (0, package.init.len() as u64);
    let mut at = init.1;
    let mut ranges = Vec::with_capacity(fragments.len());
    for fragment in &fragments {
        out.write_all(&fragment.header)?;
        for r in &fragment.payload {
            let mut pos = r.start;
            while pos < r.end {
                let n = (r.end - pos).min(COPY_CHUNK as u64) as usize;
                let bytes = source.read_at(pos, n).with_context(|| {
                    format!("reading bytes {pos}..{} of the source", pos + n as u64)
                })?;
                out.write_all(&bytes)?;
                pos += n as u64;
                bar.inc(n as u64);
            }
        }
        bar.inc(fragment.header.len() as u64);
        ranges.push((at, fragment.size));
        at += fragment.size;
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok((init, ranges))
}

/// `metadata.json`: the probe JSON of `video.mp4` plus the package's file names, segments
/// and thumbnail layout.
fn metadata(
    info: &MediaInfo,
    input: &Path,
    package: &Package,
    sprites: Option<&sprite::Sprites>,
) -> Result<Vec<u8>> {
    let mut value = serde_json::to_value(info)?;
    let mut files = serde_json::json!({
        "master": MASTER,
        "media": MEDIA,
        "video": VIDEO,
        "metadata": METADATA,
    });
    if let Some(s) = sprites {
        files["thumbnails"] = THUMBNAILS.into();
        files["sprites"] = s.sheets.clone().into();
    }
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "source".into(),
            input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .into(),
        );
        obj.insert("files".into(), files);
        obj.insert("segments".into(), package.segments.len().into());
        obj.insert(
            "thumbnails".into(),
            match sprites {
                Some(s) => serde_json::json!({ "count": s.count, "layout": s.layout }),
                None => serde_json::Value::Null,
            },
        );
    }
    let mut bytes = serde_json::to_vec_pretty(&value)?;
    bytes.push(b'\n');
    Ok(bytes)
}
