// Types for <frameseek-player> (web/src/player), registered when `frameseek` is imported.
import type { MediaInfo, Stats } from './index.js';

/** One timeline marker. Extra fields are kept and handed back in `markerclick`. */
export interface PlayerMarker {
  /** Seconds. */
  time: number;
  label?: string;
  /** CSS color of this marker (default: `--frameseek-marker-color`). */
  color?: string;
  [key: string]: unknown;
}

/** `player.stats`: the module's counters plus playback's. */
export interface PlayerStats extends Partial<Stats> {
  /**
   * Seconds between the playback clock (the AudioContext's audible time when the source has
   * audio) and the presentation interval `[pts, next pts)` of the frame painted at the last
   * paint: 0 when the right frame is on screen.
   */
  drift: number;
  /** The largest `drift` since playback last started (play, seek, or the end of a stall). */
  maxDrift: number;
  framesPainted: number;
  /** Decoded frames skipped because their time had passed. */
  framesDropped: number;
  /** Times playback waited for data ('waiting'). */
  stalls: number;
  /** What drives playback: the AudioContext or, without audio, performance.now(). */
  clock: 'audio' | 'wall';
  /** `audioContext.currentTime`, or null before the context exists. */
  audioTime: number | null;
  audioState: AudioContextState | 'not-started' | 'none';
  /** Decoded frames waiting ahead of the playhead. */
  queuedFrames: number;
}

/** A `TimeRanges`-like list (iterable as `[start, end]` pairs). */
export interface PlayerTimeRanges extends Iterable<[number, number]> {
  readonly length: number;
  start(index: number): number;
  end(index: number): number;
}

/** A `MediaError`-like error. */
export interface PlayerError extends Error {
  /** 1 aborted, 2 network, 3 decode, 4 source not supported (MediaError codes). */
  readonly code: 1 | 2 | 3 | 4;
  /** The frameseek module's error code (`http`, `not-mp4`, `unsupported-codec`, ...). */
  readonly frameseekCode?: string;
}

/**
 * Events: the media events of HTMLElementEventMap (loadstart, durationchange, loadedmetadata,
 * loadeddata, canplay, canplaythrough, play, playing, pause, timeupdate, seeking, seeked,
 * ended, waiting, progress, volumechange, ratechange, resize, emptied, error; typed as
 * lib.dom types them for media elements) and `markerclick`.
 */
export interface FrameseekPlayerEventMap extends HTMLElementEventMap {
  /** A marker was clicked; `preventDefault()` stops the seek. */
  markerclick: CustomEvent<PlayerMarker>;
}

/**
 * `<frameseek-player src="video.mp4" controls>`: a media-element-like player that fetches
 * only the byte ranges it plays, decodes with WebCodecs, paints into a canvas in an open
 * shadow root, and plays audio through Web Audio (whose clock it follows).
 *
 * Attributes: `src`, `controls`, `autoplay`, `muted` (default muted), `loop`, `poster`,
 * `prefetch` (seconds ahead, default 3), `thumbnails` (a WebVTT thumbnails URL),
 * `crossorigin` (`use-credentials` sends cookies).
 */
export declare class FrameseekPlayer extends HTMLElement {
  static readonly HAVE_NOTHING: 0;
  static readonly HAVE_METADATA: 1;
  static readonly HAVE_CURRENT_DATA: 2;
  static readonly HAVE_FUTURE_DATA: 3;
  static readonly HAVE_ENOUGH_DATA: 4;

  src: string;
  readonly currentSrc: string;
  poster: string;
  controls: boolean;
  autoplay: boolean;
  loop: boolean;
  defaultMuted: boolean;
  /** Seconds of media fetched and decoded ahead of the playhead (default 3). */
  prefetch: number;

  /** Resolves when playback starts ('playing'); rejects with AbortError if interrupted. */
  play(): Promise<void>;
  pause(): void;
  /** Reloads `src`. */
  load(): Promise<void>;
  readonly paused: boolean;
  readonly ended: boolean;
  readonly seeking: boolean;
  /** Seconds; setting it seeks and shows exactly the frame presented at that time. */
  currentTime: number;
  fastSeek(time: number): void;
  readonly duration: number;
  volume: number;
  muted: boolean;
  playbackRate: number;
  defaultPlaybackRate: number;
  readonly buffered: PlayerTimeRanges;
  readonly seekable: PlayerTimeRanges;
  readonly played: PlayerTimeRanges;
  readonly readyState: 0 | 1 | 2 | 3 | 4;
  readonly networkState: 0 | 1 | 2 | 3;
  readonly error: PlayerError | null;
  /** Display size of the frame on screen (SAR and rotation applied). */
  readonly videoWidth: number;
  readonly videoHeight: number;
  canPlayType(type: string): '' | 'maybe';

  /** Index (presentation order, from 0) of the frame on screen; -1 before the first. */
  readonly currentFrame: number;
  readonly frameCount: number;
  /** Average frames per second. */
  readonly frameRate: number;
  /** The frameseek module's probe summary of the source (null before metadata). */
  readonly info: MediaInfo | null;
  /** Presentation time (seconds) of frame `index`. */
  frameTime(index: number): number | undefined;
  /** Moves `n` frames (default 1, negative goes back) exactly, pausing first. */
  stepFrame(n?: number): Promise<void>;
  /** Shows frame `index` exactly, pausing first. */
  seekToFrame(index: number): Promise<void>;
  /** Timeline markers, drawn as `part="marker"` buttons; a click seeks to the marker. */
  markers: PlayerMarker[];
  readonly stats: PlayerStats;
  /** The A/V drift at the last painted frame, in seconds (`stats.drift`). */
  readonly drift: number;
  /** The AudioContext that plays the sound (created on the first play()), or null. */
  readonly audioContext: AudioContext | null;
  /** The frame on screen as an image (PNG by default), at its display size. */
  captureFrame(type?: string, quality?: number): Promise<Blob>;
  toggleFullscreen(): Promise<void> | undefined;

  addEventListener<K extends keyof FrameseekPlayerEventMap>(
    type: K,
    listener: (this: FrameseekPlayer, ev: FrameseekPlayerEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof FrameseekPlayerEventMap>(
    type: K,
    listener: (this: FrameseekPlayer, ev: FrameseekPlayerEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'frameseek-player': FrameseekPlayer;
  }
}
