// The byte benchmark: one frame at the start, middle and end of a 1080p30 H.264 file (moov
// first and moov last) over a simulated network, for frameseek, mediabunny and PyAV, next to
// the floor (ftyp+moov + the GOP's samples through the frame, 2 or 3 round trips, one decode).
// Writes a Markdown report (docs/bench.md by default) and bench-out/bench.json.
//
// node tests/bench/run.mjs [--rtt 40] [--mbps 100] [--reps 5] [--frames 0,900,1799]
//                          [--media bench-out] [--out docs/bench.md] [--no-pyav]
//                          [--from-json bench-out/bench.json]  (rewrite the report only)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { openSync, readSync, closeSync, statSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { startServer } from '../e2e/range-server.mjs';
import { launchChromium, root } from '../e2e/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
    return acc;
  }, []),
);
const RTT = Number(args.rtt ?? 40);
const MBPS = Number(args.mbps ?? 100);
const REPS = Number(args.reps ?? 5);
const FRAMES = String(args.frames ?? '0,900,1799').split(',').map(Number);
const MEDIA = join(root, args.media ?? 'bench-out');
const OUT = resolve(root, args.out ?? 'docs/bench.md');
const FPS = 30;
/** Frame-by-frame steps timed together in the stepping section. */
const STEPS = 29;
const FILES = [
  ['moov first', 'bench_moov_first.mp4', 2],
  ['moov last', 'bench_moov_last.mp4', 3],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Top-level boxes: [{ type, offset, size }]. */
function topBoxes(path) {
  const fd = openSync(path, 'r');
  const size = statSync(path).size;
  const boxes = [];
  const h = Buffer.alloc(16);
  for (let pos = 0; pos + 8 <= size; ) {
    readSync(fd, h, 0, 16, pos);
    let len = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    if (len === 1) len = Number(h.readBigUInt64BE(8));
    if (len === 0) len = size - pos;
    boxes.push({ type, offset: pos, size: len });
    pos += len;
  }
  closeSync(fd);
  return boxes;
}

/** The floor for frame k, from ffprobe's packet table (independent of frameseek). */
function floors(path) {
  const json = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts,dts,pos,size,flags', '-of', 'json', path], {
      maxBuffer: 64 << 20,
    }),
  );
  const packets = json.packets.map((p) => ({ pts: Number(p.pts), size: Number(p.size), key: p.flags.includes('K') }));
  const byPts = packets.map((p, i) => i).sort((a, b) => packets[a].pts - packets[b].pts);
  const boxes = topBoxes(path);
  const header = boxes.filter((b) => b.type === 'ftyp' || b.type === 'moov').reduce((n, b) => n + b.size, 0);
  const moovFirst = boxes.findIndex((b) => b.type === 'moov') < boxes.findIndex((b) => b.type === 'mdat');
  return (k) => {
    const idx = byPts[k];
    let key = idx;
    while (key > 0 && !packets[key].key) key -= 1;
    let gop = 0;
    for (let i = key; i <= idx; i++) gop += packets[i].size;
    return { bytes: header + gop, header, gop, samples: idx - key + 1, roundTrips: moovFirst ? 2 : 3, firstGop: key === 0, pts: packets[idx].pts };
  };
}

/** Runs PyAV in a child process (asynchronously: the range server lives in this process). */
function pyav(url, pts) {
  return new Promise((resolve) => {
    const child = spawn('python3', [join(here, 'pyav_frame.py'), url, String(pts)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) resolve({ error: (err.trim().split('\n').pop() || `exit ${code}`).slice(0, 200) });
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

function pyavAvailable() {
  const r = spawnSync('python3', ['-c', 'import av; print(av.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function moduleSize() {
  const dist = join(root, 'web', 'dist');
  const parts = ['pkg/frameseek_wasm_bg.wasm', 'pkg/frameseek_wasm.js', 'index.js'].map((p) => join(dist, p));
  const gz = parts.map((p) => gzipSync(readFileSync(p), { level: 9 }).length);
  const raw = parts.map((p) => statSync(p).size);
  return { wasmGz: gz[0], jsGz: gz[1] + gz[2], totalGz: gz.reduce((a, b) => a + b, 0), wasmRaw: raw[0], jsRaw: raw[1] + raw[2] };
}

async function main() {
  if (args['from-json']) {
    const report = JSON.parse(readFileSync(resolve(root, args['from-json']), 'utf8'));
    writeFileSync(OUT, markdown(report));
    console.log(`wrote ${OUT}`);
    return;
  }
  const server = await startServer({
    routes: {
      '/media/': MEDIA,
      '/raw/': MEDIA,
      '/dist/': join(root, 'web', 'dist'),
      '/mb/': join(root, 'web', 'node_modules', 'mediabunny', 'dist'),
      '/bench/': here,
    },
    rttMs: RTT,
    mbps: MBPS,
  });
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${server.url}/bench/bench.html`);
  await page.waitForFunction(() => window.benchReady || window.benchError, null, { timeout: 60000 });
  const err = await page.evaluate(() => window.benchError);
  if (err) throw new Error(err);
  const pyavVersion = args['no-pyav'] ? null : pyavAvailable();
  let seq = 0;
  const url = (file, tool) => {
    const id = `${tool}-${seq++}`;
    return [`${server.url}/media/${file}?id=${id}`, id];
  };

  // Warm up each decoder path once (first VideoDecoder in a process is slower), uncounted.
  for (const [, file] of FILES) {
    await page.evaluate(([u, k]) => window.runFrameseek(u, k), [url(file, 'warm')[0], 30]);
    await page.evaluate(([u, k, fps]) => window.runMediabunny(u, k, fps), [url(file, 'warm')[0], 30, FPS]);
  }

  const results = [];
  for (const [label, file, roundTrips] of FILES) {
    const floorOf = floors(join(MEDIA, file));
    for (const k of FRAMES) {
      const floor = floorOf(k);
      const decode = [];
      for (let r = 0; r < REPS; r++) {
        const d = await page.evaluate(([u, k, fps]) => window.decodeOnly(u, k, fps), [`${server.url}/raw/${file}`, k, FPS]);
        decode.push(d.ms);
      }
      floor.decodeMs = median(decode);
      floor.ms = roundTrips * RTT + (floor.bytes * 8) / (MBPS * 1000) + floor.decodeMs;
      // The least time any client can take: the floor's round trips and bytes at the link rate
      // and, for a single sample, its decode by an already-configured decoder (a run of samples
      // can be decoded while the rest arrives, so its decode is left out). When the frame's GOP
      // starts the media data, the first request can carry it while the header is read or
      // fetched: its bytes flow from the first round trip on, and the header is in no sooner
      // than the floor's round trips less one plus its own bytes (a moov at the end is asked
      // for once the first response has named the file's size), whichever is later.
      const rate = (MBPS * 1000) / 8; // bytes per ms
      floor.boundRoundTrips = floor.firstGop ? roundTrips - 1 : roundTrips;
      floor.boundMs = floor.firstGop
        ? Math.max(RTT + floor.bytes / rate, (roundTrips - 1) * RTT + floor.header / rate)
        : roundTrips * RTT + floor.bytes / rate;
      if (floor.samples === 1) {
        const warm = [];
        for (let r = 0; r < REPS; r++) {
          const d = await page.evaluate(([u, k, fps]) => window.decodeWarm(u, k, fps), [`${server.url}/raw/${file}`, k, FPS]);
          warm.push(d.ms);
        }
        floor.warmDecodeMs = median(warm);
        floor.boundMs += floor.warmDecodeMs;
      }
      const row = { label, file, k, floor, tools: {} };
      const tools = [
        ['frameseek', (u) => page.evaluate(([u, k]) => window.runFrameseek(u, k), [u, k])],
        ['mediabunny', (u) => page.evaluate(([u, k, fps]) => window.runMediabunny(u, k, fps), [u, k, FPS])],
      ];
      if (pyavVersion) tools.push(['PyAV', (u) => pyav(u, floor.pts)]);
      for (const [tool, run] of tools) {
        const runs = [];
        for (let r = 0; r < REPS; r++) {
          const [u, id] = url(file, tool);
          let res;
          try {
            res = await run(u);
          } catch (e) {
            res = { error: String(e.message ?? e).split('\n')[0] };
          }
          await new Promise((r) => setTimeout(r, 100)); // let cancelled responses settle
          const s = server.stats(id);
          runs.push({ ...res, requests: s.requests, bytes: s.bytes });
        }
        const ok = runs.filter((x) => !x.error);
        row.tools[tool] = {
          ms: ok.length ? median(ok.map((x) => x.ms)) : null,
          requests: ok.length ? median(ok.map((x) => x.requests)) : null,
          bytes: ok.length ? median(ok.map((x) => x.bytes)) : null,
          exact: ok.length > 0 && ok.every((x) => x.barcode === k),
          barcodes: [...new Set(runs.map((x) => x.barcode))],
          error: runs.find((x) => x.error)?.error,
        };
        console.log(`${label} frame ${k} ${tool}: ${JSON.stringify(row.tools[tool])}`);
      }
      console.log(`${label} frame ${k} floor: ${JSON.stringify(floor)}`);
      results.push(row);
    }
  }

  // frameseek: a frame in another GOP after open() (requests and time for that frame alone).
  const nextGop = [];
  for (const [label, file] of FILES) {
    const times = [];
    let requests;
    let exact = true;
    for (let r = 0; r < REPS; r++) {
      const res = await page.evaluate(([u]) => window.runFrameseekNextGop(u, 0, 900), [url(file, 'next')[0]]);
      times.push(res.ms);
      requests = res.requests;
      exact &&= res.barcode === 900;
    }
    nextGop.push({ label, ms: median(times), requests, exact });
  }

  // Frame-by-frame stepping after a first frame: forward from a GOP's keyframe and from deep
  // in a GOP, and backward (moov first; where the moov lies does not matter after open()).
  const steps = [];
  for (const [from, dir] of [[900, 1], [1770, 1], [929, -1]]) {
    const runs = { frameseek: [], mediabunny: [] };
    for (let r = 0; r < REPS; r++) {
      runs.frameseek.push(await page.evaluate(([u, f, n, d]) => window.runFrameseekSteps(u, f, n, d), [url(FILES[0][1], 'steps')[0], from, STEPS, dir]));
      runs.mediabunny.push(await page.evaluate(([u, f, n, d, fps]) => window.runMediabunnySteps(u, f, n, d, fps), [url(FILES[0][1], 'steps')[0], from, STEPS, dir, FPS]));
    }
    const m = (xs, key) => median(xs.map((x) => x[key]));
    steps.push({
      from,
      dir,
      n: STEPS,
      frameseek: { ms: m(runs.frameseek, 'ms'), slowest: m(runs.frameseek, 'slowest'), decoded: m(runs.frameseek, 'decoded'), requests: m(runs.frameseek, 'requests'), exact: runs.frameseek.every((x) => x.exact) },
      mediabunny: { ms: m(runs.mediabunny, 'ms'), slowest: m(runs.mediabunny, 'slowest'), exact: runs.mediabunny.every((x) => x.exact) },
    });
    console.log(`steps from ${from} by ${dir}: ${JSON.stringify(steps.at(-1))}`);
  }

  // frames() in consecutive calls of 10 frames: through a GOP from its keyframe, and deep in one.
  const chunks = [];
  for (const [from, to] of [[900, 960], [1770, 1800]]) {
    const runs = { frameseek: [], mediabunny: [] };
    for (let r = 0; r < REPS; r++) {
      runs.frameseek.push(await page.evaluate(([u, f, t]) => window.runFrameseekChunks(u, f, t, 10), [url(FILES[0][1], 'chunks')[0], from, to]));
      runs.mediabunny.push(await page.evaluate(([u, f, t, fps]) => window.runMediabunnyChunks(u, f, t, 10, fps), [url(FILES[0][1], 'chunks')[0], from, to, FPS]));
    }
    const m = (xs, key) => median(xs.map((x) => x[key]));
    chunks.push({
      from,
      to,
      frameseek: { ms: m(runs.frameseek, 'ms'), decoded: m(runs.frameseek, 'decoded'), requests: m(runs.frameseek, 'requests'), exact: runs.frameseek.every((x) => x.exact) },
      mediabunny: { ms: m(runs.mediabunny, 'ms'), exact: runs.mediabunny.every((x) => x.exact) },
    });
    console.log(`frames() in chunks ${from}-${to}: ${JSON.stringify(chunks.at(-1))}`);
  }

  // frames() through HLS segments cut inside GOPs (split/, made by make-media.sh).
  const hlsSplit = [];
  // (The HLS module loads on the first playlist: once, uncounted.)
  await page.evaluate(([u]) => window.runFrameseekStream(u, 0, 2), [url('split/index.m3u8', 'warm')[0]]);
  for (const [start, end] of [[0, 300], [45, 300]]) {
    const runs = [];
    for (let r = 0; r < REPS; r++) {
      runs.push(await page.evaluate(([u, s, e]) => window.runFrameseekStream(u, s, e), [url('split/index.m3u8', 'split')[0], start, end]));
    }
    const m = (key) => median(runs.map((x) => x[key]));
    hlsSplit.push({ start, end, ms: m('ms'), first: m('first'), decoded: m('decoded'), requests: m('requests'), exact: runs.every((x) => x.exact) });
    console.log(`HLS split frames ${start}-${end}: ${JSON.stringify(hlsSplit.at(-1))}`);
  }

  // <frameseek-player>: steps back from deep in a GOP, then forward again.
  const playerSteps = [];
  for (let r = 0; r < REPS; r++) {
    playerSteps.push(await page.evaluate(([u, f, n, fps]) => window.runPlayerSteps(u, f, n, fps), [url(FILES[0][1], 'player')[0], 929, 10, FPS]));
  }
  const perStep = (key, i) => median(playerSteps.map((x) => x[key][i]));
  const player = {
    from: 929,
    n: 10,
    back: median(playerSteps[0].back.map((_, i) => perStep('back', i))),
    backSlowest: Math.max(...playerSteps[0].back.map((_, i) => perStep('back', i))),
    forwardSlowest: Math.max(...playerSteps[0].forward.map((_, i) => perStep('forward', i))),
    forwardFirst: perStep('forward', 0),
    forwardRest: median(playerSteps[0].forward.slice(1).map((_, i) => perStep('forward', i + 1))),
    exact: playerSteps.every((x) => x.exact),
  };
  console.log(`player steps: ${JSON.stringify(player)}`);

  // <frameseek-player> and Chromium's <video>: from setting src to the first frame on screen.
  const playerFirst = [];
  // (The player's module loads on the first player: once, uncounted.)
  await page.evaluate((u) => window.runPlayerFirst(u), url(FILES[0][1], 'warm')[0]);
  for (const [label, file] of FILES) {
    const row = { label };
    for (const [tool, fn] of [['player', 'runPlayerFirst'], ['video', 'runNativeFirst']]) {
      const runs = [];
      for (let r = 0; r < REPS; r++) {
        try {
          runs.push(await page.evaluate(([fn, u]) => window[fn](u), [fn, url(file, tool)[0]]));
        } catch (e) {
          runs.push({ error: String(e.message ?? e).split('\n')[0] });
        }
        await new Promise((r) => setTimeout(r, 300)); // let the element's requests settle
      }
      const ok = runs.filter((x) => !x.error);
      row[tool] = { ms: ok.length ? median(ok.map((x) => x.ms)) : null, exact: ok.length === runs.length && ok.every((x) => x.exact !== false), error: runs.find((x) => x.error)?.error };
    }
    playerFirst.push(row);
    console.log(`first frame on screen, ${label}: ${JSON.stringify(row)}`);
  }

  // Where frameseek's time goes on the deep frame: decoder calls timed from open().
  const traces = [];
  for (const [label, file] of FILES) {
    const runs = [];
    for (let r = 0; r < REPS; r++) runs.push(await page.evaluate(([u, k]) => window.traceFrameseek(u, k), [url(file, 'trace')[0], Math.max(...FRAMES)]));
    const m = (key) => median(runs.map((t) => t[key]));
    const chain = [];
    for (let r = 0; r < REPS; r++) {
      chain.push(await page.evaluate(([u, k, fps]) => window.decodeAnchorsWarm(u, k, fps), [`${server.url}/raw/${file}`, Math.max(...FRAMES), FPS]));
    }
    traces.push({
      label,
      k: Math.max(...FRAMES),
      ms: m('ms'),
      firstDecode: m('firstDecode'),
      lastFeed: m('lastFeed'),
      decodes: m('decodes'),
      chainMs: median(chain.map((c) => c.ms)),
      chainSamples: chain[0].samples,
      exact: runs.every((t) => t.barcode === Math.max(...FRAMES)),
    });
  }

  // Chromium's cancel floor: a plain fetch of the first read aborted at its first chunk.
  const cancels = [];
  for (let r = 0; r < Math.max(REPS, 9); r++) {
    const [u, id] = url(FILES[1][1], 'cancel');
    await page.evaluate((u) => window.cancelProbe(u), u);
    await new Promise((r) => setTimeout(r, 100));
    cancels.push(server.stats(id).bytes);
  }
  const cancel = { median: median(cancels), min: Math.min(...cancels), max: Math.max(...cancels), runs: cancels.length };

  await browser.close();
  await server.close();
  const size = moduleSize();
  const report = { rttMs: RTT, mbps: MBPS, reps: REPS, pyav: pyavVersion, results, nextGop, steps, chunks, player, playerFirst, hlsSplit, traces, cancel, size, date: new Date().toISOString() };
  mkdirSync(join(root, 'bench-out'), { recursive: true });
  writeFileSync(join(root, 'bench-out', 'bench.json'), JSON.stringify(report, null, 2));
  writeFileSync(OUT, markdown(report));
  console.log(`wrote ${OUT} and bench-out/bench.json`);
}

const kb = (n) => (n == null ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(0)} kB`);
const ms = (n) => (n == null ? '–' : `${n.toFixed(0)} ms`);
const x = (a, b) => (a == null || !b ? '–' : `${(a / b).toFixed(2)}×`);
/** For a time target `f` × mediabunny: the cases where even the least possible time is over it. */
function reachable(rows, f) {
  if (rows.some((x) => x.floor.boundMs == null)) return '';
  const over = rows.filter((x) => x.floor.boundMs > f * x.tools.mediabunny.ms);
  if (!over.length) return '; the least possible time is under the target in every case';
  return `; the least possible time on this link is already over ${f}× mediabunny's in ${over.length} of ${rows.length} (${over
    .map((x) => `${x.label} ${x.k}: ${ms(x.floor.boundMs)} > ${ms(f * x.tools.mediabunny.ms)}`)
    .join('; ')})`;
}

/** Checks the issue's targets against the measured table. */
function targets(r) {
  const out = [];
  const row = (label, k) => r.results.find((x) => x.label === label && x.k === k);
  const fmt = (ok) => (ok ? 'met' : '**not met**');
  const bytes = r.results.map((x) => x.tools.frameseek.bytes / x.floor.bytes);
  out.push(`- bytes ≤ 1.15× the floor in all six cases: ${fmt(bytes.every((b) => b <= 1.15))} (${bytes.map((b) => b.toFixed(2) + '×').join(', ')})`);
  if (r.cancel) {
    const over = r.results.filter((x) => x.tools.frameseek.bytes > 1.15 * x.floor.bytes && x.label === 'moov last');
    for (const x of over) {
      const least = (x.floor.bytes + r.cancel.median) / x.floor.bytes;
      out.push(`  - ${x.label} ${x.k}: the floor plus Chromium's cancel floor (below) is already ${least.toFixed(2)}×: finding the moov at the end costs a first request that has to be cancelled`);
    }
  }
  const reqs = r.results.map((x) => `${x.label} ${x.k}: ${x.tools.frameseek.requests}`);
  const reqOk = r.results.every((x) => x.tools.frameseek.requests <= (x.label === 'moov first' ? 2 : 3));
  out.push(`- a cold frame in ≤ 2 requests with moov first, ≤ 3 with moov last: ${fmt(reqOk)} (${reqs.join('; ')})`);
  const next = r.nextGop.every((n) => n.requests === 1);
  out.push(`- 1 request for a frame in another GOP after open: ${fmt(next)}`);
  const keys = [];
  for (const label of ['moov first', 'moov last']) for (const k of [0, 900]) if (row(label, k)) keys.push(row(label, k));
  const vsFloor = keys.map((x) => x.tools.frameseek.ms / x.floor.ms);
  out.push(`- time to a keyframe-frame ≤ 1.2× the floor time: ${fmt(vsFloor.every((v) => v <= 1.2))} (${vsFloor.map((v) => v.toFixed(2) + '×').join(', ')})`);
  const vsMb = keys.map((x) => x.tools.frameseek.ms / x.tools.mediabunny.ms);
  out.push(`- time to a keyframe-frame ≤ 0.67× mediabunny's: ${fmt(vsMb.every((v) => v <= 0.67))} (${vsMb.map((v) => v.toFixed(2) + '×').join(', ')})${reachable(keys, 0.67)}`);
  const deepRows = r.results.filter((x) => x.k === 1799);
  const deep = deepRows.map((x) => x.tools.frameseek.ms / x.tools.mediabunny.ms);
  out.push(`- the deep frame (1799) ≤ 0.7× mediabunny's time: ${fmt(deep.every((v) => v <= 0.7))} (${deep.map((v) => v.toFixed(2) + '×').join(', ')})${reachable(deepRows, 0.7)}`);
  out.push(`- gzipped wasm + JS ≤ 64 KB: ${fmt(r.size.totalGz <= 64000)} (${r.size.totalGz} B, ${(r.size.totalGz / 1024).toFixed(1)} KiB)`);
  return out;
}

function markdown(r) {
  const lines = [];
  const cmd = `scripts/bench --rtt ${r.rttMs} --mbps ${r.mbps} --reps ${r.reps}`;
  lines.push('# Benchmark: one frame over HTTP ranges', '');
  lines.push(`Made by \`${cmd}\` (${r.date.slice(0, 10)}). Network simulated by the benchmark's range server: ${r.rttMs} ms round trip per request, ${r.mbps} Mbit/s shared by all responses; it counts requests and the body bytes it actually sent. Times are medians of ${r.reps} cold runs, from the call that opens the URL to the decoded frame in hand (modules already loaded). "exact" means every run returned the frame whose barcode is k.`, '');
  lines.push('Media: 60 s 1080p30 H.264 (x264 veryfast, 8 Mbit/s, GOP 60, 2 B-frames) + AAC, 61.7 MB, the frame index stamped as a barcode; `bench_moov_first.mp4` is the same file after `-movflags +faststart`.', '');
  lines.push('Floor: bytes = ftyp + moov + the samples from the GOP\'s keyframe through frame k in decode order (from ffprobe\'s packet table); time = round trips × RTT (2 with moov first, 3 with moov last) + floor bytes at the link rate + one cold decode of those samples from memory in the same Chromium (a fresh `VideoDecoder`, configure → frame).', '');
  lines.push('Least possible: the time no client can beat on this link (asking bounded ranges, as the floor does): the floor\'s round trips and its bytes at the link rate; when the frame\'s GOP starts the media data, the first request can carry it while the header is read or fetched, so the GOP\'s bytes flow from the first round trip on and only the header waits for the floor\'s round trips less one (a moov at the end is asked for once the first response has named the file\'s size); for a single sample, its decode by a decoder configured beforehand (first `decode()` → frame); a run of samples can be decoded while the rest arrives, so its decode is left out.', '');
  for (const label of [...new Set(r.results.map((x) => x.label))]) {
    lines.push(`## ${label}`, '');
    lines.push('| frame | tool | requests | bytes | × floor bytes | time to frame | × floor time | × mediabunny time | exact |');
    lines.push('|---:|---|---:|---:|---:|---:|---:|---:|:---:|');
    for (const row of r.results.filter((x) => x.label === label)) {
      const f = row.floor;
      lines.push(`| ${row.k} | floor (${f.samples} samples) | ${f.roundTrips} | ${kb(f.bytes)} | 1.00× | ${ms(f.ms)} (decode ${ms(f.decodeMs)}) | 1.00× | | |`);
      if (f.boundMs != null) {
        const decodeTerm = f.samples === 1 ? `warm decode ${ms(f.warmDecodeMs)}` : 'decode overlapped';
        lines.push(`| ${row.k} | least possible | ${f.boundRoundTrips} | ${kb(f.bytes)} | 1.00× | ${ms(f.boundMs)} (${decodeTerm}) | ${x(f.boundMs, f.ms)} | ${x(f.boundMs, row.tools.mediabunny?.ms)} | |`);
      }
      const mbMs = row.tools.mediabunny?.ms;
      for (const [tool, t] of Object.entries(row.tools)) {
        if (t.error && t.ms == null) {
          lines.push(`| ${row.k} | ${tool} | – | – | – | failed: ${t.error} | | | |`);
          continue;
        }
        lines.push(
          `| ${row.k} | ${tool} | ${t.requests} | ${kb(t.bytes)} | ${x(t.bytes, f.bytes)} | ${ms(t.ms)} | ${x(t.ms, f.ms)} | ${tool === 'mediabunny' ? '' : x(t.ms, mbMs)} | ${t.exact ? 'yes' : `no (${t.barcodes.join(', ')})`} |`,
        );
      }
    }
    lines.push('');
  }
  lines.push('## Targets', '');
  lines.push(...targets(r), '');
  lines.push('## A frame in another GOP after open()', '');
  lines.push('frameseek, `open()` then `frameAt(0)`, then `frameAt(900)` timed alone:', '');
  lines.push('| file | requests | time | exact |', '|---|---:|---:|:---:|');
  for (const n of r.nextGop) lines.push(`| ${n.label} | ${n.requests} | ${ms(n.ms)} | ${n.exact ? 'yes' : 'no'} |`);
  lines.push('');
  if (r.steps) {
    lines.push('## Stepping frame by frame', '');
    lines.push(`After \`open()\` and a first frame, ${r.steps[0].n} steps of one frame, one call each (frameseek \`frameAt\`, mediabunny \`VideoSampleSink.getSample\`), timed together (medians of ${r.reps}; moov first). frameseek serves forward steps from one decode pass that holds up to 3 frames ahead; a step backwards decodes, in one pass, the frames from the keyframe through it, and keeps copies of the last 16 of them (\`stepBackBytes\`, 48 MiB, at 1080p), which serve the next 15 steps back without decoding; "slowest step" is the longest single call (medians of ${r.reps}).`, '');
    lines.push('| steps | tool | time | per step | slowest step | frames decoded | requests | exact |', '|---|---|---:|---:|---:|---:|---:|:---:|');
    for (const st of r.steps) {
      const to = st.from + st.dir * st.n;
      const name = `${st.from + st.dir} → ${to} (${st.dir > 0 ? 'forward' : 'backward'})`;
      for (const tool of ['frameseek', 'mediabunny']) {
        const t = st[tool];
        lines.push(`| ${name} | ${tool} | ${ms(t.ms)} | ${ms(t.ms / st.n)} | ${ms(t.slowest)} | ${t.decoded ?? ''} | ${t.requests ?? ''} | ${t.exact ? 'yes' : 'no'} |`);
      }
    }
    if (r.player) {
      const p = r.player;
      lines.push('', `\`<frameseek-player>\`, paused at frame ${p.from}: ${p.n} \`stepFrame(-1)\`, then ${p.n} \`stepFrame(1)\`, each awaited (medians over the steps of the medians of ${r.reps} runs). The player leaves its producer stopped while stepping, so its steps are the module's \`frameAt\` steps: the first step back decodes from the keyframe and the module keeps 16 frames, which the next steps back and the steps forward over them take without decoding; "slowest" is the longest of the 10 per-step medians.`, '');
      lines.push('| step | time | exact |', '|---|---:|:---:|');
      lines.push(`| back | ${ms(p.back)} | ${p.exact ? 'yes' : 'no'} |`, `| slowest back | ${ms(p.backSlowest)} | |`, `| first forward | ${ms(p.forwardFirst)} | |`, `| next forward | ${ms(p.forwardRest)} | |`, `| slowest forward | ${ms(p.forwardSlowest)} | |`);
    }
    lines.push('');
  }
  if (r.chunks) {
    lines.push('## frames() in consecutive calls', '');
    lines.push(`After \`open()\` and the frame before, \`frames({ start, end })\` for 10 frames at a time, one call after the other, timed together (medians of ${r.reps}; moov first); mediabunny \`VideoSampleSink.samples(start, end)\` likewise. A frameseek stream holds at its end, and the next call that starts there takes it on, so the GOP is decoded once through all the calls (before, each call decoded again from the GOP's keyframe).`, '');
    lines.push('| frames | tool | time | frames decoded | requests | exact |', '|---|---|---:|---:|---:|:---:|');
    for (const c of r.chunks) {
      for (const tool of ['frameseek', 'mediabunny']) {
        const t = c[tool];
        lines.push(`| ${c.from}–${c.to - 1} | ${tool} | ${ms(t.ms)} | ${t.decoded ?? ''} | ${t.requests ?? ''} | ${t.exact ? 'yes' : 'no'} |`);
      }
    }
    lines.push('');
  }
  if (r.playerFirst) {
    lines.push('## The first frame on screen in a page', '');
    lines.push(`\`<frameseek-player src>\` and Chromium's own \`<video preload="auto" muted src>\` (its media stack, same server and link), from setting \`src\` to the \`loadeddata\` event: the first frame is on screen (medians of ${r.reps}; the player's modules already loaded). The player opens with \`fromStart\`: its first request reads on into the media data rather than being cancelled, so with the moov at the end it carries the first frames while the moov is fetched, and playback takes the frames after them from it.`, '');
    lines.push('| file | `<frameseek-player>` | `<video>` | player shows frame 0 |', '|---|---:|---:|:---:|');
    for (const p of r.playerFirst) lines.push(`| ${p.label} | ${p.player.ms == null ? p.player.error : ms(p.player.ms)} | ${p.video.ms == null ? p.video.error : ms(p.video.ms)} | ${p.player.exact ? 'yes' : 'no'} |`);
    lines.push('');
  }
  if (r.hlsSplit) {
    lines.push('## frames() through HLS segments cut inside GOPs', '');
    lines.push(`The first 10 s of the moov-first file's video as HLS cut by time (ffmpeg \`-hls_time 0.5 -hls_flags split_by_time\`): 20 MPEG-TS segments of 0.5 s, each 2 s GOP running through 4 of them, most segments starting without a keyframe. frameseek \`frames({ start, end })\` from the call to \`open()\` (medians of ${r.reps}). The segments that continue a GOP are fetched together and joined, and the GOP is decoded once (not again from its keyframe for each segment), so a stream that starts inside a GOP waits for the GOP's remaining segments before its first frame.`, '');
    lines.push('| frames | first frame | all frames | frames decoded | requests | exact |', '|---|---:|---:|---:|---:|:---:|');
    for (const h of r.hlsSplit) lines.push(`| ${h.start}–${h.end - 1} | ${ms(h.first)} | ${ms(h.ms)} | ${h.decoded} | ${h.requests} | ${h.exact ? 'yes' : 'no'} |`);
    lines.push('');
  }
  if (r.traces) {
    lines.push('## Where the deep frame\'s time goes', '');
    lines.push(`frameseek, frame ${r.traces[0].k}, the \`VideoDecoder\` calls timed from the call to \`open()\` (medians of ${r.reps}). A chunk is fed once its bytes are in and the decoder's queue has room (at most 16 chunks wait), so the last feed is about when the GOP's last byte arrived; from there to the frame the decoder works through its queue, one reference frame after another (pictures that are not shown and that no fed picture refers to are left out: here the B pictures, the pyramid's references included).`, '');
    lines.push('| file | chunks decoded | first chunk fed | last chunk fed | frame out | exact | the same chunks from memory | first fed + that |', '|---|---:|---:|---:|---:|:---:|---:|---:|');
    for (const t of r.traces) {
      const chain = t.chainMs == null ? ['–', '–'] : [`${ms(t.chainMs)} (${t.chainSamples})`, ms(t.firstDecode + t.chainMs)];
      lines.push(`| ${t.label} | ${t.decodes} | ${ms(t.firstDecode)} | ${ms(t.lastFeed)} | ${ms(t.ms)} | ${t.exact ? 'yes' : 'no'} | ${chain.join(' | ')} |`);
    }
    lines.push('');
    lines.push("\"The same chunks from memory\": the I and P pictures through the frame, decoded by a decoder configured and warmed beforehand, timed from the first `decode()` to the frame (Chromium's software decoder works through a chain of P pictures one after another; 2 decoding threads on this machine's 2 cores). When the first chunk's time plus that is about the frame's time, the decoder, not the network, sets the pace once the keyframe is in: the frame cannot come sooner than the keyframe's arrival plus the chain's decode.", '');
  }
  lines.push('## Module size', '');
  lines.push(`wasm ${kb(r.size.wasmRaw)} (${(r.size.wasmGz / 1024).toFixed(1)} KiB gzipped) + JS ${kb(r.size.jsRaw)} (${(r.size.jsGz / 1024).toFixed(1)} KiB gzipped) = **${(r.size.totalGz / 1024).toFixed(1)} KiB gzipped** (gzip -9 of web/dist/pkg/frameseek_wasm_bg.wasm, web/dist/pkg/frameseek_wasm.js and web/dist/index.js). What the size work saved and where the bytes go: [bench-size.md](bench-size.md).`, '');
  lines.push('## How the first read is sized', '');
  lines.push(
    'The first request asks for `bytes=0-1048575` (`headBytes`, 1 MiB: the moov of about half an hour of 30 fps video fits), but its size is not what it costs: the body is parsed while it streams, and what the first response shows decides how much of it is read. Its `Content-Range` gives the file size; the top-level box headers in its first bytes show where the moov is. Moov last: the request is cancelled as soon as the `mdat` header has arrived (the bytes the server sends meanwhile are Chromium\'s cancel floor, below) and the rest of the file after the `mdat` (the moov, when at most 16 MiB) is read in one request. Moov first: `open()` resolves when the moov is complete and the request keeps streaming into the media data, where frame 0 lies; the first frame request cuts it after the last byte it needs (frame 0: one request in all) or cancels it (any other frame). A moov larger than the first request costs one more request for its remainder. The price of cancelling early with the moov last: frame 0, whose bytes the first request was carrying, needs a third round trip (mediabunny keeps reading the start while it fetches the moov and wins that case); keeping the first request open for the round trip that fetches the moov would instead cost about a bandwidth-delay product (~500 kB here) for every other frame. A caller that knows it starts at frame 0 says so with `fromStart` (with `player: true`; `<frameseek-player>` does): the first request then reads on while the moov is fetched, and the first frame request cuts it after frame 0\'s GOP (see "The first frame on screen in a page").',
    '',
  );
  lines.push('## What the simulated network leaves out', '');
  lines.push(
    '- Each request waits one round trip before its first byte, and bodies share the bandwidth; there is no TCP connection setup or slow start (as on a warm HTTP/2 connection). All tools get the same treatment.',
    `- A cancelled response stops within a millisecond or two of the client closing the connection, so the bytes a cancel wastes are what the server sent while Chromium delivered the data and carried the cancel back.${r.cancel ? ` Chromium's cancel floor, measured with a plain \`fetch\` of the first read aborted as soon as its first chunk is in JavaScript (no frameseek code): median ${kb(r.cancel.median)} sent (${kb(r.cancel.min)}–${kb(r.cancel.max)}, ${r.cancel.runs} runs; the server sends 16 KiB chunks).` : ''} On a real path the server can also have up to a congestion window of data in flight (on a fresh connection, about 14 KiB in the first round trip, doubling after); frameseek cancels early in the first request, where that window is smallest.`,
    '- Decoding is Chromium\'s software H.264 decoder on the 2 CPU cores this machine has, shared with the server and the browser\'s network process.',
    '',
  );
  if (!r.pyav) lines.push('PyAV: not available (pip `av` could not be imported), so its rows are missing.', '');
  else lines.push(`PyAV ${r.pyav}: \`av.open(url)\`, \`container.seek(pts, backward=True)\` to the keyframe, decode to the frame (tests/bench/pyav_frame.py); ffmpeg's HTTP client asks for open-ended ranges (\`bytes=N-\`), so the server keeps sending until it closes the connection.`, '');
  return lines.join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
