//! The server's own HTTP/1.1 path (on Linux: plain GET/HEAD/OPTIONS, file bodies sent with
//! sendfile) against hyper's, over real TCP with a hand-written client, so that keep-alive,
//! pipelining and closing are under the test's control: the same bytes and headers on both
//! paths, connections that switch from one to the other, HEAD, clients that leave
//! mid-body, a file truncated while it is sent, the access log, graceful shutdown and the
//! header timeout.
//!
//! A request carrying `Content-Length: 0` is not "simple", so it (and the rest of its
//! connection) goes to hyper: that is how these tests reach the hyper path on purpose.

mod common;

use common::{fixture, pattern, Server, DATA_LEN};
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One parsed response.
#[derive(Debug)]
struct Raw {
    status: u16,
    /// Header lines as sent (name lower-cased by the server), in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Headers without `date`, and the body, with a multipart boundary replaced by `B`.
    fn normalized(&self) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let boundary = self
            .header("content-type")
            .and_then(|t| t.split("boundary=").nth(1))
            .map(str::to_string);
        let fix = |s: &str| match &boundary {
            Some(b) => s.replace(b.as_str(), "B"),
            None => s.to_string(),
        };
        let headers = self
            .headers
            .iter()
            .filter(|(k, _)| k != "date")
            .map(|(k, v)| (k.clone(), fix(v)))
            .collect();
        let body = match &boundary {
            Some(b) => String::from_utf8_lossy(&self.body)
                .replace(b.as_str(), "B")
                .into_bytes(),
            None => self.body.clone(),
        };
        (self.status, headers, body)
    }
}

/// A client connection that reads responses one by one.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, raw: &str) {
        self.stream.write_all(raw.as_bytes()).expect("write");
    }

    /// Reads more bytes; false at end of stream (or reset).
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => false,
            Err(e) => panic!("read: {e}"),
        }
    }

    /// Reads one whole response to a request with method `method`.
    fn response(&mut self, method: &str) -> Raw {
        let (status, headers) = self.head();
        let no_body = method == "HEAD" || status == 304 || status == 204;
        let body = if no_body {
            Vec::new()
        } else if let Some(len) = find(&headers, "content-length") {
            let len: usize = len.parse().expect("length");
            self.take(len)
        } else if find(&headers, "transfer-encoding") == Some("chunked") {
            self.chunked()
        } else {
            while self.fill() {}
            std::mem::take(&mut self.buf)
        };
        Raw {
            status,
            headers,
            body,
        }
    }

    /// Reads a response head.
    fn head(&mut self) -> (u16, Vec<(String, String)>) {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            assert!(self.fill(), "connection closed before a response head");
        };
        let text = String::from_utf8(self.buf[..end].to_vec()).expect("ascii head");
        self.buf.drain(..end + 4);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().expect("status line");
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
        let status = status_line[9..12].parse().expect("status");
        let headers = lines
            .map(|l| {
                let (k, v) = l.split_once(": ").expect("header line");
                (k.to_string(), v.to_string())
            })
            .collect();
        (status, headers)
    }

    /// Exactly `n` body bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill(), "connection closed mid-body");
        }
        self.buf.drain(..n).collect()
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf[..i].to_vec()).expect("ascii");
                self.buf.drain(..i + 2);
                return line;
            }
            assert!(self.fill(), "connection closed in a chunk header");
        }
    }

    fn chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let size = usize::from_str_radix(self.line().trim(), 16).expect("chunk size");
            if size == 0 {
                assert_eq!(self.line(), "");
                return body;
            }
            body.extend(self.take(size));
            assert_eq!(self.line(), "");
        }
    }

    /// Whether the server closes the connection within `within` (nothing else arrives).
    fn closed_within(&mut self, within: Duration) -> bool {
        self.stream.set_read_timeout(Some(within)).expect("timeout");
        let mut byte = [0u8; 1];
        let closed = match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => panic!("unexpected bytes after the last response"),
            Err(e) => matches!(e.kind(), ErrorKind::ConnectionReset),
        };
        self.stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        closed
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A request with extra header lines (each ending in CRLF).
fn req(method: &str, target: &str, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n")
}

/// The same request on hyper's path.
fn via_hyper(method: &str, target: &str, extra: &str) -> String {
    req(method, target, &format!("{extra}Content-Length: 0\r\n"))
}

/// A scratch media directory of this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = fixture()
        .root
        .join(format!("fastpath-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn data() -> Vec<u8> {
    fixture().read("data.bin")
}

#[test]
fn both_paths_answer_alike() {
    let s = Server::start();
    let etag = s.head("/media/data.bin", &[]).header("etag").to_string();
    let inm = format!("If-None-Match: {etag}\r\n");
    let cases: Vec<(&str, &str, String)> = vec![
        ("GET", "/media/data.bin", String::new()),
        ("GET", "/media/data.bin", "Range: bytes=100-199\r\n".into()),
        ("GET", "/media/data.bin", "Range: bytes=-500\r\n".into()),
        ("GET", "/media/data.bin", "Range: bytes=0-9, 20-29\r\n".into()),
        ("GET", "/media/data.bin", "Range: bytes=2000000-\r\n".into()),
        ("GET", "/media/data.bin", inm.clone()),
        ("GET", "/media/data.bin", "If-Match: \"nope\"\r\n".into()),
        ("HEAD", "/media/data.bin", "Range: bytes=0-9\r\n".into()),
        ("HEAD", "/media/data.bin", String::new()),
        ("HEAD", "/media/data.bin", inm),
        ("GET", "/media/empty.bin", String::new()),
        ("GET", "/media/nope.bin", String::new()),
        ("GET", "/media/leak.txt", String::new()),
        ("GET", "/media/name%20with%20space.bin", String::new()),
        ("GET", "/media/pack.tar/docs/data.bin", "Range: bytes=10-20\r\n".into()),
        ("GET", "/media/pack.zip/data.bin", String::new()),
        ("GET", "/media/pack.zip/clips/a.mp4", "Range: bytes=0-7,100-\r\n".into()),
        ("GET", "/media/video.mp4", "Origin: https://example.com\r\n".into()),
        (
            "OPTIONS",
            "/media/data.bin",
            "Origin: https://example.com\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\n".into(),
        ),
        ("GET", "/healthz", String::new()),
        ("GET", "/api/videos?limit=2", String::new()),
        ("GET", "/app.js", String::new()),
        ("GET", "/no/such/page", String::new()),
        ("GET", "/media/data.bin", "Range: bytes=5-9\r\nConnection: close\r\n".into()),
    ];
    let mut fast = Conn::open(&s.addr);
    let mut slow = Conn::open(&s.addr);
    for (method, target, extra) in &cases {
        fast.send(&req(method, target, extra));
        slow.send(&via_hyper(method, target, extra));
        let a = fast.response(method);
        let b = slow.response(method);
        assert!(a.header("date").is_some(), "{method} {target}: no date");
        assert_eq!(
            a.normalized(),
            b.normalized(),
            "{method} {target} {extra:?}: the paths differ"
        );
    }
    // The last request asked to close: both paths said so and did.
    assert!(fast.closed_within(Duration::from_secs(5)));
    assert!(slow.closed_within(Duration::from_secs(5)));
}

#[test]
fn keep_alive_mixes_both_paths() {
    let s = Server::start();
    let data = data();
    let before = s.metric(
        "frameseek_http_requests_total",
        "route=\"media\",status=\"206\"",
    );
    let mut c = Conn::open(&s.addr);
    // Simple requests: sendfile, polled JSON, a zip member (sendfile at its offset), HEAD.
    c.send(&req(
        "GET",
        "/media/data.bin",
        "Range: bytes=1000-66535\r\n",
    ));
    let r = c.response("GET");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &data[1000..66536]);
    c.send(&req("GET", "/api/videos?limit=1", ""));
    let r = c.response("GET");
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("\"videos\""));
    c.send(&req(
        "GET",
        "/media/pack.zip/data.bin",
        "Range: bytes=-4096\r\n",
    ));
    let r = c.response("GET");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &data[DATA_LEN - 4096..]);
    c.send(&req("HEAD", "/media/data.bin", ""));
    let r = c.response("HEAD");
    assert_eq!(r.header("content-length"), Some("1048576"));
    c.send(&req("GET", "/media/data.bin", ""));
    let r = c.response("GET");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, data);
    // hyper takes the connection over from here.
    c.send(&via_hyper(
        "GET",
        "/media/pack.tar/docs/data.bin",
        "Range: bytes=0-99\r\n",
    ));
    let r = c.response("GET");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &data[..100]);
    c.send(&req(
        "GET",
        "/media/data.bin",
        "Range: bytes=500000-500099\r\n",
    ));
    let r = c.response("GET");
    assert_eq!(r.body, &data[500_000..500_100]);
    c.send(&req("HEAD", "/media/video.mp4", ""));
    assert_eq!(c.response("HEAD").status, 200);
    c.send(&req("GET", "/healthz", "Connection: close\r\n"));
    let r = c.response("GET");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(5)));
    let after = s.metric(
        "frameseek_http_requests_total",
        "route=\"media\",status=\"206\"",
    );
    assert_eq!(after - before, 4.0, "every 206 counted once");
}

#[test]
fn pipelined_requests() {
    let s = Server::start();
    let data = data();
    let mut c = Conn::open(&s.addr);
    let batch = [
        req("GET", "/media/data.bin", "Range: bytes=0-65535\r\n"),
        req("HEAD", "/media/data.bin", ""),
        req("GET", "/media/data.bin", "Range: bytes=0-1,10-11\r\n"),
        req("GET", "/media/nope.bin", ""),
        req(
            "GET",
            "/media/pack.tar/docs/data.bin",
            "Range: bytes=65536-131071\r\n",
        ),
        req("GET", "/healthz", ""),
    ]
    .concat();
    c.send(&batch);
    let r = c.response("GET");
    assert_eq!(r.body, &data[..65536]);
    let r = c.response("HEAD");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = c.response("GET");
    assert!(r
        .header("content-type")
        .is_some_and(|t| t.starts_with("multipart/byteranges")));
    assert_eq!(c.response("GET").status, 404);
    assert_eq!(c.response("GET").body, &data[65536..131072]);
    assert_eq!(c.response("GET").status, 200);
    // A pipeline that moves to hyper in the middle: the requests after the switch are
    // read by hyper from the bytes already buffered.
    let batch = [
        req("GET", "/media/data.bin", "Range: bytes=10-19\r\n"),
        via_hyper("GET", "/media/data.bin", "Range: bytes=20-29\r\n"),
        req("GET", "/media/data.bin", "Range: bytes=30-39\r\n"),
        req("HEAD", "/media/data.bin", ""),
        req(
            "GET",
            "/media/data.bin",
            "Range: bytes=40-49\r\nConnection: close\r\n",
        ),
    ]
    .concat();
    c.send(&batch);
    for start in [10, 20, 30] {
        assert_eq!(c.response("GET").body, &data[start..start + 10]);
    }
    assert_eq!(c.response("HEAD").status, 200);
    assert_eq!(c.response("GET").body, &data[40..50]);
    assert!(c.closed_within(Duration::from_secs(5)));
}

/// A media directory with one big file.
fn big_tree(name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let dir = scratch(name);
    let bytes = pattern(len, 42);
    fs::write(dir.join("big.bin"), &bytes).expect("write");
    (dir, bytes)
}

/// Waits until `f` holds, up to `limit`.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

#[test]
fn clients_closing_mid_body() {
    let (dir, bytes) = big_tree("abort", 32 << 20);
    let s = Server::serving(&dir, &[]);
    for i in 0..20 {
        let mut c = Conn::open(&s.addr);
        if i % 2 == 0 {
            c.send(&req("GET", "/media/big.bin", ""));
        } else {
            // Pipelined behind a small answer; the big one is left half-read.
            c.send(
                &[
                    req("HEAD", "/media/big.bin", ""),
                    req("GET", "/media/big.bin", ""),
                ]
                .concat(),
            );
            assert_eq!(c.response("HEAD").status, 200);
        }
        let (status, _) = c.head();
        assert_eq!(status, 200);
        c.take(100_000);
        drop(c); // unread bytes: the server sees a reset
    }
    assert_eq!(s.get("/healthz", &[]).status, 200);
    assert!(
        eventually(Duration::from_secs(10), || s
            .metric("frameseek_http_streams_open", "")
            == 0.0),
        "response streams still open"
    );
    let r = s.get("/media/big.bin", &[("Range", "bytes=30000000-30065535")]);
    assert_eq!(r.body, &bytes[30_000_000..30_065_536]);
}

#[test]
fn file_truncated_while_served() {
    let (dir, bytes) = big_tree("truncate", 64 << 20);
    {
        // The same bytes as a tar member, served at its offset.
        let file = fs::File::create(dir.join("pack.tar")).expect("create tar");
        let mut tar = tar::Builder::new(file);
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "big.bin", &bytes[..])
            .expect("tar append");
        tar.finish().expect("finish tar");
    }
    let s = Server::serving(&dir, &[]);
    for (path, file) in [
        ("/media/big.bin", "big.bin"),
        ("/media/pack.tar/big.bin", "pack.tar"),
    ] {
        let mut c = Conn::open(&s.addr);
        c.send(&req("GET", path, ""));
        let (status, headers) = c.head();
        assert_eq!(status, 200, "{path}");
        let len: usize = find(&headers, "content-length")
            .expect("length")
            .parse()
            .expect("number");
        assert_eq!(len, 64 << 20);
        let first = c.take(1 << 20);
        assert_eq!(first, &bytes[..1 << 20], "{path}");
        // The server is now blocked on a full socket, far past 2 MiB of the file.
        std::thread::sleep(Duration::from_millis(200));
        fs::File::options()
            .write(true)
            .open(dir.join(file))
            .expect("open")
            .set_len(2 << 20)
            .expect("truncate");
        let mut got = first.len() + c.buf.len();
        c.buf.clear();
        while c.fill() {
            got += c.buf.len();
            c.buf.clear();
        }
        assert!(got < len, "{path}: {got} bytes of a truncated file");
        assert_eq!(s.get("/healthz", &[]).status, 200);
    }
    // The file as it is now.
    let r = s.get("/media/big.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, &bytes[..2 << 20]);
}

/// `frameseek serve DIR` with the access log on: the child, its address and the log file.
fn logged_server(media: &Path, log: &Path) -> (Child, String) {
    let mut child = Command::new(frameseek_e2e::frameseek_bin())
        .arg("serve")
        .arg(media)
        .args(["--port", "0", "--cache-dir"])
        .arg(media.join(".cache"))
        .arg("--web-dir")
        .arg(&fixture().web)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(fs::File::create(log).expect("log file"))
        .spawn()
        .expect("frameseek serve starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        assert_eq!(out.read(&mut byte).expect("stdout"), 1, "server exited");
        line.push(byte[0]);
    }
    let addr = String::from_utf8(line)
        .expect("utf-8")
        .trim()
        .strip_prefix("listening on http://")
        .expect("listening line")
        .to_string();
    (child, addr)
}

fn access_lines(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("frameseek::access"))
        .map(|l| {
            l.split("frameseek::access: ")
                .nth(1)
                .unwrap_or(l)
                .to_string()
        })
        .collect()
}

#[test]
fn one_access_line_per_request() {
    let (dir, _) = big_tree("log", 16 << 20);
    fs::write(dir.join("small.bin"), b"0123456789").expect("write");
    let log = dir.join("server.log");
    let (mut child, addr) = logged_server(&dir, &log);
    let mut c = Conn::open(&addr);
    c.send(&req("GET", "/media/small.bin", "Range: bytes=2-5\r\n"));
    assert_eq!(c.response("GET").body, b"2345");
    c.send(&req("HEAD", "/media/small.bin", ""));
    c.response("HEAD");
    c.send(&req("GET", "/healthz", ""));
    c.response("GET");
    c.send(&via_hyper("GET", "/media/small.bin", ""));
    assert_eq!(c.response("GET").body, b"0123456789");
    drop(c);
    let mut c = Conn::open(&addr);
    c.send(&req("GET", "/media/big.bin", ""));
    c.head();
    c.take(10_000);
    drop(c);
    let expected = [
        "GET /media/small.bin 206 4B",
        "HEAD /media/small.bin 200 0B",
        "GET /healthz 200 ",
        "GET /media/small.bin 200 10B",
        "GET /media/big.bin 200 ",
    ];
    let done = eventually(Duration::from_secs(10), || {
        access_lines(&log).len() >= expected.len()
    });
    let _ = child.kill();
    let _ = child.wait();
    let lines = access_lines(&log);
    assert!(done, "access lines: {lines:?}");
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(want),
            "{line:?} should start with {want:?}"
        );
    }
    assert!(!lines[0].contains("aborted"));
    assert!(lines[4].ends_with("(aborted)"), "{}", lines[4]);
}

#[test]
fn graceful_shutdown_finishes_responses_in_flight() {
    let (dir, bytes) = big_tree("shutdown", 32 << 20);
    let s = Server::serving(&dir, &[]);
    // Idle keep-alive connections on both paths.
    let mut idle = Conn::open(&s.addr);
    idle.send(&req("GET", "/healthz", ""));
    idle.response("GET");
    let mut idle_hyper = Conn::open(&s.addr);
    idle_hyper.send(&via_hyper("GET", "/healthz", ""));
    idle_hyper.response("GET");
    // A big response in flight, the client reading slowly.
    let mut busy = Conn::open(&s.addr);
    busy.send(&req("GET", "/media/big.bin", ""));
    let (status, _) = busy.head();
    assert_eq!(status, 200);
    let first = busy.take(1 << 20);
    let _ = Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status();
    assert!(
        idle.closed_within(Duration::from_secs(5)),
        "idle connection kept open"
    );
    assert!(
        idle_hyper.closed_within(Duration::from_secs(5)),
        "idle hyper connection kept open"
    );
    let rest = busy.take(bytes.len() - first.len());
    assert!(first == bytes[..first.len()] && rest == bytes[first.len()..]);
    assert!(busy.closed_within(Duration::from_secs(5)));
}

#[test]
fn header_timeout_closes_slow_and_idle_connections() {
    let s = Server::start();
    let mut partial = Conn::open(&s.addr);
    partial.send("GET /media/data.bin HTTP/1.1\r\nHost: x\r\n");
    let mut idle = Conn::open(&s.addr);
    idle.send(&req("GET", "/media/data.bin", "Range: bytes=0-0\r\n"));
    assert_eq!(idle.response("GET").status, 206);
    let start = Instant::now();
    assert!(partial.closed_within(Duration::from_secs(45)));
    assert!(idle.closed_within(Duration::from_secs(45)));
    let waited = start.elapsed();
    assert!(
        waited > Duration::from_secs(25) && waited < Duration::from_secs(40),
        "closed after {waited:?}"
    );
}
