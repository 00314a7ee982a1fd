// Pictures left out of a one-frame H.264 decode, in headless Chromium: for an I or P frame,
// frameAt() feeds only the pictures its P slices can refer to (core's SkipCheck). x264
// veryfast's B pyramid is left out, so the decoder outputs only the GOP's I and P pictures up
// to the frame; x264 medium's P frames refer to B pictures, so the first try restarts without
// leaving them out. Every frame is exact either way, on fresh opens and on one open. In
// x264's 3-B-frame pyramid the B pictures carry the marking commands that keep the decoder's
// reference frames in check; leaving them out must not feed a stream that Chromium's decoder
// refuses (it fails on a command naming a frame it does not hold).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, setup } from './browser.mjs';

const FRAMES = 60;
const BARCODE =
  "geq=lum='if(lt(Y,24),if(mod(floor(N/pow(2,floor(X/20))),2),235,16),p(X,Y))':cb='p(X,Y)':cr='p(X,Y)'";
/** [name, x264 arguments]: GOP 60, so that every frame of the file is in one GOP. */
const FILES = [
  ['veryfast', ['-preset', 'veryfast', '-x264-params', 'bframes=2:keyint=60:scenecut=0']],
  ['medium', ['-preset', 'medium', '-x264-params', 'bframes=3:keyint=60:scenecut=0']],
];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
}

describe('pictures left out of one-frame H.264 decodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frameseek-skip-'));
  /** Per file: each frame's picture type in presentation order. */
  const types = {};
  let env;

  before(async () => {
    for (const [name, args] of FILES) {
      const out = join(dir, `${name}.mp4`);
      run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30,noise=alls=8:allf=t,${BARCODE}`,
        '-frames:v', String(FRAMES), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...args, '-movflags', '+faststart', out]);
      types[name] = run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', out])
        .split('\n').map((l) => l.trim()).filter(Boolean);
      assert.equal(types[name].length, FRAMES);
    }
    copyFileSync(join(fixtures, 'h264_long_gop.mp4'), join(dir, 'long_gop.mp4'));
    types.long_gop = run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', join(dir, 'long_gop.mp4')])
      .split('\n').map((l) => l.trim()).filter(Boolean);
    env = await setup({ mediaDir: dir });
  });
  after(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fresh opens: [barcode, framesDecoded] of frameAt(k) for each k. */
  const fresh = (name, ks) =>
    env.page.evaluate(async ([url, ks]) => {
      const out = [];
      for (const k of ks) {
        const v = await window.frameseek.open(url);
        const f = await v.frameAt(k);
        out.push([await window.barcode(f), v.stats.framesDecoded]);
        f.close();
        v.close();
      }
      return out;
    }, [env.media(`${name}.mp4`), ks]);

  test('x264 veryfast: an I or P frame decodes from the I and P pictures alone', async () => {
    const t = types.veryfast;
    const all = [...Array(FRAMES).keys()];
    const got = await fresh('veryfast', all);
    let anchors = 0;
    for (const k of all) {
      assert.equal(got[k][0], k, `frame ${k}`);
      if (t[k] === 'B') continue;
      anchors++;
      const chain = t.slice(0, k + 1).filter((p) => p !== 'B').length;
      assert.equal(got[k][1], chain, `frame ${k} (${t[k]}): pictures decoded`);
    }
    assert.ok(anchors > 10 && t.filter((p) => p === 'B').length > 20, `${t.join('')}`);
  });

  test('x264 medium: P frames refer to B pictures, so they are decoded (after one restart)', async () => {
    const t = types.medium;
    const last = t.lastIndexOf('P');
    const [[code, decoded]] = await fresh('medium', [last]);
    assert.equal(code, last);
    // The B pictures that its P slices refer to are decoded too.
    assert.ok(decoded > t.slice(0, last + 1).filter((p) => p !== 'B').length, `${decoded} pictures`);
    const all = [...Array(FRAMES).keys()];
    for (const [k, [c]] of (await fresh('medium', all)).entries()) assert.equal(c, k, `frame ${k}`);
    // One open, frames in a shuffled order: after the restart it no longer tries.
    const order = all.map((k) => (k * 37) % FRAMES);
    const codes = await env.page.evaluate(async ([url, order]) => {
      const v = await window.frameseek.open(url);
      const out = [];
      for (const k of order) {
        const f = await v.frameAt(k);
        out.push(await window.barcode(f));
        f.close();
      }
      v.close();
      return out;
    }, [env.media('medium.mp4'), order]);
    assert.deepEqual(codes, order);
  });

  test('x264 with 3 B-frames: no frame makes the decoder fail', async () => {
    // The fixture's I and P frames up to frame 120 (its frame_num wraps at 16 reference
    // pictures, and its B pictures unmark frames), each on a fresh open, with the decoder's
    // error callback watched.
    const ks = types.long_gop.map((p, k) => [p, k]).filter(([p, k]) => p !== 'B' && k <= 120).map(([, k]) => k);
    assert.ok(ks.length > 20, `${ks.length} I/P frames`);
    const got = await env.page.evaluate(async ([url, ks]) => {
      const Decoder = window.VideoDecoder;
      const errors = [];
      window.VideoDecoder = class extends Decoder {
        constructor(init) {
          super({ ...init, error: (e) => (errors.push(String(e)), init.error(e)) });
        }
      };
      const out = [];
      try {
        for (const k of ks) {
          errors.length = 0;
          const v = await window.frameseek.open(url);
          const f = await v.frameAt(k);
          out.push([k, await window.barcode(f), [...errors]]);
          f.close();
          v.close();
        }
      } finally {
        window.VideoDecoder = Decoder;
      }
      return out;
    }, [env.media('long_gop.mp4'), ks]);
    for (const [k, code, errors] of got) {
      assert.equal(code, k, `frame ${k}`);
      assert.deepEqual(errors, [], `frame ${k}: decoder errors`);
    }
  });
});
