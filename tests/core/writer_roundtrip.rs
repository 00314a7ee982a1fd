//! The fMP4 writer: every fixture remuxed into an init segment plus fragments cut at sync
//! samples reads back with the same samples and presentation times, and ffmpeg decodes it to
//! the same pictures as the source.

use frameseek_core::mp4::{write_fragment, write_init, FragmentRun};
use frameseek_core::{read_movie, Error, Movie};
use frameseek_e2e::{barcode, fixtures_dir, reference_frames, video_fixtures};

fn read(data: &[u8]) -> Movie {
    read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
        Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
    })
    .expect("movie")
}

/// Remuxes the whole movie: one fragment per video GOP, each carrying the audio samples
/// that start before the next GOP.
fn remux(movie: &Movie, data: &[u8]) -> Vec<u8> {
    let tracks: Vec<_> = movie.tracks.iter().collect();
    let mut out = write_init(movie.timescale, &tracks);
    let video = movie.video_track().expect("video");
    let syncs: Vec<usize> = video
        .index
        .sync_samples()
        .iter()
        .map(|&s| s as usize)
        .collect();
    let mut cursors = vec![0usize; tracks.len()];
    for (g, &start) in syncs.iter().enumerate() {
        let end = syncs
            .get(g + 1)
            .copied()
            .unwrap_or(video.index.sample_count());
        let until = video
            .index
            .sample(end)
            .map(|s| s.dts as f64 / f64::from(video.timescale));
        let mut runs = Vec::new();
        for (ti, t) in tracks.iter().enumerate() {
            let (first, last) = if t.id == video.id {
                (start, end)
            } else {
                let first = cursors[ti];
                let mut last = first;
                while let Some(s) = t.index.sample(last) {
                    if until.is_some_and(|u| s.dts as f64 / f64::from(t.timescale) >= u) {
                        break;
                    }
                    last += 1;
                }
                (first, last)
            };
            cursors[ti] = last;
            if last > first {
                runs.push(FragmentRun {
                    track: t,
                    first,
                    end: last,
                });
            }
        }
        let frag = write_fragment(g as u32 + 1, &runs);
        let before = out.len();
        out.extend_from_slice(&frag.header);
        for r in &frag.payload {
            out.extend_from_slice(&data[r.start as usize..r.end as usize]);
        }
        assert_eq!((out.len() - before) as u64, frag.size, "fragment size");
    }
    out
}

#[test]
fn remuxed_fixtures_keep_samples_and_times() {
    for f in video_fixtures() {
        if f.file.starts_with("truncated") {
            continue;
        }
        let data = std::fs::read(f.path()).expect("fixture");
        let source = read(&data);
        let out = remux(&source, &data);
        let copy = read(&out);
        assert!(copy.fragmented, "{}", f.file);
        for (a, b) in source.tracks.iter().zip(&copy.tracks) {
            assert_eq!(
                a.codec.as_ref().ok().map(|c| &c.codec),
                b.codec.as_ref().ok().map(|c| &c.codec),
                "{}",
                f.file
            );
            assert_eq!(
                a.index.frame_count(),
                b.index.frame_count(),
                "{} track {}: frames",
                f.file,
                a.id
            );
            for k in 0..a.index.frame_count() {
                assert_eq!(
                    a.index.frame_pts(k),
                    b.index.frame_pts(k),
                    "{} track {} frame {k}: pts",
                    f.file,
                    a.id
                );
                let (sa, sb) = (
                    a.index.frame_sample(k).expect("a"),
                    b.index.frame_sample(k).expect("b"),
                );
                let (sa, sb) = (
                    a.index.sample(sa).expect("a"),
                    b.index.sample(sb).expect("b"),
                );
                assert_eq!(
                    (sa.size, sa.sync),
                    (sb.size, sb.sync),
                    "{} track {} frame {k}",
                    f.file,
                    a.id
                );
                let (ra, rb) = (sa.offset as usize, sb.offset as usize);
                assert_eq!(
                    data[ra..ra + sa.size as usize],
                    out[rb..rb + sb.size as usize],
                    "{} track {} frame {k}: bytes",
                    f.file,
                    a.id
                );
            }
        }
        // ffmpeg decodes the remux to the same barcodes, in order.
        let v = source
            .video_track()
            .and_then(|t| t.codec.as_ref().ok())
            .and_then(|c| c.video.clone())
            .expect("video");
        let dir = std::env::temp_dir().join(format!("frameseek-remux-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let path = dir.join(&f.file);
        std::fs::write(&path, &out).expect("write");
        let frames = reference_frames(&path, v.coded_width as usize, v.coded_height as usize);
        assert_eq!(
            frames.len(),
            f.frames,
            "{}: ffmpeg frames from the remux",
            f.file
        );
        for (k, l) in frames.iter().enumerate() {
            assert_eq!(
                barcode(l, v.coded_width as usize),
                k as u32,
                "{}: remux frame {k}",
                f.file
            );
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// A track ID at the top of its range (read from a file, as any value can be) leaves no larger
/// ID for mvhd's next_track_ID: the writer says "search" (all ones) instead of overflowing.
#[test]
fn next_track_id_saturates() {
    let data = std::fs::read(fixtures_dir().join("h264_aac.mp4")).expect("fixture");
    let mut movie = read(&data);
    movie.tracks[0].id = u32::MAX;
    let tracks: Vec<_> = movie.tracks.iter().collect();
    let init = write_init(movie.timescale, &tracks);
    let at = init.windows(4).position(|w| w == b"mvhd").expect("mvhd") - 4;
    let size = u32::from_be_bytes(init[at..at + 4].try_into().expect("4 bytes")) as usize;
    let next = u32::from_be_bytes(init[at + size - 4..at + size].try_into().expect("4 bytes"));
    assert_eq!(next, u32::MAX);
    assert!(read(&init).tracks.iter().any(|t| t.id == u32::MAX));
}
