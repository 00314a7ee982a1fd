// Assembles the npm package in web/dist: the public API (src/*.js, src/*.d.ts) next to the
// wasm-bindgen output in dist/pkg (made by scripts/build). Prints the gzipped size.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const web = dirname(fileURLToPath(import.meta.url));
const src = join(web, 'src');
const dist = join(web, 'dist');
mkdirSync(dist, { recursive: true });
for (const f of readdirSync(src)) {
  if (f.endsWith('.js') || f.endsWith('.d.ts')) copyFileSync(join(src, f), join(dist, f));
}
const pkg = join(dist, 'pkg');
if (!existsSync(join(pkg, 'frameseek_wasm.js'))) {
  console.error('web/build.mjs: dist/pkg/frameseek_wasm.js is missing: run scripts/build');
  process.exit(1);
}
const gz = (p) => gzipSync(readFileSync(p), { level: 9 }).length;
const parts = [join(pkg, 'frameseek_wasm_bg.wasm'), join(pkg, 'frameseek_wasm.js'), join(dist, 'index.js')];
const total = parts.reduce((n, p) => n + gz(p), 0);
console.log(`web/build.mjs: dist ready; wasm + JS gzipped: ${total} bytes (${(total / 1024).toFixed(1)} KiB)`);
