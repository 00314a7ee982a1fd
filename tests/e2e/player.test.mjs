// <frameseek-player> in headless Chromium: metadata, real-time playback on the Web Audio
// clock, pause, exact seeks and frame steps (barcodes read back from the element's canvas),
// markers, A/V drift, SAR/rotation, the prefetch bound, keyboard, loop/ended, errors, and
// media-chrome driving the element. Screenshots go to target/e2e-screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, root } from './browser.mjs';
import { setupPlayer, shots } from './player-util.mjs';

let env;
let page;
let packDir;

const make = (file, attrs = {}) => page.evaluate(({ url, attrs }) => makePlayer(url, attrs).then(() => true), { url: env.media(file), attrs });

/** Evaluates `fn(player, arg)` in the page. */
const withPlayer = (fn, arg) => page.evaluate(({ src, arg }) => new Function(`return (${src})`)()(window.player, arg), { src: fn.toString(), arg });

// h264_vfr.mp4: frame i at 33*i + 17*floor(i/3) + 100*floor(i/10) ms (see scripts/fixtures).
const vfrTime = (i) => (33 * i + 17 * Math.floor(i / 3) + 100 * Math.floor(i / 10)) / 1000;

describe('frameseek-player', () => {
  before(async () => {
    mkdirSync(shots, { recursive: true });
    // `frameseek pack` output (fMP4 + sprite + WebVTT thumbnails) for the thumbnails track test.
    packDir = mkdtempSync(join(tmpdir(), 'frameseek-pack-'));
    const bin = join(root, 'target', 'release', 'frameseek');
    if (existsSync(bin)) execFileSync(bin, ['pack', join(fixtures, 'h264_aac.mp4'), join(packDir, 'out')], { stdio: 'ignore' });
    // An HLS playlist with dates and date ranges over the TS fixture's segments.
    const ts = readFileSync(join(fixtures, 'hls_ts', 'index.m3u8'), 'utf8')
      .replace(/^seg_/gm, '/media/hls_ts/seg_')
      .replace(
        '#EXT-X-PLAYLIST-TYPE:VOD\n',
        '#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.000Z\n' +
          '#EXT-X-DATERANGE:ID="door",CLASS="event",START-DATE="2026-01-02T03:04:07.500Z",DURATION=1.5,X-LABEL="door opened"\n' +
          '#EXT-X-DATERANGE:ID="car",START-DATE="2026-01-02T03:04:06.000Z"\n',
      );
    mkdirSync(join(packDir, 'out'), { recursive: true });
    writeFileSync(join(packDir, 'out', 'dated.m3u8'), ts);
    env = await setupPlayer({ routes: { '/pack/': join(packDir, 'out') } });
    page = env.page;
  });
  after(async () => {
    await env?.close();
    if (packDir) rmSync(packDir, { recursive: true, force: true });
  });

  test('is defined by importing the package; metadata and the first frame', async () => {
    await make('h264_aac.mp4', { controls: true });
    const r = await withPlayer((p) => ({
      defined: customElements.get('frameseek-player') === p.constructor,
      shadow: p.shadowRoot?.mode,
      canvas: !!p.shadowRoot.querySelector('canvas'),
      events: p.events.slice(0, 4),
      duration: p.duration,
      w: p.videoWidth,
      h: p.videoHeight,
      frames: p.frameCount,
      fps: p.frameRate,
      paused: p.paused,
      ended: p.ended,
      readyState: p.readyState,
      currentTime: p.currentTime,
      currentFrame: p.currentFrame,
      code: canvasBarcode(p),
      seekable: [...p.seekable],
      buffered: [...p.buffered],
      audio: p.info.tracks.find((t) => t.kind === 'audio')?.codec,
    }));
    assert.equal(r.defined, true);
    assert.equal(r.shadow, 'open');
    assert.equal(r.canvas, true);
    assert.deepEqual(r.events, ['loadstart', 'durationchange', 'loadedmetadata', 'loadeddata']);
    assert.ok(Math.abs(r.duration - 5) < 0.05, `duration ${r.duration}`);
    assert.deepEqual([r.w, r.h, r.frames, Math.round(r.fps)], [320, 240, 150, 30]);
    assert.deepEqual([r.paused, r.ended, r.currentTime, r.currentFrame, r.code], [true, false, 0, 0, 0]);
    assert.ok(r.readyState >= 2);
    assert.deepEqual(r.seekable, [[0, r.duration]]);
    assert.ok(r.buffered.length >= 1 && r.buffered[0][0] === 0 && r.buffered[0][1] > 0, JSON.stringify(r.buffered));
    assert.equal(r.audio, 'mp4a.40.2');
  });

  test('play() advances currentTime at real time on the Web Audio clock; pause() stops it', async () => {
    await make('h264_aac.mp4', { controls: true });
    const r = await withPlayer(async (p) => {
      await p.play();
      const t0 = performance.now();
      const c0 = p.currentTime;
      const samples = [];
      while (performance.now() - t0 < 2500) {
        await new Promise((r) => setTimeout(r, 100));
        samples.push(p.currentTime);
      }
      const rate = (p.currentTime - c0) / ((performance.now() - t0) / 1000);
      const stats = p.stats;
      p.pause();
      const pausedAt = p.currentTime;
      await new Promise((r) => setTimeout(r, 500));
      return {
        rate,
        monotonic: samples.every((s, i) => i === 0 || s >= samples[i - 1]),
        clock: stats.clock,
        events: p.events,
        paused: p.paused,
        pausedAt,
        after: p.currentTime,
        frame: p.currentFrame,
        code: canvasBarcode(p),
        expected: Math.floor(p.currentTime * 30 + 1e-6),
      };
    });
    assert.ok(r.rate > 0.8 && r.rate < 1.2, `currentTime advanced at ${r.rate.toFixed(3)}x real time`);
    assert.ok(r.monotonic, 'currentTime never goes back while playing');
    assert.equal(r.clock, 'audio', 'the AudioContext drives playback');
    for (const e of ['play', 'playing', 'timeupdate', 'pause']) assert.ok(r.events.includes(e), `event ${e}`);
    assert.equal(r.paused, true);
    assert.equal(r.after, r.pausedAt, 'currentTime stays put while paused');
    assert.equal(r.frame, r.expected, 'the frame on screen is the one at currentTime');
    assert.equal(r.code, r.frame, 'canvas barcode');
  });

  test('a seek shows exactly the frame at the new time (CFR, B-frames + edit list, VFR)', async () => {
    const cases = [
      ['h264_aac.mp4', [2.5, 0, 1 / 30, 1.01, 4.99, 3.3334, 0.5, 4.0, 2.999, 1.5], (t) => Math.min(149, Math.floor(t * 30 + 1e-6))],
      ['h264_bframes_editlist.mp4', [1.7, 0.1, 2.95, 0.99, 1.0, 2.0], (t) => Math.min(89, Math.floor(t * 30 + 1e-6))],
      [
        'h264_vfr.mp4',
        [0.05, 1.0, 2.345, 3.9, 0.45, 4.25],
        (t) => {
          let k = 0;
          while (k + 1 < 90 && vfrTime(k + 1) <= t + 1e-9) k++;
          return k;
        },
      ],
    ];
    for (const [file, times, expect] of cases) {
      await make(file);
      const got = await withPlayer(async (p, times) => {
        const out = [];
        for (const t of times) {
          const seeked = nextEvent(p, 'seeked');
          p.currentTime = t;
          const seeking = p.seeking;
          await seeked;
          out.push({ t, seeking, now: p.currentTime, frame: p.currentFrame, code: canvasBarcode(p) });
        }
        return out;
      }, times);
      for (const g of got) {
        const k = expect(g.t);
        assert.equal(g.seeking, true, `${file}: seeking is true right after setting currentTime`);
        assert.equal(g.code, k, `${file}: barcode after seeking to ${g.t}`);
        assert.equal(g.frame, k, `${file}: currentFrame after seeking to ${g.t}`);
        assert.ok(Math.abs(g.now - g.t) < 1e-9, `${file}: currentTime ${g.now} after seeking to ${g.t}`);
      }
    }
  });

  test('stepFrame(±n) moves exactly n frames while paused (across GOP boundaries)', async () => {
    await make('h264_aac.mp4');
    const got = await withPlayer(async (p) => {
      const out = [];
      p.currentTime = 28 / 30;
      await nextEvent(p, 'seeked');
      const read = (n) => out.push({ n, frame: p.currentFrame, code: canvasBarcode(p), time: p.currentTime, paused: p.paused });
      read(0);
      for (const n of [1, 1, -1, -1, -1, 5, -10, 30, -30]) {
        await p.stepFrame(n);
        read(n);
      }
      // Three steps issued at once add up.
      p.stepFrame(1);
      p.stepFrame(1);
      await p.stepFrame(1);
      read(3);
      // At the ends.
      p.currentTime = 0;
      await nextEvent(p, 'seeked');
      await p.stepFrame(-1);
      read(-1);
      p.currentTime = 10;
      await nextEvent(p, 'seeked');
      await p.stepFrame(1);
      read(1);
      // A step while playing pauses first.
      p.currentTime = 1;
      await nextEvent(p, 'seeked');
      await p.play();
      await new Promise((r) => setTimeout(r, 300));
      await p.stepFrame(1);
      const k = p.currentFrame;
      await p.stepFrame(-1);
      out.push({ playing: true, paused: p.paused, frame: p.currentFrame, code: canvasBarcode(p), from: k });
      // Playback goes on after steps (the producer, stopped while stepping, starts again).
      const before = p.currentFrame;
      await Promise.race([p.play(), new Promise((r) => setTimeout(r, 5000))]);
      await new Promise((r) => setTimeout(r, 600));
      p.pause();
      await new Promise((r) => setTimeout(r, 50));
      out.push({ resumed: p.currentFrame - before, frame: p.currentFrame, code: canvasBarcode(p) });
      return out;
    });
    const want = [28, 29, 30, 29, 28, 27, 32, 22, 52, 22, 25, 0, 149];
    assert.deepEqual(
      got.slice(0, want.length).map((g) => g.code),
      want,
      'barcodes after each step',
    );
    assert.deepEqual(
      got.slice(0, want.length).map((g) => g.frame),
      want,
    );
    for (const g of got.slice(0, want.length)) {
      assert.ok(Math.abs(g.time - g.frame / 30) < 1e-6, `currentTime ${g.time} is frame ${g.frame}'s time`);
      assert.equal(g.paused, true);
    }
    const last = got[got.length - 2];
    assert.equal(last.paused, true, 'stepFrame pauses');
    assert.equal(last.frame, last.from - 1);
    assert.equal(last.code, last.frame);
    const resumed = got[got.length - 1];
    assert.ok(resumed.resumed >= 5, `play() after steps moved ${resumed.resumed} frames in 600 ms`);
    assert.equal(resumed.code, resumed.frame);
  });

  test('steps decode each GOP prefix about once: a step after a seek waits for the producer, later steps are frameAt steps from the frame on screen', async () => {
    // h264_long_gop.mp4: one GOP of 300 frames, then another; frame 250 is deep in the first.
    await make('h264_long_gop.mp4');
    const got = await withPlayer(async (p) => {
      p.currentTime = 250 / 30;
      await nextEvent(p, 'seeked');
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      // With the producer's queue full (251-254), a step onto the frame it queues next.
      for (let i = 0; i < 200 && p.stats.queuedFrames < 4; i++) await sleep(50);
      const full = p.stats.queuedFrames;
      const jump = await Promise.race([p.stepFrame(5).then(() => canvasBarcode(p)), sleep(10000).then(() => 'no frame in 10 s')]);
      if (jump !== 255) return { full, jump }; // (later steps would wait behind this one)
      const codes = [];
      const decoded = () => p.stats.framesDecoded;
      const d0 = decoded();
      for (let i = 0; i < 3; i++) {
        await p.stepFrame(-1);
        codes.push(canvasBarcode(p));
      }
      const back = decoded() - d0;
      const d1 = decoded();
      for (let i = 0; i < 6; i++) {
        await p.stepFrame(1);
        codes.push(canvasBarcode(p));
      }
      const forward = decoded() - d1;
      // What frameAt decodes for each of the frames stepped back to, on fresh opens.
      let single = 0;
      for (const k of [254, 253, 252]) {
        const v = await frameseek.open(p.src);
        (await v.frameAt(k)).close();
        single += v.stats.framesDecoded;
        v.close();
      }
      return { full, jump, codes, back, forward, single };
    });
    assert.equal(got.full, 4, 'the producer filled its queue');
    assert.equal(got.jump, 255);
    assert.deepEqual(got.codes, [254, 253, 252, 253, 254, 255, 256, 257, 258]);
    // A step back is frameAt(k, { from: the frame on screen }), and no producer is restarted
    // after it. The first (from 255, a frame of the producer's) decodes the frames from the
    // keyframe through 254 in one pass, and the module keeps the last of them, so the next two
    // decode nothing: one pass (255 frames, a few allowed). Without `from` the module took the
    // first for a jump and decoded 254 alone, then the pass at the second: 389 pictures. Before
    // producers were stopped, the stale one finished its pass first: 650.
    assert.ok(got.back <= 255 + 10, `3 steps back decoded ${got.back} frames (frameAt alone: ${got.single})`);
    // The first step forward takes a kept frame, the next ones run on one forward pass
    // through the GOP. Before, each restarted the producer: 1576 pictures.
    assert.ok(got.forward <= 260 + 6 + 8, `6 steps forward decoded ${got.forward} frames`);
  });

  test('markers are drawn as part="marker" buttons; a click seeks there', async () => {
    await make('h264_aac.mp4', { controls: true });
    await withPlayer((p) => {
      p.markers = [
        { time: 3.5, label: 'Goal' },
        { time: 1, label: 'Kick-off' },
        { time: 'bad', label: 'ignored' },
      ];
      window.markerClicks = [];
      p.addEventListener('markerclick', (e) => markerClicks.push(e.detail.label));
    });
    const markers = page.locator('frameseek-player [part="marker"]');
    assert.equal(await markers.count(), 2);
    const info = await withPlayer((p) =>
      [...p.shadowRoot.querySelectorAll('[part="marker"]')].map((m) => ({ label: m.getAttribute('aria-label'), left: m.style.left, tag: m.localName })),
    );
    assert.deepEqual(info, [
      { label: 'Kick-off, 0:01', left: '20%', tag: 'button' },
      { label: 'Goal, 0:03', left: '70%', tag: 'button' },
    ]);
    await page.evaluate(() => {
      window.markerSeeked = nextEvent(player, 'seeked');
    });
    await page.mouse.move(10, 10);
    await markers.nth(1).hover();
    await markers.nth(1).click();
    await page.evaluate(() => window.markerSeeked);
    const r = await withPlayer((p) => ({ t: p.currentTime, frame: p.currentFrame, code: canvasBarcode(p), clicks: markerClicks }));
    assert.equal(r.t, 3.5);
    assert.equal(r.frame, 105);
    assert.equal(r.code, 105);
    assert.deepEqual(r.clicks, ['Goal']);
    await page.waitForTimeout(300);
    await page.locator('frameseek-player').screenshot({ path: join(shots, 'player-markers.png') });
  });

  test('the Web Audio clock advances during playback and A/V drift stays under 40 ms over 5 s', async () => {
    await make('h264_aac.mp4', { controls: true });
    const r = await withPlayer(async (p) => {
      const ended = nextEvent(p, 'ended', 15000);
      await p.play();
      const ctx = p.audioContext;
      const samples = [];
      const start = performance.now();
      // Sample the audio clock, the element's drift figure and, independently, the frame
      // actually on the canvas against the audio clock's media time.
      const timer = setInterval(() => {
        samples.push({
          wall: performance.now() - start,
          audio: ctx.currentTime,
          media: p.currentTime,
          drift: p.drift,
          code: canvasBarcode(p),
        });
      }, 100);
      await ended;
      clearInterval(timer);
      return { samples, stats: p.stats, ended: p.ended, paused: p.paused, t: p.currentTime, d: p.duration, state: ctx.state, wall: performance.now() - start };
    });
    assert.equal(r.stats.clock, 'audio');
    assert.equal(r.state, 'running');
    assert.ok(r.wall > 4500 && r.wall < 6500, `5 s of media played in ${r.wall.toFixed(0)} ms`);
    const audio = r.samples.map((s) => s.audio);
    assert.ok(audio[audio.length - 1] - audio[0] > 4, 'the AudioContext clock advanced');
    assert.ok(audio.every((a, i) => i === 0 || a >= audio[i - 1]), 'the AudioContext clock never goes back');
    const maxDrift = Math.max(...r.samples.map((s) => s.drift));
    assert.ok(r.stats.maxDrift < 0.04, `element drift figure ${r.stats.maxDrift}`);
    assert.ok(maxDrift < 0.04, `sampled drift ${maxDrift}`);
    // Independent check: the frame on the canvas vs. the audio clock's media time (one frame
    // of slack for the sample landing between a clock tick and the next paint).
    const worst = Math.max(
      ...r.samples.filter((s) => s.media > 0.05 && s.media < 4.9).map((s) => Math.abs(s.media - s.code / 30) - 1 / 30),
    );
    assert.ok(worst < 0.04, `canvas frame vs audio clock: ${(worst * 1000).toFixed(1)} ms beyond one frame`);
    assert.equal(r.ended, true);
    assert.equal(r.paused, true);
    assert.equal(r.t, r.d);
  });

  test('SAR and rotation are honoured', async () => {
    await make('h264_sar.mp4');
    const sar = await withPlayer((p) => ({ w: p.videoWidth, h: p.videoHeight, cw: p.shadowRoot.querySelector('canvas').width }));
    assert.ok(Math.abs(sar.w - 427) <= 1 && sar.h === 240, `SAR 4:3 display ${sar.w}x${sar.h}`);
    await make('h264_rotated.mp4');
    const rot = await withPlayer((p) => {
      const c = p.shadowRoot.querySelector('canvas');
      // The coded picture's barcode (its top rows) runs down the right edge once rotated 90°.
      const px = c.getContext('2d').getImageData(c.width - 12, 0, 1, c.height).data;
      let white = 0;
      for (let y = 0; y < c.height; y++) if (px[y * 4 + 1] > 128) white++;
      return { w: p.videoWidth, h: p.videoHeight, cw: c.width, ch: c.height, white };
    });
    assert.deepEqual([rot.w, rot.h, rot.cw, rot.ch], [240, 320, 240, 320]);
  });

  test('the first frame of a moov-last file comes with the first request (fromStart)', async () => {
    // A slow link (250 kB/s), so that a first request cancelled at the mdat header stops
    // there instead of racing to its end over loopback.
    const id = 'from-start';
    env.server.setNetwork({ rttMs: 0, mbps: 2 });
    let r;
    try {
      r = await page.evaluate(async (url) => {
        const p = await makePlayer(url, { muted: true });
        return { frame: p.currentFrame, code: canvasBarcode(p) };
      }, env.media('h264_many_samples.mp4', { id }));
    } finally {
      env.server.setNetwork({});
    }
    const { ranges } = env.server.stats(id);
    assert.deepEqual([r.frame, r.code], [0, 0]);
    // The first request (read on through frame 0's GOP) and the moov at the end: frame 0 was
    // in the first.
    assert.deepEqual(
      ranges.slice(0, 2).map((x) => x[2]),
      ['bytes=0-1048575', 'bytes=2829468-2886917'],
    );
    assert.ok(!ranges.slice(2).some(([a]) => a < 50000), `a request for the start again: ${JSON.stringify(ranges)}`);
  });

  test('prefetch bounds what is fetched ahead of the playhead', async () => {
    // 100 s at 60 fps, GOP 2 s: play 1.5 s with prefetch 1, then with prefetch 8.
    const run = (prefetch, id) =>
      page.evaluate(
        async ({ url, prefetch }) => {
          const p = await makePlayer(url, { prefetch, muted: true });
          await p.play();
          await new Promise((r) => setTimeout(r, 1500));
          p.pause();
          await new Promise((r) => setTimeout(r, 700));
          return { t: p.currentTime, buffered: [...p.buffered], stats: p.stats };
        },
        { url: env.media('h264_many_samples.mp4', { id }), prefetch },
      );
    // A 20 Mbit/s link so that the module's first request (the header) is cut where it
    // should be instead of racing ahead over loopback.
    env.server.setNetwork({ rttMs: 5, mbps: 20 });
    let small;
    let big;
    try {
      small = await run(1, 'prefetch-1');
      big = await run(8, 'prefetch-8');
    } finally {
      env.server.setNetwork({});
    }
    const end = (b) => Math.max(...b.buffered.map((r) => r[1]));
    // Decode passes end at a sync frame: at most prefetch + one GOP (2 s) past the playhead.
    assert.ok(end(small) <= small.t + 1 + 2 + 0.1, `prefetch 1: buffered to ${end(small)} at ${small.t}`);
    assert.ok(end(big) > big.t + 6, `prefetch 8: buffered to ${end(big)} at ${big.t}`);
    assert.ok(end(big) <= big.t + 8 + 2 + 0.1, `prefetch 8: buffered to ${end(big)} at ${big.t}`);
    assert.ok(small.stats.bytesFetched < big.stats.bytesFetched, 'a smaller prefetch fetches less');
  });

  test('keyboard: space, ←/→ 5 s, , and . one frame', async () => {
    await make('h264_aac.mp4', { controls: true });
    await page.locator('frameseek-player').focus();
    const step = async (key, event) => {
      // Listen first (an evaluate still in flight can miss an event the key press fires).
      await page.evaluate((e) => {
        window.keyEvent = nextEvent(player, e);
      }, event);
      await page.keyboard.press(key);
      await page.evaluate(() => window.keyEvent);
      return withPlayer((p) => ({ t: p.currentTime, frame: p.currentFrame, code: canvasBarcode(p), paused: p.paused }));
    };
    let s = await step('ArrowRight', 'seeked');
    assert.equal(s.t, 5);
    s = await step('ArrowLeft', 'seeked');
    assert.equal(s.t, 0);
    await withPlayer(async (p) => {
      p.currentTime = 2;
      await nextEvent(p, 'seeked');
    });
    s = await step('.', 'seeked');
    assert.deepEqual([s.frame, s.code], [61, 61]);
    s = await step(',', 'seeked');
    assert.deepEqual([s.frame, s.code], [60, 60]);
    s = await step(' ', 'playing');
    assert.equal(s.paused, false);
    s = await step(' ', 'pause');
    assert.equal(s.paused, true);
    // Tab order: the seek slider, the markers, then the buttons.
    const roles = await withPlayer((p) =>
      [...p.shadowRoot.querySelectorAll('[tabindex="0"], button:not([tabindex="-1"]), input')]
        .filter((e) => !e.closest('[hidden]'))
        .map((e) => e.getAttribute('role') ?? e.getAttribute('aria-label')),
    );
    assert.deepEqual(roles, ['slider', 'Play', 'Previous frame', 'Next frame', 'Mute', 'Volume', 'Enter full screen']);
  });

  test('loop restarts at the end; without loop, ended fires and play() starts over', async () => {
    await make('h264_aac.mp4', { loop: true, muted: true });
    const looped = await withPlayer(async (p) => {
      p.currentTime = 4.6;
      await nextEvent(p, 'seeked');
      await p.play();
      await new Promise((r) => setTimeout(r, 1200));
      const r = { t: p.currentTime, paused: p.paused, ended: p.events.includes('ended') };
      p.pause();
      return r;
    });
    assert.equal(looped.paused, false);
    assert.equal(looped.ended, false);
    assert.ok(looped.t > 0.2 && looped.t < 1.5, `looped to ${looped.t}`);
    const ended = await withPlayer(async (p) => {
      p.loop = false;
      p.currentTime = 4.7;
      await nextEvent(p, 'seeked');
      const done = nextEvent(p, 'ended');
      await p.play();
      await done;
      const atEnd = { t: p.currentTime, paused: p.paused, ended: p.ended, frame: p.currentFrame, code: canvasBarcode(p) };
      await p.play();
      await new Promise((r) => setTimeout(r, 300));
      const again = { t: p.currentTime, paused: p.paused, ended: p.ended };
      p.pause();
      return { atEnd, again };
    });
    assert.deepEqual(ended.atEnd, { t: 5, paused: true, ended: true, frame: 149, code: 149 });
    assert.ok(ended.again.t < 1 && !ended.again.paused && !ended.again.ended, JSON.stringify(ended.again));
  });

  test('autoplay; currentTime and play() right after setting src apply to the new source', async () => {
    const auto = await page.evaluate(async (url) => {
      document.querySelectorAll('frameseek-player').forEach((p) => p.remove());
      const p = document.createElement('frameseek-player');
      const playing = nextEvent(p, 'playing');
      p.src = url;
      p.autoplay = true; // set after src: read once the data is there
      document.body.append(p);
      await playing;
      const r = { paused: p.paused };
      p.pause();
      return r;
    }, env.media('h264_aac.mp4'));
    assert.equal(auto.paused, false);
    const r = await page.evaluate(
      async ({ a, b }) => {
        document.querySelectorAll('frameseek-player').forEach((p) => p.remove());
        const p = document.createElement('frameseek-player');
        document.body.append(p);
        p.src = a;
        await nextEvent(p, 'loadeddata');
        p.src = b;
        p.currentTime = 2;
        await p.play();
        p.pause();
        return { src: p.currentSrc, frames: p.frameCount, t: p.currentTime };
      },
      { a: env.media('h264_aac.mp4'), b: env.media('h264_faststart.mp4') },
    );
    assert.ok(r.src.endsWith('/h264_faststart.mp4'));
    assert.equal(r.frames, 90);
    assert.ok(r.t >= 2 && r.t < 2.5, `started at ${r.t}`);
  });

  test('volume, muted and playbackRate behave like a media element', async () => {
    await make('h264_aac.mp4');
    const r = await withPlayer(async (p) => {
      const ev = [];
      for (const t of ['volumechange', 'ratechange']) p.addEventListener(t, () => ev.push(t));
      p.volume = 0.5;
      p.muted = true;
      let threw = false;
      try {
        p.volume = 2;
      } catch (e) {
        threw = e.name;
      }
      p.playbackRate = 2;
      await p.play();
      const t0 = performance.now();
      const c0 = p.currentTime;
      await new Promise((r) => setTimeout(r, 1000));
      const rate = (p.currentTime - c0) / ((performance.now() - t0) / 1000);
      p.pause();
      return { ev, threw, volume: p.volume, muted: p.muted, rate };
    });
    assert.deepEqual(r.ev, ['volumechange', 'volumechange', 'ratechange']);
    assert.equal(r.threw, 'IndexSizeError');
    assert.deepEqual([r.volume, r.muted], [0.5, true]);
    assert.ok(r.rate > 1.6 && r.rate < 2.4, `playbackRate 2 ran at ${r.rate.toFixed(2)}x`);
  });

  test('errors: a missing file fires error with a MediaError code', async () => {
    const missing = await page.evaluate(async (url) => {
      document.querySelectorAll('frameseek-player').forEach((p) => p.remove());
      const p = document.createElement('frameseek-player');
      p.src = url;
      document.body.append(p);
      await nextEvent(p, 'error');
      const shown = !p.shadowRoot.querySelector('[part="error"]').hidden;
      let rejected = null;
      await p.play().catch((e) => (rejected = e.name));
      return { code: p.error.code, fcode: p.error.frameseekCode, shown, rejected };
    }, env.media('no-such-file.mp4'));
    assert.equal(missing.code, 2);
    assert.equal(missing.fcode, 'http');
    assert.equal(missing.shown, true);
    assert.ok(missing.rejected, 'play() rejects');
  });

  test('HLS sources play and seek exactly; EXT-X-DATERANGE entries are drawn as markers', async () => {
    assert.equal(await page.evaluate(() => document.createElement('frameseek-player').canPlayType('application/vnd.apple.mpegurl')), 'maybe');
    for (const playlist of ['hls_ts/index.m3u8', 'hls_fmp4/index.m3u8']) {
      await make(playlist, { controls: true });
      const meta = await withPlayer((p) => ({ d: p.duration, n: p.frameCount, live: p.live, code: canvasBarcode(p) }));
      assert.equal(meta.d, 5, playlist);
      assert.equal(meta.n, 150, playlist);
      assert.equal(meta.live, false);
      assert.equal(meta.code, 0);
      for (const [t, k] of [
        [2.5, 75],
        [1.0, 30],
        [4.95, 148],
      ]) {
        const r = await withPlayer(async (p, t) => {
          p.currentTime = t;
          await nextEvent(p, 'seeked');
          return { frame: p.currentFrame, code: canvasBarcode(p) };
        }, t);
        assert.deepEqual(r, { frame: k, code: k }, `${playlist} seek to ${t}`);
      }
      const stepped = await withPlayer(async (p) => {
        p.currentTime = 0.9;
        await nextEvent(p, 'seeked');
        await p.stepFrame(3);
        return { frame: p.currentFrame, code: canvasBarcode(p) };
      });
      assert.deepEqual(stepped, { frame: 30, code: 30 }, `${playlist}: steps across a segment boundary`);
      const played = await withPlayer(async (p) => {
        p.currentTime = 0;
        await nextEvent(p, 'seeked');
        await p.play();
        await new Promise((r) => setTimeout(r, 1200));
        p.pause();
        return { t: p.currentTime, code: canvasBarcode(p), frame: p.currentFrame };
      });
      assert.ok(played.t > 0.6, `${playlist}: playback advanced to ${played.t}`);
      assert.equal(played.code, played.frame, `${playlist}: the frame on screen after playing`);
    }
    await page.evaluate((url) => makePlayer(url, { controls: true }).then(() => true), `${env.server.url}/pack/dated.m3u8`);
    const marks = await withPlayer((p) => ({
      source: p.sourceMarkers,
      drawn: [...p.shadowRoot.querySelectorAll('[part="marker"]')].map((m) => m.getAttribute('aria-label')),
    }));
    assert.deepEqual(
      marks.source.map((m) => [m.id, m.time, m.label]),
      [
        ['car', 1, 'car'],
        ['door', 2.5, 'door opened'],
      ],
    );
    assert.deepEqual(marks.drawn, ['car, 0:01', 'door opened, 0:02']);
  });

  test('media-chrome <media-controller> drives the element', async () => {
    const r = await page.evaluate(
      async ({ url, mc }) => {
        await new Promise((resolve, reject) => {
          const s = document.createElement('script');
          s.src = mc;
          s.onload = resolve;
          s.onerror = reject;
          document.head.append(s);
        });
        document.querySelectorAll('frameseek-player, media-controller').forEach((p) => p.remove());
        const c = document.createElement('media-controller');
        c.style.width = '640px';
        c.innerHTML = `<frameseek-player slot="media" src="${url}"></frameseek-player>
          <media-control-bar><media-play-button></media-play-button><media-time-range></media-time-range>
          <media-time-display showduration></media-time-display><media-mute-button></media-mute-button></media-control-bar>`;
        const p = c.querySelector('frameseek-player');
        const loaded = nextEvent(p, 'loadeddata');
        document.body.append(c);
        await loaded;
        await new Promise((r) => setTimeout(r, 300));
        const before = { duration: c.getAttribute('mediaduration'), paused: c.hasAttribute('mediapaused') };
        const playing = nextEvent(p, 'playing');
        c.querySelector('media-play-button').click();
        await playing;
        await new Promise((r) => setTimeout(r, 1200));
        const during = { t: p.currentTime, ct: Number(c.getAttribute('mediacurrenttime')), paused: c.hasAttribute('mediapaused') };
        const paused = nextEvent(p, 'pause');
        c.querySelector('media-play-button').click();
        await paused;
        // A seek request from media-chrome (what its time range sends).
        const seeked = nextEvent(p, 'seeked');
        c.dispatchEvent(new CustomEvent('mediaseekrequest', { detail: 2.5, bubbles: true, composed: true }));
        await seeked;
        await new Promise((r) => setTimeout(r, 100));
        return {
          before,
          during,
          afterPause: c.hasAttribute('mediapaused'),
          seek: { t: p.currentTime, code: canvasBarcode(p), ct: Number(c.getAttribute('mediacurrenttime')) },
        };
      },
      { url: env.media('h264_aac.mp4'), mc: `${env.server.url}/dist/demo/media-chrome.js` },
    );
    assert.equal(r.before.duration, '5');
    assert.equal(r.before.paused, true);
    assert.ok(r.during.t > 0.6, `played to ${r.during.t}`);
    assert.equal(r.during.paused, false);
    assert.ok(Math.abs(r.during.ct - r.during.t) < 0.5, 'media-controller follows currentTime');
    assert.equal(r.afterPause, true);
    assert.deepEqual([r.seek.t, r.seek.code], [2.5, 75]);
    await page.locator('media-controller').screenshot({ path: join(shots, 'player-media-chrome.png') });
  });

  test('hover thumbnails come from a WebVTT thumbnails track when there is one', async (t) => {
    if (!existsSync(join(packDir, 'out', 'thumbnails.vtt'))) {
      t.skip('target/release/frameseek is missing (scripts/build)');
      return;
    }
    await page.evaluate(async () => {
      document.querySelectorAll('frameseek-player, media-controller').forEach((p) => p.remove());
      const p = document.createElement('frameseek-player');
      p.controls = true;
      p.innerHTML = '<track kind="metadata" label="thumbnails" src="/pack/thumbnails.vtt">';
      const loaded = nextEvent(p, 'loadeddata');
      p.src = '/pack/video.mp4';
      document.body.append(p);
      await loaded;
      window.player = p;
    });
    const tl = await page.locator('frameseek-player .timeline').boundingBox();
    await page.mouse.move(tl.x + 5, tl.y + tl.height / 2);
    await page.mouse.move(tl.x + tl.width * 0.7, tl.y + tl.height / 2);
    await page.waitForFunction(() => player.shadowRoot.querySelector('.preview-image').style.backgroundImage.includes('sprite.jpg'));
    const r = await withPlayer((p) => {
      const box = p.shadowRoot.querySelector('.preview-image');
      return { pos: box.style.backgroundPosition, w: box.style.width, h: box.style.height, text: p.shadowRoot.querySelector('.preview-text').textContent };
    });
    assert.deepEqual(r, { pos: '-480px 0px', w: '160px', h: '120px', text: '0:03' });
    // The packed fMP4 plays exactly too.
    await withPlayer(async (p) => {
      p.currentTime = 2.5;
      await nextEvent(p, 'seeked');
    });
    assert.equal(await withPlayer((p) => canvasBarcode(p)), 75);
  });

  test('screenshot: controls with buffered range, markers and a hover thumbnail', async () => {
    await page.evaluate(() => document.querySelectorAll('media-controller').forEach((p) => p.remove()));
    await make('h264_aac.mp4', { controls: true });
    await withPlayer(async (p) => {
      p.markers = [
        { time: 1.2, label: 'Serve' },
        { time: 2.8, label: 'Rally' },
        { time: 4.1, label: 'Point' },
      ];
      p.currentTime = 2;
      await nextEvent(p, 'seeked');
    });
    const box = await page.locator('frameseek-player').boundingBox();
    const tl = await page.locator('frameseek-player .timeline').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.move(tl.x + tl.width * 0.66, tl.y + tl.height / 2);
    await page.waitForFunction(() => {
      const c = player.shadowRoot.querySelector('.preview-image canvas');
      return c && c.width > 0;
    });
    const preview = await withPlayer((p) => !p.shadowRoot.querySelector('.preview').hidden);
    assert.equal(preview, true, 'hover shows the preview');
    await page.locator('frameseek-player').screenshot({ path: join(shots, 'player-controls.png') });
    assert.deepEqual(
      env.errors.map(String).filter((e) => !/request failed|no-such-file/.test(e)),
      [],
      'no page errors',
    );
  });
});
