//! The bytes of an HLS stream: loads the master and media playlists, keeps core's
//! [`HlsTimeline`] current by reloading a live playlist, and fetches, demuxes and caches
//! segments (with their EXT-X-MAP sections) so that concurrent readers share one fetch and a
//! segment is read once while it stays in the byte budget.

use crate::error::{Failure, Result};
use crate::fetch::{self, FetchError, Target};
use crate::notify::Notify;
use crate::reader::Reader;
use frameseek_core::hls::decrypt::decrypt_aes128;
use frameseek_core::hls::playlist::{
    choose_variant, parse_playlist, reload_interval, MapInfo, MediaPlaylist, Playlist, SegmentInfo,
    Variant, VariantPrefs, MAX_PLAYLIST_BYTES,
};
use frameseek_core::hls::segment::{
    join_prefetch, join_video, read_segment, SegmentFormat, SegmentMedia,
};
use frameseek_core::hls::timeline::{typical_frame_duration, HlsTimeline};
use frameseek_core::hls::ts::{TsOptions, TS_TIMESCALE};
use frameseek_core::{is_decoder_start, ByteRange, CodecConfig, Movie};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The largest segment (or initialization section) read, in bytes.
const SEGMENT_MAX: u64 = 128 << 20;
/// The largest AES-128 key response read (a key is 16 bytes).
const KEY_MAX: u64 = 1024;
/// How far back [`Source::prefetch_back`] fetches ahead of a join, up to a known decoder start.
const PREFETCH_BACK: usize = 4;

/// Counters since `open()` (reported as `video.stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Response body bytes received.
    pub bytes_fetched: u64,
    /// Segment reads served from the cache.
    pub cache_hits: u64,
    /// Requests that were repeats of failed ones.
    pub retries: u64,
}

/// One demuxed segment.
pub struct Segment {
    /// Media sequence number.
    pub sequence: u64,
    /// Its sample bytes, in memory.
    pub reader: Rc<Reader>,
    /// Its tracks (sample offsets into `reader`'s bytes).
    pub movie: Movie,
    /// Seconds to add to its media timestamps to place them on the timeline.
    pub offset: f64,
    /// The frame number of each of its video frames, in presentation order.
    pub frames: Vec<u64>,
    /// How it was packaged.
    pub format: SegmentFormat,
    bytes: u64,
}

impl Segment {
    /// The index of the frame on screen at frame number `k` (the last one numbered at most
    /// `k`, else the first).
    pub fn local_frame(&self, k: u64) -> usize {
        self.frames.partition_point(|&f| f <= k).saturating_sub(1)
    }

    /// Whether a decoder can start at video sample `i` (decode order): false for an open-GOP
    /// I-frame that is no IDR (see [`is_decoder_start`]); `None` when the codec cannot tell.
    pub fn is_decoder_start(&self, i: usize) -> Option<bool> {
        let track = self.movie.video_track()?;
        let codec = track.codec.as_ref().ok()?;
        let s = track.index.sample(i)?;
        let end = s.offset.saturating_add(u64::from(s.size));
        self.reader
            .with_bytes(s.offset, end, |b| is_decoder_start(codec, b))
            .flatten()
    }

    /// Whether a decoder can start at video sample `i`: as its bytes say where the codec
    /// tells ([`Segment::is_decoder_start`]), else as the container's sync flag says.
    pub fn can_start(&self, i: usize) -> bool {
        self.is_decoder_start(i).unwrap_or_else(|| {
            self.movie
                .video_track()
                .and_then(|t| t.index.sample(i))
                .is_some_and(|s| s.sync)
        })
    }

    /// The last video sample a decoder can start at, if any.
    pub fn last_decoder_start(&self) -> Option<usize> {
        let index = &self.movie.video_track()?.index;
        index
            .sync_samples()
            .iter()
            .rev()
            .map(|&i| i as usize)
            .find(|&i| self.can_start(i))
    }
}

enum Slot {
    Loading,
    Ready(Rc<Segment>),
    Failed(Failure),
}

/// Where the stream comes from and what was chosen.
pub struct Chosen {
    /// The media playlist's URL.
    pub media_url: String,
    /// The variant taken from a master playlist: its index and the number of variants.
    pub variant: Option<(usize, usize, Variant)>,
}

/// An HLS stream's playlists and segments.
pub struct Source {
    target: Target,
    retries: u32,
    budget: u64,
    /// Signalled when a segment is ready or fails and when a live reload changed something.
    pub notify: Rc<Notify>,
    /// The segments on one timeline.
    pub timeline: RefCell<HlsTimeline>,
    /// The media playlist and variant.
    pub chosen: Chosen,
    slots: RefCell<Vec<(u64, Slot, u64)>>,
    inits: RefCell<Vec<(MapInfo, Rc<Vec<u8>>)>>,
    /// AES-128 keys by URI.
    keys: RefCell<Vec<(String, Rc<Vec<u8>>)>>,
    /// The latest [`Source::joined`], by the last segment's sequence and discontinuity
    /// sequence.
    joined: RefCell<Option<(u64, u64, Rc<Segment>)>>,
    clock: Cell<u64>,
    counters: Cell<Counters>,
    /// The video configuration of the latest segment read that carried one.
    video_codec: RefCell<Option<CodecConfig>>,
    /// Set by `close()`: fetches stop, waiters fail with code `closed`.
    pub closed: Cell<bool>,
}

impl Source {
    /// Loads the playlist at `target.url` (a master playlist: the variant `prefs` picks, then
    /// its media playlist).
    pub async fn open(
        target: Target,
        retries: u32,
        budget: u64,
        prefs: &VariantPrefs,
    ) -> Result<Rc<Self>> {
        let mut this = Self {
            target,
            retries,
            budget,
            notify: Rc::new(Notify::default()),
            timeline: RefCell::new(HlsTimeline::new(MediaPlaylist::default())),
            chosen: Chosen {
                media_url: String::new(),
                variant: None,
            },
            slots: RefCell::default(),
            inits: RefCell::default(),
            keys: RefCell::default(),
            joined: RefCell::default(),
            clock: Cell::new(0),
            counters: Cell::default(),
            video_codec: RefCell::default(),
            closed: Cell::new(false),
        };
        let url = this.target.url.clone();
        let (media_url, media, variant) = match this.playlist(&url).await? {
            Playlist::Media(m) => (url, m, None),
            Playlist::Master(mut master) => {
                master.resolve_uris(&url);
                let Some(i) = choose_variant(&master, prefs) else {
                    return Err(Failure::new(
                        "no-track",
                        format!(
                            "no variant of the master playlist {url} fits the options ({} listed)",
                            master.variants.len()
                        ),
                    ));
                };
                let v = master.variants[i].clone();
                let Playlist::Media(m) = this.playlist(&v.uri).await? else {
                    return Err(Failure::new(
                        "invalid",
                        format!(
                            "variant {} is a master playlist, not a media playlist",
                            v.uri
                        ),
                    ));
                };
                (v.uri.clone(), m, Some((i, master.variants.len(), v)))
            }
        };
        let media = check(media, &media_url)?;
        this.timeline = RefCell::new(HlsTimeline::new(media));
        this.chosen = Chosen { media_url, variant };
        let this = Rc::new(this);
        this.start_reloads();
        Ok(this)
    }

    /// Counters so far.
    pub fn counters(&self) -> Counters {
        self.counters.get()
    }

    fn count(&self, f: impl FnOnce(&mut Counters)) {
        let mut c = self.counters.get();
        f(&mut c);
        self.counters.set(c);
    }

    /// Reads and parses a playlist.
    async fn playlist(&self, url: &str) -> Result<Playlist> {
        let bytes = self.get(url, None, MAX_PLAYLIST_BYTES as u64).await?;
        parse_playlist(&bytes).map_err(failure_in(format!("playlist {url}")))
    }

    /// Reloads a live media playlist every target duration (half of it when nothing changed,
    /// RFC 8216 §6.3.4) until it ends or the source is closed.
    fn start_reloads(self: &Rc<Self>) {
        if !self.timeline.borrow().is_live() {
            return;
        }
        let this = Rc::clone(self);
        crate::task::spawn(async move {
            let mut changed = true;
            loop {
                let Some(wait) = reload_interval(this.timeline.borrow().playlist(), changed) else {
                    break;
                };
                fetch::sleep((wait * 1000.0) as i32).await;
                if this.closed.get() {
                    break;
                }
                let url = this.chosen.media_url.clone();
                changed = match this.playlist(&url).await {
                    Ok(Playlist::Media(m)) => match check(m, &url) {
                        Ok(m) => {
                            let update = this.timeline.borrow_mut().update(m);
                            this.drop_stale();
                            this.notify.notify();
                            update.changed
                        }
                        Err(_) => false,
                    },
                    // A failed reload is tried again at the next interval.
                    _ => false,
                };
            }
        });
    }

    /// Forgets segments that left a live window.
    fn drop_stale(&self) {
        let first = self
            .timeline
            .borrow()
            .segments()
            .first()
            .map(|s| s.sequence);
        if let Some(first) = first {
            self.slots
                .borrow_mut()
                .retain(|(seq, slot, _)| *seq >= first || matches!(slot, Slot::Loading));
        }
        *self.joined.borrow_mut() = None;
    }

    /// Segment `pos` of the timeline, fetched and demuxed once and then shared.
    pub async fn segment(self: &Rc<Self>, pos: usize) -> Result<Rc<Segment>> {
        let sequence = self.sequence_at(pos)?;
        let mut cached = true;
        loop {
            let changed = self.notify.changed();
            if self.closed.get() {
                return Err(Failure::new("closed", "the video was closed"));
            }
            let now = self.tick();
            let found = {
                let mut slots = self.slots.borrow_mut();
                match slots.iter().position(|s| s.0 == sequence) {
                    Some(i) => match &slots[i].1 {
                        Slot::Ready(s) => {
                            let s = Rc::clone(s);
                            slots[i].2 = now;
                            Some(Ok(s))
                        }
                        Slot::Failed(f) => {
                            let f = f.clone();
                            slots.remove(i);
                            Some(Err(Some(f)))
                        }
                        Slot::Loading => None,
                    },
                    None => {
                        slots.push((sequence, Slot::Loading, now));
                        Some(Err(None))
                    }
                }
            };
            match found {
                Some(Ok(s)) => {
                    if cached {
                        self.count(|c| c.cache_hits += 1);
                    }
                    return Ok(s);
                }
                Some(Err(Some(f))) => return Err(f),
                Some(Err(None)) => self.spawn_load(pos)?,
                None => {}
            }
            cached = false;
            changed.await;
        }
    }

    /// Segment `sequence` and the sequence numbers of those a join may look back through,
    /// nearest first: at most `back_max`, within its discontinuity sequence and
    /// initialization section. (By sequence number: a live reload may shift positions while
    /// they load.)
    fn earlier(&self, sequence: u64, back_max: usize) -> Result<(SegmentInfo, Vec<u64>)> {
        let tl = self.timeline.borrow();
        let segments = tl.segments();
        let pos = tl.position(sequence).ok_or_else(left_window)?;
        let map_of = |s: &SegmentInfo| s.map.and_then(|m| tl.playlist().maps.get(m).cloned());
        let last = segments[pos].clone();
        let last_map = map_of(&last);
        let earlier = segments[..pos]
            .iter()
            .rev()
            .take(back_max)
            .take_while(|s| {
                s.discontinuity_sequence == last.discontinuity_sequence && map_of(s) == last_map
            })
            .map(|s| s.sequence)
            .collect();
        Ok((last, earlier))
    }

    /// For segment `sequence`, which does not start where a decoder can (it continues a GOP):
    /// starts fetching the earlier segments a join needs, all at once rather than one after
    /// another, as core's `join_prefetch` counts them (back to a cached segment that holds a
    /// decoder start, at most `PREFETCH_BACK` back).
    pub fn prefetch_back(self: &Rc<Self>, sequence: u64, back_max: usize) {
        let Ok((_, earlier)) = self.earlier(sequence, back_max) else {
            return;
        };
        let known_start = earlier.iter().map(|&e| {
            self.slots.borrow().iter().any(|s| {
                s.0 == e && matches!(&s.1, Slot::Ready(seg) if seg.last_decoder_start().is_some())
            })
        });
        for &e in earlier
            .iter()
            .take(join_prefetch(known_start, PREFETCH_BACK))
        {
            if let Some(pos) = self.timeline.borrow().position(e) {
                self.prefetch(pos);
            }
        }
    }

    /// Starts fetching segment `pos` if it is neither cached nor on its way.
    pub fn prefetch(self: &Rc<Self>, pos: usize) {
        let Ok(sequence) = self.sequence_at(pos) else {
            return;
        };
        if self.closed.get() || self.slots.borrow().iter().any(|s| s.0 == sequence) {
            return;
        }
        let now = self.tick();
        self.slots.borrow_mut().push((sequence, Slot::Loading, now));
        let _ = self.spawn_load(pos);
    }

    /// The segments cached now, by media sequence number.
    pub fn cached(&self) -> Vec<u64> {
        self.slots
            .borrow()
            .iter()
            .filter(|s| matches!(s.1, Slot::Ready(_)))
            .map(|s| s.0)
            .collect()
    }

    /// Bytes held by cached segments.
    pub fn cached_bytes(&self) -> u64 {
        let joined = self.joined.borrow().as_ref().map_or(0, |j| j.2.bytes);
        self.slots
            .borrow()
            .iter()
            .map(|s| match &s.1 {
                Slot::Ready(seg) => seg.bytes,
                _ => 0,
            })
            .sum::<u64>()
            + joined
    }

    fn tick(&self) -> u64 {
        let t = self.clock.get() + 1;
        self.clock.set(t);
        t
    }

    fn sequence_at(&self, pos: usize) -> Result<u64> {
        self.timeline
            .borrow()
            .segments()
            .get(pos)
            .map(|s| s.sequence)
            .ok_or_else(left_window)
    }

    fn spawn_load(self: &Rc<Self>, pos: usize) -> Result<()> {
        let (info, map) = {
            let tl = self.timeline.borrow();
            let info = tl.segments().get(pos).cloned().ok_or_else(left_window)?;
            let map = info.map.and_then(|m| tl.playlist().maps.get(m).cloned());
            (info, map)
        };
        let this = Rc::clone(self);
        crate::task::spawn(async move {
            let r = this.load(&info, map.as_ref()).await;
            {
                let mut slots = this.slots.borrow_mut();
                if let Some(slot) = slots.iter_mut().find(|s| s.0 == info.sequence) {
                    slot.1 = match r {
                        Ok(s) => Slot::Ready(Rc::new(s)),
                        Err(f) => Slot::Failed(f),
                    };
                }
            }
            this.evict(info.sequence);
            this.notify.notify();
        });
        Ok(())
    }

    /// Evicts least recently used segments (never `keep`) until the cache fits its budget.
    fn evict(&self, keep: u64) {
        let mut slots = self.slots.borrow_mut();
        loop {
            let held: u64 = slots
                .iter()
                .map(|s| match &s.1 {
                    Slot::Ready(seg) => seg.bytes,
                    _ => 0,
                })
                .sum();
            if held <= self.budget {
                break;
            }
            let victim = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.0 != keep && matches!(s.1, Slot::Ready(_)))
                .min_by_key(|(_, s)| s.2)
                .map(|(i, _)| i);
            match victim {
                Some(i) => {
                    slots.remove(i);
                }
                None => break,
            }
        }
    }

    /// Fetches and demuxes one segment and numbers its frames on the timeline.
    async fn load(&self, info: &SegmentInfo, map: Option<&MapInfo>) -> Result<Segment> {
        let init = match map {
            Some(m) => Some(self.init(m).await?),
            None => None,
        };
        let bytes = self.fetch(info).await?;
        self.demux(info, init.as_deref().map(Vec::as_slice), &bytes)
            .map_err(|f| match &info.key {
                // Plaintext under a wrong key still ends in valid padding 1 time in 256.
                Some(_) => Failure::new(
                    f.code,
                    format!("{} (decrypted with AES-128: a wrong key or IV?)", f.message),
                ),
                None => f,
            })
    }

    /// Segment `sequence` joined, for its video, with the earlier segments back to the start
    /// of the GOP its first frames continue (segments cut by time rather than at IDRs, or at
    /// open-GOP I-frames): from the last frame a decoder can start at in the nearest earlier
    /// segment that has one, at most `back_max` segments back, within one discontinuity
    /// sequence and initialization section. Made from the cached segments (core's
    /// `join_video`); the latest join is kept for the next call.
    pub async fn joined(self: &Rc<Self>, sequence: u64, back_max: usize) -> Result<Rc<Segment>> {
        let (last, earlier) = self.earlier(sequence, back_max)?;
        let key = (sequence, last.discontinuity_sequence);
        if let Some((s, d, seg)) = self.joined.borrow().as_ref() {
            if (*s, *d) == key {
                self.count(|c| c.cache_hits += 1);
                return Ok(Rc::clone(seg));
            }
        }
        self.prefetch_back(sequence, back_max);
        let mut parts = vec![self.segment_numbered(sequence).await?];
        let mut from = None;
        for &earlier in &earlier {
            let seg = self.segment_numbered(earlier).await?;
            let start = seg.last_decoder_start();
            parts.insert(0, seg);
            if start.is_some() {
                from = start;
                break;
            }
        }
        let Some(from) = from else {
            return Err(Failure::new(
                "unsupported",
                format!(
                    "segment {sequence}: no frame a decoder can start at (an IDR) before the \
                     frame asked for, in it or in the {} segments before it{}",
                    earlier.len(),
                    if earlier.len() == back_max {
                        " (the most frameseek joins)"
                    } else {
                        " that continue its stream"
                    }
                ),
            ));
        };
        let movies: Vec<&Movie> = parts.iter().map(|s| &s.movie).collect();
        let joined =
            join_video(&movies, from).map_err(failure_in(format!("segment {sequence}")))?;
        let mut data = Vec::with_capacity(joined.movie.file_size as usize);
        for &(p, offset, size) in &joined.copies {
            parts[p]
                .reader
                .with_bytes(offset, offset + u64::from(size), |b| {
                    data.extend_from_slice(b)
                })
                .ok_or_else(|| {
                    Failure::new(
                        "decode",
                        format!("segment {sequence}: sample bytes missing"),
                    )
                })?;
        }
        let format = parts[0].format;
        let (offset, frames) = self.number_frames(&last, &joined.movie, format);
        let size = data.len() as u64;
        let seg = Rc::new(Segment {
            sequence,
            reader: Reader::from_bytes(data, Rc::clone(&self.notify)),
            movie: joined.movie,
            offset,
            frames,
            format,
            bytes: size,
        });
        *self.joined.borrow_mut() = Some((key.0, key.1, Rc::clone(&seg)));
        Ok(seg)
    }

    /// The segment with media sequence number `sequence`, as [`Source::segment`].
    async fn segment_numbered(self: &Rc<Self>, sequence: u64) -> Result<Rc<Segment>> {
        let pos = self
            .timeline
            .borrow()
            .position(sequence)
            .ok_or_else(left_window)?;
        self.segment(pos).await
    }

    /// A segment's bytes (its byte range), decrypted when under an AES-128 key.
    async fn fetch(&self, info: &SegmentInfo) -> Result<Vec<u8>> {
        if let Some(k) = info.key.as_ref().filter(|k| !k.is_aes128()) {
            return Err(Failure::new(
                "unsupported",
                format!(
                    "segment {} is encrypted with {} (EXT-X-KEY{}): only AES-128 with a key URI \
                     and the identity key format is read",
                    info.uri,
                    k.method,
                    if k.uri.is_none() { ", no URI" } else { "" }
                ),
            ));
        }
        let mut bytes = self.get(&info.uri, info.byte_range, SEGMENT_MAX).await?;
        if let Some((key, uri)) = info.key.as_ref().and_then(|k| Some((k, k.uri.as_ref()?))) {
            let secret = self.key(uri).await?;
            bytes = decrypt_aes128(&secret, &key.iv_for(info.sequence), &bytes)
                .map_err(failure_in(format!("segment {}", info.uri)))?;
        }
        Ok(bytes)
    }

    /// Demuxes segment bytes (with their initialization section) and numbers their frames
    /// on the timeline as segment `info`'s.
    fn demux(&self, info: &SegmentInfo, init: Option<&[u8]>, bytes: &[u8]) -> Result<Segment> {
        let mut media = read_segment(init, bytes, &TsOptions::default())
            .map_err(failure_in(format!("segment {}", info.uri)))?;
        // Parameter sets sent once (not in every TS segment): those of a segment read before.
        let video_codec = |m: &SegmentMedia| {
            m.movie
                .video_track()
                .and_then(|t| t.codec.as_ref().ok())
                .cloned()
        };
        match video_codec(&media) {
            Some(c) => *self.video_codec.borrow_mut() = Some(c),
            None => {
                if let Some(c) = self.video_codec.borrow().as_ref() {
                    media.inherit_video_codec(c);
                }
            }
        }
        let SegmentMedia {
            format,
            movie,
            data,
        } = media;
        let (offset, frames) = self.number_frames(info, &movie, format);
        let size = data.len() as u64;
        Ok(Segment {
            sequence: info.sequence,
            reader: Reader::from_bytes(data, Rc::clone(&self.notify)),
            movie,
            offset,
            frames,
            format,
            bytes: size,
        })
    }

    /// Places a segment's video frames on the frame grid (fixing the grid from the first
    /// segment read, and the anchor from the first of each discontinuity sequence).
    fn number_frames(
        &self,
        info: &SegmentInfo,
        movie: &Movie,
        format: SegmentFormat,
    ) -> (f64, Vec<u64>) {
        let mut tl = self.timeline.borrow_mut();
        let Some(index) = movie.video_track().map(|t| &t.index) else {
            return (info.start, Vec::new());
        };
        if tl.frame_duration() <= 0.0 {
            if let Some(fd) = typical_frame_duration(index) {
                tl.set_frame_duration(fd);
            }
        }
        let ts = f64::from(index.timescale().max(1));
        let pts = |k: usize| index.frame_pts(k).unwrap_or(0) as f64 / ts;
        let first = pts(0);
        // MPEG-TS timestamps wrap every 2^33 ticks of 90 kHz (about 26.5 hours).
        let wrap = match format {
            SegmentFormat::Ts => (1u64 << 33) as f64 / f64::from(TS_TIMESCALE),
            SegmentFormat::Fmp4 => 0.0,
        };
        let offset = tl
            .position(info.sequence)
            .and_then(|p| tl.anchor_wrapping(p, first, wrap))
            .unwrap_or(info.start - first);
        let frames: Vec<u64> = (0..index.frame_count())
            .map(|k| tl.frame_of(offset, pts(k)).max(0) as u64)
            .collect();
        if let Some(&last) = frames.iter().max() {
            tl.note_frames(info.sequence, last);
        }
        (offset, frames)
    }

    /// An initialization section, read once.
    async fn init(&self, map: &MapInfo) -> Result<Rc<Vec<u8>>> {
        if let Some((_, b)) = self.inits.borrow().iter().find(|(m, _)| m == map) {
            return Ok(Rc::clone(b));
        }
        let bytes = Rc::new(self.get(&map.uri, map.byte_range, SEGMENT_MAX).await?);
        self.inits
            .borrow_mut()
            .push((map.clone(), Rc::clone(&bytes)));
        Ok(bytes)
    }

    /// The AES-128 key at `uri` (16 bytes), fetched once.
    async fn key(&self, uri: &str) -> Result<Rc<Vec<u8>>> {
        if let Some((_, k)) = self.keys.borrow().iter().find(|(u, _)| u == uri) {
            return Ok(Rc::clone(k));
        }
        let key = Rc::new(self.get(uri, None, KEY_MAX).await?);
        if key.len() != 16 {
            return Err(Failure::new(
                "invalid",
                format!("the AES-128 key {uri} has {} bytes, not 16", key.len()),
            ));
        }
        self.keys
            .borrow_mut()
            .push((uri.to_string(), Rc::clone(&key)));
        Ok(key)
    }

    /// GETs `url` (bytes `range` of it, else the whole resource up to `max` bytes), retrying
    /// transient failures with backoff.
    async fn get(&self, url: &str, range: Option<ByteRange>, max: u64) -> Result<Vec<u8>> {
        let target = Target {
            url: url.to_string(),
            headers: self.target.headers.clone(),
            credentials: self.target.credentials.clone(),
        };
        let mut attempt = 0u32;
        loop {
            if self.closed.get() {
                return Err(Failure::new("closed", "the video was closed"));
            }
            self.count(|c| c.requests += 1);
            match self.get_once(&target, range, max).await {
                Ok(v) => return Ok(v),
                Err(e) if e.transient && attempt < self.retries => {
                    attempt += 1;
                    self.count(|c| c.retries += 1);
                    fetch::sleep(100 << attempt.min(6)).await;
                }
                Err(e) => return Err(e.failure),
            }
        }
    }

    async fn get_once(
        &self,
        target: &Target,
        range: Option<ByteRange>,
        max: u64,
    ) -> Result<Vec<u8>, FetchError> {
        // A whole resource is asked for as a bounded range too: a 206 tells its size, and a
        // server without range support answers 200 with the whole body, which is what is
        // wanted here.
        let (start, end) = range.map_or((0, max), |r| (r.start, r.end));
        let body = fetch::get_range(target, start, end).await?;
        let fatal = |code: &'static str, msg: String| FetchError {
            transient: false,
            failure: Failure::new(code, msg),
        };
        if range.is_some() && body.whole && body.total.is_none_or(|t| t > max) {
            body.abort_controller().abort();
            return Err(fatal(
                "range-ignored",
                format!(
                    "{} answered a ranged request with the whole file (HTTP 200, not 206), too large to read whole",
                    target.url
                ),
            ));
        }
        if range.is_none() && !body.whole && body.total.is_some_and(|t| t > max) {
            body.abort_controller().abort();
            return Err(fatal(
                "unsupported",
                format!("{} is larger than {max} bytes", target.url),
            ));
        }
        // The body covers [skip, skip + want) of what it carries.
        let skip = if body.whole { start } else { 0 };
        let want = end - start;
        let mut out = Vec::new();
        let mut seen = 0u64;
        while let Some(chunk) = body.next().await? {
            let n = u64::from(chunk.length());
            self.count(|c| c.bytes_fetched += n);
            let a = skip.saturating_sub(seen).min(n);
            let b = (skip + want).saturating_sub(seen).min(n);
            if b > a {
                let old = out.len();
                out.resize(old + (b - a) as usize, 0);
                chunk.subarray(a as u32, b as u32).copy_to(&mut out[old..]);
            }
            seen += n;
            if seen >= skip + want {
                body.abort_controller().abort();
                if range.is_none() {
                    return Err(fatal(
                        "unsupported",
                        format!("{} is larger than {max} bytes", target.url),
                    ));
                }
                break;
            }
        }
        if range.is_some() && (out.len() as u64) < want {
            return Err(FetchError {
                transient: true,
                failure: Failure::new(
                    "network",
                    format!(
                        "the response for bytes {start}-{} of {} ended early",
                        end - 1,
                        target.url
                    ),
                ),
            });
        }
        Ok(out)
    }

    /// Cancels reloads and fetches to come.
    pub fn close(&self) {
        self.closed.set(true);
        self.slots.borrow_mut().clear();
        *self.joined.borrow_mut() = None;
        self.notify.notify();
    }
}

/// Maps a core error to a failure whose message starts with `what` (a playlist or segment).
fn failure_in(what: String) -> impl FnOnce(frameseek_core::Error) -> Failure {
    move |e| {
        let f = Failure::from(e);
        Failure::new(f.code, format!("{what}: {}", f.message))
    }
}

/// The error for a segment no longer in a live playlist's window.
fn left_window() -> Failure {
    Failure::new("out-of-range", "the segment left the live window")
}

/// Checks a media playlist before use and resolves its URIs against `url`.
fn check(mut media: MediaPlaylist, url: &str) -> Result<MediaPlaylist> {
    if media.i_frames_only {
        return Err(Failure::new(
            "unsupported",
            format!("{url} is an I-frame-only playlist"),
        ));
    }
    if media.segments.is_empty() && !media.is_live() {
        return Err(Failure::new(
            "invalid",
            format!("the playlist {url} lists no segments"),
        ));
    }
    media.resolve_uris(url);
    Ok(media)
}
