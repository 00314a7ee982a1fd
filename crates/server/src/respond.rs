//! HTTP answers for one [`Object`]: conditionals, then ranges (200 / 206 / multipart 206 /
//! 416), validators and caching headers, and a body streamed from storage, never read into
//! memory whole. Shared by `/media`, thumbnails and the web package.

use crate::conditional::{self, Outcome, Validators};
use crate::range::{self, RangeDecision};
use crate::storage::{ByteStream, Object};
use bytes::Bytes;
use futures_util::Stream;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;
use warp::reply::{Reply, Response};

/// How a kind of resource is cached and typed.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Cache-Control`.
    pub cache_control: &'static str,
}

/// Answers a GET or HEAD for `object`.
pub fn serve(
    method: &Method,
    headers: &HeaderMap,
    object: Arc<dyn Object>,
    policy: Policy,
) -> Response {
    let len = object.len();
    let version = object.version();
    let mut etag = String::with_capacity(version.len() + 2);
    etag.push('"');
    etag.push_str(&version);
    etag.push('"');
    let validators = Validators {
        etag,
        last_modified: object.modified(),
    };
    let head = method == Method::HEAD;
    let honor_range = match conditional::evaluate(headers, true, &validators) {
        Outcome::Failed => {
            return with_validators(empty(StatusCode::PRECONDITION_FAILED), validators, policy)
        }
        Outcome::NotModified => {
            return with_validators(empty(StatusCode::NOT_MODIFIED), validators, policy)
        }
        Outcome::Proceed { honor_range } => honor_range,
    };
    let range_header = if honor_range {
        headers.get(header::RANGE).and_then(|v| v.to_str().ok())
    } else {
        None
    };
    let mut response = match range::decide(range_header, len) {
        RangeDecision::Full => {
            let mut r = body(head, object, vec![Piece::Range(0..len)]);
            set(&mut r, header::CONTENT_LENGTH, len.to_string());
            set_static(&mut r, header::CONTENT_TYPE, policy.content_type);
            r
        }
        RangeDecision::Unsatisfiable => {
            let mut r = empty(StatusCode::RANGE_NOT_SATISFIABLE);
            set(&mut r, header::CONTENT_RANGE, range::unsatisfied_range(len));
            set_static(&mut r, header::CONTENT_LENGTH, "0");
            r
        }
        RangeDecision::Partial(ranges) => match ranges.as_slice() {
            [one] => {
                let mut r = body(head, object, vec![Piece::Range(one.clone())]);
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                set(
                    &mut r,
                    header::CONTENT_RANGE,
                    range::content_range(one, len),
                );
                set(
                    &mut r,
                    header::CONTENT_LENGTH,
                    (one.end - one.start).to_string(),
                );
                set_static(&mut r, header::CONTENT_TYPE, policy.content_type);
                r
            }
            _ => multipart(head, object, &ranges, len, policy),
        },
    };
    set_static(&mut response, header::ACCEPT_RANGES, "bytes");
    with_validators(response, validators, policy)
}

/// A multipart/byteranges 206 (RFC 9110 section 14.6); the length is computed up front.
fn multipart(
    head: bool,
    object: Arc<dyn Object>,
    ranges: &[Range<u64>],
    len: u64,
    policy: Policy,
) -> Response {
    let boundary = boundary();
    let mut pieces = Vec::with_capacity(ranges.len() * 2 + 1);
    let mut total: u64 = 0;
    for (i, r) in ranges.iter().enumerate() {
        let part_head = format!(
            "{}--{boundary}\r\nContent-Type: {}\r\nContent-Range: {}\r\n\r\n",
            if i == 0 { "" } else { "\r\n" },
            policy.content_type,
            range::content_range(r, len)
        );
        total += part_head.len() as u64 + (r.end - r.start);
        pieces.push(Piece::Bytes(Bytes::from(part_head)));
        pieces.push(Piece::Range(r.clone()));
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    total += tail.len() as u64;
    pieces.push(Piece::Bytes(Bytes::from(tail)));
    let mut r = body(head, object, pieces);
    *r.status_mut() = StatusCode::PARTIAL_CONTENT;
    set(&mut r, header::CONTENT_LENGTH, total.to_string());
    set(
        &mut r,
        header::CONTENT_TYPE,
        format!("multipart/byteranges; boundary={boundary}"),
    );
    r
}

/// A boundary that will not occur in the parts: 128 random bits.
fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = RandomState::new().hash_one(n);
    let b = RandomState::new().hash_one(a);
    format!("frameseek-{a:016x}{b:016x}")
}

fn with_validators(mut r: Response, v: Validators, policy: Policy) -> Response {
    if let Some(date) = last_modified(&v) {
        r.headers_mut().insert(header::LAST_MODIFIED, date);
    }
    set(&mut r, header::ETAG, v.etag);
    set_static(&mut r, header::CACHE_CONTROL, policy.cache_control);
    set_static(&mut r, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    r
}

/// The `Last-Modified` value, formatted once per thread for as long as the same time repeats
/// (one file asked for again and again, as players do).
fn last_modified(v: &Validators) -> Option<HeaderValue> {
    thread_local! {
        static LAST: RefCell<Option<(SystemTime, HeaderValue)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_ref() {
            Some((t, value)) if *t == v.last_modified => Some(value.clone()),
            _ => {
                let value = HeaderValue::try_from(v.last_modified_header()).ok()?;
                *last = Some((v.last_modified, value.clone()));
                Some(value)
            }
        }
    })
}

/// Sets a header to a value made for this response (its allocation becomes the value's).
fn set(r: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(v) = HeaderValue::try_from(value) {
        r.headers_mut().insert(name, v);
    }
}

/// Sets a header to a constant (content types, cache policies: no allocation).
fn set_static(r: &mut Response, name: header::HeaderName, value: &'static str) {
    if value
        .bytes()
        .all(|b| b == b'\t' || (b' '..0x7f).contains(&b))
    {
        r.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
}

/// An empty response with a status.
pub fn empty(status: StatusCode) -> Response {
    let mut r = Response::default();
    *r.status_mut() = status;
    // Room for the validators, caching and CORS headers without growing the map.
    r.headers_mut().reserve(12);
    r
}

/// A 200 whose body streams `pieces` (empty for HEAD: the headers still say the length).
/// When the object's bytes lie in one open file, the response also carries a [`FileBody`]
/// naming the same pieces, so that a connection layer that can send from a file descriptor
/// (`http1`, sendfile) may do so instead of polling the body; any other layer (hyper)
/// polls the body and ignores the extension.
fn body(head: bool, object: Arc<dyn Object>, pieces: Vec<Piece>) -> Response {
    if head {
        return empty(StatusCode::OK);
    }
    let file = object.file_extent().is_some().then(|| FileBody {
        object: Arc::clone(&object),
        pieces: pieces.clone(),
    });
    let mut r = warp::reply::stream(PieceStream {
        object,
        pieces: pieces.into(),
        current: None,
    })
    .into_response();
    r.headers_mut().reserve(12);
    if let Some(file) = file {
        r.extensions_mut().insert(file);
    }
    r
}

/// Part of a body: literal bytes (multipart headers) or a byte range of the object.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Bytes sent as they are.
    Bytes(Bytes),
    /// A range of the object's bytes.
    Range(Range<u64>),
}

/// A response extension: the body is exactly `pieces` of `object`, whose bytes lie in one
/// open file ([`Object::file_extent`]). Its total equals the response's Content-Length.
#[derive(Clone)]
pub struct FileBody {
    /// The object the ranges refer to.
    pub object: Arc<dyn Object>,
    /// The body, in order.
    pub pieces: Vec<Piece>,
}

impl FileBody {
    /// Body length in bytes.
    pub fn len(&self) -> u64 {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Bytes(b) => b.len() as u64,
                Piece::Range(r) => r.end.saturating_sub(r.start),
            })
            .sum()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Streams pieces in order, opening each range's stream only when it is reached.
struct PieceStream {
    object: Arc<dyn Object>,
    pieces: VecDeque<Piece>,
    current: Option<ByteStream>,
}

impl Stream for PieceStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(current) = self.current.as_mut() {
                match current.as_mut().poll_next(cx) {
                    Poll::Ready(None) => self.current = None,
                    other => return other,
                }
            }
            match self.pieces.pop_front() {
                None => return Poll::Ready(None),
                Some(Piece::Bytes(b)) => return Poll::Ready(Some(Ok(b))),
                Some(Piece::Range(r)) => {
                    if r.start < r.end {
                        let object = Arc::clone(&self.object);
                        self.current = Some(object.read_range(r));
                    }
                }
            }
        }
    }
}
