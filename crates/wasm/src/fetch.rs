//! One bounded ranged GET through the global `fetch` (window or worker), its body read as a
//! stream, and the classification of what came back: a 206 with its `Content-Range` (or
//! without, when CORS hides it: then a `HEAD` tells the size), a 200 from a server that
//! ignored `Range`, or a failure that is worth retrying or not.

use crate::error::{Failure, Result};
use crate::http::{number, parse_content_range};
use crate::info::set;
use frameseek_core::text;
use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, Request, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, present on `Window` and `WorkerGlobalScope` alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32) -> JsValue;
}

/// Waits `ms` milliseconds (a `setTimeout` promise).
pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

/// How to reach the resource: URL, extra headers and credentials mode.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Absolute or page-relative URL.
    pub url: String,
    /// Extra request headers (API keys, authorization): a `Headers` init, as `open()`'s
    /// JavaScript passes it (`[[name, value], ...]`), handed to `new Headers()` as it is.
    pub headers: Option<JsValue>,
    /// `omit`, `same-origin` or `include`; the browser default when `None`.
    pub credentials: Option<String>,
}

/// Why a request failed and whether repeating it may help.
#[derive(Debug, Clone)]
pub struct FetchError {
    /// Network errors, 5xx, 408 and 429 are transient.
    pub transient: bool,
    /// The failure to report if retries run out.
    pub failure: Failure,
}

impl FetchError {
    fn transient(code: &'static str, msg: String) -> Self {
        Self {
            transient: true,
            failure: Failure::new(code, msg),
        }
    }

    fn fatal(code: &'static str, msg: String) -> Self {
        Self {
            transient: false,
            failure: Failure::new(code, msg),
        }
    }
}

/// An open response whose body is being streamed.
pub struct Body {
    /// File offset of the first body byte (0 for a 200).
    pub offset: u64,
    /// Total file size from `Content-Range` (or `Content-Length` for a 200), if given.
    pub total: Option<u64>,
    /// The server answered 200: the body is the whole file, not the asked range.
    pub whole: bool,
    reader: ReadableStreamDefaultReader,
    abort: AbortController,
}

impl Body {
    /// The next chunk of the body, `None` at its end.
    pub async fn next(&self) -> Result<Option<Uint8Array>, FetchError> {
        let r = JsFuture::from(self.reader.read())
            .await
            .map_err(|e| FetchError {
                transient: true,
                failure: Failure::from_js("network", "reading the response body", &e),
            })?;
        let done = Reflect::get(&r, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        Ok(Reflect::get(&r, &"value".into())
            .ok()
            .map(|v| v.unchecked_into::<Uint8Array>()))
    }

    /// The controller that cancels this request (and its body).
    pub fn abort_controller(&self) -> AbortController {
        self.abort.clone()
    }
}

/// Sends `method` to the target (with `range` as the `Range` header, if any) and waits for
/// the response head.
async fn send(
    target: &Target,
    method: &str,
    range: Option<&str>,
    abort: &AbortController,
) -> Result<Response, FetchError> {
    let setup = |e: JsValue| FetchError {
        transient: false,
        failure: Failure::from_js("usage", "building the request", &e),
    };
    let init = Object::new();
    set(&init, "method", method);
    set(&init, "signal", abort.signal());
    if let Some(c @ ("include" | "omit" | "same-origin")) = target.credentials.as_deref() {
        set(&init, "credentials", c);
    }
    let headers = web_sys::Headers::new_with_str_sequence_sequence(
        target.headers.as_ref().unwrap_or(&JsValue::UNDEFINED),
    )
    .map_err(setup)?;
    if let Some(range) = range {
        headers.set("Range", range).map_err(setup)?;
    }
    set(&init, "headers", headers);
    let request =
        Request::new_with_str_and_init(&target.url, init.unchecked_ref()).map_err(setup)?;
    Ok(JsFuture::from(global_fetch(&request))
        .await
        .map_err(|e| FetchError {
            transient: true,
            failure: Failure::from_js("network", &text!["fetching ", target.url], &e),
        })?
        .unchecked_into())
}

/// The size of the target from a `HEAD` request's `Content-Length` (which CORS always
/// exposes), for a cross-origin server that answers ranges with a `Content-Range` it does not
/// expose (no `Access-Control-Expose-Headers: Content-Range`).
/// `abort` (the ranged GET's) cancels it too.
pub async fn head_size(target: &Target, abort: &AbortController) -> Result<u64, FetchError> {
    let resp = send(target, "HEAD", None, abort).await?;
    let length = resp.headers().get("content-length").ok().flatten();
    let status = resp.status();
    match length.and_then(|v| number(v.as_bytes())) {
        Some(n) if resp.ok() => Ok(n),
        _ => Err(FetchError {
            transient: status >= 500 || status == 408 || status == 429,
            failure: Failure::new(
                "http",
                text![
                    "no size for ",
                    target.url,
                    ": Content-Range not exposed, HEAD ",
                    status
                ],
            ),
        }),
    }
}

/// Sends `GET` with `Range: bytes=start-(end-1)` and waits for the response head.
pub async fn get_range(target: &Target, start: u64, end: u64) -> Result<Body, FetchError> {
    let abort = AbortController::new().map_err(|e| FetchError {
        transient: false,
        failure: Failure::from_js("usage", "building the request", &e),
    })?;
    let range = text!["bytes=", start, "-", end.saturating_sub(1)];
    let resp = send(target, "GET", Some(&range), &abort).await?;
    let status = resp.status();
    let header = |name: &str| resp.headers().get(name).ok().flatten();
    let (offset, total, whole) = match status {
        // Hidden from a cross-origin page without Access-Control-Expose-Headers: the range
        // asked for, of a size still unknown (see `head_size`).
        206 => match header("content-range") {
            None => (start, None, false),
            Some(cr) => {
                let Some((first, total)) = parse_content_range(&cr) else {
                    return Err(FetchError::fatal(
                        "http",
                        text!["unparsable Content-Range \"", cr, "\" from ", target.url],
                    ));
                };
                if first != start {
                    return Err(FetchError::fatal(
                        "http",
                        text![
                            "asked for bytes from ",
                            start,
                            ", the server sent bytes from ",
                            first,
                            " (",
                            cr,
                            ")"
                        ],
                    ));
                }
                (first, total, false)
            }
        },
        200 => {
            let total = header("content-length").and_then(|v| number(v.as_bytes()));
            (0, total, true)
        }
        416 => {
            let total = header("content-range")
                .and_then(|cr| parse_content_range(&cr))
                .and_then(|(_, t)| t);
            let msg = match total {
                Some(0) => text![target.url, " is empty"],
                Some(t) => text![
                    "range ",
                    range,
                    " is past the end of ",
                    target.url,
                    " (",
                    t,
                    " bytes)"
                ],
                None => text![
                    "HTTP 416 (range not satisfiable) for ",
                    range,
                    " of ",
                    target.url
                ],
            };
            return Err(FetchError::fatal("http", msg));
        }
        s if s >= 500 || s == 408 || s == 429 => {
            return Err(FetchError::transient(
                "http",
                text!["HTTP ", s, " for ", target.url],
            ));
        }
        s => {
            return Err(FetchError::fatal(
                "http",
                text!["HTTP ", s, " for ", target.url],
            ))
        }
    };
    let Some(stream) = resp.body() else {
        return Err(FetchError::fatal(
            "http",
            text!["HTTP ", status, " without a body from ", target.url],
        ));
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    Ok(Body {
        offset,
        total,
        whole,
        reader,
        abort,
    })
}
