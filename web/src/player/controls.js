// The built-in controls of <frameseek-player>: play/pause, frame steps, mute/volume, time,
// frame counter, fullscreen, and a timeline with buffered ranges, markers (part="marker")
// and hover thumbnails. They drive the element only through its public API and events,
// as media-chrome would.
import { formatTime } from './util.js';

const ICONS = {
  play: 'M8 5.14v13.72a1 1 0 0 0 1.52.85l11.04-6.86a1 1 0 0 0 0-1.7L9.52 4.29A1 1 0 0 0 8 5.14z',
  pause: 'M7 5h3.5v14H7zM13.5 5H17v14h-3.5z',
  back: 'M6 6h2v12H6zM9.5 12l8.5 6V6z',
  forward: 'M16 6h2v12h-2zM6 18l8.5-6L6 6z',
  volume: 'M4 9v6h4l5 5V4L8 9H4zm12.5 3A4.5 4.5 0 0 0 14 7.97v8.05A4.5 4.5 0 0 0 16.5 12zM14 3.23v2.06a7 7 0 0 1 0 13.42v2.06a9 9 0 0 0 0-17.54z',
  muted: 'M4 9v6h4l5 5V4L8 9H4zm12.6 3 2.9-2.9-1.4-1.4-2.9 2.9-2.9-2.9-1.4 1.4 2.9 2.9-2.9 2.9 1.4 1.4 2.9-2.9 2.9 2.9 1.4-1.4z',
  fullscreen: 'M5 5h5v2H7v3H5zm9 0h5v5h-2V7h-3zM5 14h2v3h3v2H5zm12 0h2v5h-5v-2h3z',
  exitFullscreen: 'M8 5h2v5H5V8h3zm6 0h2v3h3v2h-5zM5 14h5v5H8v-3H5zm9 0h5v2h-3v3h-2z',
};

const svg = (name) => `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${ICONS[name]}"/></svg>`;

export const TEMPLATE = `
<div class="stage" part="stage">
  <canvas class="video" part="canvas" aria-hidden="true" width="0" height="0"></canvas>
  <img class="poster" part="poster" alt="" hidden>
  <div class="spinner" part="spinner" hidden></div>
  <div class="error" part="error" role="alert" hidden></div>
  <button class="big-play" part="overlay-play-button" type="button" aria-label="Play" tabindex="-1" hidden>${svg('play')}</button>
</div>
<div class="controls" part="controls" role="group" aria-label="Video controls" hidden>
  <div class="timeline" part="timeline">
    <div class="track" part="track" role="slider" tabindex="0" aria-label="Seek"
      aria-valuemin="0" aria-valuemax="0" aria-valuenow="0" aria-valuetext="0:00">
      <div class="buffered" part="buffered"></div>
      <div class="progress" part="progress"></div>
      <div class="hover-line" hidden></div>
      <div class="playhead" part="playhead"></div>
    </div>
    <div class="markers" part="markers" role="group" aria-label="Markers"></div>
    <div class="preview" part="preview" aria-hidden="true" hidden>
      <div class="preview-image" part="preview-image"></div>
      <span class="preview-text" part="preview-time"></span>
    </div>
  </div>
  <div class="bar" part="bar">
    <button class="play" part="play-button" type="button" aria-label="Play">${svg('play')}</button>
    <button class="step back" part="step-back-button" type="button" aria-label="Previous frame" title="Previous frame (,)">${svg('back')}</button>
    <button class="step forward" part="step-forward-button" type="button" aria-label="Next frame" title="Next frame (.)">${svg('forward')}</button>
    <div class="volume-group">
      <button class="mute" part="mute-button" type="button" aria-label="Mute">${svg('volume')}</button>
      <input class="volume" part="volume" type="range" min="0" max="1" step="0.05" value="1" aria-label="Volume">
    </div>
    <span class="time" part="time" role="timer" aria-live="off"><span class="cur">0:00</span> / <span class="dur">0:00</span></span>
    <button class="live" part="live-indicator" type="button" aria-label="Go to the live position" title="Live: go to the live position" hidden>LIVE</button>
    <span class="spacer"></span>
    <span class="frame" part="frame-counter" title="Frame on screen"></span>
    <button class="fullscreen" part="fullscreen-button" type="button" aria-label="Enter full screen">${svg('fullscreen')}</button>
  </div>
</div>
<slot hidden></slot>
`;

export class Controls {
  /**
   * @param {HTMLElement & Record<string, any>} el the player element
   * @param {ShadowRoot} root its shadow root (built from TEMPLATE)
   * @param {{ thumbnail?: (t: number, show: (thumb: object) => void) => void }} opts
   */
  constructor(el, root, opts = {}) {
    this.el = el;
    this.opts = opts;
    this.root = root;
    const $ = (s) => root.querySelector(s);
    this.box = $('.controls');
    this.timeline = $('.timeline');
    this.track = $('.track');
    this.bufferedBox = $('.buffered');
    this.progress = $('.progress');
    this.playhead = $('.playhead');
    this.hoverLine = $('.hover-line');
    this.markersBox = $('.markers');
    this.preview = $('.preview');
    this.previewImage = $('.preview-image');
    this.previewText = $('.preview-text');
    this.playBtn = $('.play');
    this.bigPlay = $('.big-play');
    this.muteBtn = $('.mute');
    this.volume = $('.volume');
    this.cur = $('.cur');
    this.dur = $('.dur');
    this.frame = $('.frame');
    this.fsBtn = $('.fullscreen');
    this.liveBtn = $('.live');
    this.previewCanvas = null;
    this.scrub = null;
    this.idleTimer = 0;
    this.raf = 0;
    this.#wire();
  }

  #wire() {
    const el = this.el;
    this.playBtn.addEventListener('click', () => this.#toggle());
    this.bigPlay.addEventListener('click', () => this.#toggle());
    this.root.querySelector('.stage').addEventListener('click', (e) => {
      if (e.target === this.bigPlay || this.bigPlay.contains(e.target)) return;
      if (el.controls) this.#toggle();
    });
    this.liveBtn.addEventListener('click', () => el.seekToLiveEdge());
    this.root.querySelector('.back').addEventListener('click', () => el.stepFrame(-1));
    this.root.querySelector('.forward').addEventListener('click', () => el.stepFrame(1));
    this.muteBtn.addEventListener('click', () => {
      el.muted = !el.muted;
      if (!el.muted && el.volume === 0) el.volume = 1;
    });
    this.volume.addEventListener('input', () => {
      el.volume = Number(this.volume.value);
      el.muted = el.volume === 0;
    });
    this.fsBtn.addEventListener('click', () => el.toggleFullscreen());
    document.addEventListener('fullscreenchange', () => this.#updateFullscreen());

    // Timeline: click/drag seeks (one seek in flight, the latest position next), hover previews.
    const tl = this.timeline;
    tl.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || e.target.closest('.marker')) return;
      tl.setPointerCapture(e.pointerId);
      this.scrub = { id: e.pointerId, wasPlaying: !el.paused };
      el.toggleAttribute('data-scrubbing', true);
      if (!el.paused) el.pause();
      this.#seekTo(this.#timeAt(e.clientX));
      this.track.focus({ preventScroll: true });
    });
    tl.addEventListener('pointermove', (e) => {
      const t = this.#timeAt(e.clientX);
      if (this.scrub?.id === e.pointerId) this.#seekTo(t);
      this.#hover(t, e.clientX);
    });
    const end = (e) => {
      if (this.scrub?.id !== e.pointerId) return;
      const { wasPlaying } = this.scrub;
      this.scrub = null;
      el.removeAttribute('data-scrubbing');
      if (wasPlaying) el.play().catch(() => {});
    };
    tl.addEventListener('pointerup', end);
    tl.addEventListener('pointercancel', end);
    tl.addEventListener('pointerleave', () => {
      if (!this.scrub) this.#hideHover();
    });
    this.track.addEventListener('keydown', (e) => {
      const step = { ArrowLeft: -5, ArrowRight: 5, ArrowDown: -5, ArrowUp: 5, PageDown: -30, PageUp: 30 }[e.key];
      if (step !== undefined) {
        el.currentTime = Math.max(0, Math.min(el.duration || 0, el.currentTime + step));
      } else if (e.key === 'Home') {
        el.currentTime = 0;
      } else if (e.key === 'End') {
        el.currentTime = el.duration || 0;
      } else {
        return;
      }
      e.preventDefault();
      e.stopPropagation();
    });

    // Auto-hide while playing; shown on pointer movement and keyboard focus.
    const active = () => this.#active();
    el.addEventListener('pointermove', active);
    el.addEventListener('pointerdown', active);
    el.addEventListener('focusin', active);
    el.addEventListener('keydown', active);
    el.addEventListener('pointerleave', () => {
      if (!el.paused && !this.scrub) this.#idle();
    });

    for (const type of ['play', 'pause', 'playing', 'ended', 'emptied']) el.addEventListener(type, () => this.update());
    for (const type of ['pause', 'emptied', 'error']) el.addEventListener(type, () => this.#active());
    for (const type of ['timeupdate', 'seeking', 'seeked', 'durationchange', 'loadedmetadata', 'progress', 'volumechange']) {
      el.addEventListener(type, () => this.update());
    }
    el.addEventListener('play', () => this.#loop());
    el.addEventListener('play', active);
  }

  #toggle() {
    if (this.el.paused) this.el.play().catch(() => {});
    else this.el.pause();
  }

  #timeAt(clientX) {
    const r = this.track.getBoundingClientRect();
    const x = Math.max(0, Math.min(1, (clientX - r.left) / (r.width || 1)));
    return x * (this.el.duration || 0);
  }

  #seekTo(t) {
    const s = this.scrub ?? {};
    if (s.inFlight) {
      s.next = t;
      return;
    }
    s.inFlight = true;
    const done = () => {
      s.inFlight = false;
      if (s.next !== undefined && s.next !== null) {
        const n = s.next;
        s.next = null;
        this.#seekTo(n);
      }
    };
    this.el.addEventListener('seeked', done, { once: true });
    this.el.currentTime = t;
    this.#render();
  }

  #hover(t, clientX) {
    const el = this.el;
    if (!(el.duration > 0)) return;
    const r = this.timeline.getBoundingClientRect();
    const x = Math.max(0, Math.min(r.width, clientX - r.left));
    this.hoverLine.hidden = false;
    this.hoverLine.style.left = `${x}px`;
    this.preview.hidden = false;
    const half = 84;
    this.preview.style.left = `${Math.max(half, Math.min(r.width - half, x))}px`;
    const marker = this.#markerNear(t);
    this.previewText.textContent = marker ? `${marker.label} · ${formatTime(t)}` : formatTime(t);
    this.opts.thumbnail?.(t, (thumb) => this.#showThumb(thumb));
  }

  #markerNear(t) {
    const d = (this.el.duration || 0) * 0.01;
    let best = null;
    for (const m of this.el.markers ?? []) {
      if (Math.abs(m.time - t) <= d && (!best || Math.abs(m.time - t) < Math.abs(best.time - t))) best = m;
    }
    return best;
  }

  #showThumb({ cue, bitmap }) {
    const box = this.previewImage;
    if (cue) {
      this.previewCanvas?.remove();
      this.previewCanvas = null;
      box.style.width = `${cue.w || 160}px`;
      box.style.height = `${cue.h || 90}px`;
      box.style.backgroundImage = `url("${cue.url}")`;
      box.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      return;
    }
    if (!bitmap) return;
    box.style.backgroundImage = '';
    const h = Math.round((160 * bitmap.height) / bitmap.width) || 90;
    box.style.width = '160px';
    box.style.height = `${Math.min(160, h)}px`;
    if (!this.previewCanvas) {
      this.previewCanvas = document.createElement('canvas');
      box.append(this.previewCanvas);
    }
    this.previewCanvas.width = bitmap.width;
    this.previewCanvas.height = bitmap.height;
    this.previewCanvas.getContext('2d').drawImage(bitmap, 0, 0);
  }

  #hideHover() {
    this.preview.hidden = true;
    this.hoverLine.hidden = true;
  }

  #active() {
    this.el.removeAttribute('data-idle');
    clearTimeout(this.idleTimer);
    if (!this.el.paused) this.idleTimer = setTimeout(() => this.#idle(), 2500);
  }

  #idle() {
    const el = this.el;
    if (el.paused || this.scrub || this.box.matches(':focus-within') || this.timeline.matches(':hover')) return;
    el.toggleAttribute('data-idle', true);
  }

  #loop() {
    if (this.raf) return;
    const frame = () => {
      this.raf = 0;
      this.#render();
      if (!this.el.paused) this.raf = requestAnimationFrame(frame);
    };
    this.raf = requestAnimationFrame(frame);
  }

  /** Shows or hides the controls (the `controls` attribute). */
  setVisible(on) {
    this.box.hidden = !on;
    this.update();
  }

  /** Redraws the markers (the `markers` property). */
  renderMarkers(markers) {
    const box = this.markersBox;
    box.textContent = '';
    const d = this.el.duration;
    for (const m of markers) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'marker';
      b.setAttribute('part', 'marker');
      const label = m.label || 'Marker';
      b.setAttribute('aria-label', `${label}, ${formatTime(m.time)}`);
      b.title = `${label} (${formatTime(m.time)})`;
      b.dataset.time = String(m.time);
      b.style.left = d > 0 ? `${(Math.max(0, Math.min(d, m.time)) / d) * 100}%` : '0%';
      if (m.color) b.style.background = m.color;
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        const ev = new CustomEvent('markerclick', { detail: m, cancelable: true, bubbles: true, composed: true });
        if (this.el.dispatchEvent(ev)) this.el.currentTime = m.time;
      });
      b.addEventListener('pointerenter', (e) => this.#hover(m.time, e.clientX));
      box.append(b);
    }
  }

  update() {
    const el = this.el;
    const paused = el.paused;
    const label = paused ? 'Play' : 'Pause';
    if (this.playBtn.getAttribute('aria-label') !== label) {
      this.playBtn.setAttribute('aria-label', label);
      this.playBtn.title = `${label} (k)`;
      this.playBtn.innerHTML = svg(paused ? 'play' : 'pause');
    }
    this.bigPlay.hidden = !(paused && el.controls && el.readyState >= 1 && !el.error);
    const muted = el.muted || el.volume === 0;
    if (this.muteBtn.getAttribute('aria-label') !== (muted ? 'Unmute' : 'Mute')) {
      this.muteBtn.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
      this.muteBtn.title = muted ? 'Unmute (m)' : 'Mute (m)';
      this.muteBtn.innerHTML = svg(muted ? 'muted' : 'volume');
    }
    this.volume.value = String(muted ? 0 : el.volume);
    this.volume.setAttribute('aria-valuetext', `${Math.round((muted ? 0 : el.volume) * 100)}%`);
    // Buffered ranges.
    const d = el.duration;
    const b = el.buffered;
    const spans = [];
    if (d > 0) {
      // Drawn with gaps under half a percent of the timeline closed (frames still streaming in).
      const merged = [];
      for (let i = 0; i < b.length; i++) {
        const last = merged[merged.length - 1];
        if (last && b.start(i) - last[1] < d * 0.005) last[1] = Math.max(last[1], b.end(i));
        else merged.push([b.start(i), b.end(i)]);
      }
      for (const [s, e] of merged) {
        spans.push(`<span style="left:${((s / d) * 100).toFixed(3)}%;width:${(((e - s) / d) * 100).toFixed(3)}%"></span>`);
      }
    }
    const html = spans.join('');
    if (this.bufferedBox.innerHTML !== html) this.bufferedBox.innerHTML = html;
    if (this.markersBox.childElementCount && d > 0) {
      for (const m of this.markersBox.children) {
        m.style.left = `${(Math.max(0, Math.min(d, Number(m.dataset.time))) / d) * 100}%`;
      }
    }
    this.#render();
    this.#updateFullscreen();
    this.#updateLive();
  }

  /** The live indicator: shown for live sources, lit while playback is near the live edge. */
  #updateLive() {
    const el = this.el;
    const live = Boolean(el.live);
    if (this.liveBtn.hidden === live) this.liveBtn.hidden = !live;
    if (!live) return;
    const target = el.info?.hls?.targetDuration ?? 2;
    const behind = el.duration - el.currentTime > 4 * target + 1;
    this.liveBtn.classList.toggle('behind', behind);
    this.liveBtn.setAttribute('aria-pressed', String(!behind));
  }

  #render() {
    const el = this.el;
    const d = el.duration;
    const t = el.currentTime;
    const p = d > 0 ? Math.max(0, Math.min(1, t / d)) * 100 : 0;
    this.progress.style.width = `${p}%`;
    this.playhead.style.left = `${p}%`;
    const cur = formatTime(t);
    if (this.cur.textContent !== cur) this.cur.textContent = cur;
    const dur = formatTime(d);
    if (this.dur.textContent !== dur) this.dur.textContent = dur;
    this.track.setAttribute('aria-valuemax', String(Number.isFinite(d) ? Math.round(d * 100) / 100 : 0));
    this.track.setAttribute('aria-valuenow', String(Math.round(t * 100) / 100));
    this.track.setAttribute('aria-valuetext', `${cur} of ${dur}`);
    const k = el.currentFrame;
    const frame = k >= 0 ? `frame ${k}` : '';
    if (this.frame.textContent !== frame) this.frame.textContent = frame;
  }

  #updateFullscreen() {
    const on = document.fullscreenElement === this.el;
    const label = on ? 'Exit full screen' : 'Enter full screen';
    if (this.fsBtn.getAttribute('aria-label') !== label) {
      this.fsBtn.setAttribute('aria-label', label);
      this.fsBtn.title = `${label} (f)`;
      this.fsBtn.innerHTML = svg(on ? 'exitFullscreen' : 'fullscreen');
    }
  }
}
