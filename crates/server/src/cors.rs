//! CORS for media and API responses: any origin without credentials by default
//! (`Access-Control-Allow-Origin: *`), or a fixed list from `--cors-origin`; the range
//! headers a player needs are exposed, and preflights for `Range` are answered.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

/// Response headers a page may read (CORS-safelisted ones need not be listed).
pub const EXPOSE: &str = "Content-Range, Accept-Ranges, Content-Length, ETag, Link";
/// Request headers a page may send.
const ALLOW_HEADERS: &str =
    "Range, If-Range, If-None-Match, If-Modified-Since, If-Match, Content-Type";
/// Methods a page may use.
const ALLOW_METHODS: &str = "GET, HEAD, POST, DELETE, OPTIONS";

/// Which origins may read responses.
#[derive(Debug, Clone)]
pub enum CorsPolicy {
    /// Any origin, no credentials.
    Any,
    /// Only these (exact `scheme://host[:port]` strings).
    List(Vec<String>),
}

impl CorsPolicy {
    /// `Any` for an empty list.
    pub fn new(origins: Vec<String>) -> Self {
        if origins.is_empty() || origins.iter().any(|o| o == "*") {
            CorsPolicy::Any
        } else {
            CorsPolicy::List(
                origins
                    .into_iter()
                    .map(|o| o.trim_end_matches('/').to_string())
                    .collect(),
            )
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if allowed.
    fn allow_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match self {
            CorsPolicy::Any => Some(HeaderValue::from_static("*")),
            CorsPolicy::List(list) => {
                let origin_str = origin.to_str().ok()?;
                list.iter().any(|o| o == origin_str).then(|| origin.clone())
            }
        }
    }

    /// Whether `req` is a preflight (OPTIONS with Origin and Access-Control-Request-Method).
    pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
        method == Method::OPTIONS
            && headers.contains_key(header::ORIGIN)
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The answer to a preflight: 204 with the allowances, or 403 for another origin.
    pub fn preflight(&self, headers: &HeaderMap) -> (StatusCode, HeaderMap) {
        let mut out = HeaderMap::new();
        self.vary(&mut out);
        let Some(allow) = headers
            .get(header::ORIGIN)
            .and_then(|o| self.allow_origin(o))
        else {
            return (StatusCode::FORBIDDEN, out);
        };
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        out.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        out.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        (StatusCode::NO_CONTENT, out)
    }

    /// Adds CORS headers to an actual response for a request with `origin`.
    pub fn apply(&self, origin: Option<&HeaderValue>, response: &mut HeaderMap) {
        self.vary(response);
        let Some(allow) = origin.and_then(|o| self.allow_origin(o)) else {
            return;
        };
        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        response.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE),
        );
    }

    fn vary(&self, out: &mut HeaderMap) {
        if matches!(self, CorsPolicy::List(_)) {
            out.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(o: &str) -> HeaderValue {
        HeaderValue::from_str(o).unwrap()
    }

    #[test]
    fn any_origin() {
        let p = CorsPolicy::new(vec![]);
        let mut h = HeaderMap::new();
        p.apply(Some(&origin("https://a.example")), &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(h[header::ACCESS_CONTROL_EXPOSE_HEADERS], EXPOSE);
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
    }

    #[test]
    fn listed_origins() {
        let p = CorsPolicy::new(vec!["https://a.example/".into()]);
        let mut h = HeaderMap::new();
        p.apply(Some(&origin("https://a.example")), &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example");
        assert_eq!(h[header::VARY], "Origin");
        let mut h = HeaderMap::new();
        p.apply(Some(&origin("https://b.example")), &mut h);
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn preflight() {
        let p = CorsPolicy::new(vec![]);
        let mut req = HeaderMap::new();
        req.insert(header::ORIGIN, origin("https://a.example"));
        req.insert(header::ACCESS_CONTROL_REQUEST_METHOD, origin("GET"));
        req.insert(header::ACCESS_CONTROL_REQUEST_HEADERS, origin("range"));
        assert!(CorsPolicy::is_preflight(&Method::OPTIONS, &req));
        let (status, h) = p.preflight(&req);
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(h[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("Range"));
    }
}
