//! Request paths to safe relative paths: percent-decodes each segment exactly once and refuses
//! anything that could name a place outside the served directory (`..`, encoded separators,
//! backslashes, NUL and control bytes, hidden names). Pure functions.

use percent_encoding::percent_decode_str;

/// A relative path whose segments are plain names: never empty, `.`, `..`, hidden, or
/// containing `/`, `\`, NUL or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafePath {
    segments: Vec<String>,
}

/// Why a request path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// Bad encoding (not UTF-8) or an empty path.
    Malformed,
    /// A segment tries to leave its directory or hide behind an encoding.
    Forbidden,
}

impl SafePath {
    /// Parses the raw (still percent-encoded) path after the route prefix, e.g.
    /// `clips/a%20b.mp4`. Query strings must already be stripped.
    pub fn from_raw(raw: &str) -> Result<Self, PathError> {
        let mut segments = Vec::new();
        for raw_segment in raw.split('/') {
            if raw_segment.is_empty() {
                // A trailing or doubled slash: tolerated only at the end.
                continue;
            }
            let decoded = percent_decode_str(raw_segment)
                .decode_utf8()
                .map_err(|_| PathError::Malformed)?;
            check_segment(&decoded)?;
            segments.push(decoded.into_owned());
        }
        if segments.is_empty() {
            return Err(PathError::Malformed);
        }
        Ok(SafePath { segments })
    }

    /// Builds a path from already-decoded segments (archive members, library entries).
    pub fn from_segments<I, S>(segments: I) -> Result<Self, PathError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let segments: Vec<String> = segments.into_iter().map(Into::into).collect();
        for s in &segments {
            check_segment(s)?;
        }
        if segments.is_empty() {
            return Err(PathError::Malformed);
        }
        Ok(SafePath { segments })
    }

    /// The decoded segments.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The path joined with `/`.
    pub fn joined(&self) -> String {
        self.segments.join("/")
    }

    /// The last segment (the file name).
    pub fn file_name(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or("")
    }
}

fn check_segment(s: &str) -> Result<(), PathError> {
    if s.is_empty() || s.starts_with('.') {
        // ".", "..", ".hidden", ".frameseek-cache"
        return Err(PathError::Forbidden);
    }
    if s.chars()
        .any(|c| c == '/' || c == '\\' || c == '\0' || c.is_control())
    {
        return Err(PathError::Forbidden);
    }
    Ok(())
}

/// Percent-encodes a relative path for a URL, keeping `/` between segments.
pub fn encode_url_path(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'\\')
        .add(b'^')
        .add(b'|')
        .add(b'[')
        .add(b']');
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths() {
        let p = SafePath::from_raw("clips/a%20b.mp4").unwrap();
        assert_eq!(p.segments(), ["clips", "a b.mp4"]);
        assert_eq!(p.joined(), "clips/a b.mp4");
        assert_eq!(p.file_name(), "a b.mp4");
        assert_eq!(SafePath::from_raw("a//b/").unwrap().segments(), ["a", "b"]);
    }

    #[test]
    fn refuses_traversal() {
        for raw in [
            "..",
            "../etc/passwd",
            "a/../../b",
            "%2e%2e/x",
            "%2E%2E/x",
            ".%2e/x",
            "a%2f..%2f..%2fetc",
            "a%2F..",
            "..%5c..%5cwin.ini",
            "a\\..\\b",
            "a%00.mp4",
            "a%0a",
            ".hidden",
            ".frameseek-cache/x",
            "./a",
        ] {
            assert!(SafePath::from_raw(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn double_encoding_stays_literal() {
        // Decoded once: "%2e%2e" is a literal (odd) name, never a parent reference.
        let p = SafePath::from_raw("%252e%252e/x").unwrap();
        assert_eq!(p.segments(), ["%2e%2e", "x"]);
    }

    #[test]
    fn refuses_bad_utf8_and_empty() {
        assert_eq!(SafePath::from_raw("%ff"), Err(PathError::Malformed));
        assert_eq!(SafePath::from_raw(""), Err(PathError::Malformed));
        assert_eq!(SafePath::from_raw("/"), Err(PathError::Malformed));
    }

    #[test]
    fn encodes_urls() {
        assert_eq!(encode_url_path("a b/c#d.mp4"), "a%20b/c%23d.mp4");
    }
}
