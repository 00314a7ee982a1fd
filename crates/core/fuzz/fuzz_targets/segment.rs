//! Fuzzes the HLS segment reader: arbitrary bytes as a media segment (MPEG-TS, or fMP4 with
//! an initialization section: a 2-byte big-endian length, then that many bytes of it, then the
//! segment); whatever it reads must index, plan and join without panic.
#![no_main]

use frameseek_core::hls::segment::{join_video, read_segment};
use frameseek_core::hls::ts::TsOptions;
use frameseek_core::{plan_frame, PlanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    // A length of 0 reads the rest as a segment alone (TS, or fMP4 with its init inside).
    let (init, segment) = match usize::from(u16::from_be_bytes(*len)) {
        0 => (None, rest),
        n if n <= rest.len() => (Some(&rest[..n]), &rest[n..]),
        _ => (None, rest),
    };
    let ts = TsOptions {
        timestamp_reference: Some(8_589_934_000),
    };
    let Ok(media) = read_segment(init, segment, &ts) else {
        return;
    };
    for track in &media.movie.tracks {
        let n = track.index.frame_count();
        for k in [0, n / 2, n.saturating_sub(1)] {
            let _ = plan_frame(&track.index, k, &PlanOptions::default());
        }
    }
    let _ = join_video(&[&media.movie, &media.movie], 0);
});
