//! `/media`: 200, 206 (every range form), multipart/byteranges byte for byte, 416, ignored
//! headers, the count cap, HEAD, content types, and bodies streamed without buffering.

use crate::common::{fixture, Server, DATA_LEN};

fn slice(data: &[u8], first: usize, last: usize) -> Vec<u8> {
    data[first..=last].to_vec()
}

#[test]
fn full_get_has_validators_and_length() {
    let s = Server::start();
    let r = s.get("/media/data.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, fixture().read("data.bin"));
    assert_eq!(r.header("content-length"), DATA_LEN.to_string());
    assert_eq!(r.header("accept-ranges"), "bytes");
    assert_eq!(r.header("content-type"), "application/octet-stream");
    let etag = r.header("etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong etag: {etag}"
    );
    assert!(r.header("last-modified").ends_with("GMT"));
    assert!(r.header("cache-control").contains("max-age"));
    // The same file twice: same validators.
    let again = s.head("/media/data.bin", &[]);
    assert_eq!(again.header("etag"), etag);
}

#[test]
fn single_range_forms() {
    let s = Server::start();
    let data = fixture().read("data.bin");
    let len = data.len();
    let cases: Vec<(String, usize, usize)> = vec![
        ("bytes=0-0".into(), 0, 0),
        ("bytes=0-99".into(), 0, 99),
        ("bytes=1000-1999".into(), 1000, 1999),
        (format!("bytes={}-", len - 10), len - 10, len - 1),
        ("bytes=-500".into(), len - 500, len - 1),
        (format!("bytes={}-{}", len - 1, len - 1), len - 1, len - 1),
        // End past EOF is clamped; a suffix longer than the file is the whole file.
        (format!("bytes=100-{}", len * 4), 100, len - 1),
        (format!("bytes=-{}", len * 2), 0, len - 1),
        ("BYTES=5-9".into(), 5, 9),
    ];
    for (header, first, last) in cases {
        let r = s.get("/media/data.bin", &[("Range", &header)]);
        assert_eq!(r.status, 206, "{header}");
        assert_eq!(
            r.header("content-range"),
            format!("bytes {first}-{last}/{len}"),
            "{header}"
        );
        assert_eq!(
            r.header("content-length"),
            (last - first + 1).to_string(),
            "{header}"
        );
        assert_eq!(r.body, slice(&data, first, last), "{header}");
        assert_eq!(r.header("content-type"), "application/octet-stream");
    }
}

#[test]
fn unsatisfiable_is_416_with_star_range() {
    let s = Server::start();
    let len = DATA_LEN;
    for header in [
        format!("bytes={len}-"),
        format!("bytes={}-{}", len + 5, len + 10),
        "bytes=-0".to_string(),
        format!("bytes={len}-{}, {}-", len + 1, len + 100),
    ] {
        let r = s.get("/media/data.bin", &[("Range", &header)]);
        assert_eq!(r.status, 416, "{header}");
        assert_eq!(r.header("content-range"), format!("bytes */{len}"));
        assert!(r.body.is_empty());
    }
    let r = s.get("/media/empty.bin", &[("Range", "bytes=0-")]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), "bytes */0");
    let r = s.get("/media/empty.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), "0");
}

#[test]
fn ignored_range_headers_give_the_whole_file() {
    let s = Server::start();
    let data = fixture().read("data.bin");
    for header in [
        "items=0-10",
        "bytes",
        "bytes=",
        "bytes=10-5",
        "bytes=abc",
        "bytes=1-2-3",
        "bytes=0-1,x",
        "bytes=99999999999999999999999999-",
    ] {
        let r = s.get("/media/data.bin", &[("Range", header)]);
        assert_eq!(r.status, 200, "{header}");
        assert_eq!(r.body.len(), data.len(), "{header}");
        assert!(r.opt_header("content-range").is_none(), "{header}");
    }
}

/// Parses a multipart/byteranges body strictly: every byte accounted for.
fn expected_multipart(
    boundary: &str,
    ctype: &str,
    parts: &[(usize, usize)],
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (first, last)) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {first}-{last}/{}\r\n\r\n",
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&data[*first..=*last]);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn boundary_of(ctype: &str) -> String {
    let b = ctype
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {ctype}"));
    assert!(b.len() >= 16 && b.len() <= 70, "boundary length: {b}");
    b.to_string()
}

#[test]
fn multipart_byteranges_byte_for_byte() {
    let s = Server::start();
    let data = fixture().read("data.bin");
    let len = data.len();
    let cases: Vec<(String, Vec<(usize, usize)>)> = vec![
        ("bytes=0-9, 100-199".into(), vec![(0, 9), (100, 199)]),
        ("bytes=0-0,2-2,4-4".into(), vec![(0, 0), (2, 2), (4, 4)]),
        // Out of order: sorted.
        (
            "bytes=5000-5009, 10-19".into(),
            vec![(10, 19), (5000, 5009)],
        ),
        // Suffix and clamped end among others.
        (
            format!("bytes=0-3, -4, 200-{}", len * 3),
            vec![(0, 3), (200, len - 1)],
        ),
        // Unsatisfiable parts dropped.
        (
            format!("bytes=0-1, {}-, 10-11", len + 1),
            vec![(0, 1), (10, 11)],
        ),
        // Large parts cross chunk boundaries.
        (
            "bytes=0-300000, 600000-999999".into(),
            vec![(0, 300000), (600000, 999999)],
        ),
    ];
    for (header, parts) in cases {
        let r = s.get("/media/data.bin", &[("Range", &header)]);
        assert_eq!(r.status, 206, "{header}");
        let boundary = boundary_of(r.header("content-type"));
        let expected = expected_multipart(&boundary, "application/octet-stream", &parts, &data);
        assert_eq!(
            r.header("content-length"),
            expected.len().to_string(),
            "{header}"
        );
        assert!(r.body == expected, "{header}: multipart body differs");
        assert!(r.opt_header("content-range").is_none());
    }
    // mp4 parts carry the file's type.
    let video = fixture().read("video.mp4");
    let r = s.get("/media/video.mp4", &[("Range", "bytes=0-7, 16-23")]);
    let boundary = boundary_of(r.header("content-type"));
    assert_eq!(
        r.body,
        expected_multipart(&boundary, "video/mp4", &[(0, 7), (16, 23)], &video)
    );
}

#[test]
fn overlapping_and_adjacent_ranges_coalesce() {
    let s = Server::start();
    let data = fixture().read("data.bin");
    for (header, first, last) in [
        ("bytes=0-99, 50-149", 0, 149),
        ("bytes=0-99, 100-199", 0, 199),
        ("bytes=10-20, 0-5, 6-9", 0, 20),
        ("bytes=0-9, 0-9, 0-9, 0-9", 0, 9),
        ("bytes=-100, 1048500-", DATA_LEN - 100, DATA_LEN - 1),
    ] {
        let r = s.get("/media/data.bin", &[("Range", header)]);
        assert_eq!(r.status, 206, "{header}");
        assert_eq!(
            r.header("content-range"),
            format!("bytes {first}-{last}/{DATA_LEN}"),
            "{header}"
        );
        assert_eq!(r.body, slice(&data, first, last));
    }
    // Overlaps inside a multipart answer are merged too.
    let r = s.get("/media/data.bin", &[("Range", "bytes=0-9, 5-14, 100-109")]);
    let boundary = boundary_of(r.header("content-type"));
    assert_eq!(
        r.body,
        expected_multipart(
            &boundary,
            "application/octet-stream",
            &[(0, 14), (100, 109)],
            &data
        )
    );
}

#[test]
fn range_count_is_capped_never_amplified() {
    let s = Server::start();
    // 40 disjoint ranges: more parts than served -> the whole file, once.
    let many: Vec<String> = (0..40).map(|i| format!("{}-{}", i * 10, i * 10)).collect();
    let r = s.get(
        "/media/data.bin",
        &[("Range", &format!("bytes={}", many.join(",")))],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), DATA_LEN);
    // 200 copies of the whole file asked for: one copy at most.
    let amplify = vec!["0-"; 200].join(",");
    let r = s.get("/media/data.bin", &[("Range", &format!("bytes={amplify}"))]);
    assert!(r.status == 200 || r.status == 416, "status {}", r.status);
    assert!(r.body.len() <= DATA_LEN);
    // 100 overlapping whole-file ranges coalesce into one part.
    let hundred = vec!["0-"; 100].join(",");
    let r = s.get("/media/data.bin", &[("Range", &format!("bytes={hundred}"))]);
    assert!(r.body.len() <= DATA_LEN);
    // 32 parts are still served as multipart.
    let ok: Vec<String> = (0..32).map(|i| format!("{}-{}", i * 10, i * 10)).collect();
    let r = s.get(
        "/media/data.bin",
        &[("Range", &format!("bytes={}", ok.join(",")))],
    );
    assert_eq!(r.status, 206);
}

#[test]
fn head_matches_get_without_a_body() {
    let s = Server::start();
    for range in [
        None,
        Some("bytes=0-99"),
        Some("bytes=0-1, 5-6"),
        Some("bytes=999999999-"),
    ] {
        let headers: Vec<(&str, &str)> = range.map(|r| vec![("Range", r)]).unwrap_or_default();
        let get = s.get("/media/data.bin", &headers);
        let head = s.head("/media/data.bin", &headers);
        assert_eq!(head.status, get.status, "{range:?}");
        for name in [
            "content-length",
            "etag",
            "last-modified",
            "accept-ranges",
            "content-range",
        ] {
            assert_eq!(
                head.opt_header(name),
                get.opt_header(name),
                "{range:?} {name}"
            );
        }
        if get.status != 206 || range.is_some_and(|r| !r.contains(',')) {
            assert_eq!(
                head.opt_header("content-type"),
                get.opt_header("content-type")
            );
        }
    }
    // HEAD on the raw socket: no body bytes follow the headers.
    let (status, out) =
        s.raw(b"HEAD /media/data.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&out);
    assert!(text.ends_with("\r\n\r\n"), "HEAD sent a body");
    assert!(text
        .to_ascii_lowercase()
        .contains(&format!("content-length: {DATA_LEN}")));
}

#[test]
fn content_type_by_extension() {
    let s = Server::start();
    for (ext, ctype) in [
        ("mp4", "video/mp4"),
        ("mov", "video/quicktime"),
        ("m3u8", "application/vnd.apple.mpegurl"),
        ("ts", "video/mp2t"),
        ("m4s", "video/iso.segment"),
        ("jpg", "image/jpeg"),
        ("json", "application/json"),
        ("js", "text/javascript; charset=utf-8"),
        ("wasm", "application/wasm"),
        ("html", "text/html; charset=utf-8"),
        ("css", "text/css; charset=utf-8"),
    ] {
        let r = s.get(&format!("/media/types/x.{ext}"), &[]);
        assert_eq!(r.status, 200, "{ext}");
        assert_eq!(r.header("content-type"), ctype, "{ext}");
        assert_eq!(r.header("x-content-type-options"), "nosniff");
    }
    let r = s.get("/media/name%20with%20space.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"spaced");
}

#[test]
fn methods_other_than_get_and_head_are_refused() {
    let s = Server::start();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = crate::common::request(method, &s.url("/media/data.bin"), &[]);
        assert_eq!(r.status, 405, "{method}");
        assert!(r.header("allow").contains("GET"));
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn large_bodies_are_streamed_not_buffered() {
    use std::io::Read;
    let s = Server::start();
    // A 512 MiB sparse file: reading it costs no disk, buffering it would cost 512 MiB.
    let big = fixture().media.join("sparse-big.bin");
    let size: u64 = 512 << 20;
    {
        let f = std::fs::File::create(&big).expect("create");
        f.set_len(size).expect("set_len");
    }
    let before = rss_kib(s.pid());
    let resp = ureq::get(&s.url("/media/sparse-big.bin"))
        .call()
        .expect("GET");
    let mut reader = resp.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 20];
    let mut total: u64 = 0;
    let mut peak = 0;
    loop {
        let n = reader.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
        if total % (32 << 20) < n as u64 {
            peak = peak.max(rss_kib(s.pid()));
        }
    }
    let _ = std::fs::remove_file(&big);
    assert_eq!(total, size);
    assert!(
        peak < before + 64 * 1024,
        "server RSS grew from {before} KiB to {peak} KiB while streaming"
    );
}
