//! frameseek-wasm: the browser module. It reads MP4 byte ranges with `fetch` through a block
//! cache ([`reader`]), lets frameseek-core decide which bytes a frame needs, and decodes them
//! with WebCodecs ([`decoder`]); [`video`] is the API that `web/` wraps as `open(url)`.

#![warn(missing_docs)]

pub mod cache;
pub mod error;
pub mod http;
pub mod notify;

#[cfg(all(target_arch = "wasm32", any(feature = "player", feature = "hls")))]
pub mod audio;
#[cfg(target_arch = "wasm32")]
pub mod decoder;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(all(target_arch = "wasm32", feature = "hls"))]
pub mod hls;
#[cfg(target_arch = "wasm32")]
pub mod info;
#[cfg(target_arch = "wasm32")]
pub mod reader;
#[cfg(target_arch = "wasm32")]
pub mod task;
#[cfg(all(target_arch = "wasm32", any(feature = "player", feature = "hls")))]
pub mod timeline;
#[cfg(target_arch = "wasm32")]
pub mod video;

/// talc instead of std's dlmalloc: ~6 KB less WebAssembly (docs/bench.md, "Module size").
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
pub use video::{open_video, FrameStream, Video};
