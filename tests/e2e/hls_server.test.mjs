// The server's HLS and `frameseek pack`'s output, read by real clients: every playlist passes
// npm hls-parser in strictMode, and hls.js plays and seeks them in headless Chromium (the
// frame shown after a seek carries the barcode of the frame at that time, ±1).
// Needs target/release/frameseek (scripts/build) and web/node_modules (npm ci in web/).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fixtures, frameseekBin as bin, hlsJsPath, hlsJsSite, launchChromium, manifest, root, serveFrameseek } from './browser.mjs';

const require = createRequire(join(root, 'web', 'package.json'));

function tryRequire(name) {
  try {
    return { module: require(name), path: require.resolve(name) };
  } catch {
    return null;
  }
}
const hlsParser = tryRequire('hls-parser');
const missing = [!hlsParser && 'hls-parser', !hlsJsPath && 'hls.js'].filter(Boolean);
const skip = missing.length
  ? `${missing.join(' and ')} not installed in web/node_modules (cd web && npm ci)`
  : !existsSync(bin)
    ? `${bin} is missing (run scripts/build)`
    : false;
if (skip) console.log(`# hls_server.test.mjs skipped: ${skip}`);

// Played and seeked: long enough that the middle is many segments in; one with audio.
const PLAYED = ['h264_many_samples.mp4', 'h264_aac.mp4'];
const PARSED = manifest().filter((f) => f.kind === 'video' && /\.(mp4|mov)$/.test(f.file));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<video id="v" muted playsinline width="320"></video>
<canvas id="c"></canvas>
<script src="/hls.min.js"></script>
<script>
  // Loads url into the video with hls.js; resolves once it is playable.
  window.load = (url) => new Promise((resolve, reject) => {
    const video = document.getElementById('v');
    if (!Hls.isSupported()) return reject(new Error('hls.js: MSE not supported'));
    window.hls?.destroy();
    const hls = new Hls({ enableWorker: false });
    window.hls = hls;
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) reject(new Error('hls.js fatal: ' + d.type + ' ' + d.details)); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => resolve(true));
    hls.loadSource(url);
    hls.attachMedia(video);
  });
  window.waitFor = (pred, ms) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const tick = () => pred() ? resolve(true) : performance.now() - t0 > ms ? reject(new Error('timeout')) : setTimeout(tick, 20);
    tick();
  });
  // The barcode of the frame on screen: bit k is the block at x in [20k, 20k+20), read at
  // (20k+10, 12); luma from RGB.
  window.barcode = () => {
    const video = document.getElementById('v');
    const c = document.getElementById('c');
    c.width = video.videoWidth; c.height = video.videoHeight;
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0);
    const row = ctx.getImageData(0, 12, Math.min(c.width, 320), 1).data;
    let code = 0;
    for (let k = 0; k < 16; k++) {
      const i = (20 * k + 10) * 4;
      const y = 0.299 * row[i] + 0.587 * row[i + 1] + 0.114 * row[i + 2];
      if (y > 128) code |= 1 << k;
    }
    return code;
  };
  // Seeks to t and resolves with the time and the barcode of the frame then shown.
  window.seekTo = (t) => new Promise((resolve, reject) => {
    const video = document.getElementById('v');
    video.pause();
    const timer = setTimeout(() => reject(new Error('no seeked event')), 30000);
    video.addEventListener('seeked', () => {
      clearTimeout(timer);
      const done = () => resolve({ time: video.currentTime, code: barcode() });
      if (video.requestVideoFrameCallback) {
        let settled = false;
        video.requestVideoFrameCallback(() => { if (!settled) { settled = true; done(); } });
        setTimeout(() => { if (!settled) { settled = true; done(); } }, 500);
      } else {
        setTimeout(done, 200);
      }
    }, { once: true });
    video.currentTime = t;
  });
</script>`;


async function get(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return r.text();
}

/** Strict parse (throws on any spec violation hls-parser checks). */
function strictParse(text, what) {
  const HLS = hlsParser.module;
  HLS.setOptions({ strictMode: true });
  try {
    return HLS.parse(text);
  } catch (e) {
    assert.fail(`${what}: hls-parser strictMode: ${e.message}\n${text}`);
  }
}

function checkMaster(text, what) {
  const p = strictParse(text, what);
  assert.equal(p.isMasterPlaylist, true, what);
  assert.equal(p.variants.length, 1, what);
  const v = p.variants[0];
  assert.ok(v.bandwidth > 0 && v.averageBandwidth > 0, `${what}: bandwidth`);
  assert.ok(v.codecs && v.codecs.length > 0, `${what}: CODECS`);
  assert.ok(v.resolution?.width > 0 && v.resolution?.height > 0, `${what}: RESOLUTION`);
  assert.ok(v.frameRate > 0, `${what}: FRAME-RATE`);
  return v.uri;
}

function checkMedia(text, what) {
  const p = strictParse(text, what);
  assert.equal(p.isMasterPlaylist, false, what);
  assert.equal(p.playlistType, 'VOD', what);
  assert.equal(p.endlist, true, what);
  assert.ok(p.segments.length > 0, what);
  for (const s of p.segments) {
    assert.ok(s.map, `${what}: every segment has EXT-X-MAP`);
    assert.ok(Math.round(s.duration) <= p.targetDuration, `${what}: EXTINF ${s.duration}`);
  }
  return p;
}

describe('server HLS with real clients', { skip }, () => {
  let dir;
  let server;
  let browser;
  let page;
  const ids = new Map();

  before(async () => {
    let media;
    let web;
    ({ dir, media, web } = hlsJsSite('frameseek-hls-e2e-', PAGE));
    for (const f of PARSED) copyFileSync(join(fixtures, f.file), join(media, f.file));
    // The pack output, served as static files (ranges for EXT-X-BYTERANGE).
    const pack = spawnSync(bin, ['pack', join(fixtures, PLAYED[0]), join(web, 'pack'), '--segment', '2'], {
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, `frameseek pack: ${pack.stderr}`);
    server = await serveFrameseek([media, '--web-dir', web, '--cache-dir', join(dir, 'cache'), '--hls-segment', '2']);
    const list = JSON.parse(await get(`${server.url}/api/videos?limit=500`));
    for (const v of list.videos) ids.set(v.path, v.id);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.url}/index.html`);
  });

  after(async () => {
    await browser?.close();
    server?.child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every server playlist passes hls-parser strictMode', async () => {
    for (const f of PARSED) {
      const id = ids.get(f.file);
      assert.ok(id, `${f.file} listed`);
      const base = `${server.url}/hls/${id}/`;
      const mediaUri = checkMaster(await get(`${base}master.m3u8`), `${f.file} master`);
      const media = checkMedia(await get(base + mediaUri), `${f.file} media`);
      // EXTINF sum within one frame of the video track's span from its first frame (from
      // /api/videos/{id}: fps is frames over that span).
      const info = JSON.parse(await get(`${server.url}/api/videos/${id}`));
      const video = info.tracks.find((t) => t.kind === 'video');
      const span = video.frameCount / video.fps;
      const sum = media.segments.reduce((a, s) => a + s.duration, 0);
      assert.ok(Math.abs(sum - span) <= 1.5 / video.fps, `${f.file}: EXTINF sum ${sum} vs ${span}`);
    }
  });

  test('the pack playlists pass hls-parser strictMode and use byte ranges', async () => {
    const uri = checkMaster(await get(`${server.url}/pack/master.m3u8`), 'pack master');
    const media = checkMedia(await get(`${server.url}/pack/${uri}`), 'pack media');
    assert.ok(media.segments.every((s) => s.byterange && s.uri === 'video.mp4'));
    assert.ok(media.segments[0].map.byterange, 'MAP with BYTERANGE');
  });

  async function playAndSeek(url, fixture) {
    await page.evaluate((u) => window.load(u), url);
    await page.evaluate(() => document.getElementById('v').play());
    await page.evaluate(() => window.waitFor(() => document.getElementById('v').currentTime > 0.5, 30000));
    const duration = await page.evaluate(() => document.getElementById('v').duration);
    assert.ok(duration > 0, `${url}: duration ${duration}`);
    const fps = fixture.frames / duration;
    for (const t of [duration / 2, duration / 3, 0.5]) {
      const shown = await page.evaluate((tt) => window.seekTo(tt), t);
      const expected = Math.round(shown.time * fps);
      assert.ok(
        Math.abs(shown.code - expected) <= 1,
        `${url}: after seeking to ${t.toFixed(3)} s (currentTime ${shown.time}) barcode ${shown.code}, expected ${expected} ±1`,
      );
    }
  }

  for (const name of PLAYED) {
    test(`hls.js plays and seeks the server's HLS of ${name}`, { timeout: 120000 }, async () => {
      const fixture = PARSED.find((f) => f.file === name);
      await playAndSeek(`${server.url}/hls/${ids.get(name)}/master.m3u8`, fixture);
    });
  }

  test(`hls.js plays and seeks the pack output of ${PLAYED[0]}`, { timeout: 120000 }, async () => {
    const fixture = PARSED.find((f) => f.file === PLAYED[0]);
    await playAndSeek(`${server.url}/pack/master.m3u8`, fixture);
  });
});
