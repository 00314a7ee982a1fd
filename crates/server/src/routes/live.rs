//! `/live/{name}/master.m3u8` (made from the init segment ffmpeg wrote), `media.m3u8`
//! (ffmpeg's sliding-window playlist with the source's markers as EXT-X-DATERANGE), the
//! init and media segments of the current window, and `/api/live` (the sources and state).

use super::hls::SEGMENT_CACHE;
use super::{json, json_error, method_not_allowed, with_state, NO_CACHE};
use crate::hls::object::MemObject;
use crate::library::id_of;
use crate::live::{window, with_markers, LiveSource};
use crate::markers::live_owner;
use crate::respond::{self, Policy};
use crate::state::AppState;
use crate::storage::{LocalFile, Object};
use crate::transcode::encoder::{max_bitrate, AUDIO_BITRATE};
use bytes::Bytes;
use frameseek_core::{read_movie, TrackKind};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::sync::Arc;
use std::time::SystemTime;
use warp::filters::BoxedFilter;
use warp::path::Tail;
use warp::reply::Response;
use warp::Filter;

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
/// Markers this long before the window's first segment are still listed (a range that
/// started earlier may still be running).
const MARKER_LOOKBACK: f64 = 3600.0;

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let files = warp::path("live")
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_state(state.clone()))
        .then(handle);
    let list = warp::path!("api" / "live")
        .and(warp::get().or(warp::head()).unify())
        .and(with_state(state))
        .map(|state: Arc<AppState>| {
            let sources: Vec<serde_json::Value> = state
                .live
                .sources()
                .iter()
                .map(|s| {
                    let name = &s.spec.name;
                    serde_json::json!({
                        "name": name,
                        "url": format!("/live/{name}/master.m3u8"),
                        "markers": format!("/api/live/{name}/markers"),
                        "state": s.state(),
                    })
                })
                .collect();
            json(StatusCode::OK, &serde_json::json!({ "live": sources }))
        });
    files.or(list).unify().boxed()
}

fn starting() -> Response {
    let mut r = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the live source is starting: no segment yet",
    );
    r.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn playlist(method: &Method, headers: &HeaderMap, text: String) -> Response {
    let version = id_of(&text);
    let object = Arc::new(MemObject::new(
        Bytes::from(text),
        SystemTime::now(),
        format!("live-{version}"),
    ));
    respond::serve(
        method,
        headers,
        object,
        Policy {
            content_type: PLAYLIST_TYPE,
            cache_control: NO_CACHE,
        },
    )
}

/// The master playlist: CODECS and RESOLUTION read by core from the init segment.
async fn master(source: &LiveSource) -> Option<String> {
    let run = source.state().run?;
    let init = tokio::fs::read(source.dir.join(format!("{run}-init.mp4")))
        .await
        .ok()?;
    let size = init.len() as u64;
    let movie = read_movie(size, |a, b| -> Result<Vec<u8>, frameseek_core::Error> {
        let (a, b) = (a as usize, (b as usize).min(init.len()));
        Ok(init.get(a..b).map(<[u8]>::to_vec).unwrap_or_default())
    })
    .ok()?;
    let codecs: Vec<String> = movie
        .tracks
        .iter()
        .filter(|t| t.kind != TrackKind::Other)
        .filter_map(|t| t.codec.as_ref().ok().map(|c| c.codec.clone()))
        .collect();
    let video = movie.video_track()?;
    let v = video.codec.as_ref().ok()?.video.clone()?;
    let (w, h) = (v.display_width, v.display_height);
    let audio = movie.tracks.iter().any(|t| t.kind == TrackKind::Audio);
    let rate = max_bitrate(w, h, 30.0) + if audio { AUDIO_BITRATE } else { 0 };
    Some(format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{}\",RESOLUTION={w}x{h}\n{}\n",
        rate * 11 / 10,
        codecs.join(","),
        crate::live::MEDIA_PLAYLIST
    ))
}

async fn handle(tail: Tail, method: Method, headers: HeaderMap, state: Arc<AppState>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed("GET, HEAD, OPTIONS");
    }
    let Some((name, file)) = tail.as_str().split_once('/') else {
        return json_error(StatusCode::NOT_FOUND, "not found");
    };
    let Some(source) = state.live.get(name) else {
        return json_error(
            StatusCode::NOT_FOUND,
            &format!("no live source called {name:?}"),
        );
    };
    match file {
        "master.m3u8" => match master(source).await {
            Some(text) => playlist(&method, &headers, text),
            None => starting(),
        },
        crate::live::MEDIA_PLAYLIST => {
            let Some(text) = source.media_playlist().await else {
                return starting();
            };
            let from = window(&text).map_or(0.0, |(first, _)| first - MARKER_LOOKBACK);
            let markers = match state.markers.list_since(&live_owner(name), from).await {
                Ok(m) => m,
                Err(e) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            };
            playlist(&method, &headers, with_markers(&text, &markers))
        }
        f if LiveSource::servable(f) => {
            let path = source.dir.join(f);
            let opened = tokio::task::spawn_blocking(move || LocalFile::open(&path)).await;
            let Ok(Ok(file)) = opened else {
                return json_error(
                    StatusCode::NOT_FOUND,
                    "no such segment (it may have left the live window)",
                );
            };
            let object: Arc<dyn Object> = Arc::new(file);
            respond::serve(
                &method,
                &headers,
                object,
                Policy {
                    content_type: if f.ends_with(".mp4") {
                        "video/mp4"
                    } else {
                        "video/iso.segment"
                    },
                    cache_control: SEGMENT_CACHE,
                },
            )
        }
        _ => json_error(StatusCode::NOT_FOUND, "not found"),
    }
}
