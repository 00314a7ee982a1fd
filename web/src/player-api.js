// The calls <frameseek-player> (web/src/player) makes on a Video besides frames: audio, frame
// times, sync frames, buffered ranges, prefetching (crates/wasm/src/{audio,timeline}.rs).
// index.js loads this file and adds them to a Video whose wasm video answers them: MP4 opened
// with `{ player: true }` (all six), HLS (all but the audio ones).

/** The player's calls on the wasm video `w`, as methods to add to its Video. */
export function playerCalls(w) {
  const calls = {
    /** Presentation time (seconds) of every frame, by frame index. */
    frameTimes: () => w.frameTimes(),
    /** Frame indices a decode pass can start at (sync samples), ascending. */
    syncFrames: () => w.syncFrames(),
    /** Time ranges whose frames' bytes are cached: [start0, end0, start1, end1, ...]. */
    bufferedRanges: () => w.bufferedRanges(),
    /** Starts fetching the bytes of the frames presented in [from, to] seconds (no decoding). */
    prefetchFrames: (from, to) => w.prefetchFrames(from, to),
  };
  if (!w.audioConfig) return calls;
  return {
    ...calls,
    /** WebCodecs `AudioDecoderConfig` of the first audio track, or undefined without one. */
    audioConfig() {
      const c = w.audioConfig();
      return c && c.codec ? c : undefined;
    },
    /** The audio samples presented in [from, to) seconds as EncodedAudioChunks. */
    async audioChunks(from, to) {
      const r = await w.audioChunks(from, to);
      const chunks = [];
      let at = 0;
      for (let i = 0; i < r.sizes.length; i++) {
        const data = r.data.subarray(at, (at += r.sizes[i]));
        chunks.push(new EncodedAudioChunk({ type: 'key', timestamp: r.timestamps[i], duration: r.durations[i], data }));
      }
      return { chunks, next: r.next };
    },
  };
}
