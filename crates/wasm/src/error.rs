//! Errors as JavaScript sees them: an `Error` whose message starts with `frameseek:` and whose
//! `code` property names the failure class, so callers (and tests) can branch on it without
//! parsing the text.

use frameseek_core::ErrorKind;
use std::fmt;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::{JsCast, JsValue};

/// A failure with a stable `code` (see `web/src/index.d.ts` for the list) and a message,
/// read as fields through `Deref` ([`FailureInfo`]). One pointer, so that the many
/// `Result<_, Failure>`s and `?`s of the async code move little.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(Box<FailureInfo>);

/// The fields of a [`Failure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureInfo {
    /// Failure class: `http`, `network`, `range-ignored`, `not-mp4`, `truncated`, `invalid`,
    /// `unsupported`, `unsupported-codec`, `no-track`, `out-of-range`, `decode`, `closed`,
    /// `usage`.
    pub code: &'static str,
    /// Human-readable description.
    pub message: String,
}

impl std::ops::Deref for Failure {
    type Target = FailureInfo;

    fn deref(&self) -> &FailureInfo {
        &self.0
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

impl Failure {
    /// A failure of class `code`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self::boxed(code, message.into())
    }

    #[inline(never)]
    fn boxed(code: &'static str, message: String) -> Self {
        Self(Box::new(FailureInfo { code, message }))
    }
}

#[cfg(target_arch = "wasm32")]
impl Failure {
    /// Wraps a value thrown by a JavaScript API (a `DOMException`, a `TypeError`...).
    pub fn from_js(code: &'static str, what: &str, err: &JsValue) -> Self {
        let detail = err
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| err.as_string())
            .unwrap_or_else(|| "unknown error".into());
        Self::new(code, frameseek_core::text![what, ": ", detail])
    }

    /// The JavaScript `Error` for this failure.
    pub fn to_js(&self) -> JsValue {
        let e = js_sys::Error::new(&frameseek_core::text!["frameseek: ", self.message]);
        let _ = js_sys::Reflect::set(&e, &"code".into(), &self.code.into());
        e.into()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<frameseek_core::Error> for Failure {
    fn from(e: frameseek_core::Error) -> Self {
        let code = match &e.kind {
            ErrorKind::NotMp4 { .. } => "not-mp4",
            ErrorKind::Truncated { .. } => "truncated",
            ErrorKind::Invalid { .. } | ErrorKind::TooLarge { .. } | ErrorKind::Missing { .. } => {
                "invalid"
            }
            ErrorKind::Unsupported { .. } => "unsupported",
            ErrorKind::NoTrack { .. } => "no-track",
            ErrorKind::FrameOutOfRange { .. } => "out-of-range",
            ErrorKind::Usage { .. } => "usage",
        };
        Self::new(code, e.message())
    }
}

#[cfg(target_arch = "wasm32")]
impl From<Failure> for JsValue {
    fn from(f: Failure) -> Self {
        f.to_js()
    }
}
