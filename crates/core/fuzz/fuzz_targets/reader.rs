//! Fuzzes the incremental MP4 reader and what reads its result: arbitrary bytes as a whole
//! file, fed through `Mp4Reader` in the chunks it asks for; whatever it indexes must plan, and
//! package as HLS (segments, playlists, init and fragments, as the server does), without panic.
#![no_main]

use frameseek_core::hls::{
    media_playlist, segment_movie, MediaPlaylistOptions, SegmentUri, VariantInfo,
};
use frameseek_core::mp4::{write_fragment, write_init};
use frameseek_core::{plan_frame, Mp4Reader, Need, PlanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Mp4Reader::new(data.len() as u64);
    while let Need::Bytes {
        range,
        prefetch_end,
    } = reader.need()
    {
        let end = (prefetch_end.max(range.end) as usize).min(data.len());
        let start = range.start as usize;
        if start > end || reader.push(range.start, &data[start..end]).is_err() {
            break;
        }
    }
    if let Ok(movie) = reader.finish() {
        for track in &movie.tracks {
            let n = track.index.frame_count();
            for k in [0, n / 2, n.saturating_sub(1)] {
                let _ = plan_frame(&track.index, k, &PlanOptions::default());
            }
            let _ = track.index.frame_at_time(1.0);
        }
        let segments = segment_movie(&movie, 4.0);
        let _ = VariantInfo::of(&movie, &segments);
        let opts = MediaPlaylistOptions {
            init_uri: "init.mp4".into(),
            segments: SegmentUri::Numbered {
                prefix: "seg".into(),
                suffix: ".m4s".into(),
            },
            extra_tags: Vec::new(),
        };
        let _ = media_playlist(&segments, &opts);
        let tracks: Vec<_> = movie.tracks.iter().collect();
        let _ = write_init(movie.timescale, &tracks);
        for (n, segment) in segments.iter().enumerate().take(4) {
            let _ = write_fragment(n as u32 + 1, &segment.fragment_runs(&movie));
        }
    }
});
