//! `video.info` as a plain JavaScript object, built field by field from core's `MediaInfo`
//! (the same names as its serde form) without pulling a JSON serializer into the module.

use frameseek_core::{MediaInfo, TrackInfo, TrackKind};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// `o[k] = v` (also how the module fills WebCodecs and fetch dictionaries: one import for all
/// of them instead of one per web-sys setter).
pub(crate) fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    put(o, k, &v.into());
}

fn put(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &k.into(), v);
}

fn set_opt<T: Into<JsValue>>(o: &Object, k: &str, v: Option<T>) {
    if let Some(v) = v {
        set(o, k, v);
    }
}

fn track(t: &TrackInfo) -> Object {
    let o = Object::new();
    set(&o, "id", t.id);
    let kind = match t.kind {
        TrackKind::Video => "video",
        TrackKind::Audio => "audio",
        TrackKind::Other => "other",
    };
    set(&o, "kind", kind);
    set(&o, "codec", t.codec.as_str());
    set_opt(&o, "codecError", t.codec_error.as_deref());
    set_opt(&o, "width", t.width);
    set_opt(&o, "height", t.height);
    set_opt(&o, "displayWidth", t.display_width);
    set_opt(&o, "displayHeight", t.display_height);
    set_opt(&o, "sar", t.sar.as_deref());
    set(&o, "frameCount", t.frame_count as f64);
    set_opt(&o, "fps", t.fps);
    set(&o, "keyframes", t.keyframes as f64);
    set(&o, "rotation", t.rotation);
    set(&o, "duration", t.duration);
    set(&o, "timescale", t.timescale);
    set_opt(&o, "sampleRate", t.sample_rate);
    set_opt(&o, "channels", t.channels);
    set_opt(&o, "language", t.language.as_deref());
    o
}

/// The summary with the field names of its JSON form (`frameseek probe --json`).
pub fn to_object(m: &MediaInfo) -> Object {
    let o = Object::new();
    set(&o, "container", m.container.as_str());
    set(&o, "fragmented", m.fragmented);
    set(&o, "duration", m.duration);
    set(&o, "size", m.size as f64);
    set_opt(&o, "width", m.width);
    set_opt(&o, "height", m.height);
    set_opt(&o, "codec", m.codec.as_deref());
    set_opt(&o, "frameCount", m.frame_count.map(|n| n as f64));
    set_opt(&o, "fps", m.fps);
    set_opt(&o, "rotation", m.rotation);
    let tracks = Array::new();
    for t in &m.tracks {
        tracks.push(&track(t));
    }
    set(&o, "tracks", tracks);
    o
}
