//! `/hls/{id}/...`: the master and media playlists (`no-cache`, revalidated by ETag), and
//! under `/hls/{id}/{version}/` the init segment and `seg-{n}.m4s`, immutable because the
//! version token names the source's bytes. Everything goes through `respond::serve`.

use super::{find_video, json_error, method_not_allowed, with_state, NO_CACHE};
use crate::hls::object::{MemObject, SegmentObject};
use crate::hls::MEDIA_PLAYLIST;
use crate::mime;
use crate::respond::{self, Policy};
use crate::state::AppState;
use crate::vfs::OpenError;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::path::Tail;
use warp::reply::Response;
use warp::Filter;

/// Cache-Control of init and media segments (their URLs change when the bytes would).
pub const SEGMENT_CACHE: &str = "public, max-age=31536000, immutable";
/// Content-Type of playlists.
pub(super) const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";

pub fn route(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path("hls")
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_state(state))
        .then(handle)
        .boxed()
}

/// What a path under `/hls/{id}/` (or `/transcode/{id}/`, laid out the same) names.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resource<'a> {
    /// `master.m3u8`
    Master,
    /// The media playlist.
    Media,
    /// `{version}/init.mp4`
    Init(&'a str),
    /// `{version}/seg-{n}.m4s`
    Segment(&'a str, usize),
}

/// Names the resource of a path under `/hls/{id}/` or `/transcode/{id}/`.
pub(super) fn parse(rest: &str) -> Option<Resource<'_>> {
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["master.m3u8"] => Some(Resource::Master),
        [name] if *name == MEDIA_PLAYLIST => Some(Resource::Media),
        [version, "init.mp4"] => Some(Resource::Init(version)),
        [version, file] => {
            let n = file.strip_prefix("seg-")?.strip_suffix(".m4s")?;
            if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(Resource::Segment(version, n.parse().ok()?))
        }
        _ => None,
    }
}

async fn handle(tail: Tail, method: Method, headers: HeaderMap, state: Arc<AppState>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed("GET, HEAD, OPTIONS");
    }
    let Some((id, rest)) = tail.as_str().split_once('/') else {
        return json_error(StatusCode::NOT_FOUND, "not found");
    };
    let Some(resource) = parse(rest) else {
        return json_error(StatusCode::NOT_FOUND, "not found");
    };
    let (video, path) = match find_video(&state, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let object = match state.vfs.open(&path).await {
        Ok(o) => o,
        Err(e) => return open_error(e),
    };
    let prepared = match state.hls.prepare(&video.path, Arc::clone(&object)).await {
        Ok(p) => p,
        Err(e) => {
            return json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("cannot stream {} as HLS: {e}", video.path),
            )
        }
    };
    let version = &prepared.version;
    let modified = object.modified();
    let playlist = |bytes: &Bytes, tag: &str| {
        let object = Arc::new(MemObject::new(
            bytes.clone(),
            modified,
            format!("{version}-{tag}"),
        ));
        respond::serve(
            &method,
            &headers,
            object,
            Policy {
                content_type: PLAYLIST_TYPE,
                cache_control: NO_CACHE,
            },
        )
    };
    match resource {
        Resource::Master => playlist(&prepared.master, "master"),
        Resource::Media => {
            // Markers as EXT-X-DATERANGE; without any, the cached playlist as it is.
            let tags = match state.markers.list(&video.id).await {
                Ok(m) => crate::markers::playlist::vod_tags(&m),
                Err(e) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            };
            if tags.is_empty() {
                playlist(&prepared.media, "media")
            } else {
                let tag = format!("media-{}", crate::markers::playlist::tags_token(&tags));
                playlist(&prepared.media_with(tags), &tag)
            }
        }
        Resource::Init(v) | Resource::Segment(v, _) if v != version => json_error(
            StatusCode::NOT_FOUND,
            "this version of the video is gone: reload the playlist",
        ),
        Resource::Init(_) => {
            let init = MemObject::new(
                prepared.package.init.clone(),
                modified,
                format!("{version}-init"),
            );
            respond::serve(
                &method,
                &headers,
                Arc::new(init),
                Policy {
                    content_type: "video/mp4",
                    cache_control: SEGMENT_CACHE,
                },
            )
        }
        Resource::Segment(_, n) => {
            let Some(fragment) = prepared.package.fragment(n) else {
                return json_error(
                    StatusCode::NOT_FOUND,
                    &format!(
                        "no segment {n} (the video has {})",
                        prepared.package.segments.len()
                    ),
                );
            };
            let segment = SegmentObject::new(object, fragment, format!("{version}-{n}"));
            if !segment.fits_source() {
                return json_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("segment {n} points past the end of {}", video.path),
                );
            }
            respond::serve(
                &method,
                &headers,
                Arc::new(segment),
                Policy {
                    content_type: mime::content_type("seg.m4s"),
                    cache_control: SEGMENT_CACHE,
                },
            )
        }
    }
}

fn open_error(e: OpenError) -> Response {
    match e {
        OpenError::NotFound | OpenError::Directory => {
            json_error(StatusCode::NOT_FOUND, "video no longer exists")
        }
        OpenError::Forbidden => json_error(StatusCode::FORBIDDEN, "video is not readable"),
        OpenError::Compressed => json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "video is compressed inside its archive",
        ),
        OpenError::Failed(msg) => {
            tracing::warn!("hls open error: {msg}");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names() {
        assert_eq!(parse("master.m3u8"), Some(Resource::Master));
        assert_eq!(parse("media.m3u8"), Some(Resource::Media));
        assert_eq!(parse("abc/init.mp4"), Some(Resource::Init("abc")));
        assert_eq!(parse("abc/seg-12.m4s"), Some(Resource::Segment("abc", 12)));
        assert_eq!(parse("v/init.mp4"), Some(Resource::Init("v")));
        assert_eq!(parse("v/seg-3.m4s"), Some(Resource::Segment("v", 3)));
        for bad in [
            "v/seg-x.m4s",
            "a/b/c",
            "",
            "abc/seg-.m4s",
            "abc/seg-+1.m4s",
            "abc/seg-1.ts",
            "abc/seg-99999999999.m4s",
            "a/b/seg-1.m4s",
            "master.m3u8/",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
