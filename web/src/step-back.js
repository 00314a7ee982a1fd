// Steps backwards for Video.frameAt (index.js loads this file at the first one): one decode
// pass yields the frames from the wanted frame's keyframe through it, and copies of the last
// of them serve the steps that follow, instead of a pass from the keyframe for every step.

/**
 * A copy of `frame` in memory of its own, closing `frame`: frames kept for later steps must
 * not hold the decoder's buffers (a hardware decoder has few, and waits for them).
 */
async function copy(frame) {
  try {
    const rect = { x: 0, y: 0, width: frame.codedWidth, height: frame.codedHeight };
    const data = new Uint8Array(frame.allocationSize({ rect }));
    return new VideoFrame(data, {
      layout: await frame.copyTo(data, { rect }),
      format: frame.format,
      codedWidth: rect.width,
      codedHeight: rect.height,
      visibleRect: frame.visibleRect,
      displayWidth: frame.displayWidth,
      displayHeight: frame.displayHeight,
      timestamp: frame.timestamp,
      duration: frame.duration ?? undefined,
      colorSpace: frame.colorSpace,
    });
  } finally {
    frame.close();
  }
}

/**
 * A step backwards to frame `k` of the wasm video `w` (MP4 or HLS; `info` its Video's info): puts
 * copies of frame `k` and of the frames before it in its decode pass (as many as `bytes` holds
 * at 8-bit 4:2:0) into `kept` by index, and resolves to a clone of frame `k`, or to undefined
 * when none could be kept (an opaque format; frameAt then decodes `k` alone).
 */
export async function stepBack(w, info, k, kept, bytes) {
  const n = Math.floor(bytes / (info.width * info.height * 1.5));
  const frames = [];
  if (n > 1) {
    // Only the frames of the last pass come out (`true`): the window's last ones, through k.
    const stream = w.frames(Math.max(0, k + 1 - n), k + 1, 1, 1, true);
    try {
      for (let f; (f = await stream.next()); ) frames.push(await copy(f));
    } catch {
      for (const f of frames.splice(0)) f.close();
    } finally {
      stream.close();
    }
  }
  frames.forEach((f, i) => kept.set(k + 1 - frames.length + i, f));
  return kept.get(k)?.clone();
}
