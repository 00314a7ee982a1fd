// Failure handling in headless Chromium: undecodable codecs, truncated and random files reject
// with clear typed errors; the reader survives a dropped connection and a 503, detects a
// server that ignores Range, sends only bounded ranges, keeps the first request for the first
// frames with `fromStart`, passes custom headers, and works in a Worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, manifest, setup } from './browser.mjs';

let env;

/** Opens `url` and reads frames `ks`; returns barcodes or the error's code and message. */
async function attempt(url, ks, opts = {}) {
  return env.page.evaluate(
    async ({ url, ks, opts }) => {
      let v;
      const codes = [];
      try {
        v = await frameseek.open(url, opts);
        for (const k of ks) {
          const f = await v.frameAt(k, { raw: true });
          codes.push(await barcode(f));
          f.close();
        }
        return { codes, stats: v.stats, info: v.info };
      } catch (e) {
        return { codes, error: { code: e.code, message: e.message, isError: e instanceof Error }, stats: v?.stats, info: v?.info };
      } finally {
        v?.close();
      }
    },
    { url, ks, opts },
  );
}

describe('errors and faults', () => {
  before(async () => {
    env = await setup();
  });
  after(async () => {
    await env?.close();
  });

  for (const f of manifest().filter((m) => m.codec === 'hevc')) {
    test(`${f.file}: open works, frames reject naming the codec`, async () => {
      const got = await attempt(env.media(f.file), [0]);
      assert.equal(got.info?.frameCount, f.frames);
      assert.equal(got.error?.code, 'unsupported-codec');
      assert.ok(got.error.isError);
      assert.match(got.error.message, /^frameseek: this browser cannot decode (hvc1|hev1)\.[^ ]+ \(HEVC\/H\.265\)/);
    });
  }

  test('truncated.mp4: frames whose bytes exist decode, later ones reject as truncated', async () => {
    const ok = await attempt(env.media('truncated.mp4'), [0, 10, 40]);
    assert.deepEqual(ok.codes, [0, 10, 40]);
    const bad = await attempt(env.media('truncated.mp4'), [85]);
    assert.equal(bad.error?.code, 'truncated');
    assert.match(bad.error.message, /^frameseek: truncated .* at byte \d+/);
  });

  test('truncated_moov.mp4: open rejects with a typed error', async () => {
    const got = await attempt(env.media('truncated_moov.mp4'), []);
    assert.ok(['truncated', 'invalid'].includes(got.error?.code), JSON.stringify(got.error));
  });

  for (const file of ['random.bin', 'random.mp4']) {
    test(`${file}: open rejects as not-mp4`, async () => {
      const got = await attempt(env.media(file), []);
      assert.equal(got.error?.code, 'not-mp4');
      assert.match(got.error.message, /not an MP4\/MOV file/);
    });
  }

  test('an HTML page where the video should be rejects as not-mp4, saying so', async () => {
    const got = await attempt(`${env.server.url}/harness/harness.html`, []);
    assert.equal(got.error?.code, 'not-mp4', JSON.stringify(got.error));
    assert.match(got.error.message, /not an MP4\/MOV file \(an HTML\/XML page: an error\?\) at byte 0/);
  });

  test('a cross-origin server that hides Content-Range: the size comes from a HEAD', async () => {
    // The page is on 127.0.0.1; "localhost" is another origin, so CORS applies.
    const url = env.media('h264_faststart.mp4', { fault: 'noexpose', id: 'noexpose' }).replace('127.0.0.1', 'localhost');
    const hidden = await env.page.evaluate(async (url) => {
      const r = await fetch(url, { headers: { Range: 'bytes=0-99' } });
      return { status: r.status, contentRange: r.headers.get('content-range') };
    }, url.replace('id=noexpose', 'id=noexpose-probe'));
    assert.deepEqual(hidden, { status: 206, contentRange: null }, 'the page cannot read Content-Range');
    const got = await attempt(url, [0, 45, 89]);
    assert.deepEqual(got.codes, [0, 45, 89], JSON.stringify(got.error));
    assert.equal(got.info.size, statSync(join(fixtures, 'h264_faststart.mp4')).size);
    // Exactly one HEAD (the server lists the ranged GETs), and the module counted it.
    const st = env.server.stats('noexpose');
    assert.equal(st.requests, st.ranges.length + 1, JSON.stringify(st.ranges));
    assert.ok(st.ranges.every(([, , range]) => /^bytes=\d+-\d+$/.test(range)), JSON.stringify(st.ranges));
    assert.equal(got.stats.requests, st.requests);
  });

  test('a missing file rejects with the HTTP status', async () => {
    const got = await attempt(env.media('nope.mp4'), []);
    assert.equal(got.error?.code, 'http');
    assert.match(got.error.message, /HTTP 404/);
  });

  test('out-of-range frames reject', async () => {
    const got = await attempt(env.media('h264_faststart.mp4'), [90]);
    assert.equal(got.error?.code, 'out-of-range');
  });

  test('503 once: retried with backoff', async () => {
    const url = env.media('h264_bframes_editlist.mp4', { fault: '503', id: 'retry503' });
    const got = await attempt(url, [0, 50, 89]);
    assert.deepEqual(got.codes, [0, 50, 89]);
    assert.ok(got.stats.retries >= 1);
  });

  test('connection dropped mid-body: resumed after the bytes received', async () => {
    const id = 'drop1';
    const url = env.media('h264_long_gop.mp4', { fault: 'drop', id });
    const got = await attempt(url, [299, 450], { headBytes: 4096 });
    assert.deepEqual(got.codes, [299, 450]);
    assert.ok(got.stats.retries >= 1);
    const ranges = env.server.stats(id).ranges;
    // The retry asks for the rest only: it starts inside the range of the cut response (at
    // the bytes that arrived) and ends where it ended.
    const resumed = ranges.some(([s, e], i) => ranges.slice(0, i).some(([a, b]) => s > a && s < b && e === b));
    assert.ok(resumed, JSON.stringify(ranges));
  });

  test('a server that ignores Range is reported, or read whole when allowed and small', async () => {
    const refused = await attempt(env.media('h264_faststart.mp4', { fault: 'norange', id: 'nr1' }), [0]);
    assert.equal(refused.error?.code, 'range-ignored');
    assert.match(refused.error.message, /HTTP 200/);
    const whole = await attempt(env.media('h264_faststart.mp4', { fault: 'norange', id: 'nr2' }), [0, 45, 89], {
      wholeFileMax: 1 << 20,
    });
    assert.deepEqual(whole.codes, [0, 45, 89]);
    assert.equal(env.server.stats('nr2').requests, 1);
  });

  test('only bounded ranges, never the whole file; one request per new GOP after open', async () => {
    const id = 'bounded';
    const url = env.media('h264_many_samples.mp4', { id });
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const afterOpen = v.stats.requests;
      const f = await v.frameAt(3000, { raw: true });
      const code = await barcode(f);
      f.close();
      const r = { code, afterOpen, afterFrame: v.stats.requests, size: v.info.size };
      v.close();
      return r;
    }, url);
    assert.equal(got.code, 3000);
    assert.equal(got.afterFrame - got.afterOpen, 1);
    const { ranges } = env.server.stats(id);
    for (const [start, end, header] of ranges) {
      assert.match(header, /^bytes=\d+-\d+$/);
      assert.ok(end - start < got.size, `request ${header} reads the whole file`);
    }
  });

  test('fromStart: with the moov last, the first request carries the first frames while the moov is read', async () => {
    // A slow link (250 kB/s, 16 KiB chunks 65 ms apart), so that a cancelled first request
    // stops after its first chunks instead of racing to its end over loopback.
    env.server.setNetwork({ rttMs: 0, mbps: 2 });
    const run = (file, ks, opts, id) =>
      env.page.evaluate(
        async ({ url, ks, opts }) => {
          const v = await frameseek.open(url, { player: true, ...opts });
          const codes = [];
          if (ks.length > 1) {
            for await (const f of v.frames({ start: ks[0], end: ks[1], raw: true })) {
              codes.push(await barcode(f));
              f.close();
            }
          } else {
            const f = await v.frameAt(ks[0], { raw: true });
            codes.push(await barcode(f));
            f.close();
          }
          const requests = v.stats.requests;
          v.close();
          return { codes, requests };
        },
        { url: env.media(file, { id }), ks, opts },
      );
    const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
    try {
      // h264_long_gop.mp4: moov last; its first 40 frames lie in the first 64 KiB.
      const head = { headBytes: 65536 };
      const kept = await run('h264_long_gop.mp4', [0, 40], { ...head, fromStart: true }, 'from-start');
      assert.deepEqual(kept.codes, range(0, 40));
      assert.equal(kept.requests, 2, 'the first request and the moov: the frames came from the first');
      assert.deepEqual(env.server.stats('from-start').ranges.map((r) => r[2]), ['bytes=0-65535', 'bytes=562228-570193']);
      const cut = await run('h264_long_gop.mp4', [0, 40], head, 'not-from-start');
      assert.deepEqual(cut.codes, range(0, 40));
      assert.ok(cut.requests > 2, `without fromStart the first request is cancelled at the mdat (${cut.requests} requests)`);

      // A first frame elsewhere cancels the first request then: a 128 KiB first request (8
      // chunks, 0.5 s on this link) and frame 310, in the GOP from keyframe 300 (past 280 kB).
      const far = await run('h264_long_gop.mp4', [310], { headBytes: 131072, fromStart: true }, 'from-start-far');
      assert.deepEqual(far.codes, [310]);
      const st = env.server.stats('from-start-far');
      const others = st.ranges.filter((r) => r[0] !== 0).reduce((n, [a, b]) => n + (b - a), 0);
      assert.ok(st.bytes - others < 131072, `the first request was not cancelled: ${st.bytes - others} bytes of it sent`);
    } finally {
      env.server.setNetwork({});
    }
  });

  test('custom headers reach the server', async () => {
    const id = 'headers';
    const got = await attempt(env.media('h264_faststart.mp4', { id }), [1], { headers: { 'X-Api-Key': 'secret-1' } });
    assert.deepEqual(got.codes, [1]);
    assert.equal(env.server.stats(id).headers['x-api-key'], 'secret-1');
  });

  test('works in a dedicated Worker', async () => {
    const got = await env.page.evaluate(async (url) => {
      const w = new Worker('/harness/worker.js', { type: 'module' });
      const reply = await new Promise((resolve) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => resolve({ ok: false, error: e.message });
        w.postMessage({ url, frames: [0, 44, 89] });
      });
      w.terminate();
      return reply;
    }, env.media('h264_bframes_editlist.mp4'));
    assert.deepEqual(got, { ok: true, out: [0, 44, 89] });
  });

  test('close() cancels: later calls reject with code closed', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      (await v.frameAt(3)).close();
      v.close();
      const codes = [];
      // Frame 3 was the last one returned (held for a repeat): closed too.
      for (const k of [0, 3]) {
        codes.push(await v.frameAt(k).then(() => 'resolved', (e) => e.code));
      }
      return codes;
    }, env.media('h264_faststart.mp4'));
    assert.deepEqual(got, ['closed', 'closed']);
  });
});
