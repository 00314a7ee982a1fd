//! HTTP details that need no browser: parsing `Content-Range`. Kept apart from [`crate::fetch`]
//! so that native unit tests cover it.

/// Parses `bytes a-b/total` (total may be `*`) and `bytes */total`; returns `(a, total)`.
/// By hand rather than with `str::parse` and `split_once`, whose generic code is ~1 KB of
/// the module.
pub fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = trim(v.as_bytes()).strip_prefix(b"bytes")?;
    let (span, total) = rest.split_at(rest.iter().position(|&b| b == b'/')?);
    let total = match trim(&total[1..]) {
        b"*" => None,
        t => Some(number(t)?),
    };
    let first = match trim(span) {
        b"*" => 0,
        s => number(&s[..s.iter().position(|&b| b == b'-')?])?,
    };
    Some((first, total))
}

/// A decimal number (digits only, no sign, no overflow, whitespace around it ignored), like
/// `Content-Length`'s value.
pub fn number(digits: &[u8]) -> Option<u64> {
    let digits = trim(digits);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let d = u64::from(d.wrapping_sub(b'0'));
        if d > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(d)
    })
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{number, parse_content_range};

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 0-63/1000"),
            Some((0, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 10-20/*"), Some((10, None)));
        assert_eq!(parse_content_range("bytes */1000"), Some((0, Some(1000))));
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(
            parse_content_range(" bytes  5-9 / 10 "),
            Some((5, Some(10)))
        );
        assert_eq!(parse_content_range("bytes 0-9/1x"), None);
        assert_eq!(parse_content_range("bytes -9/10"), None);
        assert_eq!(parse_content_range("bytes 0-9"), None);
        assert_eq!(parse_content_range("bytes 99999999999999999999-1/2"), None);
        assert_eq!(number(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(number(b"+1"), None);
    }
}
