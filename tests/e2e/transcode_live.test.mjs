// The server's transcoded and live HLS played by hls.js in headless Chromium: an HEVC MP4
// (which this Chromium cannot decode) and an MPEG-4 Part 2 AVI play and seek through
// /transcode/ (the frame shown after a seek carries the barcode of that time, ±1), markers
// arrive as EXT-X-DATERANGE at the right media time, and a `testsrc` live source plays at
// the live edge and shows a marker posted there within one playlist reload.
// Needs target/release/frameseek (scripts/build; or $FRAMESEEK_BIN) and web/node_modules.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, frameseekBin as bin, hlsJsPath, hlsJsSite, launchChromium, root, serveFrameseek } from './browser.mjs';

const skip = !hlsJsPath
  ? 'hls.js is not installed in web/node_modules (cd web && npm ci)'
  : !existsSync(bin)
    ? `${bin} is missing (run scripts/build)`
    : false;
if (skip) console.log(`# transcode_live.test.mjs skipped: ${skip}`);

const BARCODE =
  "geq=lum='if(lt(Y,24),if(mod(floor(N/pow(2,floor(X/20))),2),235,16),p(X,Y))':cb='if(lt(Y,12),128,p(X,Y))':cr='if(lt(Y,12),128,p(X,Y))'";

/** A barcoded MPEG-4 Part 2 AVI: 125 frames of 320x240 at 25 fps, PCM audio. */
function makeAvi(path) {
  const graph =
    'testsrc2=size=320x240:rate=25,format=yuv420p[bg];' +
    `color=c=black:size=320x24:rate=25,format=yuv420p,${BARCODE}[bar];` +
    '[bg][bar]overlay=0:0:format=yuv420:shortest=1[v];sine=frequency=440:sample_rate=44100[a]';
  const r = spawnSync(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-y', '-filter_complex', graph, '-map', '[v]', '-map', '[a]', '-frames:v', '125',
      '-t', '5', '-c:v', 'mpeg4', '-q:v', '3', '-g', '25', '-c:a', 'pcm_s16le', '-f', 'avi', path],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `ffmpeg: ${r.stderr}`);
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<video id="v" muted playsinline width="320"></video>
<canvas id="c"></canvas>
<script src="/hls.min.js"></script>
<script>
  const video = () => document.getElementById('v');
  window.load = (url) => new Promise((resolve, reject) => {
    if (!Hls.isSupported()) return reject(new Error('hls.js: MSE not supported'));
    window.hls?.destroy();
    const hls = new Hls({ enableWorker: false, liveSyncDurationCount: 2 });
    window.hls = hls;
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) reject(new Error('hls.js fatal: ' + d.type + ' ' + d.details)); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => resolve(true));
    hls.loadSource(url);
    hls.attachMedia(video());
  });
  window.waitFor = (pred, ms) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const tick = () => pred() ? resolve(true) : performance.now() - t0 > ms ? reject(new Error('timeout')) : setTimeout(tick, 50);
    tick();
  });
  // The 16-bit barcode of any image source (video element, VideoFrame, canvas) of size w x h.
  window.codeOf = (source, w, h) => {
    const c = document.getElementById('c');
    c.width = w; c.height = h;
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(source, 0, 0);
    const row = ctx.getImageData(0, 12, Math.min(c.width, 320), 1).data;
    let code = 0;
    for (let k = 0; k < 16; k++) {
      const i = (20 * k + 10) * 4;
      if (0.299 * row[i] + 0.587 * row[i + 1] + 0.114 * row[i + 2] > 128) code |= 1 << k;
    }
    return code;
  };
  window.barcode = () => codeOf(video(), video().videoWidth, video().videoHeight);
  window.seekTo = (t) => new Promise((resolve, reject) => {
    const v = video();
    v.pause();
    const timer = setTimeout(() => reject(new Error('no seeked event')), 30000);
    v.addEventListener('seeked', () => {
      clearTimeout(timer);
      let settled = false;
      const done = () => { if (!settled) { settled = true; resolve({ time: v.currentTime, code: barcode() }); } };
      v.requestVideoFrameCallback?.(done);
      setTimeout(done, 500);
    }, { once: true });
    v.currentTime = t;
  });
  // The date ranges hls.js parsed from the current media playlist: id -> [media time, label].
  window.dateRanges = () => {
    const details = window.hls?.levels?.[window.hls.currentLevel >= 0 ? window.hls.currentLevel : 0]?.details;
    const out = {};
    for (const [id, r] of Object.entries(details?.dateRanges ?? {})) out[id] = [r.startTime, r.attr['X-LABEL']];
    return out;
  };
</script>`;


async function json(url, init) {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

/** Waits until the live source `cam` has published its first segment. */
async function livePublished() {
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    ready = (await fetch(`${server.url}/live/cam/master.m3u8`)).status === 200;
    if (!ready) await new Promise((r) => setTimeout(r, 300));
  }
  assert.ok(ready, 'the live source never published');
}

/** Posts a marker at the live edge of `cam`. */
async function postLiveMarker(label) {
  const posted = await json(`${server.url}/api/live/cam/markers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ label }),
  });
  assert.equal(posted.status, 201);
  return posted;
}

let server;

describe('transcoded and live HLS in hls.js', { skip }, () => {
  let dir;
  let browser;
  let page;
  const items = new Map();

  before(async () => {
    let media;
    let web;
    ({ dir, media, web } = hlsJsSite('frameseek-transcode-e2e-', PAGE));
    copyFileSync(join(fixtures, 'hevc.mp4'), join(media, 'hevc.mp4'));
    makeAvi(join(media, 'clip.avi'));
    // The frameseek package, for the browser-module tests on the same server.
    cpSync(join(root, 'web', 'dist'), join(web, 'dist'), { recursive: true });
    server = await serveFrameseek([
      media, '--web-dir', web, '--cache-dir', join(dir, 'cache'), '--hls-segment', '1',
      '--live', 'cam=testsrc', '--live-segment', '1', '--live-window', '4',
    ]);
    const list = await json(`${server.url}/api/videos?limit=500`);
    for (const v of list.body.videos) items.set(v.path, v);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.url}/index.html`);
  });

  after(async () => {
    await browser?.close();
    if (server && server.child.exitCode === null) {
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill();
      await exited;
    }
    // ffmpeg may still be renaming segments into the cache while the server stops: a
    // leftover temporary directory is not a test failure.
    try {
      if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (e) {
      console.log(`# could not remove ${dir}: ${e.message}`);
    }
  });

  for (const [file, frames] of [['hevc.mp4', 60], ['clip.avi', 125]]) {
    test(`hls.js plays and seeks the transcoded rendition of ${file}`, { timeout: 120000 }, async () => {
      const item = items.get(file);
      assert.ok(item?.urls.hls?.startsWith('/transcode/'), `${file}: urls.hls ${item?.urls.hls}`);
      // A marker, to find at its media time in hls.js's date ranges.
      const posted = await json(`${server.url}/api/videos/${item.id}/markers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ time: 1.2, label: `mark ${file}` }),
      });
      assert.equal(posted.status, 201);
      await page.evaluate((u) => window.load(u), `${server.url}${item.urls.hls}`);
      await page.evaluate(() => document.getElementById('v').play());
      await page.evaluate(() => window.waitFor(() => document.getElementById('v').currentTime > 0.3, 60000));
      const duration = await page.evaluate(() => document.getElementById('v').duration);
      const fps = frames / duration;
      for (const t of [duration / 2, duration - 0.5, 0.4]) {
        const shown = await page.evaluate((tt) => window.seekTo(tt), t);
        const expected = Math.round(shown.time * fps);
        assert.ok(
          Math.abs(shown.code - expected) <= 1,
          `${file}: seek to ${t.toFixed(3)} s (currentTime ${shown.time}) shows barcode ${shown.code}, expected ${expected} ±1`,
        );
      }
      const ranges = await page.evaluate(() => window.dateRanges());
      const mine = ranges[`marker-${posted.body.id}`];
      assert.ok(mine, `hls.js date ranges: ${JSON.stringify(ranges)}`);
      assert.ok(Math.abs(mine[0] - 1.2) < 0.01, `marker at ${mine[0]} s, posted at 1.2 s`);
      assert.equal(mine[1], `mark ${file}`);
    });
  }

  test('hls.js plays the live source at the live edge and sees a marker posted there', { timeout: 120000 }, async () => {
    await livePublished();
    await page.evaluate((u) => window.load(u), `${server.url}/live/cam/master.m3u8`);
    await page.evaluate(() => document.getElementById('v').play());
    await page.evaluate(() => window.waitFor(() => document.getElementById('v').currentTime > 0.5, 60000));
    const live = await page.evaluate(() => window.hls.levels[0].details.live);
    assert.equal(live, true);
    const t0 = await page.evaluate(() => document.getElementById('v').currentTime);
    await new Promise((r) => setTimeout(r, 2500));
    const t1 = await page.evaluate(() => document.getElementById('v').currentTime);
    assert.ok(t1 - t0 > 1.5, `live playback advances (${t0} -> ${t1})`);
    const latency = await page.evaluate(() => window.hls.latency);
    console.log(`# live latency in hls.js: ${latency.toFixed(2)} s`);
    const posted = await postLiveMarker('at the edge');
    const id = `marker-${posted.body.id}`;
    const since = Date.now();
    await page.evaluate((mid) => window.waitFor(() => window.dateRanges()[mid], 10000), id);
    const seen = (Date.now() - since) / 1000;
    console.log(`# live marker in hls.js's playlist after ${seen.toFixed(2)} s`);
    assert.ok(seen < 3, `marker took ${seen} s to reach hls.js (one segment is 1 s)`);
    const [time, label] = (await page.evaluate(() => window.dateRanges()))[id];
    assert.equal(label, 'at the edge');
    const end = await page.evaluate(() => {
      const d = window.hls.levels[0].details;
      return d.fragments[d.fragments.length - 1].end;
    });
    assert.ok(Math.abs(time - end) < 2.5, `marker at ${time} s, live edge near ${end} s`);
  });

  test('the browser module reads the live playlist: frames at the edge, a moving window, markers', { timeout: 120000 }, async () => {
    await livePublished();
    const first = await page.evaluate(async (url) => {
      const frameseek = await import('/dist/index.js');
      const v = await frameseek.open(url);
      window.liveVideo = v;
      const range = v.frameRange();
      const f = await v.frameAt(range.end - 1);
      const size = [f.displayWidth, f.displayHeight];
      f.close();
      return { live: v.live, info: v.info, range, size };
    }, `${server.url}/live/cam/master.m3u8`);
    assert.equal(first.live, true);
    assert.equal(first.info.live, true);
    assert.equal(first.info.container, 'hls');
    assert.ok(first.range.end > first.range.start, JSON.stringify(first.range));
    assert.ok(first.size[0] > 0 && first.size[1] > 0);
    // The playlist is reloaded every target duration (1 s): the window moves on.
    await new Promise((r) => setTimeout(r, 3000));
    const posted = await postLiveMarker('module edge');
    const later = await page.evaluate(async () => {
      const v = window.liveVideo;
      const range = v.frameRange();
      const n = Math.min(20, range.end - range.start);
      let count = 0;
      for await (const f of v.frames({ start: range.end - n, end: range.end })) {
        count += 1;
        f.close();
      }
      const t0 = performance.now();
      while (!v.markers.some((m) => m.label === 'module edge') && performance.now() - t0 < 10000) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const markers = v.markers;
      const seen = (performance.now() - t0) / 1000;
      const stats = v.stats;
      v.close();
      return { range, n, count, markers, seen, stats };
    });
    assert.ok(later.range.end > first.range.end, `window end ${first.range.end} -> ${later.range.end}`);
    assert.equal(later.count, later.n, 'frames() at the live edge yields every frame asked for');
    const mark = later.markers.find((m) => m.label === 'module edge');
    assert.ok(mark, `markers: ${JSON.stringify(later.markers)}`);
    console.log(`# live marker in the browser module after ${later.seen.toFixed(2)} s`);
    const fps = first.info.fps;
    const edge = later.range.end / fps;
    assert.ok(Math.abs(mark.time - edge) < 3, `marker at ${mark.time} s, live edge near ${edge} s`);
  });

  for (const [file, frames] of [['hevc.mp4', 60], ['clip.avi', 125]]) {
    test(`the browser module falls back to the transcoded rendition of ${file} by itself`, { timeout: 120000 }, async () => {
      const item = items.get(file);
      const head = await fetch(`${server.url}${item.urls.media}`, { method: 'HEAD' });
      assert.match(head.headers.get('link') ?? '', /rel="alternate"/);
      const ks = [0, 1, Math.floor(frames / 2), frames - 2, frames - 1];
      const got = await page.evaluate(
        async ({ url, ks }) => {
          const frameseek = await import('/dist/index.js');
          const read = (f) => window.codeOf(f, f.displayWidth, f.displayHeight);
          const v = await frameseek.open(url);
          const codes = [];
          for (const k of ks) {
            const f = await v.frameAt(k);
            codes.push(read(f));
            f.close();
          }
          let refused = null;
          try {
            await frameseek.open(url, { fallback: false }).then((w) => w.frameAt(0));
          } catch (e) {
            refused = e.code;
          }
          const out = { codes, info: v.info, refused };
          v.close();
          return out;
        },
        { url: `${server.url}${item.urls.media}`, ks },
      );
      assert.ok(got.info.transcodedFrom, JSON.stringify(got.info));
      assert.equal(got.info.container, 'hls');
      assert.equal(got.info.frameCount, frames);
      assert.deepEqual(got.codes, ks);
      assert.ok(['unsupported-codec', 'not-mp4'].includes(got.refused), `without fallback: ${got.refused}`);
    });
  }

  /** A <frameseek-player> for `url` in the page, resolved once its first frame is painted. */
  async function player(url) {
    await page.evaluate(async (url) => {
      await import('/dist/index.js');
      document.querySelectorAll('frameseek-player').forEach((p) => p.remove());
      const p = document.createElement('frameseek-player');
      p.setAttribute('controls', '');
      p.muted = true;
      window.player = p;
      window.playerCode = () => {
        const c = p.shadowRoot.querySelector('canvas');
        return c.width ? window.codeOf(c, c.width, c.height) : -1;
      };
      const ready = new Promise((resolve, reject) => {
        p.addEventListener('loadeddata', resolve, { once: true });
        p.addEventListener('error', () => reject(new Error(`player error: ${p.error?.message}`)), { once: true });
      });
      p.src = url;
      document.body.append(p);
      await ready;
    }, url);
  }

  test('the player plays the transcoded rendition of an HEVC file by itself and seeks exactly', { timeout: 120000 }, async () => {
    await player(`${server.url}${items.get('hevc.mp4').urls.media}`);
    const r = await page.evaluate(async () => {
      const p = window.player;
      const seeks = [];
      for (const t of [1.0, 0.5]) {
        p.currentTime = t;
        await new Promise((r) => p.addEventListener('seeked', r, { once: true }));
        seeks.push([p.currentFrame, window.playerCode()]);
      }
      return { from: p.info.transcodedFrom?.url ?? null, frames: p.frameCount, seeks };
    });
    assert.ok(r.from?.endsWith('/media/hevc.mp4'), JSON.stringify(r));
    assert.equal(r.frames, 60);
    for (const [k, code] of r.seeks) assert.equal(code, k, `frame ${k} on screen shows barcode ${code}`);
  });

  test('the player plays a live source at the live edge, shows the live indicator and live markers', { timeout: 120000 }, async () => {
    await player(`${server.url}/live/cam/master.m3u8`);
    const first = await page.evaluate(async () => {
      const p = window.player;
      const badge = p.shadowRoot.querySelector('[part="live-indicator"]');
      await p.play();
      return { live: p.live, badge: !badge.hidden, t: p.currentTime, d: p.duration, start: p.seekable.start(0) };
    });
    assert.equal(first.live, true);
    assert.equal(first.badge, true, 'the live indicator is shown');
    assert.ok(first.d - first.t < 4.5, `starts near the live edge (t ${first.t}, edge ${first.d})`);
    await new Promise((r) => setTimeout(r, 3000));
    const posted = await postLiveMarker('player edge');
    const later = await page.evaluate(async () => {
      const p = window.player;
      const t0 = performance.now();
      while (!p.sourceMarkers.some((m) => m.label === 'player edge') && performance.now() - t0 < 10000) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const drawn = [...p.shadowRoot.querySelectorAll('[part="marker"]')].map((m) => m.getAttribute('aria-label'));
      const out = { t: p.currentTime, d: p.duration, paused: p.paused, error: p.error?.message ?? null, drawn, seen: (performance.now() - t0) / 1000 };
      p.pause();
      return out;
    });
    assert.equal(later.error, null);
    assert.ok(later.d > first.d + 1.5, `the live edge moved (${first.d} -> ${later.d})`);
    assert.ok(later.t > first.t + 1.5, `playback advanced (${first.t} -> ${later.t})`);
    assert.ok(later.drawn.some((l) => l.startsWith('player edge')), `markers drawn: ${later.drawn}`);
    console.log(`# live marker on the player's timeline after ${later.seen.toFixed(2)} s`);
  });
});
