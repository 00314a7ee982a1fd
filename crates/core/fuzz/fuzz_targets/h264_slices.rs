//! Fuzzes H.264 parameter-set and slice-header reading: the first `split` bytes as an avcC
//! record (rewritten to allow frame_num gaps), the rest as length-prefixed samples stepped
//! through `SkipCheck` as a decode run, with and without leaving B pictures out.
#![no_main]

use frameseek_core::codec::h264::{allow_frame_num_gaps, avcc_parameter_sets, parse_avcc};
use frameseek_core::codec::h264_skip::SkipCheck;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).min(rest.len());
    let (avcc, samples) = rest.split_at(split);
    let _ = parse_avcc(avcc, 0);
    let _ = avcc_parameter_sets(avcc);
    let avcc = allow_frame_num_gaps(avcc).unwrap_or_else(|| avcc.to_vec());
    for skip_b in [false, true] {
        let mut check = SkipCheck::new(&avcc, skip_b);
        // Samples: a 2-byte big-endian length, then that many bytes (cut at the end).
        let mut pos = 0usize;
        let mut i = 0usize;
        while pos + 2 <= samples.len() {
            let len = usize::from(u16::from_be_bytes([samples[pos], samples[pos + 1]]));
            let end = (pos + 2 + len).min(samples.len());
            let _ = check.step(&samples[pos + 2..end], i == 0 || i % 5 == 4);
            pos = end;
            i += 1;
        }
    }
});
