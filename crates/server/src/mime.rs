//! Content-Type by file extension, for media, playlists, thumbnails and the web package.
//! Unknown extensions are `application/octet-stream` (served with `nosniff`).

/// The Content-Type for a file name.
pub fn content_type(name: &str) -> &'static str {
    // Lower-cased into the stack: no allocation per request.
    let mut lower = [0u8; 8];
    let ext = match name.rsplit_once('.') {
        Some((_, ext)) if ext.len() <= lower.len() => {
            let lower = &mut lower[..ext.len()];
            lower.copy_from_slice(ext.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower).unwrap_or("")
        }
        _ => return "application/octet-stream",
    };
    match ext {
        "mp4" | "m4v" => "video/mp4",
        "m4a" => "audio/mp4",
        "m4s" => "video/iso.segment",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ts" => "video/mp2t",
        "m3u8" => "application/vnd.apple.mpegurl",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn by_extension() {
        assert_eq!(content_type("a/b.mp4"), "video/mp4");
        assert_eq!(content_type("A.MP4"), "video/mp4");
        assert_eq!(content_type("x.mov"), "video/quicktime");
        assert_eq!(content_type("p.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("s.ts"), "video/mp2t");
        assert_eq!(content_type("s.m4s"), "video/iso.segment");
        assert_eq!(content_type("t.jpg"), "image/jpeg");
        assert_eq!(content_type("m.wasm"), "application/wasm");
        assert_eq!(content_type("m.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
