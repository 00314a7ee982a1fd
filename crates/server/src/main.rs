//! The `frameseek` command line: `probe` reports a file's tracks from core's index; `serve`
//! runs the HTTP server; `pack` writes a static-hosting HLS package; later, frames.
//!
//! clap parses the command line (derive API: the help text lives next to each option).

use clap::{Parser, Subcommand};
use frameseek_server::{probe, Config};
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// frameseek: exact video frames over HTTP ranges.
#[derive(Parser)]
#[command(name = "frameseek", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a media file's container, duration and tracks (read with frameseek-core, no ffprobe).
    Probe {
        /// The MP4/MOV file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve DIR over HTTP: /media (byte ranges), /api/videos, thumbnails, /metrics.
    Serve {
        /// The media directory (tar and zip files in it are browsable as folders).
        #[arg(default_value = "media")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to listen on (0: any free port; the chosen address is printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Allow only this origin to read responses (repeatable). Default: any origin,
        /// without credentials.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Where thumbnails are cached. Default: DIR/.frameseek-cache (or
        /// $XDG_CACHE_HOME/frameseek when DIR is read-only).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// The built web package served at /. Default: web/dist in the working directory
        /// or above the executable; without one, a built-in library page.
        #[arg(long, value_name = "DIR")]
        web_dir: Option<PathBuf>,
        /// The ffmpeg executable used for thumbnails.
        #[arg(long, default_value = "ffmpeg")]
        ffmpeg: PathBuf,
        /// HLS segment target duration in seconds (segments start at key frames).
        #[arg(long, value_name = "SECS", default_value_t = frameseek_server::hls::DEFAULT_SEGMENT_SECS, value_parser = segment_secs)]
        hls_segment: f64,
        /// The ffprobe executable (key frames of .avi/.mkv... for transcoding).
        #[arg(long, default_value = "ffprobe")]
        ffprobe: PathBuf,
        /// Most ffmpeg transcodes running at once; past it, 503 with Retry-After.
        /// Default: half the cores, at least 1.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
        max_transcodes: Option<u32>,
        /// H.264 encoder for transcoding and live: libx264, or h264_nvenc (falls back to
        /// libx264 with a log line when no NVIDIA GPU/NVENC is usable).
        #[arg(long, default_value = "libx264", value_parser = clap::builder::PossibleValuesParser::new(frameseek_server::transcode::encoder::ENCODERS))]
        encoder: String,
        /// Disk budget of transcoded segments (bytes, or with K/M/G suffix); least recently
        /// used segments are removed past it.
        #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = byte_size)]
        transcode_cache: u64,
        /// Publish a live HLS stream at /live/NAME/master.m3u8 from SOURCE: `testsrc`, a URL
        /// (rtsp://, http://...) or a file played in a loop (repeatable).
        #[arg(long = "live", value_name = "NAME=SOURCE")]
        live: Vec<frameseek_server::live::LiveSpec>,
        /// Live segment duration in seconds (latency is about two or three of these).
        #[arg(long, value_name = "SECS", default_value_t = frameseek_server::live::DEFAULT_SEGMENT_SECS, value_parser = segment_secs)]
        live_segment: f64,
        /// Segments kept in a live playlist's window (older ones are deleted).
        #[arg(long, value_name = "N", default_value_t = frameseek_server::live::DEFAULT_WINDOW, value_parser = clap::value_parser!(usize))]
        live_window: usize,
    },
    /// Write a static-hosting package of IN into OUTDIR: HLS playlists with byte ranges into
    /// one fragmented MP4, a thumbnail sprite with a WebVTT track, and metadata.json.
    Pack {
        /// The MP4/MOV file.
        input: PathBuf,
        /// The package directory (created; must be missing or empty unless --force).
        outdir: PathBuf,
        /// Replace OUTDIR's contents if it is not empty.
        #[arg(long)]
        force: bool,
        /// Segment target duration in seconds (segments start at key frames).
        #[arg(long, value_name = "SECS", default_value_t = frameseek_server::hls::DEFAULT_SEGMENT_SECS, value_parser = segment_secs)]
        segment: f64,
        /// Seconds between thumbnails (default: chosen from the duration, at most ~400).
        #[arg(long, value_name = "SECS", value_parser = segment_secs)]
        thumbnail_interval: Option<f64>,
        /// Do not make the thumbnail sprite and thumbnails.vtt.
        #[arg(long)]
        no_thumbnails: bool,
        /// The ffmpeg executable used for thumbnails.
        #[arg(long, default_value = "ffmpeg")]
        ffmpeg: PathBuf,
    },
}

/// A byte count: digits with an optional K, M, G or T suffix (powers of 1024).
fn byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{s:?}: the suffix must be K, M, G or T")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a size such as 500M or 2G"))
}

/// A positive number of seconds, at most an hour.
fn segment_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 3600]")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Probe { file, json } => probe::run(&file, json),
        Command::Serve {
            dir,
            host,
            port,
            cors_origins,
            cache_dir,
            web_dir,
            ffmpeg,
            hls_segment,
            ffprobe,
            max_transcodes,
            encoder,
            transcode_cache,
            live,
            live_segment,
            live_window,
        } => serve(Config {
            media_dir: dir,
            host,
            port,
            cors_origins,
            cache_dir,
            web_dir,
            ffmpeg,
            hls_segment,
            ffprobe,
            max_transcodes: max_transcodes
                .map_or_else(frameseek_server::transcode::default_max_jobs, |n| {
                    n as usize
                }),
            encoder,
            transcode_cache_bytes: transcode_cache,
            live,
            live_segment,
            live_window: live_window.max(2),
        }),
        Command::Pack {
            input,
            outdir,
            force,
            segment,
            thumbnail_interval,
            no_thumbnails,
            ffmpeg,
        } => frameseek_server::pack::run(&frameseek_server::pack::PackOptions {
            input,
            out: outdir,
            force,
            segment,
            thumbnail_interval,
            no_thumbnails,
            ffmpeg,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frameseek: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `frameseek serve` on a multi-threaded tokio runtime, logging to stderr
/// (`RUST_LOG` filters; default `info`, one line per request).
fn serve(config: Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(frameseek_server::serve(config))
}
