//! Shared pieces of the server conformance suite: the media tree it serves (made once per
//! run with ffmpeg and the tar/zip crates), a running `frameseek serve` on a free port, a real
//! HTTP client (ureq), and raw request lines over TcpStream for paths a client would clean.

#![allow(dead_code)]

use frameseek_e2e::ffmpeg;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// Contents of `outside/secret.txt`, which must never come back.
pub const SECRET: &str = "TOP-SECRET-frameseek-outside-the-root";
/// Length of `data.bin`.
pub const DATA_LEN: usize = 1 << 20;

/// The tree served by the tests.
pub struct Fixture {
    /// Everything lives under here.
    pub root: PathBuf,
    /// The served directory.
    pub media: PathBuf,
    /// A web package directory (index.html, app.js, mod.wasm).
    pub web: PathBuf,
    /// A web directory without index.html (the built-in page answers `/`).
    pub web_empty: PathBuf,
}

impl Fixture {
    /// Bytes of a file under the media directory.
    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.media.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }
}

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

fn set_mtime(path: &Path, secs_ago: u64) {
    let t = SystemTime::now() - Duration::from_secs(secs_ago);
    let f = fs::File::options()
        .write(true)
        .open(path)
        .expect("open for mtime");
    f.set_modified(t).expect("set mtime");
}

/// The fixture tree, made once per test binary.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Trees of earlier runs whose process is gone.
    for entry in fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("server-conformance-") {
            if !Path::new("/proc").join(pid).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let root = tmp.join(format!("server-conformance-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let media = root.join("media");
    let outside = root.join("outside");
    let web = root.join("web");
    let web_empty = root.join("web-empty");
    for d in [&media, &outside, &web, &web_empty] {
        fs::create_dir_all(d).expect("mkdir");
    }
    fs::create_dir_all(media.join("clips")).expect("mkdir");
    fs::create_dir_all(media.join("lib")).expect("mkdir");
    fs::create_dir_all(media.join("types")).expect("mkdir");

    // Plain bytes with known content.
    fs::write(media.join("data.bin"), pattern(DATA_LEN, 1)).expect("write");
    fs::write(media.join("empty.bin"), b"").expect("write");
    fs::write(media.join("name with space.bin"), b"spaced").expect("write");
    fs::write(media.join(".hidden.txt"), b"hidden").expect("write");
    for ext in [
        "mp4", "mov", "m3u8", "ts", "m4s", "jpg", "json", "js", "wasm", "html", "css",
    ] {
        fs::write(media.join("types").join(format!("x.{ext}")), b"x").expect("write");
    }
    fs::write(outside.join("secret.txt"), SECRET).expect("write");
    std::os::unix::fs::symlink("../outside", media.join("escape")).expect("symlink");
    std::os::unix::fs::symlink("../outside/secret.txt", media.join("leak.txt")).expect("symlink");
    std::os::unix::fs::symlink(outside.join("secret.txt"), media.join("abs-leak.txt"))
        .expect("symlink");
    std::os::unix::fs::symlink("data.bin", media.join("alias.bin")).expect("symlink");

    // Videos: one with moov first, one with moov last, one that is not a video at all.
    let video = media.join("video.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25:duration=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-movflags",
        "+faststart",
        video.to_str().expect("utf-8 path"),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=176x144:rate=30:duration=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        media.join("clips/late.mp4").to_str().expect("utf-8 path"),
    ]);
    fs::write(media.join("broken.mp4"), pattern(4096, 7)).expect("write");
    // A dozen library entries with known ages (lib/v11 newest).
    let video_bytes = fs::read(&video).expect("read video");
    for i in 0..12u64 {
        let p = media.join(format!("lib/v{i:02}.mp4"));
        fs::write(&p, &video_bytes).expect("write");
        set_mtime(&p, 100 - i);
    }
    set_mtime(&video, 1000);
    set_mtime(&media.join("clips/late.mp4"), 2000);
    set_mtime(&media.join("broken.mp4"), 3000);

    // Archives: a tar and a zip holding the video and the data at inner offsets.
    let data = fs::read(media.join("data.bin")).expect("read data");
    {
        let file = fs::File::create(media.join("pack.tar")).expect("create tar");
        let mut tar = tar::Builder::new(file);
        append_tar(&mut tar, "readme.txt", b"hello from a tar\n");
        append_tar(&mut tar, "clips/a.mp4", &video_bytes);
        append_tar(&mut tar, "docs/data.bin", &data);
        tar.finish().expect("finish tar");
    }
    {
        use zip::write::SimpleFileOptions;
        let file = fs::File::create(media.join("pack.zip")).expect("create zip");
        let mut zip = zip::ZipWriter::new(file);
        let stored = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false);
        zip.start_file("clips/a.mp4", stored).expect("zip entry");
        zip.write_all(&video_bytes).expect("zip write");
        zip.start_file("data.bin", stored).expect("zip entry");
        zip.write_all(&data).expect("zip write");
        zip.finish().expect("finish zip");
    }
    set_mtime(&media.join("pack.tar"), 5000);
    set_mtime(&media.join("pack.zip"), 6000);

    // Web package.
    fs::write(
        web.join("index.html"),
        b"<!doctype html><title>web package</title>",
    )
    .expect("write");
    fs::write(web.join("app.js"), b"export const x = 1;\n").expect("write");
    fs::write(web.join("mod.wasm"), b"\0asm\x01\0\0\0").expect("write");

    Fixture {
        root,
        media,
        web,
        web_empty,
    }
}

fn append_tar(tar: &mut tar::Builder<fs::File>, name: &str, bytes: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
        .expect("tar append");
}

/// A running `frameseek serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its cache directory.
    pub cache: PathBuf,
}

impl Server {
    /// Serves the fixture with the web package and default options.
    pub fn start() -> Server {
        Server::with_args(&[])
    }

    /// Serves the fixture with extra `serve` arguments (a `--web-dir` among them replaces
    /// the default one).
    pub fn with_args(extra: &[&str]) -> Server {
        Server::serving(&fixture().media, extra)
    }

    /// Serves another directory.
    pub fn serving(media: &Path, extra: &[&str]) -> Server {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let fx = fixture();
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cache = fx.root.join(format!("cache-{n}"));
        let mut cmd = Command::new(frameseek_e2e::frameseek_bin());
        cmd.arg("serve").arg(media).args(["--port", "0"]);
        let cache = match extra.iter().position(|a| *a == "--cache-dir") {
            Some(i) => PathBuf::from(extra.get(i + 1).copied().unwrap_or_default()),
            None => {
                cmd.arg("--cache-dir").arg(&cache);
                cache
            }
        };
        if !extra.contains(&"--web-dir") {
            cmd.arg("--web-dir").arg(&fx.web);
        }
        cmd.args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("frameseek serve starts");
        let mut stdout = child.stdout.take().expect("stdout");
        // Read the "listening on http://ADDR" line.
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\n") {
            match stdout.read(&mut byte) {
                Ok(1) => line.push(byte[0]),
                _ => {
                    let _ = child.kill();
                    panic!("frameseek serve exited before listening");
                }
            }
        }
        let line = String::from_utf8_lossy(&line).trim().to_string();
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, addr, cache }
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The library item (`GET /api/videos`) whose path is `path`; panics when it is not listed.
    pub fn library_item(&self, path: &str) -> serde_json::Value {
        let list = self.get("/api/videos?limit=500", &[]).json();
        list["videos"]
            .as_array()
            .expect("videos")
            .iter()
            .find(|v| v["path"] == path)
            .cloned()
            .unwrap_or_else(|| panic!("{path} is not in the library: {list}"))
    }

    /// The library id of `path`.
    pub fn id_of(&self, path: &str) -> String {
        self.library_item(path)["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// GET with headers.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        request("GET", &self.url(path), headers)
    }

    /// HEAD with headers.
    pub fn head(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        request("HEAD", &self.url(path), headers)
    }

    /// A raw request line and headers written to the socket as-is; returns the status and
    /// the whole response.
    pub fn raw(&self, request: &[u8]) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(request).expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let status = std::str::from_utf8(&out)
            .ok()
            .or_else(|| std::str::from_utf8(&out[..out.len().min(12)]).ok())
            .and_then(|t| t.split(' ').nth(1))
            .and_then(|c| c.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, out)
    }

    /// A metric's value from /metrics (the sum over its label sets that contain `labels`).
    pub fn metric(&self, name: &str, labels: &str) -> f64 {
        let text = String::from_utf8(self.get("/metrics", &[]).body).expect("utf-8");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| {
                let key = l.split(' ').next().unwrap_or("");
                (key == name || key.starts_with(&format!("{name}{{"))) && key.contains(labels)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A header value (case-insensitive name); panics if absent.
    pub fn header(&self, name: &str) -> &str {
        self.opt_header(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    /// A header value, if present.
    pub fn opt_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// Any request through ureq.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let req = builder.body(()).expect("request");
    let resp = agent()
        .run(req)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = if method == "HEAD" {
        Vec::new()
    } else {
        resp.into_body()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .expect("body")
    };
    Resp {
        status,
        headers,
        body,
    }
}
