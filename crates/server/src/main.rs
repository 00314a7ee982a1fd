//! The `frameseek` command line: `probe` reports a file's tracks from core's index; `serve`
//! runs the HTTP server; later subcommands pack and extract frames.
//!
//! clap parses the command line (derive API: the help text lives next to each option).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod probe;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Probe { file, json } => probe::run(&file, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frameseek: {e:#}");
            ExitCode::FAILURE
        }
    }
}
