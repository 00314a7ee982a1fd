//! The web package at `/` (files from `--web-dir`, default `web/dist`), and when it has no
//! index.html, a small built-in library page: a grid of thumbnails from `/api/videos`. Also the
//! fallback for every unmatched path (404, JSON under `/api/`).

use super::{json_error, method_not_allowed, text, with_state, NO_CACHE};
use crate::mime;
use crate::path::SafePath;
use crate::respond::{self, Policy};
use crate::state::AppState;
use crate::storage::{Entry, Storage};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::path::FullPath;
use warp::reply::Response;
use warp::Filter;

pub fn route(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path::full()
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_state(state))
        .then(handle)
        .boxed()
}

async fn handle(
    path: FullPath,
    method: Method,
    headers: HeaderMap,
    state: Arc<AppState>,
) -> Response {
    let path = path.as_str();
    if path.starts_with("/api/") || path == "/api" {
        return json_error(StatusCode::NOT_FOUND, "no such API route");
    }
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed("GET, HEAD, OPTIONS");
    }
    let Some(web) = state.web.clone() else {
        return if path == "/" || path == "/index.html" {
            builtin_page()
        } else {
            text(StatusCode::NOT_FOUND, "not found\n")
        };
    };
    let relative = match path.trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    let Ok(safe) = SafePath::from_raw(relative) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let opened = match web.open(&safe).await {
        Ok(Entry::File(object)) => Ok((object, safe)),
        Ok(Entry::Directory) => {
            // A folder answers with its index.html.
            let mut segments = safe.segments().to_vec();
            segments.push("index.html".into());
            match SafePath::from_segments(segments) {
                Ok(index) => match web.open(&index).await {
                    Ok(Entry::File(object)) => Ok((object, index)),
                    _ => Err(()),
                },
                Err(_) => Err(()),
            }
        }
        Err(_) => Err(()),
    };
    match opened {
        Ok((object, safe)) => respond::serve(
            &method,
            &headers,
            object,
            Policy {
                content_type: mime::content_type(safe.file_name()),
                cache_control: NO_CACHE,
            },
        ),
        // A web directory without an index page still gets the library page at `/`.
        _ if path == "/" || path == "/index.html" => builtin_page(),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn builtin_page() -> Response {
    let mut r = Response::new(BUILTIN_PAGE.into());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static(NO_CACHE),
    );
    r
}

const BUILTIN_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>frameseek library</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; background: #111; color: #eee; }
  header { display: flex; gap: 1rem; align-items: center; margin-bottom: 1rem; }
  input { padding: .4rem; min-width: 16rem; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 1rem; }
  .card { background: #1c1c1c; border-radius: 6px; overflow: hidden; }
  .card img { width: 100%; aspect-ratio: 16 / 9; object-fit: cover; background: #000; display: block; }
  .card div { padding: .5rem; word-break: break-all; }
  .meta { color: #999; font-size: 12px; }
  a { color: #8cf; }
  nav { margin-top: 1rem; display: flex; gap: .5rem; align-items: center; }
</style>
</head>
<body>
<header><h1>frameseek</h1><input id="q" placeholder="filter by path" type="search"></header>
<div id="grid"></div>
<nav><button id="prev">&larr;</button><span id="pos"></span><button id="next">&rarr;</button></nav>
<script type="module">
  const grid = document.getElementById('grid');
  let page = 1;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  async function load() {
    const q = document.getElementById('q').value;
    const res = await fetch(`/api/videos?limit=24&page=${page}&q=${encodeURIComponent(q)}`);
    const data = await res.json();
    grid.innerHTML = data.videos.map((v) => `
      <div class="card">
        <a href="${esc(v.urls.media)}"><img loading="lazy" alt="" src="${esc(v.urls.thumbnail)}"></a>
        <div>${esc(v.path)}<br><span class="meta">${v.width ? `${v.width}&times;${v.height} ` : ''}${v.codec ? esc(v.codec) : ''}
        ${v.duration != null ? `${v.duration.toFixed(1)} s` : esc(v.error || '')}</span></div>
      </div>`).join('');
    document.getElementById('pos').textContent = `page ${data.page} of ${Math.max(data.pages, 1)} (${data.total} videos)`;
    document.getElementById('prev').disabled = page <= 1;
    document.getElementById('next').disabled = page >= data.pages;
  }
  document.getElementById('q').addEventListener('input', () => { page = 1; load(); });
  document.getElementById('prev').addEventListener('click', () => { page--; load(); });
  document.getElementById('next').addEventListener('click', () => { page++; load(); });
  load();
</script>
</body>
</html>
"#;
