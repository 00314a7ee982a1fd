//! `/media/{path}`: a file under DIR, or a member of an archive on the path, answered with
//! every RFC 9110 range and conditional rule (see `respond`).

use super::{method_not_allowed, text, with_state, MEDIA_CACHE};
use crate::mime;
use crate::path::{PathError, SafePath};
use crate::respond::{self, Policy};
use crate::state::AppState;
use crate::vfs::OpenError;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::path::Tail;
use warp::reply::Response;
use warp::Filter;

pub fn route(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path("media")
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_state(state))
        .then(handle)
        .boxed()
}

async fn handle(tail: Tail, method: Method, headers: HeaderMap, state: Arc<AppState>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed("GET, HEAD, OPTIONS");
    }
    if tail.as_str().ends_with('/') {
        // A trailing slash names a directory, and directories are not served.
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    let path = match SafePath::from_raw(tail.as_str()) {
        Ok(p) => p,
        Err(PathError::Malformed) => return text(StatusCode::NOT_FOUND, "not found\n"),
        Err(PathError::Forbidden) => return text(StatusCode::FORBIDDEN, "forbidden\n"),
    };
    match state.vfs.open(&path).await {
        Ok(object) => {
            let mut response = respond::serve(
                &method,
                &headers,
                object,
                Policy {
                    content_type: mime::content_type(path.file_name()),
                    cache_control: MEDIA_CACHE,
                },
            );
            if let Some(link) = alternate(&path) {
                response.headers_mut().insert(header::LINK, link);
            }
            response
        }
        Err(e) => open_error(e),
    }
}

/// The transcoded rendition a client can fall back to when it cannot decode the file itself
/// (RFC 8288 `Link`, `rel="alternate"`): the browser module follows it after a failed
/// `isConfigSupported`. Offered for every video file; the rendition is made on demand.
fn alternate(path: &SafePath) -> Option<HeaderValue> {
    let joined = path.joined();
    if !crate::library::is_video(&joined) {
        return None;
    }
    let id = crate::library::id_of(&joined);
    HeaderValue::try_from(format!(
        "</transcode/{id}/master.m3u8>; rel=\"alternate\"; type=\"application/vnd.apple.mpegurl\""
    ))
    .ok()
}

/// The answer for a path that cannot be served.
pub fn open_error(e: OpenError) -> Response {
    match e {
        OpenError::NotFound | OpenError::Directory => text(StatusCode::NOT_FOUND, "not found\n"),
        OpenError::Forbidden => text(StatusCode::FORBIDDEN, "forbidden\n"),
        OpenError::Compressed => text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "compressed archive members cannot be served by range\n",
        ),
        OpenError::Failed(msg) => {
            tracing::warn!("media error: {msg}");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
    }
}
