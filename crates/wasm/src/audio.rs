//! Audio for the player: the first audio track's decoder configuration (`audioConfig`) and its
//! compressed samples between two presentation times (`audioChunks`), read through the same
//! range reader and block cache as the video with the byte ranges that core's planner
//! coalesces. Decoding (WebCodecs `AudioDecoder`) and playback (Web Audio) happen in
//! JavaScript (`web/src/player/audio.js`), which keeps this module small.

use crate::error::{Failure, Result};
use crate::info::set;
use crate::task::promise;
use crate::video::Video;
use frameseek_core::plan::coalesce;
use frameseek_core::text;
use frameseek_core::{ByteRange, Movie, PlanOptions, TrackIndex};
use js_sys::{Float64Array, Object, Promise, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;

/// Samples returned by one `audioChunks` call at most (about 40 s of 48 kHz AAC).
const MAX_SAMPLES: usize = 2048;
/// Sample bytes returned by one `audioChunks` call at most.
const MAX_BYTES: u64 = 8 << 20;

fn micros(ticks: i64, timescale: u32) -> f64 {
    crate::decoder::micros(ticks, timescale) as f64
}

/// Ticks of `timescale` for `seconds`, saturating.
fn ticks(seconds: f64, timescale: u32) -> i64 {
    let t = (seconds * f64::from(timescale)).floor();
    t.clamp(i64::MIN as f64, i64::MAX as f64) as i64
}

/// The first decode-order sample whose presentation time is at least `t` (audio samples are
/// presented in decode order).
fn first_at_or_after(index: &TrackIndex, t: i64) -> usize {
    let (mut lo, mut hi) = (0, index.sample_count());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match index.sample(mid) {
            Some(s) if s.pts < t => lo = mid + 1,
            _ => hi = mid,
        }
    }
    lo
}

/// One sample to copy out: where it lies and when it plays.
struct Wanted {
    offset: u64,
    size: u32,
    pts: i64,
    duration: u32,
}

/// What one `audioChunks` call returns: the track timescale, the samples, the ranges that
/// carry them, and where the next call goes on (seconds).
type Plan = (u32, Vec<Wanted>, Vec<ByteRange>, f64);

/// Picks the samples presented in `[from, to)` seconds and the ranges that carry them.
fn plan(movie: &Movie, from: f64, to: f64) -> Result<Plan> {
    let track = movie
        .audio_track()
        .ok_or_else(|| Failure::new("no-track", "the file has no audio track"))?;
    if from.is_nan() || to.is_nan() {
        return Err(Failure::new(
            "usage",
            "audioChunks(): times must be numbers",
        ));
    }
    let index = &track.index;
    let ts = index.timescale();
    let (a, b) = (ticks(from, ts), ticks(to, ts));
    let mut wanted = Vec::new();
    let mut ranges = Vec::new();
    let mut bytes = 0u64;
    let mut i = first_at_or_after(index, a);
    let mut next = to;
    while let Some(s) = index.sample(i) {
        if s.pts >= b {
            break;
        }
        if wanted.len() >= MAX_SAMPLES {
            next = s.pts as f64 / f64::from(ts.max(1));
            break;
        }
        let end = s.offset.saturating_add(u64::from(s.size));
        if end > index.file_size() {
            return Err(Failure::new(
                "truncated",
                text![
                    "audio sample ",
                    i,
                    " at byte ",
                    s.offset,
                    " lies past the end of the file"
                ],
            ));
        }
        bytes += u64::from(s.size);
        if bytes > MAX_BYTES && !wanted.is_empty() {
            next = s.pts as f64 / f64::from(ts.max(1));
            break;
        }
        ranges.push(ByteRange::new(s.offset, end));
        wanted.push(Wanted {
            offset: s.offset,
            size: s.size,
            pts: s.pts,
            duration: s.duration,
        });
        i += 1;
    }
    let ranges = coalesce(ranges, PlanOptions::default().max_gap);
    Ok((ts, wanted, ranges, next))
}

#[wasm_bindgen]
impl Video {
    /// The first audio track's WebCodecs configuration, `{ codec, sampleRate,
    /// numberOfChannels, description?, duration, sampleCount, codecError? }`, or `undefined`
    /// when the file has no audio track.
    #[wasm_bindgen(js_name = audioConfig)]
    pub fn audio_config(&self) -> std::result::Result<JsValue, JsValue> {
        let cfg = self.with_movie(|_, movie| {
            let track = movie.audio_track()?;
            let o = Object::new();
            set(&o, "duration", track.index.duration_seconds());
            set(&o, "sampleCount", track.index.sample_count() as f64);
            match &track.codec {
                Ok(c) => {
                    set(&o, "codec", c.codec.as_str());
                    if let Some(a) = &c.audio {
                        set(&o, "sampleRate", a.sample_rate);
                        set(&o, "numberOfChannels", a.channels);
                    }
                    if let Some(d) = &c.description {
                        set(&o, "description", Uint8Array::from(&d[..]));
                    }
                }
                Err(e) => set(&o, "codecError", e.message()),
            }
            Some(o)
        })?;
        Ok(cfg.map_or(JsValue::UNDEFINED, JsValue::from))
    }

    /// The audio samples presented in `[from, to)` seconds, in order (at most 2048 samples
    /// or 8 MiB; call again from the last timestamp on for more). Resolves to `{ data:
    /// Uint8Array, sizes: Uint32Array, timestamps: Float64Array, durations: Float64Array, next
    /// }`, times in microseconds, sample `i` being `sizes[i]` bytes of `data` after the
    /// previous, `next` the time in seconds where the following call goes on (`to` unless a
    /// bound cut the answer short).
    #[wasm_bindgen(js_name = audioChunks)]
    pub fn audio_chunks(&self, from: f64, to: f64) -> Promise {
        let planned = self
            .with_movie(|reader, movie| plan(movie, from, to).map(|p| (reader.clone(), p)))
            .and_then(|r| r);
        promise(async move {
            let (reader, (ts, wanted, ranges, next)) = planned.map_err(|e| e.to_js())?;
            reader.prefetch(&ranges);
            let total: usize = wanted.iter().map(|w| w.size as usize).sum();
            let mut data = Vec::with_capacity(total);
            // The coalesced ranges are on their way; copy each sample as soon as it is in
            // (before awaiting again: the cache may evict later).
            for w in &wanted {
                let end = w.offset + u64::from(w.size);
                reader
                    .wait(w.offset, end, end)
                    .await
                    .map_err(|e| e.to_js())?;
                reader
                    .with_bytes(w.offset, end, |b| data.extend_from_slice(b))
                    .ok_or_else(|| Failure::new("usage", "audio bytes left the cache").to_js())?;
            }
            let o = Object::new();
            let sizes: Vec<u32> = wanted.iter().map(|w| w.size).collect();
            let times: Vec<f64> = wanted.iter().map(|w| micros(w.pts, ts)).collect();
            let durations: Vec<f64> = wanted
                .iter()
                .map(|w| micros(i64::from(w.duration), ts))
                .collect();
            set(&o, "data", Uint8Array::from(&data[..]));
            set(&o, "sizes", Uint32Array::from(&sizes[..]));
            set(&o, "timestamps", Float64Array::from(&times[..]));
            set(&o, "durations", Float64Array::from(&durations[..]));
            set(&o, "next", next);
            Ok(o.into())
        })
    }
}
