//! `/healthz` (liveness) and `/metrics` (Prometheus text format).

use super::{json, with_state};
use crate::state::AppState;
use http::{HeaderValue, StatusCode};
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let healthz = warp::path!("healthz").map(|| {
        json(
            StatusCode::OK,
            &serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
        )
    });
    let metrics = warp::path!("metrics")
        .and(with_state(state))
        .map(|state: Arc<AppState>| {
            let mut body = state.metrics.render(state.vfs.archives().builds());
            body.push_str(&state.transcoder.render_metrics());
            body.push_str(&state.live.render_metrics());
            let mut r = Response::new(body.into());
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        });
    warp::get()
        .or(warp::head())
        .unify()
        .and(healthz.or(metrics).unify())
        .boxed()
}
