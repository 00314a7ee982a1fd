//! The frame access API behind `open(url)`: reads the movie header through the range reader,
//! then serves exact presentation-order frames as in-order frame streams (`frames`; index.js
//! makes `frameAt` a one-frame stream) by planning byte ranges with frameseek-core and
//! decoding them with WebCodecs.

use crate::cache::Loading;
use crate::decoder::{micros, Decoder, Sink};
use crate::error::{Failure, Result};
use crate::fetch::Target;
use crate::notify::Notify;
use crate::reader::{Reader, ReaderOptions};
use crate::task::promise;
use frameseek_core::codec::is_decoder_start;
use frameseek_core::text;
use frameseek_core::{
    plan::run_ranges, plan_frames_where, ByteRange, DecodeRun, GopPlan, MediaInfo, Movie,
    Mp4Reader, Need, PlanOptions, TrackIndex,
};
use js_sys::{Object, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Default bound of the first request (`headBytes`): the moov of about half an hour of 30 fps
/// video. The read does not run to the bound unless its bytes are wanted: it is cancelled as
/// soon as the header shows the moov lies elsewhere, and otherwise cut by the first frame
/// request (kept only as far as that frame's bytes, which follow a leading moov).
const HEAD_BYTES: u64 = 1 << 20;
/// Default bound on frames a `frames()` stream holds for its consumer.
const AHEAD: usize = 3;

/// `open()` options, read from the JavaScript object (see `web/src/index.d.ts`).
pub(crate) struct Options {
    pub(crate) target: Target,
    pub(crate) reader: ReaderOptions,
    head_bytes: u64,
    /// `fromStart`: the first request reads on into the media data (see `Inner::trim_head`).
    /// The player's module only: the plain module's size budget.
    #[cfg(feature = "player")]
    from_start: bool,
    pub(crate) hardware: Option<String>,
}

pub(crate) fn get(opts: &JsValue, key: &str) -> Option<JsValue> {
    if !opts.is_object() {
        return None;
    }
    Reflect::get(opts, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

pub(crate) fn get_u64(opts: &JsValue, key: &str) -> Option<u64> {
    get(opts, key)
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64)
}

impl Options {
    pub(crate) fn parse(url: String, opts: &JsValue) -> Self {
        let defaults = ReaderOptions::default();
        Self {
            target: Target {
                url,
                headers: get(opts, "headers"),
                credentials: get(opts, "credentials").and_then(|v| v.as_string()),
            },
            reader: ReaderOptions {
                cache_bytes: get_u64(opts, "cacheBytes").unwrap_or(defaults.cache_bytes),
                retries: get_u64(opts, "retries").map_or(defaults.retries, |r| r.min(20) as u32),
                whole_file_max: get_u64(opts, "wholeFileMax").unwrap_or(defaults.whole_file_max),
            },
            head_bytes: get_u64(opts, "headBytes").unwrap_or(HEAD_BYTES).max(64),
            #[cfg(feature = "player")]
            from_start: get(opts, "fromStart").and_then(|v| v.as_bool()) == Some(true),
            hardware: get(opts, "hardwareAcceleration").and_then(|v| v.as_string()),
        }
    }
}

struct Inner {
    reader: Rc<Reader>,
    notify: Rc<Notify>,
    movie: Movie,
    info: MediaInfo,
    /// Position of the main video track in `movie.tracks` and its decoder.
    video: Option<(usize, Rc<Decoder>)>,
    /// Sync samples known to be (or not to be) places a decoder can start at.
    starts: RefCell<Vec<(usize, bool)>>,
    /// The header requests still streaming when `open()` finished.
    head: RefCell<Vec<Loading>>,
    /// `fromStart`: the first request is not cut while it carries the first frame's bytes.
    #[cfg(feature = "player")]
    from_start: bool,
    closed: Cell<bool>,
}

impl Inner {
    fn video(&self) -> Result<(&TrackIndex, &Rc<Decoder>)> {
        if self.closed.get() {
            return Err(Failure::new("closed", "the video was closed"));
        }
        match &self.video {
            Some((i, d)) => match self.movie.tracks.get(*i) {
                Some(t) => Ok((&t.index, d)),
                None => Err(Failure::new("no-track", "no video track")),
            },
            None => Err(Failure::new("no-track", "the file has no video track")),
        }
    }

    /// Cuts the requests that read the header down to the bytes of `ranges` (the first frame
    /// request's, whose decoding starts at sample `first`), or cancels them when they hold
    /// none of those bytes. With `fromStart`, the first request carrying those bytes reads on
    /// through the GOP of `first`, which playback decodes next.
    fn trim_head(&self, ranges: &[ByteRange], first: usize) {
        for l in self.head.take() {
            #[cfg(feature = "player")]
            if let (true, 0, Ok((index, _))) = (self.from_start, l.start, self.video()) {
                if ranges.iter().any(|r| r.start < l.end) {
                    let end = index.gop_end(first);
                    self.reader.trim(&l, &[ByteRange { start: 0, end }]);
                    continue;
                }
            }
            self.reader.trim(&l, ranges);
        }
        #[cfg(not(feature = "player"))]
        let _ = first;
    }

    /// Whether decoding may start at sync sample `i`, if its bytes have been seen.
    fn known_start(&self, i: usize) -> Option<bool> {
        self.starts.borrow().iter().find(|s| s.0 == i).map(|s| s.1)
    }

    /// Learns from its bytes whether decoding may start at sync sample `i` (WebCodecs starts
    /// H.264/HEVC only at IDR/IRAP pictures; an open GOP's recovery-point I-frame is not one).
    /// Returns true when the answer is yes or cannot be known.
    async fn check_start(&self, i: usize) -> Result<bool> {
        if i == 0 {
            return Ok(true);
        }
        if let Some(v) = self.known_start(i) {
            return Ok(v);
        }
        let (index, _) = self.video()?;
        let Some(Ok(codec)) = self
            .video
            .as_ref()
            .and_then(|(t, _)| self.movie.tracks.get(*t))
            .map(|t| &t.codec)
        else {
            return Ok(true);
        };
        let Some(s) = index.sample(i) else {
            return Ok(true);
        };
        let end = s.offset.saturating_add(u64::from(s.size));
        self.reader.wait(s.offset, end, end).await?;
        let v = self
            .reader
            .with_bytes(s.offset, end, |b| is_decoder_start(codec, b))
            .flatten()
            .unwrap_or(true);
        self.starts.borrow_mut().push((i, v));
        Ok(v)
    }

    /// Plans decode passes for `frames`, each from a sync sample the decoder can start at.
    fn plan_frames(&self, frames: &[usize]) -> Result<Vec<GopPlan>> {
        let (index, _) = self.video()?;
        Ok(plan_frames_where(
            index,
            frames,
            &PlanOptions::default(),
            &|i| self.known_start(i),
        )?)
    }
}

/// The frames `start, start+step, ...` below `end` (clamped to `count`) that `frames()` asks
/// for; a usage error for a start or step that is not a whole number.
pub(crate) fn frame_list(
    start: f64,
    end: f64,
    step: f64,
    count: usize,
) -> std::result::Result<Vec<usize>, JsValue> {
    let end = if end.is_finite() {
        end.min(count as f64)
    } else {
        count as f64
    };
    let ok = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0;
    if !(ok(start) && ok(step) && step >= 1.0) {
        return Err(Failure::new(
            "usage",
            "frames(): start must be an integer >= 0 and step an integer >= 1",
        )
        .to_js());
    }
    Ok(if start < end {
        (start as usize..end.max(0.0) as usize)
            .step_by(step as usize)
            .collect()
    } else {
        Vec::new()
    })
}

/// The `ahead` option of `frames()`: how many decoded frames a stream may hold.
pub(crate) fn ahead_bound(ahead: f64) -> usize {
    if ahead.is_finite() && ahead >= 1.0 {
        ahead as usize
    } else {
        AHEAD
    }
}

/// An open video (wrapped by `web/src/index.js` as the public `Video`).
#[wasm_bindgen]
pub struct Video {
    inner: Rc<Inner>,
}

/// Opens `url`: reads the movie header with bounded range requests and checks in the
/// background that the browser can decode the video. Resolves to a [`Video`].
#[wasm_bindgen(js_name = openVideo)]
pub fn open_video(url: String, opts: JsValue) -> Promise {
    let opts = Options::parse(url, &opts);
    promise(async move {
        match open(opts).await {
            Ok(inner) => Ok(Video {
                inner: Rc::new(inner),
            }
            .into()),
            Err(e) => Err(e.to_js()),
        }
    })
}

async fn open(opts: Options) -> Result<Inner> {
    let notify = Rc::new(Notify::default());
    let reader = Reader::new(opts.target.clone(), opts.reader, Rc::clone(&notify));
    reader.fetch(0, opts.head_bytes);
    #[cfg(feature = "player")]
    let r = if opts.from_start {
        read_header::<true>(&reader).await
    } else {
        read_header::<false>(&reader).await
    };
    #[cfg(not(feature = "player"))]
    let r = read_header::<false>(&reader).await;
    if r.is_err() {
        reader.close();
    }
    let movie = r?;
    // The first request may still be streaming the start of the media data: the first frame
    // request decides how much of it to keep (see `Inner::trim_head`).
    let head = reader.loading();
    let info = MediaInfo::from_movie(&movie);
    let video = movie.video_track().and_then(|vt| {
        let pos = movie.tracks.iter().position(|t| std::ptr::eq(t, vt))?;
        let codec = vt.codec.clone().map_err(|e| {
            Failure::new(
                "unsupported-codec",
                text!["cannot read the video codec configuration: ", e.message()],
            )
        });
        Some((
            pos,
            Decoder::new(codec, opts.hardware.clone(), Rc::clone(&notify)),
        ))
    });
    Ok(Inner {
        reader,
        notify,
        movie,
        info,
        video,
        starts: RefCell::default(),
        head: RefCell::new(head),
        #[cfg(feature = "player")]
        from_start: opts.from_start,
        closed: Cell::new(false),
    })
}

/// Drives core's incremental MP4 reader with the bytes it asks for. A request that ends before
/// the bytes it needs is cancelled, except the first one with `FROM_START` (`fromStart`): it
/// carries the start of the media data, which the first frame will need, while a moov at the
/// end is read.
async fn read_header<const FROM_START: bool>(reader: &Rc<Reader>) -> Result<Movie> {
    let size = reader.wait_size().await?;
    let mut mp4 = Mp4Reader::new(size);
    let mut last = None;
    while let Need::Bytes {
        range,
        prefetch_end,
    } = mp4.need()
    {
        // A request that ends before the needed bytes cannot help any more.
        for l in reader.loading() {
            if l.end <= range.start && !(FROM_START && l.start == 0) {
                reader.abort(&l);
            }
        }
        reader.wait(range.start, range.end, prefetch_end).await?;
        let end = reader.available_end(range.start);
        if last == Some((range, end)) {
            return Err(Failure::new(
                "invalid",
                text!["the MP4 reader made no progress at byte ", range.start],
            ));
        }
        last = Some((range, end));
        reader
            .with_bytes(range.start, end, |bytes| mp4.push(range.start, bytes))
            .ok_or_else(|| Failure::new("usage", "header bytes left the cache"))??;
    }
    Ok(mp4.finish()?)
}

#[wasm_bindgen]
impl Video {
    /// The probe summary (core's `MediaInfo`) as a plain object.
    #[wasm_bindgen(getter)]
    pub fn info(&self) -> Object {
        crate::info::to_object(&self.inner.info)
    }

    /// Waits for the decoder support check: resolves to `null` when the browser can decode
    /// the video track, else to the `Error` a frame request would fail with (code
    /// `unsupported-codec` when `isConfigSupported` said no).
    #[wasm_bindgen(js_name = decodeError)]
    pub fn decode_error(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise(async move {
            let r = match inner.video() {
                Ok((_, decoder)) => decoder.ready().await,
                Err(e) => Err(e),
            };
            Ok(r.err().map_or(JsValue::NULL, |e| e.to_js()))
        })
    }

    /// The index of the frame on screen at `seconds`.
    #[wasm_bindgen(js_name = frameIndexAtTime)]
    pub fn frame_index_at_time(&self, seconds: f64) -> std::result::Result<f64, JsValue> {
        let (index, _) = self.inner.video()?;
        index
            .frame_at_time(seconds)
            .map(|k| k as f64)
            .ok_or_else(|| Failure::new("out-of-range", "no frame at that time").to_js())
    }

    /// Frames `start, start+step, ...` below `end`, in order, through a [`FrameStream`] that
    /// holds at most `ahead` decoded frames for its consumer (`frames(k, k + 1, 1, 1)` is
    /// `frameAt(k)`). [`FrameStream::until`] gives it a soft end.
    pub fn frames(
        &self,
        start: f64,
        end: f64,
        step: f64,
        ahead: f64,
        last_pass: bool,
    ) -> std::result::Result<FrameStream, JsValue> {
        let (index, _) = self.inner.video()?;
        let frames = frame_list(start, end, step, index.frame_count())?;
        let ahead = ahead_bound(ahead);
        let state = Rc::new(StreamState::default());
        let sink = Rc::new(Sink::default());
        let task = (Rc::clone(&self.inner), Rc::clone(&sink), Rc::clone(&state));
        crate::task::spawn(async move {
            let (inner, sink, state) = task;
            let r = stream_frames(&inner, &frames, &sink, &state, ahead, last_pass).await;
            *state.result.borrow_mut() = Some(r);
            inner.notify.notify();
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
        let s = self.inner.reader.stats();
        let decoded = self
            .inner
            .video
            .as_ref()
            .map_or(0, |(_, d)| d.frames_decoded());
        let o = Object::new();
        for (k, v) in [
            ("requests", s.requests),
            ("bytesFetched", s.bytes_fetched),
            ("cacheHits", s.cache_hits),
            ("framesDecoded", decoded),
            ("retries", s.retries),
            ("cachedBytes", self.inner.reader.cached_bytes()),
        ] {
            let _ = Reflect::set(&o, &k.into(), &(v as f64).into());
        }
        o
    }

    /// Cancels fetches and releases the decoder; later calls fail with code `closed`.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.reader.close();
        if let Some((_, decoder)) = &self.inner.video {
            decoder.close();
        }
        self.inner.notify.notify();
    }
}

/// What a [`FrameStream`]'s producer task and consumer share.
#[derive(Default)]
pub(crate) struct StreamState {
    /// The consumer closed the stream.
    pub(crate) stopped: Cell<bool>,
    /// The producer's result once it ended.
    pub(crate) result: RefCell<Option<Result<()>>>,
}

/// The video a [`FrameStream`] reads from (an MP4 file or an HLS playlist).
pub(crate) trait StreamSource {
    /// Signalled when frames come out or the producer ends.
    fn notify(&self) -> &Notify;
    /// Whether the video was closed.
    fn closed(&self) -> bool;
}

impl StreamSource for Inner {
    fn notify(&self) -> &Notify {
        &self.notify
    }

    fn closed(&self) -> bool {
        self.closed.get()
    }
}

async fn stream_frames(
    inner: &Rc<Inner>,
    frames: &[usize],
    sink: &Rc<Sink>,
    state: &StreamState,
    ahead: usize,
    last_pass: bool,
) -> Result<()> {
    let (index, decoder) = inner.video()?;
    let mut plans = inner.plan_frames(frames)?;
    // A step backwards (`last_pass`) decodes only the pass of the last frame asked for.
    let mut g = if last_pass {
        plans.len().saturating_sub(1)
    } else {
        0
    };
    // The bytes of a pass, or under a soft end those its frames before the end need.
    let ranges = |p: &GopPlan| -> Vec<ByteRange> {
        match sink.soft_end.get() {
            None => p.ranges.clone(),
            Some(e) => p
                .soft_run(index, e)
                .and_then(|run| run_ranges(index, run, &PlanOptions::default()).ok())
                .unwrap_or_default(),
        }
    };
    let first: Vec<ByteRange> = plans[g..].iter().take(2).flat_map(ranges).collect();
    inner.trim_head(&first, plans.get(g).map_or(usize::MAX, |p| p.run.first));
    let stop = || state.stopped.get() || inner.closed.get();
    while let Some(plan) = plans.get(g) {
        // Under a soft end, a pass starts once a later call asks for its frames.
        loop {
            let changed = inner.notify.changed();
            if stop() || sink.soft_end.get().is_none_or(|e| plan.frames[0] < e) {
                break;
            }
            changed.await;
        }
        if stop() {
            break;
        }
        inner.reader.prefetch(&ranges(plan));
        // Fetch the next pass's bytes while this one decodes (one pass ahead: bounded memory).
        if let Some(next) = plans.get(g + 1) {
            inner.reader.prefetch(&ranges(next));
        }
        if !inner.check_start(plan.run.first).await? {
            // An open GOP's I-frame: plan the rest again from a decoder start further back.
            let rest: Vec<usize> = plans[g..]
                .iter()
                .flat_map(|p| p.frames.iter().copied())
                .collect();
            plans = inner.plan_frames(&rest)?;
            g = 0;
            continue;
        }
        let plan = plan.clone();
        g += 1;
        let frames: Vec<(usize, usize)> = plan.frames.iter().map(|&k| (k, k)).collect();
        decode_pass(
            decoder,
            &inner.reader,
            index,
            plan.run,
            &frames,
            sink,
            ahead,
            &stop,
        )
        .await?;
    }
    Ok(())
}

/// One decode pass of a frame stream: asks `sink` for `frames` (the index's frame and the
/// number to report it as), feeds `run` with the decoder held, and checks that every wanted
/// frame came out (unless stopped).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn decode_pass(
    decoder: &Rc<Decoder>,
    reader: &Rc<Reader>,
    index: &TrackIndex,
    run: DecodeRun,
    frames: &[(usize, usize)],
    sink: &Rc<Sink>,
    ahead: usize,
    stop: &dyn Fn() -> bool,
) -> Result<()> {
    for &(j, k) in frames {
        let pts = index.frame_pts(j).unwrap_or(0);
        sink.want(micros(pts, index.timescale()), k);
    }
    decoder.run(reader, index, run, sink, ahead, stop).await?;
    match sink.missing() {
        Some(k) if !stop() => Err(Failure::new(
            "decode",
            text!["the decoder did not output frame ", k],
        )),
        _ => Ok(()),
    }
}

/// A soft end from JavaScript: the first frame number not below `end` (the JavaScript loop
/// takes the frames below it), or none for `Infinity`.
fn soft_end(end: f64) -> Option<usize> {
    end.is_finite().then_some(end.ceil() as usize)
}

/// An in-order stream of decoded frames from [`Video::frames`].
#[wasm_bindgen]
pub struct FrameStream {
    inner: Rc<dyn StreamSource>,
    sink: Rc<Sink>,
    state: Rc<StreamState>,
}

impl FrameStream {
    /// A stream whose producer task fills `sink` and sets `state.result` at its end.
    pub(crate) fn new(inner: Rc<dyn StreamSource>, sink: Rc<Sink>, state: Rc<StreamState>) -> Self {
        Self { inner, sink, state }
    }
}

#[wasm_bindgen]
impl FrameStream {
    /// The next frame, or `undefined` after the last one.
    pub fn next(&self) -> Promise {
        let (inner, sink, state) = (
            Rc::clone(&self.inner),
            Rc::clone(&self.sink),
            Rc::clone(&self.state),
        );
        promise(async move {
            loop {
                let changed = inner.notify().changed();
                if let Some((_, frame)) = sink.take() {
                    inner.notify().notify();
                    return Ok(frame.into());
                }
                let result = state.result.borrow_mut().take();
                if let Some(r) = result {
                    // Later calls see the end.
                    *state.result.borrow_mut() = Some(Ok(()));
                    return r.map(|()| JsValue::UNDEFINED).map_err(|e| e.to_js());
                }
                if inner.closed() {
                    return Err(Failure::new("closed", "the video was closed").to_js());
                }
                changed.await;
            }
        })
    }

    /// Gives the stream a soft end, or moves it: the stream goes on through the frames before
    /// `end` (`Infinity`: all of them), then holds the decoder where it is, so that a later
    /// call can go on from there without decoding the GOP again (MP4 streams only). Called
    /// before the stream's first frame is awaited, it also bounds what the stream fetches.
    pub fn until(&self, end: f64) {
        self.sink.soft_end.set(soft_end(end));
        self.inner.notify().notify();
    }

    /// Stops decoding and closes frames not taken yet.
    pub fn close(&self) {
        self.state.stopped.set(true);
        self.sink.clear();
        self.inner.notify().notify();
    }
}

/// Crate-internal access for the other parts of the API (`audio`, `timeline`).
#[cfg(any(feature = "player", feature = "hls"))]
impl Video {
    /// Calls `f` with the reader and the movie, or fails with code `closed`.
    pub(crate) fn with_movie<R>(&self, f: impl FnOnce(&Rc<Reader>, &Movie) -> R) -> Result<R> {
        if self.inner.closed.get() {
            return Err(Failure::new("closed", "the video was closed"));
        }
        Ok(f(&self.inner.reader, &self.inner.movie))
    }
}
