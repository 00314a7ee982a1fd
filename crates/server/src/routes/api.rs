//! `/api/videos` (listing: paging, filter), `/api/videos/{id}` (metadata from core, the same
//! JSON as `frameseek probe --json`) and `/api/videos/{id}/thumbnail` (JPEG via ffmpeg).

use super::{json, json_error, with_state, THUMBNAIL_CACHE};
use crate::library::{self, id_of};
use crate::respond::{self, Policy};
use crate::state::AppState;
use crate::storage::{LocalFile, Object};
use crate::thumbnail::{self, Request};
use http::{HeaderMap, Method, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

type Query = HashMap<String, String>;

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let query = warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .map(|raw: String| -> Query {
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect()
        });
    let list = warp::path!("api" / "videos")
        .and(query)
        .and(with_state(state.clone()))
        .then(list);
    let video = warp::path!("api" / "videos" / String)
        .and(with_state(state.clone()))
        .then(video);
    let thumb = warp::path!("api" / "videos" / String / "thumbnail")
        .and(query)
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_state(state))
        .then(thumbnail);
    warp::get()
        .or(warp::head())
        .unify()
        .and(list.or(video).unify().or(thumb).unify())
        .boxed()
}

/// A query parameter; `Err` holds the message for a 400.
fn parse_param<T: std::str::FromStr>(q: &Query, name: &str) -> Result<Option<T>, String> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid {name}: {v:?}")),
    }
}

fn paging(q: &Query) -> Result<(usize, usize), String> {
    let limit = parse_param::<usize>(q, "limit")?.unwrap_or(library::DEFAULT_LIMIT);
    let page = parse_param::<usize>(q, "page")?.unwrap_or(1);
    if limit == 0 || limit > library::MAX_LIMIT {
        return Err(format!("limit must be 1..={}", library::MAX_LIMIT));
    }
    if page == 0 {
        return Err("page starts at 1".to_string());
    }
    Ok((limit, page))
}

async fn list(q: Query, state: Arc<AppState>) -> Response {
    let (limit, page) = match paging(&q) {
        Ok(p) => p,
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
    };
    match state
        .library
        .page(q.get("q").map(String::as_str), page, limit)
        .await
    {
        Ok(page) => json(StatusCode::OK, &page),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot list videos: {e}"),
        ),
    }
}

async fn video(id: String, state: Arc<AppState>) -> Response {
    let video = match super::listed_video(&state, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.library.metadata(&video).await {
        Ok(info) => json(StatusCode::OK, info.as_ref()),
        Err(e) => json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("cannot read {}: {e}", video.path),
        ),
    }
}

async fn thumbnail(
    id: String,
    q: Query,
    method: Method,
    headers: HeaderMap,
    state: Arc<AppState>,
) -> Response {
    let video = match super::listed_video(&state, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let time = match parse_param::<f64>(&q, "t") {
        Ok(t) if t.is_none_or(|t| t.is_finite() && t >= 0.0) => t,
        Ok(_) => return json_error(StatusCode::BAD_REQUEST, "t must be seconds >= 0"),
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
    };
    let width = match parse_param::<u32>(&q, "width") {
        Ok(None) => thumbnail::DEFAULT_WIDTH,
        Ok(Some(w)) if (thumbnail::MIN_WIDTH..=thumbnail::MAX_WIDTH).contains(&w) => w & !1,
        Ok(Some(_)) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "width must be {}..={}",
                    thumbnail::MIN_WIDTH,
                    thumbnail::MAX_WIDTH
                ),
            )
        }
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
    };
    let Some(path) = video.safe_path() else {
        return json_error(StatusCode::NOT_FOUND, "no such video");
    };
    let object = match state.vfs.open(&path).await {
        Ok(o) => o,
        Err(_) => return json_error(StatusCode::NOT_FOUND, "video no longer exists"),
    };
    let Some(input) = object.ffmpeg_input() else {
        return json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "this video cannot be opened by ffmpeg",
        );
    };
    // Default: 10% in (at most 10 s); never past the last frame.
    let duration = state
        .library
        .metadata(&video)
        .await
        .ok()
        .map(|i| i.duration);
    let time = match (time, duration) {
        (Some(t), Some(d)) if d > 0.0 => t.min((d - 0.1).max(0.0)),
        (Some(t), _) => t,
        (None, Some(d)) if d > 0.0 => (d * 0.1).min(10.0),
        (None, _) => 0.0,
    };
    let request = Request {
        key: format!(
            "{}-{}-{}-{}",
            video.id,
            id_of(&object.version()),
            (time * 1000.0).round() as u64,
            width
        ),
        input,
        time,
        width,
    };
    let jpeg = match state.thumbnails.get(request).await {
        Ok(p) => p,
        Err(e) => {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("thumbnail failed: {e}"),
            )
        }
    };
    let file = match tokio::task::spawn_blocking(move || LocalFile::open(&jpeg)).await {
        Ok(Ok(f)) => f,
        _ => return json_error(StatusCode::INTERNAL_SERVER_ERROR, "thumbnail vanished"),
    };
    let object: Arc<dyn Object> = Arc::new(file);
    respond::serve(
        &method,
        &headers,
        object,
        Policy {
            content_type: "image/jpeg",
            cache_control: THUMBNAIL_CACHE,
        },
    )
}
