//! HLS input in core: ffmpeg-made playlists parse into the segments ffmpeg wrote, and every
//! MPEG-TS segment demuxes into the samples ffprobe lists (timestamps and key flags), with
//! the codec string and `description` that the same encode has in MP4; the demuxed AVC/HEVC
//! samples decode with ffmpeg to every barcode in order; segments that continue a GOP join
//! into one decodable run. Hostile segments and playlists give errors or partial results,
//! never panics.

use frameseek_core::codec::h264::parse_avcc;
use frameseek_core::codec::hevc::parse_hvcc;
use frameseek_core::hls::playlist::{parse_media, parse_playlist, resolve_uri, Playlist};
use frameseek_core::hls::segment::{join_video, read_segment};
use frameseek_core::hls::ts::{demux_ts, TsOptions, TsSegment};
use frameseek_core::{read_movie, Error, Movie, TrackKind};
use frameseek_e2e::{
    annex_b, barcode, ffmpeg_gray_frames, ffprobe_packets, ffprobe_streams, fixtures, fixtures_dir,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn read(path: &Path) -> Movie {
    let data = std::fs::read(path).expect("fixture");
    read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
        Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
    })
    .expect("movie")
}

fn codec_of(movie: &Movie, kind: TrackKind) -> frameseek_core::CodecConfig {
    let t = movie.tracks.iter().find(|t| t.kind == kind).expect("track");
    t.codec.clone().expect("codec")
}

/// ffprobe's container duration of a file or playlist.
fn ffprobe_duration(path: &Path) -> f64 {
    let json = ffprobe_streams(path);
    json["format"]["duration"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("format duration")
}

/// The segment files of a media playlist, resolved against its path.
fn segment_paths(playlist: &Path) -> Vec<PathBuf> {
    let media = parse_media(&std::fs::read(playlist).expect("playlist")).expect("media");
    let base = format!("file://{}", playlist.display());
    media
        .segments
        .iter()
        .map(|s| PathBuf::from(resolve_uri(&base, &s.uri).trim_start_matches("file://")))
        .collect()
}

/// Checks one demuxed segment against ffprobe's packets of the same file.
fn check_against_ffprobe(path: &Path, seg: &TsSegment, audio_stream: Option<usize>) {
    let name = path.display();
    let video = seg.video.as_ref().expect("video track");
    let probe = ffprobe_packets(path, 0);
    assert_eq!(video.samples.len(), probe.len(), "{name}: video samples");
    for (i, (s, p)) in video.samples.iter().zip(&probe).enumerate() {
        assert_eq!(Some(s.pts), p.pts, "{name} video {i}: pts");
        assert_eq!(Some(s.dts), p.dts, "{name} video {i}: dts");
        assert_eq!(s.sync, p.key, "{name} video {i}: key flag");
        assert!(!s.data.is_empty(), "{name} video {i}: bytes");
    }
    // Durations are DTS differences.
    for w in video.samples.windows(2) {
        assert_eq!(i64::from(w[0].duration), w[1].dts - w[0].dts, "{name}");
    }
    if let Some(stream) = audio_stream {
        let audio = seg.audio.as_ref().expect("audio track");
        let probe = ffprobe_packets(path, stream);
        assert_eq!(audio.samples.len(), probe.len(), "{name}: audio frames");
        for (i, (s, p)) in audio.samples.iter().zip(&probe).enumerate() {
            assert_eq!(Some(s.pts), p.pts, "{name} audio {i}: pts");
            // ffprobe's size is the ADTS frame; the raw frame lacks the 7-byte header.
            assert_eq!(s.data.len() as u64 + 7, p.size, "{name} audio {i}: size");
        }
    }
    assert_eq!(seg.errors, 0, "{name}: errors");
    assert_eq!(seg.skipped_bytes, 0, "{name}: skipped");
    assert!(!seg.truncated, "{name}: truncated");
}

/// Decodes length-prefixed samples (in decode order) with ffmpeg and reads the barcodes.
fn decode_barcodes(codec: &frameseek_core::CodecConfig, samples: &[&[u8]], fmt: &str) -> Vec<u32> {
    let desc = codec.description.as_deref().expect("description");
    let stream = annex_b(&codec.codec, desc, samples);
    let v = codec.video.as_ref().expect("video params");
    let (w, h) = (v.coded_width as usize, v.coded_height as usize);
    ffmpeg_gray_frames(&["-f", fmt, "-i", "pipe:0"], Some(&stream), w, h)
        .iter()
        .map(|f| barcode(f, w))
        .collect()
}

#[test]
fn ts_playlist_segments_match_ffprobe_and_decode_in_order() {
    fixtures();
    let playlist = fixtures_dir().join("hls_ts").join("index.m3u8");
    let text = std::fs::read(&playlist).expect("playlist");
    let Playlist::Media(media) = parse_playlist(&text).expect("parses") else {
        panic!("a media playlist");
    };
    assert_eq!(media.segments.len(), 5);
    assert!(media.ended && !media.is_live());
    assert_eq!(media.target_duration, 1);
    assert!(media.maps.is_empty());
    let total: f64 = media.segments.iter().map(|s| s.duration).sum();
    let probed = ffprobe_duration(&playlist);
    assert!(
        (total - probed).abs() <= 1.0 / 30.0 + 1e-6,
        "EXTINF sum {total} vs ffprobe {probed}"
    );
    assert!((media.duration() - total).abs() < 1e-9);

    let mp4 = read(&fixtures_dir().join("h264_aac.mp4"));
    let mp4_video = codec_of(&mp4, TrackKind::Video);
    let mp4_audio = codec_of(&mp4, TrackKind::Audio);

    let mut all: Vec<Vec<u8>> = Vec::new();
    let mut config = None;
    let mut audio_frames = 0;
    for path in segment_paths(&playlist) {
        let data = std::fs::read(&path).expect("segment");
        let seg = demux_ts(&data).expect("demuxes");
        check_against_ffprobe(&path, &seg, Some(1));
        let video = seg.video.as_ref().expect("video");
        assert_eq!(video.stream_type, 0x1b);
        assert_eq!(video.timescale, 90_000);
        assert!(video.samples[0].sync, "{}: starts with IDR", path.display());
        let codec = video.codec.clone().expect("avcC from SPS/PPS");
        assert_eq!(codec.codec, mp4_video.codec, "codec string as from MP4");
        assert!(codec.codec.starts_with("avc1.64000d"));
        let desc = codec.description.as_deref().expect("description");
        let avc = parse_avcc(desc, 0).expect("avcC parses");
        assert_eq!(format!("avc1.{}", avc.profile_level), codec.codec);
        assert_eq!(codec.video, mp4_video.video, "geometry as from MP4");
        let audio = seg.audio.as_ref().expect("audio");
        let acodec = audio.codec.clone().expect("ASC");
        assert_eq!(acodec.codec, mp4_audio.codec);
        assert_eq!(acodec.audio, mp4_audio.audio);
        assert!(audio.samples.iter().all(|s| s.duration == 1920 && s.sync));
        audio_frames += audio.samples.len();
        for i in 0..video.samples.len() {
            all.push(video.sample_data(i).expect("sample").to_vec());
        }
        if let Some(prev) = &config {
            assert_eq!(prev, &codec, "same configuration in every segment");
        }
        config = Some(codec);
    }
    // Every audio frame of the whole stream, as ffprobe counts them through the playlist.
    let whole = ffprobe_packets(&playlist, 1).len();
    assert_eq!(audio_frames, whole, "audio frames over all segments");

    let config = config.expect("config");
    let samples: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
    let codes = decode_barcodes(&config, &samples, "h264");
    assert_eq!(codes, (0..150).collect::<Vec<u32>>());
}

#[test]
fn fmp4_playlist_parses_with_its_map() {
    fixtures();
    let playlist = fixtures_dir().join("hls_fmp4").join("index.m3u8");
    let media = parse_media(&std::fs::read(&playlist).expect("playlist")).expect("parses");
    assert_eq!(media.segments.len(), 5);
    assert_eq!(media.version, Some(7));
    let map = media.map().expect("EXT-X-MAP");
    assert_eq!(map.uri, "init.mp4");
    assert!(media.segments.iter().all(|s| s.map == Some(0)));
    assert_eq!(
        media
            .segments
            .iter()
            .map(|s| s.sequence)
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    let total: f64 = media.segments.iter().map(|s| s.duration).sum();
    let probed = ffprobe_duration(&playlist);
    assert!(
        (total - probed).abs() <= 1.0 / 30.0 + 1e-6,
        "{total} vs {probed}"
    );
    for s in &media.segments {
        let base = format!("file://{}", playlist.display());
        let p = resolve_uri(&base, &s.uri);
        assert!(Path::new(p.trim_start_matches("file://")).is_file(), "{p}");
    }
    // The init segment's codec is the one the TS variant's avcC gives.
    let init = read(&fixtures_dir().join("hls_fmp4").join(&map.uri));
    let ts = demux_ts(
        &std::fs::read(fixtures_dir().join("hls_ts").join("seg_000.ts")).expect("segment"),
    )
    .expect("demuxes");
    let from_ts = ts.video.and_then(|v| v.codec).expect("codec");
    assert_eq!(codec_of(&init, TrackKind::Video).codec, from_ts.codec);
}

/// Remuxes an MP4 fixture to MPEG-TS with ffmpeg (stream copy, so the parameter sets are
/// the MP4's) into a temporary file.
fn remux_to_ts(fixture: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!(
        "frameseek-hls-input-{}-{fixture}.ts",
        std::process::id()
    ));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(fixtures_dir().join(fixture))
        .args(["-map", "0:v:0", "-c", "copy", "-f", "mpegts"])
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "remux {fixture}");
    out
}

#[test]
fn ts_from_mp4_gets_the_mp4s_exact_description() {
    fixtures();
    for (fixture, frames, fmt) in [
        ("h264_bframes_editlist.mp4", 90, "h264"),
        ("hevc.mp4", 60, "hevc"),
    ] {
        let mp4 = read(&fixtures_dir().join(fixture));
        let want = codec_of(&mp4, TrackKind::Video);
        let path = remux_to_ts(fixture);
        let data = std::fs::read(&path).expect("ts");
        let seg = demux_ts(&data).expect("demuxes");
        check_against_ffprobe(&path, &seg, None);
        let video = seg.video.as_ref().expect("video");
        let got = video.codec.clone().expect("config");
        if fmt == "hevc" {
            assert_eq!(video.stream_type, 0x24);
            // ffmpeg writes hvc1 with the parameter sets out of band, like ours.
            assert_eq!(got.codec, want.codec, "{fixture}");
            let desc = got.description.as_deref().expect("hvcC");
            parse_hvcc(desc, 0).expect("hvcC parses");
        } else {
            assert_eq!(got.codec, want.codec, "{fixture}");
        }
        let (g, w) = (
            got.description.as_deref().expect("ours"),
            want.description.as_deref().expect("MP4's"),
        );
        if fmt == "hevc" {
            // The MP4's hvcC has a fourth array, x265's SEI, after the VPS/SPS/PPS arrays
            // that ours holds: the same record otherwise.
            assert!(
                g[..22] == w[..22] && w[23..].starts_with(&g[23..]),
                "{fixture}"
            );
            assert_eq!((g[22], w[22]), (3, 4), "{fixture}: arrays");
        } else {
            assert!(g == w, "{fixture}: description {g:02x?} vs {w:02x?}");
        }
        assert_eq!(got.video, want.video, "{fixture}: geometry");
        let samples: Vec<&[u8]> = (0..video.samples.len())
            .map(|i| video.sample_data(i).expect("sample"))
            .collect();
        let codes = decode_barcodes(&got, &samples, fmt);
        assert_eq!(codes, (0..frames).collect::<Vec<u32>>(), "{fixture}");
        let _ = std::fs::remove_file(&path);
    }
}

/// xorshift: deterministic "random" bytes.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn hostile_segments_give_errors_or_partial_results() {
    fixtures();
    let path = fixtures_dir().join("hls_ts").join("seg_001.ts");
    let data = std::fs::read(&path).expect("segment");
    let full = demux_ts(&data).expect("demuxes");
    let full_video = full.video.as_ref().map_or(0, |v| v.samples.len());

    // Truncated anywhere: an error (before the PMT) or fewer samples, never more.
    let mut last = 0;
    for cut in (0..data.len()).step_by(97).chain([data.len() - 1]) {
        match demux_ts(&data[..cut]) {
            Ok(seg) => {
                let n = seg.video.as_ref().map_or(0, |v| v.samples.len());
                assert!(n <= full_video, "cut {cut}: {n} samples");
                assert!(n + 1 >= last, "cut {cut}: samples only grow with the input");
                last = n;
                if cut % 188 != 0 {
                    assert!(seg.truncated, "cut {cut}");
                }
                let bytes = seg.video.as_ref().map_or(0, |v| v.data.len())
                    + seg.audio.as_ref().map_or(0, |a| a.data.len());
                assert!(
                    bytes <= cut * 5 / 4 + 16,
                    "cut {cut}: output bounded by input"
                );
            }
            Err(e) => assert!(cut < 3 * 188, "cut {cut}: {e}"),
        }
    }

    // Garbage in front and in the middle: resync finds the packets again.
    let mut shifted = noise(7, 1000);
    shifted.retain(|&b| b != 0x47);
    let garbage = shifted.len();
    shifted.extend_from_slice(&data[..188 * 40]);
    shifted.extend_from_slice(&[0x47, 1, 2, 3, 4]);
    shifted.extend_from_slice(&data[188 * 40..]);
    let seg = demux_ts(&shifted).expect("resyncs");
    assert_eq!(seg.skipped_bytes, garbage as u64 + 5);
    assert_eq!(
        seg.video.as_ref().map(|v| v.samples.len()),
        Some(full_video)
    );

    // Random bytes: an error. Flipped bytes in a real segment: no panic.
    for seed in 1..20 {
        let r = noise(seed, 188 * 50);
        assert!(demux_ts(&r).is_err(), "seed {seed}");
        let mut flipped = data.clone();
        for (k, b) in noise(seed, 64).iter().enumerate() {
            let at = (usize::from(*b) * 7919 + k * 104_729) % flipped.len();
            flipped[at] ^= b | 1;
        }
        let _ = demux_ts(&flipped);
    }
    assert!(demux_ts(&[]).is_err());
    assert!(demux_ts(&[0x47; 187]).is_err());
}

#[test]
fn hostile_playlists_give_errors_never_panics() {
    fixtures();
    let text = std::fs::read(fixtures_dir().join("hls_ts").join("index.m3u8")).expect("m3u8");
    for n in 0..=text.len() {
        let _ = parse_playlist(&text[..n]);
    }
    for seed in 1..50 {
        let mut t = text.clone();
        for (k, b) in noise(seed, 8).iter().enumerate() {
            let at = (usize::from(*b) * 31 + k * 17) % t.len();
            t[at] = *b;
        }
        let _ = parse_playlist(&t);
        let _ = parse_playlist(&noise(seed, 500));
    }
    assert!(parse_playlist(b"").is_err());
    assert!(parse_playlist(b"not a playlist").is_err());
}

/// Every segment of an ffmpeg-made playlist (TS, and fMP4 after its EXT-X-MAP) read as a
/// segment movie: the frame numbers the timeline gives its frames are 0..n-1 across the
/// segments, each frame number maps back to the segment that holds it, and the samples in
/// decode order decode to the barcodes of those frame numbers.
#[test]
fn segments_number_frames_across_the_playlist() {
    use frameseek_core::hls::segment::{read_segment, SegmentFormat};
    use frameseek_core::hls::timeline::{typical_frame_duration, HlsTimeline};
    use frameseek_core::hls::ts::TsOptions;
    fixtures();
    for (dir, format) in [
        ("hls_ts", SegmentFormat::Ts),
        ("hls_fmp4", SegmentFormat::Fmp4),
    ] {
        let playlist = fixtures_dir().join(dir).join("index.m3u8");
        let mut media =
            parse_media(&std::fs::read(&playlist).expect("playlist")).expect("media playlist");
        media.resolve_uris(&format!("file://{}", playlist.display()));
        let init = media
            .map()
            .map(|m| std::fs::read(m.uri.trim_start_matches("file://")).expect("init"));
        let mut timeline = HlsTimeline::new(media.clone());
        let mut numbers = Vec::new();
        let mut samples: Vec<Vec<u8>> = Vec::new();
        let mut config = None;
        for (i, s) in media.segments.iter().enumerate() {
            let bytes = std::fs::read(s.uri.trim_start_matches("file://")).expect("segment");
            let seg = read_segment(init.as_deref(), &bytes, &TsOptions::default())
                .unwrap_or_else(|e| panic!("{dir} segment {i}: {e}"));
            assert_eq!(seg.format, format, "{dir}");
            let track = seg.movie.video_track().expect("video track");
            let index = &track.index;
            if i == 0 {
                let fd = typical_frame_duration(index).expect("frame duration");
                assert!((fd - 1.0 / 30.0).abs() < 1e-9, "{dir}: {fd}");
                timeline.set_frame_duration(fd);
                config = Some(track.codec.clone().expect("codec"));
            }
            let ts = f64::from(index.timescale());
            let first = index.frame_pts(0).expect("a frame") as f64 / ts;
            let offset = timeline.anchor(i, first).expect("anchor");
            for k in 0..index.frame_count() {
                let pts = index.frame_pts(k).expect("pts") as f64 / ts;
                let n = timeline.frame_of(offset, pts);
                assert_eq!(
                    timeline.segment_for_frame(n as u64),
                    Some(i),
                    "{dir}: frame {n}"
                );
                numbers.push(n);
            }
            for smp in index.samples() {
                let a = smp.offset as usize;
                samples.push(seg.data[a..a + smp.size as usize].to_vec());
            }
        }
        assert_eq!(numbers, (0..150).collect::<Vec<i64>>(), "{dir}");
        assert_eq!(timeline.frame_range(), 0..150, "{dir}");
        let refs: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
        let codes = decode_barcodes(&config.expect("config"), &refs, "h264");
        assert_eq!(codes, (0..150).collect::<Vec<u32>>(), "{dir}");
    }
}

/// ffmpeg's split_by_time HLS of the 10 s GOP fixture cuts 2 s segments that do not start at
/// IDRs: segments 5-7 joined from segment 5's IDR (frame 300) decode as one run to every
/// barcode from 300 on, in order; joined in the wrong order they are refused.
#[test]
fn segments_join_across_a_gop() {
    let dir = std::env::temp_dir().join(format!("frameseek-hls-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(fixtures_dir().join("h264_long_gop.mp4"))
        .args([
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_flags",
            "split_by_time",
        ])
        .args(["-hls_playlist_type", "vod", "-hls_segment_filename"])
        .arg(dir.join("seg_%d.ts"))
        .arg(dir.join("index.m3u8"))
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg HLS");
    let parts: Vec<_> = (5..=7)
        .map(|i| {
            let data = std::fs::read(dir.join(format!("seg_{i}.ts"))).expect("segment");
            read_segment(None, &data, &TsOptions::default()).expect("segment reads")
        })
        .collect();
    let video = |m: &Movie| m.video_track().expect("video").index.clone();
    // Segment 6 has no IDR (its index offers its first sample, which is none): its frames
    // continue segment 5's GOP.
    let keys = |m: &Movie| -> Vec<usize> {
        let index = video(m);
        (0..index.sample_count())
            .filter(|&i| index.sample(i).is_some_and(|s| s.sync))
            .collect()
    };
    assert!(keys(&parts[1].movie).is_empty());
    let from = *keys(&parts[0].movie).last().expect("an IDR in segment 5");
    let movies: Vec<&Movie> = parts.iter().map(|p| &p.movie).collect();
    let joined = join_video(&movies, from).expect("joins");
    let index = video(&joined.movie);
    let total: usize = movies
        .iter()
        .map(|m| video(m).sample_count())
        .sum::<usize>()
        - from;
    assert_eq!(index.sample_count(), total);
    assert_eq!(joined.copies.len(), total);
    // The joined bytes, sample by sample, in decode order.
    let bytes: Vec<Vec<u8>> = joined
        .copies
        .iter()
        .map(|&(p, off, size)| parts[p].data[off as usize..off as usize + size as usize].to_vec())
        .collect();
    let samples: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    let codes = decode_barcodes(&codec_of(&joined.movie, TrackKind::Video), &samples, "h264");
    assert_eq!(codes, (300..300 + total as u32).collect::<Vec<_>>());
    // The wrong order: the clock goes back.
    assert!(join_video(&[movies[2], movies[0]], 0).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
