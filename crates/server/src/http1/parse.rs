//! Request heads for the zero-copy path: httparse (the parser hyper uses) over the bytes
//! read so far, and the decision whether this path may serve the request or hyper must
//! take the connection over.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Uri, Version};
use http_body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Most header fields in one request (hyper's default too; more is hyper's 431).
const MAX_HEADERS: usize = 100;
/// Largest request head this path reads; a longer one (complete or not) goes to hyper,
/// which applies its own limits (414, 431).
pub(super) const MAX_HEAD: usize = 32 * 1024;

/// A request this path serves.
pub(super) struct Simple {
    /// The request, with an empty body.
    pub request: Request<NoBody>,
    /// Length of its head in bytes (at the start of the buffer).
    pub len: usize,
    /// False when the request asked to close the connection after the response.
    pub keep_alive: bool,
}

/// A request this path does not serve (a body, `Expect`, `Upgrade`, HTTP/1.0, another
/// method, a malformed or oversized head): hyper serves the connection from here on, these
/// bytes included.
#[derive(Debug)]
pub(super) struct Other;

/// Parses the head at the start of `buf`: `Ok(None)` while it is not whole yet.
///
/// Simple means: HTTP/1.1; GET, HEAD or OPTIONS; an origin-form target; no
/// `Content-Length`, `Transfer-Encoding`, `Expect` or `Upgrade` field.
pub(super) fn parse(buf: &[u8]) -> Result<Option<Simple>, Other> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => return Ok(None),
        Ok(httparse::Status::Partial) | Err(_) => return Err(Other),
    };
    if len > MAX_HEAD || req.version != Some(1) {
        return Err(Other);
    }
    let method = match req.method {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        Some("OPTIONS") => Method::OPTIONS,
        _ => return Err(Other),
    };
    let Some(path) = req.path.filter(|p| p.starts_with('/')) else {
        return Err(Other);
    };
    // One copy of the head; the target and the field values are slices of it.
    let bytes = Bytes::copy_from_slice(&buf[..len]);
    let Some(Ok(uri)) = shared(&bytes, buf, path.as_bytes()).map(Uri::from_maybe_shared) else {
        return Err(Other);
    };
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    let mut keep_alive = true;
    for field in req.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(field.name.as_bytes()) else {
            return Err(Other);
        };
        let Some(Ok(value)) = shared(&bytes, buf, field.value).map(HeaderValue::from_maybe_shared)
        else {
            return Err(Other);
        };
        match name {
            header::CONTENT_LENGTH
            | header::TRANSFER_ENCODING
            | header::EXPECT
            | header::UPGRADE => return Err(Other),
            header::CONNECTION if has_token(&value, "close") => keep_alive = false,
            _ => {}
        }
        headers.append(name, value);
    }
    let mut request = Request::new(NoBody);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    Ok(Some(Simple {
        request,
        len,
        keep_alive,
    }))
}

/// `part`, a slice of `buf` (httparse's output), as the same range of `copy`, a copy of
/// `buf`'s start; `None` if it is not inside it.
fn shared(copy: &Bytes, buf: &[u8], part: &[u8]) -> Option<Bytes> {
    let start = (part.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= copy.len()).then(|| copy.slice(start..end))
}

/// Whether a comma-separated field value lists `token` (case-insensitive).
pub(super) fn has_token(value: &HeaderValue, token: &str) -> bool {
    value
        .as_bytes()
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// The body of a request without one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoBody;

impl Body for NoBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(raw: &[u8]) -> (Request<NoBody>, usize, bool) {
        match parse(raw) {
            Ok(Some(s)) => (s.request, s.len, s.keep_alive),
            Ok(None) => panic!("partial: {raw:?}"),
            Err(Other) => panic!("other: {raw:?}"),
        }
    }

    fn is_other(raw: &[u8]) -> bool {
        parse(raw).is_err()
    }

    #[test]
    fn simple_get() {
        let raw = b"GET /media/a.mp4?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\nGET /next";
        let (req, len, keep_alive) = simple(raw);
        assert_eq!(len, raw.len() - "GET /next".len());
        assert!(keep_alive);
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri().path(), "/media/a.mp4");
        assert_eq!(req.uri().query(), Some("x=1"));
        assert_eq!(req.headers()["range"], "bytes=0-1");
        assert_eq!(req.version(), Version::HTTP_11);
    }

    #[test]
    fn connection_close() {
        let (_, _, keep_alive) =
            simple(b"HEAD / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n");
        assert!(!keep_alive);
        let (_, _, keep_alive) = simple(b"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n");
        assert!(keep_alive);
    }

    #[test]
    fn partial_heads() {
        assert!(matches!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None)));
        assert!(matches!(parse(b"GE"), Ok(None)));
        let mut long = b"GET /".to_vec();
        long.resize(MAX_HEAD + 1, b'a');
        assert!(is_other(&long));
    }

    #[test]
    fn what_hyper_gets() {
        assert!(is_other(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(is_other(
            b"POST /api HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        ));
        assert!(is_other(b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
        assert!(is_other(
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        ));
        assert!(is_other(b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"));
        assert!(is_other(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"));
        assert!(is_other(b"DELETE /x HTTP/1.1\r\n\r\n"));
        assert!(is_other(b"GET http://h/x HTTP/1.1\r\n\r\n"));
        assert!(is_other(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        assert!(is_other(b"GET /\x01 HTTP/1.1\r\n\r\n"));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(is_other(&many));
    }
}
