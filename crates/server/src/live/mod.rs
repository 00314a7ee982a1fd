//! Live HLS: `--live NAME=SOURCE` runs one ffmpeg per source ([`process`]) that publishes
//! fMP4 HLS (sliding window, program date time on every segment, old segments deleted) into
//! `{cache}/live/NAME/`; the routes serve that directory and add markers as EXT-X-DATERANGE.
//! ffmpeg is restarted with backoff when it exits and killed when the server stops.

pub mod process;

use crate::markers::playlist::insert_live;
use crate::markers::Marker;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Default live segment duration in seconds.
pub const DEFAULT_SEGMENT_SECS: f64 = 2.0;
/// Default number of segments in the live window.
pub const DEFAULT_WINDOW: usize = 6;
/// The media playlist ffmpeg writes.
pub const MEDIA_PLAYLIST: &str = crate::hls::MEDIA_PLAYLIST;

/// Where a live source's pictures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// ffmpeg's generated test pattern (and a tone).
    TestSource,
    /// A URL ffmpeg reads (rtsp, rtmp, http, srt, udp...).
    Url(String),
    /// A file, played in a loop at its own speed.
    File(PathBuf),
}

/// One `--live NAME=SOURCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSpec {
    /// The name in `/live/NAME/` (letters, digits, `_`, `-`).
    pub name: String,
    /// The input.
    pub input: Input,
}

impl std::str::FromStr for LiveSpec {
    type Err = String;

    /// Parses `NAME=SOURCE`: SOURCE is `testsrc`, a URL with a scheme, or a file path.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, source) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not NAME=SOURCE"))?;
        let name = name.trim();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(format!(
                "live name {name:?} must be 1-64 letters, digits, '_' or '-'"
            ));
        }
        let source = source.trim();
        let input = if source == "testsrc" {
            Input::TestSource
        } else if source.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        }) {
            Input::Url(source.to_string())
        } else if source.is_empty() {
            return Err(format!("live source {name} has no SOURCE"));
        } else {
            Input::File(PathBuf::from(source))
        };
        Ok(LiveSpec {
            name: name.to_string(),
            input,
        })
    }
}

/// Live publishing options.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The ffmpeg executable.
    pub ffmpeg: PathBuf,
    /// `{cache}/live`.
    pub root: PathBuf,
    /// Segment duration in seconds.
    pub segment: f64,
    /// Segments in the window.
    pub window: usize,
    /// The encoder name (`libx264`, `h264_nvenc`), as resolved by the transcoder.
    pub encoder: crate::transcode::encoder::Encoder,
}

/// What is known of a running source.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// ffmpeg is running.
    pub up: bool,
    /// The current run's file prefix (changes on every restart).
    #[serde(skip)]
    pub run: Option<String>,
    /// ffmpeg restarts so far.
    pub restarts: u64,
    /// The last error ffmpeg reported, if it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// One live source.
pub struct LiveSource {
    /// The spec it was started from.
    pub spec: LiveSpec,
    /// Its publishing directory.
    pub dir: PathBuf,
    state: Mutex<LiveState>,
}

impl LiveSource {
    /// A copy of the current state.
    pub fn state(&self) -> LiveState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut LiveState)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// The media playlist ffmpeg wrote, if any yet.
    pub async fn media_playlist(&self) -> Option<String> {
        let text = tokio::fs::read_to_string(self.dir.join(MEDIA_PLAYLIST))
            .await
            .ok()?;
        text.starts_with("#EXTM3U").then_some(text)
    }

    /// Whether `name` may be served from the directory (a file of the current window).
    pub fn servable(name: &str) -> bool {
        !name.starts_with('.')
            && !name.contains('/')
            && (name.ends_with(".m4s") || name.ends_with(".mp4"))
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    }
}

/// The window of a live playlist: (date of its first segment, the live edge), in seconds
/// since the epoch, from its EXT-X-PROGRAM-DATE-TIME tags.
pub fn window(playlist: &str) -> Option<(f64, f64)> {
    let parsed = frameseek_core::hls::playlist::parse_media(playlist.as_bytes()).ok()?;
    let dates = parsed.segment_dates();
    let first = (*dates.first()?)?;
    let last = parsed.segments.last()?;
    let edge = (*dates.last()?)? + last.duration;
    Some((first, edge))
}

/// The live playlist with `markers` as date ranges.
pub fn with_markers(playlist: &str, markers: &[Marker]) -> String {
    insert_live(playlist, markers)
}

/// Every live source and the tasks that run them.
pub struct Live {
    sources: Vec<Arc<LiveSource>>,
    options: LiveOptions,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Live {
    /// The sources of `specs` (nothing runs until [`Live::start`]).
    pub fn new(specs: &[LiveSpec], options: LiveOptions) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let sources = specs
            .iter()
            .map(|spec| {
                let mut spec = spec.clone();
                // ffmpeg runs inside the publishing directory: anchor relative file paths to
                // the directory the server was started from.
                if let Input::File(path) = &spec.input {
                    if path.is_relative() {
                        spec.input = Input::File(cwd.join(path));
                    }
                }
                Arc::new(LiveSource {
                    dir: options.root.join(&spec.name),
                    spec,
                    state: Mutex::new(LiveState::default()),
                })
            })
            .collect();
        Live {
            sources,
            options,
            stop: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The source called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<LiveSource>> {
        self.sources.iter().find(|s| s.spec.name == name)
    }

    /// Every source.
    pub fn sources(&self) -> &[Arc<LiveSource>] {
        &self.sources
    }

    /// Starts one supervisor task per source (with the encoder chosen by then).
    pub fn start(&self, encoder: crate::transcode::encoder::Encoder) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        if !tasks.is_empty() {
            return;
        }
        let mut options = self.options.clone();
        options.encoder = encoder;
        for source in &self.sources {
            let source = Arc::clone(source);
            let options = options.clone();
            let stop = self.stop.subscribe();
            tasks.push(tokio::spawn(process::supervise(source, options, stop)));
        }
    }

    /// Stops every ffmpeg and waits for them to exit.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
    }

    /// Prometheus text for `/metrics`.
    pub fn render_metrics(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if self.sources.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "# HELP frameseek_live_up Whether a live source's ffmpeg is running."
        );
        let _ = writeln!(out, "# TYPE frameseek_live_up gauge");
        for s in &self.sources {
            let _ = writeln!(
                out,
                "frameseek_live_up{{name=\"{}\"}} {}",
                s.spec.name,
                u8::from(s.state().up)
            );
        }
        let _ = writeln!(
            out,
            "# HELP frameseek_live_restarts_total Live ffmpeg restarts."
        );
        let _ = writeln!(out, "# TYPE frameseek_live_restarts_total counter");
        for s in &self.sources {
            let _ = writeln!(
                out,
                "frameseek_live_restarts_total{{name=\"{}\"}} {}",
                s.spec.name,
                s.state().restarts
            );
        }
        out
    }
}

/// Removes everything in `dir` (what an earlier run left), creating it if needed.
pub(crate) fn clear_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s: LiveSpec = "cam1=testsrc".parse().expect("spec");
        assert_eq!(s.input, Input::TestSource);
        let s: LiveSpec = "door=rtsp://10.0.0.2/stream?x=1".parse().expect("spec");
        assert_eq!(s.input, Input::Url("rtsp://10.0.0.2/stream?x=1".into()));
        let s: LiveSpec = "loop=media/a=b.mp4".parse().expect("spec");
        assert_eq!(s.input, Input::File(PathBuf::from("media/a=b.mp4")));
        for bad in ["noequals", "=testsrc", "a b=testsrc", "x=", "../x=testsrc"] {
            assert!(bad.parse::<LiveSpec>().is_err(), "{bad}");
        }
        assert!(LiveSource::servable("r1-seg-4.m4s"));
        assert!(LiveSource::servable("r1-init.mp4"));
        assert!(!LiveSource::servable("media.m3u8"));
        assert!(!LiveSource::servable("../x.m4s"));
        assert!(!LiveSource::servable(".r1-seg-4.m4s"));
        // ffmpeg runs in the publishing directory: relative files are made absolute.
        let live = Live::new(
            &["f=clips/a.mp4".parse().expect("spec")],
            LiveOptions {
                ffmpeg: PathBuf::from("ffmpeg"),
                root: PathBuf::from("/tmp/live"),
                segment: 2.0,
                window: 6,
                encoder: crate::transcode::encoder::Encoder::X264,
            },
        );
        let source = live.get("f").expect("source");
        assert!(
            matches!(&source.spec.input, Input::File(p) if p.is_absolute() && p.ends_with("clips/a.mp4"))
        );
        assert_eq!(source.dir, PathBuf::from("/tmp/live/f"));
    }

    #[test]
    fn windows_from_program_dates() {
        let pl = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:5\n\
                  #EXT-X-MAP:URI=\"r1-init.mp4\"\n#EXTINF:1.000000,\n\
                  #EXT-X-PROGRAM-DATE-TIME:2026-11-21T06:33:38.005+0000\nr1-seg-5.m4s\n\
                  #EXTINF:1.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T06:33:39.005+0000\n\
                  r1-seg-6.m4s\n";
        let (first, edge) = window(pl).expect("window");
        assert!((edge - first - 2.0).abs() < 1e-6, "{first} {edge}");
        assert!(first > 1.7e9);
    }
}
