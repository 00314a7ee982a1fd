//! Running futures: every future the module starts goes through these two functions, which
//! box it, so that wasm-bindgen-futures' task and promise machinery is compiled once rather
//! than once per future type (each copy was several KB of the module).

use std::future::Future;
use std::pin::Pin;
use wasm_bindgen::JsValue;

type Boxed<T> = Pin<Box<dyn Future<Output = T>>>;

/// A `Promise` for `f` (`future_to_promise`, boxed).
pub fn promise(f: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> js_sys::Promise {
    promise_boxed(Box::pin(f))
}

#[inline(never)]
fn promise_boxed(f: Boxed<Result<JsValue, JsValue>>) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(f)
}

/// Runs `f` to completion in the background (`spawn_local`, boxed).
pub fn spawn(f: impl Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(f));
}

#[inline(never)]
fn spawn_boxed(f: Boxed<()>) {
    wasm_bindgen_futures::spawn_local(f);
}
