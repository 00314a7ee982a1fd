//! The video track's timeline for the player: every frame's presentation time (`frameTimes`),
//! the frames a decode pass can start at (`syncFrames`), which time ranges have their sample
//! bytes in the block cache (`bufferedRanges`, the element's `buffered`), and fetching ahead
//! without decoding (`prefetchFrames`, the element's `prefetch`).

use crate::error::Failure;
use crate::video::Video;
use frameseek_core::{plan_frames, Movie, PlanOptions, TrackIndex};
use js_sys::{Float64Array, Uint32Array};
use wasm_bindgen::prelude::*;

fn video_index(movie: &Movie) -> Result<&TrackIndex, Failure> {
    movie
        .video_track()
        .map(|t| &t.index)
        .ok_or_else(|| Failure::new("no-track", "the file has no video track"))
}

fn seconds(ticks: i64, timescale: u32) -> f64 {
    if timescale == 0 {
        0.0
    } else {
        ticks as f64 / f64::from(timescale)
    }
}

#[wasm_bindgen]
impl Video {
    /// Presentation time in seconds of every frame, in presentation order (frame `k` at
    /// `frameTimes()[k]`).
    #[wasm_bindgen(js_name = frameTimes)]
    pub fn frame_times(&self) -> Result<Float64Array, JsValue> {
        let v = self.with_movie(|_, movie| {
            let index = video_index(movie)?;
            let ts = index.timescale();
            Ok::<_, Failure>(
                (0..index.frame_count())
                    .map(|k| seconds(index.frame_pts(k).unwrap_or(0), ts))
                    .collect::<Vec<f64>>(),
            )
        })??;
        Ok(Float64Array::from(&v[..]))
    }

    /// Presentation-order indices of the sync samples, ascending: a decode pass that starts
    /// at one of them does not need the frames before it.
    #[wasm_bindgen(js_name = syncFrames)]
    pub fn sync_frames(&self) -> Result<Uint32Array, JsValue> {
        let v = self.with_movie(|_, movie| {
            let index = video_index(movie)?;
            let mut v: Vec<u32> = index
                .sync_samples()
                .iter()
                .filter_map(|&i| index.sample_frame(i as usize))
                .map(|k| k as u32)
                .collect();
            frameseek_core::sort::sort_by_key(&mut v, &|&k| u64::from(k));
            v.dedup();
            Ok::<_, Failure>(v)
        })??;
        Ok(Uint32Array::from(&v[..]))
    }

    /// Time ranges (seconds, `[start0, end0, start1, end1, ...]`) of the frames whose sample
    /// bytes are all in the cache now.
    #[wasm_bindgen(js_name = bufferedRanges)]
    pub fn buffered_ranges(&self) -> Result<Float64Array, JsValue> {
        let v = self.with_movie(|reader, movie| {
            let index = video_index(movie)?;
            let ts = index.timescale();
            let mut out: Vec<f64> = Vec::new();
            let mut run: Option<(i64, i64)> = None;
            for k in 0..index.frame_count() {
                let cached = index
                    .frame_sample(k)
                    .and_then(|i| index.sample(i))
                    .is_some_and(|s| {
                        reader.available_end(s.offset) >= s.offset + u64::from(s.size)
                    });
                let pts = index.frame_pts(k).unwrap_or(0);
                match (cached, run.as_mut()) {
                    (true, Some(r)) => r.1 = pts + index.frame_duration(k).unwrap_or(0),
                    (true, None) => run = Some((pts, pts + index.frame_duration(k).unwrap_or(0))),
                    (false, Some(_)) => {
                        let (a, b) = run.take().unwrap_or_default();
                        out.extend([seconds(a, ts), seconds(b, ts)]);
                    }
                    (false, None) => {}
                }
            }
            if let Some((a, b)) = run {
                out.extend([seconds(a, ts), seconds(b, ts)]);
            }
            Ok::<_, Failure>(out)
        })??;
        Ok(Float64Array::from(&v[..]))
    }

    /// Starts fetching the bytes that the frames presented in `[from, to]` seconds need (from
    /// the sync sample before `from`); nothing is decoded. Returns the number of frames.
    #[wasm_bindgen(js_name = prefetchFrames)]
    pub fn prefetch_frames(&self, from: f64, to: f64) -> Result<f64, JsValue> {
        let n = self.with_movie(|reader, movie| {
            let index = video_index(movie)?;
            let (Some(a), Some(b)) = (index.frame_at_time(from), index.frame_at_time(to)) else {
                return Ok::<_, Failure>(0);
            };
            let frames: Vec<usize> = (a..=b.max(a)).collect();
            for plan in plan_frames(index, &frames, &PlanOptions::default())? {
                reader.prefetch(&plan.ranges);
            }
            Ok(frames.len())
        })??;
        Ok(n as f64)
    }
}
