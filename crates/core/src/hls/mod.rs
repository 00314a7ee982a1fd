//! HLS (RFC 8216): cutting an indexed movie into segments at sync samples and writing the
//! master and media playlists that serve them as fragmented MP4.

pub mod adts;
pub mod annexb;
pub mod playlist;
pub mod ts;
pub mod uri;
pub mod vod;

pub use vod::{
    master_playlist, media_playlist, segment_movie, MediaPlaylistOptions, Segment, SegmentUri,
    VariantInfo,
};
