import { setup } from './browser.mjs';
import { execFileSync } from 'node:child_process';
const dir = process.argv[2];
const env = await setup({ mediaDir: dir });
for (const pair of process.argv.slice(3)) {
  const [src, url] = pair.split('=');
  const want = execFileSync('python3', ['/work/main/scripts/barcode.py', src]).toString().trim().split('\n').map(Number);
  const got = await env.page.evaluate(async (url) => {
    try {
      const v = await frameseek.open(url);
      const n = v.info.frameCount;
      const all = [];
      for await (const f of v.frames({ raw: true })) { all.push(await barcode(f)); f.close(); }
      const ks = [0, 1, 29, 30, 31, 44, 45, 46, n - 2, n - 1, Math.floor(n / 2), Math.floor(n / 3)];
      const codes = [];
      for (const k of ks) { const f = await v.frameAt(k, { raw: true }); codes.push([k, await barcode(f)]); f.close(); }
      const range = v.frameRange();
      v.close();
      return { n, all, codes, range };
    } catch (e) { return { error: String(e?.message ?? e) }; }
  }, env.media(url));
  if (got.error) { console.log(url, 'ERROR', got.error); continue; }
  const badAll = got.all.map((c, i) => (c === want[i] ? null : [i, c, want[i]])).filter(Boolean).slice(0, 5);
  const badAt = got.codes.filter(([k, c]) => c !== want[k]);
  console.log(url, 'n', got.n, 'want', want.length, 'frames()', got.all.length, 'bad', JSON.stringify(badAll), 'frameAt bad', JSON.stringify(badAt), JSON.stringify(got.range));
}
await env.close();
