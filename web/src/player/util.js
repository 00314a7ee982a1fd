// Small helpers of <frameseek-player>: TimeRanges, time formatting, WebVTT thumbnail cues.

/** A `TimeRanges`-like list of [start, end] pairs (what media elements' `buffered` returns). */
export class Ranges {
  #r;

  /** @param {ArrayLike<number>} flat [start0, end0, start1, end1, ...] */
  constructor(flat = []) {
    this.#r = [];
    for (let i = 0; i + 1 < flat.length; i += 2) this.#r.push([flat[i], flat[i + 1]]);
  }

  get length() {
    return this.#r.length;
  }

  #at(i, j) {
    if (!(i >= 0 && i < this.#r.length)) throw new DOMException(`index ${i} is out of range`, 'IndexSizeError');
    return this.#r[i][j];
  }

  start(i) {
    return this.#at(i, 0);
  }

  end(i) {
    return this.#at(i, 1);
  }

  *[Symbol.iterator]() {
    for (const r of this.#r) yield [...r];
  }
}

/** `m:ss` or `h:mm:ss`, with `digits` decimals of seconds. */
export function formatTime(t, digits = 0) {
  if (!Number.isFinite(t)) return '--:--';
  const sign = t < 0 ? '-' : '';
  t = Math.abs(t);
  const scale = 10 ** digits;
  t = Math.floor(t * scale + 1e-6) / scale;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = (t % 60).toFixed(digits).padStart(digits ? digits + 3 : 2, '0');
  return h ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`;
}

/** Binary search: the last index i with a[i] <= x (-1 when none). */
export function lastAtOrBefore(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function vttTime(s) {
  const p = s.trim().split(':').map(Number);
  return p.reduce((acc, v) => acc * 60 + v, 0);
}

/**
 * Thumbnail cues of a WebVTT file (as `frameseek pack` writes them): each cue's text is an
 * image URL, optionally with a sprite region `#xywh=x,y,w,h`. URLs resolve against `base`.
 * @returns {{start: number, end: number, url: string, x: number, y: number, w: number, h: number}[]}
 */
export function parseThumbnailVtt(text, base) {
  const cues = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]);
    if (!m) continue;
    const target = (lines[i + 1] ?? '').trim();
    if (!target) continue;
    const [path, frag = ''] = target.split('#');
    const xywh = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(frag);
    cues.push({
      start: vttTime(m[1]),
      end: vttTime(m[2]),
      url: new URL(path, base).href,
      x: xywh ? +xywh[1] : 0,
      y: xywh ? +xywh[2] : 0,
      w: xywh ? +xywh[3] : 0,
      h: xywh ? +xywh[4] : 0,
    });
  }
  return cues;
}

/** A `MediaError`-like object. */
export class PlayerError extends Error {
  static MEDIA_ERR_ABORTED = 1;
  static MEDIA_ERR_NETWORK = 2;
  static MEDIA_ERR_DECODE = 3;
  static MEDIA_ERR_SRC_NOT_SUPPORTED = 4;

  constructor(code, message, cause) {
    super(message, { cause });
    this.name = 'MediaError';
    this.code = code;
    /** frameseek's error code (`http`, `not-mp4`, ...) when the module raised it. */
    this.frameseekCode = cause?.code;
  }
}

/** The MediaError code for an error thrown by the frameseek module. */
export function mediaErrorCode(e) {
  switch (e?.code) {
    case 'http':
    case 'network':
    case 'range-ignored':
      return PlayerError.MEDIA_ERR_NETWORK;
    case 'decode':
    case 'truncated':
    case 'invalid':
      return PlayerError.MEDIA_ERR_DECODE;
    case 'closed':
      return PlayerError.MEDIA_ERR_ABORTED;
    default:
      return PlayerError.MEDIA_ERR_SRC_NOT_SUPPORTED;
  }
}
