//! Timeline markers through `frameseek serve`: the API round trip with clear 400s,
//! concurrent writers, the library count, EXT-X-DATERANGE (with the PROGRAM-DATE-TIME anchor)
//! in the remuxed and transcoded playlists with unchanged segment URIs, and the database
//! surviving a restart and a kill -9 right after an acknowledged POST.

#[path = "common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;

use common::Server;
use frameseek_core::hls::playlist::parse_media;
use frameseek_e2e::fixtures_dir;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::{scratch, send};

fn media() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        frameseek_e2e::fixtures();
        let dir = scratch("markers-media");
        for f in ["hevc.mp4", "h264_aac.mp4"] {
            std::fs::copy(fixtures_dir().join(f), dir.join(f)).expect("copy fixture");
        }
        dir
    })
}

/// A server over the marker media with its own cache dir (so a restart finds the database).
fn server_with_cache(cache: &Path) -> Server {
    Server::serving(
        media(),
        &[
            "--hls-segment",
            "1",
            "--cache-dir",
            cache.to_str().expect("utf-8"),
        ],
    )
}

fn count_in_listing(server: &Server, path: &str) -> u64 {
    server.library_item(path)["markers"]
        .as_u64()
        .unwrap_or_else(|| panic!("no markers count for {path}"))
}

#[test]
fn markers_round_trip_with_clear_errors() {
    let cache = scratch("markers-roundtrip");
    let server = server_with_cache(&cache);
    let id = server.id_of("h264_aac.mp4");
    let url = server.url(&format!("/api/videos/{id}/markers"));
    assert_eq!(
        server.get(&format!("/api/videos/{id}/markers"), &[]).json()["markers"],
        serde_json::json!([])
    );
    let a = send(
        "POST",
        &url,
        Some(r#"{"time": 2.5, "duration": 1.25, "label": "goal", "class": "sport.goal"}"#),
    );
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let a = (a.json(), a.header("location").map(str::to_string));
    assert_eq!(a.0["time"], 2.5);
    assert_eq!(a.0["duration"], 1.25);
    assert_eq!(a.0["label"], "goal");
    assert_eq!(a.0["class"], "sport.goal");
    let aid = a.0["id"].as_i64().expect("numeric id");
    assert_eq!(
        a.1.as_deref(),
        Some(format!("/api/videos/{id}/markers/{aid}").as_str())
    );
    let b = send("POST", &url, Some(r#"{"time": 0.5, "label": "kick-off"}"#)).json();
    assert!(
        b.get("duration").is_none() && b.get("class").is_none(),
        "{b}"
    );
    // Listed by time; one by id.
    let list = server.get(&format!("/api/videos/{id}/markers"), &[]).json();
    let labels: Vec<&str> = list["markers"]
        .as_array()
        .expect("markers")
        .iter()
        .filter_map(|m| m["label"].as_str())
        .collect();
    assert_eq!(labels, ["kick-off", "goal"]);
    assert_eq!(
        server
            .get(&format!("/api/videos/{id}/markers/{aid}"), &[])
            .json()["label"],
        "goal"
    );
    assert_eq!(count_in_listing(&server, "h264_aac.mp4"), 2);
    // Validation: 400 with a message that names the problem.
    for (body, needle) in [
        ("not json", "JSON"),
        ("[]", "object"),
        (r#"{"label": "x"}"#, "time"),
        (r#"{"time": -1, "label": "x"}"#, ">= 0"),
        (r#"{"time": 99, "label": "x"}"#, "past the end"),
        (r#"{"time": "1", "label": "x"}"#, "number"),
        (r#"{"time": 1}"#, "label"),
        (r#"{"time": 1, "label": ""}"#, "empty"),
        (r#"{"time": 1, "label": "a\nb"}"#, "control"),
        (r#"{"time": 1, "label": "x", "duration": -2}"#, "duration"),
        (
            r#"{"time": 1, "label": "x", "class": "no spaces"}"#,
            "class",
        ),
        (
            r#"{"time": 1, "label": "x", "colour": "red"}"#,
            "unknown field",
        ),
    ] {
        let r = send("POST", &url, Some(body));
        assert_eq!(r.status, 400, "{body}");
        let err = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(
            err.contains(needle),
            "{body}: {err:?} should mention {needle}"
        );
    }
    let big = format!(r#"{{"time": 1, "label": "{}"}}"#, "x".repeat(20_000));
    let too_big = send("POST", &url, Some(&big));
    assert_eq!(too_big.status, 413);
    // The rest of the body is not read: the connection closes, and says so.
    assert!(
        too_big
            .headers
            .iter()
            .any(|(k, v)| k == "connection" && v == "close"),
        "413 without connection: close"
    );
    assert_eq!(send("PUT", &url, Some("{}")).status, 405);
    assert_eq!(
        send(
            "POST",
            &server.url("/api/videos/0000000000000000/markers"),
            Some(r#"{"time":1,"label":"x"}"#)
        )
        .status,
        404
    );
    // DELETE: one by id (204), unknown (404), none named (400), all.
    assert_eq!(send("DELETE", &format!("{url}/{aid}"), None).status, 204);
    assert_eq!(send("DELETE", &format!("{url}/{aid}"), None).status, 404);
    assert_eq!(send("DELETE", &url, None).status, 400);
    assert_eq!(send("DELETE", &format!("{url}?id=abc"), None).status, 400);
    let all = send("DELETE", &format!("{url}?all=true"), None);
    assert_eq!(all.status, 200);
    assert_eq!(all.json()["deleted"], 1);
    assert_eq!(count_in_listing(&server, "h264_aac.mp4"), 0);
}

#[test]
fn concurrent_writers_all_land() {
    let cache = scratch("markers-concurrent");
    let server = server_with_cache(&cache);
    let id = server.id_of("hevc.mp4");
    let url = server.url(&format!("/api/videos/{id}/markers"));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| {
                        let body = format!(
                            r#"{{"time": {}, "label": "t{t} m{i}"}}"#,
                            f64::from(i) * 0.1
                        );
                        let r = send("POST", &url, Some(&body));
                        assert_eq!(r.status, 201);
                        r.json()["id"].as_i64().expect("id")
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("join"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 80);
    let list = server.get(&format!("/api/videos/{id}/markers"), &[]).json();
    assert_eq!(list["markers"].as_array().map(Vec::len), Some(80));
}

/// Segment URI lines of a media playlist.
fn uris(media: &str) -> Vec<String> {
    media
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn remuxed_and_transcoded_playlists_carry_markers_as_dateranges() {
    let cache = scratch("markers-playlists");
    let server = server_with_cache(&cache);
    for (path, playlist) in [
        ("h264_aac.mp4", "/hls/{id}/media.m3u8"),
        ("hevc.mp4", "/transcode/{id}/media.m3u8"),
    ] {
        let id = server.id_of(path);
        let playlist = playlist.replace("{id}", &id);
        let before = server.get(&playlist, &[]);
        assert_eq!(before.status, 200);
        let before_text = String::from_utf8(before.body.clone()).expect("utf-8");
        assert!(!before_text.contains("DATERANGE"));
        let etag = before.header("etag").to_string();
        let url = server.url(&format!("/api/videos/{id}/markers"));
        for body in [
            r#"{"time": 1.5, "label": "say \"hi\"", "class": "com.example.note"}"#,
            r#"{"time": 0.25, "duration": 0.5, "label": "start"}"#,
        ] {
            assert_eq!(send("POST", &url, Some(body)).status, 201);
        }
        let after = server.get(&playlist, &[]);
        assert_ne!(
            after.header("etag"),
            etag,
            "{path}: the ETag follows the markers"
        );
        // The old ETag no longer revalidates.
        assert_eq!(
            server.get(&playlist, &[("if-none-match", &etag)]).status,
            200
        );
        let text = String::from_utf8(after.body).expect("utf-8");
        assert!(
            text.contains("#EXT-X-PROGRAM-DATE-TIME:"),
            "{path}: RFC 8216 4.3.2.7 needs a PROGRAM-DATE-TIME with DATERANGE:\n{text}"
        );
        assert_eq!(
            uris(&text),
            uris(&before_text),
            "{path}: segment URIs changed"
        );
        let parsed = parse_media(text.as_bytes()).expect("core parses the playlist");
        let markers = parsed.markers();
        assert_eq!(markers.len(), 2, "{text}");
        assert!((markers[0].time - 0.25).abs() < 1e-3, "{markers:?}");
        assert_eq!(markers[0].duration, Some(0.5));
        assert_eq!(markers[0].label, "start");
        assert!((markers[1].time - 1.5).abs() < 1e-3);
        assert_eq!(markers[1].label, "say 'hi'");
        assert_eq!(markers[1].class.as_deref(), Some("com.example.note"));
        // ffmpeg still reads the playlist.
        let out = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(server.url(&playlist))
            .output()
            .expect("ffprobe");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_database_survives_a_restart_and_kill_9_after_an_acknowledged_write() {
    let cache = scratch("markers-durable");
    let server = server_with_cache(&cache);
    let id = server.id_of("h264_aac.mp4");
    let url = server.url(&format!("/api/videos/{id}/markers"));
    assert_eq!(
        send(
            "POST",
            &url,
            Some(r#"{"time": 1, "label": "before restart"}"#)
        )
        .status,
        201
    );
    // Graceful stop (SIGTERM), start again on the same cache dir.
    let pid = server.pid().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    support::wait_until(std::time::Duration::from_secs(5), || {
        !support::alive(server.pid())
    });
    drop(server);
    let server = server_with_cache(&cache);
    let url = server.url(&format!("/api/videos/{id}/markers"));
    let list = server.get(&format!("/api/videos/{id}/markers"), &[]).json();
    assert_eq!(list["markers"][0]["label"], "before restart");
    // kill -9 right after the 201.
    let r = send(
        "POST",
        &url,
        Some(r#"{"time": 2, "label": "acknowledged"}"#),
    );
    assert_eq!(r.status, 201);
    drop(server); // SIGKILL
    let server = server_with_cache(&cache);
    let list = server.get(&format!("/api/videos/{id}/markers"), &[]).json();
    let labels: Vec<&str> = list["markers"]
        .as_array()
        .expect("markers")
        .iter()
        .filter_map(|m| m["label"].as_str())
        .collect();
    assert_eq!(labels, ["before restart", "acknowledged"]);
}
