//! Counters for `/metrics` (Prometheus text format): requests by route and status, bytes
//! sent, response streams and connections open, thumbnail and archive work. Also the body
//! wrapper that counts bytes as they leave and writes the one access-log line per request.

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// Process-wide counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    bytes_sent: AtomicU64,
    streams_open: AtomicI64,
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    /// ffmpeg runs started for thumbnails.
    pub thumbnail_runs: AtomicU64,
    /// ffmpeg runs that failed.
    pub thumbnail_failures: AtomicU64,
}

impl Metrics {
    /// Counts one response.
    pub fn record_request(&self, route: &'static str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((route, status)).or_insert(0) += 1;
    }

    /// Marks a connection open until the guard drops.
    pub fn connection(self: &Arc<Self>) -> ConnectionGuard {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(Arc::clone(self))
    }

    /// Renders every counter; `archive_builds` comes from the archive cache.
    pub fn render(&self, archive_builds: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP frameseek_http_requests_total HTTP responses by route and status."
        );
        let _ = writeln!(out, "# TYPE frameseek_http_requests_total counter");
        {
            let map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            for ((route, status), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "frameseek_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let gauges: [(&str, &str, &str, i64); 6] = [
            (
                "frameseek_http_response_bytes_total",
                "counter",
                "Body bytes sent.",
                self.bytes_sent.load(Ordering::Relaxed) as i64,
            ),
            (
                "frameseek_http_streams_open",
                "gauge",
                "Response bodies being sent now.",
                self.streams_open.load(Ordering::Relaxed),
            ),
            (
                "frameseek_http_connections_open",
                "gauge",
                "Client connections open now.",
                self.connections_open.load(Ordering::Relaxed),
            ),
            (
                "frameseek_http_connections_total",
                "counter",
                "Client connections accepted.",
                self.connections_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "frameseek_thumbnail_ffmpeg_runs_total",
                "counter",
                "ffmpeg runs started to make thumbnails.",
                self.thumbnail_runs.load(Ordering::Relaxed) as i64,
            ),
            (
                "frameseek_thumbnail_failures_total",
                "counter",
                "Thumbnail ffmpeg runs that failed.",
                self.thumbnail_failures.load(Ordering::Relaxed) as i64,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP frameseek_archive_indexes_built_total Archive member indexes read."
        );
        let _ = writeln!(out, "# TYPE frameseek_archive_indexes_built_total counter");
        let _ = writeln!(
            out,
            "frameseek_archive_indexes_built_total {archive_builds}"
        );
        out
    }
}

/// Keeps `connections_open` up while alive.
pub struct ConnectionGuard(Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The request facts the access-log line needs.
pub struct AccessInfo {
    /// Request method.
    pub method: http::Method,
    /// The target as received (its path and query are logged).
    pub target: http::Uri,
    /// Response status.
    pub status: u16,
    /// When the request arrived.
    pub start: Instant,
}

/// A response body that counts the bytes it yields and, when dropped (sent, aborted or
/// empty), writes the access-log line and closes its stream slot.
pub struct MeteredBody<B> {
    inner: B,
    metrics: Arc<Metrics>,
    info: AccessInfo,
    sent: u64,
    /// The Content-Length promised, if any (hyper stops polling once it is reached).
    expected: Option<u64>,
    finished: bool,
}

impl<B: Body> MeteredBody<B> {
    /// Wraps `inner`, whose response promised `expected` bytes (its Content-Length).
    pub fn new(inner: B, metrics: Arc<Metrics>, info: AccessInfo, expected: Option<u64>) -> Self {
        metrics.streams_open.fetch_add(1, Ordering::Relaxed);
        let finished = inner.is_end_stream();
        MeteredBody {
            inner,
            metrics,
            info,
            sent: 0,
            expected,
            finished,
        }
    }
}

impl<B> MeteredBody<B> {
    /// Counts `n` body bytes sent around the body (the connection layer sent them from a
    /// file with sendfile instead of polling this body).
    pub fn count_sent(&mut self, n: u64) {
        self.sent += n;
        self.metrics.bytes_sent.fetch_add(n, Ordering::Relaxed);
    }
}

impl<B> Drop for MeteredBody<B> {
    fn drop(&mut self) {
        self.metrics.streams_open.fetch_sub(1, Ordering::Relaxed);
        let ms = self.info.start.elapsed().as_secs_f64() * 1000.0;
        let complete = self.finished || self.expected == Some(self.sent);
        let note = if complete { "" } else { " (aborted)" };
        tracing::info!(
            target: "frameseek::access",
            "{} {} {} {}B {:.1}ms{}",
            self.info.method,
            self.info
                .target
                .path_and_query()
                .map_or("/", |p| p.as_str()),
            self.info.status,
            self.sent,
            ms,
            note
        );
    }
}

impl<B> Body for MeteredBody<B>
where
    B: Body + Unpin,
    B::Data: Buf,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.remaining() as u64;
                    this.sent += n;
                    this.metrics.bytes_sent.fetch_add(n, Ordering::Relaxed);
                }
            }
            Poll::Ready(None) => this.finished = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The route label of a request path (bounded set, for metrics).
pub fn route_of(path: &str) -> &'static str {
    if path.starts_with("/media/") {
        "media"
    } else if path.starts_with("/api/") && path.contains("/markers") {
        "api_markers"
    } else if path.starts_with("/transcode/") {
        "transcode"
    } else if path.starts_with("/live/") || path == "/api/live" {
        "live"
    } else if path == "/api/videos" || path == "/api/videos/" {
        "api_videos"
    } else if path.starts_with("/api/videos/") && path.ends_with("/thumbnail") {
        "api_thumbnail"
    } else if path.starts_with("/api/videos/") {
        "api_video"
    } else if path.starts_with("/api/") {
        "api_other"
    } else if path.starts_with("/hls/") {
        "hls"
    } else if path == "/healthz" {
        "healthz"
    } else if path == "/metrics" {
        "metrics"
    } else {
        "static"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.record_request("media", 206);
        m.record_request("media", 206);
        let text = m.render(3);
        assert!(text.contains("frameseek_http_requests_total{route=\"media\",status=\"206\"} 2"));
        assert!(text.contains("frameseek_archive_indexes_built_total 3"));
        assert!(text.contains("# TYPE frameseek_http_streams_open gauge"));
    }

    #[test]
    fn routes() {
        assert_eq!(route_of("/media/a.mp4"), "media");
        assert_eq!(route_of("/api/videos"), "api_videos");
        assert_eq!(route_of("/api/videos/abc"), "api_video");
        assert_eq!(route_of("/api/videos/abc/thumbnail"), "api_thumbnail");
        assert_eq!(route_of("/"), "static");
        assert_eq!(route_of("/api/videos/abc/markers"), "api_markers");
        assert_eq!(route_of("/api/live/cam/markers/3"), "api_markers");
        assert_eq!(route_of("/transcode/abc/master.m3u8"), "transcode");
        assert_eq!(route_of("/live/cam/media.m3u8"), "live");
        assert_eq!(route_of("/api/live"), "live");
    }
}
