// frameseek: exact video frames from plain HTTP hosts (MP4 byte ranges + WebCodecs).
// This file is the public API surface; the work happens in the wasm module (crates/wasm).
import init, { openVideo } from './pkg/frameseek_wasm.js';
// Registers <frameseek-player> (web/src/player) as a side effect of importing the package.
export { FrameseekPlayer } from './player/index.js';

let ready;
let playerReady;
let hlsReady;

/** wasm-bindgen's init argument: a module URL or bytes to load instead of the default. */
const initArg = (moduleOrPath) => (moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath });

/** Loads the wasm module once (also done by `open()`); pass a URL or bytes to override. */
export function load(moduleOrPath) {
  return (ready ??= init(initArg(moduleOrPath)));
}

/**
 * Loads the MP4 module with the player's exports (`audioConfig`, `audioChunks`, `frameTimes`,
 * `syncFrames`, `bufferedRanges`, `prefetchFrames`) once; `open(url, { player: true })` does it.
 */
export function loadPlayer(moduleOrPath) {
  return (playerReady ??= import('./pkg-player/frameseek_player.js').then((m) => m.default(initArg(moduleOrPath)).then(() => m)));
}

/** Loads the HLS module (playlists, TS and fMP4 segments) once; `open()` does it for .m3u8 URLs. */
export function loadHls(moduleOrPath) {
  return (hlsReady ??= import('./pkg-hls/frameseek_hls.js').then((m) => m.default(initArg(moduleOrPath)).then(() => m)));
}

/** Whether `open()` treats `url` as an HLS playlist: `opts.format`, else a .m3u8/.m3u path. */
export function isHlsUrl(url, opts = {}) {
  if (opts.format) return opts.format === 'hls';
  try {
    return /\.m3u8?$/i.test(new URL(String(url), globalThis.location?.href ?? 'http://localhost/').pathname);
  } catch {
    return false;
  }
}

function normalizeOptions(opts = {}) {
  const o = { ...opts };
  if (opts.headers) o.headers = [...new Headers(opts.headers).entries()];
  return o;
}

/** Applies the track rotation to a coded-orientation frame (closing the original). */
function rotate(frame, degrees) {
  if (!degrees) return frame;
  try {
    const rotated = new VideoFrame(frame, { rotation: (frame.rotation ?? 0) + degrees });
    frame.close();
    return rotated;
  } catch {
    return frame; // a browser without VideoFrame rotation: coded orientation, see info.rotation
  }
}

/** An open video: see index.d.ts. */
export class Video {
  #w;
  #info;
  /** The last frameAt() index, to see a step coming. */
  #last = -2;
  /**
   * A stream that goes on from frame `next`: `{ next, step, stream, p }`. Forward steps' (it
   * serves frameAt(next)), or one that the last frames() call left at its end (MP4: it holds
   * there, and the next frames() call or step from there takes it on without decoding the GOP
   * again).
   */
  #step;
  /**
   * Frames at hand by index (coded orientation), cloned when asked for: the last frameAt()
   * frame (a clone, one decoder buffer), or after a step backwards the copies it kept.
   */
  #kept = new Map();
  /** The step backwards filling `#kept`, while it runs. */
  #backing;
  /** `open()`'s `stepBackBytes`. */
  #backBytes;

  /** @internal */
  constructor(w, extra, backBytes) {
    this.#w = w;
    this.#backBytes = backBytes;
    this.#info = Object.freeze(extra ? { ...w.info, ...extra } : w.info);
  }

  get info() {
    return this.#info;
  }

  get stats() {
    return this.#w.stats();
  }

  /** Whether the source may still grow (a live HLS playlist). */
  get live() {
    return this.#w.live ?? false;
  }

  /** Timeline markers (HLS EXT-X-DATERANGE): `[{ id, time, duration?, label, class? }]`, current for live playlists. */
  get markers() {
    return this.#w.markers?.() ?? [];
  }

  /** The frame indices available now, `{ start, end }`: a live playlist's window moves. */
  frameRange() {
    if (this.#w.frameRange) {
      const [start, end] = this.#w.frameRange();
      return { start, end };
    }
    return { start: 0, end: this.#info.frameCount ?? 0 };
  }

  async frameAt(index, { raw = false, from } = {}) {
    await this.#backing;
    const last = from ?? this.#last;
    this.#last = index;
    let frame = this.#kept.get(index)?.clone();
    if (!frame) {
      this.#drop();
      let s = this.#step;
      if (s?.next !== index || s.step !== 1) {
        this.#endStep();
        s = undefined;
        // frameAt(k) and then frameAt(k + 1): a forward step. Keep one decode pass going from
        // here, so that each further step takes one frame from it instead of decoding from the
        // keyframe again (WebCodecs needs a key chunk after every flush).
        if (index === last + 1 && Number.isInteger(index) && index < this.frameRange().end) {
          s = this.#step = { next: index, step: 1, stream: this.#w.frames(index, Infinity, 1, 3) };
        } else if (index === last - 1 && this.#backBytes > 0) {
          // A step backwards: decode the frames before it in its pass too, and keep
          // copies for the next steps (step-back.js, loaded then; if it cannot be loaded,
          // the frame is decoded alone below).
          const w = this.#w;
          const p = import('./step-back.js').then((m) => m.stepBack(w, this.#info, index, this.#kept, this.#backBytes));
          frame = await (this.#backing = p.catch(() => undefined));
          this.#backing = null;
        }
      }
      if (s && !frame) {
        s.next += 1;
        s.stream.until(Infinity);
        const p = (s.p = (s.p ?? Promise.resolve()).then(() => s.stream.next()));
        frame = await p.catch((e) => {
          if (this.#step === s) this.#endStep();
          throw e;
        });
        // Undefined when the pass was stopped meanwhile (another request came) or ran out.
        if (!frame && this.#step === s) this.#endStep();
      }
      frame ??= await this.#one(index);
      if (!this.#kept.has(index)) this.#kept.set(index, frame.clone());
    }
    return raw ? frame : rotate(frame, this.#info.rotation);
  }

  /** Frame `index` decoded alone: the HLS module's frameAt, or the MP4 module's one-frame stream. */
  #one(index) {
    const w = this.#w;
    if (w.frameAt) return w.frameAt(index);
    const n = this.#info.frameCount;
    if (n && !(Number.isInteger(index) && index >= 0 && index < n)) {
      throw Object.assign(new RangeError(`frame ${index} out of range (the video has ${n} frames)`), { code: 'out-of-range' });
    }
    return w.frames(index, index + 1, 1, 1).next();
  }

  /** Closes the frames at hand. */
  #drop() {
    for (const f of this.#kept.values()) f.close();
    this.#kept.clear();
  }

  /** Stops the forward-step pass (it holds the decoder), closing the frames it decoded ahead. */
  #endStep() {
    this.#step?.stream.close();
    this.#step = undefined;
  }

  async frameAtTime(seconds, opts) {
    return this.frameAt(this.#w.frameIndexAtTime(seconds), opts);
  }

  async *frames({ start = 0, end = Infinity, step = 1, ahead = 3, raw = false, signal } = {}) {
    // MP4 streams run on past `end` and hold there (a soft end): one that the last call left
    // at `start` goes on (the frames of its GOP are not decoded again).
    const soft = !this.#w.frameAt;
    let s = this.#step;
    this.#step = undefined;
    if (soft && s?.next === start && s.step === step) await s.p?.catch(() => {});
    else s?.stream.close(), (s = undefined);
    const stream = s?.stream ?? this.#w.frames(start, soft ? Infinity : end, step, ahead);
    if (soft) stream.until(end);
    // An abort stops decoding at once (the loop then ends), even while a frame is awaited.
    const stop = () => stream.close();
    signal?.addEventListener('abort', stop);
    if (signal?.aborted) stream.close();
    let k = start;
    try {
      for (; !soft || !(k >= end); k += step) {
        const frame = await stream.next();
        if (frame === undefined) return;
        yield raw ? frame : rotate(frame, this.#info.rotation);
      }
      // Every frame asked for was taken: the stream stays at the end for the next call.
      if (!signal?.aborted) {
        this.#endStep();
        this.#step = { next: k, step, stream };
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      if (this.#step?.stream !== stream) stream.close();
    }
  }

  /** See index.d.ts; the drawing lives in thumbnail.js, loaded at the first thumbnail. */
  async thumbnail(index, opts = {}) {
    const { thumbnail } = await import('./thumbnail.js');
    return thumbnail(await this.frameAt(index, { raw: opts.raw }), opts);
  }

  close() {
    this.#endStep();
    this.#drop(); // later calls reject with code `closed`
    this.#w.close();
  }
}

/**
 * The public Video for the wasm video `w`; with the player's calls (web/src/player-api.js,
 * loaded then) when `w` answers them: the player's MP4 module and the HLS module.
 */
async function video(w, opts, extra) {
  const v = new Video(w, extra, opts.stepBackBytes ?? 48 << 20);
  return w.frameTimes ? Object.assign(v, (await import('./player-api.js')).playerCalls(w)) : v;
}

/**
 * Opens an MP4/MOV URL (reads its header with bounded range requests) or an HLS playlist
 * (.m3u8, or `opts.format: 'hls'`; loads the HLS module on first use).
 */
export async function open(url, opts = {}) {
  const href = typeof url === 'string' ? url : String(url);
  if (isHlsUrl(href, opts)) {
    const hls = await loadHls();
    const abs = new URL(href, globalThis.location?.href).href;
    return video(await hls.openHls(abs, normalizeOptions(opts)), opts);
  }
  const openMp4 = opts.player ? (await loadPlayer()).openVideo : (await load(), openVideo);
  let w;
  try {
    w = await openMp4(href, normalizeOptions(opts));
  } catch (e) {
    // Not an MP4 at all (an AVI, an MKV...): the server's transcoded rendition, if any.
    if (opts.fallback === false || !FALLBACK_CODES.has(e?.code)) throw e;
    return (await openAlternate(href, opts, null, e)) ?? Promise.reject(e);
  }
  if (opts.fallback !== false) {
    // A codec this browser cannot decode: take the server's transcoded rendition if it
    // offers one (frameseek serve sends `Link: <...>; rel="alternate"` on media responses).
    const why = await w.decodeError();
    if (why?.code === 'unsupported-codec') {
      const v = await openAlternate(href, opts, w.info?.codec ?? null, why);
      if (v) {
        w.close();
        return v;
      }
    }
  }
  return video(w, opts);
}

/** Errors after which `open()` looks for a transcoded rendition. */
const FALLBACK_CODES = new Set(['not-mp4', 'unsupported', 'unsupported-codec']);

/** Opens the rendition the server links to from `href`, or resolves to null without one. */
async function openAlternate(href, opts, codec, why) {
  // The Link lookup lives in fallback.js, loaded only when a file needs it.
  const alt = await (await import('./fallback.js')).alternateOf(href, opts);
  if (!alt) return null;
  const hls = await loadHls();
  const v = await hls.openHls(alt, normalizeOptions(opts));
  return video(v, opts, { transcodedFrom: { url: href, codec, reason: String(why?.message ?? why) } });
}
