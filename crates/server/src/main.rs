//! The `frameseek` command line: `probe` reports a file's tracks from core's index; `serve`
//! runs the HTTP server; later subcommands pack and extract frames.
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
    },
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
        } => serve(Config {
            media_dir: dir,
            host,
            port,
            cors_origins,
            cache_dir,
            web_dir,
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
