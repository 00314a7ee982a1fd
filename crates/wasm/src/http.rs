//! HTTP details that need no browser: parsing `Content-Range`. Kept apart from [`crate::fetch`]
//! so that native unit tests cover it.

/// Parses `bytes a-b/total` (total may be `*`) and `bytes */total`; returns `(a, total)`.
pub fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    let first = match span.trim() {
        "*" => 0,
        s => s.split_once('-')?.0.trim().parse().ok()?,
    };
    Some((first, total))
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 0-63/1000"),
            Some((0, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 10-20/*"), Some((10, None)));
        assert_eq!(parse_content_range("bytes */1000"), Some((0, Some(1000))));
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }
}
