//! RFC 9110 conditional requests (section 13): If-Match, If-Unmodified-Since, If-None-Match,
//! If-Modified-Since and If-Range, evaluated in the order of section 13.2.2 against a strong
//! ETag and a Last-Modified time. Pure functions.

use http::header::{
    HeaderMap, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The validators of one representation.
#[derive(Debug, Clone)]
pub struct Validators {
    /// Strong entity tag, quoted: `"..."`.
    pub etag: String,
    /// Modification time (compared at whole seconds, as HTTP dates are).
    pub last_modified: SystemTime,
}

impl Validators {
    /// `Last-Modified` header value.
    pub fn last_modified_header(&self) -> String {
        httpdate::fmt_http_date(self.last_modified)
    }
}

/// What the preconditions say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Go on.
    Proceed {
        /// False when an If-Range did not match: send 200 with the whole representation.
        honor_range: bool,
    },
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluates the conditional headers of a GET or HEAD (`safe`) or any other method.
pub fn evaluate(headers: &HeaderMap, safe: bool, v: &Validators) -> Outcome {
    let lm = truncate(v.last_modified);
    if let Some(value) = header_str(headers, IF_MATCH) {
        if !list_matches(value, &v.etag, Compare::Strong) {
            return Outcome::Failed;
        }
    } else if let Some(date) = header_date(headers, IF_UNMODIFIED_SINCE) {
        if lm > date {
            return Outcome::Failed;
        }
    }
    if let Some(value) = header_str(headers, IF_NONE_MATCH) {
        if list_matches(value, &v.etag, Compare::Weak) {
            return if safe {
                Outcome::NotModified
            } else {
                Outcome::Failed
            };
        }
    } else if safe {
        if let Some(date) = header_date(headers, IF_MODIFIED_SINCE) {
            if lm <= date {
                return Outcome::NotModified;
            }
        }
    }
    let honor_range = match header_str(headers, IF_RANGE) {
        None => true,
        Some(value) => if_range_matches(value.trim(), &v.etag, lm),
    };
    Outcome::Proceed { honor_range }
}

/// If-Range holds an entity tag (strong comparison, so `W/` never matches) or a date (must
/// equal Last-Modified exactly).
fn if_range_matches(value: &str, etag: &str, lm: SystemTime) -> bool {
    if value.starts_with('"') || value.starts_with("W/") {
        return value == etag;
    }
    match httpdate::parse_http_date(value) {
        Ok(date) => date == lm,
        Err(_) => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    Strong,
    Weak,
}

/// Whether `*` or any entity tag in the comma-separated list matches `etag`.
fn list_matches(list: &str, etag: &str, how: Compare) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let ours = etag.trim_matches('"');
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        if rest.is_empty() {
            return false;
        }
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let Some(body) = rest.strip_prefix('"') else {
            return false; // not an entity-tag list: nothing matches
        };
        let Some(end) = body.find('"') else {
            return false;
        };
        let tag = &body[..end];
        if tag == ours && (how == Compare::Weak || !weak) {
            return true;
        }
        rest = &body[end + 1..];
    }
}

fn header_str(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A date header; an invalid date is ignored, as RFC 9110 asks.
fn header_date(headers: &HeaderMap, name: http::header::HeaderName) -> Option<SystemTime> {
    header_str(headers, name).and_then(|v| httpdate::parse_http_date(v.trim()).ok())
}

/// Drops sub-second precision (HTTP dates have whole seconds).
pub fn truncate(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn v() -> Validators {
        Validators {
            etag: "\"abc-1\"".into(),
            last_modified: UNIX_EPOCH + Duration::from_millis(1_700_000_000_500),
        }
    }
    fn h(pairs: &[(http::header::HeaderName, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, val) in pairs {
            m.insert(k.clone(), HeaderValue::from_str(val).unwrap());
        }
        m
    }
    const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";

    #[test]
    fn no_conditions() {
        assert_eq!(
            evaluate(&h(&[]), true, &v()),
            Outcome::Proceed { honor_range: true }
        );
    }

    #[test]
    fn if_none_match() {
        let ok = Outcome::Proceed { honor_range: true };
        assert_eq!(
            evaluate(&h(&[(IF_NONE_MATCH, "\"abc-1\"")]), true, &v()),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&h(&[(IF_NONE_MATCH, "W/\"abc-1\"")]), true, &v()),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&h(&[(IF_NONE_MATCH, "\"x\", \"abc-1\"")]), true, &v()),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&h(&[(IF_NONE_MATCH, "*")]), true, &v()),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&h(&[(IF_NONE_MATCH, "\"other\"")]), true, &v()),
            ok
        );
        assert_eq!(
            evaluate(&h(&[(IF_NONE_MATCH, "\"abc-1\"")]), false, &v()),
            Outcome::Failed
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            evaluate(
                &h(&[(IF_NONE_MATCH, "\"other\""), (IF_MODIFIED_SINCE, LM)]),
                true,
                &v()
            ),
            ok
        );
    }

    #[test]
    fn if_modified_since() {
        assert_eq!(
            evaluate(&h(&[(IF_MODIFIED_SINCE, LM)]), true, &v()),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&h(&[(IF_MODIFIED_SINCE, BEFORE)]), true, &v()),
            Outcome::Proceed { honor_range: true }
        );
        assert_eq!(
            evaluate(&h(&[(IF_MODIFIED_SINCE, "garbage")]), true, &v()),
            Outcome::Proceed { honor_range: true }
        );
    }

    #[test]
    fn if_match_and_unmodified_since() {
        assert_eq!(
            evaluate(&h(&[(IF_MATCH, "\"nope\"")]), true, &v()),
            Outcome::Failed
        );
        assert_eq!(
            evaluate(&h(&[(IF_MATCH, "W/\"abc-1\"")]), true, &v()),
            Outcome::Failed
        );
        assert_eq!(
            evaluate(&h(&[(IF_MATCH, "\"abc-1\"")]), true, &v()),
            Outcome::Proceed { honor_range: true }
        );
        assert_eq!(
            evaluate(&h(&[(IF_UNMODIFIED_SINCE, BEFORE)]), true, &v()),
            Outcome::Failed
        );
        assert_eq!(
            evaluate(&h(&[(IF_UNMODIFIED_SINCE, LM)]), true, &v()),
            Outcome::Proceed { honor_range: true }
        );
    }

    #[test]
    fn if_range() {
        let yes = Outcome::Proceed { honor_range: true };
        let no = Outcome::Proceed { honor_range: false };
        assert_eq!(evaluate(&h(&[(IF_RANGE, "\"abc-1\"")]), true, &v()), yes);
        assert_eq!(evaluate(&h(&[(IF_RANGE, "W/\"abc-1\"")]), true, &v()), no);
        assert_eq!(evaluate(&h(&[(IF_RANGE, "\"abc-2\"")]), true, &v()), no);
        assert_eq!(evaluate(&h(&[(IF_RANGE, LM)]), true, &v()), yes);
        assert_eq!(evaluate(&h(&[(IF_RANGE, BEFORE)]), true, &v()), no);
        assert_eq!(evaluate(&h(&[(IF_RANGE, "nonsense")]), true, &v()), no);
    }
}
