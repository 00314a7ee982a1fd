// Runs frameseek inside a dedicated worker: opens the URL it is sent and answers with the
// barcodes of the frames asked for.
import { open } from '/dist/index.js';

self.onmessage = async ({ data: { url, frames } }) => {
  try {
    const video = await open(url);
    const out = [];
    for (const k of frames) {
      const f = await video.frameAt(k);
      const buf = new Uint8Array(f.allocationSize());
      const layout = await f.copyTo(buf);
      let v = 0;
      for (let b = 0; b < 16; b++) if (buf[layout[0].offset + 12 * layout[0].stride + 20 * b + 10] > 128) v |= 1 << b;
      out.push(v);
      f.close();
    }
    video.close();
    self.postMessage({ ok: true, out });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e), code: e.code });
  }
};
