//! CORS: any origin without credentials by default, a fixed list with `--cors-origin`,
//! the range headers exposed, and preflights for `Range` answered.

use crate::common::{request, Server};

const ORIGIN: &str = "https://viewer.example";

#[test]
fn any_origin_by_default() {
    let s = Server::start();
    for path in ["/media/data.bin", "/api/videos", "/healthz"] {
        let r = s.get(path, &[("Origin", ORIGIN), ("Range", "bytes=0-1")]);
        assert_eq!(r.header("access-control-allow-origin"), "*", "{path}");
        assert!(r.opt_header("access-control-allow-credentials").is_none());
        let exposed = r
            .header("access-control-expose-headers")
            .to_ascii_lowercase();
        for h in ["content-range", "accept-ranges", "content-length", "etag"] {
            assert!(exposed.contains(h), "{path}: {h} not exposed in {exposed}");
        }
    }
    // No Origin, no CORS headers needed.
    let r = s.get("/media/data.bin", &[("Range", "bytes=0-1")]);
    assert!(r.opt_header("access-control-allow-origin").is_none());
}

#[test]
fn preflight_for_range() {
    let s = Server::start();
    let r = request(
        "OPTIONS",
        &s.url("/media/video.mp4"),
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "range, if-range"),
        ],
    );
    assert!(r.status == 204 || r.status == 200, "status {}", r.status);
    assert_eq!(r.header("access-control-allow-origin"), "*");
    let allowed = r
        .header("access-control-allow-headers")
        .to_ascii_lowercase();
    assert!(
        allowed.contains("range") && allowed.contains("if-range"),
        "{allowed}"
    );
    assert!(r.header("access-control-allow-methods").contains("GET"));
    assert!(r.opt_header("access-control-max-age").is_some());
}

#[test]
fn restricted_origins() {
    let s = Server::with_args(&[
        "--cors-origin",
        ORIGIN,
        "--cors-origin",
        "http://localhost:3000",
    ]);
    let r = s.get(
        "/media/data.bin",
        &[("Origin", ORIGIN), ("Range", "bytes=0-1")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("access-control-allow-origin"), ORIGIN);
    assert!(r.header("vary").contains("Origin"));
    let r = s.get("/media/data.bin", &[("Origin", "http://localhost:3000")]);
    assert_eq!(
        r.header("access-control-allow-origin"),
        "http://localhost:3000"
    );
    let r = s.get(
        "/media/data.bin",
        &[("Origin", "https://evil.example"), ("Range", "bytes=0-1")],
    );
    assert!(r.opt_header("access-control-allow-origin").is_none());
    let r = request(
        "OPTIONS",
        &s.url("/media/data.bin"),
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(r.status, 403);
    assert!(r.opt_header("access-control-allow-origin").is_none());
    let r = request(
        "OPTIONS",
        &s.url("/media/data.bin"),
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "range"),
        ],
    );
    assert_eq!(r.header("access-control-allow-origin"), ORIGIN);
}
