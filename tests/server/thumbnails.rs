//! Thumbnails: valid JPEGs at the asked width, cached on disk (atomic, no temp files left),
//! concurrent requests sharing one ffmpeg run, failures as 500 JSON while the server keeps
//! serving, parameter checks, members of archives.

use crate::common::{Resp, Server};

/// (width, height) from a baseline/progressive JPEG's SOF marker.
fn jpeg_size(bytes: &[u8]) -> Option<(u16, u16)> {
    if bytes.len() < 4 || bytes[..2] != [0xFF, 0xD8] || bytes[bytes.len() - 2..] != [0xFF, 0xD9] {
        return None;
    }
    let mut i = 2;
    while i + 9 < bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if (0xC0..=0xC3).contains(&marker) {
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

fn thumb_url(s: &Server, q: &str, params: &str) -> String {
    let page = s.get(&format!("/api/videos?q={q}"), &[]).json();
    let url = page["videos"][0]["urls"]["thumbnail"]
        .as_str()
        .expect("thumbnail url")
        .to_string();
    format!("{url}{params}")
}

fn assert_jpeg(r: &Resp, width: u16, height: u16) {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), "image/jpeg");
    assert_eq!(jpeg_size(&r.body), Some((width, height)));
}

fn runs(s: &Server) -> f64 {
    s.metric("frameseek_thumbnail_ffmpeg_runs_total", "")
}

#[test]
fn valid_jpeg_at_the_asked_width() {
    let s = Server::start();
    let url = thumb_url(&s, "lib/v03", "");
    assert_jpeg(&s.get(&url, &[]), 320, 240);
    let url = thumb_url(&s, "lib/v03", "?width=160&t=1.5");
    assert_jpeg(&s.get(&url, &[]), 160, 120);
    // Odd widths are rounded down to even; a time past the end is clamped.
    let url = thumb_url(&s, "lib/v03", "?width=101&t=999");
    assert_jpeg(&s.get(&url, &[]), 100, 76);
    // Members of archives, through ffmpeg's subfile protocol.
    for q in ["pack.tar/", "pack.zip/"] {
        let url = thumb_url(&s, q, "?width=64");
        assert_jpeg(&s.get(&url, &[]), 64, 48);
    }
}

#[test]
fn cached_on_disk_and_revalidated() {
    let s = Server::start();
    let url = thumb_url(&s, "lib/v04", "?width=200");
    let first = s.get(&url, &[]);
    assert_jpeg(&first, 200, 150);
    assert_eq!(runs(&s), 1.0);
    let second = s.get(&url, &[]);
    assert_eq!(second.body, first.body);
    assert_eq!(runs(&s), 1.0, "a cached thumbnail ran ffmpeg again");
    let etag = first.header("etag").to_string();
    let r = s.get(&url, &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    let dir = s.cache.join("thumbnails");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .expect("thumbnail dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".jpg")).count(),
        1,
        "{files:?}"
    );
    assert!(
        !files.iter().any(|f| f.ends_with(".tmp")),
        "temp file left: {files:?}"
    );
    // A restarted server finds it on disk.
    let cache = s.cache.clone();
    drop(s);
    let s2 = Server::with_args(&["--cache-dir", cache.to_str().expect("utf-8")]);
    let third = s2.get(&url, &[]);
    assert_eq!(third.body, first.body);
    assert_eq!(runs(&s2), 0.0);
}

#[test]
fn concurrent_requests_share_one_ffmpeg() {
    let s = Server::start();
    let url = thumb_url(&s, "lib/v05", "?width=240&t=0.7");
    let bodies: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let r = s.get(&url, &[]);
                    assert_jpeg(&r, 240, 180);
                    r.body
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        runs(&s),
        1.0,
        "concurrent requests ran ffmpeg more than once"
    );
}

#[test]
fn ffmpeg_failure_is_500_json_and_the_server_keeps_serving() {
    let s = Server::start();
    let url = thumb_url(&s, "broken", "");
    for _ in 0..2 {
        let r = s.get(&url, &[]);
        assert_eq!(r.status, 500);
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("ffmpeg")));
    }
    assert!(s.metric("frameseek_thumbnail_failures_total", "") >= 1.0);
    assert_eq!(s.get("/healthz", &[]).status, 200);
    assert_jpeg(&s.get(&thumb_url(&s, "lib/v06", "?width=32"), &[]), 32, 24);
}

#[test]
fn bad_parameters_are_400() {
    let s = Server::start();
    for params in [
        "?width=5",
        "?width=abc",
        "?width=5000",
        "?t=-1",
        "?t=abc",
        "?t=inf",
    ] {
        let url = thumb_url(&s, "lib/v07", params);
        let r = s.get(&url, &[]);
        assert_eq!(r.status, 400, "{params}");
        assert!(r.json()["error"].is_string());
    }
}
