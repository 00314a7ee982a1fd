//! `/api/videos/{id}/markers` and `/api/live/{name}/markers`: GET lists, POST adds
//! (`{ time, duration?, label, class? }` → 201), DELETE removes one (`/markers/{mid}` or
//! `?id=`) or all (`?all=true`). Bad input is a 400 with `{ error }` saying what is wrong.

use super::{json, json_error, method_not_allowed, with_state};
use crate::markers::{live_owner, AddError, Draft, MAX_BODY, MAX_PER_OWNER};
use crate::state::AppState;
use bytes::Buf;
use futures_util::{Stream, StreamExt};
use http::{HeaderValue, Method, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::path::Tail;
use warp::reply::Response;
use warp::Filter;

/// Whose markers a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    Video(String),
    Live(String),
}

/// `videos/{id}/markers[/{mid}]` or `live/{name}/markers[/{mid}]` (after `/api/`).
fn parse(tail: &str) -> Option<(Owner, Option<String>)> {
    let parts: Vec<&str> = tail.split('/').collect();
    let (kind, name, rest) = match parts.as_slice() {
        [kind, name, "markers"] => (*kind, *name, None),
        [kind, name, "markers", mid] => (*kind, *name, Some(mid.to_string())),
        _ => return None,
    };
    if name.is_empty() {
        return None;
    }
    let owner = match kind {
        "videos" => Owner::Video(name.to_string()),
        "live" => Owner::Live(name.to_string()),
        _ => return None,
    };
    Some((owner, rest))
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let query = warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .map(|raw: String| -> HashMap<String, String> {
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect()
        });
    warp::path("api")
        .and(warp::path::tail())
        .and_then(
            |tail: Tail| async move { parse(tail.as_str()).ok_or_else(warp::reject::not_found) },
        )
        .and(warp::method())
        .and(query)
        .and(warp::body::stream())
        .and(with_state(state))
        .then(
            |(owner, mid): (Owner, Option<String>), method, q, body, state| async move {
                handle(owner, mid, method, q, Box::pin(body), state).await
            },
        )
        .boxed()
}

/// Reads at most [`MAX_BODY`] bytes of the body. Past that, a 413 that closes the connection
/// (the rest of the body is left unread).
async fn read_body<S, B>(mut body: std::pin::Pin<Box<S>>) -> Result<Vec<u8>, Response>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + ?Sized,
    B: Buf,
{
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| {
            json_error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {e}"),
            )
        })?;
        if out.len() + chunk.remaining() > MAX_BODY {
            let mut r = json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than {MAX_BODY} bytes"),
            );
            r.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return Err(r);
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out)
}

/// The owner key, the timeline end (for videos) and the live edge (for live sources).
struct Target {
    key: String,
    max: Option<f64>,
    edge: Option<f64>,
}

async fn target(state: &AppState, owner: &Owner) -> Result<Target, Response> {
    match owner {
        Owner::Video(id) => {
            let video = super::listed_video(state, id).await?;
            let max = match state.library.metadata(&video).await {
                Ok(info) => Some(info.duration),
                Err(_) => state.transcoder.planned(id).map(|p| p.duration),
            };
            Ok(Target {
                key: video.id.clone(),
                max,
                edge: None,
            })
        }
        Owner::Live(name) => {
            let Some(source) = state.live.get(name) else {
                return Err(json_error(
                    StatusCode::NOT_FOUND,
                    &format!("no live source called {name:?}"),
                ));
            };
            let edge = source
                .media_playlist()
                .await
                .and_then(|p| crate::live::window(&p))
                .map(|(_, edge)| edge);
            Ok(Target {
                key: live_owner(name),
                max: None,
                edge,
            })
        }
    }
}

async fn handle<S, B>(
    owner: Owner,
    mid: Option<String>,
    method: Method,
    q: HashMap<String, String>,
    body: std::pin::Pin<Box<S>>,
    state: Arc<AppState>,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Send + ?Sized,
    B: Buf,
{
    // The body is read before any answer, whatever the answer: hyper closes a connection
    // whose request body was not all in when the response went out, and a client that has
    // already sent its next request on it sees the connection reset (RFC 9112 §9.6).
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let allow = if mid.is_some() {
        "GET, HEAD, DELETE, OPTIONS"
    } else {
        "GET, HEAD, POST, DELETE, OPTIONS"
    };
    let allowed = match method {
        Method::GET | Method::HEAD | Method::DELETE => true,
        Method::POST => mid.is_none(),
        _ => false,
    };
    if !allowed {
        return method_not_allowed(allow);
    }
    let target = match target(&state, &owner).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mid = match mid
        .or_else(|| q.get("id").cloned())
        .map(|m| m.parse::<i64>())
    {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => return json_error(StatusCode::BAD_REQUEST, "a marker id is a number"),
    };
    let store = Arc::clone(&state.markers);
    match method {
        Method::GET | Method::HEAD => match store.list(&target.key).await {
            Ok(list) => match mid {
                None => json(StatusCode::OK, &serde_json::json!({ "markers": list })),
                Some(m) => match list.into_iter().find(|x| x.id == m) {
                    Some(x) => json(StatusCode::OK, &x),
                    None => json_error(StatusCode::NOT_FOUND, &format!("no marker {m}")),
                },
            },
            Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Method::POST => {
            let draft = match Draft::parse(&body) {
                Ok(d) => d,
                Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
            };
            if draft.time.is_none() && matches!(owner, Owner::Live(_)) && target.edge.is_none() {
                let mut r = json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the live source has not published a segment yet: give a time or retry",
                );
                r.headers_mut()
                    .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
            let marker = match draft.place(target.edge, target.max) {
                Ok(m) => m,
                Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
            };
            match store.add(&target.key, marker).await {
                Ok(m) => {
                    let mut r = json(StatusCode::CREATED, &m);
                    let base = match &owner {
                        Owner::Video(id) => format!("/api/videos/{id}/markers/{}", m.id),
                        Owner::Live(name) => format!("/api/live/{name}/markers/{}", m.id),
                    };
                    if let Ok(v) = HeaderValue::from_str(&base) {
                        r.headers_mut().insert(http::header::LOCATION, v);
                    }
                    r
                }
                Err(AddError::Full) => json_error(
                    StatusCode::CONFLICT,
                    &format!("this video already has {MAX_PER_OWNER} markers"),
                ),
                Err(AddError::Store(e)) => {
                    json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
                }
            }
        }
        _ => {
            let all = q.get("all").is_some_and(|v| v == "true" || v == "1");
            match (mid, all) {
                (Some(m), _) => match store.delete(&target.key, m).await {
                    Ok(true) => crate::respond::empty(StatusCode::NO_CONTENT),
                    Ok(false) => json_error(StatusCode::NOT_FOUND, &format!("no marker {m}")),
                    Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
                },
                (None, true) => match store.delete_all(&target.key).await {
                    Ok(n) => json(StatusCode::OK, &serde_json::json!({ "deleted": n })),
                    Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
                },
                (None, false) => json_error(
                    StatusCode::BAD_REQUEST,
                    "say which marker: DELETE .../markers/{id} or ?id=ID, or ?all=true for every one",
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse("videos/abc/markers"),
            Some((Owner::Video("abc".into()), None))
        );
        assert_eq!(
            parse("live/cam/markers/4"),
            Some((Owner::Live("cam".into()), Some("4".into())))
        );
        for bad in [
            "videos/abc",
            "videos//markers",
            "other/x/markers",
            "videos/a/markers/1/2",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
