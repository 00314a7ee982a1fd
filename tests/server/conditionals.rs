//! Conditional requests: If-None-Match / If-Modified-Since (304), If-Match /
//! If-Unmodified-Since (412), and If-Range (exact validator match, else the whole file).

use crate::common::{Server, DATA_LEN};

fn validators(s: &Server, path: &str) -> (String, String) {
    let r = s.head(path, &[]);
    (
        r.header("etag").to_string(),
        r.header("last-modified").to_string(),
    )
}

#[test]
fn if_none_match_gives_304() {
    let s = Server::start();
    let (etag, lm) = validators(&s, "/media/data.bin");
    for value in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"nope\", {etag}"),
        "*".to_string(),
    ] {
        let r = s.get("/media/data.bin", &[("If-None-Match", &value)]);
        assert_eq!(r.status, 304, "{value}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), etag);
        assert_eq!(r.header("last-modified"), lm);
    }
    let r = s.get(
        "/media/data.bin",
        &[("If-None-Match", "\"something-else\"")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), DATA_LEN);
    // 304 beats Range.
    let r = s.get(
        "/media/data.bin",
        &[("If-None-Match", &etag), ("Range", "bytes=0-1")],
    );
    assert_eq!(r.status, 304);
    // HEAD too.
    let r = s.head("/media/data.bin", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
}

#[test]
fn if_modified_since_gives_304() {
    let s = Server::start();
    let (_, lm) = validators(&s, "/media/data.bin");
    let r = s.get("/media/data.bin", &[("If-Modified-Since", &lm)]);
    assert_eq!(r.status, 304);
    let r = s.get(
        "/media/data.bin",
        &[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:01 GMT")],
    );
    assert_eq!(r.status, 200);
    // An unparseable date is ignored.
    let r = s.get("/media/data.bin", &[("If-Modified-Since", "yesterday")]);
    assert_eq!(r.status, 200);
    // If-None-Match takes precedence over If-Modified-Since.
    let r = s.get(
        "/media/data.bin",
        &[("If-Modified-Since", &lm), ("If-None-Match", "\"other\"")],
    );
    assert_eq!(r.status, 200);
}

#[test]
fn if_range_needs_an_exact_validator() {
    let s = Server::start();
    let (etag, lm) = validators(&s, "/media/data.bin");
    let r = s.get(
        "/media/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", &etag)],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body.len(), 10);
    let r = s.get(
        "/media/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", &lm)],
    );
    assert_eq!(r.status, 206);
    for stale in [
        "\"stale-etag\"".to_string(),
        format!("W/{etag}"),
        "Thu, 01 Jan 1970 00:00:01 GMT".to_string(),
        "garbage".to_string(),
    ] {
        let r = s.get(
            "/media/data.bin",
            &[("Range", "bytes=0-9"), ("If-Range", &stale)],
        );
        assert_eq!(r.status, 200, "{stale}");
        assert_eq!(r.body.len(), DATA_LEN, "{stale}");
    }
}

#[test]
fn if_match_and_if_unmodified_since_give_412() {
    let s = Server::start();
    let (etag, lm) = validators(&s, "/media/data.bin");
    let r = s.get("/media/data.bin", &[("If-Match", "\"other\"")]);
    assert_eq!(r.status, 412);
    let r = s.get("/media/data.bin", &[("If-Match", &etag)]);
    assert_eq!(r.status, 200);
    let r = s.get(
        "/media/data.bin",
        &[("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:01 GMT")],
    );
    assert_eq!(r.status, 412);
    let r = s.get("/media/data.bin", &[("If-Unmodified-Since", &lm)]);
    assert_eq!(r.status, 200);
}

#[test]
fn etag_changes_when_the_file_changes() {
    let s = Server::start();
    let path = crate::common::fixture().media.join("mutable.bin");
    std::fs::write(&path, b"first version").expect("write");
    let (etag1, _) = validators(&s, "/media/mutable.bin");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&path, b"second version!").expect("write");
    let r = s.get("/media/mutable.bin", &[("If-None-Match", &etag1)]);
    assert_eq!(r.status, 200);
    assert_ne!(r.header("etag"), etag1);
    let r = s.get(
        "/media/mutable.bin",
        &[("Range", "bytes=0-5"), ("If-Range", &etag1)],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"second version!");
}
