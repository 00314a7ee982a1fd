//! The track index against ffprobe's packet lists, for every fixture and track: pts, dts,
//! pos, size, key and discard flags in decode order, and the presentation order against a
//! reference decode's barcodes. Also `frameseek probe --json` against ffprobe's summary.

use frameseek_core::{read_movie, Error, MediaInfo, Movie, TrackKind};
use frameseek_e2e::{barcode, ffprobe_packets, ffprobe_streams, reference_frames, video_fixtures};
use std::path::Path;
use std::process::Command;

fn read(path: &Path) -> Movie {
    let data = std::fs::read(path).expect("fixture");
    read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
        Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn index_matches_ffprobe_packets() {
    for f in video_fixtures() {
        let movie = read(&f.path());
        for (stream, track) in movie.tracks.iter().enumerate() {
            let packets = ffprobe_packets(&f.path(), stream);
            let ours: Vec<_> = track.index.samples().collect();
            assert_eq!(
                ours.len(),
                packets.len(),
                "{} track {}: sample count",
                f.file,
                track.id
            );
            for (s, p) in ours.iter().zip(&packets) {
                let ctx = format!("{} track {} sample {}", f.file, track.id, s.index);
                assert_eq!(Some(s.offset), p.pos, "{ctx}: pos");
                assert_eq!(u64::from(s.size), p.size, "{ctx}: size");
                assert_eq!(Some(s.dts), p.dts, "{ctx}: dts");
                assert_eq!(Some(s.pts), p.pts, "{ctx}: pts");
                assert_eq!(s.sync, p.key, "{ctx}: key flag");
                if track.kind == TrackKind::Video {
                    assert_eq!(s.discard, p.discard, "{ctx}: discard flag");
                }
            }
        }
    }
}

#[test]
fn gop_end_is_where_the_gops_packets_end() {
    for f in video_fixtures() {
        let movie = read(&f.path());
        let track = movie.video_track().expect("video track");
        let stream = movie
            .tracks
            .iter()
            .position(|t| std::ptr::eq(t, track))
            .expect("track position");
        let packets = ffprobe_packets(&f.path(), stream);
        for i in 0..packets.len() {
            let key = (0..=i).rev().find(|&j| packets[j].key).unwrap_or(0);
            let next = (i + 1..packets.len())
                .find(|&j| packets[j].key)
                .unwrap_or(packets.len());
            let want = packets[key..next]
                .iter()
                .filter_map(|p| p.pos.map(|pos| pos + p.size))
                .max()
                .unwrap_or(0);
            assert_eq!(track.index.gop_end(i), want, "{} sample {i}", f.file);
        }
        assert_eq!(
            track.index.gop_end(packets.len()),
            0,
            "{}: past the end",
            f.file
        );
    }
}

#[test]
fn presentation_order_matches_reference_decode() {
    for f in video_fixtures() {
        let movie = read(&f.path());
        let track = movie.video_track().expect("video track");
        let v = track
            .codec
            .as_ref()
            .expect("codec")
            .video
            .clone()
            .expect("video params");
        let (w, h) = (v.coded_width as usize, v.coded_height as usize);
        let frames = reference_frames(&f.path(), w, h);
        assert_eq!(
            track.index.frame_count(),
            frames.len(),
            "{}: frame count vs ffmpeg decode",
            f.file
        );
        assert_eq!(
            track.index.frame_count(),
            f.frames,
            "{}: frame count vs manifest",
            f.file
        );
        for (k, luma) in frames.iter().enumerate() {
            assert_eq!(
                barcode(luma, w),
                k as u32,
                "{}: reference frame {k} barcode",
                f.file
            );
        }
        // Presentation times strictly increase with k.
        for k in 1..track.index.frame_count() {
            assert!(
                track.index.frame_pts(k) > track.index.frame_pts(k - 1),
                "{}: pts order at {k}",
                f.file
            );
        }
    }
}

#[test]
fn probe_json_agrees_with_ffprobe() {
    let bin = frameseek_e2e::frameseek_bin();
    for f in video_fixtures() {
        let out = Command::new(&bin)
            .args(["probe", "--json"])
            .arg(f.path())
            .output()
            .expect("probe runs");
        assert!(
            out.status.success(),
            "{}: probe failed: {}",
            f.file,
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe JSON");
        let theirs = ffprobe_streams(&f.path());
        let ctx = &f.file;
        let fmt_duration: f64 = theirs["format"]["duration"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0);
        let ours_duration = ours["duration"].as_f64().unwrap_or(-1.0);
        let streams = theirs["streams"].as_array().expect("streams");
        let ours_tracks = ours["tracks"].as_array().expect("tracks");
        assert_eq!(ours_tracks.len(), streams.len(), "{ctx}: track count");
        let mut max_frame = 0.0f64;
        for (t, s) in ours_tracks.iter().zip(streams) {
            let kind = s["codec_type"].as_str().unwrap_or("");
            assert_eq!(t["kind"].as_str(), Some(kind), "{ctx}: kind");
            if kind != "video" {
                continue;
            }
            assert_eq!(t["width"].as_u64(), s["width"].as_u64(), "{ctx}: width");
            assert_eq!(t["height"].as_u64(), s["height"].as_u64(), "{ctx}: height");
            let nb: u64 = s["nb_read_frames"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            assert_eq!(
                t["frameCount"].as_u64(),
                Some(nb),
                "{ctx}: frameCount vs nb_read_frames"
            );
            let codec = t["codec"].as_str().unwrap_or("");
            let name = s["codec_name"].as_str().unwrap_or("");
            let family = match name {
                "h264" => "avc",
                "hevc" => "h",
                "vp9" => "vp09",
                "av1" => "av01",
                other => other,
            };
            assert!(
                codec.starts_with(family),
                "{ctx}: codec {codec} vs ffprobe {name}"
            );
            let frame_rate = |key: &str| -> f64 {
                let r = s[key].as_str().unwrap_or("0/1");
                let (n, d) = r.split_once('/').unwrap_or((r, "1"));
                n.parse::<f64>().unwrap_or(0.0) / d.parse::<f64>().unwrap_or(1.0).max(1e-9)
            };
            let fps = t["fps"].as_f64().unwrap_or(0.0);
            let avg = frame_rate("avg_frame_rate");
            assert!(
                (fps - avg).abs() / avg.max(1.0) < 0.02,
                "{ctx}: fps {fps} vs avg_frame_rate {avg}"
            );
            max_frame = max_frame.max(1.0 / avg.max(1.0));
            let rotation = t["rotation"].as_i64().unwrap_or(0);
            let theirs_rotation = s["side_data_list"]
                .as_array()
                .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()))
                .unwrap_or(0);
            // ffprobe's display matrix rotation is counter-clockwise.
            assert_eq!(
                rotation,
                (-theirs_rotation).rem_euclid(360),
                "{ctx}: rotation"
            );
            let sar = s["sample_aspect_ratio"].as_str().unwrap_or("1:1");
            let sar = if sar == "0:1" { "1:1" } else { sar };
            assert_eq!(t["sar"].as_str(), Some(sar), "{ctx}: sar");
        }
        assert!(
            (ours_duration - fmt_duration).abs() <= max_frame + 1e-3,
            "{ctx}: duration {ours_duration} vs ffprobe {fmt_duration}"
        );
    }
    // Unreadable input: non-zero exit, one line on stderr, no panic.
    for bad in ["random.bin", "truncated_moov.mp4"] {
        let path = frameseek_e2e::fixtures_dir().join(bad);
        let out = Command::new(&bin)
            .args(["probe", "--json"])
            .arg(&path)
            .output()
            .expect("probe runs");
        assert!(!out.status.success(), "{bad}: probe should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{bad}: one-line error, got {err:?}"
        );
        assert!(!err.contains("panicked"), "{bad}: {err}");
    }
    let _ = MediaInfo::from_movie;
}

/// Rewrites the (single) elst of a moov-last file, fixing the enclosing box sizes.
fn with_edits(data: &[u8], edits: &[(u32, i32)]) -> Vec<u8> {
    let at = data.windows(4).rposition(|w| w == b"elst").expect("elst") - 4;
    let old = u32::from_be_bytes(data[at..at + 4].try_into().expect("size")) as usize;
    let mut elst = Vec::new();
    elst.extend_from_slice(&((16 + 12 * edits.len()) as u32).to_be_bytes());
    elst.extend_from_slice(b"elst\0\0\0\0");
    elst.extend_from_slice(&(edits.len() as u32).to_be_bytes());
    for &(duration, media_time) in edits {
        elst.extend_from_slice(&duration.to_be_bytes());
        elst.extend_from_slice(&media_time.to_be_bytes());
        elst.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    }
    let grow = elst.len() as i64 - old as i64;
    let mut out = [&data[..at], &elst[..], &data[at + old..]].concat();
    // Enclosing boxes (edts, trak, moov) start before `at` and contain it.
    for kind in [b"edts", b"trak", b"moov"] {
        let pos = out[..at]
            .windows(4)
            .rposition(|w| w == kind)
            .expect("parent")
            - 4;
        let size = u32::from_be_bytes(out[pos..pos + 4].try_into().expect("size")) as i64;
        out[pos..pos + 4].copy_from_slice(&((size + grow) as u32).to_be_bytes());
    }
    out
}

#[test]
fn empty_and_offset_edits_match_ffprobe() {
    let f = video_fixtures()
        .into_iter()
        .find(|f| f.file == "h264_bframes_editlist.mp4")
        .expect("fixture");
    let data = std::fs::read(f.path()).expect("read");
    let dir = std::env::temp_dir().join(format!("frameseek-edits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // Movie timescale 1000: a 500 ms empty edit, then the media from its B-frame delay;
    // and a media edit that starts mid-GOP and ends early (frames outside are discarded).
    for (name, edits) in [
        ("empty_edit.mp4", vec![(500u32, -1i32), (3000, 1024)]),
        ("mid_gop_edit.mp4", vec![(1000, 1024 + 512 * 10)]),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, with_edits(&data, &edits)).expect("write");
        let movie = read(&path);
        let track = movie.video_track().expect("video");
        let packets = ffprobe_packets(&path, 0);
        for (s, p) in track.index.samples().zip(&packets) {
            assert_eq!(Some(s.pts), p.pts, "{name} sample {}: pts", s.index);
            assert_eq!(Some(s.dts), p.dts, "{name} sample {}: dts", s.index);
            assert_eq!(s.discard, p.discard, "{name} sample {}: discard", s.index);
        }
        let v = track
            .codec
            .as_ref()
            .expect("codec")
            .video
            .clone()
            .expect("video");
        let frames = reference_frames(&path, v.coded_width as usize, v.coded_height as usize);
        assert_eq!(
            track.index.frame_count(),
            frames.len(),
            "{name}: frame count"
        );
        // Frame k of the index is the k-th picture ffmpeg shows: its barcode is the frame
        // number the same sample has in the unedited source.
        let source = read(&f.path());
        let source = &source.video_track().expect("video").index;
        for (k, luma) in frames.iter().enumerate() {
            let sample = track.index.frame_sample(k).expect("frame");
            let code = barcode(luma, v.coded_width as usize) as usize;
            assert_eq!(source.sample_frame(sample), Some(code), "{name}: frame {k}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
