// The player's audio: compressed samples from the frameseek module (`video.audioChunks`),
// decoded by WebCodecs' AudioDecoder into AudioBuffers and scheduled on a Web Audio
// AudioContext. The context's clock is the player's master clock: `now()` is the context
// time of the sample being heard, and each buffer starts at the context time that the
// anchor (media time `media` plays at context time `at`) gives its timestamp.

/** Seconds decoded before a new position so that the decoder's overlap is warm. */
const PREROLL = 0.1;
/** Smallest fetch window in seconds (fewer, larger requests). */
const MIN_WINDOW = 0.5;
/** Decoded seconds kept behind the playhead (for a pause/resume without refetching). */
const KEEP_BEHIND = 1;

export class AudioOutput {
  /** The decoder configuration of the first audio track, or null when it cannot be played. */
  static async configFor(video) {
    const config = video.audioConfig?.();
    if (!config || typeof AudioDecoder === 'undefined' || typeof AudioContext === 'undefined') return null;
    try {
      const { supported } = await AudioDecoder.isConfigSupported(config);
      return supported ? config : null;
    } catch {
      return null;
    }
  }

  /**
   * @param video an open frameseek Video
   * @param config its audio decoder configuration (from `configFor`)
   * @param {{ onError?: (e: Error) => void }} hooks
   */
  constructor(video, config, hooks = {}) {
    this.video = video;
    this.config = config;
    this.duration = config.duration ?? Infinity;
    this.hooks = hooks;
    /** @type {AudioContext | null} */
    this.ctx = null;
    this.gain = null;
    this.volume = 1;
    this.muted = false;
    this.failed = null;
    this.entries = [];
    this.anchor = null;
    this.gen = 0;
    this.fetchedUntil = 0;
    this.from = 0;
    this.fetching = false;
    this.decoder = null;
    this.#newDecoder();
  }

  #newDecoder() {
    try {
      this.decoder = new AudioDecoder({
        output: (data) => this.#output(data),
        error: (e) => this.#fail(e),
      });
      this.decoder.configure(this.config);
    } catch (e) {
      this.#fail(e);
    }
  }

  #fail(e) {
    if (this.failed) return;
    this.failed = e instanceof Error ? e : new Error(String(e));
    this.hooks.onError?.(this.failed);
  }

  /** Creates the AudioContext (on the first play(): browsers tie it to user activation). */
  context() {
    if (!this.ctx) {
      const ctx = new AudioContext({ latencyHint: 'playback' });
      this.ctx = ctx;
      this.gain = ctx.createGain();
      this.gain.connect(ctx.destination);
      this.#applyVolume();
      ctx.addEventListener('statechange', () => {
        if (this.ctx === ctx) this.hooks.onStateChange?.(ctx.state);
      });
    }
    return this.ctx;
  }

  /** Resumes the context; true when it runs within `timeoutMs` (an autoplay policy may hold it). */
  async resume(timeoutMs = 300) {
    const ctx = this.context();
    if (ctx.state === 'running') return true;
    if (ctx.state === 'closed') return false;
    const resumed = ctx.resume().then(
      () => true,
      () => false,
    );
    const timeout = new Promise((r) => setTimeout(() => r(false), timeoutMs));
    await Promise.race([resumed, timeout]);
    return ctx.state === 'running';
  }

  get running() {
    return this.ctx?.state === 'running';
  }

  /** Context time of the sample being heard now (seconds). */
  now() {
    const ctx = this.ctx;
    if (!ctx) return 0;
    const ts = ctx.getOutputTimestamp?.();
    if (ts && ts.performanceTime > 0 && ts.contextTime > 0) {
      const t = ts.contextTime + (performance.now() - ts.performanceTime) / 1000;
      return Math.min(t, ctx.currentTime);
    }
    return Math.max(0, ctx.currentTime - (ctx.baseLatency || 0) - (ctx.outputLatency || 0));
  }

  /** A context time a little ahead, at which newly scheduled sound can start whole. */
  startTime() {
    return this.context().currentTime + 0.03;
  }

  setVolume(volume, muted) {
    this.volume = volume;
    this.muted = muted;
    this.#applyVolume();
  }

  #applyVolume() {
    if (this.gain) this.gain.gain.value = this.muted ? 0 : this.volume;
  }

  /** Plays media time `media` at context time `at`, at `rate`: schedules the decoded audio. */
  start(media, at, rate) {
    this.stop();
    this.anchor = { media, at, rate };
    for (const e of this.entries) this.#schedule(e);
  }

  /** Stops what is scheduled (pause, stall); decoded audio is kept. */
  stop() {
    this.anchor = null;
    for (const e of this.entries) {
      if (e.node) {
        try {
          e.node.stop();
        } catch {}
        e.node.disconnect();
        e.node = null;
      }
    }
  }

  /** Moves to media time `t` (a seek): drops decoded audio and restarts decoding there. */
  reset(t) {
    this.stop();
    this.entries = [];
    this.gen += 1;
    this.fetching = false;
    this.fetchedUntil = Math.max(0, t - PREROLL);
    this.from = this.fetchedUntil;
    if (this.failed) return;
    try {
      if (this.decoder && this.decoder.state !== 'closed') this.decoder.reset();
      this.decoder.configure(this.config);
    } catch {
      this.#newDecoder();
    }
  }

  /** Fetches and decodes what lies before `horizon` (media seconds); `now` prunes played audio. */
  pump(now, horizon) {
    const cut = now - KEEP_BEHIND;
    if (this.entries.length && this.entries[0].t + this.entries[0].d < cut) {
      this.entries = this.entries.filter((e) => e.t + e.d >= cut || e.node);
    }
    if (this.failed || this.fetching || this.fetchedUntil >= this.duration) return;
    const to = Math.min(horizon, this.duration + 1);
    if (to - this.fetchedUntil < MIN_WINDOW && horizon < this.duration) return;
    const gen = this.gen;
    this.fetching = true;
    this.video.audioChunks(this.fetchedUntil, to).then(
      ({ chunks, next }) => {
        if (gen !== this.gen) return;
        this.fetching = false;
        this.fetchedUntil = Math.max(next, this.fetchedUntil + 1e-6);
        if (!chunks.length && next >= to) this.fetchedUntil = Math.max(this.fetchedUntil, to);
        try {
          for (const c of chunks) this.decoder.decode(c);
        } catch (e) {
          this.#fail(e);
        }
      },
      (e) => {
        if (gen !== this.gen) return;
        this.fetching = false;
        if (e?.code === 'closed') return;
        this.#fail(e);
      },
    );
  }

  /** Decoded audio covers media time `t` (or there is none to wait for). */
  readyAt(t) {
    if (this.failed || t >= this.duration - 0.05) return true;
    return this.entries.some((e) => e.t <= t + 0.005 && t < e.t + e.d);
  }

  #output(data) {
    try {
      // reset() drops the decoder's pending work; anything older than the position it was
      // reset to is stale.
      if (data.timestamp / 1e6 < this.from - 0.5) return;
      const n = data.numberOfFrames;
      const channels = data.numberOfChannels;
      const buf = new AudioBuffer({ length: n, numberOfChannels: channels, sampleRate: data.sampleRate });
      const plane = new Float32Array(n);
      for (let c = 0; c < channels; c++) {
        data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
        buf.copyToChannel(plane, c);
      }
      const e = { t: data.timestamp / 1e6, d: n / data.sampleRate, buf, node: null };
      this.entries.push(e);
      this.#schedule(e);
    } catch (err) {
      this.#fail(err);
    } finally {
      data.close();
    }
  }

  #schedule(e) {
    const a = this.anchor;
    const ctx = this.ctx;
    if (!a || !ctx || ctx.state !== 'running' || e.node) return;
    const when = a.at + (e.t - a.media) / a.rate;
    const now = ctx.currentTime;
    if (when + e.d / a.rate <= now + 0.002) return;
    const node = ctx.createBufferSource();
    node.buffer = e.buf;
    node.playbackRate.value = a.rate;
    node.connect(this.gain);
    if (when >= now) node.start(when);
    else node.start(now, (now - when) * a.rate);
    node.onended = () => {
      if (e.node === node) {
        node.disconnect();
        e.node = null;
      }
    };
    e.node = node;
  }

  close() {
    this.stop();
    this.gen += 1;
    this.entries = [];
    try {
      if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    } catch {}
    this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}
