//! frameseek's server: `/media` with RFC 9110 ranges over files and archive members, the
//! video library API with metadata from frameseek-core and thumbnails from ffmpeg, the web
//! package, health and metrics. `main.rs` is the CLI; tests can start the server from here.
//!
//! Map: `server` (connections; on Linux `http1`, the sendfile path in front of hyper) →
//! `routes/` (warp filters) → `respond` (ranges and conditionals for one object, using
//! `range` and `conditional`) → `vfs` (files + `archive` members) → `storage` (the byte
//! source trait; local files). Around them: `library`,
//! `thumbnail`, `probe`, `cors`, `metrics`, `path`, `mime`, `config`, `state`. Beside the
//! remux: `markers` (timeline markers, SQLite), `transcode` (ffmpeg HLS for codecs browsers
//! cannot decode), `live` (ffmpeg live HLS), `child` (their processes), `annotate`.

#![warn(missing_docs)]

pub mod annotate;
pub mod archive;
pub mod child;
pub mod conditional;
pub mod config;
pub mod cors;
pub mod hls;
#[cfg(target_os = "linux")]
mod http1;
pub mod library;
pub mod live;
pub mod markers;
pub mod metrics;
pub mod mime;
pub mod pack;
pub mod path;
pub mod probe;
pub mod range;
pub mod respond;
mod routes;
pub mod server;
pub mod state;
pub mod storage;
pub mod thumbnail;
pub mod transcode;
pub mod utc;
pub mod vfs;

pub use config::Config;

use anyhow::{Context, Result};
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Binds, prints `listening on http://ADDR` on stdout, and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<()> {
    let state = state::AppState::new(&config)?;
    // The encoder (NVENC needs a test encode) before any version token is handed out.
    state.transcoder.init().await;
    let listener = TcpListener::bind(config.addr())
        .await
        .with_context(|| format!("cannot listen on {}", config.addr()))?;
    let addr = listener.local_addr()?;
    state.live.start(state.transcoder.encoder());
    tracing::info!(
        "serving {} (cache {}, web {})",
        config.media_dir.display(),
        state.cache_dir.display(),
        state.web.as_ref().map_or_else(
            || "built-in page".to_string(),
            |w| w.root().display().to_string()
        )
    );
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    server::run(listener, Arc::clone(&state), shutdown_signal()).await;
    state.live.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
