// Assembles the npm package in web/dist: the public API (src/*.js, src/*.d.ts) next to the
// wasm-bindgen output in dist/pkg (made by scripts/build). Prints the gzipped size.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { cpSync } from 'node:fs';

const web = dirname(fileURLToPath(import.meta.url));
const src = join(web, 'src');
const dist = join(web, 'dist');
mkdirSync(dist, { recursive: true });
for (const f of readdirSync(src)) {
  if (f.endsWith('.js') || f.endsWith('.d.ts')) copyFileSync(join(src, f), join(dist, f));
}
// <frameseek-player> (src/player) and the demo page that `frameseek serve` shows at / (src/demo:
// its index.html becomes dist/index.html; media-chrome's browser build is copied next to it).
cpSync(join(src, 'player'), join(dist, 'player'), { recursive: true });
if (existsSync(join(src, 'demo'))) {
  cpSync(join(src, 'demo'), join(dist, 'demo'), { recursive: true, filter: (p) => !p.endsWith('index.html') });
  copyFileSync(join(src, 'demo', 'index.html'), join(dist, 'index.html'));
  const mediaChrome = join(web, 'node_modules', 'media-chrome', 'dist', 'iife', 'index.js');
  if (existsSync(mediaChrome)) copyFileSync(mediaChrome, join(dist, 'demo', 'media-chrome.js'));
}
const pkg = join(dist, 'pkg');
if (!existsSync(join(pkg, 'frameseek_wasm.js'))) {
  console.error('web/build.mjs: dist/pkg/frameseek_wasm.js is missing: run scripts/build');
  process.exit(1);
}
// The module's JavaScript ships minified: wasm-bindgen's glue carries the Rust doc comments of
// every export, and both files shrink to about half gzipped (comments, whitespace, local names;
// exported and property names stay). rolldown's minifier (oxc) is a dev dependency.
try {
  const { minifySync } = await import('rolldown/utils');
  for (const f of [join(dist, 'index.js'), join(dist, 'fallback.js'), join(dist, 'player-api.js'), join(dist, 'step-back.js'), join(dist, 'thumbnail.js'), join(pkg, 'frameseek_wasm.js'), join(dist, 'pkg-player', 'frameseek_player.js')]) {
    if (!existsSync(f)) continue;
    const r = minifySync(f, readFileSync(f, 'utf8'), { module: true, compress: true, mangle: true });
    if (r.errors?.length) throw new Error(`${f}: ${r.errors.map((e) => e.message).join('; ')}`);
    writeFileSync(f, r.code);
  }
} catch (e) {
  console.warn(`web/build.mjs: warning: JavaScript left unminified (${e.message}); npm ci in web/ installs rolldown`);
}
const gz = (p) => gzipSync(readFileSync(p), { level: 9 }).length;
const parts = [join(pkg, 'frameseek_wasm_bg.wasm'), join(pkg, 'frameseek_wasm.js'), join(dist, 'index.js')];
const total = parts.reduce((n, p) => n + gz(p), 0);
console.log(`web/build.mjs: dist ready; wasm + JS gzipped: ${total} bytes (${(total / 1024).toFixed(1)} KiB)`);
const hlsParts = [join(dist, 'pkg-hls', 'frameseek_hls_bg.wasm'), join(dist, 'pkg-hls', 'frameseek_hls.js')];
if (hlsParts.every((p) => existsSync(p))) {
  const hls = hlsParts.reduce((n, p) => n + gz(p), 0);
  console.log(`web/build.mjs: HLS module (loaded by open() for playlists) gzipped: ${hls} bytes (${(hls / 1024).toFixed(1)} KiB)`);
} else {
  console.error('web/build.mjs: warning: dist/pkg-hls is missing: open() cannot read HLS playlists (run scripts/build)');
}
const player = readdirSync(join(dist, 'player')).filter((f) => f.endsWith('.js'));
const playerGz = player.reduce((n, f) => n + gz(join(dist, 'player', f)), 0);
const playerParts = [join(dist, 'pkg-player', 'frameseek_player_bg.wasm'), join(dist, 'pkg-player', 'frameseek_player.js'), join(dist, 'index.js')];
if (!playerParts.every((p) => existsSync(p))) {
  console.error('web/build.mjs: warning: dist/pkg-player is missing: <frameseek-player> and open(url, { player: true }) cannot load (run scripts/build)');
}
const playerModule = playerParts.filter((p) => existsSync(p)).reduce((n, p) => n + gz(p), 0);
console.log(`web/build.mjs: <frameseek-player> JS gzipped: ${playerGz} bytes (${(playerGz / 1024).toFixed(1)} KiB); with its module (pkg-player, ${playerModule} bytes): ${((playerModule + playerGz) / 1024).toFixed(1)} KiB`);
