//! HLS from the server and from `frameseek pack`, checked against the rules that apply to
//! VOD (Apple's HLS authoring spec / RFC 8216): every segment starts with a sync sample, the
//! EXTINF sum is within one frame of the video's span (first frame to end), EXTINF rounds to at most TARGETDURATION,
//! CODECS present, EXT-X-VERSION covers the tags used, ENDLIST and PLAYLIST-TYPE:VOD. ffmpeg
//! then decodes every barcode frame, in order, through the playlists (over HTTP for the
//! server, from files for the package), including a video inside a tar.

#[path = "common/mod.rs"]
mod common;

use common::{request, Resp, Server};
use frameseek_core::{read_movie, Error, Movie, TrackKind};
use frameseek_e2e::{barcode, ffmpeg_gray_frames, fixtures_dir, video_fixtures, Fixture};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Fixtures served and packed: every single-file video (HEVC too: ffmpeg decodes it).
fn videos() -> Vec<&'static Fixture> {
    video_fixtures()
}

fn read_bytes(data: &[u8]) -> Result<Movie, Error> {
    read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
        Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("server-hls-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// A media directory with every video fixture, a non-movie, and a tar holding one fixture.
fn media_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("media");
        for f in videos() {
            fs::copy(f.path(), dir.join(&f.file)).expect("copy fixture");
        }
        fs::copy(fixtures_dir().join("random.mp4"), dir.join("random.mp4")).expect("copy");
        let file = fs::File::create(dir.join("pack.tar")).expect("tar");
        let mut tar = tar::Builder::new(file);
        let bytes = fs::read(fixtures_dir().join("h264_bframes_editlist.mp4")).expect("read");
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        tar.append_data(&mut header, "clips/inner.mp4", bytes.as_slice())
            .expect("tar append");
        tar.finish().expect("finish tar");
        dir
    })
}

/// A server with 1-second segments (so the 3-second fixtures have several), per test: a
/// server held in a static would outlive the test binary.
fn server() -> Server {
    Server::serving(media_dir(), &["--hls-segment", "1"])
}

fn text(resp: &Resp) -> String {
    String::from_utf8(resp.body.clone()).expect("UTF-8 playlist")
}

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.split_once(':')?.1;
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in rest.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&rest[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&rest[start..]);
    parts
        .into_iter()
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        .map(|v| v.trim_matches('"'))
}

/// One segment line: EXTINF, the BYTERANGE (length, offset) if any, and the URI.
type SegmentLine = (f64, Option<(u64, u64)>, String);

/// A media playlist's parts.
struct Media {
    version: u32,
    map: String,
    /// (EXTINF, BYTERANGE "len@offset" if any, URI).
    segments: Vec<SegmentLine>,
}

/// Checks the master playlist's variant; returns the media playlist URI.
fn check_master(master: &str, what: &str) -> String {
    let lines: Vec<&str> = master.lines().collect();
    assert_eq!(lines.first(), Some(&"#EXTM3U"), "{what}: {master}");
    let inf = lines
        .iter()
        .position(|l| l.starts_with("#EXT-X-STREAM-INF:"))
        .unwrap_or_else(|| panic!("{what}: no variant in {master}"));
    let line = lines[inf];
    for name in [
        "BANDWIDTH",
        "AVERAGE-BANDWIDTH",
        "CODECS",
        "RESOLUTION",
        "FRAME-RATE",
    ] {
        let v = attr(line, name).unwrap_or_else(|| panic!("{what}: {name} missing: {line}"));
        assert!(!v.is_empty(), "{what}: {name} empty");
    }
    let bw: u64 = attr(line, "BANDWIDTH")
        .and_then(|v| v.parse().ok())
        .expect("BANDWIDTH");
    let avg: u64 = attr(line, "AVERAGE-BANDWIDTH")
        .and_then(|v| v.parse().ok())
        .expect("AVERAGE-BANDWIDTH");
    assert!(
        bw >= avg && avg > 0,
        "{what}: BANDWIDTH {bw} < AVERAGE {avg}"
    );
    let res = attr(line, "RESOLUTION").expect("RESOLUTION");
    assert!(
        res.split_once('x')
            .is_some_and(|(w, h)| w.parse::<u32>().is_ok() && h.parse::<u32>().is_ok()),
        "{what}: RESOLUTION {res}"
    );
    assert!(master.contains("#EXT-X-INDEPENDENT-SEGMENTS"), "{what}");
    lines
        .get(inf + 1)
        .unwrap_or_else(|| panic!("{what}: no URI after the variant"))
        .to_string()
}

/// Checks the VOD rules of a media playlist against the source movie.
fn check_media(media: &str, source: &Movie, what: &str) -> Media {
    let lines: Vec<&str> = media.lines().collect();
    assert_eq!(lines.first(), Some(&"#EXTM3U"), "{what}");
    let tag = |name: &str| -> Option<&str> { lines.iter().find_map(|l| l.strip_prefix(name)) };
    let version: u32 = tag("#EXT-X-VERSION:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let target: u64 = tag("#EXT-X-TARGETDURATION:")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what}: TARGETDURATION"));
    assert_eq!(tag("#EXT-X-PLAYLIST-TYPE:"), Some("VOD"), "{what}");
    assert_eq!(lines.last(), Some(&"#EXT-X-ENDLIST"), "{what}");
    let map = lines
        .iter()
        .find(|l| l.starts_with("#EXT-X-MAP:"))
        .unwrap_or_else(|| panic!("{what}: EXT-X-MAP"));
    assert!(
        version >= 6,
        "{what}: EXT-X-MAP needs version 6, got {version}"
    );
    let mut segments = Vec::new();
    let mut duration = None;
    let mut range = None;
    for l in &lines {
        if let Some(d) = l.strip_prefix("#EXTINF:") {
            let d: f64 = d.trim_end_matches(',').parse().expect("EXTINF");
            assert!(d > 0.0, "{what}: EXTINF {d}");
            assert!(
                d.round() as u64 <= target,
                "{what}: EXTINF {d} rounds above TARGETDURATION {target}"
            );
            duration = Some(d);
        } else if let Some(r) = l.strip_prefix("#EXT-X-BYTERANGE:") {
            assert!(version >= 4, "{what}: BYTERANGE needs version 4");
            let (len, off) = r.split_once('@').expect("BYTERANGE with an offset");
            range = Some((len.parse().expect("len"), off.parse().expect("offset")));
        } else if !l.starts_with('#') && !l.is_empty() {
            let d = duration
                .take()
                .unwrap_or_else(|| panic!("{what}: URI without EXTINF"));
            segments.push((d, range.take(), l.to_string()));
        }
    }
    assert!(!segments.is_empty(), "{what}: no segments");
    let video = source.video_track().expect("video track");
    let ts = f64::from(video.timescale.max(1));
    let frame = video
        .index
        .samples()
        .map(|s| s.duration)
        .max()
        .map_or(0.0, |d| f64::from(d) / ts);
    let sum: f64 = segments.iter().map(|s| s.0).sum();
    let expected = video.index.span_seconds();
    assert!(
        (sum - expected).abs() <= frame + 1e-6,
        "{what}: EXTINF sum {sum} vs duration {expected} (frame {frame})"
    );
    assert!(
        media.contains("#EXT-X-INDEPENDENT-SEGMENTS"),
        "{what}: INDEPENDENT-SEGMENTS"
    );
    Media {
        version,
        map: map.to_string(),
        segments,
    }
}

/// Reads init + `segment` with core and checks the segment's video starts at a sync sample;
/// returns the movie read from init + segment.
fn check_segment(init: &[u8], segment: &[u8], what: &str) -> Movie {
    let mut bytes = init.to_vec();
    bytes.extend_from_slice(segment);
    let movie = read_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    let video = movie.video_track().expect("video track in the segment");
    let first = video.index.sample(0).expect("a video sample");
    assert!(
        first.sync,
        "{what}: first video sample is not a sync sample"
    );
    movie
}

/// The whole remux (init + every segment) keeps every sample's size and presentation time.
fn check_same_timeline(source: &Movie, remux: &[u8], what: &str) {
    let out = read_bytes(remux).unwrap_or_else(|e| panic!("{what}: {e}"));
    let kept: Vec<_> = source
        .tracks
        .iter()
        .filter(|t| t.kind != TrackKind::Other && t.index.sample_count() > 0)
        .collect();
    assert_eq!(out.tracks.len(), kept.len(), "{what}: tracks");
    for (a, b) in kept.iter().zip(&out.tracks) {
        assert_eq!(a.id, b.id, "{what}");
        let (sa, sb): (Vec<_>, Vec<_>) = (a.index.samples().collect(), b.index.samples().collect());
        assert_eq!(sa.len(), sb.len(), "{what} track {}: samples", a.id);
        for (x, y) in sa.iter().zip(&sb) {
            assert_eq!(
                (x.size, x.pts, x.sync),
                (y.size, y.pts, y.sync),
                "{what} track {} sample {}",
                a.id,
                x.index
            );
        }
        assert_eq!(a.index.frame_count(), b.index.frame_count(), "{what}");
    }
}

fn source_movie(f: &Fixture) -> Movie {
    read_bytes(&fs::read(f.path()).expect("fixture")).expect("fixture reads")
}

fn resolve(base: &str, uri: &str) -> String {
    match base.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{uri}"),
        None => uri.to_string(),
    }
}

#[test]
fn server_playlists_follow_the_vod_rules_and_keep_the_timeline() {
    let s = &server();
    for f in videos() {
        let what = f.file.as_str();
        let source = source_movie(f);
        let id = s.id_of(&f.file);
        let master_url = format!("/hls/{id}/master.m3u8");
        let master = s.get(&master_url, &[]);
        assert_eq!(master.status, 200, "{what}");
        assert_eq!(
            master.header("content-type"),
            "application/vnd.apple.mpegurl"
        );
        assert_eq!(master.header("cache-control"), "no-cache");
        let media_url = resolve(&master_url, &check_master(&text(&master), what));
        let media_resp = s.get(&media_url, &[]);
        assert_eq!(media_resp.status, 200, "{what}");
        let media = check_media(&text(&media_resp), &source, what);
        if what == "h264_open_gop.mp4" {
            // Its sync samples after frame 0 are open-GOP I-frames, where no segment starts.
            assert_eq!(media.segments.len(), 1, "{what}: segments");
        } else {
            assert!(
                media.segments.len() >= 2 || source.duration < 2.0,
                "{what}: segments"
            );
        }
        let init_uri = attr(&media.map, "URI").expect("MAP URI");
        let init = s.get(&resolve(&media_url, init_uri), &[]);
        assert_eq!(init.status, 200, "{what}");
        assert_eq!(
            init.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        let mut whole = init.body.clone();
        for (n, (_, range, uri)) in media.segments.iter().enumerate() {
            assert!(
                range.is_none(),
                "{what}: the server uses one URI per segment"
            );
            let url = resolve(&media_url, uri);
            let seg = s.get(&url, &[]);
            assert_eq!(seg.status, 200, "{what} {url}");
            assert_eq!(
                seg.header("cache-control"),
                "public, max-age=31536000, immutable"
            );
            assert_eq!(
                seg.header("content-length").parse::<usize>().ok(),
                Some(seg.body.len())
            );
            check_segment(&init.body, &seg.body, &format!("{what} segment {n}"));
            whole.extend_from_slice(&seg.body);
        }
        check_same_timeline(&source, &whole, what);
    }
}

#[test]
fn server_hls_answers_errors_as_json_and_caches_by_version() {
    let s = &server();
    let id = s.id_of("h264_aac.mp4");
    let media_url = format!("/hls/{id}/media.m3u8");
    let media = text(&s.get(&media_url, &[]));
    let seg0 = media
        .lines()
        .find(|l| l.ends_with("seg-0.m4s"))
        .expect("segment 0")
        .to_string();
    let version = seg0.split('/').next().expect("version").to_string();
    let count = media.lines().filter(|l| l.ends_with(".m4s")).count();

    // HEAD: same headers, no body; ranges on a segment.
    let url = format!("/hls/{id}/{seg0}");
    let full = s.get(&url, &[]);
    let head = s.head(&url, &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), full.header("content-length"));
    assert_eq!(head.header("etag"), full.header("etag"));
    let part = s.get(&url, &[("Range", "bytes=100-4099")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &full.body[100..4100]);
    let tail = s.get(&url, &[("Range", "bytes=-10")]);
    assert_eq!(tail.body, &full.body[full.body.len() - 10..]);
    // Revalidation of a playlist.
    let etag = s.get(&media_url, &[]).header("etag").to_string();
    assert_eq!(s.get(&media_url, &[("If-None-Match", &etag)]).status, 304);

    // Errors: JSON bodies.
    for (path, status) in [
        ("/hls/0000000000000000/master.m3u8".to_string(), 404),
        (format!("/hls/{id}/{version}/seg-{count}.m4s"), 404),
        (format!("/hls/{id}/0123456789abcdef/seg-0.m4s"), 404),
        (format!("/hls/{id}/0123456789abcdef/init.mp4"), 404),
        (format!("/hls/{id}/nothing.txt"), 404),
        (format!("/hls/{}/master.m3u8", s.id_of("random.mp4")), 422),
    ] {
        let r = s.get(&path, &[]);
        assert_eq!(r.status, status, "{path}");
        assert!(r.json()["error"].is_string(), "{path}");
    }
    let post = request("POST", &s.url(&format!("/hls/{id}/master.m3u8")), &[]);
    assert_eq!(post.status, 405);
    assert!(s.metric("frameseek_http_requests_total", "route=\"hls\"") > 0.0);
}

#[test]
fn a_changed_file_gets_new_segment_urls() {
    let dir = scratch("changing");
    let path = dir.join("clip.mp4");
    fs::copy(fixtures_dir().join("h264_faststart.mp4"), &path).expect("copy");
    let s = Server::serving(&dir, &[]);
    let id = s.id_of("clip.mp4");
    let media_url = format!("/hls/{id}/media.m3u8");
    let before = text(&s.get(&media_url, &[]));
    let f = fs::File::options().write(true).open(&path).expect("open");
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .expect("mtime");
    let after = text(&s.get(&media_url, &[]));
    assert_ne!(before, after, "the version token follows the mtime");
    let old_seg = before
        .lines()
        .find(|l| l.ends_with(".m4s"))
        .expect("segment");
    assert_eq!(s.get(&format!("/hls/{id}/{old_seg}"), &[]).status, 404);
    // Default target: 6 s, so the 3-second clip is one segment.
    assert_eq!(after.lines().filter(|l| l.ends_with(".m4s")).count(), 1);
}

/// ffmpeg's frames (gray) decoded from `input`, as barcodes.
fn barcodes(input: &str, f: &Fixture) -> Vec<u32> {
    let (w, h) = fixture_size(f);
    ffmpeg_gray_frames(&["-noautorotate", "-i", input], None, w, h)
        .iter()
        .map(|l| barcode(l, w))
        .collect()
}

fn fixture_size(f: &Fixture) -> (usize, usize) {
    let m = source_movie(f);
    let v = m
        .video_track()
        .and_then(|t| t.codec.as_ref().ok())
        .and_then(|c| c.video.clone())
        .expect("video");
    (v.coded_width as usize, v.coded_height as usize)
}

#[test]
fn ffmpeg_decodes_every_frame_through_the_server_hls() {
    let s = &server();
    for f in videos() {
        let id = s.id_of(&f.file);
        let codes = barcodes(&s.url(&format!("/hls/{id}/master.m3u8")), f);
        let expected: Vec<u32> = (0..f.frames as u32).collect();
        assert_eq!(
            codes, expected,
            "{}: frames through the server's HLS",
            f.file
        );
    }
    // A video stored inside a tar.
    let f = videos()
        .into_iter()
        .find(|f| f.file == "h264_bframes_editlist.mp4")
        .expect("fixture");
    let id = s.id_of("pack.tar/clips/inner.mp4");
    let codes = barcodes(&s.url(&format!("/hls/{id}/master.m3u8")), f);
    assert_eq!(
        codes,
        (0..f.frames as u32).collect::<Vec<_>>(),
        "tar member"
    );
}

fn pack(args: &[&str]) -> std::process::Output {
    Command::new(frameseek_e2e::frameseek_bin())
        .arg("pack")
        .args(args)
        .output()
        .expect("frameseek pack runs")
}

fn jpeg_size(path: &Path) -> (u32, u32) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    let text = String::from_utf8_lossy(&out.stdout);
    let (w, h) = text.trim().split_once(',').expect("w,h");
    (w.parse().expect("w"), h.parse().expect("h"))
}

#[test]
fn pack_writes_a_package_that_probes_plays_and_has_valid_thumbnails() {
    let root = scratch("pack");
    for name in [
        "h264_aac.mp4",
        "h264_bframes_editlist.mp4",
        "h264_fragmented.mp4",
        "h264_open_gop.mp4",
        "h264_vfr.mp4",
    ] {
        let f = videos()
            .into_iter()
            .find(|f| f.file == name)
            .expect("fixture");
        let out = root.join(name.trim_end_matches(".mp4"));
        let input = f.path();
        let run = pack(&[
            input.to_str().expect("path"),
            out.to_str().expect("path"),
            "--segment",
            "1",
        ]);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let source = source_movie(f);
        // video.mp4 opens as an MP4 (frameseek probe) with every frame.
        let probe = Command::new(frameseek_e2e::frameseek_bin())
            .args(["probe", "--json"])
            .arg(out.join("video.mp4"))
            .output()
            .expect("probe runs");
        assert!(probe.status.success(), "{name}: probe of video.mp4");
        let info: serde_json::Value = serde_json::from_slice(&probe.stdout).expect("JSON");
        assert_eq!(info["fragmented"], true);
        let video = fs::read(out.join("video.mp4")).expect("video.mp4");
        check_same_timeline(&source, &video, name);

        let master = fs::read_to_string(out.join("master.m3u8")).expect("master");
        let media_name = check_master(&master, name);
        let media_text = fs::read_to_string(out.join(&media_name)).expect("media");
        let media = check_media(&media_text, &source, name);
        assert!(media.version >= 6);
        // MAP and every segment are byte ranges of video.mp4 that tile it in order.
        let map_range = attr(&media.map, "BYTERANGE").expect("MAP BYTERANGE");
        let (len, off) = map_range.split_once('@').expect("len@offset");
        let (mut at, init_len): (u64, u64) = (off.parse().expect("off"), len.parse().expect("len"));
        assert_eq!(at, 0);
        let init = &video[..init_len as usize];
        at += init_len;
        for (n, (_, range, uri)) in media.segments.iter().enumerate() {
            assert_eq!(uri, "video.mp4");
            let (len, off) = range.expect("BYTERANGE");
            assert_eq!(off, at, "{name}: segment {n} follows the previous one");
            let seg = &video[off as usize..(off + len) as usize];
            check_segment(init, seg, &format!("{name} packed segment {n}"));
            at += len;
        }
        assert_eq!(
            at,
            video.len() as u64,
            "{name}: the segments cover video.mp4"
        );

        // ffmpeg decodes every frame through the package's master playlist (a file path).
        let codes = barcodes(out.join("master.m3u8").to_str().expect("path"), f);
        assert_eq!(codes, (0..f.frames as u32).collect::<Vec<_>>(), "{name}");

        // Thumbnails: every cue names a region inside its sprite sheet, and the cues tile
        // the duration.
        let vtt = fs::read_to_string(out.join("thumbnails.vtt")).expect("vtt");
        assert!(vtt.starts_with("WEBVTT\n"));
        let mut cues = 0;
        let mut last_end = 0.0;
        let lines: Vec<&str> = vtt.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some((a, b)) = l.split_once(" --> ") else {
                continue;
            };
            let secs = |t: &str| -> f64 {
                t.split(':')
                    .fold(0.0, |acc, p| acc * 60.0 + p.parse::<f64>().expect("time"))
            };
            let (start, end) = (secs(a), secs(b));
            assert!(
                (start - last_end).abs() < 1e-3 && end > start,
                "{name}: {l}"
            );
            last_end = end;
            let target = lines[i + 1];
            let (file, frag) = target.split_once("#xywh=").expect("xywh");
            let xywh: Vec<u32> = frag.split(',').map(|v| v.parse().expect("int")).collect();
            let (sw, sh) = jpeg_size(&out.join(file));
            assert!(
                xywh[2] > 0 && xywh[0] + xywh[2] <= sw && xywh[1] + xywh[3] <= sh,
                "{name}: {target} outside {sw}x{sh}"
            );
            cues += 1;
        }
        assert!(cues >= 2, "{name}: cues");
        assert!(
            (last_end - source.duration).abs() < 0.05,
            "{name}: cues end"
        );

        let meta: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("metadata.json")).expect("metadata"))
                .expect("metadata JSON");
        assert_eq!(meta["files"]["master"], "master.m3u8");
        assert_eq!(meta["files"]["video"], "video.mp4");
        assert_eq!(meta["files"]["thumbnails"], "thumbnails.vtt");
        assert_eq!(meta["source"], name);
        assert_eq!(meta["tracks"], info["tracks"], "{name}: the probe JSON");
        for sheet in meta["files"]["sprites"].as_array().expect("sprites") {
            assert!(out.join(sheet.as_str().expect("name")).is_file());
        }
    }
}

#[test]
fn pack_refuses_unreadable_input_and_leaves_nothing() {
    let root = scratch("pack-errors");
    let missing = root.join("missing.mp4");
    let random = fixtures_dir().join("random.mp4");
    let truncated = fixtures_dir().join("truncated_moov.mp4");
    for input in [&missing, &random, &truncated] {
        let out = root.join("out");
        let run = pack(&[input.to_str().expect("path"), out.to_str().expect("path")]);
        assert!(!run.status.success(), "{}", input.display());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("frameseek: cannot read"), "{stderr}");
        assert!(!out.exists(), "{}: OUTDIR created", input.display());
        // An existing empty OUTDIR stays empty.
        fs::create_dir_all(&out).expect("mkdir");
        let run = pack(&[input.to_str().expect("path"), out.to_str().expect("path")]);
        assert!(!run.status.success());
        assert_eq!(fs::read_dir(&out).expect("dir").count(), 0);
        fs::remove_dir(&out).expect("rmdir");
    }
    // No staging directories left beside OUTDIR.
    assert_eq!(fs::read_dir(&root).expect("dir").count(), 0);

    // A non-empty OUTDIR is refused without --force and replaced with it.
    let good = fixtures_dir().join("h264_faststart.mp4");
    let out = root.join("full");
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("keep.txt"), b"mine").expect("write");
    let run = pack(&[good.to_str().expect("path"), out.to_str().expect("path")]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--force"));
    assert_eq!(fs::read(out.join("keep.txt")).expect("kept"), b"mine");
    let run = pack(&[
        good.to_str().expect("path"),
        out.to_str().expect("path"),
        "--force",
        "--no-thumbnails",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!out.join("keep.txt").exists());
    assert!(out.join("master.m3u8").is_file() && !out.join("thumbnails.vtt").exists());
    assert_eq!(fs::read_dir(&root).expect("dir").count(), 1);
}
