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
