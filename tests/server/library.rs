//! The library API: paging, newest-first order, the path filter, archive members, item
//! fields, parameter errors; `/api/videos/{id}` against `frameseek probe --json`; unknown
//! ids; the metadata cache following file changes.

use crate::common::{fixture, Server};
use serde_json::Value;
use std::process::Command;

fn paths(page: &Value) -> Vec<String> {
    page["videos"]
        .as_array()
        .expect("videos array")
        .iter()
        .map(|v| v["path"].as_str().expect("path").to_string())
        .collect()
}

#[test]
fn paging_newest_first_with_filter() {
    let s = Server::start();
    let p1 = s.get("/api/videos?q=lib/&limit=5", &[]);
    assert_eq!(p1.status, 200);
    assert_eq!(p1.header("content-type"), "application/json");
    let p1 = p1.json();
    assert_eq!(p1["total"], 12);
    assert_eq!(p1["pages"], 3);
    assert_eq!(p1["page"], 1);
    assert_eq!(
        paths(&p1),
        [
            "lib/v11.mp4",
            "lib/v10.mp4",
            "lib/v09.mp4",
            "lib/v08.mp4",
            "lib/v07.mp4"
        ]
    );
    let p3 = s.get("/api/videos?q=lib/&limit=5&page=3", &[]).json();
    assert_eq!(paths(&p3), ["lib/v01.mp4", "lib/v00.mp4"]);
    let p4 = s.get("/api/videos?q=lib/&limit=5&page=4", &[]).json();
    assert_eq!(p4["videos"].as_array().map(Vec::len), Some(0));
    assert_eq!(p4["total"], 12);
    // Case-insensitive substring filter.
    let f = s.get("/api/videos?q=LIB/V0&limit=50", &[]).json();
    assert_eq!(f["total"], 10);
    let none = s.get("/api/videos?q=no-such-video", &[]).json();
    assert_eq!(none["total"], 0);
    assert_eq!(none["pages"], 0);
}

#[test]
fn pages_cover_everything_once() {
    let s = Server::start();
    let all = s.get("/api/videos?limit=500", &[]).json();
    let total = all["total"].as_u64().expect("total") as usize;
    assert!(total >= 17, "total {total}");
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let p = s
            .get(&format!("/api/videos?limit=4&page={page}"), &[])
            .json();
        let batch = paths(&p);
        if batch.is_empty() {
            break;
        }
        seen.extend(batch);
        page += 1;
    }
    assert_eq!(seen.len(), total);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), total, "duplicates across pages");
    assert_eq!(
        seen,
        paths(&all),
        "paging order differs from the full listing"
    );
    // Modification times never increase down the list.
    let times: Vec<String> = all["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .map(|v| v["modified"].as_str().expect("modified").to_string())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

#[test]
fn item_fields() {
    let s = Server::start();
    let page = s.get("/api/videos?q=lib/v11", &[]).json();
    let item = &page["videos"][0];
    let id = item["id"].as_str().expect("id");
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(item["path"], "lib/v11.mp4");
    assert_eq!(
        item["size"].as_u64(),
        Some(fixture().read("video.mp4").len() as u64)
    );
    let modified = item["modified"].as_str().expect("modified");
    assert!(
        modified.len() == 20 && modified.ends_with('Z') && modified.contains('T'),
        "{modified}"
    );
    assert_eq!(item["container"], "mp4");
    assert!((item["duration"].as_f64().expect("duration") - 2.0).abs() < 0.05);
    assert_eq!(item["width"], 320);
    assert_eq!(item["height"], 240);
    assert!(item["codec"].as_str().expect("codec").starts_with("avc1."));
    assert_eq!(item["frameCount"], 50);
    assert_eq!(item["urls"]["media"], "/media/lib/v11.mp4");
    assert_eq!(item["urls"]["hls"], format!("/hls/{id}/master.m3u8"));
    assert_eq!(
        item["urls"]["thumbnail"],
        format!("/api/videos/{id}/thumbnail")
    );
    assert_eq!(
        s.get(item["urls"]["media"].as_str().expect("url"), &[])
            .status,
        200
    );
    // A file that is not a video is listed with an error and no metadata.
    let broken = s.get("/api/videos?q=broken", &[]).json();
    let b = &broken["videos"][0];
    assert_eq!(b["path"], "broken.mp4");
    assert!(b["duration"].is_null());
    assert!(b["urls"]["hls"].is_null());
    assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[test]
fn archive_members_are_listed() {
    let s = Server::start();
    let page = s.get("/api/videos?q=pack.", &[]).json();
    let mut found = paths(&page);
    found.sort();
    assert_eq!(found, ["pack.tar/clips/a.mp4", "pack.zip/clips/a.mp4"]);
    for item in page["videos"].as_array().expect("videos") {
        assert_eq!(item["width"], 320, "{item}");
        let media = item["urls"]["media"].as_str().expect("url");
        let r = s.get(media, &[("Range", "bytes=4-7")]);
        assert_eq!(r.body, b"ftyp");
    }
}

#[test]
fn bad_parameters_are_400_json() {
    let s = Server::start();
    for q in ["limit=0", "limit=abc", "limit=100000", "page=0", "page=-1"] {
        let r = s.get(&format!("/api/videos?{q}"), &[]);
        assert_eq!(r.status, 400, "{q}");
        assert!(r.json()["error"].is_string(), "{q}");
    }
}

fn probe_json(path: &std::path::Path) -> Value {
    let out = Command::new(frameseek_e2e::frameseek_bin())
        .args(["probe", "--json"])
        .arg(path)
        .output()
        .expect("frameseek probe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("probe JSON")
}

fn id_for(s: &Server, q: &str) -> String {
    let page = s.get(&format!("/api/videos?q={q}"), &[]).json();
    assert_eq!(page["total"], 1, "{q}: {page}");
    page["videos"][0]["id"].as_str().expect("id").to_string()
}

#[test]
fn metadata_equals_probe_json() {
    let s = Server::start();
    let fx = fixture();
    for (q, file) in [
        ("video.mp4", "video.mp4"),
        ("clips/late", "clips/late.mp4"),
        ("pack.tar/", "video.mp4"),
        ("pack.zip/", "video.mp4"),
    ] {
        let id = id_for(&s, q);
        let r = s.get(&format!("/api/videos/{id}"), &[]);
        assert_eq!(r.status, 200, "{q}");
        assert_eq!(r.json(), probe_json(&fx.media.join(file)), "{q}");
    }
}

#[test]
fn unknown_and_unreadable_ids() {
    let s = Server::start();
    for path in [
        "/api/videos/0000000000000000",
        "/api/videos/nope",
        "/api/videos/0000000000000000/thumbnail",
    ] {
        let r = s.get(path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.json()["error"].is_string());
    }
    let r = s.get("/api/nothing-here", &[]);
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let id = id_for(&s, "broken");
    let r = s.get(&format!("/api/videos/{id}"), &[]);
    assert_eq!(r.status, 422);
    assert!(r.json()["error"].is_string());
}

#[test]
fn metadata_follows_file_changes() {
    let fx = fixture();
    // A directory of its own, so other tests' listings do not change under them.
    let root = fx.root.join("media-fresh");
    let dir = root.join("fresh");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let s = Server::serving(&root, &[]);
    let file = dir.join("changing.mp4");
    std::fs::copy(fx.media.join("video.mp4"), &file).expect("copy");
    let id = id_for(&s, "fresh/changing");
    let first = s.get(&format!("/api/videos/{id}"), &[]).json();
    assert_eq!(first["width"], 320);
    std::fs::copy(fx.media.join("clips/late.mp4"), &file).expect("copy");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let second = s.get(&format!("/api/videos/{id}"), &[]).json();
    assert_eq!(second["width"], 176);
    assert_eq!(second, probe_json(&file));
    drop(s);
    std::fs::remove_dir_all(&root).expect("cleanup");
}
