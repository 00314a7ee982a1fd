// Video.thumbnail's drawing (index.js loads this file at the first thumbnail): the frame
// scaled into an ImageBitmap at its display size.

/** Draws `frame` (closing it) at `width`/`height` (one given: the other keeps the display aspect). */
export function thumbnail(frame, { width, height } = {}) {
  try {
    // Display size: SAR applied, and rotation too for a rotated frame; drawImage honours
    // both (createImageBitmap ignores the rotation).
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    let outW = width ?? (height ? (height * w) / h : w);
    let outH = height ?? (width ? (width * h) / w : h);
    outW = Math.max(1, Math.round(outW));
    outH = Math.max(1, Math.round(outH));
    const canvas = new OffscreenCanvas(outW, outH);
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(frame, 0, 0, outW, outH);
    return canvas.transferToImageBitmap();
  } finally {
    frame.close();
  }
}
