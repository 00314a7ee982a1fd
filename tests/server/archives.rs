//! Videos inside larger objects: members of an uncompressed tar and of a zip with stored
//! members are served like files (every range rule), compressed members are refused, and
//! each archive's member index is read once.

use crate::common::{fixture, Server, DATA_LEN};

#[test]
fn tar_members_are_served_like_files() {
    let s = Server::start();
    let video = fixture().read("video.mp4");
    let data = fixture().read("data.bin");
    let r = s.get("/media/pack.tar/clips/a.mp4", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "video/mp4");
    assert_eq!(r.header("content-length"), video.len().to_string());
    assert!(r.body == video, "tar member differs from the original");
    let r = s.get(
        "/media/pack.tar/docs/data.bin",
        &[("Range", "bytes=1000-1999")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        format!("bytes 1000-1999/{DATA_LEN}")
    );
    assert_eq!(r.body, data[1000..2000].to_vec());
    let r = s.get("/media/pack.tar/docs/data.bin", &[("Range", "bytes=-10")]);
    assert_eq!(r.body, data[DATA_LEN - 10..].to_vec());
    let r = s.get("/media/pack.tar/readme.txt", &[]);
    assert_eq!(r.body, b"hello from a tar\n");
    // Past the member's end is past EOF, not into the next member.
    let r = s.get("/media/pack.tar/readme.txt", &[("Range", "bytes=0-100000")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, b"hello from a tar\n");
    let r = s.get("/media/pack.tar/readme.txt", &[("Range", "bytes=17-")]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), "bytes */17");
}

#[test]
fn zip_stored_members_are_served_like_files() {
    let s = Server::start();
    let video = fixture().read("video.mp4");
    let data = fixture().read("data.bin");
    let r = s.get("/media/pack.zip/clips/a.mp4", &[]);
    assert_eq!(r.status, 200);
    assert!(r.body == video, "zip member differs from the original");
    let r = s.get(
        "/media/pack.zip/data.bin",
        &[("Range", "bytes=0-3, 500000-500003")],
    );
    assert_eq!(r.status, 206);
    assert!(r.header("content-type").starts_with("multipart/byteranges"));
    let body = String::from_utf8_lossy(&r.body);
    assert!(body.contains(&format!("Content-Range: bytes 0-3/{DATA_LEN}")));
    assert!(body.contains(&format!("Content-Range: bytes 500000-500003/{DATA_LEN}")));
    let needle = &data[500000..500004];
    assert!(r.body.windows(4).any(|w| w == needle));
}

#[test]
fn member_validators_and_conditionals() {
    let s = Server::start();
    let member = s.head("/media/pack.tar/clips/a.mp4", &[]);
    let archive = s.head("/media/pack.tar", &[]);
    let etag = member.header("etag").to_string();
    assert_ne!(etag, archive.header("etag"));
    assert_eq!(
        member.header("last-modified"),
        archive.header("last-modified")
    );
    let r = s.get("/media/pack.tar/clips/a.mp4", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    let r = s.get(
        "/media/pack.tar/clips/a.mp4",
        &[("Range", "bytes=0-7"), ("If-Range", &etag)],
    );
    assert_eq!(r.status, 206);
    let other = s.head("/media/pack.zip/clips/a.mp4", &[]);
    assert_ne!(other.header("etag"), etag);
}

#[test]
fn missing_and_compressed_members() {
    let s = Server::start();
    for path in [
        "/media/pack.tar/nope.mp4",
        "/media/pack.tar/clips",
        "/media/pack.zip/clips/",
        "/media/pack.zip/nope",
        "/media/nope.tar/a.mp4",
    ] {
        assert_eq!(s.get(path, &[]).status, 404, "{path}");
    }
    // A deflated member cannot be served by byte range.
    let fx = fixture();
    let path = fx.media.join("deflated.zip");
    let script = "import sys, zipfile\n\
z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\n\
z.writestr('a.mp4', bytes(4096))\n\
z.close()\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let r = s.get("/media/deflated.zip/a.mp4", &[]);
    assert_eq!(r.status, 415);
}

#[test]
fn archive_index_is_read_once() {
    let s = Server::start();
    assert_eq!(s.metric("frameseek_archive_indexes_built_total", ""), 0.0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let r = s.get("/media/pack.tar/docs/data.bin", &[("Range", "bytes=0-0")]);
                assert_eq!(r.status, 206);
            });
        }
    });
    for _ in 0..5 {
        assert_eq!(
            s.get("/media/pack.tar/clips/a.mp4", &[("Range", "bytes=0-0")])
                .status,
            206
        );
        assert_eq!(s.get("/media/pack.tar/readme.txt", &[]).status, 200);
    }
    assert_eq!(s.metric("frameseek_archive_indexes_built_total", ""), 1.0);
    assert_eq!(
        s.get("/media/pack.zip/data.bin", &[("Range", "bytes=0-0")])
            .status,
        206
    );
    assert_eq!(
        s.get("/media/pack.zip/clips/a.mp4", &[("Range", "bytes=0-0")])
            .status,
        206
    );
    assert_eq!(s.metric("frameseek_archive_indexes_built_total", ""), 2.0);
}
