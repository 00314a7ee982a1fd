// Hover thumbnails for the timeline: from a WebVTT thumbnails track when the element has one
// (`thumbnails="url.vtt"` or a child `<track kind="metadata" label="thumbnails">`), else
// decoded by the player: the sync frame at or before the hovered time, from a second open()
// of the source (its own decoder, so previews never hold up playback), cached as small bitmaps.
import { open } from '../index.js';
import { lastAtOrBefore, parseThumbnailVtt } from './util.js';

const WIDTH = 160;
const CACHE = 120;

export class Thumbnails {
  /**
   * @param {string} src the media URL
   * @param {{ vtt?: string, times: Float64Array, syncs: Uint32Array, openOptions?: object }} o
   */
  constructor(src, { vtt, times, syncs, openOptions }) {
    this.src = src;
    this.vttUrl = vtt;
    this.times = times;
    this.syncs = syncs;
    this.openOptions = openOptions;
    this.cues = null;
    this.video = null;
    this.opening = null;
    this.cache = new Map();
    this.busy = false;
    this.want = null;
    this.closed = false;
  }

  async #vtt() {
    if (this.cues || !this.vttUrl) return this.cues;
    try {
      const r = await fetch(this.vttUrl);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      this.cues = parseThumbnailVtt(await r.text(), r.url || this.vttUrl);
    } catch (e) {
      console.warn('frameseek-player: thumbnails track:', e);
      this.vttUrl = null;
      this.cues = null;
    }
    return this.cues;
  }

  /**
   * Shows the thumbnail for media time `t` through `show`: `show({ cue })` for a sprite cue,
   * `show({ bitmap })` for a decoded frame. Requests made while one is decoding collapse to
   * the latest.
   */
  async request(t, show) {
    if (this.vttUrl) {
      const cues = await this.#vtt();
      if (cues?.length) {
        const cue = cues.find((c) => t >= c.start && t < c.end) ?? cues[cues.length - 1];
        show({ cue });
        return;
      }
    }
    const k = Math.max(0, lastAtOrBefore(this.times, t + 1e-7));
    const s = this.syncs.length ? this.syncs[Math.max(0, lastAtOrBefore(this.syncs, k))] : k;
    const hit = this.cache.get(s);
    if (hit) {
      show({ bitmap: hit });
      return;
    }
    this.want = { s, show };
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.want && !this.closed) {
        const { s: frame, show: cb } = this.want;
        this.want = null;
        let bitmap = this.cache.get(frame);
        if (!bitmap) {
          this.opening ??= open(this.src, { cacheBytes: 8 << 20, ...this.openOptions, player: true });
          this.video = await this.opening;
          if (this.closed) break;
          bitmap = await this.video.thumbnail(frame, { width: WIDTH });
          this.cache.set(frame, bitmap);
          if (this.cache.size > CACHE) {
            const [oldest, b] = this.cache.entries().next().value;
            this.cache.delete(oldest);
            b.close?.();
          }
        }
        if (!this.want) cb({ bitmap });
      }
    } catch (e) {
      console.warn('frameseek-player: thumbnail:', e);
    } finally {
      this.busy = false;
    }
  }

  close() {
    this.closed = true;
    for (const b of this.cache.values()) b.close?.();
    this.cache.clear();
    const opening = this.opening;
    this.opening = null;
    opening?.then((v) => v.close()).catch(() => {});
  }
}
