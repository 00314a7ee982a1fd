//! Conformance suite for `frameseek serve`: runs the real binary on a free port against a
//! fixture tree and checks, with a real HTTP client, every rule of the server issue: each
//! range form, multipart bodies byte for byte, conditionals, HEAD, content types, CORS,
//! traversal payloads and escaping symlinks, tar and zip members, the library API, metadata
//! against `frameseek probe --json`, thumbnails, health and metrics.

mod common;

mod archives;
mod conditionals;
mod cors;
mod library;
mod ops;
mod ranges;
mod thumbnails;
mod traversal;
