// The browser module on HLS sources in headless Chromium: ffmpeg-made playlists with MPEG-TS
// and with fMP4 segments, a master playlist over both, and `frameseek pack`'s output
// (EXT-X-BYTERANGE into one fragmented MP4) give exact frames across segments (barcode k for
// frame k), fetch only the segments they need, and report EXT-X-DATERANGE markers; broken
// playlists reject with clear errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, frameAtAfter, rng, root, setup, stepBack } from './browser.mjs';

const FRAMES = 150; // the HLS fixtures: 5 s at 30 fps, 1 s segments
const START = Buffer.from([0, 0, 1]); // an Annex B start code
let env;
let dir;

/** Opens `url` in the page, reads frames `ks` with frameAt; returns barcodes, info, stats, markers. */
async function frameAt(url, ks, opts = {}) {
  return env.page.evaluate(
    async ({ url, ks, opts }) => {
      const v = await frameseek.open(url, opts);
      const codes = [];
      for (const k of ks) {
        const f = await v.frameAt(k);
        codes.push(await barcode(f));
        f.close();
      }
      const out = { codes, info: v.info, stats: v.stats, markers: v.markers, live: v.live, range: v.frameRange() };
      v.close();
      return out;
    },
    { url, ks, opts },
  );
}

async function frames(url, opts) {
  return env.page.evaluate(
    async ({ url, opts }) => {
      const v = await frameseek.open(url);
      const codes = [];
      for await (const f of v.frames(opts)) {
        codes.push(await barcode(f));
        f.close();
      }
      const stats = v.stats;
      v.close();
      return { codes, stats };
    },
    { url, opts },
  );
}

async function openError(url, opts = {}) {
  return env.page.evaluate(
    async ({ url, opts }) => {
      try {
        const v = await frameseek.open(url, opts);
        try {
          const f = await v.frameAt(0);
          f.close();
          return { ok: true };
        } finally {
          v.close();
        }
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    },
    { url, opts },
  );
}

/** ffmpeg's VOD HLS (`-c copy`, TS segments) of `fixture` into `name/index.m3u8`. */
function ffmpegHls(fixture, name, hlsArgs) {
  mkdirSync(join(dir, name));
  const run = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', join(fixtures, fixture), '-c', 'copy', '-f', 'hls', ...hlsArgs, '-hls_playlist_type', 'vod',
      '-hls_segment_filename', join(dir, name, 'seg_%d.ts'), join(dir, name, 'index.m3u8')],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, `ffmpeg: ${run.stderr}`);
}

function frameList(start, end, step) {
  const out = [];
  for (let k = start; k < end; k += step) out.push(k);
  return out;
}

describe('browser module: HLS sources', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frameseek-hls-module-'));
    cpSync(join(fixtures, 'hls_ts'), join(dir, 'hls_ts'), { recursive: true });
    cpSync(join(fixtures, 'hls_fmp4'), join(dir, 'hls_fmp4'), { recursive: true });
    const bin = join(root, 'target', 'release', 'frameseek');
    const pack = spawnSync(bin, ['pack', join(fixtures, 'h264_faststart.mp4'), join(dir, 'pack'), '--segment', '1'], {
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, `frameseek pack: ${pack.stderr}`);
    // Fragmented, without an edit list: the first frame is shown after the B-frame delay.
    const packFrag = spawnSync(bin, ['pack', join(fixtures, 'h264_fragmented.mp4'), join(dir, 'pack_frag'), '--segment', '1'], {
      encoding: 'utf8',
    });
    assert.equal(packFrag.status, 0, `frameseek pack: ${packFrag.stderr}`);
    // A master playlist over the two variants (the fMP4 one announced as the larger).
    writeFileSync(
      join(dir, 'master.m3u8'),
      [
        '#EXTM3U',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.64000d,mp4a.40.2",RESOLUTION=320x240',
        'hls_ts/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64000d,mp4a.40.2",RESOLUTION=320x240',
        'hls_fmp4/index.m3u8',
        '',
      ].join('\n'),
    );
    // The TS playlist with dates and two date ranges.
    const ts = readFileSync(join(fixtures, 'hls_ts', 'index.m3u8'), 'utf8').replace(
      '#EXT-X-PLAYLIST-TYPE:VOD\n',
      '#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.000Z\n' +
        '#EXT-X-DATERANGE:ID="door",CLASS="event",START-DATE="2026-01-02T03:04:07.500Z",DURATION=1.5,X-LABEL="door opened"\n' +
        '#EXT-X-DATERANGE:ID="car",START-DATE="2026-01-02T03:04:06.000Z"\n',
    );
    writeFileSync(join(dir, 'hls_ts', 'dated.m3u8'), ts);
    writeFileSync(join(dir, 'hls_ts', 'broken.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:x\n#EXTINF:abc\nseg_000.ts\n');
    writeFileSync(join(dir, 'hls_ts', 'missing.m3u8'), ts.replace('seg_002.ts', 'nope.ts'));
    // EXTINF sums that promise more (last segment +0.5 s) and fewer (-0.5 s) frames than the
    // segments hold.
    const fmp4 = readFileSync(join(fixtures, 'hls_fmp4', 'index.m3u8'), 'utf8');
    const lastExtinf = (d) => fmp4.replace(/#EXTINF:1\.000000,\nseg_004/, `#EXTINF:${d},\nseg_004`);
    writeFileSync(join(dir, 'hls_fmp4', 'long.m3u8'), lastExtinf('1.5'));
    writeFileSync(join(dir, 'hls_fmp4', 'short.m3u8'), lastExtinf('0.5'));
    // A TS stream with frame 45 dropped: its timestamps keep the hole.
    const gap = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-i', join(fixtures, 'h264_faststart.mp4'), '-vf', "select='not(eq(n\\,45))'",
        '-fps_mode', 'passthrough', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30',
        '-sc_threshold', '0', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
        '-hls_segment_filename', join(dir, 'gap_%d.ts'), join(dir, 'gap.m3u8')],
      { encoding: 'utf8' },
    );
    assert.equal(gap.status, 0, `ffmpeg: ${gap.stderr}`);
    // TS segments whose SPS/PPS only the first one carries: in the others they are turned
    // into filler NAL units (type 12, ignored by decoders) in place.
    mkdirSync(join(dir, 'nosps'));
    const nosps = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-i', join(fixtures, 'h264_faststart.mp4'), '-an', '-c:v', 'libx264', '-preset', 'veryfast',
        '-g', '30', '-sc_threshold', '0', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
        '-hls_segment_filename', join(dir, 'nosps', 'seg_%d.ts'), join(dir, 'nosps', 'index.m3u8')],
      { encoding: 'utf8' },
    );
    assert.equal(nosps.status, 0, `ffmpeg: ${nosps.stderr}`);
    for (const n of [1, 2]) {
      const path = join(dir, 'nosps', `seg_${n}.ts`);
      const b = readFileSync(path);
      let hidden = 0;
      for (let i = b.indexOf(START); i >= 0; i = b.indexOf(START, i + 3)) {
        if ([7, 8].includes(b[i + 3] & 0x1f)) {
          b[i + 3] = 0x0c;
          hidden += 1;
        }
      }
      assert.equal(hidden, 2, `SPS and PPS in ${path}`);
      writeFileSync(path, b);
    }
    // ffmpeg's HLS of an open-GOP MP4 (-c copy): segments after the first start with a
    // non-IDR I-frame, and carry no SPS/PPS either.
    ffmpegHls('h264_open_gop.mp4', 'opengop', ['-hls_time', '1']);
    // ffmpeg's split_by_time HLS of the 10 s GOP fixture: 2 s segments, most without an IDR;
    // and in 0.3 s segments, more than 8 segments from their GOP's IDR.
    ffmpegHls('h264_long_gop.mp4', 'split', ['-hls_time', '2', '-hls_flags', 'split_by_time']);
    // Its third segment (inside the first GOP) missing.
    const split = readFileSync(join(dir, 'split', 'index.m3u8'), 'utf8');
    assert.match(split, /seg_2\.ts/);
    writeFileSync(join(dir, 'split', 'missing.m3u8'), split.replace('seg_2.ts', 'nope.ts'));
    ffmpegHls('h264_long_gop.mp4', 'split_short', ['-hls_time', '0.3', '-hls_flags', 'split_by_time']);
    // 60 fps in a 1 kHz timescale (16, 17, 17 ms), 100 s, through frameseek pack.
    const ms = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-i', join(fixtures, 'h264_many_samples.mp4'), '-c', 'copy', '-video_track_timescale', '1000',
        join(dir, 'ms.mp4')],
      { encoding: 'utf8' },
    );
    assert.equal(ms.status, 0, `ffmpeg: ${ms.stderr}`);
    const packMs = spawnSync(bin, ['pack', join(dir, 'ms.mp4'), join(dir, 'pack_ms'), '--segment', '2'], { encoding: 'utf8' });
    assert.equal(packMs.status, 0, `frameseek pack: ${packMs.stderr}`);
    const packOpen = spawnSync(bin, ['pack', join(fixtures, 'h264_open_gop.mp4'), join(dir, 'pack_open'), '--segment', '1'], {
      encoding: 'utf8',
    });
    assert.equal(packOpen.status, 0, `frameseek pack: ${packOpen.stderr}`);
    env = await setup({ mediaDir: dir });
  });
  after(async () => {
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const next = rng(7);
  const ks = [0, 1, 29, 30, 31, 59, 60, 75, 119, 120, 148, 149];
  for (let i = 0; i < 6; i++) ks.push(Math.floor(next() * FRAMES));

  for (const playlist of ['hls_ts/index.m3u8', 'hls_fmp4/index.m3u8']) {
    test(`${playlist}: frameAt(k) carries barcode k across segments`, async () => {
      const got = await frameAt(env.media(playlist), ks);
      assert.deepEqual(got.codes, ks);
      assert.equal(got.info.container, 'hls');
      assert.equal(got.info.frameCount, FRAMES);
      assert.equal(got.info.fps, 30);
      assert.equal(got.info.width, 320);
      assert.equal(got.info.live, false);
      assert.equal(got.live, false);
      assert.deepEqual(got.range, { start: 0, end: FRAMES });
      assert.equal(got.info.hls.segments, 5);
      assert.ok(got.info.codec.startsWith('avc1.'), got.info.codec);
      assert.ok(got.info.tracks.some((t) => t.kind === 'audio' && t.codec === 'mp4a.40.2'));
      // Five segments (plus the playlist, and the init section for fMP4): each fetched once.
      const want = playlist.includes('fmp4') ? 7 : 6;
      assert.equal(got.stats.requests, want, JSON.stringify(got.stats));
    });

    test(`${playlist}: frames() yields exactly the requested barcodes`, async () => {
      for (const [start, end, step] of [
        [0, FRAMES, 1],
        [10, 140, 7],
        [95, 150, 2],
      ]) {
        const got = await frames(env.media(playlist), { start, end, step });
        assert.deepEqual(got.codes, frameList(start, end, step), `${start}..${end} step ${step}`);
      }
    });
  }

  test('a frame in the last segment fetches the playlist and that segment only', async () => {
    const got = await frameAt(env.media('hls_ts/index.m3u8'), [140]);
    assert.deepEqual(got.codes, [140]);
    // The playlist, the first segment (it tells the codec and frame rate), the last one.
    assert.equal(got.stats.requests, 3);
  });

  // h264_faststart.mp4 (an edit list starts it at its first frame) and h264_fragmented.mp4
  // (none: EXTINF counts from the first frame, so the count at open() is exact).
  for (const pack of ['pack', 'pack_frag']) {
    test(`${pack} output (EXT-X-BYTERANGE into one fMP4) reads exact frames`, async () => {
      const n = 90;
      const picks = [0, 1, 29, 30, 44, 45, 60, 88, 89];
      const got = await frameAt(env.media(`${pack}/master.m3u8`), picks);
      assert.deepEqual(got.codes, picks);
      assert.equal(got.info.frameCount, n);
      const all = await frames(env.media(`${pack}/master.m3u8`), { start: 0, end: n, step: 1 });
      assert.deepEqual(all.codes, frameList(0, n, 1));
    });
  }

  test('master playlist: the variant is chosen (bandwidth) and overridable', async () => {
    const auto = await frameAt(env.media('master.m3u8'), [0, 100]);
    assert.deepEqual(auto.codes, [0, 100]);
    assert.equal(auto.info.hls.variant, 1);
    assert.equal(auto.info.hls.variants, 2);
    assert.ok(auto.info.hls.url.endsWith('hls_fmp4/index.m3u8'));
    assert.equal(auto.info.fragmented, true);
    const pick = await frameAt(env.media('master.m3u8'), [100], { variant: 0 });
    assert.deepEqual(pick.codes, [100]);
    assert.ok(pick.info.hls.url.endsWith('hls_ts/index.m3u8'));
    const capped = await frameAt(env.media('master.m3u8'), [5], { maxBandwidth: 600000 });
    assert.equal(capped.info.hls.variant, 0);
  });

  test('EXT-X-DATERANGE entries become markers on the timeline', async () => {
    const got = await frameAt(env.media('hls_ts/dated.m3u8'), [60]);
    assert.deepEqual(got.codes, [60]);
    assert.deepEqual(got.markers, [
      { id: 'car', time: 1, label: 'car' },
      { id: 'door', time: 2.5, duration: 1.5, label: 'door opened', class: 'event' },
    ]);
  });

  test('MP4 sources have no markers and are not live', async () => {
    const got = await frameAt(env.media('pack/video.mp4'), [3]);
    assert.deepEqual(got.codes, [3]);
    assert.deepEqual(got.markers, []);
    assert.equal(got.live, false);
  });

  test('broken playlists and segments reject with clear errors', async () => {
    const broken = await openError(env.media('hls_ts/broken.m3u8'));
    assert.equal(broken.code, 'invalid', JSON.stringify(broken));
    assert.match(broken.message, /playlist/);
    const gone = await openError(env.media('hls_ts/none.m3u8'));
    assert.equal(gone.code, 'http', JSON.stringify(gone));
    assert.match(gone.message, /404/);
    const notHls = await openError(env.media('hls_ts/seg_000.ts'), { format: 'hls' });
    assert.equal(notHls.code, 'invalid', JSON.stringify(notHls));
    // A missing segment fails the frames that need it, not the others.
    const missing = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const ok = await barcode(await v.frameAt(10));
      let err;
      try {
        await v.frameAt(70);
      } catch (e) {
        err = { code: e.code, message: e.message };
      }
      const after = await barcode(await v.frameAt(100));
      v.close();
      return { ok, err, after };
    }, env.media('hls_ts/missing.m3u8'));
    assert.equal(missing.ok, 10);
    assert.equal(missing.after, 100);
    assert.equal(missing.err?.code, 'http', JSON.stringify(missing));
    assert.match(missing.err.message, /nope\.ts/);
    const range = await openError(env.media('hls_ts/index.m3u8'));
    assert.deepEqual(range, { ok: true });
  });

  test('frame indices past the end are out of range', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      try {
        await v.frameAt(150);
      } catch (e) {
        return { code: e.code, message: e.message };
      } finally {
        v.close();
      }
    }, env.media('hls_ts/index.m3u8'));
    assert.equal(got.code, 'out-of-range');
    assert.match(got.message, /150 frames/);
  });

  test('EXTINF that promises more frames than the segments hold: frames() ends at the last', async () => {
    const got = await env.page.evaluate(async (url) => {
      const error = async (v, k) => {
        try {
          (await v.frameAt(k)).close();
          return { k, ok: true };
        } catch (e) {
          return { k, code: e.code, message: e.message };
        }
      };
      // Past the last frame before the last segment was read, then after.
      const v = await frameseek.open(url);
      const promised = v.info.frameCount;
      const errors = [await error(v, 155)];
      const codes = [];
      for await (const f of v.frames({ start: 140 })) {
        codes.push(await barcode(f));
        f.close();
      }
      errors.push(await error(v, 150));
      const range = v.frameRange();
      v.close();
      return { promised, codes, errors, range };
    }, env.media('hls_fmp4/long.m3u8'));
    // Each on a fresh open, the last segment unread when frames() starts: over the promised
    // range, and from past the real end.
    const all = await frames(env.media('hls_fmp4/long.m3u8'), { start: 0, end: got.promised, step: 3 });
    const tails = [];
    for (const opts of [{ start: 150 }, { step: 50 }]) tails.push((await frames(env.media('hls_fmp4/long.m3u8'), opts)).codes);
    assert.deepEqual(tails, [[], [0, 50, 100]]);
    assert.equal(got.promised, 165);
    assert.deepEqual(got.codes, frameList(140, FRAMES, 1));
    assert.deepEqual(all.codes, frameList(0, FRAMES, 3));
    assert.deepEqual(got.range, { start: 0, end: FRAMES });
    assert.equal(got.errors[0].code, 'out-of-range', JSON.stringify(got.errors));
    assert.match(got.errors[0].message, /frame 155 out of range: the last frame of the stream is 149/);
    assert.equal(got.errors[1].code, 'out-of-range', JSON.stringify(got.errors));
    assert.match(got.errors[1].message, /frame 150 out of range \(the playlist has 150 frames\)/);
  });

  test('EXTINF that promises fewer frames: the last segment read extends the range', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const promised = v.info.frameCount;
      let early;
      try {
        await v.frameAt(140);
      } catch (e) {
        early = e.code;
      }
      const codes = [];
      for (const k of [125, 149]) {
        const f = await v.frameAt(k);
        codes.push(await barcode(f));
        f.close();
      }
      const out = { promised, early, codes, range: v.frameRange() };
      v.close();
      return out;
    }, env.media('hls_fmp4/short.m3u8'));
    assert.equal(got.promised, 135);
    assert.equal(got.early, 'out-of-range');
    assert.deepEqual(got.codes, [125, 149]);
    assert.deepEqual(got.range, { start: 0, end: FRAMES });
    // frames() to the end (the default, or the promised count) goes on to the last frame.
    const all = async (opts) => (await frames(env.media('hls_fmp4/short.m3u8'), opts)).codes;
    assert.deepEqual(await all({}), frameList(0, FRAMES, 1));
    assert.deepEqual(await all({ start: 2, end: got.promised, step: 4 }), frameList(2, FRAMES, 4));
    // 140 is past the estimate, and the segments before it hold no frame the step wants.
    assert.deepEqual(await all({ step: 70 }), [0, 70, 140]);
  });

  test('a dropped frame: its number gives the frame on screen, in frameAt and frames()', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const codes = [];
      for await (const f of v.frames({ start: 40, end: 50 })) {
        codes.push(await barcode(f));
        f.close();
      }
      const f = await v.frameAt(45);
      const at45 = await barcode(f);
      f.close();
      const all = [];
      for await (const f of v.frames()) {
        all.push(await barcode(f));
        f.close();
      }
      v.close();
      return { codes, at45, all };
    }, env.media('gap.m3u8'));
    assert.deepEqual(got.codes, [40, 41, 42, 43, 44, 44, 46, 47, 48, 49]);
    assert.equal(got.at45, 44);
    const want = frameList(0, 90, 1);
    want[45] = 44;
    assert.deepEqual(got.all, want);
  });

  test('TS segments without SPS/PPS decode with those of an earlier segment', async () => {
    const got = await frames(env.media('nosps/index.m3u8'), { start: 0, end: 90, step: 1 });
    assert.deepEqual(got.codes, frameList(0, 90, 1));
  });

  test('open GOP: frameseek pack cuts at IDRs only', async () => {
    const packed = await frames(env.media('pack_open/master.m3u8'), { start: 0, end: 120, step: 1 });
    assert.deepEqual(packed.codes, frameList(0, 120, 1));
  });

  // Segments whose first frames continue a GOP from earlier segments decode through them
  // (the segments joined back to the GOP's IDR): ffmpeg's -c copy HLS of the open-GOP fixture
  // (segments start at non-IDR I-frames) and split_by_time in a 10 s GOP (2 s segments).
  // frames() joins the segments that continue a GOP and decodes it once: decoding it again
  // from its IDR for each segment would cost about 2× the frames in the 10 s GOP.
  for (const [playlist, n, ks] of [
    ['opengop/index.m3u8', 120, [45, 119, 30, 31, 89, 60, 10]],
    ['split/index.m3u8', 600, [599, 299, 300, 61, 450, 0, 598]],
  ]) {
    test(`${playlist}: frames in GOPs from earlier segments are exact`, async () => {
      const all = await frames(env.media(playlist), { start: 0, end: n, step: 1 });
      assert.deepEqual(all.codes, frameList(0, n, 1));
      assert.ok(all.stats.framesDecoded <= n * 1.25, `${all.stats.framesDecoded} frames decoded for ${n}`);
      const stepped = await frames(env.media(playlist), { start: 7, end: n, step: 40 });
      assert.deepEqual(stepped.codes, frameList(7, n, 40));
      // Each on a fresh open, and all on one.
      const fresh = [];
      for (const k of ks) fresh.push(...(await frameAt(env.media(playlist), [k])).codes);
      assert.deepEqual(fresh, ks);
      assert.deepEqual((await frameAt(env.media(playlist), ks)).codes, ks);
    });
  }

  // Steps backwards keep the frames of their decode pass, as for MP4 (frames.test.mjs): 1 s
  // segments of one GOP each (TS), the open-GOP segments (decoders start at the IDR of frame
  // 0 only), and the 10 s GOPs cut into 2 s segments, walked back across the GOP boundary at
  // 300. The frames decoded are about the GOP prefixes walked; decoding each step from its
  // keyframe costs several times as many.
  for (const [playlist, from, to, keyframes] of [
    ['hls_ts/index.m3u8', 149, 0, [0, 30, 60, 90, 120]],
    ['opengop/index.m3u8', 119, 0, [0]],
    ['split/index.m3u8', 330, 250, [0, 300]],
  ]) {
    test(`${playlist}: steps backwards decode each pass once and keep its frames`, async () => {
      const walk = (opts) => stepBack(env.page, env.media(playlist), from, to, opts);
      const want = frameList(to, from, 1).reverse();
      let once = 0;
      keyframes.forEach((key, g) => {
        const top = Math.min(from - 1, (keyframes[g + 1] ?? Infinity) - 1);
        if (top >= to && top >= key) once += top - key + 1;
      });
      const kept = await walk({});
      assert.deepEqual(kept.codes, want);
      assert.ok(kept.decoded <= once * 1.1 + 8, `${from - to} steps back decoded ${kept.decoded} pictures (GOP prefixes: ${once})`);
      const off = await walk({ stepBackBytes: 0 });
      assert.deepEqual(off.codes, want);
      assert.ok(off.decoded > once * 1.5, `stepBackBytes 0: ${off.decoded} pictures decoded (GOP prefixes: ${once})`);
    });
  }

  test('split/index.m3u8: a step back whose kept frames would reach into the GOP before decodes its own pass only', async () => {
    // 16 frames kept: the step from 314 to 313 would keep 298-313, but 298 and 299 belong to
    // the GOP from frame 0 (the IDR before is at 0): only 300-313 are decoded and kept.
    const got = await frameAtAfter(env.page, env.media('split/index.m3u8'), 314, [313, 312, 300], {
      stepBackBytes: 320 * 240 * 1.5 * 16,
    });
    assert.deepEqual(got.codes, [313, 312, 300]);
    // 300-313 once (a few more for the decoder's lag), 312 and 300 kept. Reaching into the
    // GOP before decoded 173 pictures here.
    assert.ok(got.decoded <= 14 + 8, `${got.decoded} pictures decoded`);
  });

  test('split/index.m3u8: the earlier segments a GOP runs through are fetched together', async () => {
    // Frame 250 is in the fifth 2 s segment of the 10 s GOP from frame 0; open() read the
    // first. With a 40 ms round trip, segments 1-3 asked for one after another would start
    // 40 ms or more apart.
    env.server.setNetwork({ rttMs: 40 });
    let got;
    try {
      got = await env.page.evaluate(async (url) => {
        const v = await frameseek.open(url);
        performance.clearResourceTimings();
        const f = await v.frameAt(250);
        const code = await barcode(f);
        f.close();
        v.close();
        const starts = {};
        for (const e of performance.getEntriesByType('resource')) {
          const m = e.name.match(/seg_(\d+)\.ts/);
          if (m) starts[m[1]] = e.startTime;
        }
        return { code, starts };
      }, env.media('split/index.m3u8'));
    } finally {
      env.server.setNetwork({});
    }
    assert.equal(got.code, 250);
    const earlier = ['1', '2', '3'].map((n) => got.starts[n]);
    assert.ok(earlier.every((t) => t !== undefined), `segments fetched: ${JSON.stringify(got.starts)}`);
    assert.ok(Math.max(...earlier) - Math.min(...earlier) < 30, `segments 1-3 asked for at ${earlier.map(Math.round)} ms`);
  });

  // frames() reads ahead for the segments that continue a GOP; one it cannot read fails the
  // stream when the stream reaches it, after the frames before it.
  test('split/missing.m3u8: frames() yields the frames before a missing segment inside their GOP', async () => {
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      const codes = [];
      let err;
      try {
        for await (const f of v.frames({ start: 0, end: 300, raw: true })) {
          codes.push(await barcode(f));
          f.close();
        }
      } catch (e) {
        err = { code: e.code, message: e.message };
      }
      v.close();
      return { codes, err };
    }, env.media('split/missing.m3u8'));
    // The missing segment's first frame, from ffprobe: its earliest timestamp on the 30 fps grid.
    const firstPts = (seg) => {
      const out = spawnSync('ffprobe', ['-v', 'quiet', '-select_streams', 'v', '-show_entries', 'packet=pts', '-of', 'csv=p=0', join(dir, 'split', seg)], { encoding: 'utf8' });
      return Math.min(...out.stdout.split('\n').filter((l) => /^\d/.test(l)).map((l) => parseInt(l, 10)));
    };
    const missingFrom = Math.round((firstPts('seg_2.ts') - firstPts('seg_0.ts')) / 3000);
    assert.ok(missingFrom > 60, `seg_2.ts starts at frame ${missingFrom}`);
    assert.deepEqual(got.codes, frameList(0, missingFrom, 1));
    assert.equal(got.err?.code, 'http', JSON.stringify(got.err));
    assert.match(got.err.message, /nope\.ts/);
  });

  test('a GOP that starts more than 8 segments back rejects clearly; nearer ones decode', async () => {
    const near = await frameAt(env.media('split_short/index.m3u8'), [40, 305, 300]);
    assert.deepEqual(near.codes, [40, 305, 300]);
    const far = await openError(env.media('split_short/index.m3u8'), {});
    assert.equal(far.ok, true); // frame 0
    const got = await env.page.evaluate(async (url) => {
      const v = await frameseek.open(url);
      try {
        (await v.frameAt(200)).close();
        return { decoded: true };
      } catch (e) {
        return { code: e.code, message: e.message };
      } finally {
        v.close();
      }
    }, env.media('split_short/index.m3u8'));
    assert.equal(got.code, 'unsupported', JSON.stringify(got));
    assert.match(got.message, /segment \d+: no frame a decoder can start at \(an IDR\).* 8 segments before it \(the most frameseek joins\)/);
  });

  test('a 1 kHz timescale at 60 fps: frame numbers do not drift over 100 s', async () => {
    const n = 6000;
    const next = rng(60);
    const ks = [0, 1, 2, 119, 120, 121, 2999, 3000, n - 2, n - 1];
    for (let i = 0; i < 6; i++) ks.push(Math.floor(next() * n));
    const got = await frameAt(env.media('pack_ms/master.m3u8'), ks);
    assert.deepEqual(got.codes, ks);
    assert.equal(got.info.frameCount, n);
    assert.equal(got.info.fps, 60);
  });
});
