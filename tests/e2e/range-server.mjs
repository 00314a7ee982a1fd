// A static HTTP server for frameseek's browser tests and benchmark: single byte ranges
// (RFC 9110), per-client counters of requests and bytes actually sent, fault injection, and
// an optional simulated network (round-trip delay and a shared bandwidth).
//
// Faults, chosen per URL with ?fault=...&id=... (the id scopes "once" faults and counters):
//   503        the first request for this id gets 503 Service Unavailable
//   drop       the first request for this id whose body exceeds 64 KiB is cut after half of it
//   norange    every request gets 200 with the whole file (Range ignored)
//   noexpose   no Access-Control-Expose-Headers: a cross-origin page cannot read Content-Range
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.m4s': 'video/iso.segment',
  '.m3u8': 'application/vnd.apple.mpegurl',
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Parses a single-range `Range` header against `size`: [start, end] inclusive, null, or 'bad'. */
export function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  let start;
  let end;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return 'bad';
  return [start, end];
}

/** A simulated link: every response body shares `mbps`; each response starts after `rttMs`. */
class Link {
  constructor({ rttMs = 0, mbps = 0 } = {}) {
    this.rttMs = rttMs;
    this.bytesPerMs = mbps > 0 ? (mbps * 1e6) / 8 / 1000 : 0;
    this.busyUntil = 0;
  }

  /** Waits until `n` more bytes have crossed the link. */
  async transmit(n) {
    if (!this.bytesPerMs) return;
    const now = performance.now();
    // A link busy until a moment ago is still busy: timer lateness is caught up rather than
    // lost, so a long body moves at the nominal rate.
    const start = this.busyUntil > now - 5 ? this.busyUntil : now;
    const done = start + n / this.bytesPerMs;
    this.busyUntil = done;
    const wait = done - performance.now();
    if (wait > 0.5) await sleep(wait);
  }
}

/**
 * Starts the server. `routes` maps URL prefixes to directories, e.g. { '/media/': dir }.
 * Returns { url, port, stats(id), resetStats(), setNetwork({rttMs, mbps}), close() }.
 */
export async function startServer({ routes, port = 0, rttMs = 0, mbps = 0, chunk = 16 * 1024, log = false } = {}) {
  let link = new Link({ rttMs, mbps });
  const counters = new Map();
  const once = new Set();
  const counter = (id) => {
    if (!counters.has(id)) counters.set(id, { requests: 0, bytes: 0, ranges: [] });
    return counters.get(id);
  };

  function resolvePath(pathname) {
    for (const [prefix, dir] of Object.entries(routes)) {
      if (pathname === prefix.replace(/\/$/, '') && !prefix.endsWith('/')) return resolve(dir);
      if (pathname.startsWith(prefix)) {
        const rel = normalize(decodeURIComponent(pathname.slice(prefix.length)));
        if (rel.startsWith('..')) return null;
        return join(resolve(dir), rel);
      }
    }
    return null;
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id') ?? 'default';
    const fault = url.searchParams.get('fault') ?? '';
    const path = resolvePath(url.pathname);
    let st;
    try {
      st = path && statSync(path);
    } catch {
      st = null;
    }
    if (!st || !st.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const media = url.pathname.startsWith('/media/');
    const c = counter(id);
    if (media) {
      c.requests += 1;
      c.headers = req.headers;
    }
    const size = st.size;
    const headers = {
      'Content-Type': MIME[extname(path)] ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    };
    if (fault === 'noexpose') delete headers['Access-Control-Expose-Headers'];
    const sim = media ? link : null;
    if (sim?.rttMs) await sleep(sim.rttMs);
    if (fault === '503' && !once.has(`503:${id}`)) {
      once.add(`503:${id}`);
      res.writeHead(503, headers).end();
      return;
    }
    let range = fault === 'norange' ? null : parseRange(req.headers.range, size);
    if (range === 'bad') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    let [start, end] = range ?? [0, size - 1];
    if (range) {
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': size });
    }
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    if (media) c.ranges.push([start, end + 1, req.headers.range ?? null]);
    const length = end - start + 1;
    let limit = length;
    if (fault === 'drop' && length > 65536 && !once.has(`drop:${id}`)) {
      once.add(`drop:${id}`);
      limit = Math.floor(length / 2);
    }
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const stream = createReadStream(path, { start, end: start + limit - 1, highWaterMark: chunk });
    try {
      for await (const buf of stream) {
        if (closed) break;
        if (sim) await sim.transmit(buf.length);
        if (closed) break;
        const ok = res.write(buf);
        if (media) c.bytes += buf.length;
        if (!ok) {
          await new Promise((r) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              r();
            };
            res.on('drain', done);
            res.on('close', done);
          });
        }
      }
    } finally {
      stream.destroy();
    }
    if (limit < length) {
      if (log) console.log(`drop ${id} after ${limit} bytes`);
      await sleep(50); // let the bytes written so far reach the client, then cut
      res.socket?.destroy();
      return;
    }
    res.end();
  });
  server.keepAliveTimeout = 30000;
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const actualPort = server.address().port;
  return {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    stats: (id = 'default') => ({ ...counter(id), ranges: [...counter(id).ranges] }),
    resetStats: () => counters.clear(),
    setNetwork: (opts) => {
      link = new Link(opts);
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}
