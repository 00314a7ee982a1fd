// <frameseek-player>: a media-element-like custom element that plays an MP4 URL through the
// frameseek module (exact frames over HTTP ranges, WebCodecs, Web Audio), rendering into a
// <canvas> in an open shadow root. See docs/player.md and web/src/player.d.ts.
import { Controls, TEMPLATE } from './controls.js';
import { Engine } from './engine.js';
import { css } from './styles.js';
import { Thumbnails } from './thumbs.js';
import { PlayerError, Ranges } from './util.js';

const Base = globalThis.HTMLElement ?? class {};

export class FrameseekPlayer extends Base {
  static HAVE_NOTHING = 0;
  static HAVE_METADATA = 1;
  static HAVE_CURRENT_DATA = 2;
  static HAVE_FUTURE_DATA = 3;
  static HAVE_ENOUGH_DATA = 4;
  static NETWORK_EMPTY = 0;
  static NETWORK_IDLE = 1;
  static NETWORK_LOADING = 2;
  static NETWORK_NO_SOURCE = 3;

  static get observedAttributes() {
    return ['src', 'controls', 'muted', 'poster', 'prefetch', 'thumbnails', 'crossorigin'];
  }

  #engine;
  #root;
  #canvas;
  #ctx;
  #controls;
  #aspect;
  #poster;
  #spinner;
  #errorBox;
  #markers = [];
  #thumbs = null;
  #volume = 1;
  #muted = false;
  #defaultRate = 1;
  #autoplayed = false;
  #currentSrc = '';
  #spinnerTimer = 0;
  #painted = false;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${css}</style><style class="aspect"></style>${TEMPLATE}`;
    this.#root = root;
    this.#canvas = root.querySelector('canvas.video');
    this.#ctx = this.#canvas.getContext('2d', { alpha: false });
    this.#aspect = root.querySelector('style.aspect');
    this.#poster = root.querySelector('.poster');
    this.#spinner = root.querySelector('.spinner');
    this.#errorBox = root.querySelector('.error');
    this.#engine = new Engine({
      emit: (type) => this.#emit(type),
      paint: (frame) => this.#paint(frame),
      loop: () => this.loop,
    });
    this.#controls = new Controls(this, root, {
      thumbnail: (t, show) => this.#thumbnail(t, show),
    });
    this.addEventListener('keydown', (e) => this.#onKey(e));
  }

  connectedCallback() {
    if (!this.hasAttribute('aria-label') && !this.hasAttribute('aria-labelledby')) {
      this.setAttribute('aria-label', 'Video player');
    }
    if (!this.hasAttribute('role')) this.setAttribute('role', 'region');
    this.#syncControls();
  }

  disconnectedCallback() {
    // A media element removed from the document pauses (a move to another parent does not).
    queueMicrotask(() => {
      if (!this.isConnected) this.pause();
    });
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    switch (name) {
      case 'src':
        // Like a media element's load algorithm: the old source is dropped at once (so that a
        // play() or currentTime right after setting src applies to the new one).
        this.load();
        break;
      case 'controls':
        this.#syncControls();
        break;
      case 'muted':
        this.muted = value !== null;
        break;
      case 'poster':
        this.#poster.src = value ?? '';
        this.#poster.hidden = !value || this.#painted;
        break;
      case 'prefetch':
        this.#engine.setPrefetch(this.prefetch);
        break;
      default:
        break;
    }
  }

  #syncControls() {
    const on = this.controls;
    this.#controls.setVisible(on);
    if (on && !this.hasAttribute('tabindex')) {
      this.setAttribute('tabindex', '0');
      this.dataset.autoTabindex = '';
    } else if (!on && 'autoTabindex' in this.dataset) {
      this.removeAttribute('tabindex');
      delete this.dataset.autoTabindex;
    }
  }

  // ---- loading ------------------------------------------------------------------------

  /** Reloads the source (`src`). */
  load() {
    this.#thumbs?.close();
    this.#thumbs = null;
    this.#painted = false;
    this.#errorBox.hidden = true;
    this.#poster.hidden = !this.poster;
    const src = this.getAttribute('src') ?? '';
    this.#currentSrc = src ? new URL(src, document.baseURI).href : '';
    this.#engine.setVolume(this.#volume, this.#muted);
    this.#engine.setPrefetch(this.prefetch);
    this.#engine.rate = this.#defaultRate;
    this.#autoplayed = false;
    return this.#engine.load(this.#currentSrc, this.#openOptions());
  }

  #openOptions() {
    const cors = this.getAttribute('crossorigin');
    return cors === 'use-credentials' ? { credentials: 'include' } : {};
  }

  #emit(type) {
    switch (type) {
      case 'loadstart':
        this.#setSpinner(true, 300);
        break;
      case 'loadedmetadata':
        this.#renderMarkers();
        break;
      case 'sourcemarkers':
        // A live playlist's date ranges changed: not a media event of its own.
        this.#renderMarkers();
        this.dispatchEvent(new Event('markerschange'));
        return;
      case 'canplay':
        // autoplay: read when the data is there, so the attribute's order does not matter.
        if (this.autoplay && this.paused && !this.#autoplayed) {
          this.#autoplayed = true;
          queueMicrotask(() => this.play().catch(() => {}));
        }
        break;
      case 'loadeddata':
      case 'playing':
      case 'seeked':
      case 'pause':
      case 'emptied':
        this.#setSpinner(false);
        break;
      case 'waiting':
        this.#setSpinner(true, 150);
        break;
      case 'seeking':
        this.#setSpinner(true, 400);
        break;
      case 'error':
        this.#setSpinner(false);
        this.#errorBox.textContent = this.error?.message ?? 'The video could not be played.';
        this.#errorBox.hidden = false;
        break;
      default:
        break;
    }
    if (type === 'emptied') {
      this.#canvas.width = 0;
      this.#canvas.height = 0;
    }
    this.dispatchEvent(new Event(type));
    if (type === 'loadedmetadata' || type === 'error' || type === 'emptied') this.#controls.update();
  }

  #setSpinner(on, delay = 0) {
    clearTimeout(this.#spinnerTimer);
    if (!on) {
      this.#spinner.hidden = true;
      return;
    }
    this.#spinnerTimer = setTimeout(() => {
      this.#spinner.hidden = false;
    }, delay);
  }

  #paint(frame) {
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    const c = this.#canvas;
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
      this.#aspect.textContent = `:host { aspect-ratio: ${w} / ${h}; }`;
      queueMicrotask(() => this.dispatchEvent(new Event('resize')));
    }
    this.#ctx.drawImage(frame, 0, 0, w, h);
    if (!this.#painted) {
      this.#painted = true;
      this.#poster.hidden = true;
    }
  }

  #thumbnail(t, show) {
    const e = this.#engine;
    if (!e.video) return;
    if (!this.#thumbs) {
      const track = this.querySelector('track[kind="metadata"][label="thumbnails"], track[kind="metadata"][data-thumbnails]');
      const vttAttr = this.getAttribute('thumbnails') ?? track?.getAttribute('src');
      const vtt = vttAttr ? new URL(vttAttr, document.baseURI).href : undefined;
      this.#thumbs = new Thumbnails(this.#currentSrc, {
        vtt,
        times: e.times,
        syncs: e.syncs,
        openOptions: this.#openOptions(),
      });
    }
    this.#thumbs.request(t, show);
  }

  // ---- keyboard -------------------------------------------------------------------------

  #onKey(e) {
    if (!this.controls || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const origin = e.composedPath()[0];
    const tag = origin?.localName;
    const button = tag === 'button';
    const field = tag === 'input' || tag === 'textarea' || tag === 'select' || origin?.isContentEditable;
    switch (e.key) {
      case ' ':
      case 'k':
        if (field || (button && e.key === ' ')) return;
        if (this.paused) this.play().catch(() => {});
        else this.pause();
        break;
      case 'ArrowLeft':
      case 'ArrowRight':
        if (field) return;
        this.currentTime = Math.max(0, Math.min(this.duration || 0, this.currentTime + (e.key === 'ArrowLeft' ? -5 : 5)));
        break;
      case ',':
      case '<':
        this.stepFrame(-1);
        break;
      case '.':
      case '>':
        this.stepFrame(1);
        break;
      case 'm':
        this.muted = !this.muted;
        break;
      case 'f':
        this.toggleFullscreen();
        break;
      case 'Home':
        if (field) return;
        this.currentTime = 0;
        break;
      case 'End':
        if (field) return;
        this.currentTime = this.duration || 0;
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  // ---- the media-element-like API -------------------------------------------------------

  get src() {
    const v = this.getAttribute('src');
    return v ? new URL(v, document.baseURI).href : '';
  }

  set src(v) {
    this.setAttribute('src', v);
  }

  get currentSrc() {
    return this.#currentSrc;
  }

  get poster() {
    return this.getAttribute('poster') ?? '';
  }

  set poster(v) {
    this.setAttribute('poster', v);
  }

  get controls() {
    return this.hasAttribute('controls');
  }

  set controls(v) {
    this.toggleAttribute('controls', Boolean(v));
  }

  get autoplay() {
    return this.hasAttribute('autoplay');
  }

  set autoplay(v) {
    this.toggleAttribute('autoplay', Boolean(v));
  }

  get loop() {
    return this.hasAttribute('loop');
  }

  set loop(v) {
    this.toggleAttribute('loop', Boolean(v));
  }

  get defaultMuted() {
    return this.hasAttribute('muted');
  }

  set defaultMuted(v) {
    this.toggleAttribute('muted', Boolean(v));
  }

  /** Seconds of media fetched and decoded ahead of the playhead (attribute `prefetch`, default 3). */
  get prefetch() {
    const v = Number(this.getAttribute('prefetch'));
    return this.hasAttribute('prefetch') && Number.isFinite(v) && v > 0 ? v : 3;
  }

  set prefetch(v) {
    this.setAttribute('prefetch', String(v));
  }

  play() {
    return this.#engine.play();
  }

  pause() {
    this.#engine.pause();
  }

  get paused() {
    return this.#engine.paused;
  }

  get ended() {
    return this.#engine.ended;
  }

  get seeking() {
    return this.#engine.seeking;
  }

  get currentTime() {
    return this.#engine.currentTime;
  }

  set currentTime(t) {
    this.#engine.seek(t);
  }

  /** Seeks to `t` (exactly, like setting currentTime). */
  fastSeek(t) {
    this.currentTime = t;
  }

  get duration() {
    return this.#engine.duration;
  }

  get volume() {
    return this.#volume;
  }

  set volume(v) {
    v = Number(v);
    if (!(v >= 0 && v <= 1)) throw new DOMException(`volume ${v} is outside [0, 1]`, 'IndexSizeError');
    if (v === this.#volume) return;
    this.#volume = v;
    this.#engine.setVolume(this.#volume, this.#muted);
    this.#emit('volumechange');
  }

  get muted() {
    return this.#muted;
  }

  set muted(v) {
    v = Boolean(v);
    if (v === this.#muted) return;
    this.#muted = v;
    this.#engine.setVolume(this.#volume, this.#muted);
    this.#emit('volumechange');
  }

  get playbackRate() {
    return this.#engine.rate;
  }

  set playbackRate(r) {
    r = Number(r);
    if (!(r >= 0.0625 && r <= 16)) throw new DOMException(`playbackRate ${r} is not supported (0.0625 to 16)`, 'NotSupportedError');
    if (r === this.#engine.rate) return;
    this.#engine.setRate(r);
    this.#emit('ratechange');
  }

  get defaultPlaybackRate() {
    return this.#defaultRate;
  }

  set defaultPlaybackRate(r) {
    this.#defaultRate = Number(r) || 1;
    this.#emit('ratechange');
  }

  get buffered() {
    return this.#engine.buffered;
  }

  get seekable() {
    const d = this.duration;
    return new Ranges(Number.isFinite(d) ? [this.liveWindowStart, d] : []);
  }

  get played() {
    return new Ranges();
  }

  get readyState() {
    return this.#engine.readyState;
  }

  get networkState() {
    return this.#engine.networkState;
  }

  /** A MediaError-like `{ code, message }` (with `frameseekCode` when the module raised it). */
  get error() {
    return this.#engine.error;
  }

  get videoWidth() {
    if (this.#canvas.width) return this.#canvas.width;
    const i = this.#engine.info;
    if (!i?.width) return 0;
    return i.rotation % 180 ? i.height : i.width;
  }

  get videoHeight() {
    if (this.#canvas.height) return this.#canvas.height;
    const i = this.#engine.info;
    if (!i?.height) return 0;
    return i.rotation % 180 ? i.width : i.height;
  }

  canPlayType(type) {
    const t = String(type);
    return /^(video|audio)\/(mp4|quicktime|x-m4v)\b/i.test(t) || /^application\/(vnd\.apple\.mpegurl|x-mpegurl)\b/i.test(t)
      ? 'maybe'
      : '';
  }

  // ---- frameseek additions --------------------------------------------------------------

  /** Index (presentation order) of the frame on screen; -1 before the first. */
  get currentFrame() {
    return this.#engine.shown;
  }

  get frameCount() {
    return this.#engine.frameCount;
  }

  /** Average frames per second (`info.fps`). */
  get frameRate() {
    return this.#engine.info?.fps ?? NaN;
  }

  /** The probe summary of the source (`video.info` of the frameseek module). */
  get info() {
    return this.#engine.info;
  }

  /** Presentation time of frame `k` in seconds. */
  frameTime(k) {
    return this.#engine.times[k];
  }

  /** Moves `n` frames (default 1; negative goes back) from the frame on screen, pausing first. */
  stepFrame(n = 1) {
    return this.#engine.step(n);
  }

  /** Shows frame `k` exactly (pausing first); currentTime becomes its presentation time. */
  seekToFrame(k) {
    const e = this.#engine;
    if (e.shown < 0) return Promise.resolve();
    return e.step(Math.trunc(k) - e.shown);
  }

  /** `[{ time, label }]` drawn on the timeline as `part="marker"` buttons; a click seeks. */
  get markers() {
    return this.#markers.map((m) => ({ ...m }));
  }

  set markers(list) {
    const out = [];
    for (const m of Array.isArray(list) ? list : []) {
      const time = Number(m?.time);
      if (!Number.isFinite(time)) continue;
      out.push({ ...m, time, label: m.label == null ? '' : String(m.label) });
    }
    out.sort((a, b) => a.time - b.time);
    this.#markers = out;
    this.#renderMarkers();
  }

  /**
   * The source's own markers: an HLS playlist's EXT-X-DATERANGE entries (`[{ id, time,
   * duration?, label, class? }]`), kept current for live playlists (a 'markerschange' event
   * follows each change). Drawn on the timeline with `markers`.
   */
  get sourceMarkers() {
    return this.#engine.sourceMarkers.map((m) => ({ ...m }));
  }

  #renderMarkers() {
    const all = [...this.#markers, ...this.#engine.sourceMarkers.map((m) => ({ ...m, source: true }))];
    all.sort((a, b) => a.time - b.time);
    this.#controls.renderMarkers(all);
  }

  /** Whether the source is live (an HLS playlist that is still growing). */
  get live() {
    return this.#engine.live;
  }

  /** The live window's start in seconds (what can be sought back to); 0 for other sources. */
  get liveWindowStart() {
    return this.#engine.live ? this.#engine.windowStart : 0;
  }

  /** Jumps to the live position (a few target durations behind the newest frame). */
  seekToLiveEdge() {
    if (!this.#engine.live) return Promise.resolve();
    return this.#engine.seek(this.#engine.liveStart());
  }

  /**
   * Counters: the frameseek module's (`requests`, `bytesFetched`, ...) and playback's:
   * `drift` (seconds between the clock and the painted frame's presentation interval at the
   * last paint), `maxDrift` (since playback last started), `framesPainted`,
   * `framesDropped`, `stalls`, `clock` ('audio' or 'wall'), `audioTime`.
   */
  get stats() {
    return this.#engine.stats;
  }

  /** The A/V drift at the last painted frame, in seconds (see `stats`). */
  get drift() {
    return this.#engine.counters.drift;
  }

  /** The Web Audio context that plays the sound (created on the first play()), or null. */
  get audioContext() {
    return this.#engine.audio?.ctx ?? null;
  }

  /** The frame on screen as an image file (PNG unless `type` says otherwise). */
  captureFrame(type = 'image/png', quality) {
    const c = this.#canvas;
    if (!c.width) return Promise.reject(new DOMException('no frame on screen', 'InvalidStateError'));
    return new Promise((resolve, reject) =>
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('the frame could not be encoded'))), type, quality),
    );
  }

  toggleFullscreen() {
    if (document.fullscreenElement === this) return document.exitFullscreen();
    return this.requestFullscreen?.().catch((e) => console.warn('frameseek-player: fullscreen:', e));
  }
}

export { PlayerError };
