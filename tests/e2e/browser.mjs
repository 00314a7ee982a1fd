// Test support: the range server over the fixtures and web/dist, and headless Chromium
// (Debian's, through playwright-core) on a harness page that has frameseek loaded.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startServer } from './range-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const fixtures = join(root, 'tests', 'fixtures');
const require = createRequire(join(root, 'web', 'package.json'));

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches Debian's Chromium through playwright-core. */
export async function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/** The fixture manifest written by scripts/fixtures. */
export function manifest() {
  const path = join(fixtures, 'manifest.json');
  if (!existsSync(path)) throw new Error('tests/fixtures/manifest.json is missing: run scripts/fixtures');
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Starts the server (media from `mediaDir`) and a browser page with `window.frameseek` and
 * `window.barcode(frame)`. Returns { server, browser, page, media(file, query), close() }.
 */
export async function setup({ mediaDir = fixtures, server: serverOpts = {} } = {}) {
  if (!existsSync(join(root, 'web', 'dist', 'index.js'))) {
    throw new Error('web/dist/index.js is missing: run scripts/build');
  }
  const server = await startServer({
    routes: { '/media/': mediaDir, '/dist/': join(root, 'web', 'dist'), '/harness/': here, '/mb/': join(root, 'web', 'node_modules', 'mediabunny', 'dist') },
    ...serverOpts,
  });
  const browser = await launchChromium();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${server.url}/harness/harness.html`);
  await page.waitForFunction(() => window.harnessReady === true || window.harnessError, null, { timeout: 30000 });
  const failed = await page.evaluate(() => window.harnessError);
  if (failed) throw new Error(`harness failed to load: ${failed}`);
  return environment(server, browser, page, errors);
}

/** What the setup functions return: `media(file, query)` names a fixture's URL; `close()` ends it all. */
export function environment(server, browser, page, errors) {
  return {
    server,
    browser,
    page,
    errors,
    media: (file, query = {}) => {
      const q = new URLSearchParams(query).toString();
      return `${server.url}/media/${file}${q ? `?${q}` : ''}`;
    },
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * Opens `url` in `page` (with `opts`), takes `frameAt(first)`, then `frameAt(k)` for each of
 * `ks` in turn: their barcodes, and the pictures decoded after `first`.
 */
export function frameAtAfter(page, url, first, ks, opts) {
  return page.evaluate(
    async ({ url, first, ks, opts }) => {
      const v = await frameseek.open(url, opts);
      (await v.frameAt(first)).close();
      const before = v.stats.framesDecoded;
      const codes = [];
      for (const k of ks) {
        const f = await v.frameAt(k);
        codes.push(await barcode(f));
        f.close();
      }
      const decoded = v.stats.framesDecoded - before;
      v.close();
      return { codes, decoded };
    },
    { url, first, ks, opts },
  );
}

/** Steps backwards with frameAt from `from` down to `to`: barcodes and pictures decoded. */
export const stepBack = (page, url, from, to, opts) =>
  frameAtAfter(page, url, from, Array.from({ length: from - to }, (_, i) => from - 1 - i), opts);

/** A deterministic pseudo-random generator (mulberry32) so that failures reproduce. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The server binary the end-to-end tests run (`scripts/build` makes it; `$FRAMESEEK_BIN` overrides). */
export const frameseekBin = process.env.FRAMESEEK_BIN ?? join(root, 'target', 'release', 'frameseek');

/** Starts `frameseek serve ARGS --port 0` (RUST_LOG=warn); resolves with { url, child } once it listens. */
export function serveFrameseek(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(frameseekBin, ['serve', ...args, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: 'warn' },
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`frameseek serve exited (${code}): ${err}`)));
  });
}

/** hls.js's browser build in web/node_modules, or null when it is not installed. */
export const hlsJsPath = (() => {
  try {
    return require.resolve('hls.js/dist/hls.min.js');
  } catch {
    return null;
  }
})();

/**
 * A scratch site for `frameseek serve` with hls.js: DIR/media (empty) and DIR/web holding
 * hls.min.js and `page` as index.html. Returns { dir, media, web }.
 */
export function hlsJsSite(prefix, page) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const media = join(dir, 'media');
  const web = join(dir, 'web');
  mkdirSync(media);
  mkdirSync(web);
  copyFileSync(hlsJsPath, join(web, 'hls.min.js'));
  writeFileSync(join(web, 'index.html'), page);
  return { dir, media, web };
}
