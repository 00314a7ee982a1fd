//! Typed errors for everything core parses or plans.
//!
//! Input comes from the network, so every failure names what went wrong and the byte offset
//! in the source where it was found; nothing in core panics on input.

use crate::text;
use std::fmt;

/// What went wrong, without the position (see [`Error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes end before a structure that claims to be longer ends.
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A box or field holds a value the specification does not allow.
    Invalid {
        /// What was being read.
        what: &'static str,
        /// Why it is invalid.
        why: String,
    },
    /// A count or size is larger than the bytes present can justify.
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// The claimed count or size.
        claimed: u64,
        /// The most the input can hold.
        limit: u64,
    },
    /// The input is not an ISO BMFF (MP4/MOV) file.
    NotMp4 {
        /// What it looks like instead, as a message suffix (see [`crate::mp4::sniff`]), or "".
        found: &'static str,
    },
    /// A required box is missing.
    Missing {
        /// The missing box's four-character code, or a description.
        what: &'static str,
    },
    /// The file is valid but uses something frameseek does not handle.
    Unsupported {
        /// What is not supported.
        what: String,
    },
    /// The movie has no track of the asked kind.
    NoTrack {
        /// The kind that was asked for ("video", "audio").
        kind: &'static str,
    },
    /// A frame index past the last frame.
    FrameOutOfRange {
        /// The asked frame.
        frame: u64,
        /// The number of frames.
        count: u64,
    },
    /// A caller used an API out of order (e.g. pushed bytes that were not asked for).
    Usage {
        /// What was wrong.
        why: String,
    },
}

/// What went wrong and where: the fields of an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset in the source file (or playlist) where it was found.
    pub offset: u64,
}

/// An error with the byte offset in the source where it was detected. Its fields
/// ([`ErrorInfo`]: `kind`, `offset`) are read through `Deref`; the error itself is one
/// pointer, so that a `Result` carrying it stays small: every `?` in the parsers moves it,
/// and a 40-byte error made those moves a large part of the browser module's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorInfo>);

impl std::ops::Deref for Error {
    type Target = ErrorInfo;

    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl Error {
    /// Builds an error at `offset`.
    #[cold]
    #[inline(never)]
    pub fn new(kind: ErrorKind, offset: u64) -> Self {
        Self(Box::new(ErrorInfo { kind, offset }))
    }

    /// Shorthand for [`ErrorKind::Truncated`].
    #[cold]
    #[inline(never)]
    pub fn truncated(what: &'static str, offset: u64) -> Self {
        Self::new(ErrorKind::Truncated { what }, offset)
    }

    /// Shorthand for [`ErrorKind::Invalid`].
    #[cold]
    pub fn invalid(what: &'static str, why: impl Into<String>, offset: u64) -> Self {
        Self::new(
            ErrorKind::Invalid {
                what,
                why: why.into(),
            },
            offset,
        )
    }

    /// Shorthand for [`ErrorKind::TooLarge`].
    #[cold]
    #[inline(never)]
    pub fn too_large(what: &'static str, claimed: u64, limit: u64, offset: u64) -> Self {
        Self::new(
            ErrorKind::TooLarge {
                what,
                claimed,
                limit,
            },
            offset,
        )
    }

    /// Shorthand for [`ErrorKind::Unsupported`].
    #[cold]
    pub fn unsupported(what: impl Into<String>, offset: u64) -> Self {
        Self::new(ErrorKind::Unsupported { what: what.into() }, offset)
    }
}

impl ErrorKind {
    /// The description, e.g. `truncated stsz box` (built without `core::fmt`, see [`crate::text!`]).
    pub fn message(&self) -> String {
        match self {
            ErrorKind::Truncated { what } => text!["truncated ", what],
            ErrorKind::Invalid { what, why } => text!["invalid ", what, ": ", why],
            ErrorKind::TooLarge {
                what,
                claimed,
                limit,
            } => text![
                what,
                " too large: ",
                claimed,
                " (at most ",
                limit,
                " fits the input)"
            ],
            ErrorKind::NotMp4 { found } => text!["not an MP4/MOV file", found],
            ErrorKind::Missing { what } => text!["missing ", what],
            ErrorKind::Unsupported { what } => text!["unsupported: ", what],
            ErrorKind::NoTrack { kind } => text!["no ", kind, " track"],
            ErrorKind::FrameOutOfRange { frame, count } => text![
                "frame ",
                frame,
                " out of range (the track has ",
                count,
                " frames)"
            ],
            ErrorKind::Usage { why } => why.clone(),
        }
    }
}

impl Error {
    /// The description with its position, e.g. `truncated stsz box at byte 1234` (what
    /// `Display` shows).
    pub fn message(&self) -> String {
        let mut s = self.kind.message();
        s += &text![" at byte ", self.offset];
        s
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

/// Result alias for core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
