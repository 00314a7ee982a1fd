//! Path safety: traversal payloads sent as raw request lines (so no client normalises them),
//! in every encoding, against `/media`, the web package and the API; symlinks that leave
//! the root are refused, symlinks inside it work.

use crate::common::{fixture, Server, SECRET};

const PAYLOADS: &[&str] = &[
    "/media/../outside/secret.txt",
    "/media/../../../../../../etc/passwd",
    "/media/%2e%2e/outside/secret.txt",
    "/media/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/media/..%2foutside%2fsecret.txt",
    "/media/..%2Foutside%2Fsecret.txt",
    "/media/%2e%2e%2foutside%2fsecret.txt",
    "/media/..%5coutside%5csecret.txt",
    "/media/..\\outside\\secret.txt",
    "/media/%252e%252e/outside/secret.txt",
    "/media/%252e%252e%252foutside%252fsecret.txt",
    "/media/%25252e%25252e/outside/secret.txt",
    "/media/clips/../../outside/secret.txt",
    "/media/clips/%2e%2e/%2e%2e/outside/secret.txt",
    "/media/./../outside/secret.txt",
    "/media/.%2e/outside/secret.txt",
    "/media/%2e./outside/secret.txt",
    "/media/data.bin%00.mp4",
    "/media/..%00/outside/secret.txt",
    "/media/%00../outside/secret.txt",
    "/media/%c0%ae%c0%ae/outside/secret.txt",
    "/media/%c0%af%c0%afetc%c0%afpasswd",
    "/media/..%c0%afoutside%c0%afsecret.txt",
    "/media/%e0%80%ae%e0%80%ae/outside/secret.txt",
    "/media//etc/passwd",
    "/media/%2fetc%2fpasswd",
    "/media/....//outside/secret.txt",
    "/media/.../outside/secret.txt",
    "/media/..;/outside/secret.txt",
    "/media/%u002e%u002e/outside/secret.txt",
    "/media/%%32%65%%32%65/outside/secret.txt",
    "/media/escape/secret.txt",
    "/media/escape",
    "/media/leak.txt",
    "/media/abs-leak.txt",
    "/media/escape/../outside/secret.txt",
    "/media/pack.tar/../../outside/secret.txt",
    "/media/pack.tar/%2e%2e/%2e%2e/outside/secret.txt",
    "/media/pack.zip/..%2f..%2foutside%2fsecret.txt",
    "/media/data.bin/..%2f..%2foutside%2fsecret.txt",
    "/media/.hidden.txt",
    "/media/%2ehidden.txt",
    "/media/.frameseek-cache/x",
    "/media/%0a/../outside/secret.txt",
    "/../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2e%2e%2f%2e%2e%2fmedia%2f..%2foutside%2fsecret.txt",
    "/..%5c..%5coutside%5csecret.txt",
    "/api/videos/..%2f..%2foutside/thumbnail",
    "/api/videos/%2e%2e",
    "http://localhost/media/../outside/secret.txt",
];

fn leaked(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains(SECRET) || text.contains("root:x:0:0") || text.contains("root:*:0:0")
}

#[test]
fn traversal_payloads_never_escape() {
    let s = Server::start();
    assert!(PAYLOADS.len() >= 30);
    for target in PAYLOADS {
        let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let (status, out) = s.raw(req.as_bytes());
        assert!(!leaked(&out), "{target} leaked a file outside the root");
        assert!(
            matches!(status, 400 | 403 | 404),
            "{target}: status {status}: {}",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        );
    }
    // The server is still serving.
    assert_eq!(s.get("/healthz", &[]).status, 200);
}

#[test]
fn traversal_payloads_with_ranges_and_head() {
    let s = Server::start();
    for target in PAYLOADS.iter().take(20) {
        for method in ["HEAD", "GET"] {
            let req = format!(
                "{method} {target} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-\r\nConnection: close\r\n\r\n"
            );
            let (status, out) = s.raw(req.as_bytes());
            assert!(!leaked(&out), "{method} {target} leaked");
            assert!(!(200..300).contains(&status), "{method} {target}: {status}");
        }
    }
}

#[test]
fn escaping_symlinks_are_refused_inner_ones_work() {
    let s = Server::start();
    for path in [
        "/media/leak.txt",
        "/media/abs-leak.txt",
        "/media/escape/secret.txt",
    ] {
        let r = s.get(path, &[]);
        assert!(r.status == 403 || r.status == 404, "{path}: {}", r.status);
        assert!(!leaked(&r.body));
    }
    let r = s.get("/media/alias.bin", &[("Range", "bytes=0-99")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, fixture().read("data.bin")[..100].to_vec());
    // Escaping symlinks are not listed either.
    let listing = s.get("/api/videos?limit=500", &[]).json();
    let text = listing.to_string();
    assert!(!text.contains("escape/") && !text.contains("leak"));
}

#[test]
fn directories_are_not_served() {
    let s = Server::start();
    for path in [
        "/media/clips",
        "/media/clips/",
        "/media/",
        "/media",
        "/media/pack.tar/clips",
        "/media/pack.tar/",
        "/media/data.bin/",
    ] {
        let r = s.get(path, &[]);
        assert_eq!(r.status, 404, "{path}");
    }
}
