//! Live HLS from `frameseek serve --live NAME=SOURCE`: a `testsrc` source (and a looped
//! file) publish a playlist that ffmpeg reads, with a program date on every segment, a
//! sliding window whose old segments are deleted, markers posted at the live edge as
//! EXT-X-DATERANGE, and no ffmpeg left after SIGTERM or kill -9 of the server.

#[path = "common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;

use common::Server;
use frameseek_core::hls::playlist::parse_media;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{alive, children_named, mpeg4_avi, scratch, send, wait_until};

fn start() -> (Server, std::path::PathBuf) {
    let dir = scratch("live");
    let media = dir.join("media");
    std::fs::create_dir_all(&media).expect("mkdir");
    let clip = dir.join("loop.avi");
    mpeg4_avi(&clip, 50);
    let clip_arg = format!("clip={}", clip.display());
    let server = Server::serving(
        &media,
        &[
            "--live",
            "cam=testsrc",
            "--live",
            &clip_arg,
            "--live-segment",
            "1",
            "--live-window",
            "3",
        ],
    );
    (server, dir)
}

fn wait_for_master(server: &Server, name: &str) -> String {
    let path = format!("/live/{name}/master.m3u8");
    let mut last = 0;
    let ok = wait_until(Duration::from_secs(30), || {
        let r = server.get(&path, &[]);
        last = r.status;
        r.status == 200
    });
    assert!(ok.is_some(), "{name} never published (last status {last})");
    String::from_utf8(server.get(&path, &[]).body).expect("utf-8")
}

fn media_playlist(server: &Server, name: &str) -> String {
    let r = server.get(&format!("/live/{name}/media.m3u8"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), "no-cache");
    String::from_utf8(r.body).expect("utf-8")
}

fn segment_uris(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn live_sources_publish_a_sliding_window_with_markers_and_stop_with_the_server() {
    let (server, _dir) = start();
    let before = std::time::Instant::now();
    let master = wait_for_master(&server, "cam");
    eprintln!(
        "live: master playlist after {:.1} s",
        before.elapsed().as_secs_f64()
    );
    assert!(
        master.contains("CODECS=\"avc1.") && master.contains("mp4a.40.2"),
        "{master}"
    );
    assert!(master.contains("RESOLUTION=640x360"), "{master}");
    let first = media_playlist(&server, "cam");
    assert!(!first.contains("#EXT-X-ENDLIST"));
    let n_inf = first.lines().filter(|l| l.starts_with("#EXTINF")).count();
    let n_pdt = first
        .lines()
        .filter(|l| l.starts_with("#EXT-X-PROGRAM-DATE-TIME"))
        .count();
    assert!(
        n_inf >= 1 && n_inf == n_pdt,
        "a date on every segment:\n{first}"
    );
    // ffmpeg plays the live playlist.
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(server.url("/live/cam/master.m3u8"))
        .args(["-frames:v", "20", "-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("0,"))
        .count();
    assert_eq!(frames, 20);
    // A marker at the live edge shows in the next playlist fetch.
    let posted = send(
        "POST",
        &server.url("/api/live/cam/markers"),
        Some(r#"{"label": "door opened", "class": "motion"}"#),
    );
    assert_eq!(
        posted.status,
        201,
        "{}",
        String::from_utf8_lossy(&posted.body)
    );
    let marker = posted.json();
    let at = marker["time"].as_f64().expect("time");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(
        (now - 10.0..=now + 2.0).contains(&at),
        "edge {at} vs now {now}"
    );
    let text = media_playlist(&server, "cam");
    let id = marker["id"].as_i64().expect("id");
    assert!(
        text.contains(&format!(
            "#EXT-X-DATERANGE:ID=\"marker-{id}\",CLASS=\"motion\""
        )),
        "{text}"
    );
    let parsed = parse_media(text.as_bytes()).expect("core parses the live playlist");
    let placed = parsed.markers();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].label, "door opened");
    let end = parsed.duration();
    assert!(
        (placed[0].time - end).abs() < 1.5,
        "marker at {} on a {end} s window: the live edge",
        placed[0].time
    );
    // An explicit time works too, and the list has both.
    let explicit = format!(r#"{{"label": "earlier", "time": {}}}"#, at - 1.0);
    assert_eq!(
        send(
            "POST",
            &server.url("/api/live/cam/markers"),
            Some(&explicit)
        )
        .status,
        201
    );
    let list = server.get("/api/live/cam/markers", &[]).json();
    assert_eq!(list["markers"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        send(
            "POST",
            &server.url("/api/live/nope/markers"),
            Some(r#"{"label":"x"}"#)
        )
        .status,
        404
    );
    // The window slides: the first segment leaves the playlist and is deleted.
    let oldest = segment_uris(&first)[0].clone();
    let slid = wait_until(Duration::from_secs(20), || {
        !segment_uris(&media_playlist(&server, "cam")).contains(&oldest)
    });
    assert!(slid.is_some(), "the window never moved past {oldest}");
    let gone = wait_until(Duration::from_secs(5), || {
        server.get(&format!("/live/cam/{oldest}"), &[]).status == 404
    });
    assert!(
        gone.is_some(),
        "{oldest} was not deleted after leaving the window"
    );
    let files = std::fs::read_dir(server.cache.join("live/cam"))
        .expect("live dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".m4s"))
        .count();
    assert!(files <= 3 + 3, "{files} segment files for a window of 3");
    // Current segments are served, immutable.
    let current = segment_uris(&media_playlist(&server, "cam"));
    let seg = server.get(&format!("/live/cam/{}", current[current.len() - 1]), &[]);
    assert_eq!(seg.status, 200);
    assert!(seg.header("cache-control").contains("immutable"));
    // The looped file publishes too; /api/live lists both.
    wait_for_master(&server, "clip");
    let live = server.get("/api/live", &[]).json();
    let names: Vec<&str> = live["live"]
        .as_array()
        .expect("live")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["cam", "clip"]);
    assert_eq!(server.metric("frameseek_live_up", "name=\"cam\""), 1.0);
    // SIGTERM: the server stops its ffmpegs and clears the directories.
    let pid = server.pid();
    let ffmpegs = children_named(pid, "ffmpeg");
    assert_eq!(ffmpegs.len(), 2, "one ffmpeg per source");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let stopped = wait_until(Duration::from_secs(5), || {
        ffmpegs.iter().all(|p| !alive(*p))
    });
    assert!(stopped.is_some(), "ffmpeg survived SIGTERM of the server");
    assert!(wait_until(Duration::from_secs(12), || !alive(pid)).is_some());
}

#[test]
fn ffmpeg_dies_with_a_killed_server() {
    let dir = scratch("live-kill");
    let server = Server::serving(
        Path::new(&dir),
        &["--live", "cam=testsrc", "--live-segment", "1"],
    );
    let pid = server.pid();
    let found = wait_until(Duration::from_secs(10), || {
        !children_named(pid, "ffmpeg").is_empty()
    });
    assert!(found.is_some(), "no live ffmpeg started");
    let ffmpegs = children_named(pid, "ffmpeg");
    drop(server); // SIGKILL: no chance to clean up
    let gone = wait_until(Duration::from_secs(2), || {
        ffmpegs.iter().all(|p| !alive(*p))
    });
    assert!(
        gone.is_some(),
        "ffmpeg {ffmpegs:?} outlived the killed server"
    );
}
