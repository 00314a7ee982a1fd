//! VOD HLS from core: segments start at sync samples, every sample lands in one segment,
//! EXTINF sums to the video's span (first frame to end) within a frame, TARGETDURATION follows RFC 8216, and ffmpeg
//! decodes every frame in order through the written playlists and fMP4 segments.

use frameseek_core::hls::{
    master_playlist, media_playlist, segment_movie, segment_movie_where, MediaPlaylistOptions,
    SegmentUri, VariantInfo,
};
use frameseek_core::mp4::{write_fragment, write_init};
use frameseek_core::{is_decoder_start, read_movie, Error, Movie};
use frameseek_e2e::{barcode, ffmpeg_gray_frames, video_fixtures};

fn read(data: &[u8]) -> Movie {
    read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
        Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
    })
    .expect("movie")
}

#[test]
fn segments_follow_the_authoring_rules_and_decode_in_order() {
    for f in video_fixtures() {
        if f.file.starts_with("truncated") {
            continue;
        }
        let data = std::fs::read(f.path()).expect("fixture");
        let movie = read(&data);
        let video = movie.video_track().expect("video");
        let vi = movie
            .tracks
            .iter()
            .position(|t| t.id == video.id)
            .expect("video index");
        let segments = segment_movie(&movie, 1.0);
        assert!(!segments.is_empty(), "{}", f.file);
        // Every sample of every track in exactly one segment, in order.
        for (ti, t) in movie.tracks.iter().enumerate() {
            let mut next = 0;
            for s in &segments {
                assert_eq!(s.runs[ti].0, next, "{} track {}: contiguous", f.file, t.id);
                next = s.runs[ti].1;
            }
            assert_eq!(
                next,
                t.index.sample_count(),
                "{} track {}: all samples",
                f.file,
                t.id
            );
        }
        for s in &segments {
            let first = video.index.sample(s.runs[vi].0).expect("sample");
            assert!(first.sync, "{}: segment starts with a sync sample", f.file);
        }
        let total: f64 = segments.iter().map(|s| s.duration).sum();
        let frame = 1.0 / video.index.fps().max(1.0);
        assert!(
            (total - video.index.span_seconds()).abs() <= frame,
            "{}: EXTINF sum {total}",
            f.file
        );
        let dir =
            std::env::temp_dir().join(format!("frameseek-hls-{}-{}", std::process::id(), f.file));
        std::fs::create_dir_all(&dir).expect("dir");
        let tracks: Vec<_> = movie.tracks.iter().collect();
        std::fs::write(dir.join("init.mp4"), write_init(movie.timescale, &tracks)).expect("init");
        for (n, s) in segments.iter().enumerate() {
            let frag = write_fragment(n as u32 + 1, &s.fragment_runs(&movie));
            let mut bytes = frag.header.clone();
            for r in &frag.payload {
                bytes.extend_from_slice(&data[r.start as usize..r.end as usize]);
            }
            std::fs::write(dir.join(format!("seg-{n}.m4s")), bytes).expect("segment");
        }
        let media = media_playlist(
            &segments,
            &MediaPlaylistOptions {
                init_uri: "init.mp4".into(),
                segments: SegmentUri::Numbered {
                    prefix: "seg-".into(),
                    suffix: ".m4s".into(),
                },
                extra_tags: Vec::new(),
            },
        );
        let target: f64 = media
            .lines()
            .find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:"))
            .and_then(|v| v.parse().ok())
            .expect("target duration");
        for l in media.lines().filter_map(|l| l.strip_prefix("#EXTINF:")) {
            let d: f64 = l.trim_end_matches(',').parse().expect("EXTINF");
            assert!(
                d.round() <= target,
                "{}: EXTINF {d} rounds above TARGETDURATION {target}",
                f.file
            );
        }
        std::fs::write(dir.join("media.m3u8"), &media).expect("media");
        let variant = VariantInfo::of(&movie, &segments);
        assert!(variant
            .codecs
            .starts_with(&video.codec.as_ref().expect("codec").codec));
        let master = master_playlist(&variant, "media.m3u8");
        assert!(
            master.contains("RESOLUTION=") && master.contains("BANDWIDTH="),
            "{master}"
        );
        std::fs::write(dir.join("master.m3u8"), master).expect("master");
        let v = video
            .codec
            .as_ref()
            .ok()
            .and_then(|c| c.video.clone())
            .expect("video");
        let (w, h) = (v.coded_width as usize, v.coded_height as usize);
        let p = dir.join("master.m3u8").to_string_lossy().into_owned();
        let frames = ffmpeg_gray_frames(&["-noautorotate", "-i", &p], None, w, h);
        let codes: Vec<u32> = frames.iter().map(|l| barcode(l, w)).collect();
        let expected: Vec<u32> = (0..f.frames as u32).collect();
        assert_eq!(codes, expected, "{}: frames through HLS", f.file);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn segments_start_where_a_decoder_can() {
    // x264 open GOP: its non-IDR I-frames are sync samples, but no decoder starts there.
    for f in video_fixtures() {
        let data = std::fs::read(f.path()).expect("fixture");
        if f.file.starts_with("truncated") {
            continue;
        }
        let movie = read(&data);
        let video = movie.video_track().expect("video");
        let Ok(codec) = video.codec.as_ref() else {
            continue;
        };
        let bytes = |i: usize| {
            let s = video.index.sample(i).expect("sample");
            &data[s.offset as usize..(s.offset + u64::from(s.size)) as usize]
        };
        let is_start = |i: usize| is_decoder_start(codec, bytes(i));
        let plain = segment_movie(&movie, 1.0);
        let segments = segment_movie_where(&movie, 1.0, &is_start);
        let vi = movie
            .tracks
            .iter()
            .position(|t| t.id == video.id)
            .expect("video index");
        for s in &segments {
            assert_ne!(is_start(s.runs[vi].0), Some(false), "{}", f.file);
        }
        if f.file == "h264_open_gop.mp4" {
            // Sync samples every 30 frames, but only frame 0 is an IDR.
            assert_eq!(plain.len(), 4, "{}", f.file);
            assert_eq!(segments.len(), 1, "{}", f.file);
        } else if f.codec == "h264" {
            assert_eq!(
                segments.len(),
                plain.len(),
                "{}: closed GOPs cut alike",
                f.file
            );
        }
    }
}
