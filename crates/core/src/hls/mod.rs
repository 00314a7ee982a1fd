//! HLS (RFC 8216): cutting an indexed movie into segments at sync samples and writing the
//! master and media playlists that serve them as fragmented MP4 ([`vod`]); with the
//! `hls-input` feature, reading HLS sources: playlists, MPEG-TS and fMP4 segments, and the frame numbering across
//! segments.

#[cfg(feature = "hls-input")]
pub mod adts;
#[cfg(feature = "hls-input")]
pub mod annexb;
#[cfg(feature = "hls-input")]
pub mod decrypt;
#[cfg(feature = "hls-input")]
pub mod playlist;
#[cfg(feature = "hls-input")]
pub mod segment;
#[cfg(feature = "hls-input")]
pub mod timeline;
#[cfg(feature = "hls-input")]
pub mod ts;
#[cfg(feature = "hls-input")]
pub mod uri;
pub mod vod;

pub use vod::{
    master_playlist, media_playlist, segment_movie, segment_movie_where, MediaPlaylistOptions,
    Segment, SegmentUri, VariantInfo,
};
