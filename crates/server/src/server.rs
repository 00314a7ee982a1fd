//! The connection layer: accepts TCP connections (TCP_NODELAY, counted), serves HTTP/1.1
//! around the warp routes, adds CORS, counts every response, writes one log line per
//! request, and shuts down gracefully. On Linux connections start on our own HTTP/1.1 loop
//! (`http1`, which sends file bodies with sendfile) and move to hyper for anything it does
//! not handle; elsewhere hyper serves every connection.

use crate::cors::CorsPolicy;
use crate::metrics::{route_of, AccessInfo, MeteredBody};
use crate::respond;
use crate::routes;
use crate::state::AppState;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;
use warp::filters::BoxedFilter;
use warp::reply::Response;

/// How long a client may take to send its request headers (also the idle keep-alive time:
/// the clock starts when the server starts waiting for the next request).
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for responses in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `listener` until `shutdown` resolves, then drains open connections: idle ones
/// close at once, the others after the response in flight.
pub async fn run(listener: TcpListener, state: Arc<AppState>, shutdown: impl Future<Output = ()>) {
    let app = App {
        routes: routes::build(Arc::clone(&state)),
        state: Arc::clone(&state),
    };
    // `true` once shutdown begins; every connection holds a receiver until it ends.
    let (stopping, _) = watch::channel(false);
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
        let app = app.clone();
        let stop = stopping.subscribe();
        tokio::spawn(async move {
            #[cfg(target_os = "linux")]
            crate::http1::serve(stream, app, stop).await;
            #[cfg(not(target_os = "linux"))]
            serve_hyper(stream, app, stop).await;
            drop(guard);
        });
    }
    drop(listener);
    stopping.send_replace(true);
    tokio::select! {
        () = stopping.closed() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("connections still open at shutdown"),
    }
}

/// Serves one connection with hyper's HTTP/1.1 until it ends; once `stop` turns true the
/// connection finishes the response in flight and closes.
pub(crate) async fn serve_hyper<I>(io: I, app: App, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.handle(req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection ended: {e}");
    }
}

/// Resolves once shutdown has begun.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens after shutdown.
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Names warp's response body type (warp does not export it).
pub(crate) trait BodyOf {
    type Body;
}
impl<B> BodyOf for http::Response<B> {
    type Body = B;
}
/// warp's response body.
pub(crate) type WarpBody = <Response as BodyOf>::Body;

/// The application as the connection layers see it: one request in, one response out.
#[derive(Clone)]
pub(crate) struct App {
    state: Arc<AppState>,
    routes: BoxedFilter<(Response,)>,
}

impl App {
    /// One request: preflight or route, then CORS headers, metrics, and the metered body
    /// that logs the request when it is done.
    pub(crate) async fn handle<B>(
        &self,
        req: http::Request<B>,
    ) -> http::Response<MeteredBody<WarpBody>>
    where
        B: http_body::Body + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let state = &*self.state;
        let start = Instant::now();
        let method = req.method().clone();
        let target = req.uri().clone();
        let route = route_of(req.uri().path());
        let origin = req.headers().get(http::header::ORIGIN).cloned();
        let response = if CorsPolicy::is_preflight(&method, req.headers()) {
            let (status, headers) = state.cors.preflight(req.headers());
            let mut r = respond::empty(status);
            r.headers_mut().extend(headers);
            r
        } else {
            let mut routes = warp::service(self.routes.clone());
            let mut r = match routes.call(req).await {
                Ok(r) => r,
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
}
