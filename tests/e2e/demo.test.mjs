// The demo page as `frameseek serve` shows it at /: the library grid from /api/videos, the
// player (built-in controls and media-chrome's), the frame inspector (steps, go to frame,
// save PNG) and the markers list. Screenshots go to target/e2e-screenshots/ (look at them).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, frameseekBin as bin, root, serveFrameseek } from './browser.mjs';
import { launch, shots } from './player-util.mjs';

const FILES = ['h264_aac.mp4', 'h264_faststart.mp4', 'vp9.mp4', 'h264_rotated.mp4', 'hevc.mp4'];

let dir;
let server;
let url;
let browser;
let page;
const errors = [];


/** The barcode of the frame on the demo player's canvas. */
const barcode = () =>
  page.evaluate(() => {
    const c = document.getElementById('player').shadowRoot.querySelector('canvas');
    const px = c.getContext('2d').getImageData(0, 12, Math.min(c.width, 320), 1).data;
    let v = 0;
    for (let k = 0; k < 16; k++) if (px[(20 * k + 10) * 4 + 1] > 128) v |= 1 << k;
    return v;
  });

const frameIndex = () => page.locator('#frame-index').textContent().then(Number);

describe('demo page', () => {
  before(async () => {
    if (!existsSync(bin)) throw new Error('target/release/frameseek is missing: run scripts/build');
    if (!existsSync(join(root, 'web', 'dist', 'index.html'))) throw new Error('web/dist/index.html is missing: run scripts/build');
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'frameseek-demo-'));
    mkdirSync(join(dir, 'media'));
    for (const f of FILES) copyFileSync(join(fixtures, f), join(dir, 'media', f));
    ({ child: server, url } = await serveFrameseek([join(dir, 'media'), '--host', '127.0.0.1', '--web-dir', join(root, 'web', 'dist'), '--cache-dir', join(dir, 'cache')]));
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    await page.goto(`${url}/`);
  });
  after(async () => {
    await browser?.close();
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('renders the library with thumbnails and loads a video into the player', async () => {
    await page.waitForSelector('.card');
    assert.equal(await page.locator('.card').count(), FILES.length);
    assert.match(await page.locator('#count').textContent(), new RegExp(`^${FILES.length} videos`));
    await page.waitForFunction(
      () => [...document.querySelectorAll('.card:not(.bad) img')].every((i) => i.complete && i.naturalWidth > 0),
      null,
      { timeout: 20000 },
    );
    await page.waitForFunction(() => document.getElementById('player').readyState >= 2, null, { timeout: 20000 });
    assert.ok(FILES.includes(await page.locator('#title').textContent()));
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, 'demo-initial.png') });
  });

  test('a card loads its video; the player plays', async () => {
    await page.locator('.card', { hasText: 'h264_aac.mp4' }).click();
    await page.waitForFunction(() => {
      const p = document.getElementById('player');
      return p.src.endsWith('/media/h264_aac.mp4') && p.readyState >= 2;
    });
    assert.equal(await page.locator('#title').textContent(), 'h264_aac.mp4');
    assert.equal(await page.locator('.card[aria-current="true"] .name').textContent(), 'h264_aac.mp4');
    assert.match(await page.locator('#meta').textContent(), /Audio mp4a\.40\.2/);
    await page.locator('frameseek-player [part="play-button"]').click();
    await page.waitForFunction(() => document.getElementById('player').currentTime > 1.5, null, { timeout: 10000 });
    const r = await page.evaluate(() => {
      const p = document.getElementById('player');
      return { paused: p.paused, clock: p.stats.clock, frame: Number(document.getElementById('frame-index').textContent), k: p.currentFrame };
    });
    assert.equal(r.paused, false);
    assert.equal(r.clock, 'audio');
    assert.ok(Math.abs(r.frame - r.k) <= 3, `inspector shows frame ${r.frame}, player ${r.k}`);
    await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    await page.mouse.move(700, 420);
    await page.screenshot({ path: join(shots, 'demo-playing.png') });
    await page.locator('frameseek-player [part="play-button"]').click();
    await page.waitForFunction(() => document.getElementById('player').paused);
  });

  test('frame inspector: step buttons and go-to-frame are exact; the frame saves as a PNG', async () => {
    const start = await frameIndex();
    assert.equal(await barcode(), start);
    for (const [label, n] of [
      ['Next frame', 1],
      ['Next frame', 1],
      ['Previous frame', -1],
      ['Forward 10 frames', 10],
      ['Back 10 frames', -10],
    ]) {
      const before = await frameIndex();
      await page.locator(`.steps [aria-label="${label}"]`).click();
      await page.waitForFunction((k) => Number(document.getElementById('frame-index').textContent) === k, before + n);
      assert.equal(await barcode(), before + n, `${label} from ${before}`);
    }
    await page.fill('#goto-frame', '42');
    await page.locator('#goto button').click();
    await page.waitForFunction(() => document.getElementById('frame-index').textContent === '42');
    assert.equal(await barcode(), 42);
    assert.equal(await page.locator('#frame-time').textContent(), '1.400 s');
    const download = page.waitForEvent('download');
    await page.locator('#save-png').click();
    const file = await download;
    assert.match(file.suggestedFilename(), /^h264_aac-frame-42\.png$/);
    const png = readFileSync(await file.path());
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [320, 240], 'PNG size');
  });

  test('markers: add at the current time, list, seek from the list, delete', async () => {
    await page.fill('#marker-label', 'Rally starts');
    await page.locator('#add-marker-btn').click();
    await page.waitForSelector('#marker-list .go');
    assert.equal(await page.locator('#marker-count').textContent(), '1');
    assert.match(await page.locator('#marker-list').textContent(), /0:01\.40\s*Rally starts/);
    assert.equal(await page.locator('frameseek-player [part="marker"]').count(), 1);
    const store = await page.evaluate(() => demo.state.store.kind);
    if (store === 'server') {
      const id = await page.evaluate(() => demo.state.current.id);
      const list = await page.evaluate((id) => fetch(`api/videos/${id}/markers`).then((r) => r.json()), id);
      assert.deepEqual(
        list.markers.map((m) => [m.time, m.label]),
        [[1.4, 'Rally starts']],
      );
    }
    await page.evaluate(() => {
      document.getElementById('player').currentTime = 4;
    });
    await page.waitForFunction(() => document.getElementById('player').currentFrame === 120);
    await page.locator('#marker-list .go').click();
    await page.waitForFunction(() => document.getElementById('frame-index').textContent === '42');
    assert.equal(await barcode(), 42);
    await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    await page.screenshot({ path: join(shots, 'demo-markers.png') });
    await page.locator('#marker-list .del').click();
    await page.waitForFunction(() => document.getElementById('marker-count').textContent === '0');
    assert.equal(await page.locator('frameseek-player [part="marker"]').count(), 0);
  });

  test('media-chrome controls drive the same player', async () => {
    await page.locator('.mode [data-mode="media-chrome"]').click();
    await page.waitForSelector('media-controller frameseek-player[slot="media"]');
    assert.equal(await page.evaluate(() => document.getElementById('player').controls), false);
    await page.waitForFunction(() => document.querySelector('media-controller').getAttribute('mediaduration') === '5');
    await page.locator('media-play-button').click();
    await page.waitForFunction(() => document.getElementById('player').currentTime > 2.5, null, { timeout: 10000 });
    await page.mouse.move(600, 400);
    await page.screenshot({ path: join(shots, 'demo-media-chrome.png') });
    await page.locator('media-play-button').click();
    await page.waitForFunction(() => document.getElementById('player').paused);
    await page.locator('.mode [data-mode="builtin"]').click();
    await page.waitForFunction(() => !document.querySelector('media-controller') && document.getElementById('player').controls);
  });

  test('filter; an HEVC file plays through the transcoded rendition of the server', { timeout: 120000 }, async () => {
    await page.fill('#filter', 'vp9');
    assert.equal(await page.locator('.card').count(), 1);
    await page.fill('#filter', 'hevc');
    await page.locator('.card', { hasText: 'hevc.mp4' }).click();
    await page.waitForFunction(
      () => {
        const p = document.getElementById('player');
        return p.error !== null || (p.readyState >= 2 && p.info?.transcodedFrom);
      },
      null,
      { timeout: 60000 },
    );
    const state = await page.evaluate(async () => {
      const p = document.getElementById('player');
      if (p.error) return { error: p.error.message };
      p.currentTime = 1.0;
      await new Promise((r) => p.addEventListener('seeked', r, { once: true }));
      return { from: p.info.transcodedFrom.url, frame: p.currentFrame, codec: p.info.codec };
    });
    assert.equal(state.error, undefined, `player error: ${state.error}`);
    assert.ok(state.from.endsWith('/media/hevc.mp4'), JSON.stringify(state));
    assert.ok(state.codec.startsWith('avc1.'), state.codec);
    assert.equal(await barcode(), state.frame, 'the frame on screen is the frame the player reports');
    await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    await page.screenshot({ path: join(shots, 'demo-hevc-transcoded.png') });
    await page.fill('#filter', '');
    assert.equal(await page.locator('.card').count(), FILES.length);
    assert.deepEqual(errors.filter((e) => !/hevc|hvc1|unsupported/i.test(e)), [], 'no page errors');
  });
});
