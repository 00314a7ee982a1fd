// The npm package as users get it: `npm pack` of web/, installed from the tarball into a
// temporary app, then (1) imported by a plain <script type=module> through an import map,
// (2) bundled by Vite (`vite build`) from `import 'frameseek'`, each page loaded in Chromium
// where <frameseek-player> must be defined and play a file; and (3) its TypeScript
// declarations type-check a small program (tsc --noEmit, strict).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtures, root } from './browser.mjs';
import { launch } from './player-util.mjs';
import { startServer } from './range-server.mjs';

const web = join(root, 'web');
let dir;
let tarball;
let files;
let server;
let browser;

/** Installs the packed tarball as `node_modules/frameseek` of `app` (what npm does with it). */
function install(app) {
  const unpack = join(dir, `unpack-${Math.random().toString(36).slice(2)}`);
  mkdirSync(unpack, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', unpack]);
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  cpSync(join(unpack, 'package'), join(app, 'node_modules', 'frameseek'), { recursive: true });
}

/** Loads `path` on the test server; resolves with what the page's script reports. */
async function run(path) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`${server.url}${path}`);
    await page.waitForFunction(() => window.result, null, { timeout: 30000 });
    return { ...(await page.evaluate(() => window.result)), errors };
  } finally {
    await page.close();
  }
}

// The page script both apps use: the element is defined by the import, and plays a file.
const PAGE_SCRIPT = `
  const p = document.querySelector('frameseek-player');
  const report = (extra) => {
    window.result = { defined: customElements.get('frameseek-player') === p.constructor, open: typeof open, ...extra };
  };
  p.addEventListener('error', () => report({ error: p.error.message }));
  p.addEventListener('loadeddata', async () => {
    await p.play();
    await new Promise((r) => setTimeout(r, 600));
    report({ frame0: true, playing: !p.paused, t: p.currentTime, w: p.videoWidth });
  });
`;

describe('npm package', () => {
  before(async () => {
    if (!existsSync(join(web, 'dist', 'index.js'))) throw new Error('web/dist is missing: run scripts/build');
    dir = mkdtempSync(join(tmpdir(), 'frameseek-pkg-'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: web, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const info = JSON.parse(out)[0];
    tarball = join(dir, info.filename);
    files = info.files.map((f) => f.path);
    server = await startServer({ routes: { '/app/': dir, '/media/': fixtures } });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('npm pack holds the module, the wasm, the player and the types, not the demo', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/player.d.ts', 'dist/player/index.js', 'dist/player/element.js', 'dist/pkg/frameseek_wasm.js', 'dist/pkg/frameseek_wasm_bg.wasm', 'package.json']) {
      assert.ok(files.includes(f), `${f} is packed`);
    }
    assert.ok(!files.some((f) => f.startsWith('dist/demo/') || f === 'dist/index.html'), 'the demo is not packed');
  });

  test('a plain <script type=module> (import map) defines the element and plays', async () => {
    const app = join(dir, 'plain');
    install(app);
    writeFileSync(
      join(app, 'index.html'),
      `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "frameseek": "./node_modules/frameseek/dist/index.js" } }</script>
<frameseek-player src="/media/h264_aac.mp4" muted></frameseek-player>
<script type="module">
  import { open } from 'frameseek';
  ${PAGE_SCRIPT}
</script>`,
    );
    const r = await run('/app/plain/index.html');
    assert.deepEqual(r.errors, []);
    assert.equal(r.error, undefined);
    assert.equal(r.defined, true);
    assert.equal(r.open, 'function');
    assert.equal(r.w, 320);
    assert.equal(r.playing, true);
    assert.ok(r.t > 0.2, `played to ${r.t}`);
  });

  test('a Vite app bundles `import "frameseek"` (vite build): the element is defined and plays', async () => {
    const app = join(dir, 'vite-app');
    install(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { frameseek: `file:${tarball}` } }));
    writeFileSync(
      join(app, 'index.html'),
      `<!doctype html><meta charset="utf-8">
<frameseek-player src="/media/h264_aac.mp4" muted></frameseek-player>
<script type="module" src="./main.js"></script>`,
    );
    // A bare side-effect import must register the element (package.json "sideEffects").
    writeFileSync(join(app, 'main.js'), `import 'frameseek';\nimport { open } from './open.js';\n${PAGE_SCRIPT}`);
    writeFileSync(join(app, 'open.js'), `export { open } from 'frameseek';\n`);
    const { build } = await import(pathToFileURL(join(web, 'node_modules', 'vite', 'dist', 'node', 'index.js')).href);
    await build({ root: app, base: './', configFile: false, logLevel: 'error', build: { outDir: join(app, 'dist'), emptyOutDir: true } });
    const assets = readdirSync(join(app, 'dist', 'assets'));
    assert.ok(assets.some((f) => f.endsWith('.wasm')), `the wasm is emitted as an asset: ${assets}`);
    const r = await run('/app/vite-app/dist/index.html');
    assert.deepEqual(r.errors, []);
    assert.equal(r.error, undefined);
    assert.equal(r.defined, true);
    assert.equal(r.open, 'function');
    assert.equal(r.playing, true);
    assert.ok(r.t > 0.2, `played to ${r.t}`);
  });

  test('the TypeScript declarations type-check a program that uses the element (tsc --strict)', () => {
    const tsc = join(web, 'node_modules', '.bin', 'tsc');
    if (!existsSync(tsc)) {
      assert.fail('web/node_modules/.bin/tsc is missing: npm install in web/');
    }
    const app = join(dir, 'ts-app');
    install(app);
    writeFileSync(
      join(app, 'main.ts'),
      `import { open, FrameseekPlayer, type PlayerMarker } from 'frameseek';

const p = document.createElement('frameseek-player');
const same: FrameseekPlayer = p;
p.src = '/media/video.mp4';
p.controls = true;
p.prefetch = 2;
const markers: PlayerMarker[] = [{ time: 1, label: 'a' }];
p.markers = markers;
p.addEventListener('markerclick', (e) => console.log(e.detail.time.toFixed(1)));
p.addEventListener('timeupdate', () => console.log(p.currentTime, p.duration, p.currentFrame, p.stats.drift));
async function main(): Promise<void> {
  await p.play();
  await p.stepFrame(-1);
  const ranges = p.buffered;
  for (let i = 0; i < ranges.length; i++) console.log(ranges.start(i), ranges.end(i));
  const blob: Blob = await p.captureFrame();
  const v = await open('/media/video.mp4', { player: true });
  const chunks = await v.audioChunks(0, 1);
  console.log(blob.size, v.info.duration, chunks.next, same.paused);
  // @ts-expect-error: volume is a number
  p.volume = 'loud';
}
void main();
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom', 'dom.iterable'], types: [] },
        files: ['main.ts'],
      }),
    );
    try {
      execFileSync(tsc, ['-p', join(app, 'tsconfig.json')], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc reported errors:\n${e.stdout}${e.stderr}`);
    }
  });
});
