// Exactness in headless Chromium: for every browser-decodable barcode fixture, frameAt(k) at
// the start, middle, end and at seeded random k carries barcode k, and frames({start, end,
// step}) yields exactly the requested barcodes with one decode pass per GOP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manifest, rng, setup, stepBack as stepBackIn } from './browser.mjs';

const decodable = manifest().filter((f) => f.browser_decodable && f.kind === 'video');
let env;

/** Runs frameAt for each k in the page; returns barcodes, timestamps and stats. */
async function frameAt(url, ks, opts = {}) {
  return env.page.evaluate(
    async ({ url, ks, opts }) => {
      const v = await frameseek.open(url, opts);
      const codes = [];
      const sizes = [];
      for (const k of ks) {
        const f = await v.frameAt(k, { raw: true });
        codes.push(await barcode(f));
        sizes.push([f.displayWidth, f.displayHeight]);
        f.close();
      }
      const out = { codes, sizes, info: v.info, stats: v.stats };
      v.close();
      return out;
    },
    { url, ks, opts },
  );
}

describe('browser', () => {
  before(async () => {
    env = await setup();
  });
  after(async () => {
    await env?.close();
  });

  // frameAt is exact
  for (const f of decodable) {
    test(f.file, async () => {
      const n = f.frames;
      const seed = 1000 + n;
      const next = rng(seed);
      const ks = [0, 1, Math.floor(n / 2), n - 2, n - 1];
      for (let i = 0; i < 6; i++) ks.push(Math.floor(next() * n));
      for (const k of f.leading_frames ?? []) ks.push(k);
      for (const k of f.keyframes ?? []) if (k > 0) ks.push(k - 1, k);
      const got = await frameAt(env.media(f.file), ks);
      assert.deepEqual(got.codes, ks, `barcodes of frames ${ks} (seed ${seed})`);
      assert.equal(got.info.frameCount, n);
      assert.equal(got.info.rotation, f.rotation ?? 0);
    });
  }

  // frames() yields exactly the requested frames
  const cases = [
    ['h264_faststart.mp4', { start: 0, end: 90, step: 1 }],
    ['h264_bframes_editlist.mp4', { start: 5, end: 80, step: 7 }],
    ['h264_open_gop.mp4', { start: 80, end: 120, step: 3 }],
    ['h264_vfr.mp4', { start: 10, end: 90, step: 11 }],
    ['h264_long_gop.mp4', { start: 290, end: 320, step: 2 }],
    ['h264_fragmented.mp4', { start: 0, end: 90, step: 29 }],
    ['vp9.mp4', { start: 3, end: 60, step: 5 }],
    ['av1.mp4', { start: 0, end: 30, step: 4 }],
  ];
  for (const [file, opts] of cases) {
    test(`${file} ${JSON.stringify(opts)}`, async () => {
      const want = [];
      for (let k = opts.start; k < opts.end; k += opts.step) want.push(k);
      const got = await env.page.evaluate(
        async ({ url, opts }) => {
          const v = await frameseek.open(url);
          const codes = [];
          for await (const f of v.frames({ ...opts, raw: true })) {
            codes.push(await barcode(f));
            f.close();
          }
          const stats = v.stats;
          v.close();
          return { codes, stats };
        },
        { url: env.media(file), opts },
      );
      assert.deepEqual(got.codes, want);
    });
  }

  test('one decode pass per GOP: every frame of a 3-GOP file decodes each sample once', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      let n = 0;
      for await (const f of v.frames()) {
        n += 1;
        f.close();
      }
      const stats = v.stats;
      v.close();
      return { n, stats };
    }, env.media('h264_faststart.mp4'));
    assert.equal(got.n, 90);
    assert.equal(got.stats.framesDecoded, 90);
  });

  test('step skips GOPs it does not need: keyframes only decode one sample each', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const codes = [];
      for await (const f of v.frames({ step: 30, raw: true })) {
        codes.push(await barcode(f));
        f.close();
      }
      const stats = v.stats;
      v.close();
      return { codes, stats };
    }, env.media('h264_faststart.mp4'));
    assert.deepEqual(got.codes, [0, 30, 60]);
    assert.equal(got.stats.framesDecoded, 3);
  });

  // frames() calls one after another, each ending inside a GOP, yield every frame once, and
  // (taking up where the last one ended) decode what one call for all of them decodes.
  for (const f of decodable) {
    test(`${f.file}: consecutive frames() calls`, async () => {
      const n = f.frames;
      const cuts = [0, Math.floor(n / 3), Math.floor(n / 2) + 1, Math.floor((2 * n) / 3), n];
      const got = await env.page.evaluate(
        async ({ url, cuts }) => {
          const one = await frameseek.open(url);
          for await (const fr of one.frames()) fr.close();
          const all = one.stats.framesDecoded;
          one.close();
          const v = await frameseek.open(url);
          const codes = [];
          for (let i = 1; i < cuts.length; i++) {
            for await (const fr of v.frames({ start: cuts[i - 1], end: cuts[i], raw: true })) {
              codes.push(await barcode(fr));
              fr.close();
            }
          }
          const stats = v.stats;
          v.close();
          return { codes, stats, all };
        },
        { url: env.media(f.file), cuts },
      );
      assert.deepEqual(got.codes, [...Array(n).keys()]);
      // Before, each call decoded from its GOP's keyframe: 60 more pictures for h264_long_gop.
      assert.ok(got.stats.framesDecoded <= got.all + 4, `${got.stats.framesDecoded} pictures decoded, one call ${got.all}`);
    });
  }

  test('frames() with an end that is not a number runs to the last frame', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const codes = [];
      for await (const f of v.frames({ start: 80, end: NaN, raw: true })) {
        codes.push(await barcode(f));
        f.close();
      }
      v.close();
      return codes;
    }, env.media('h264_faststart.mp4'));
    assert.deepEqual(got, [80, 81, 82, 83, 84, 85, 86, 87, 88, 89]);
  });

  test('consecutive frames() calls go on from where the last one ended: the GOP is decoded once', async () => {
    // h264_long_gop: 300-frame GOPs. Each call takes up where the last one left off; the first
    // decodes from the keyframe, the next ones only their own frames (before: 69 and 75).
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url, { headBytes: 4096 });
      const runs = [];
      const run = async (o) => {
        const before = v.stats;
        const codes = [];
        for await (const f of v.frames({ ...o, raw: true })) {
          codes.push(await barcode(f));
          f.close();
        }
        const after = v.stats;
        runs.push({ codes, decoded: after.framesDecoded - before.framesDecoded, bytes: after.bytesFetched - before.bytesFetched });
      };
      const abort = new AbortController();
      await run({ start: 100, end: 110, signal: abort.signal });
      // The finished call's signal does not reach the stream that the next call takes on.
      abort.abort();
      await run({ start: 110, end: 120 });
      await run({ start: 120, end: 130 });
      // A step forward from the end goes on too.
      let before = v.stats.framesDecoded;
      const at = await v.frameAt(130, { raw: true });
      const step = { code: await barcode(at), decoded: v.stats.framesDecoded - before };
      at.close();
      // Any other call ends it: the next frames() decodes from the keyframe again.
      (await v.frameAt(450)).close();
      await run({ start: 131, end: 140 });
      // With a step, and once more with a different step (a new pass).
      await run({ start: 150, end: 180, step: 10 });
      await run({ start: 180, end: 230, step: 10 });
      await run({ start: 230, end: 250, step: 5 });
      v.close();
      // What frame 112 alone fetches: the bytes through the first call's end and a few more.
      const w = await frameseek.open(url, { headBytes: 4096 });
      (await w.frameAt(112)).close();
      const alone = w.stats.bytesFetched;
      w.close();
      return { runs, step, alone };
    }, env.media('h264_long_gop.mp4'));
    const range = (a, b, s = 1) => Array.from({ length: Math.ceil((b - a) / s) }, (_, i) => a + i * s);
    assert.deepEqual(got.runs.map((r) => r.codes), [range(100, 110), range(110, 120), range(120, 130), range(131, 140), range(150, 180, 10), range(180, 230, 10), range(230, 250, 5)]);
    const decoded = got.runs.map((r) => r.decoded);
    assert.ok(decoded[0] > 50, `the first call decodes from the keyframe: ${decoded}`);
    assert.ok(decoded[1] <= 16 && decoded[2] <= 16, `the calls that go on decode their own frames: ${decoded}`);
    assert.ok(got.step.code === 130 && got.step.decoded <= 3, JSON.stringify(got.step));
    assert.ok(decoded[3] > 50, `after another call, from the keyframe again: ${decoded}`);
    assert.ok(decoded[5] <= 60, `a call with the same step goes on: ${decoded}`);
    assert.ok(decoded[6] > 100, `a call with another step starts a new pass: ${decoded}`);
    // The first call fetched what its frames need (and the few samples after them that let
    // the decoder give them out), not the rest of the GOP.
    assert.ok(got.runs[0].bytes < got.alone, `${got.runs[0].bytes} bytes, frame 112 alone ${got.alone}`);
  });

  test('backpressure: a slow consumer never has more than `ahead` frames waiting', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const codes = [];
      for await (const f of v.frames({ start: 0, end: 60, ahead: 2, raw: true })) {
        await new Promise((r) => setTimeout(r, 15));
        codes.push(await barcode(f));
        f.close();
      }
      // Breaking out early closes the stream and its frames.
      for await (const f of v.frames({ start: 0, end: 90 })) {
        f.close();
        break;
      }
      const after = await v.frameAt(89, { raw: true });
      const last = await barcode(after);
      after.close();
      v.close();
      return { codes, last };
    }, env.media('h264_long_gop.mp4'));
    assert.deepEqual(got.codes, [...Array(60).keys()]);
    assert.equal(got.last, 89);
  });

  test('forward steps with frameAt run on one decode pass; other requests stop it', async () => {
    const got = await env.page.evaluate(async (url) => {
      const read = async (p) => {
        const f = await p;
        const code = await barcode(f);
        f.close();
        return code;
      };
      // What one frameAt costs from a fresh open: frame 200 lies 200 frames into a 300-frame GOP.
      const one = await frameseek.open(url);
      await read(one.frameAt(200));
      const single = one.stats.framesDecoded;
      one.close();

      const v = await frameseek.open(url);
      const steps = [];
      for (let k = 200; k < 240; k++) steps.push(await read(v.frameAt(k)));
      const stepped = v.stats.framesDecoded;
      // Steps asked for together, a jump back, a frames() stream, steps again, the last frame.
      const together = await Promise.all([240, 241, 242].map((k) => read(v.frameAt(k))));
      const back = await read(v.frameAt(100));
      const stream = [];
      for await (const f of v.frames({ start: 243, end: 246 })) {
        stream.push(await barcode(f));
        f.close();
      }
      const again = [await read(v.frameAt(246)), await read(v.frameAt(247)), await read(v.frameAt(248))];
      // The same frame again is the one held back (nothing decoded), and the steps go on.
      const before = v.stats.framesDecoded;
      const repeat = await read(v.frameAt(248));
      const repeatDecoded = v.stats.framesDecoded - before;
      const rotatedRepeat = await v.frameAt(248);
      rotatedRepeat.close();
      again.push(repeat, await read(v.frameAt(249)));
      const end = [await read(v.frameAt(598)), await read(v.frameAt(599))];
      const past = await v.frameAt(600).then(
        () => 'resolved',
        (e) => e.code,
      );
      v.close();
      return { single, steps, stepped, together, back, stream, again, repeatDecoded, end, past };
    }, env.media('h264_long_gop.mp4'));
    assert.deepEqual(got.steps, [...Array(40).keys()].map((i) => 200 + i));
    // Decoding every step from the keyframe would cost about 40 × `single`; one pass decodes
    // the GOP through frame 239 once, plus the frames it holds ahead (3) and the decoder's lag.
    assert.ok(got.single > 40, `frameAt(200) decoded ${got.single} frames`);
    assert.ok(got.stepped <= got.single + 240 + 12, `40 steps decoded ${got.stepped} frames (one frameAt: ${got.single})`);
    assert.deepEqual(got.together, [240, 241, 242]);
    assert.equal(got.back, 100);
    assert.deepEqual(got.stream, [243, 244, 245]);
    assert.deepEqual(got.again, [246, 247, 248, 248, 249]);
    assert.equal(got.repeatDecoded, 0, 'frameAt(k) twice decodes k once');
    assert.deepEqual(got.end, [598, 599]);
    assert.equal(got.past, 'out-of-range');
  });

  /** Steps backwards with frameAt from `from` down to `to` in the page: barcodes and pictures decoded. */
  const stepBack = (file, from, to, opts) => stepBackIn(env.page, env.media(file), from, to, opts);

  // Files with B-frames (closed and open GOPs, an edit list), a 300-frame GOP whose coded
  // height is cropped, VP9; each walk crosses GOP boundaries.
  for (const [file, from, to] of [
    ['h264_aac.mp4', 149, 0],
    ['h264_open_gop.mp4', 119, 0],
    ['h264_bframes_editlist.mp4', 89, 0],
    ['h264_long_gop.mp4', 330, 250],
    ['vp9.mp4', 59, 0],
  ]) {
    test(`${file}: steps backwards with frameAt decode each pass once and keep its frames`, async () => {
      const want = [...Array(from - to).keys()].map((i) => from - 1 - i);
      const f = manifest().find((m) => m.file === file);
      // The default 48 MiB holds a whole GOP at this size, so the first step back into a GOP
      // decodes it from its keyframe through that frame once, and the steps after it in the
      // GOP decode nothing: the pictures from each keyframe through the walk's last frame in
      // its GOP (open GOPs and the decoder's lag add a few).
      let once = 0;
      f.keyframes.forEach((key, g) => {
        const top = Math.min(from - 1, (f.keyframes[g + 1] ?? f.frames) - 1);
        if (top >= to && top >= key) once += top - key + 1;
      });
      const kept = await stepBack(file, from, to);
      assert.deepEqual(kept.codes, want);
      assert.ok(kept.decoded <= once * 1.1 + 8, `${from - to} steps back decoded ${kept.decoded} pictures (GOP prefixes: ${once})`);
      // Decoding every step from its keyframe (stepBackBytes 0, or before frames were kept)
      // costs several times as many.
      const off = await stepBack(file, from, to, { stepBackBytes: 0 });
      assert.deepEqual(off.codes, want);
      assert.ok(off.decoded > once * 1.5, `stepBackBytes 0: ${off.decoded} pictures decoded (GOP prefixes: ${once})`);
      // A budget of 4 frames keeps 4 frames per pass: more passes, each shorter.
      const small = await stepBack(file, from, to, { stepBackBytes: f.width * f.height * 1.5 * 4 });
      assert.deepEqual(small.codes, want);
      assert.ok(small.decoded > kept.decoded && small.decoded < off.decoded * 2, `4 frames kept: ${small.decoded} decoded`);
    });
  }

  test('frames kept by a step backwards equal decoded ones, and other calls leave them or drop them', async () => {
    const got = await env.page.evaluate(async (urls) => {
      const props = async (f) => {
        const data = new Uint8Array(f.allocationSize());
        await f.copyTo(data);
        const v = f.visibleRect;
        const out = {
          format: f.format,
          visible: [v.x, v.y, v.width, v.height],
          display: [f.displayWidth, f.displayHeight],
          timestamp: f.timestamp,
          duration: f.duration,
          rotation: f.rotation,
          colorSpace: f.colorSpace.toJSON(),
          code: await barcode(f),
          sum: data.reduce((a, b) => (a * 31 + b) >>> 0, 0),
        };
        f.close();
        return out;
      };
      const out = {};
      for (const url of urls) {
        // Frame 40 from a fresh video (a pass of its own) and from the frames a step back to 41 kept.
        const fresh = await frameseek.open(url);
        const a = await props(await fresh.frameAt(40));
        fresh.close();
        const v = await frameseek.open(url);
        (await v.frameAt(42)).close();
        (await v.frameAt(41)).close();
        const d = v.stats.framesDecoded;
        const b = await props(await v.frameAt(40));
        // Within the kept frames, forward and back again, and after a frames() loop: nothing decoded.
        const codes = [];
        for (const k of [41, 39, 38, 39]) codes.push((await props(await v.frameAt(k))).code);
        let decoded = v.stats.framesDecoded - d;
        for await (const f of v.frames({ start: 0, end: 2 })) f.close();
        const d1 = v.stats.framesDecoded;
        codes.push((await props(await v.frameAt(37))).code);
        decoded += v.stats.framesDecoded - d1;
        // A jump elsewhere drops them: frame 38 is decoded again.
        (await v.frameAt(80)).close();
        const d2 = v.stats.framesDecoded;
        codes.push((await props(await v.frameAt(38))).code);
        out[url] = { a, b, codes, decoded, again: v.stats.framesDecoded - d2 };
        v.close();
      }
      return out;
    }, ['h264_long_gop.mp4', 'h264_sar.mp4', 'h264_rotated.mp4'].map((f) => env.media(f)));
    for (const [url, r] of Object.entries(got)) {
      assert.deepEqual(r.b, r.a, url);
      assert.equal(r.a.code, 40, url);
      assert.deepEqual(r.codes, [41, 39, 38, 39, 37, 38], url);
      assert.equal(r.decoded, 0, `${url}: steps onto kept frames decode nothing`);
      assert.ok(r.again > 0, `${url}: frame 38 after a jump`);
    }
  });

  test('frameAt(k, { from }) steps from a frame that came from frames()', async () => {
    // h264_long_gop.mp4, deep in its first GOP (300 frames): a frames() loop shows 250-254.
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const out = { codes: [] };
      const take = async (k, opts) => {
        const d = v.stats.framesDecoded;
        const f = await v.frameAt(k, opts);
        out.codes.push(await barcode(f));
        f.close();
        return v.stats.framesDecoded - d;
      };
      for await (const f of v.frames({ start: 250, end: 255 })) f.close();
      // Backwards from 254: one pass from the keyframe, whose last frames are kept.
      out.back = await take(253, { from: 254 });
      out.backNext = (await take(252)) + (await take(251));
      for await (const f of v.frames({ start: 100, end: 103 })) f.close();
      // Forwards from 102: one pass on from 103, a frame or so for each next step.
      out.forward = await take(103, { from: 102 });
      out.forwardNext = (await take(104)) + (await take(105));
      v.close();
      return out;
    }, env.media('h264_long_gop.mp4'));
    assert.deepEqual(got.codes, [253, 252, 251, 103, 104, 105]);
    assert.ok(got.back >= 250, `the step back decoded its pass: ${got.back}`);
    assert.equal(got.backNext, 0, 'the next steps back take kept frames');
    // Without `from`, 253 and 103 are jumps: 252 is then the step back that decodes the pass
    // (over 200 pictures) and 104 the step that starts the forward one (over 100).
    assert.ok(got.forwardNext <= 2 + 4, `the next steps forward decoded ${got.forwardNext}`);
  });

  test('frames({ signal }): an abort stops the pass while a frame is awaited', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const ac = new AbortController();
      // Frame 299 is the last of a 300-frame GOP: its pass decodes the GOP before it yields.
      const it = v.frames({ start: 299, signal: ac.signal });
      const first = it.next();
      await new Promise((r) => setTimeout(r, 20));
      ac.abort();
      const r = await first;
      const decoded = v.stats.framesDecoded;
      r.value?.close();
      await it.return(); // (ended already when the abort worked)
      const early = [];
      for await (const f of v.frames({ start: 10, signal: AbortSignal.abort() })) {
        early.push(f.timestamp);
        f.close();
      }
      const f = await v.frameAt(150, { raw: true });
      const after = await barcode(f);
      f.close();
      v.close();
      return { done: r.done, decoded, early, after };
    }, env.media('h264_long_gop.mp4'));
    assert.equal(got.done, true, 'the aborted loop ends without a frame');
    assert.ok(got.decoded < 150, `${got.decoded} frames decoded before the pass stopped (the frame needs about 200)`);
    assert.deepEqual(got.early, [], 'an aborted signal yields nothing');
    assert.equal(got.after, 150);
  });

  // One decoder per video, taken in turns: a loop that stops taking frames must not hold it.
  for (const [file, from, other] of [
    ['h264_long_gop.mp4', 100, 250],
    ['hls_ts/index.m3u8', 30, 75],
  ]) {
    test(`${file}: a frames() loop that stops taking frames gives the decoder up to frameAt`, async () => {
      const got = await env.page.evaluate(
        async ({ url, from, other }) => {
          const v = await frameseek.open(url);
          // (HLS: frames 30–59 are one segment, one GOP.)
          const it = v.frames({ start: from, end: from + 30, raw: true });
          const codes = [];
          const take = async () => {
            const { value: f } = await it.next();
            codes.push(await barcode(f));
            f.close();
          };
          await take();
          // The stream now holds `ahead` frames (3) and waits for its consumer, inside its GOP's
          // decode pass (16 chunks at most wait in the decoder: the pass is not fed through).
          await new Promise((r) => setTimeout(r, 300));
          const timeout = new Promise((r) => setTimeout(() => r('timed out'), 10000));
          const f = await Promise.race([v.frameAt(other, { raw: true }), timeout]);
          const code = f === 'timed out' ? f : await barcode(f);
          f.close?.();
          while (codes.length < 30) await take();
          const end = await it.next();
          v.close();
          return { codes, code, done: end.done };
        },
        { url: env.media(file), from, other },
      );
      assert.equal(got.code, other, 'frameAt while a frames() loop waits');
      assert.deepEqual(got.codes, [...Array(30).keys()].map((i) => from + i), 'the loop goes on after it');
      assert.equal(got.done, true);
    });
  }

  test('forward steps with frameAt across HLS segments', async () => {
    const ks = [...Array(50).keys()].map((i) => 20 + i);
    const got = await frameAt(env.media('hls_ts/index.m3u8'), ks);
    assert.deepEqual(got.codes, ks);
  });

  // geometry and time
  test('rotation is reported and applied unless raw', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const f = await v.frameAt(10);
      const r = { rotation: f.rotation, w: f.displayWidth, h: f.displayHeight, info: v.info.rotation };
      f.close();
      const bmp = await v.thumbnail(10, { width: 120 });
      r.thumb = [bmp.width, bmp.height];
      bmp.close();
      v.close();
      return r;
    }, env.media('h264_rotated.mp4'));
    assert.equal(got.info, 90);
    assert.equal(got.rotation, 90);
    assert.deepEqual(got.thumb, [120, 160]);
  });

  test('display size honours the sample aspect ratio', async () => {
    const got = await frameAt(env.media('h264_sar.mp4'), [0, 45]);
    assert.deepEqual(got.codes, [0, 45]);
    assert.equal(got.info.width, 427);
    assert.deepEqual(got.sizes[0], [427, 240]);
  });

  test('frameAtTime follows the sample tables (variable frame rate)', async () => {
    // Frame i of h264_vfr.mp4 starts at 33*i + 17*floor(i/3) + 100*floor(i/10) ms.
    const start = (i) => 33 * i + 17 * Math.floor(i / 3) + 100 * Math.floor(i / 10);
    const ks = [0, 7, 29, 50, 89];
    const times = ks.flatMap((i) => [start(i) / 1000, (start(i) + 20) / 1000]);
    const got = await env.page.evaluate(
      async ({ url, times }) => {
        const v = await frameseek.open(url);
        const codes = [];
        for (const t of times) {
          const f = await v.frameAtTime(t);
          codes.push(await barcode(f));
          f.close();
        }
        v.close();
        return codes;
      },
      { url: env.media('h264_vfr.mp4'), times },
    );
    assert.deepEqual(got, ks.flatMap((k) => [k, k]));
  });
});

