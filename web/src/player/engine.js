// The playback engine of <frameseek-player>: opens the source with the frameseek module,
// keeps a small queue of decoded frames ahead of the playhead (decode passes cut at sync
// frames, no further ahead than `prefetch` seconds allow), drives a clock (the AudioContext
// when there is audio, else performance.now()), paints the frame whose presentation
// interval holds the clock, and implements exact seeks and frame steps.
import { open } from '../index.js';
import { AudioOutput } from './audio.js';
import { PlayerError, Ranges, lastAtOrBefore, mediaErrorCode } from './util.js';

/** Decoded frames held ahead of the playhead. */
const QUEUE = 4;
/** Seconds the next frame may be late (with nothing to show) before playback waits. */
const LATE = 0.05;
/** A 'timeupdate' at most this often while playing (ms). */
const TIMEUPDATE_MS = 250;
/** A 'progress' at most this often (ms). */
const PROGRESS_MS = 350;
/** Longest wait for audio before playback starts without it being ready (ms). */
const AUDIO_WAIT_MS = 1500;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function abortError(message) {
  return new DOMException(message, 'AbortError');
}

/** How often a live source's timeline is refreshed from the module (ms). */
const LIVE_REFRESH_MS = 500;
/** Where live playback starts: this many target durations behind the newest frame (RFC 8216 §6.3.3). */
const LIVE_DELAY_SEGMENTS = 3;

export class Engine {
  /**
   * @param {{ emit(type: string): void, paint(frame: VideoFrame): void, loop(): boolean,
   *   resized(): void }} host
   */
  constructor(host) {
    this.host = host;
    this.prefetch = 3;
    this.volume = 1;
    this.muted = false;
    this.rate = 1;
    this.#reset();
  }

  #reset() {
    this.video = null;
    this.info = null;
    this.live = false;
    this.windowStart = 0;
    this.sourceMarkers = [];
    this.audio = null;
    this.times = new Float64Array(0);
    this.syncs = new Uint32Array(0);
    this.duration = NaN;
    this.paused = true;
    this.ended = false;
    this.seeking = false;
    this.waiting = false;
    this.readyState = 0;
    this.networkState = 0;
    this.error = null;
    this.shown = -1;
    this.queue = [];
    this.clock = { running: false, base: 0, at: 0, source: 'wall' };
    this.counters = { drift: 0, maxDrift: 0, framesPainted: 0, framesDropped: 0, stalls: 0 };
    this.pendingSeek = null;
    this.playRequested = false;
    this.plays = [];
    this.lastTimeupdate = 0;
    this.lastProgress = 0;
    this.lastBytes = -1;
    this.bufferedCache = null;
  }

  #loadGen = 0;
  #seekGen = 0;
  #prodGen = 0;
  /** Aborts the producer's decode pass (see #stopProducer). */
  #prodAbort = null;
  /** The frame the producer queues next, while it runs. */
  #prodNext = -1;
  #resumeGen = 0;
  #raf = 0;
  #timer = 0;
  #steps = Promise.resolve();
  #stepTarget = null;
  #pendingSteps = 0;
  #prefetchedTo = -1;
  #liveTimer = 0;

  // ---- loading ----------------------------------------------------------------------

  /** Opens `src` (closing what was open); resolves once the first frame is painted. */
  async load(src, opts = {}) {
    const hadMedia = this.video || this.readyState > 0;
    this.unload();
    const gen = ++this.#loadGen;
    if (hadMedia) this.host.emit('emptied');
    if (!src) return;
    this.networkState = 2;
    this.host.emit('loadstart');
    let video;
    try {
      // One microtask first: an element upgraded while the package entry is still being
      // evaluated (it registers the element before its own body runs) must not reach into it.
      await null;
      if (gen !== this.#loadGen) return;
      // `fromStart`: the first request reads on into the media data the first frames need,
      // unless a seek is already waiting.
      video = await open(src, { fromStart: this.pendingSeek === null, ...opts, player: true });
    } catch (e) {
      if (gen !== this.#loadGen) return;
      this.#fail(e);
      return;
    }
    if (gen !== this.#loadGen) {
      video.close();
      return;
    }
    this.video = video;
    this.info = video.info;
    try {
      if (!this.info.codec || !this.info.frameCount) throw Object.assign(new Error('frameseek: the file has no video track'), { code: 'no-track' });
      this.times = video.frameTimes();
      this.syncs = video.syncFrames();
      this.duration = this.info.duration;
      this.live = video.live;
      this.sourceMarkers = video.markers;
      if (this.live) {
        this.#refreshLive();
        this.#liveTimer = setInterval(() => this.#refreshLive(), LIVE_REFRESH_MS);
      }
      const config = await AudioOutput.configFor(video);
      if (gen !== this.#loadGen) return;
      if (config) {
        this.audio = new AudioOutput(video, config, {
          onError: (e) => console.warn('frameseek-player: audio disabled:', e),
          onStateChange: () => this.#audioStateChanged(),
        });
        this.audio.setVolume(this.volume, this.muted);
      }
      this.readyState = 1;
      this.host.emit('durationchange');
      this.host.emit('loadedmetadata');
      const t = this.pendingSeek;
      this.pendingSeek = null;
      if (t !== null) {
        await this.seek(t);
      } else {
        const t0 = this.live ? this.liveStart() : 0;
        const k = this.frameIndexAt(t0);
        const frame = await video.frameAt(k);
        if (gen !== this.#loadGen) {
          frame.close();
          return;
        }
        this.clock.base = this.times[k] ?? 0;
        this.#paint(frame, k);
        this.#prefetchedTo = -1;
        this.#prefetchAhead(this.clock.base);
        this.#startProducer(k + 1);
        this.audio?.pump(this.clock.base, this.clock.base + this.prefetch);
      }
      if (gen !== this.#loadGen) return;
      this.readyState = 4;
      this.networkState = 1;
      this.host.emit('loadeddata');
      this.host.emit('canplay');
      this.host.emit('canplaythrough');
      this.#progress(true);
      if (this.playRequested) {
        this.playRequested = false;
        this.#startPlaying();
      }
    } catch (e) {
      if (gen === this.#loadGen) this.#fail(e);
    }
  }

  /**
   * A live source: takes the module's current timeline (frames up to the newest segment,
   * the window's start) and markers; 'durationchange' when the live edge moved.
   */
  #refreshLive() {
    const v = this.video;
    if (!v || !this.live) return;
    try {
      const times = v.frameTimes();
      const { start } = v.frameRange();
      const fd = this.info.fps ? 1 / this.info.fps : 0;
      this.windowStart = times[start] ?? 0;
      this.live = v.live;
      const markers = v.markers;
      if (JSON.stringify(markers) !== JSON.stringify(this.sourceMarkers)) {
        this.sourceMarkers = markers;
        this.host.emit('sourcemarkers');
      }
      if (times.length !== this.times.length) {
        this.times = times;
        this.syncs = v.syncFrames();
        this.duration = times.length ? times[times.length - 1] + fd : 0;
        this.#wake();
        this.host.emit('durationchange');
      }
    } catch (e) {
      if (e?.code !== 'closed') console.warn('frameseek-player: live refresh:', e);
    }
  }

  /**
   * A live source whose window slid past the frames being read (the server deleted their
   * segment, or they left the playlist): not an error for the viewer, who rejoins the window.
   */
  #behindLiveWindow(e) {
    if (!this.live) return false;
    if (e?.code === 'out-of-range') return true;
    return e?.code === 'http' && /\b(404|410)\b/.test(String(e.message));
  }

  #rejoinLive() {
    this.counters.stalls += 1;
    queueMicrotask(() => {
      if (this.video) this.seek(this.liveStart()).catch?.(() => {});
    });
  }

  /** Where live playback starts or rejoins: a few target durations behind the newest frame. */
  liveStart() {
    const target = this.info?.hls?.targetDuration ?? 2;
    return Math.max(this.windowStart, this.duration - LIVE_DELAY_SEGMENTS * target);
  }

  /** Closes the source and forgets its state. */
  unload() {
    clearInterval(this.#liveTimer);
    this.#liveTimer = 0;
    this.#loadGen += 1;
    this.#seekGen += 1;
    this.#resumeGen += 1;
    this.#stopProducer();
    this.#stopLoop();
    this.#rejectPlays(abortError('The play() request was interrupted by a new load request.'));
    this.audio?.close();
    try {
      this.video?.close();
    } catch {}
    const keep = { prefetch: this.prefetch, volume: this.volume, muted: this.muted, rate: this.rate };
    this.#reset();
    Object.assign(this, keep);
  }

  #fail(e) {
    const err =
      e instanceof PlayerError
        ? e
        : new PlayerError(mediaErrorCode(e), String(e?.message ?? e), e);
    this.error = err;
    this.networkState = 3;
    this.#stopClock();
    this.#stopLoop();
    this.#stopProducer();
    this.#rejectPlays(err);
    this.seeking = false;
    this.host.emit('error');
  }

  // ---- timeline helpers -------------------------------------------------------------

  get frameCount() {
    return this.times.length;
  }

  /** The index of the frame on screen at media time `t`. */
  frameIndexAt(t) {
    if (!this.times.length) return -1;
    return Math.max(0, lastAtOrBefore(this.times, t + 1e-7));
  }

  #frameEnd(k) {
    return k + 1 < this.times.length ? this.times[k + 1] : this.duration;
  }

  /** The first sync frame at or after `k` (the frame count when none). */
  #syncAtOrAfter(k) {
    const i = lastAtOrBefore(this.syncs, k - 1) + 1;
    return i < this.syncs.length ? this.syncs[i] : this.times.length;
  }

  get currentTime() {
    if (this.pendingSeek !== null) return this.pendingSeek;
    return Math.min(this.#mediaNow(), Number.isFinite(this.duration) ? this.duration : Infinity);
  }

  get buffered() {
    const now = performance.now();
    if (!this.video) return new Ranges();
    if (!this.bufferedCache || now - this.bufferedCache.at > 250) {
      let flat = [];
      try {
        flat = this.video.bufferedRanges();
      } catch {}
      this.bufferedCache = { at: now, ranges: new Ranges(flat) };
    }
    return this.bufferedCache.ranges;
  }

  get stats() {
    const base = this.video ? this.video.stats : {};
    return {
      ...base,
      ...this.counters,
      clock: this.clock.source,
      audioTime: this.audio?.ctx ? this.audio.ctx.currentTime : null,
      audioState: this.audio?.ctx ? this.audio.ctx.state : this.audio ? 'not-started' : 'none',
      queuedFrames: this.queue.length,
    };
  }

  // ---- clock ------------------------------------------------------------------------

  #sourceNow(source) {
    return source === 'audio' && this.audio?.ctx ? this.audio.now() : performance.now() / 1000;
  }

  #mediaNow() {
    const c = this.clock;
    if (!c.running) return c.base;
    return c.base + Math.max(0, this.#sourceNow(c.source) - c.at) * this.rate;
  }

  #startClock(t) {
    const audio = this.audio && !this.audio.failed && this.audio.running ? this.audio : null;
    if (audio) {
      const at = audio.startTime();
      this.clock = { running: true, base: t, at, source: 'audio' };
      audio.start(t, at, this.rate);
    } else {
      this.clock = { running: true, base: t, at: performance.now() / 1000, source: 'wall' };
    }
  }

  /** Stops the clock where it is; returns that media time. */
  #stopClock() {
    const t = this.currentTime;
    this.clock = { ...this.clock, running: false, base: Number.isFinite(t) ? t : 0 };
    this.audio?.stop();
    return this.clock.base;
  }

  #audioStateChanged() {
    // A context that starts running later (a user gesture after an autoplay without one)
    // takes over as the clock.
    if (this.audio?.running && this.clock.running && this.clock.source !== 'audio') {
      this.#startClock(this.#stopClock());
    }
  }

  // ---- play / pause -----------------------------------------------------------------

  /** Resolves when playback has started ('playing'); rejects if it is interrupted. */
  play() {
    const p = new Promise((resolve, reject) => this.plays.push({ resolve, reject }));
    if (this.error) {
      const name = this.error.code === PlayerError.MEDIA_ERR_SRC_NOT_SUPPORTED ? 'NotSupportedError' : 'AbortError';
      this.#rejectPlays(new DOMException(this.error.message, name));
      return p;
    }
    if (!this.paused && !this.waiting && this.clock.running) {
      this.#resolvePlays();
      return p;
    }
    if (this.paused) {
      this.paused = false;
      this.host.emit('play');
    }
    if (this.readyState < 1) {
      this.playRequested = true;
      return p;
    }
    this.#startPlaying();
    return p;
  }

  #startPlaying() {
    if (!this.live && (this.ended || this.currentTime >= this.duration - 1e-6)) {
      this.ended = false;
      this.seek(0);
      return; // seek() resumes playback when it is done
    }
    this.#resume();
  }

  pause() {
    this.playRequested = false;
    this.#resumeGen += 1;
    if (this.paused) return;
    this.paused = true;
    this.waiting = false;
    const t = this.#stopClock();
    this.#stopLoop();
    if (!this.seeking && this.video) this.#present(t, false);
    this.#rejectPlays(abortError('The play() request was interrupted by a call to pause().'));
    this.host.emit('timeupdate');
    this.host.emit('pause');
  }

  #resolvePlays() {
    const p = this.plays;
    this.plays = [];
    for (const x of p) x.resolve();
  }

  #rejectPlays(e) {
    const p = this.plays;
    this.plays = [];
    for (const x of p) x.reject(e);
  }

  /** Waits until the frame and audio at the clock's position are ready, then runs the clock. */
  async #resume() {
    const gen = ++this.#resumeGen;
    // Stopped after steps (see #goto): decode from the frame after the one on screen.
    if (this.#prodNext < 0 && this.video) this.#startProducer(this.shown + 1);
    const live = () => gen === this.#resumeGen && !this.paused && !this.seeking && this.video;
    if (this.audio && !this.audio.failed && !this.audio.running) {
      const running = await this.audio.resume(300);
      if (!running) this.#resumeOnGesture();
    }
    if (!live()) return;
    const t = this.clock.base;
    const started = performance.now();
    for (;;) {
      if (!live()) return;
      this.audio?.pump(t, t + this.prefetch);
      const k = this.frameIndexAt(t);
      const videoReady =
        this.shown === k && (this.queue.length > 0 || k + 1 >= this.frameCount || this.#producerIdleAt(k + 1));
      const audioReady = !this.audio?.running || this.audio.readyAt(t) || performance.now() - started > AUDIO_WAIT_MS;
      if (videoReady && audioReady) break;
      if (this.shown !== k && this.queue.length && this.queue[0].k <= k) {
        this.#present(t, false);
        continue;
      }
      if (!this.waiting && performance.now() - started > 100) {
        this.waiting = true;
        this.readyState = 2;
        this.host.emit('waiting');
      }
      this.#wake();
      await sleep(15);
    }
    this.#startClock(t);
    this.waiting = false;
    this.readyState = 4;
    this.counters.maxDrift = 0;
    this.counters.drift = 0;
    this.host.emit('playing');
    this.#resolvePlays();
    this.lastTimeupdate = performance.now();
    this.#loop();
  }

  /** The producer has nothing more to give before frame `k` is wanted (end of the file). */
  #producerIdleAt(k) {
    return k >= this.frameCount && !this.live;
  }

  #resumeOnGesture() {
    if (this.gestureHooked || typeof document === 'undefined') return;
    this.gestureHooked = true;
    const go = () => {
      document.removeEventListener('pointerdown', go, true);
      document.removeEventListener('keydown', go, true);
      this.gestureHooked = false;
      this.audio?.ctx?.resume().catch(() => {});
    };
    document.addEventListener('pointerdown', go, true);
    document.addEventListener('keydown', go, true);
  }

  // ---- the frame loop ---------------------------------------------------------------

  #loop() {
    if (this.#raf || this.#timer) return;
    const run = () => {
      this.#raf = 0;
      this.#timer = 0;
      if (this.#tick()) this.#loop();
    };
    if (typeof document !== 'undefined' && document.hidden) this.#timer = setTimeout(run, 100);
    else this.#raf = requestAnimationFrame(run);
  }

  #stopLoop() {
    if (this.#raf) cancelAnimationFrame(this.#raf);
    if (this.#timer) clearTimeout(this.#timer);
    this.#raf = 0;
    this.#timer = 0;
  }

  /** One step of playback; false when the loop should stop. */
  #tick() {
    if (this.paused || this.seeking || !this.clock.running || !this.video) return false;
    const t = this.#mediaNow();
    this.audio?.pump(t, t + this.prefetch);
    this.#prefetchAhead(t);
    this.#wake();
    if (t >= this.duration) {
      if (this.live) {
        // The live edge: wait for the next segment.
        this.#stall();
        return false;
      }
      this.#present(this.duration, true);
      this.#finish();
      return false;
    }
    const ok = this.#present(t, true);
    if (!ok && !this.queue.length) {
      const late = t - this.#frameEnd(this.shown);
      if (late > LATE) {
        this.#stall();
        return false;
      }
    }
    const now = performance.now();
    if (now - this.lastTimeupdate >= TIMEUPDATE_MS) {
      this.lastTimeupdate = now;
      this.host.emit('timeupdate');
    }
    this.#progress(false);
    return true;
  }

  /**
   * Paints the latest queued frame presented at or before `t` (dropping older ones). Returns
   * whether the frame on screen is the one for `t`; while playing, records the drift.
   */
  #present(t, playing) {
    let i = -1;
    while (i + 1 < this.queue.length && this.queue[i + 1].t <= t + 1e-6) i++;
    if (i >= 0) {
      for (let j = 0; j < i; j++) this.queue[j].frame.close();
      if (playing) this.counters.framesDropped += i;
      const { frame, k } = this.queue[i];
      this.queue.splice(0, i + 1);
      this.#paint(frame, k);
      this.#wake();
    }
    const want = this.frameIndexAt(t);
    const ok = this.shown >= want;
    if (playing) {
      // How far the clock is outside the painted frame's presentation interval.
      const start = this.times[this.shown] ?? 0;
      const end = this.#frameEnd(this.shown);
      const drift = t < start ? start - t : t >= end && !ok ? t - end : 0;
      this.counters.drift = drift;
      if (drift > this.counters.maxDrift) this.counters.maxDrift = drift;
    }
    return ok;
  }

  #paint(frame, k) {
    try {
      this.host.paint(frame);
      this.shown = k;
      this.counters.framesPainted += 1;
    } finally {
      frame.close();
    }
  }

  #stall() {
    const t = this.#stopClock();
    this.counters.stalls += 1;
    this.clock.base = t;
    this.waiting = true;
    this.readyState = 2;
    this.host.emit('waiting');
    this.#resume();
  }

  #finish() {
    if (this.host.loop()) {
      this.seek(0);
      return;
    }
    this.#stopClock();
    this.clock.base = this.duration;
    this.paused = true;
    this.ended = true;
    this.host.emit('timeupdate');
    this.host.emit('pause');
    this.host.emit('ended');
  }

  #progress(force) {
    const now = performance.now();
    if (!force && now - this.lastProgress < PROGRESS_MS) return;
    const bytes = this.video?.stats.bytesFetched ?? 0;
    if (!force && bytes === this.lastBytes) return;
    this.lastProgress = now;
    this.lastBytes = bytes;
    this.bufferedCache = null;
    this.host.emit('progress');
  }

  // ---- the frame producer -------------------------------------------------------------

  #waiters = [];

  /** Resolves once `pred()` holds (checked on wake-ups and every 30 ms). */
  #until(pred) {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const w = { pred, resolve, timer: 0 };
      const poll = () => {
        if (w.pred()) {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          resolve();
        } else {
          w.timer = setTimeout(poll, 30);
        }
      };
      w.timer = setTimeout(poll, 30);
      this.#waiters.push(w);
    });
  }

  #wake() {
    if (!this.#waiters.length) return;
    const ready = this.#waiters.filter((w) => w.pred());
    if (!ready.length) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  #startProducer(k0) {
    const gen = ++this.#prodGen;
    this.#prodAbort?.abort();
    this.#prodAbort = new AbortController();
    this.#produce(gen, k0).catch((e) => {
      if (gen !== this.#prodGen || e?.code === 'closed') return;
      if (this.#behindLiveWindow(e)) this.#rejoinLive();
      else this.#fail(e);
    });
  }

  #stopProducer() {
    this.#prodGen += 1;
    // Stop the pass at once: it holds the decoder, which the next frame request needs.
    this.#prodAbort?.abort();
    this.#prodAbort = null;
    this.#prodNext = -1;
    for (const q of this.queue) q.frame.close();
    this.queue = [];
    this.#wake();
  }

  async #produce(gen, k) {
    const live = () => gen === this.#prodGen;
    const signal = this.#prodAbort.signal;
    for (;;) {
      if (!live()) return;
      this.#prodNext = k;
      if (k >= this.frameCount) {
        // A live source grows: wait for the frames of the next segment.
        if (!this.live) return;
        await this.#until(() => !live() || k < this.frameCount);
        if (!live()) return;
      }
      // Start the next decode pass only when its first frame is due within `prefetch`.
      await this.#until(() => !live() || this.times[k] - this.currentTime < this.prefetch);
      if (!live()) return;
      const horizon = this.currentTime + this.prefetch;
      const end = this.#syncAtOrAfter(Math.max(lastAtOrBefore(this.times, horizon - 1e-9) + 1, k + 1));
      for await (const frame of this.video.frames({ start: k, end, ahead: 2, signal })) {
        if (!live()) {
          frame.close();
          return;
        }
        this.queue.push({ k, t: this.times[k], frame });
        this.#prodNext = k += 1;
        this.#wake();
        if (this.paused && this.#pendingSteps === 0 && !this.seeking) this.#progress(false);
        await this.#until(() => !live() || this.queue.length < QUEUE);
        if (!live()) return;
      }
      k = Math.max(k, end);
    }
  }

  // ---- seeking and stepping -----------------------------------------------------------

  /** Moves to media time `t`, showing exactly the frame presented at `t`. */
  seek(t) {
    t = Number(t);
    if (!Number.isFinite(t)) throw new TypeError('currentTime must be a finite number');
    if (this.readyState < 1) {
      this.pendingSeek = Math.max(0, t);
      return Promise.resolve();
    }
    t = Math.max(this.live ? this.windowStart : 0, Math.min(t, this.duration));
    return this.#goto(t, this.frameIndexAt(t));
  }

  /** Moves `n` frames from the frame on screen (pausing first), exactly. */
  step(n = 1) {
    n = Math.trunc(Number(n));
    if (!this.video || !Number.isFinite(n)) return Promise.resolve();
    if (!this.paused) this.pause();
    const from = this.#stepTarget ?? this.shown;
    const k = Math.max(0, Math.min(this.frameCount - 1, from + n));
    this.#stepTarget = k;
    this.#pendingSteps += 1;
    const run = () =>
      this.#goto(Math.max(0, Math.min(this.times[k], this.duration)), k, true).finally(() => {
        this.#pendingSteps -= 1;
        if (this.#pendingSteps === 0) this.#stepTarget = null;
      });
    this.#steps = this.#steps.then(run, run);
    return this.#steps;
  }

  /**
   * Shows frame `k` at media time `t` ('seeking' ... 'seeked'), then resumes if playing. After
   * a seek the producer starts decoding from `k + 1` at once; after a step (`step`) it is left
   * stopped until playback resumes, so that the next steps are the module's frameAt steps
   * (forward on one pass, backward onto the frames a step back kept) and no pass is started
   * only to be aborted by them.
   */
  async #goto(t, k, step = false) {
    const gen = ++this.#seekGen;
    this.#resumeGen += 1;
    this.#stopClock();
    this.#stopLoop();
    this.clock.base = t;
    this.ended = false;
    this.seeking = true;
    this.host.emit('seeking');
    this.host.emit('timeupdate');
    // The producer is about to queue frame k (a step forward right after a seek or a step
    // back restarted it): wait for it rather than decode the GOP again.
    const pg = this.#prodGen;
    if (this.#prodNext === k && !this.queue.some((q) => q.k >= k)) {
      // The frames before k make room for it (a full queue holds the producer back).
      for (const q of this.queue) q.frame.close();
      this.queue = [];
      this.#wake();
      await this.#until(() => gen !== this.#seekGen || pg !== this.#prodGen || this.error || this.queue.some((q) => q.k === k));
      if (gen !== this.#seekGen) return;
    }
    const i = this.queue.findIndex((q) => q.k === k);
    if (i >= 0) {
      // Decoded already (a step forward): drop what lies before it, keep the producer going.
      for (let j = 0; j < i; j++) this.queue[j].frame.close();
      const { frame } = this.queue[i];
      this.queue.splice(0, i + 1);
      this.#paint(frame, k);
      this.#wake();
    } else if (k !== this.shown || this.queue.length === 0 || this.queue[0].k !== k + 1) {
      this.#stopProducer();
      if (k !== this.shown) {
        let frame;
        try {
          // A step from a frame the producer decoded: `from` lets the module see the step
          // (a step back keeps the frames before it for the next ones).
          frame = await this.video.frameAt(k, step ? { from: this.shown } : undefined);
        } catch (e) {
          if (gen !== this.#seekGen || e?.code === 'closed') return;
          if (this.#behindLiveWindow(e)) this.#rejoinLive();
          else this.#fail(e);
          return;
        }
        if (gen !== this.#seekGen) {
          frame.close();
          return;
        }
        this.#paint(frame, k);
      }
      if (!step) this.#startProducer(k + 1);
    }
    // Like a media element, finish the seek asynchronously even when the frame was at hand (a
    // step onto a decoded frame): `seeking` reads true right after currentTime is set, and
    // 'seeked' comes after the setter has returned.
    await null;
    if (gen !== this.#seekGen) return;
    this.#prefetchedTo = -1;
    this.#prefetchAhead(t);
    this.audio?.reset(t);
    this.audio?.pump(t, t + this.prefetch);
    this.seeking = false;
    this.host.emit('timeupdate');
    this.host.emit('seeked');
    this.#progress(true);
    if (!this.paused) this.#resume();
  }

  // ---- settings ---------------------------------------------------------------------

  setVolume(volume, muted) {
    this.volume = volume;
    this.muted = muted;
    this.audio?.setVolume(volume, muted);
  }

  setRate(rate) {
    if (this.clock.running) {
      const t = this.#stopClock();
      this.rate = rate;
      this.#startClock(t);
    } else {
      this.rate = rate;
    }
  }

  setPrefetch(seconds) {
    this.prefetch = seconds;
    if (this.video && this.readyState >= 1) this.#prefetchAhead(this.currentTime);
    this.#wake();
  }

  /**
   * Keeps the bytes of the frames up to `prefetch` seconds past `t` fetched or on their way
   * (the decode passes themselves stop at the first sync frame past that horizon).
   */
  #prefetchAhead(t) {
    const to = Math.min(this.duration, t + this.prefetch);
    if (this.#prefetchedTo >= t && to - this.#prefetchedTo < 0.25) return;
    const from = Math.max(t, this.#prefetchedTo);
    this.#prefetchedTo = to;
    try {
      this.video.prefetchFrames(from, to);
    } catch (e) {
      if (e?.code !== 'closed') console.warn('frameseek-player: prefetch:', e);
    }
  }
}
