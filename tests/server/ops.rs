//! `/healthz`, `/metrics` (Prometheus text), the web package and the built-in page at `/`,
//! unknown routes.

use crate::common::{fixture, Server};

#[test]
fn healthz() {
    let s = Server::start();
    let r = s.get("/healthz", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
}

#[test]
fn metrics_count_routes_statuses_and_bytes() {
    let s = Server::start();
    for _ in 0..3 {
        assert_eq!(
            s.get("/media/data.bin", &[("Range", "bytes=0-999")]).status,
            206
        );
    }
    assert_eq!(s.get("/media/nope.bin", &[]).status, 404);
    let r = s.get("/metrics", &[]);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8(r.body).expect("utf-8");
    for name in [
        "frameseek_http_requests_total",
        "frameseek_http_response_bytes_total",
        "frameseek_http_streams_open",
        "frameseek_http_connections_open",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
    }
    assert_eq!(
        s.metric(
            "frameseek_http_requests_total",
            "route=\"media\",status=\"206\""
        ),
        3.0
    );
    assert_eq!(
        s.metric(
            "frameseek_http_requests_total",
            "route=\"media\",status=\"404\""
        ),
        1.0
    );
    assert!(s.metric("frameseek_http_response_bytes_total", "") >= 3000.0);
    // Only the /metrics response itself is open while it is rendered.
    assert!(s.metric("frameseek_http_streams_open", "") <= 1.0);
}

#[test]
fn web_package_at_root() {
    let s = Server::start();
    let r = s.get("/", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(
        r.body,
        std::fs::read(fixture().web.join("index.html")).expect("read")
    );
    let r = s.get("/app.js", &[]);
    assert_eq!(r.header("content-type"), "text/javascript; charset=utf-8");
    let r = s.get("/mod.wasm", &[]);
    assert_eq!(r.header("content-type"), "application/wasm");
    assert_eq!(r.body, b"\0asm\x01\0\0\0");
    assert_eq!(s.get("/missing.js", &[]).status, 404);
}

#[test]
fn builtin_page_without_a_web_package() {
    let fx = fixture();
    let s = Server::with_args(&["--web-dir", fx.web_empty.to_str().expect("utf-8")]);
    let r = s.get("/", &[]);
    assert_eq!(r.status, 200);
    let html = String::from_utf8(r.body).expect("utf-8");
    assert!(html.contains("/api/videos") && html.contains("thumbnail"));
}
