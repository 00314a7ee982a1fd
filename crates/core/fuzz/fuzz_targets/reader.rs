//! Fuzzes the incremental MP4 reader and the planner: arbitrary bytes as a whole file, fed
//! through `Mp4Reader` in the chunks it asks for; whatever it indexes must plan without panic.
#![no_main]

use frameseek_core::{plan_frame, Mp4Reader, Need, PlanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Mp4Reader::new(data.len() as u64);
    while let Need::Bytes { range, prefetch_end } = reader.need() {
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
    }
});
