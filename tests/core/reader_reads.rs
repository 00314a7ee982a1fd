//! The incremental reader asks only for the boxes that describe the movie: pushed exactly
//! what it needs, it reads ftyp, moov and each moof whole plus at most a header's bytes of
//! every other top-level box; with its prefetch hints a moov-last file takes two reads.

use frameseek_core::{Mp4Reader, Need};
use frameseek_e2e::video_fixtures;

fn top_level(data: &[u8]) -> Vec<([u8; 4], usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= data.len() {
        let size =
            u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let kind = [data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]];
        let size = match size {
            0 => data.len() - pos,
            1 => u64::from_be_bytes(data[pos + 8..pos + 16].try_into().expect("8 bytes")) as usize,
            s => s,
        };
        out.push((kind, size));
        pos += size;
    }
    out
}

#[test]
fn reads_only_the_describing_boxes() {
    for f in video_fixtures() {
        let data = std::fs::read(f.path()).expect("fixture");
        let boxes = top_level(&data);
        let describing: usize = boxes
            .iter()
            .filter(|(k, _)| matches!(k, b"ftyp" | b"moov" | b"moof"))
            .map(|(_, s)| s)
            .sum();
        // Every top-level box costs a header read (re-read for the boxes then read whole).
        let others = boxes.len();
        let mut reader = Mp4Reader::new(data.len() as u64);
        let mut read = 0usize;
        while let Need::Bytes { range, .. } = reader.need() {
            let (a, b) = (range.start as usize, range.end as usize);
            assert!(
                b <= data.len() && a < b,
                "{}: bounded need {range:?}",
                f.file
            );
            read += b - a;
            reader.push(range.start, &data[a..b]).expect("push");
        }
        let movie = reader.finish().expect("movie");
        assert!(movie.video_track().is_some());
        assert!(
            read <= describing + 32 * others,
            "{}: read {read} bytes; describing boxes {describing} + {others} box headers",
            f.file
        );
        let mdat: usize = boxes
            .iter()
            .filter(|(k, _)| k == b"mdat")
            .map(|(_, s)| s)
            .sum();
        assert!(
            read < data.len() - mdat + 32 * others + 1,
            "{}: no media data read",
            f.file
        );
    }
}

#[test]
fn prefetch_hints_find_a_trailing_moov_in_two_reads() {
    for name in [
        "h264_bframes_editlist.mp4",
        "h264_many_samples.mp4",
        "h264_faststart.mp4",
    ] {
        let f = video_fixtures()
            .into_iter()
            .find(|f| f.file == name)
            .expect("fixture");
        let data = std::fs::read(f.path()).expect("fixture");
        let mut reader = Mp4Reader::new(data.len() as u64);
        let mut reads = 0;
        let mut first = true;
        while let Need::Bytes {
            range,
            prefetch_end,
        } = reader.need()
        {
            // The caller's first read is a 64 KiB head block, as the browser module does.
            let end = if first {
                (64 << 10).min(data.len() as u64).max(prefetch_end)
            } else {
                prefetch_end
            };
            first = false;
            reads += 1;
            reader
                .push(range.start, &data[range.start as usize..end as usize])
                .expect("push");
        }
        reader.finish().expect("movie");
        let limit = if name.contains("faststart") { 1 } else { 2 };
        assert!(reads <= limit, "{name}: {reads} reads");
    }
}

fn find_top(data: &[u8], kind: &[u8; 4]) -> Option<(usize, usize)> {
    let mut pos = 0;
    for (k, size) in top_level(data) {
        if &k == kind {
            return Some((pos, size));
        }
        pos += size;
    }
    None
}

fn index_of(data: &[u8]) -> Vec<(u64, u32, i64, bool)> {
    let movie = frameseek_core::read_movie(
        data.len() as u64,
        |a, b| -> Result<Vec<u8>, frameseek_core::Error> {
            Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
        },
    )
    .expect("movie");
    movie
        .video_track()
        .expect("video")
        .index
        .samples()
        .map(|s| (s.offset, s.size, s.pts, s.sync))
        .collect()
}

#[test]
fn largesize_size_zero_and_padding_boxes_read_the_same() {
    let fixture = |name: &str| {
        let f = video_fixtures()
            .into_iter()
            .find(|f| f.file == name)
            .expect("fixture");
        std::fs::read(f.path()).expect("read")
    };
    // moov last: ffmpeg reserves a `free` box before mdat for a 64-bit size; use it.
    let data = fixture("h264_bframes_editlist.mp4");
    let want = index_of(&data);
    let (free, free_size) = find_top(&data, b"free").expect("free before mdat");
    assert_eq!(free_size, 8);
    let (mdat, mdat_size) = find_top(&data, b"mdat").expect("mdat");
    assert_eq!(mdat, free + 8);
    let mut wide = data.clone();
    wide[free..free + 4].copy_from_slice(&1u32.to_be_bytes());
    wide[free + 4..free + 8].copy_from_slice(b"mdat");
    wide[free + 8..free + 16].copy_from_slice(&((mdat_size + 8) as u64).to_be_bytes());
    assert_eq!(index_of(&wide), want, "64-bit mdat");
    // The same slot as a QuickTime `wide` box.
    let mut qt = data.clone();
    qt[free + 4..free + 8].copy_from_slice(b"wide");
    assert_eq!(index_of(&qt), want, "wide box");
    // moov first: the last box (mdat) with size 0 runs to the end of the file.
    let data = fixture("h264_faststart.mp4");
    let want = index_of(&data);
    let (mdat, mdat_size) = find_top(&data, b"mdat").expect("mdat");
    assert_eq!(mdat + mdat_size, data.len(), "mdat is last");
    let mut open = data.clone();
    open[mdat..mdat + 4].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(index_of(&open), want, "size-0 mdat");
    // A `skip` box in front of everything (ftyp not first) and trailing zero padding.
    let mut padded = Vec::from(&b"\0\0\0\x10skip01234567"[..]);
    padded.extend_from_slice(&data);
    let moved: Vec<_> = want.iter().map(|&(o, s, p, k)| (o + 16, s, p, k)).collect();
    let stco_fixed = {
        // Shift chunk offsets by 16 so the samples are found where they now are.
        let mut d = padded.clone();
        let at = d.windows(4).position(|w| w == b"stco").expect("stco");
        let n = u32::from_be_bytes(d[at + 8..at + 12].try_into().expect("count")) as usize;
        for i in 0..n {
            let p = at + 12 + 4 * i;
            let v = u32::from_be_bytes(d[p..p + 4].try_into().expect("offset")) + 16;
            d[p..p + 4].copy_from_slice(&v.to_be_bytes());
        }
        d
    };
    assert_eq!(index_of(&stco_fixed), moved, "skip box first");
}
