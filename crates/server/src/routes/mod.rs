//! The HTTP routes as warp filters: `/media/{path}`, `/api/videos...`, `/healthz`,
//! `/metrics`, and the web package at `/` (the fallback, so no request is left unanswered).

mod api;
mod hls;
mod live;
mod markers;
mod media;
mod ops;
mod static_files;
mod transcode;

use crate::state::AppState;
use http::{HeaderValue, StatusCode};
use std::convert::Infallible;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

/// Cache-Control of media files (they can change in place; ETags make revalidation cheap).
pub const MEDIA_CACHE: &str = "public, max-age=60";
/// Cache-Control of thumbnails.
pub const THUMBNAIL_CACHE: &str = "public, max-age=3600";
/// Cache-Control of API JSON and the web page.
pub const NO_CACHE: &str = "no-cache";

/// Every route, as one filter that always answers.
pub fn build(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    media::route(state.clone())
        .or(hls::route(state.clone()))
        .unify()
        .or(api::routes(state.clone()))
        .unify()
        .or(ops::routes(state.clone()))
        .unify()
        .or(markers::routes(state.clone()))
        .unify()
        .or(transcode::routes(state.clone()))
        .unify()
        .or(live::routes(state.clone()))
        .unify()
        .or(static_files::route(state))
        .unify()
        .boxed()
}

fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Infallible> + Clone {
    warp::any().map(move || Arc::clone(&state))
}

/// A JSON body with a status.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static(NO_CACHE),
    );
    r
}

/// The library video that `id` names, with its path under DIR, or the JSON error to answer:
/// 404 for an unknown id (or a path that is no longer safe), 500 when the listing fails.
pub async fn find_video(
    state: &AppState,
    id: &str,
) -> Result<(Arc<crate::library::Video>, crate::path::SafePath), Response> {
    let video = listed_video(state, id).await?;
    match video.safe_path() {
        Some(path) => Ok((video, path)),
        None => Err(json_error(StatusCode::NOT_FOUND, "no such video")),
    }
}

/// The library listing's entry for `id`, or the JSON error to answer: 404 for an unknown id,
/// 500 when the listing fails.
pub async fn listed_video(
    state: &AppState,
    id: &str,
) -> Result<Arc<crate::library::Video>, Response> {
    match state.library.find(id).await {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(json_error(
            StatusCode::NOT_FOUND,
            &format!("no video with id {id:?}"),
        )),
        Err(e) => Err(json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot list videos: {e}"),
        )),
    }
}

/// `{ "error": message }` with a status.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

/// A short plain-text answer.
pub fn text(status: StatusCode, body: &'static str) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// 405 with the methods that are allowed.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    r.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    r
}
