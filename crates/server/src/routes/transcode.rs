//! `/transcode/{id}/...`: the transcoded rendition's master and media playlists (with the
//! video's markers), `{version}/init.mp4` and `{version}/seg-{n}.m4s` (encoded on demand,
//! then immutable), and `/api/videos/{id}/transcode` (its state). Busy: 503 + Retry-After.

use super::hls::{parse, Resource, PLAYLIST_TYPE, SEGMENT_CACHE};
use super::{find_video, json, json_error, method_not_allowed, with_state, NO_CACHE};
use crate::hls::object::MemObject;
use crate::markers::playlist::{tags_token, vod_tags};
use crate::respond::{self, Policy};
use crate::state::AppState;
use crate::storage::{LocalFile, Object};
use crate::transcode::SegmentError;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::path::PathBuf;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::path::Tail;
use warp::reply::Response;
use warp::Filter;

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let files = warp::path("transcode")
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_state(state.clone()))
        .then(handle);
    let status = warp::path!("api" / "videos" / String / "transcode")
        .and(warp::get().or(warp::head()).unify())
        .and(with_state(state))
        .then(status);
    files.or(status).unify().boxed()
}

async fn status(id: String, state: Arc<AppState>) -> Response {
    match super::listed_video(&state, &id).await {
        Ok(_) => json(StatusCode::OK, &state.transcoder.status(&id)),
        Err(r) => r,
    }
}

/// 503 with Retry-After and a JSON error.
pub fn busy(retry_after: u64, max: usize) -> Response {
    let mut r = json(
        StatusCode::SERVICE_UNAVAILABLE,
        &serde_json::json!({
            "error": format!("every transcoding slot is busy ({max} at once): retry in {retry_after} s"),
            "retryAfter": retry_after,
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    r
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
        Err(_) => return json_error(StatusCode::NOT_FOUND, "video no longer exists"),
    };
    let modified = object.modified();
    let plan = match state.transcoder.plan(&video, object).await {
        Ok(p) => p,
        Err(e) => {
            return json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("cannot transcode {}: {e}", video.path),
            )
        }
    };
    let version = plan.version.clone();
    let playlist = |bytes: Bytes, tag: &str| {
        let object = Arc::new(MemObject::new(bytes, modified, format!("t{version}-{tag}")));
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
    let file = match resource {
        Resource::Master => return playlist(plan.master.clone(), "master"),
        Resource::Media => {
            let markers = match state.markers.list(&video.id).await {
                Ok(m) => m,
                Err(e) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            };
            let tags = vod_tags(&markers);
            let tag = format!("media-{}", tags_token(&tags));
            return playlist(Bytes::from(plan.media_playlist(tags)), &tag);
        }
        Resource::Init(v) | Resource::Segment(v, _) if v != version => {
            return json_error(
                StatusCode::NOT_FOUND,
                "this version of the video is gone: reload the playlist",
            )
        }
        Resource::Init(_) => state.transcoder.init_segment(&plan, &video.id).await,
        Resource::Segment(_, n) => state.transcoder.segment(&plan, &video.id, n).await,
    };
    let (file, content_type) = match (file, resource) {
        (Ok(f), Resource::Init(_)) => (f, "video/mp4"),
        (Ok(f), _) => (f, "video/iso.segment"),
        (Err(SegmentError::Busy(after)), _) => return busy(after, state.transcoder.max_jobs()),
        (Err(SegmentError::NotFound), _) => {
            return json_error(
                StatusCode::NOT_FOUND,
                &format!(
                    "no such segment (the rendition has {})",
                    plan.segments.len()
                ),
            )
        }
        (Err(SegmentError::Failed(e)), _) => {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("transcoding failed: {e}"),
            )
        }
    };
    serve_file(&method, &headers, file, content_type).await
}

/// Serves a cached file with immutable caching.
async fn serve_file(
    method: &Method,
    headers: &HeaderMap,
    path: PathBuf,
    content_type: &'static str,
) -> Response {
    let file = match tokio::task::spawn_blocking(move || LocalFile::open(&path)).await {
        Ok(Ok(f)) => f,
        _ => return json_error(StatusCode::INTERNAL_SERVER_ERROR, "the segment vanished"),
    };
    let object: Arc<dyn Object> = Arc::new(file);
    respond::serve(
        method,
        headers,
        object,
        Policy {
            content_type,
            cache_control: SEGMENT_CACHE,
        },
    )
}
