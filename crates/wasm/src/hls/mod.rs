//! HLS sources for `open()` (the `hls` feature, built as its own module): a master or media
//! playlist becomes a video whose frame numbers count across segments ([`source`] fetches and
//! demuxes segments; core's `HlsTimeline` numbers their frames), decoded with the same
//! WebCodecs driver as MP4. It answers the same methods as [`crate::video::Video`], so the
//! JavaScript `Video` wraps either.

pub mod source;

use crate::decoder::{micros, Decoder, Sink};
use crate::error::{Failure, Result};
use crate::fetch::Target;
use crate::notify::Notify;
use crate::task::{promise, spawn};
use crate::video::{
    ahead_bound, decode_pass, frame_list, get, get_u64, FrameStream, Options, StreamSource,
    StreamState,
};
use frameseek_core::hls::playlist::VariantPrefs;
use frameseek_core::hls::timeline::hls_media_info;
use frameseek_core::{
    plan_frame_where, plan_frames_where, CodecConfig, FramePlan, MediaInfo, PlanOptions,
    TrackIndex, TrackKind,
};
use js_sys::{Array, Float64Array, Object, Promise, Reflect, Uint32Array, Uint8Array};
use source::{Segment, Source};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::VideoFrame;

/// Audio samples returned by one `audioChunks` call at most.
const MAX_AUDIO_SAMPLES: usize = 2048;
/// How many earlier segments a GOP may start in (segments cut by time in a long GOP).
const JOIN_BACK_MAX: usize = 8;

fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &k.into(), &v.into());
}

struct Inner {
    source: Rc<Source>,
    info: MediaInfo,
    hardware: Option<String>,
    /// The audio track's `description` (AudioSpecificConfig), from the first segment read.
    audio_description: Option<Vec<u8>>,
    /// One decoder per codec configuration met (a discontinuity may change it).
    decoders: RefCell<Vec<(CodecConfig, Rc<Decoder>)>>,
}

impl StreamSource for Inner {
    fn notify(&self) -> &Notify {
        &self.source.notify
    }

    fn closed(&self) -> bool {
        self.source.closed.get()
    }
}

impl Inner {
    fn decoder_for(&self, codec: &CodecConfig) -> Rc<Decoder> {
        let mut decoders = self.decoders.borrow_mut();
        if let Some((_, d)) = decoders.iter().find(|(c, _)| c == codec) {
            return Rc::clone(d);
        }
        let d = Decoder::new(
            Ok(codec.clone()),
            self.hardware.clone(),
            Rc::clone(&self.source.notify),
        );
        decoders.push((codec.clone(), Rc::clone(&d)));
        d
    }

    /// A segment's video track index and the decoder for its codec configuration.
    fn video_of<'a>(&self, seg: &'a Segment) -> Result<(&'a TrackIndex, Rc<Decoder>)> {
        let track = seg
            .movie
            .video_track()
            .ok_or_else(|| Failure::new("no-track", "the segment has no video track"))?;
        let codec = track.codec.as_ref().map_err(|e| {
            Failure::new(
                "unsupported-codec",
                format!(
                    "segment {}: cannot read the video codec configuration: {e}",
                    seg.sequence
                ),
            )
        })?;
        Ok((&track.index, self.decoder_for(codec)))
    }

    fn check_open(&self) -> Result<()> {
        if self.source.closed.get() {
            return Err(Failure::new("closed", "the video was closed"));
        }
        Ok(())
    }

    /// Checks a frame number against the frames the playlist holds now.
    fn frame_number(&self, k: f64) -> Result<u64> {
        self.check_open()?;
        if !(k.is_finite() && k >= 0.0 && k.fract() == 0.0) {
            return Err(Failure::new(
                "out-of-range",
                "a frame index must be a non-negative integer",
            ));
        }
        let range = self.source.timeline.borrow().frame_range();
        let k = k as u64;
        if k >= range.end {
            return Err(Failure::new(
                "out-of-range",
                format!(
                    "frame {k} out of range (the playlist has {} frames{})",
                    range.end,
                    if self.is_live() { " so far" } else { "" }
                ),
            ));
        }
        if k < range.start {
            return Err(Failure::new(
                "out-of-range",
                format!(
                    "frame {k} has left the live window (frames {}..{} remain)",
                    range.start, range.end
                ),
            ));
        }
        Ok(k)
    }

    fn is_live(&self) -> bool {
        self.source.timeline.borrow().is_live()
    }

    /// One past the last frame of an ended playlist, reading its last segment if need be
    /// (`None` for a live playlist).
    async fn last_frame_end(&self) -> Result<Option<u64>> {
        let (count, live) = {
            let tl = self.source.timeline.borrow();
            (tl.segments().len(), tl.is_live())
        };
        if live || count == 0 {
            return Ok(None);
        }
        if self.source.timeline.borrow().end_frame().is_none() {
            self.source.segment(count - 1).await?;
        }
        Ok(self.source.timeline.borrow().end_frame())
    }

    /// The segment that holds frame `k` and the frame's index in it: the playlist's times
    /// give a first guess, the segment's own timestamps the answer. A number with no frame of
    /// its own (a dropped frame, a gap between segments) gets the frame on screen then; one
    /// before the first frame is out of range, and one past the last frame of the stream
    /// (the newest, for a live playlist) is [`Located::PastEnd`].
    async fn locate(&self, k: u64) -> Result<Located> {
        let count = self.source.timeline.borrow().segments().len();
        let mut pos = self
            .source
            .timeline
            .borrow()
            .segment_for_frame(k)
            .ok_or_else(|| {
                Failure::new("out-of-range", format!("frame {k} is not in the playlist"))
            })?;
        let mut dir = 0i32;
        for _ in 0..8 {
            let seg = self.source.segment(pos).await?;
            let (Some(&first), Some(&last)) = (seg.frames.first(), seg.frames.last()) else {
                return Err(Failure::new(
                    "no-track",
                    format!("segment {} has no video frames", seg.sequence),
                ));
            };
            if k < first && pos > 0 && dir <= 0 {
                pos -= 1;
                dir = -1;
                continue;
            }
            if k > last && pos + 1 < count && dir >= 0 {
                let next = self.source.segment(pos + 1).await?;
                if next.frames.first().is_some_and(|&f| f <= k) {
                    pos += 1;
                    dir = 1;
                    continue;
                }
            }
            if k < first && pos == 0 {
                return Err(Failure::new(
                    "out-of-range",
                    format!("frame {k} comes before the stream's first frame ({first})"),
                ));
            }
            if k > last && pos + 1 >= count {
                let (what, more) = if self.is_live() {
                    ("the newest frame", "")
                } else {
                    ("the last frame", "; the playlist's durations promised more")
                };
                return Ok(Located::PastEnd(Failure::new(
                    "out-of-range",
                    format!("frame {k} out of range: {what} of the stream is {last}{more}"),
                )));
            }
            let j = seg.local_frame(k);
            return Ok(Located::At(seg, j));
        }
        Err(Failure::new(
            "invalid",
            format!("frame {k}: the segments' timestamps disagree with the playlist"),
        ))
    }
}

/// Where [`Inner::locate`] found a frame number.
enum Located {
    /// In this segment, at this local frame index (presentation order).
    At(Rc<Segment>, usize),
    /// After the last frame of the stream's last segment: the error for `frameAt`, the end
    /// for `frames()` (the playlist's durations promised more than the segments hold).
    PastEnd(Failure),
}

/// An open HLS stream (wrapped by `web/src/index.js` as the public `Video`).
#[wasm_bindgen]
pub struct HlsVideo {
    inner: Rc<Inner>,
}

/// Opens an HLS playlist URL (absolute): loads the playlists and the first segment (for a
/// live playlist, the newest), which tells the codec and the frame rate. Resolves to an
/// [`HlsVideo`].
#[wasm_bindgen(js_name = openHls)]
pub fn open_hls(url: String, opts: JsValue) -> Promise {
    let prefs = VariantPrefs {
        index: get_u64(&opts, "variant").map(|v| v as usize),
        max_height: get_u64(&opts, "maxHeight").map(|v| v as u32),
        max_width: get_u64(&opts, "maxWidth").map(|v| v as u32),
        max_bandwidth: get_u64(&opts, "maxBandwidth"),
        codecs: get(&opts, "codecs")
            .filter(js_sys::Array::is_array)
            .map(|a| {
                Array::from(&a)
                    .iter()
                    .filter_map(|v| v.as_string())
                    .collect()
            }),
    };
    let opts = Options::parse(url, &opts);
    promise(async move {
        match open(opts, prefs).await {
            Ok(inner) => Ok(HlsVideo {
                inner: Rc::new(inner),
            }
            .into()),
            Err(e) => Err(e.to_js()),
        }
    })
}

async fn open(opts: Options, prefs: VariantPrefs) -> Result<Inner> {
    let target = Target {
        url: opts.target.url.clone(),
        headers: opts.target.headers.clone(),
        credentials: opts.target.credentials.clone(),
    };
    let source = Source::open(target, opts.reader.retries, opts.reader.cache_bytes, &prefs).await?;
    let r = first_segment(&source).await;
    let seg = match r {
        Ok(s) => s,
        Err(e) => {
            source.close();
            return Err(e);
        }
    };
    let info = {
        let media = frameseek_core::hls::segment::SegmentMedia {
            format: seg.format,
            movie: seg.movie.clone(),
            data: Vec::new(),
        };
        hls_media_info(&media, &source.timeline.borrow())
    };
    let audio_description = seg
        .movie
        .audio_track()
        .and_then(|t| t.codec.as_ref().ok())
        .and_then(|c| c.description.clone());
    let inner = Inner {
        source,
        info,
        hardware: opts.hardware,
        audio_description,
        decoders: RefCell::default(),
    };
    // Start the support check now, so that the decoder is ready for the first frame.
    if let Some(Ok(codec)) = seg.movie.video_track().map(|t| &t.codec) {
        inner.decoder_for(codec);
    }
    Ok(inner)
}

/// Reads the segment that describes the stream: the first, or for a live playlist the last.
async fn first_segment(source: &Rc<Source>) -> Result<Rc<Segment>> {
    let (count, live) = {
        let tl = source.timeline.borrow();
        (tl.segments().len(), tl.is_live())
    };
    if count == 0 {
        return Err(Failure::new(
            "invalid",
            "the live playlist lists no segments yet",
        ));
    }
    let pos = if live { count - 1 } else { 0 };
    let seg = source.segment(pos).await?;
    if seg.movie.video_track().is_none() {
        return Err(Failure::new(
            "no-track",
            "the HLS stream has no video track",
        ));
    }
    Ok(seg)
}

/// Plans frames `numbers` of `seg` with `plan` (given the video index, the frames' local
/// indices and where a decoder can start). When a plan would start where no decoder can (the
/// segment's first frames continue a GOP from an earlier segment), or when `alone` is false
/// (`numbers` lie in `seg` and the segments before it), plans on the segment joined with the
/// earlier ones that GOP runs through ([`Source::joined`], at most [`JOIN_BACK_MAX`] back).
/// Returns the segment planned on and the plans.
async fn plan_decodable<P>(
    inner: &Rc<Inner>,
    seg: Rc<Segment>,
    alone: bool,
    numbers: &[u64],
    plan: impl Fn(&TrackIndex, &[usize], &dyn Fn(usize) -> Option<bool>) -> Result<Vec<P>>,
    run_first: impl Fn(&P) -> usize,
) -> Result<(Rc<Segment>, Vec<P>)> {
    let plan_on = |seg: &Segment| -> Result<Option<Vec<P>>> {
        let (index, _) = inner.video_of(seg)?;
        let local: Vec<usize> = numbers.iter().map(|&k| seg.local_frame(k)).collect();
        let is_start = |i: usize| seg.is_decoder_start(i);
        let plans = plan(index, &local, &is_start)?;
        let startable = plans.iter().all(|p| seg.can_start(run_first(p)));
        Ok(startable.then_some(plans))
    };
    if alone {
        if let Some(plans) = plan_on(&seg)? {
            return Ok((seg, plans));
        }
    }
    let joined = inner.source.joined(seg.sequence, JOIN_BACK_MAX).await?;
    let covered = joined
        .frames
        .first()
        .is_some_and(|f| numbers.iter().all(|n| n >= f));
    if covered {
        if let Some(plans) = plan_on(&joined)? {
            return Ok((joined, plans));
        }
    }
    Err(Failure::new(
        "unsupported",
        format!(
            "segment {}: no frame a decoder can start at (an IDR) before the frame asked for",
            seg.sequence
        ),
    ))
}

/// Plans frame number `k` alone: the segment (joined with earlier ones when its GOP starts
/// there) and the decode pass.
async fn plan_one(inner: &Rc<Inner>, k: u64) -> Result<(Rc<Segment>, FramePlan)> {
    let seg = match inner.locate(k).await? {
        Located::At(seg, _) => seg,
        Located::PastEnd(f) => return Err(f),
    };
    let (seg, plans) = plan_decodable(
        inner,
        seg,
        true,
        &[k],
        |index, local, is_start| {
            Ok(vec![plan_frame_where(
                index,
                local[0],
                &PlanOptions::default(),
                is_start,
            )?])
        },
        |p| p.run.first,
    )
    .await?;
    let plan = plans
        .into_iter()
        .next()
        .ok_or_else(|| Failure::new("decode", format!("no plan for frame {k}")))?;
    Ok((seg, plan))
}

async fn frame_at(inner: Rc<Inner>, k: f64) -> Result<VideoFrame> {
    let k = inner.frame_number(k)?;
    let (seg, plan) = plan_one(&inner, k).await?;
    let (index, decoder) = inner.video_of(&seg)?;
    let sink = Rc::new(Sink::default());
    sink.want(micros(plan.pts, index.timescale()), k as usize);
    decoder
        .run(&seg.reader, index, plan.run, &sink, usize::MAX, &|| false)
        .await?;
    sink.take_frame(k as usize)
        .ok_or_else(|| Failure::new("decode", format!("the decoder did not output frame {k}")))
}

/// Decodes `frames` (frame numbers, ascending) in order into `sink`: segment by segment, one
/// decode pass per GOP, the next segment fetched while this one decodes. Where segments are
/// cut inside GOPs, the segments that continue a GOP are joined and decoded in one pass. With
/// `more_every` (`(start, step)` of a `frames()` whose end reached the frame count), the
/// frames the last segment holds past the playlist's estimate follow at that step.
async fn stream_frames(
    inner: &Rc<Inner>,
    mut frames: Vec<usize>,
    more_every: Option<(usize, usize)>,
    sink: &Rc<Sink>,
    state: &StreamState,
    ahead: usize,
    last_pass: bool,
) -> Result<()> {
    let stop = || state.stopped.get() || inner.source.closed.get();
    // A step backwards (`last_pass`): only the frames of the last one's decode pass, from the
    // frame its decoder starts at (a pass reaching into the GOP before would decode all of
    // that GOP's frames up to them).
    if let (true, Some(&last)) = (last_pass, frames.last()) {
        let (seg, plan) = plan_one(inner, inner.frame_number(last as f64)?).await?;
        let (index, _) = inner.video_of(&seg)?;
        if let Some(&first) = index
            .sample_frame(plan.run.first)
            .and_then(|l| seg.frames.get(l))
        {
            frames.retain(|&f| f as u64 >= first);
        }
    }
    let mut at = 0;
    // Seen a segment whose first frames continue a GOP from an earlier one.
    let mut cut_in_gops = false;
    loop {
        if at == frames.len() {
            let Some((next, step)) = more_every else {
                break;
            };
            let next = frames.last().map_or(Some(next), |l| l.checked_add(step));
            let Some(next) = next else {
                break;
            };
            let Some(end) = inner.last_frame_end().await? else {
                break;
            };
            frames.extend((next..end as usize).step_by(step));
            if at == frames.len() {
                break;
            }
        }
        if stop() {
            break;
        }
        // The playlist's durations may promise more frames than the last segment holds: once
        // it is read, the range is exact and the stream ends with the last frame.
        let end = inner.source.timeline.borrow().end_frame();
        if end.is_some_and(|end| frames[at] as u64 >= end) {
            break;
        }
        let k = inner.frame_number(frames[at] as f64)?;
        let (seg, j) = match inner.locate(k).await? {
            Located::At(seg, j) => (seg, j),
            Located::PastEnd(_) => break,
        };
        let last = seg.frames.last().copied().unwrap_or(k);
        // Every wanted frame in this segment as (local index, frame number): `k`, which
        // `locate` placed here, and those after it up to the segment's last frame. Numbers
        // with no frame of their own share the frame on screen.
        let mut local: Vec<(usize, usize)> = vec![(j, frames[at])];
        at += 1;
        while let Some(&f) = frames.get(at) {
            if f as u64 > last {
                break;
            }
            local.push((seg.local_frame(f as u64), f));
            at += 1;
        }
        if let Some(pos) = inner.source.timeline.borrow().position(seg.sequence) {
            if at < frames.len() {
                inner.source.prefetch(pos + 1);
            }
        }
        // Segments cut inside GOPs: the wanted frames of the next segments that continue this
        // GOP (up to one that starts a GOP) join this pass, so that the GOP decodes once
        // rather than again from its start for each segment. They are read before the pass:
        // once the first of them is in, the rest that may hold wanted frames all at once (at
        // most a join's worth).
        if !seg.can_start(0) {
            // Its GOP starts in an earlier segment: fetch those now, alongside the segments
            // after it that the join below waits for.
            cut_in_gops = true;
            inner.source.prefetch_back(seg.sequence, JOIN_BACK_MAX);
        }
        let (seg_end, mut tail) = (at, Rc::clone(&seg));
        while cut_in_gops && tail.sequence - seg.sequence < JOIN_BACK_MAX as u64 {
            let Some(&f) = frames.get(at) else {
                break;
            };
            // (A segment it cannot read or a frame it cannot place, say past a live window's
            // end, ends the join: the loop above meets it again and answers for it.)
            let next = match inner.locate(f as u64).await {
                Ok(Located::At(next, _)) if next.sequence == tail.sequence + 1 => next,
                _ => break,
            };
            if next.can_start(0) {
                break;
            }
            let last = next.frames.last().copied().unwrap_or(0);
            while frames.get(at).is_some_and(|&f| f as u64 <= last) {
                at += 1;
            }
            if Rc::ptr_eq(&tail, &seg) {
                let tl = inner.source.timeline.borrow();
                let wanted_last = frames.last().and_then(|&f| tl.segment_for_frame(f as u64));
                if let (Some(pos), Some(last)) = (tl.position(seg.sequence), wanted_last) {
                    for p in pos + 2..=last.min(pos + JOIN_BACK_MAX) {
                        inner.source.prefetch(p);
                    }
                }
            }
            tail = next;
            if tail.last_decoder_start().is_some() {
                break;
            }
        }
        let plan =
            |index: &TrackIndex, local: &[usize], is_start: &dyn Fn(usize) -> Option<bool>| {
                let mut wanted = local.to_vec();
                wanted.dedup();
                Ok(plan_frames_where(
                    index,
                    &wanted,
                    &PlanOptions::default(),
                    is_start,
                )?)
            };
        let mut numbers: Vec<u64> = local.iter().map(|l| l.1 as u64).collect();
        let mut planned = None;
        if at > seg_end {
            let mut joined = numbers.clone();
            joined.extend(frames[seg_end..at].iter().map(|&f| f as u64));
            match plan_decodable(inner, tail, false, &joined, &plan, |p| p.run.first).await {
                Ok(p) => {
                    planned = Some(p);
                    numbers = joined;
                }
                // A GOP further back than a join reaches: segment by segment, as below.
                Err(_) => at = seg_end,
            }
        }
        let planned = match planned {
            Some(p) => p,
            None => {
                plan_decodable(inner, Rc::clone(&seg), true, &numbers, &plan, |p| {
                    p.run.first
                })
                .await?
            }
        };
        let (seg, plans) = if Rc::ptr_eq(&planned.0, &seg) {
            planned
        } else {
            // Joined with earlier segments: the same frames at their places in the join.
            local = numbers
                .iter()
                .map(|&n| (planned.0.local_frame(n), n as usize))
                .collect();
            planned
        };
        let (index, decoder) = inner.video_of(&seg)?;
        for plan in plans {
            if stop() {
                break;
            }
            let frames: Vec<(usize, usize)> = local
                .iter()
                .filter(|l| plan.frames.contains(&l.0))
                .copied()
                .collect();
            decode_pass(
                &decoder,
                &seg.reader,
                index,
                plan.run,
                &frames,
                sink,
                ahead,
                &stop,
            )
            .await?;
        }
    }
    Ok(())
}

#[wasm_bindgen]
impl HlsVideo {
    /// The probe summary, plus `live` and `hls: { url, variant, variants, targetDuration,
    /// segments }`.
    #[wasm_bindgen(getter)]
    pub fn info(&self) -> Object {
        let o = crate::info::to_object(&self.inner.info);
        let source = &self.inner.source;
        let tl = source.timeline.borrow();
        let h = Object::new();
        set(&h, "url", source.chosen.media_url.as_str());
        if let Some((i, n, v)) = &source.chosen.variant {
            set(&h, "variant", *i as f64);
            set(&h, "variants", *n as f64);
            set(&h, "bandwidth", v.bandwidth as f64);
        }
        set(&h, "targetDuration", tl.playlist().target_duration as f64);
        set(&h, "segments", tl.segments().len() as f64);
        set(&o, "live", tl.is_live());
        set(&o, "hls", h);
        o
    }

    /// Whether the playlist may still grow (a live or event playlist without ENDLIST).
    #[wasm_bindgen(getter)]
    pub fn live(&self) -> bool {
        self.inner.is_live()
    }

    /// The frame numbers the playlist holds now, `[first, end)` (for a live playlist, the
    /// window: it moves as the playlist is reloaded).
    #[wasm_bindgen(js_name = frameRange)]
    pub fn frame_range(&self) -> Float64Array {
        let r = self.inner.source.timeline.borrow().frame_range();
        Float64Array::from(&[r.start as f64, r.end as f64][..])
    }

    /// The EXT-X-DATERANGE markers, `[{ id, time, duration?, label, class? }]`, times on the
    /// video's timeline (seconds; frame `k` is at `k / fps`).
    pub fn markers(&self) -> Array {
        let out = Array::new();
        for m in self.inner.source.timeline.borrow().markers() {
            let o = Object::new();
            set(&o, "id", m.id.as_str());
            set(&o, "time", m.time);
            if let Some(d) = m.duration {
                set(&o, "duration", d);
            }
            set(&o, "label", m.label.as_str());
            if let Some(c) = &m.class {
                set(&o, "class", c.as_str());
            }
            out.push(&o);
        }
        out
    }

    /// Frame `k` (counted across segments) as a `VideoFrame` in coded orientation.
    #[wasm_bindgen(js_name = frameAt)]
    pub fn frame_at(&self, k: f64) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise(async move {
            frame_at(inner, k)
                .await
                .map(JsValue::from)
                .map_err(|e| e.to_js())
        })
    }

    /// The number of the frame on screen at `seconds`.
    #[wasm_bindgen(js_name = frameIndexAtTime)]
    pub fn frame_index_at_time(&self, seconds: f64) -> std::result::Result<f64, JsValue> {
        self.inner
            .source
            .timeline
            .borrow()
            .frame_at_time(seconds)
            .map(|k| k as f64)
            .ok_or_else(|| Failure::new("out-of-range", "no frame at that time").to_js())
    }

    /// Frames `start, start+step, ...` below `end`, in order (see `Video.frames`); with
    /// `last_pass`, only those decoded in the last one's pass (a step backwards).
    pub fn frames(
        &self,
        start: f64,
        end: f64,
        step: f64,
        ahead: f64,
        last_pass: bool,
    ) -> std::result::Result<FrameStream, JsValue> {
        self.inner.check_open()?;
        let count = self.inner.source.timeline.borrow().frame_range().end as usize;
        let frames = frame_list(start, end, step, count)?;
        // Asked up to the count or beyond: on to the frames the last segment turns out to hold.
        let more_every =
            (!end.is_finite() || end >= count as f64).then_some((start as usize, step as usize));
        let ahead = ahead_bound(ahead);
        let state = Rc::new(StreamState::default());
        let sink = Rc::new(Sink::default());
        let task = (Rc::clone(&self.inner), Rc::clone(&sink), Rc::clone(&state));
        spawn(async move {
            let (inner, sink, state) = task;
            let r =
                stream_frames(&inner, frames, more_every, &sink, &state, ahead, last_pass).await;
            *state.result.borrow_mut() = Some(r);
            inner.source.notify.notify();
        });
        Ok(FrameStream::new(
            Rc::clone(&self.inner) as Rc<dyn StreamSource>,
            sink,
            state,
        ))
    }

    /// Counters since `open()`: `{ requests, bytesFetched, cacheHits, framesDecoded, retries,
    /// cachedBytes }`.
    pub fn stats(&self) -> Object {
        let c = self.inner.source.counters();
        let decoded: u64 = self
            .inner
            .decoders
            .borrow()
            .iter()
            .map(|(_, d)| d.frames_decoded())
            .sum();
        let o = Object::new();
        for (k, v) in [
            ("requests", c.requests),
            ("bytesFetched", c.bytes_fetched),
            ("cacheHits", c.cache_hits),
            ("framesDecoded", decoded),
            ("retries", c.retries),
            ("cachedBytes", self.inner.source.cached_bytes()),
        ] {
            set(&o, k, v as f64);
        }
        o
    }

    /// Presentation time in seconds of every frame up to the end of the playlist (frame `k`
    /// at `k / fps`; entries before a live window's start are kept so indices stay frames).
    #[wasm_bindgen(js_name = frameTimes)]
    pub fn frame_times(&self) -> Float64Array {
        let tl = self.inner.source.timeline.borrow();
        let v: Vec<f64> = (0..tl.frame_range().end)
            .map(|k| tl.frame_time(k))
            .collect();
        Float64Array::from(&v[..])
    }

    /// The first frame of each segment (segments start with a keyframe in HLS).
    #[wasm_bindgen(js_name = syncFrames)]
    pub fn sync_frames(&self) -> Uint32Array {
        let v: Vec<u32> = self
            .inner
            .source
            .timeline
            .borrow()
            .segment_start_frames()
            .into_iter()
            .map(|k| k as u32)
            .collect();
        Uint32Array::from(&v[..])
    }

    /// Time ranges (seconds, `[start0, end0, ...]`) of the segments in the cache.
    #[wasm_bindgen(js_name = bufferedRanges)]
    pub fn buffered_ranges(&self) -> Float64Array {
        let cached = self.inner.source.cached();
        let tl = self.inner.source.timeline.borrow();
        let mut out: Vec<f64> = Vec::new();
        for s in tl
            .segments()
            .iter()
            .filter(|s| cached.contains(&s.sequence))
        {
            let end = s.start + s.duration;
            match out.last_mut() {
                Some(last) if (*last - s.start).abs() < 1e-6 => *last = end,
                _ => out.extend([s.start, end]),
            }
        }
        Float64Array::from(&out[..])
    }

    /// Starts fetching the segments that hold `[from, to]` seconds. Returns the number of
    /// frames in that span.
    #[wasm_bindgen(js_name = prefetchFrames)]
    pub fn prefetch_frames(&self, from: f64, to: f64) -> f64 {
        let source = &self.inner.source;
        let span = source.timeline.borrow().segments_between(from, to);
        for pos in span {
            source.prefetch(pos);
        }
        let fd = source.timeline.borrow().frame_duration();
        if fd > 0.0 && to >= from {
            ((to - from) / fd).floor() + 1.0
        } else {
            0.0
        }
    }

    /// The audio track's WebCodecs configuration (from the segments read so far), or
    /// `undefined` without audio.
    #[wasm_bindgen(js_name = audioConfig)]
    pub fn audio_config(&self) -> JsValue {
        let Some(track) = self
            .inner
            .info
            .tracks
            .iter()
            .find(|t| t.kind == TrackKind::Audio)
        else {
            return JsValue::UNDEFINED;
        };
        let o = Object::new();
        set(&o, "duration", self.inner.info.duration);
        set(&o, "sampleCount", track.frame_count as f64);
        set(&o, "codec", track.codec.as_str());
        if let Some(r) = track.sample_rate {
            set(&o, "sampleRate", r);
        }
        if let Some(c) = track.channels {
            set(&o, "numberOfChannels", c);
        }
        if let Some(d) = &self.inner.audio_description {
            set(&o, "description", Uint8Array::from(&d[..]));
        }
        o.into()
    }

    /// The audio samples presented in `[from, to)` seconds of the timeline, in order (see
    /// `Video.audioChunks`).
    #[wasm_bindgen(js_name = audioChunks)]
    pub fn audio_chunks(&self, from: f64, to: f64) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise(async move {
            audio_chunks(&inner, from, to)
                .await
                .map(JsValue::from)
                .map_err(|e| e.to_js())
        })
    }

    /// Stops live reloads and fetches and releases the decoders; later calls fail with code
    /// `closed`.
    pub fn close(&self) {
        self.inner.source.close();
        for (_, d) in self.inner.decoders.borrow().iter() {
            d.close();
        }
    }
}

async fn audio_chunks(inner: &Rc<Inner>, from: f64, to: f64) -> Result<Object> {
    inner.check_open()?;
    if from.is_nan() || to.is_nan() {
        return Err(Failure::new(
            "usage",
            "audioChunks(): times must be numbers",
        ));
    }
    let source = &inner.source;
    let mut data = Vec::new();
    let (mut sizes, mut times, mut durations) = (Vec::new(), Vec::new(), Vec::new());
    let mut next = to;
    let span = source.timeline.borrow().segments_between(from, to);
    for pos in span.clone() {
        if pos + 1 < span.end {
            source.prefetch(pos + 1);
        }
        let seg = source.segment(pos).await?;
        let Some(track) = seg.movie.audio_track() else {
            continue;
        };
        let index = &track.index;
        let ts = f64::from(index.timescale().max(1));
        for s in index.samples() {
            let t = s.pts as f64 / ts + seg.offset;
            if t < from || t >= to {
                continue;
            }
            if sizes.len() >= MAX_AUDIO_SAMPLES {
                next = t;
                break;
            }
            let end = s.offset + u64::from(s.size);
            seg.reader
                .with_bytes(s.offset, end, |b| data.extend_from_slice(b))
                .ok_or_else(|| {
                    Failure::new("invalid", "an audio sample lies outside its segment")
                })?;
            sizes.push(s.size);
            times.push((t * 1e6).round());
            durations.push(micros(i64::from(s.duration), index.timescale()) as f64);
        }
        if sizes.len() >= MAX_AUDIO_SAMPLES {
            break;
        }
    }
    let o = Object::new();
    set(&o, "data", Uint8Array::from(&data[..]));
    set(&o, "sizes", Uint32Array::from(&sizes[..]));
    set(&o, "timestamps", Float64Array::from(&times[..]));
    set(&o, "durations", Float64Array::from(&durations[..]));
    set(&o, "next", next);
    Ok(o)
}
