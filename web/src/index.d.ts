// Types for the `frameseek` package (web/src/index.js).

/** Options of {@link open}. */
export interface OpenOptions {
  /** Extra request headers for every range request (API keys, Authorization). */
  headers?: HeadersInit;
  /** `fetch` credentials mode for the media requests. */
  credentials?: RequestCredentials;
  /** Byte budget of the block cache (default 64 MiB). */
  cacheBytes?: number;
  /** WebCodecs preference; by default hardware is tried first, then anything available. */
  hardwareAcceleration?: HardwareAcceleration;
  /**
   * Upper bound of the first request (default 1 MiB). The read stops once the header is in:
   * the rest is cancelled as soon as the movie box is complete or found to lie elsewhere.
   */
  headBytes?: number;
  /** Retries of a failed request (network error, 5xx, 408, 429, a body cut short); default 4. */
  retries?: number;
  /**
   * When the server ignores `Range` (answers 200), read the file whole if it is at most this
   * many bytes. Default 0: such servers are reported with an error of code `range-ignored`.
   */
  wholeFileMax?: number;
  /**
   * When the browser cannot decode the file's codec (`isConfigSupported` false), open the
   * transcoded HLS rendition the server links to (`Link: <url>; rel="alternate"`, as
   * `frameseek serve` sends) instead; `info.transcodedFrom` then tells. Default true.
   */
  fallback?: boolean;
  /**
   * Load the MP4 module with the player's exports, so that the video has `audioConfig`,
   * `audioChunks`, `frameTimes`, `syncFrames`, `bufferedRanges` and `prefetchFrames` (as
   * `<frameseek-player>` does; see {@link PlayerVideo}). Without it an MP4 video lacks those
   * six methods, and plain `open()` loads a module about 4 KB smaller gzipped. HLS videos
   * have the four that are not about audio.
   */
  player?: boolean;
  /**
   * With `player: true`: the first frame asked for will be frame 0, and the frames after it
   * next (a player starting at the beginning; `<frameseek-player>` sets it unless a seek is
   * already waiting). The first request then reads on into the media data instead of being
   * cancelled at the header: with the moov at the end of the file, it carries the first
   * frames' bytes while the moov is fetched (the first frame one round trip sooner). The
   * first frame request cuts it after that frame's GOP (what playback decodes next; with
   * the moov first, without this, it is cut after the first frame's own bytes), or cancels
   * it when that frame lies elsewhere: up to about a round trip of the link's bytes wasted
   * then. Default false.
   */
  fromStart?: boolean;
  /**
   * Memory for frames kept by steps backwards (MP4 and HLS): `frameAt(k)` right after
   * `frameAt(k + 1)` decodes the frames from `k`'s keyframe through `k` in one pass and keeps
   * copies of the last of them, as many as this many bytes hold at 8 bits 4:2:0 (default
   * 48 MiB: 16 frames at 1080p, a whole GOP at 320x240), so that the next steps back take
   * one without decoding. 0 turns it off (each step back decodes from the keyframe).
   */
  stepBackBytes?: number;
  /** `'hls'` opens `url` as an HLS playlist, `'mp4'` as a file; by default a path ending in .m3u8/.m3u is HLS. */
  format?: 'hls' | 'mp4';
  /** HLS master playlists: take this variant (index in the playlist) when it exists. */
  variant?: number;
  /** HLS master playlists: skip variants taller / wider / above this bandwidth (bits/s). */
  maxHeight?: number;
  maxWidth?: number;
  maxBandwidth?: number;
  /** HLS master playlists: keep only variants whose CODECS start with one of these (e.g. `['avc1', 'mp4a']`). */
  codecs?: string[];
}

/** An HLS timeline marker (EXT-X-DATERANGE placed through EXT-X-PROGRAM-DATE-TIME). */
export interface Marker {
  id: string;
  /** Seconds on the video's timeline. */
  time: number;
  duration?: number;
  label: string;
  class?: string;
}

/** One track of {@link MediaInfo}. */
export interface TrackInfo {
  id: number;
  kind: 'video' | 'audio' | 'other';
  /** WebCodecs codec string, e.g. `avc1.64001f`. */
  codec: string;
  /** Why the codec configuration could not be read, if it could not. */
  codecError?: string;
  /** Coded size. */
  width?: number;
  height?: number;
  /** Display size after SAR and clean aperture (before rotation). */
  displayWidth?: number;
  displayHeight?: number;
  /** Sample aspect ratio `h:v`. */
  sar?: string;
  frameCount: number;
  fps?: number;
  keyframes: number;
  /** Clockwise rotation in degrees. */
  rotation: number;
  /** Seconds. */
  duration: number;
  timescale: number;
  sampleRate?: number;
  channels?: number;
  language?: string;
}

/** `video.info`: the probe summary (the same fields as `frameseek probe --json`). */
export interface MediaInfo {
  container: 'mp4' | 'mov' | string;
  fragmented: boolean;
  /** Seconds. */
  duration: number;
  /** File size in bytes. */
  size: number;
  /** Main video track's display size (SAR applied, before rotation). */
  width?: number;
  height?: number;
  codec?: string;
  frameCount?: number;
  fps?: number;
  /** Clockwise degrees; applied to frames unless `{ raw: true }`. */
  rotation?: number;
  tracks: TrackInfo[];
  /** HLS: whether the playlist may still grow (frameCount and duration are then as of open()). */
  live?: boolean;
  /** Set when `open()` fell back to the server's transcoded rendition of `url`. */
  transcodedFrom?: { url: string; codec: string | null; reason: string };
  /** HLS: the media playlist read and the variant chosen from the master playlist. */
  hls?: { url: string; variant?: number; variants?: number; bandwidth?: number; targetDuration: number; segments: number };
}

/** `video.stats`: counters since `open()`. */
export interface Stats {
  /** HTTP requests sent (retries included). */
  requests: number;
  /** Response body bytes received. */
  bytesFetched: number;
  /** Byte ranges served from the cache without a request. */
  cacheHits: number;
  /** Frames the decoder output (wanted or not). */
  framesDecoded: number;
  /** Requests that repeated failed ones. */
  retries: number;
  /** Bytes held by the block cache now. */
  cachedBytes: number;
}

export interface FrameOptions {
  /** Coded orientation: do not apply `info.rotation`. */
  raw?: boolean;
}

export interface FrameAtOptions extends FrameOptions {
  /**
   * The frame shown before this call, when it did not come from `frameAt` (a player showing
   * the frames of a `frames()` loop): `frameAt(k, { from: k + 1 })` is then a step backwards
   * and `frameAt(k, { from: k - 1 })` one forward, as if `frameAt(from)` had come before.
   */
  from?: number;
}

export interface FramesOptions extends FrameOptions {
  /** First frame (default 0). */
  start?: number;
  /** End, exclusive (default: the frame count). */
  end?: number;
  /** Distance between yielded frames (default 1). */
  step?: number;
  /** Decoded frames held for the consumer at most (default 3). */
  ahead?: number;
  /**
   * Stops decoding when aborted, even while the loop awaits a frame (which then ends it):
   * leaving the loop only stops the pass once the awaited frame is in.
   */
  signal?: AbortSignal;
}

export interface ThumbnailOptions extends FrameOptions {
  /** Output width; the height follows the display aspect ratio unless given. */
  width?: number;
  height?: number;
}

/**
 * Errors thrown by frameseek are `Error`s whose message starts with `frameseek:` and whose
 * `code` is one of these.
 */
export type ErrorCode =
  | 'http'
  | 'network'
  | 'range-ignored'
  | 'not-mp4'
  | 'truncated'
  | 'invalid'
  | 'unsupported'
  | 'unsupported-codec'
  | 'no-track'
  | 'out-of-range'
  | 'decode'
  | 'closed'
  | 'usage';

export interface FrameseekError extends Error {
  code: ErrorCode;
}

export declare class Video {
  private constructor();
  readonly info: MediaInfo;
  readonly stats: Stats;
  /** Whether the source may still grow (a live HLS playlist, reloaded every target duration). */
  readonly live: boolean;
  /** HLS EXT-X-DATERANGE markers, current for live playlists; `[]` for MP4. */
  readonly markers: Marker[];
  /** Frame indices available now: `[start, end)`; a live window moves forward. */
  frameRange(): { start: number; end: number };
  /**
   * Presentation-order frame `index` (after edit lists), exact. The caller closes it. Forward
   * steps (`frameAt(k)`, then `frameAt(k + 1)`, ...) share one decode pass that holds up to 3
   * frames ahead; any other call stops it. A step backwards decodes the frames before it in
   * its GOP too and keeps copies of them (see `stepBackBytes`; their `codedWidth` and
   * `codedHeight` are the visible size), so that the next steps, back or forward within
   * them, decode nothing; a frame elsewhere drops them. The same index asked again is a
   * clone of the frame returned last (no decode).
   */
  frameAt(index: number, opts?: FrameAtOptions): Promise<VideoFrame>;
  /** The frame on screen at `seconds`. */
  frameAtTime(seconds: number, opts?: FrameOptions): Promise<VideoFrame>;
  /**
   * Frames `start, start+step, ...` below `end`, in order, one decode pass per GOP. While the
   * loop does not take its `ahead` frames, other frame calls may use the decoder; the loop's
   * pass then decodes its GOP from the keyframe again when it goes on.
   *
   * Calls that follow on go on from where the last one ended (MP4): a loop that took all its
   * frames leaves its pass at `end`, holding the decoder where it is (with the few frames
   * after `end` that the decoder had to decode to give out those before it), and the next
   * `frames({ start: end, step })` call, or `frameAt(end)`, takes it on without decoding the
   * GOP again. The pass fetches only what the frames before `end` need, and a few samples
   * more. Any other call ends it, as does `close()`.
   */
  frames(opts?: FramesOptions): AsyncGenerator<VideoFrame, void, undefined>;
  /** Frame `index` scaled to `width` (or `height`). */
  thumbnail(index: number, opts?: ThumbnailOptions): Promise<ImageBitmap>;
  /**
   * WebCodecs configuration of the first audio track; undefined when there is none. This and
   * the five methods after it are there for MP4 opened with `{ player: true }` (a
   * {@link PlayerVideo}); HLS videos have the four that are not about audio.
   */
  audioConfig?(): (AudioDecoderConfig & { duration: number; sampleCount: number }) | undefined;
  /**
   * The audio samples presented in `[from, to)` seconds, in order, fetched with coalesced
   * ranges. One call returns at most 2048 samples or 8 MiB; `next` is where to go on (`to`
   * unless the answer was cut short).
   */
  audioChunks?(from: number, to: number): Promise<{ chunks: EncodedAudioChunk[]; next: number }>;
  /** Presentation time in seconds of every frame (frame `k` at index `k`). */
  frameTimes?(): Float64Array;
  /** Presentation-order indices of the sync samples, ascending. */
  syncFrames?(): Uint32Array;
  /** Time ranges whose frames' bytes are in the cache: `[start0, end0, start1, end1, ...]`. */
  bufferedRanges?(): Float64Array;
  /**
   * Starts fetching the bytes that the frames presented in `[from, to]` seconds need (from the
   * sync sample before `from`), without decoding them. Returns the number of frames.
   */
  prefetchFrames?(from: number, to: number): number;
  /** Cancels requests and releases the decoder. */
  close(): void;
}

/**
 * Opens an MP4/MOV (or fragmented MP4) URL, reading its header with bounded range requests,
 * or an HLS playlist (master or media; TS or fMP4 segments; VOD or live), whose frame indices
 * count across segments. HLS frame `k` is the frame shown at `k / fps` after the first frame
 * of the first segment: exact for constant-frame-rate streams.
 */
export declare function open(url: string | URL, opts: OpenOptions & { player: true }): Promise<PlayerVideo>;
export declare function open(url: string | URL, opts?: OpenOptions): Promise<Video>;

/** A video opened with `{ player: true }`: it has the player's six methods. */
export interface PlayerVideo extends Video {
  audioConfig(): (AudioDecoderConfig & { duration: number; sampleCount: number }) | undefined;
  audioChunks(from: number, to: number): Promise<{ chunks: EncodedAudioChunk[]; next: number }>;
  frameTimes(): Float64Array;
  syncFrames(): Uint32Array;
  bufferedRanges(): Float64Array;
  prefetchFrames(from: number, to: number): number;
}

/** Loads the MP4 module with the player's exports once; `open(url, { player: true })` does it. */
export declare function loadPlayer(moduleOrPath?: string | URL | BufferSource | WebAssembly.Module): Promise<unknown>;
/** Loads the HLS module ahead of `open()` (optional; `open()` loads it for playlists). */
export declare function loadHls(moduleOrPath?: string | URL | BufferSource | WebAssembly.Module): Promise<unknown>;

/** Whether `open(url, opts)` treats `url` as an HLS playlist. */
export declare function isHlsUrl(url: string | URL, opts?: OpenOptions): boolean;

/** Loads the wasm module ahead of `open()` (optional); `moduleOrPath` overrides its URL. */
export declare function load(moduleOrPath?: string | URL | BufferSource | WebAssembly.Module): Promise<unknown>;

export * from './player.js';
