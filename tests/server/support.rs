//! Helpers for the transcoding, marker and live suites: barcode test sources made with
//! ffmpeg (an MPEG-4 Part 2 .avi, a larger one for load tests), JSON POSTs, the ffmpeg
//! processes a server has started (from /proc), and barcode decodes of a playlist.

#![allow(dead_code)]

use frameseek_e2e::{barcode, ffmpeg, ffmpeg_gray_frames};
use std::fs;
use std::path::{Path, PathBuf};

use std::sync::OnceLock;
use std::time::Duration;

/// The barcode filter of DESIGN.md (bit k: block x in [20k, 20k+20), rows 0..24).
const BARCODE: &str = "geq=lum='if(lt(Y,24),if(mod(floor(N/pow(2,floor(X/20))),2),235,16),p(X,Y))':cb='if(lt(Y,12),128,p(X,Y))':cr='if(lt(Y,12),128,p(X,Y))'";

/// A scratch directory for this test binary, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("server-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// Writes a barcoded MPEG-4 Part 2 AVI (`frames` frames of 320x240 at 25 fps, a key frame
/// every 25, PCM audio) to `path`.
pub fn mpeg4_avi(path: &Path, frames: u32) {
    let graph = format!(
        "testsrc2=size=320x240:rate=25,format=yuv420p[bg];\
         color=c=black:size=320x24:rate=25,format=yuv420p,{BARCODE}[bar];\
         [bg][bar]overlay=0:0:format=yuv420:shortest=1[v];\
         sine=frequency=440:sample_rate=44100[a]"
    );
    let secs = format!("{}", f64::from(frames) / 25.0);
    let n = frames.to_string();
    ffmpeg(&[
        "-filter_complex",
        &graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-frames:v",
        &n,
        "-t",
        &secs,
        "-c:v",
        "mpeg4",
        "-q:v",
        "3",
        "-g",
        "25",
        "-c:a",
        "pcm_s16le",
        "-f",
        "avi",
        path.to_str().expect("utf-8 path"),
    ]);
}

/// Writes `frames` barcoded 320x240 30 fps frames to `path`, encoded with `codec` (ffmpeg
/// output arguments; the container follows the extension).
pub fn barcoded(path: &Path, frames: u32, codec: &[&str]) {
    let graph = format!(
        "testsrc2=size=320x240:rate=30,format=yuv420p[bg];\
         color=c=black:size=320x24:rate=30,format=yuv420p,{BARCODE}[bar];\
         [bg][bar]overlay=0:0:format=yuv420:shortest=1[v]"
    );
    let n = frames.to_string();
    let mut args = vec!["-filter_complex", &graph, "-map", "[v]", "-frames:v", &n];
    args.extend_from_slice(codec);
    args.push(path.to_str().expect("utf-8 path"));
    ffmpeg(&args);
}

/// A 1280x720 MPEG-4 Part 2 AVI of `secs` seconds (30 fps, key frame every second): heavy
/// enough that one segment's encode takes a while. Made once per test binary.
pub fn big_avi(secs: u32) -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = scratch("big-source");
        let path = dir.join("big.avi");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-t",
            &secs.to_string(),
            "-c:v",
            "mpeg4",
            "-q:v",
            "6",
            "-g",
            "30",
            "-f",
            "avi",
            path.to_str().expect("utf-8 path"),
        ]);
        path
    })
}

/// The barcodes of every frame ffmpeg decodes from `input` (a URL or path), in order.
pub fn barcodes(input: &str, width: usize, height: usize) -> Vec<u32> {
    ffmpeg_gray_frames(&["-i", input], None, width, height)
        .iter()
        .map(|f| barcode(f, width))
        .collect()
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// A response: status, headers (lower-case names), body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Any method with an optional JSON body.
pub fn send(method: &str, url: &str, body: Option<&str>) -> Reply {
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let req = b
        .body(body.unwrap_or("").as_bytes().to_vec())
        .expect("request");
    let resp = agent()
        .run(req)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = resp
        .into_body()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// Process ids of the live (not zombie) processes named `name` whose parent is `parent`.
pub fn children_named(parent: u32, name: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (Some(state), Some(ppid)) = (rest.first(), rest.get(1)) else {
            continue;
        };
        if comm == name && *state != "Z" && ppid.parse::<u32>().ok() == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// Whether a process is still alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')')
            .and_then(|c| s[c + 1..].split_whitespace().next().map(|st| st != "Z"))
            .unwrap_or(false)
    })
}

/// Polls `f` every 50 ms until it is true or `limit` passes; returns the time it took.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = std::time::Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Zombie processes named `name` whose parent is `parent` (exited but not reaped).
pub fn zombies_named(parent: u32, name: &str) -> usize {
    let mut n = 0;
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if &stat[open + 1..close] == name
            && rest.first() == Some(&"Z")
            && rest.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(parent)
        {
            n += 1;
        }
    }
    n
}
