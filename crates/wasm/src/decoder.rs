//! The WebCodecs driver: a `VideoDecoder` configured from core's codec config once
//! `isConfigSupported` accepts it (hardware first, then software), fed decode runs sample by
//! sample as their bytes arrive, its output frames routed by timestamp to whoever wants them.

use crate::error::{Failure, Result};
use crate::info::set;
use crate::notify::Notify;
use crate::reader::Reader;
use frameseek_core::codec::h264::allow_frame_num_gaps;
use frameseek_core::codec::h264_skip::{SkipCheck, Step};
use frameseek_core::plan::span_end;
use frameseek_core::text;
use frameseek_core::{soft_feed, CodecConfig, DecodeRun, SoftFeed, TrackIndex};
use js_sys::{Object, Uint8Array};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CodecState, EncodedVideoChunk, VideoDecoder, VideoDecoderConfig, VideoDecoderSupport,
    VideoFrame,
};

/// Chunks queued in the decoder before feeding waits for it to catch up.
const MAX_DECODE_QUEUE: u32 = 16;

/// A chunk timestamp in microseconds for `ticks` of `timescale` (what output frames carry).
pub fn micros(ticks: i64, timescale: u32) -> i64 {
    frameseek_core::time::rescale(ticks, 1_000_000, timescale)
}

/// Where one caller's frames go: the timestamps it wants and the frames that came out.
#[derive(Default)]
pub struct Sink {
    wanted: RefCell<Vec<(i64, usize)>>,
    /// In output order; a few at most (a Vec: VecDeque's code is not worth it here).
    frames: RefCell<Vec<(usize, VideoFrame)>>,
    /// A soft end (MP4 streams that a later call may continue): the pass feeds only what
    /// the wanted frames before it need, then holds the decoder (see core's `soft_feed`).
    pub soft_end: Cell<Option<usize>>,
}

impl Sink {
    /// Asks for the frame with timestamp `micros`, to be reported as frame `k`.
    pub fn want(&self, micros: i64, k: usize) {
        self.wanted.borrow_mut().push((micros, k));
    }

    /// Whether the frame with timestamp `micros` is wanted and has not come out.
    pub fn wants(&self, micros: i64) -> bool {
        self.wanted.borrow().iter().any(|&(t, _)| t == micros)
    }

    /// Frames that came out and were not taken yet.
    pub fn len(&self) -> usize {
        self.frames.borrow().len()
    }

    /// True when no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.frames.borrow().is_empty()
    }

    /// The oldest frame that came out.
    pub fn take(&self) -> Option<(usize, VideoFrame)> {
        let mut frames = self.frames.borrow_mut();
        (!frames.is_empty()).then(|| frames.remove(0))
    }

    /// Takes frame `k` if it came out.
    pub fn take_frame(&self, k: usize) -> Option<VideoFrame> {
        let mut frames = self.frames.borrow_mut();
        let pos = frames.iter().position(|(j, _)| *j == k)?;
        Some(frames.remove(pos).1)
    }

    /// What to do with sample `i` under the soft end, if there is one.
    fn soft(&self, index: &TrackIndex, i: usize) -> Option<SoftFeed> {
        let e = self.soft_end.get()?;
        let wanted = self.wanted.borrow();
        Some(soft_feed(
            index,
            wanted.iter().map(|w| w.1).filter(|&k| k < e),
            i,
        ))
    }

    /// A wanted frame that has not come out.
    pub fn missing(&self) -> Option<usize> {
        self.wanted.borrow().iter().map(|&(_, k)| k).min()
    }

    /// Closes every waiting frame and forgets the wanted ones.
    pub fn clear(&self) {
        self.wanted.borrow_mut().clear();
        for (_, f) in self.frames.borrow_mut().drain(..) {
            f.close();
        }
    }

    /// Keeps `frame` if it is wanted (returns it otherwise).
    fn offer(&self, frame: VideoFrame) -> Option<VideoFrame> {
        let ts = frame.timestamp().round() as i64;
        let mut wanted = self.wanted.borrow_mut();
        let mut frames = self.frames.borrow_mut();
        let Some(i) = wanted.iter().position(|&(t, _)| t == ts) else {
            return Some(frame);
        };
        #[cfg(feature = "hls")]
        let i = keep_copies(&mut wanted, &mut frames, &frame, i);
        frames.push((wanted.remove(i).1, frame));
        None
    }
}

/// HLS numbers frames on a grid, and a dropped frame's number wants the frame on screen: a
/// frame wanted under several numbers (`wanted[i]` and later entries with its timestamp, in
/// number order as `decode_pass` asks) is kept once per number, copies for all but the last,
/// whose index is returned. (MP4 numbers samples: never two numbers for a frame.)
#[cfg(feature = "hls")]
fn keep_copies(
    wanted: &mut Vec<(i64, usize)>,
    frames: &mut Vec<(usize, VideoFrame)>,
    frame: &VideoFrame,
    mut i: usize,
) -> usize {
    let ts = wanted[i].0;
    while let Some(j) = wanted[i + 1..].iter().position(|&(t, _)| t == ts) {
        let Ok(copy) = frame.clone() else {
            break; // the later numbers stay wanted, and the pass reports them missing
        };
        frames.push((wanted.remove(i).1, copy));
        i += j;
    }
    i
}

struct Shared {
    sink: RefCell<Option<Rc<Sink>>>,
    error: RefCell<Option<Failure>>,
    decoded: Cell<u64>,
    notify: Rc<Notify>,
}

struct Live {
    decoder: VideoDecoder,
    _output: Closure<dyn FnMut(VideoFrame)>,
    _error: Closure<dyn FnMut(JsValue)>,
    _dequeue: Closure<dyn FnMut()>,
}

/// One video track's decoder, used by one decode pass at a time (see [`Decoder::run`]).
pub struct Decoder {
    config: RefCell<Option<Result<VideoDecoderConfig>>>,
    /// H.264's `avcC` as configured (gaps in `frame_num` allowed), to leave out pictures that a
    /// one-frame decode does not need (core's `SkipCheck`).
    avc: Option<Vec<u8>>,
    /// Leaving B pictures out once had to be undone on this track: it is not tried again.
    b_restarted: Cell<bool>,
    shared: Rc<Shared>,
    live: RefCell<Option<Live>>,
    busy: Cell<bool>,
    /// A call waits for the decoder while a pass holds it.
    contended: Cell<bool>,
    closed: Cell<bool>,
}

/// Held while a decode pass owns the decoder.
struct Guard<'a>(&'a Decoder);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
        self.0.shared.notify.notify();
    }
}

impl Decoder {
    /// A decoder for `codec`; the support check starts now and runs in the background.
    /// `hardware` is the `hardwareAcceleration` option (`None`: hardware, then software).
    pub fn new(
        mut codec: std::result::Result<CodecConfig, Failure>,
        hardware: Option<String>,
        notify: Rc<Notify>,
    ) -> Rc<Self> {
        let shared = Rc::new(Shared {
            sink: RefCell::new(None),
            error: RefCell::new(None),
            decoded: Cell::new(0),
            notify,
        });
        // H.264 is configured with frame_num gaps allowed (when the SPS lets the flag be set).
        let avc = match &mut codec {
            Ok(c) if matches!(&c.fourcc.0, b"avc1" | b"avc3") => c.description.as_mut().map(|d| {
                if let Some(gaps) = allow_frame_num_gaps(d) {
                    *d = gaps;
                }
                d.clone()
            }),
            _ => None,
        };
        let this = Rc::new(Self {
            avc,
            b_restarted: Cell::new(false),
            config: RefCell::new(None),
            shared,
            live: RefCell::new(None),
            busy: Cell::new(false),
            contended: Cell::new(false),
            closed: Cell::new(false),
        });
        let task = Rc::clone(&this);
        crate::task::spawn(async move {
            let r = match codec {
                Ok(c) => supported_config(&c, hardware.as_deref()).await,
                Err(e) => Err(e),
            };
            *task.config.borrow_mut() = Some(r);
            // Configure now, so that the decoder is ready when the first bytes arrive.
            let _ = task.decoder();
            task.shared.notify.notify();
        });
        this
    }

    /// Frames the decoder has output so far.
    pub fn frames_decoded(&self) -> u64 {
        self.shared.decoded.get()
    }

    /// Waits for the support check; the error names the codec when the browser cannot decode it.
    pub async fn ready(&self) -> Result<()> {
        loop {
            let changed = self.shared.notify.changed();
            if let Some(r) = self.config.borrow().as_ref() {
                return r.as_ref().map(|_| ()).map_err(Clone::clone);
            }
            changed.await;
        }
    }

    /// Waits until `ready()` and no other pass uses the decoder. Waiting while a pass holds it
    /// asks that pass to give it up if its frames are waiting for their consumer (see `feed`).
    async fn lock(&self, ready: impl Fn() -> bool) -> Guard<'_> {
        loop {
            let changed = self.shared.notify.changed();
            if ready() {
                if !self.busy.replace(true) {
                    self.contended.set(false);
                    return Guard(self);
                }
                if !self.contended.replace(true) {
                    self.shared.notify.notify();
                }
            }
            changed.await;
        }
    }

    fn decoder(&self) -> Result<VideoDecoder> {
        if self.closed.get() {
            return Err(Failure::new("closed", "the video was closed"));
        }
        if let Some(live) = self.live.borrow().as_ref() {
            if live.decoder.state() != CodecState::Closed {
                return Ok(live.decoder.clone());
            }
        }
        self.discard();
        let config = match self.config.borrow().as_ref() {
            Some(Ok(c)) => c.clone(),
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(Failure::new("usage", "the decoder is not ready")),
        };
        let shared = Rc::clone(&self.shared);
        let output = Closure::<dyn FnMut(VideoFrame)>::new(move |frame: VideoFrame| {
            shared.decoded.set(shared.decoded.get() + 1);
            let sink = shared.sink.borrow().clone();
            let rest = match sink {
                Some(s) => s.offer(frame),
                None => Some(frame),
            };
            if let Some(f) = rest {
                f.close();
            }
            shared.notify.notify();
        });
        let shared = Rc::clone(&self.shared);
        let error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            *shared.error.borrow_mut() =
                Some(Failure::from_js("decode", "the video decoder failed", &e));
            shared.notify.notify();
        });
        let init = Object::new();
        set(&init, "error", error.as_ref());
        set(&init, "output", output.as_ref());
        let decoder = VideoDecoder::new(init.unchecked_ref())
            .map_err(|e| Failure::from_js("decode", "creating a VideoDecoder", &e))?;
        // A pass draining at a soft end feeds one chunk once the decoder has taken the last.
        let shared = Rc::clone(&self.shared);
        let dequeue = Closure::<dyn FnMut()>::new(move || shared.notify.notify());
        set(&decoder, "ondequeue", dequeue.as_ref());
        decoder
            .configure(&config)
            .map_err(|e| Failure::from_js("decode", "configuring the VideoDecoder", &e))?;
        *self.live.borrow_mut() = Some(Live {
            decoder: decoder.clone(),
            _output: output,
            _error: error,
            _dequeue: dequeue,
        });
        Ok(decoder)
    }

    /// Closes the decoder for good (`video.close()`).
    pub fn close(&self) {
        self.closed.set(true);
        self.discard();
    }

    /// Drops the decoder after a failed or abandoned pass; the next pass makes a new one.
    fn discard(&self) {
        if let Some(live) = self.live.borrow_mut().take() {
            // A dequeue event may still come once the closure is gone.
            set(&live.decoder, "ondequeue", JsValue::NULL);
            if live.decoder.state() != CodecState::Closed {
                let _ = live.decoder.close();
            }
        }
    }

    /// Takes the decoder, feeds it decode-order samples `run` (their bytes from `reader`,
    /// fetched as needed) and flushes; wanted frames land in `sink`. Feeding waits while `sink`
    /// holds `max_out` frames, and stops early when `stop()` turns true. A run waiting so gives
    /// the decoder up to another call that waits for it, and once `sink` has room again, feeds
    /// `run` again from its start (the frames that came out are not wanted any more).
    pub async fn run(
        &self,
        reader: &Rc<Reader>,
        index: &TrackIndex,
        run: DecodeRun,
        sink: &Rc<Sink>,
        max_out: usize,
        stop: &dyn Fn() -> bool,
    ) -> Result<()> {
        self.ready().await?;
        loop {
            let _guard = self.lock(|| stop() || sink.len() < max_out).await;
            if stop() {
                return Ok(());
            }
            *self.shared.error.borrow_mut() = None;
            *self.shared.sink.borrow_mut() = Some(Rc::clone(sink));
            // B pictures are left out for one wanted I or P frame.
            let mut skip_b = !self.b_restarted.get()
                && sink.wanted.borrow().len() == 1
                && run.ends_on_anchor(index);
            // A restart without leaving B pictures out when the check asks for one, and also
            // when the decoder fails on a run with pictures left out (a last guard, for a
            // decoder that refuses what the check allows): the track then stops trying.
            let r = loop {
                let decoder = self.decoder()?;
                let r = match self
                    .feed(&decoder, reader, index, run, sink, max_out, stop, skip_b)
                    .await
                {
                    Ok(Some(true)) => JsFuture::from(decoder.flush())
                        .await
                        .map(|_| Some(true))
                        .map_err(|e| {
                            self.error_or(Failure::from_js(
                                "decode",
                                "flushing the VideoDecoder",
                                &e,
                            ))
                        }),
                    r => r,
                };
                match r {
                    Ok(None) => {}
                    Err(e) if skip_b && e.code == "decode" => {}
                    r => break r,
                }
                self.b_restarted.set(true);
                skip_b = false;
                self.discard();
                *self.shared.error.borrow_mut() = None;
            };
            *self.shared.sink.borrow_mut() = None;
            // Stopped, failed or given up inside the run: the decoder is left mid-run.
            if !matches!(r, Ok(Some(true))) {
                self.discard();
            }
            match r {
                Ok(Some(false)) if !stop() => {}
                r => return r.map(drop),
            }
        }
    }

    fn error_or(&self, f: Failure) -> Failure {
        self.shared.error.borrow_mut().take().unwrap_or(f)
    }

    /// Feeds the run; `Ok(Some(false))` when stopped early or given up, `Ok(None)` when it has
    /// to start again without leaving B pictures out (`skip_b`).
    #[allow(clippy::too_many_arguments)]
    async fn feed(
        &self,
        decoder: &VideoDecoder,
        reader: &Rc<Reader>,
        index: &TrackIndex,
        run: DecodeRun,
        sink: &Rc<Sink>,
        max_out: usize,
        stop: &dyn Fn() -> bool,
        skip_b: bool,
    ) -> Result<Option<bool>> {
        let timescale = index.timescale();
        let mut check = self.avc.as_ref().map(|avcc| SkipCheck::new(avcc, skip_b));
        for i in run.first..=run.last {
            let Some(s) = index.sample(i) else {
                return Err(Failure::new(
                    "invalid",
                    text!["sample ", i, " is not in the index"],
                ));
            };
            let end = s.offset.saturating_add(u64::from(s.size));
            // Wait for room: for the frames the consumer has not taken, in the decoder's
            // queue, and under a soft end (core's `soft_feed`) for a frame before the end
            // that needs this sample, else for the decoder to take one chunk at a time until
            // those frames are out (it holds pictures back for reordering); with none left
            // the pass holds the decoder, giving it up to another call that waits for it.
            let last = loop {
                let changed = self.shared.notify.changed();
                if let Some(e) = self.shared.error.borrow_mut().take() {
                    return Err(e);
                }
                let (held, queue, last) = match sink.soft(index, i) {
                    None => (false, MAX_DECODE_QUEUE, run.last),
                    Some(SoftFeed::Feed(last)) => (false, MAX_DECODE_QUEUE, last),
                    Some(SoftFeed::Drain(last)) => (false, 1, last),
                    Some(SoftFeed::Hold) => (true, 0, i),
                };
                let full = held || sink.len() >= max_out;
                if stop() || full && self.contended.get() {
                    return Ok(Some(false));
                }
                if !full && decoder.decode_queue_size() < queue {
                    break last;
                }
                changed.await;
            };
            // Missing bytes come with those of the samples after them that the pass needs (a
            // pass that had a soft end fetched only what the frames before it needed).
            let fetch_end = span_end(index, i, last.min(run.last).min(i + 64)).max(end);
            reader.wait(s.offset, end, fetch_end).await?;
            let ts = micros(s.pts, timescale);
            if let Some(check) = check.as_mut() {
                let shown = i == run.first || sink.wants(ts);
                match reader.with_bytes(s.offset, end, |b| check.step(b, shown)) {
                    Some(Step::Skip) => continue,
                    Some(Step::Restart) => return Ok(None),
                    _ => {}
                }
            }
            let key = i == run.first || s.sync;
            let ts = ts as f64;
            let chunk = reader
                .with_bytes(s.offset, end, |bytes| {
                    let init = Object::new();
                    set(&init, "type", if key { "key" } else { "delta" });
                    set(&init, "timestamp", ts);
                    set(
                        &init,
                        "duration",
                        micros(i64::from(s.duration), timescale) as f64,
                    );
                    set(&init, "data", Uint8Array::from(bytes));
                    EncodedVideoChunk::new(init.unchecked_ref())
                })
                .ok_or_else(|| {
                    Failure::new(
                        "usage",
                        text!["sample ", i, " left the cache before decoding"],
                    )
                })?
                .map_err(|e| Failure::from_js("decode", "building an EncodedVideoChunk", &e))?;
            decoder.decode(&chunk).map_err(|e| {
                self.error_or(Failure::from_js(
                    "decode",
                    &text!["decoding sample ", i],
                    &e,
                ))
            })?;
        }
        Ok(Some(true))
    }
}

/// The first configuration `isConfigSupported` accepts: with `hardware` as given, else
/// `prefer-hardware` then `no-preference`.
async fn supported_config(c: &CodecConfig, hardware: Option<&str>) -> Result<VideoDecoderConfig> {
    let prefs: &[&str] = match hardware {
        Some(h @ ("prefer-hardware" | "prefer-software" | "no-preference")) => &[h],
        _ => &["prefer-hardware", "no-preference"],
    };
    // All checks run at once; the first supported preference wins.
    let checks: Vec<(VideoDecoderConfig, JsFuture<VideoDecoderSupport>)> = prefs
        .iter()
        .map(|&hw| {
            let config = base_config(c);
            set(&config, "hardwareAcceleration", hw);
            let check = JsFuture::from(VideoDecoder::is_config_supported(&config));
            (config, check)
        })
        .collect();
    let mut last_err = None;
    for (config, check) in checks {
        match check.await {
            Ok(support) => {
                // A plain dictionary object: read its property, no type check.
                let supported = js_sys::Reflect::get(&support, &"supported".into());
                if supported.ok().and_then(|v| v.as_bool()).unwrap_or(false) {
                    return Ok(config);
                }
            }
            Err(e) => {
                last_err = Some(Failure::from_js(
                    "unsupported-codec",
                    "isConfigSupported",
                    &e,
                ))
            }
        }
    }
    let name = codec_name(&c.codec);
    Err(Failure::new(
        "unsupported-codec",
        match last_err {
            Some(e) => text![
                "this browser cannot decode ",
                c.codec,
                " (",
                name,
                "): ",
                e.message
            ],
            None => text![
                "this browser cannot decode ",
                c.codec,
                " (",
                name,
                ") with WebCodecs"
            ],
        },
    ))
}

/// The `VideoDecoderConfig` dictionary, as a plain object.
fn base_config(c: &CodecConfig) -> VideoDecoderConfig {
    let config = Object::new();
    set(&config, "codec", c.codec.as_str());
    if let Some(d) = &c.description {
        set(&config, "description", Uint8Array::from(&d[..]));
    }
    if let Some(v) = &c.video {
        if v.coded_width > 0 && v.coded_height > 0 {
            set(&config, "codedWidth", v.coded_width);
            set(&config, "codedHeight", v.coded_height);
        }
        if v.display_width > 0 && v.display_height > 0 {
            set(&config, "displayAspectWidth", v.display_width);
            set(&config, "displayAspectHeight", v.display_height);
        }
    }
    config.unchecked_into()
}

/// A readable name for a WebCodecs codec string.
pub fn codec_name(codec: &str) -> &'static str {
    match codec.get(..4).unwrap_or(codec) {
        "avc1" | "avc3" => "H.264",
        "hvc1" | "hev1" => "HEVC/H.265",
        "vp09" => "VP9",
        "vp8" => "VP8",
        "av01" => "AV1",
        _ => "unknown codec",
    }
}
