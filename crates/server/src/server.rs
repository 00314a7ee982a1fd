//! The connection layer: accepts TCP connections (TCP_NODELAY, counted), serves HTTP/1.1
//! with hyper around the warp routes, adds CORS, counts every response, writes one log line
//! per request, and shuts down gracefully.

use crate::cors::CorsPolicy;
use crate::metrics::{route_of, AccessInfo, MeteredBody};
use crate::respond;
use crate::routes;
use crate::state::AppState;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tower_service::Service;
use warp::reply::Response;

/// How long a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for responses in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `listener` until `shutdown` resolves, then drains open connections.
pub async fn run(listener: TcpListener, state: Arc<AppState>, shutdown: impl Future<Output = ()>) {
    let routes = warp::service(routes::build(Arc::clone(&state)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let guard = state.metrics.connection();
        let state = Arc::clone(&state);
        let routes = routes.clone();
        let service = hyper::service::service_fn(move |req| {
            let state = Arc::clone(&state);
            let mut routes = routes.clone();
            async move { Ok::<_, Infallible>(handle(&state, &mut routes, req).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(guard);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("connections still open at shutdown"),
    }
}

/// Names warp's response body type (warp does not export it).
trait BodyOf {
    type Body;
}
impl<B> BodyOf for http::Response<B> {
    type Body = B;
}
type WarpBody = <Response as BodyOf>::Body;

/// One request: preflight or route, then CORS headers, metrics, and the metered body that
/// logs the request when it is done.
async fn handle<S>(
    state: &AppState,
    routes: &mut S,
    req: http::Request<Incoming>,
) -> http::Response<MeteredBody<WarpBody>>
where
    S: Service<http::Request<Incoming>, Response = Response, Error = Infallible>,
{
    let start = Instant::now();
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let route = route_of(req.uri().path());
    let origin = req.headers().get(http::header::ORIGIN).cloned();
    let response = if CorsPolicy::is_preflight(&method, req.headers()) {
        let (status, headers) = state.cors.preflight(req.headers());
        let mut r = respond::empty(status);
        r.headers_mut().extend(headers);
        r
    } else {
        let ready = futures_util::future::poll_fn(|cx| routes.poll_ready(cx)).await;
        let mut r = match ready {
            Ok(()) => match routes.call(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            },
            Err(never) => match never {},
        };
        state.cors.apply(origin.as_ref(), r.headers_mut());
        r
    };
    let status = response.status().as_u16();
    state.metrics.record_request(route, status);
    let method_is_head = method == http::Method::HEAD;
    let info = AccessInfo {
        method,
        target,
        status,
        start,
    };
    let metrics = Arc::clone(&state.metrics);
    let expected = if method_is_head {
        Some(0)
    } else {
        response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    response.map(|body| MeteredBody::new(body, metrics, info, expected))
}
