//! Response heads for the zero-copy path, written byte for byte as hyper 1 writes them
//! (status line, lower-case names in map order, its Content-Length / Transfer-Encoding /
//! Connection / Date rules), so that a response is the same whichever path sent it.

use super::parse::has_token;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode, Version};
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the body is known to be before it is sent (hyper's `BodyLength`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyLen {
    /// Exactly this many bytes.
    Known(u64),
    /// Unknown until it ends.
    Unknown,
}

/// How the body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// Exactly this many bytes follow the head (0: no body).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
}

/// An encoded head.
#[derive(Debug)]
pub(super) struct Encoded {
    /// Status line, fields and the blank line.
    pub head: Vec<u8>,
    /// The body's framing.
    pub framing: Framing,
    /// Whether the connection closes after this response.
    pub last: bool,
}

/// A response head that hyper would refuse to send (conflicting lengths and the like, or
/// a 1xx status); the connection is closed instead.
#[derive(Debug)]
pub(super) struct Unsendable;

/// Encodes the head of a response to an HTTP/1.1 request with method `method`.
/// `keep_alive` is false when the connection closes after it (the request asked, or the
/// server is shutting down); `body` is `None` for a body that is already at its end.
pub(super) fn encode(
    status: StatusCode,
    version: Version,
    mut headers: HeaderMap,
    method: &Method,
    keep_alive: bool,
    body: Option<BodyLen>,
) -> Result<Encoded, Unsendable> {
    if status.is_informational() {
        return Err(Unsendable);
    }
    // hyper's `enforce_version` for an HTTP/1.1 peer: a closing connection says so.
    if !keep_alive {
        match headers.entry(header::CONNECTION) {
            header::Entry::Occupied(mut e) => {
                if !e.iter().any(|v| has_token(v, "close")) {
                    e.append(HeaderValue::from_static("close"));
                }
            }
            header::Entry::Vacant(e) => {
                e.insert(HeaderValue::from_static("close"));
            }
        }
    }
    let mut last = !keep_alive;
    let mut dst = Vec::with_capacity(30 + headers.len() * 32 + 40);
    if version == Version::HTTP_11 && status == StatusCode::OK {
        dst.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        dst.extend_from_slice(if version == Version::HTTP_10 {
            b"HTTP/1.0 "
        } else {
            b"HTTP/1.1 "
        });
        dst.extend_from_slice(status.as_str().as_bytes());
        dst.push(b' ');
        dst.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        dst.extend_from_slice(b"\r\n");
    }

    let can_chunked = version != Version::HTTP_10 && can_have_body(method, status);
    let mut framing = Framing::Length(0);
    let mut wrote_len = false;
    let mut wrote_date = false;
    let mut is_name_written = false;
    let mut must_write_chunked = false;
    let mut prev_len: Option<u64> = None;
    let mut current: Option<header::HeaderName> = None;

    // Ends a field whose values were being joined with ", ".
    let end_joined = |dst: &mut Vec<u8>, is_name_written: bool, must_write_chunked: bool| {
        if is_name_written {
            dst.extend_from_slice(if must_write_chunked {
                b", chunked\r\n"
            } else {
                b"\r\n"
            });
        }
    };

    for (name, value) in headers.drain() {
        if let Some(name) = name {
            end_joined(&mut dst, is_name_written, must_write_chunked);
            is_name_written = false;
            current = Some(name);
        }
        let Some(name) = current.as_ref() else {
            return Err(Unsendable);
        };
        match *name {
            header::CONTENT_LENGTH => {
                if wrote_len && !is_name_written {
                    return Err(Unsendable);
                }
                match body {
                    Some(BodyLen::Known(len)) => {
                        if !is_name_written {
                            framing = Framing::Length(len);
                            dst.extend_from_slice(b"content-length: ");
                            dst.extend_from_slice(value.as_bytes());
                            wrote_len = true;
                            is_name_written = true;
                        }
                        continue;
                    }
                    Some(BodyLen::Unknown) => {
                        let Some(len) = content_length(&value) else {
                            return Err(Unsendable);
                        };
                        match prev_len {
                            Some(prev) if prev != len => return Err(Unsendable),
                            Some(_) => continue,
                            None => {
                                framing = Framing::Length(len);
                                dst.extend_from_slice(b"content-length: ");
                                dst.extend_from_slice(value.as_bytes());
                                wrote_len = true;
                                is_name_written = true;
                                prev_len = Some(len);
                                continue;
                            }
                        }
                    }
                    None => {
                        // No body: only a HEAD response keeps its Content-Length; others
                        // get the implicit `content-length: 0` below.
                        if *method != Method::HEAD {
                            continue;
                        }
                    }
                }
                wrote_len = true;
            }
            header::TRANSFER_ENCODING => {
                if wrote_len && !is_name_written {
                    return Err(Unsendable);
                }
                if !can_chunked {
                    continue;
                }
                wrote_len = true;
                must_write_chunked = !is_chunked(&value);
                if !is_name_written {
                    framing = Framing::Chunked;
                    is_name_written = true;
                    dst.extend_from_slice(b"transfer-encoding: ");
                } else {
                    dst.extend_from_slice(b", ");
                }
                dst.extend_from_slice(value.as_bytes());
                continue;
            }
            header::CONNECTION => {
                if !last && has_token(&value, "close") {
                    last = true;
                }
                if !is_name_written {
                    is_name_written = true;
                    dst.extend_from_slice(b"connection: ");
                } else {
                    dst.extend_from_slice(b", ");
                }
                dst.extend_from_slice(value.as_bytes());
                continue;
            }
            header::DATE => wrote_date = true,
            header::TRAILER => {
                // Trailers are never sent; the field is written as hyper writes it.
                if !can_chunked {
                    continue;
                }
                if !is_name_written {
                    is_name_written = true;
                    dst.extend_from_slice(b"trailer: ");
                } else {
                    dst.extend_from_slice(b", ");
                }
                dst.extend_from_slice(value.as_bytes());
                continue;
            }
            _ => {}
        }
        dst.extend_from_slice(name.as_str().as_bytes());
        dst.extend_from_slice(b": ");
        dst.extend_from_slice(value.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
    end_joined(&mut dst, is_name_written, must_write_chunked);

    if !wrote_len {
        framing = match body {
            Some(BodyLen::Unknown) => {
                if !can_chunked {
                    // HTTP/1.0 or no body allowed: hyper would delimit by closing.
                    return Err(Unsendable);
                }
                dst.extend_from_slice(b"transfer-encoding: chunked\r\n");
                Framing::Chunked
            }
            None | Some(BodyLen::Known(0)) => {
                if can_have_content_length(status) && *method != Method::HEAD {
                    dst.extend_from_slice(b"content-length: 0\r\n");
                }
                Framing::Length(0)
            }
            Some(BodyLen::Known(len)) => {
                if can_have_content_length(status) {
                    dst.extend_from_slice(b"content-length: ");
                    dst.extend_from_slice(len.to_string().as_bytes());
                    dst.extend_from_slice(b"\r\n");
                    Framing::Length(len)
                } else {
                    Framing::Length(0)
                }
            }
        };
    }
    if !can_have_body(method, status) {
        framing = Framing::Length(0);
    }
    if !wrote_date {
        dst.extend_from_slice(b"date: ");
        http_date(&mut dst);
        dst.extend_from_slice(b"\r\n\r\n");
    } else {
        dst.extend_from_slice(b"\r\n");
    }
    Ok(Encoded {
        head: dst,
        framing,
        last,
    })
}

/// hyper's `can_have_body` / `can_chunked` for the methods this path serves.
fn can_have_body(method: &Method, status: StatusCode) -> bool {
    *method != Method::HEAD
        && !status.is_informational()
        && !matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED)
}

fn can_have_content_length(status: StatusCode) -> bool {
    !status.is_informational()
        && !matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED)
}

/// A Content-Length value: digits only (hyper's `content_length_parse` for one value).
fn content_length(value: &HeaderValue) -> Option<u64> {
    let s = value.to_str().ok()?.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether `chunked` is the last transfer coding listed.
fn is_chunked(value: &HeaderValue) -> bool {
    value
        .to_str()
        .ok()
        .and_then(|s| s.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// Appends the IMF-fixdate of now, formatted once per second per thread (as hyper caches it).
fn http_date(dst: &mut Vec<u8>) {
    thread_local! {
        static CACHE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != secs {
            *cache = (secs, httpdate::fmt_http_date(now));
        }
        dst.extend_from_slice(cache.1.as_bytes());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    /// The head with the date line's value blanked.
    fn text(e: &Encoded) -> String {
        let s = String::from_utf8(e.head.clone()).expect("ascii");
        s.lines()
            .map(|l| {
                if l.starts_with("date: ") {
                    "date: *"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn partial_content_with_length() {
        let map = headers(&[
            ("content-range", "bytes 0-9/100"),
            ("content-length", "10"),
            ("etag", "\"a\""),
        ]);
        let e = encode(
            StatusCode::PARTIAL_CONTENT,
            Version::HTTP_11,
            map,
            &Method::GET,
            true,
            Some(BodyLen::Unknown),
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 206 Partial Content\ncontent-range: bytes 0-9/100\ncontent-length: 10\netag: \"a\"\ndate: *\n"
        );
        assert_eq!(e.framing, Framing::Length(10));
        assert!(!e.last);
        assert!(e.head.ends_with(b"GMT\r\n\r\n"));
    }

    #[test]
    fn head_keeps_its_length_and_has_no_body() {
        let map = headers(&[("content-length", "1048576"), ("accept-ranges", "bytes")]);
        let e = encode(
            StatusCode::OK,
            Version::HTTP_11,
            map,
            &Method::HEAD,
            true,
            None,
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 200 OK\ncontent-length: 1048576\naccept-ranges: bytes\ndate: *\n"
        );
        assert_eq!(e.framing, Framing::Length(0));
    }

    #[test]
    fn empty_bodies() {
        // An empty body moves Content-Length: 0 to the end, as hyper does.
        let map = headers(&[("content-range", "bytes */5"), ("content-length", "0")]);
        let e = encode(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Version::HTTP_11,
            map,
            &Method::GET,
            true,
            None,
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 416 Range Not Satisfiable\ncontent-range: bytes */5\ncontent-length: 0\ndate: *\n"
        );
        let e = encode(
            StatusCode::NOT_MODIFIED,
            Version::HTTP_11,
            headers(&[("etag", "\"a\"")]),
            &Method::GET,
            true,
            None,
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 304 Not Modified\netag: \"a\"\ndate: *\n"
        );
    }

    #[test]
    fn known_and_unknown_lengths() {
        let e = encode(
            StatusCode::OK,
            Version::HTTP_11,
            headers(&[("content-type", "application/json")]),
            &Method::GET,
            true,
            Some(BodyLen::Known(12)),
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 200 OK\ncontent-type: application/json\ncontent-length: 12\ndate: *\n"
        );
        let e = encode(
            StatusCode::OK,
            Version::HTTP_11,
            HeaderMap::new(),
            &Method::GET,
            true,
            Some(BodyLen::Unknown),
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 200 OK\ntransfer-encoding: chunked\ndate: *\n"
        );
        assert_eq!(e.framing, Framing::Chunked);
    }

    #[test]
    fn closing() {
        let e = encode(
            StatusCode::NOT_FOUND,
            Version::HTTP_11,
            headers(&[("content-type", "text/plain")]),
            &Method::GET,
            false,
            Some(BodyLen::Known(3)),
        )
        .expect("encodes");
        assert_eq!(
            text(&e),
            "HTTP/1.1 404 Not Found\ncontent-type: text/plain\nconnection: close\ncontent-length: 3\ndate: *\n"
        );
        assert!(e.last);
        // A response that closes by itself.
        let e = encode(
            StatusCode::OK,
            Version::HTTP_11,
            headers(&[("connection", "close")]),
            &Method::GET,
            true,
            None,
        )
        .expect("encodes");
        assert!(e.last);
        assert_eq!(
            text(&e),
            "HTTP/1.1 200 OK\nconnection: close\ncontent-length: 0\ndate: *\n"
        );
    }

    #[test]
    fn refused() {
        let map = headers(&[("content-length", "1"), ("content-length", "2")]);
        assert!(encode(
            StatusCode::OK,
            Version::HTTP_11,
            map,
            &Method::GET,
            true,
            Some(BodyLen::Unknown)
        )
        .is_err());
        assert!(encode(
            StatusCode::CONTINUE,
            Version::HTTP_11,
            HeaderMap::new(),
            &Method::GET,
            true,
            None
        )
        .is_err());
    }
}
