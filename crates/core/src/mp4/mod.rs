//! ISO BMFF (MP4, QuickTime .mov, fragmented MP4) reading: box headers, the incremental
//! top-level reader, `moov`/`moof` parsing into per-track sample tables.
//!
//! [`Mp4Reader`] is the entry point: feed it byte ranges, it says which bytes it needs next,
//! and it hands back a [`Movie`] whose tracks carry a [`crate::index::TrackIndex`].

pub mod boxes;
pub mod cursor;
mod fragment;
mod moov;
mod reader;
pub(crate) mod tables;
pub mod writer;

pub use boxes::FourCC;
pub use moov::{Container, Movie, Track};
pub use reader::{read_movie, sniff, Mp4Reader, Need, ReaderOptions};
pub use writer::{write_fragment, write_init, Fragment, FragmentRun};
