//! RFC 9110 byte-range semantics (section 14): turns a `Range` header and a representation
//! length into "send it all", "send these parts" or "416". Pure functions, no I/O; the
//! grammar of each range-spec is checked by the `http-range-header` crate.

use http_range_header::{EndPosition, StartPosition};
use std::ops::Range;

/// Most range-specs accepted in one header. Past it the header is ignored (200, full body).
pub const MAX_RANGE_SPECS: usize = 100;
/// Most parts in one multipart/byteranges answer after coalescing. Past it: 200, full body.
pub const MAX_PARTS: usize = 32;

/// What to send for a request, given its `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeDecision {
    /// 200 with the whole representation (no Range, an unknown unit, a malformed header, a
    /// failed If-Range, or more ranges than we serve).
    Full,
    /// 206 with these half-open byte ranges: sorted, disjoint, not adjacent, non-empty.
    /// One range is a plain 206; several are multipart/byteranges.
    Partial(Vec<Range<u64>>),
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// One range-spec as written, before the length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-last` (last inclusive).
    Closed(u64, u64),
    /// `first-`.
    From(u64),
    /// `-n` (the last n bytes; n may be 0, which is never satisfiable).
    Suffix(u64),
}

/// The outcome of reading the header without the length.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed {
    /// Ignore the header: other unit, bad syntax, too many specs.
    Ignore,
    Specs(Vec<Spec>),
}

/// Decides the answer to a `Range` header for a representation of `len` bytes.
pub fn decide(header: Option<&str>, len: u64) -> RangeDecision {
    let Some(header) = header else {
        return RangeDecision::Full;
    };
    match parse(header) {
        Parsed::Ignore => RangeDecision::Full,
        Parsed::Specs(specs) => satisfy(&specs, len),
    }
}

/// Parses `unit=spec, spec, ...`. A unit other than `bytes` (case-insensitive) or any spec
/// that is not valid syntax makes the whole header ignorable (RFC 9110 section 14.2).
fn parse(header: &str) -> Parsed {
    let Some((unit, set)) = header.split_once('=') else {
        return Parsed::Ignore;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Parsed::Ignore;
    }
    let mut specs = Vec::new();
    // The list rule allows empty elements and optional whitespace around commas.
    for raw in set.split(',') {
        let raw = raw.trim_matches(|c| c == ' ' || c == '\t');
        if raw.is_empty() {
            continue;
        }
        if specs.len() == MAX_RANGE_SPECS {
            return Parsed::Ignore;
        }
        match parse_spec(raw) {
            Some(spec) => specs.push(spec),
            None => return Parsed::Ignore,
        }
    }
    if specs.is_empty() {
        return Parsed::Ignore;
    }
    Parsed::Specs(specs)
}

/// One range-spec through the crate's strict grammar (digits only, no sign, no overflow).
fn parse_spec(raw: &str) -> Option<Spec> {
    // `-0` is valid syntax that can never be satisfied; the crate rejects it as syntax.
    if let Some(digits) = raw.strip_prefix('-') {
        if !digits.is_empty() && digits.bytes().all(|b| b == b'0') {
            return Some(Spec::Suffix(0));
        }
    }
    let parsed = http_range_header::parse_range_header(&format!("bytes={raw}")).ok()?;
    let [range] = parsed.ranges.as_slice() else {
        return None;
    };
    match (range.start, range.end) {
        (StartPosition::Index(first), EndPosition::Index(last)) => {
            // "last < first" makes the spec invalid, hence the header (RFC 9110 14.1.1).
            (last >= first).then_some(Spec::Closed(first, last))
        }
        (StartPosition::Index(first), EndPosition::LastByte) => Some(Spec::From(first)),
        (StartPosition::FromLast(n), _) => Some(Spec::Suffix(n)),
    }
}

/// Applies the specs to a length: clamps ends past EOF, drops unsatisfiable specs, then
/// sorts and coalesces overlapping or adjacent ranges (so a body never exceeds `len` plus
/// part headers).
fn satisfy(specs: &[Spec], len: u64) -> RangeDecision {
    let mut ranges: Vec<Range<u64>> = specs
        .iter()
        .filter_map(|spec| match *spec {
            Spec::Closed(first, last) if first < len => {
                Some(first..last.saturating_add(1).min(len))
            }
            Spec::From(first) if first < len => Some(first..len),
            Spec::Suffix(n) if n > 0 && len > 0 => Some(len.saturating_sub(n)..len),
            _ => None,
        })
        .collect();
    if ranges.is_empty() {
        return RangeDecision::Unsatisfiable;
    }
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    if merged.len() > MAX_PARTS {
        return RangeDecision::Full;
    }
    RangeDecision::Partial(merged)
}

/// `Content-Range` value for one part: `bytes first-last/len`.
pub fn content_range(r: &Range<u64>, len: u64) -> String {
    use std::fmt::Write;
    let mut value = String::with_capacity(72);
    let _ = write!(
        value,
        "bytes {}-{}/{}",
        r.start,
        r.end.saturating_sub(1),
        len
    );
    value
}

/// `Content-Range` value of a 416: `bytes */len`.
pub fn unsatisfied_range(len: u64) -> String {
    format!("bytes */{len}")
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn d(h: &str, len: u64) -> RangeDecision {
        decide(Some(h), len)
    }
    fn p(v: &[Range<u64>]) -> RangeDecision {
        RangeDecision::Partial(v.to_vec())
    }

    #[test]
    fn no_header_is_full() {
        assert_eq!(decide(None, 10), RangeDecision::Full);
    }

    #[test]
    fn single_forms() {
        assert_eq!(d("bytes=0-0", 10), p(&[0..1]));
        assert_eq!(d("bytes=2-5", 10), p(&[2..6]));
        assert_eq!(d("bytes=4-", 10), p(&[4..10]));
        assert_eq!(d("bytes=-3", 10), p(&[7..10]));
        assert_eq!(d("BYTES=1-2", 10), p(&[1..3]));
        assert_eq!(d("bytes=9-9", 10), p(&[9..10]));
    }

    #[test]
    fn clamps_past_eof() {
        assert_eq!(d("bytes=5-1000", 10), p(&[5..10]));
        assert_eq!(d("bytes=-1000", 10), p(&[0..10]));
        assert_eq!(d("bytes=0-18446744073709551615", 10), p(&[0..10]));
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(d("bytes=10-", 10), RangeDecision::Unsatisfiable);
        assert_eq!(d("bytes=10-20", 10), RangeDecision::Unsatisfiable);
        assert_eq!(d("bytes=-0", 10), RangeDecision::Unsatisfiable);
        assert_eq!(d("bytes=0-0", 0), RangeDecision::Unsatisfiable);
        assert_eq!(d("bytes=-5", 0), RangeDecision::Unsatisfiable);
        assert_eq!(d("bytes=20-30, 40-50", 10), RangeDecision::Unsatisfiable);
    }

    #[test]
    fn unsatisfiable_parts_are_dropped() {
        assert_eq!(d("bytes=20-30, 0-1", 10), p(&[0..2]));
        assert_eq!(d("bytes=-0, 3-4", 10), p(&[3..5]));
    }

    #[test]
    fn ignored_headers() {
        assert_eq!(d("items=0-5", 10), RangeDecision::Full);
        assert_eq!(d("bytes", 10), RangeDecision::Full);
        assert_eq!(d("bytes=", 10), RangeDecision::Full);
        assert_eq!(d("bytes=5-2", 10), RangeDecision::Full);
        assert_eq!(d("bytes=a-b", 10), RangeDecision::Full);
        assert_eq!(d("bytes=1-2-3", 10), RangeDecision::Full);
        assert_eq!(d("bytes=+1-2", 10), RangeDecision::Full);
        assert_eq!(d("bytes=0-1, x", 10), RangeDecision::Full);
        assert_eq!(d("bytes=99999999999999999999999-", 10), RangeDecision::Full);
    }

    #[test]
    fn whitespace_and_empty_elements() {
        assert_eq!(d("bytes=0-1 , 4-5", 10), p(&[0..2, 4..6]));
        assert_eq!(d("bytes=0-1,,4-5,", 10), p(&[0..2, 4..6]));
        assert_eq!(d("bytes=0-1,\t4-5", 10), p(&[0..2, 4..6]));
    }

    #[test]
    fn coalesces_overlapping_and_adjacent() {
        assert_eq!(d("bytes=0-4, 2-6", 10), p(&[0..7]));
        assert_eq!(d("bytes=0-4, 5-6", 10), p(&[0..7]));
        assert_eq!(d("bytes=6-8, 0-1", 10), p(&[0..2, 6..9]));
        assert_eq!(d("bytes=0-1, 0-1, 0-1", 10), p(&[0..2]));
        assert_eq!(d("bytes=-2, 8-", 10), p(&[8..10]));
        assert_eq!(d("bytes=0-, 3-4", 10), p(&[0..10]));
    }

    #[test]
    fn caps_the_count() {
        let many: Vec<String> = (0..(MAX_PARTS as u64 + 1))
            .map(|i| format!("{}-{}", i * 3, i * 3))
            .collect();
        assert_eq!(
            d(&format!("bytes={}", many.join(",")), 1000),
            RangeDecision::Full
        );
        let exact: Vec<String> = (0..MAX_PARTS as u64)
            .map(|i| format!("{}-{}", i * 3, i * 3))
            .collect();
        assert!(
            matches!(d(&format!("bytes={}", exact.join(",")), 1000), RangeDecision::Partial(v) if v.len() == MAX_PARTS)
        );
        // Many specs that coalesce into one are fine up to the spec cap...
        let same = vec!["0-1"; MAX_RANGE_SPECS].join(",");
        assert_eq!(d(&format!("bytes={same}"), 10), p(&[0..2]));
        // ...and ignored past it.
        let too_many = vec!["0-1"; MAX_RANGE_SPECS + 1].join(",");
        assert_eq!(d(&format!("bytes={too_many}"), 10), RangeDecision::Full);
    }

    #[test]
    fn header_values() {
        assert_eq!(content_range(&(0..10), 10), "bytes 0-9/10");
        assert_eq!(unsatisfied_range(7), "bytes */7");
    }
}
