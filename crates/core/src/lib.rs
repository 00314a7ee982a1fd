//! frameseek-core decides which bytes a frame needs. It parses MP4, QuickTime and fragmented
//! MP4 into per-track sample indexes, reads codec configuration for WebCodecs, and plans the
//! minimal byte ranges for a frame. No I/O and no async: the wasm crate and the server move
//! the bytes it asks for.
//!
//! Why a reader of our own rather than the `mp4` or `mp4-atom` crates: frameseek needs an
//! *incremental* reader that names the next byte range it needs ([`mp4::Mp4Reader`]), errors
//! that carry the file offset, allocation bounded by the bytes present (a `stsz` claiming
//! 2^32 entries in 1 KB is an error, not an OOM), and a small WebAssembly footprint (the
//! browser module's budget is 64 KB gzipped). It reads only the ~25 box types a track index
//! needs, so it stays small; `mp4` 0.14 is unmaintained and panics on malformed input, and
//! `mp4-atom` decodes every box type into owned structs, which costs code size and memory.
//! H.264 SPS parsing is our own too (codec::h264::parse_sps: the VUI aspect ratio, chroma format,
//! bit depths and cropped size are all it needs; h264-reader cost ~25 KB of wasm).

#![warn(missing_docs)]

pub mod codec;
pub mod error;
pub mod hls;
pub mod index;
pub mod mp4;
pub mod plan;
pub mod probe;
pub mod sort;
pub mod text;
pub mod time;

pub use codec::{is_decoder_start, CodecConfig, TrackKind};
pub use error::{Error, ErrorInfo, ErrorKind, Result};
pub use index::{Sample, TrackIndex};
pub use mp4::{read_movie, Container, Movie, Mp4Reader, Need, Track};
pub use plan::{
    decode_run, decode_run_where, plan_frame, plan_frame_where, plan_frames, plan_frames_where,
    plan_time, soft_feed, ByteRange, DecodeRun, FramePlan, GopPlan, PlanOptions, SoftFeed,
    SOFT_EXTRA,
};
pub use probe::{MediaInfo, TrackInfo};
