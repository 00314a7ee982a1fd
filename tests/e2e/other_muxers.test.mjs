// Files from other makers than ffmpeg, in headless Chromium: MP4, QuickTime and fragmented
// MP4 written by mediabunny's muxer (remuxing the barcode fixtures, so B-frames, edit lists,
// open GOPs and AAC carry over), streams encoded by Chromium's own WebCodecs encoders (OpenH264,
// libvpx VP8/VP9, libaom AV1; some with temporal layers) and muxed by mediabunny in the page,
// HLS packaged by mediabunny (MPEG-TS, CMAF, and one file per playlist with EXT-X-BYTERANGE),
// fragmented MP4 recorded by Chromium's MediaRecorder (H.264, VP9), and files and HLS made by
// GStreamer's muxers and encoders (qtmux/mp4mux in their layouts, x264 with open GOPs, slices and
// MBAFF interlacing, OpenH264, libvpx, libaom, hlssink2). For each, frames() yields every
// barcode in order, frameAt(k) carries barcode k, and the frame count is the stream's; where an
// encoder may drop frames or a file starts later in the fixture, ffmpeg's decode of the same
// file is the reference.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fixtures, manifest, rng, root, setup } from './browser.mjs';

const require = createRequire(join(root, 'web', 'package.json'));
const mb = require('mediabunny');

/** mediabunny's MP4-family outputs: moov last, moov first, fragmented, QuickTime. */
const MUXES = {
  moov_last: { ext: 'mp4', format: () => new mb.Mp4OutputFormat({ fastStart: false }) },
  moov_first: { ext: 'mp4', format: () => new mb.Mp4OutputFormat({ fastStart: 'in-memory' }) },
  fragmented: { ext: 'mp4', format: () => new mb.Mp4OutputFormat({ fastStart: 'fragmented' }) },
  quicktime: { ext: 'mov', format: () => new mb.MovOutputFormat({ fastStart: false }) },
};
/** Barcode fixtures remuxed by each of MUXES. */
const REMUXED = ['h264_bframes_editlist.mp4', 'h264_open_gop.mp4', 'h264_aac.mp4', 'vp9.mp4'];
/** mediabunny's HLS outputs (of h264_aac.mp4: video and AAC). */
const HLS = {
  ts: { segmentFormat: () => new mb.MpegTsOutputFormat() },
  cmaf: { segmentFormat: () => new mb.CmafOutputFormat() },
  ts_single: { segmentFormat: () => new mb.MpegTsOutputFormat(), singleFilePerPlaylist: true },
  cmaf_single: { segmentFormat: () => new mb.CmafOutputFormat(), singleFilePerPlaylist: true },
};
/** Chromium's encoders: [name, codec string, extra config, mediabunny codec, fastStart]. */
const ENCODED = [
  ['openh264', 'avc1.42001f', {}, 'avc', 'in-memory'],
  ['openh264_l1t2', 'avc1.42001f', { scalabilityMode: 'L1T2' }, 'avc', 'fragmented'],
  ['vp8', 'vp8', {}, 'vp8', false],
  ['vp9_l1t3', 'vp09.00.10.08', { scalabilityMode: 'L1T3' }, 'vp9', 'in-memory'],
  ['av1', 'av01.0.04M.08', {}, 'av1', false],
];
const ENCODED_FRAMES = 75;
/** MediaRecorder's MP4 types. */
const RECORDED = [
  ['h264', 'video/mp4;codecs=avc1'],
  ['vp9', 'video/mp4;codecs=vp9'],
];

/**
 * GStreamer pipelines for gst-launch-1.0: [name, output, pipeline]. In the pipeline, `{FIX}`
 * is the fixtures folder, `{DIR}` the output folder, `{OUT}` the output. Words are split at
 * spaces.
 */
/** h264_aac.mp4's pictures decoded by GStreamer, for its encoders. */
const GST_DEC = 'filesrc location={FIX}/h264_aac.mp4 ! qtdemux ! h264parse ! avdec_h264 ! videoconvert';
/** h264_bframes_editlist.mp4's H.264 (B-frames, an edit list), for remuxing. */
const GST_BFRAMES = 'filesrc location={FIX}/h264_bframes_editlist.mp4 ! qtdemux ! h264parse';
/**
 * h264_aac.mp4's AAC into `pad` of the element named m, then its video on. The audio queue is
 * unbounded: x264enc holds about a second of video (lookahead, B-frames), and a full audio
 * queue would stop qtdemux while the muxer waits for that video (the hlssink2 pipeline hung
 * past its time limit now and then under load).
 */
const gstAv = (pad = 'm.') => `filesrc location={FIX}/h264_aac.mp4 ! qtdemux name=d d.audio_0 ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! aacparse ! queue ! ${pad} d.video_0 ! queue`;
const GST = [
  ['qtmux, moov last', 'qtmux.mov', `${GST_BFRAMES} ! qtmux ! filesink location={OUT}`],
  ['mp4mux faststart', 'faststart.mp4', `${GST_BFRAMES} ! mp4mux faststart=true ! filesink location={OUT}`],
  ['mp4mux robust muxing (moov first, reserved)', 'robust.mp4', `${GST_BFRAMES} ! mp4mux reserved-max-duration=60000000000 reserved-moov-update-period=1000000000 ! filesink location={OUT}`],
  ['qtmux first moov, then finalised', 'first_moov.mov', `${GST_BFRAMES} ! qtmux fragment-duration=1000 fragment-mode=first-moov-then-finalise ! filesink location={OUT}`],
  ['mp4mux fragmented, with AAC', 'fragmented.mp4', `${gstAv()} ! h264parse ! queue ! mp4mux name=m fragment-duration=500 ! filesink location={OUT}`],
  ['ismlmux', 'smooth.ismv', `${GST_BFRAMES} ! ismlmux fragment-duration=1000 ! filesink location={OUT}`],
  ['3gppmux', 'mobile.3gp', `${GST_BFRAMES} ! 3gppmux ! filesink location={OUT}`],
  ['qtmux, 1 kHz track timescale', 'timescale.mov', `${GST_DEC} ! x264enc bframes=2 key-int-max=30 ! h264parse ! qtmux trak-timescale=1000 movie-timescale=600 ! filesink location={OUT}`],
  ['x264enc adaptive B-frames, with AAC', 'x264_b.mp4', `${gstAv()} ! h264parse ! avdec_h264 ! videoconvert ! x264enc bframes=3 b-adapt=true key-int-max=45 ! h264parse ! queue ! mp4mux name=m ! filesink location={OUT}`],
  ['x264enc open GOP, 4 slices, 6 references, B-pyramid', 'x264_open.mp4', `${GST_DEC} ! x264enc bframes=2 key-int-max=30 option-string=open-gop=1:slices=4:ref=6:b-pyramid=strict:weightb=1 ! h264parse ! mp4mux ! filesink location={OUT}`],
  ['x264enc interlaced (MBAFF)', 'x264_mbaff.mp4', `${GST_DEC} ! x264enc interlaced=true bframes=2 key-int-max=30 ! h264parse ! mp4mux ! filesink location={OUT}`],
  ['x264enc, avc3 (parameter sets in band)', 'x264_avc3.mp4', `${GST_DEC} ! x264enc bframes=2 key-int-max=30 ! h264parse ! video/x-h264,stream-format=avc3 ! mp4mux ! filesink location={OUT}`],
  ['openh264enc', 'openh264.mp4', `${GST_DEC} ! openh264enc gop-size=30 ! h264parse ! mp4mux ! filesink location={OUT}`],
  ['vp8enc in QuickTime', 'vp8.mov', `${GST_DEC} ! vp8enc deadline=1 keyframe-max-dist=30 ! qtmux ! filesink location={OUT}`],
  // GStreamer 1.22's mp4mux writes an av1C of zero bytes; the sequence header is in band.
  ['av1enc (av1C without a record)', 'av1.mp4', `${GST_DEC} ! av1enc cpu-used=8 keyframe-max-dist=30 ! av1parse ! mp4mux ! filesink location={OUT}`],
  // splitmuxsink's second file: frames 60-119 of the fixture, starting at its own zero.
  ['splitmuxsink, second file', 'split01.mp4', `${GST_DEC} ! x264enc bframes=2 key-int-max=30 ! h264parse ! splitmuxsink location={DIR}/split%02d.mp4 max-size-time=2000000000`],
  ['hlssink2 HLS (MPEG-TS, with AAC)', 'hls/playlist.m3u8', `${gstAv('m.audio')} ! h264parse ! avdec_h264 ! videoconvert ! x264enc bframes=2 key-int-max=30 ! h264parse ! queue ! hlssink2 name=m target-duration=1 playlist-location={OUT} location={DIR}/hls/segment%05d.ts max-files=0 playlist-length=0`],
];

let env;
let dir;
const frameCounts = new Map(manifest().map((f) => [f.file, f.frames]));

async function remux(src, format, target) {
  const input = new mb.Input({ source: new mb.FilePathSource(src), formats: mb.ALL_FORMATS });
  const output = new mb.Output({ format, target });
  const conversion = await mb.Conversion.init({ input, output });
  assert.ok(conversion.isValid, `mediabunny cannot remux ${src}`);
  await conversion.execute();
}

/** In the page: every frame through frames(), then frameAt at `picks` (clamped to the count). */
async function readAll(url, picks) {
  return env.page.evaluate(
    async ({ url, picks }) => {
      const v = await frameseek.open(url);
      const n = v.info.frameCount;
      const all = [];
      for await (const f of v.frames({ raw: true })) {
        all.push(await barcode(f));
        f.close();
      }
      const ks = picks.map((k) => (k < 0 ? n + k : k)).filter((k) => k >= 0 && k < n);
      const codes = [];
      for (const k of ks) {
        const f = await v.frameAt(k, { raw: true });
        codes.push(await barcode(f));
        f.close();
      }
      const out = { n, all, ks, codes, range: v.frameRange(), codec: v.info.codec };
      v.close();
      return out;
    },
    { url, picks },
  );
}

/** The barcodes of every frame of `path` as ffmpeg decodes it (scripts/barcode.py). */
function ffmpegBarcodes(path) {
  const ref = spawnSync('python3', [join(root, 'scripts', 'barcode.py'), path], { encoding: 'utf8' });
  assert.equal(ref.status, 0, `barcode.py: ${ref.stderr}`);
  return ref.stdout.trim().split('\n').map(Number);
}

function picks(seed, n) {
  const next = rng(seed);
  const ks = [-1, 0, 1, 29, 30, 31, 59, 60];
  for (let i = 0; i < 4; i++) ks.push(Math.floor(next() * n));
  return ks;
}

function assertExact(got, n) {
  assert.equal(got.n, n, 'frame count');
  assert.deepEqual(got.all, [...Array(n).keys()], 'frames() barcodes');
  assert.deepEqual(got.codes, got.ks, `frameAt barcodes of ${got.ks}`);
}

describe('files from other muxers and encoders', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frameseek-other-muxers-'));
    for (const file of REMUXED) {
      for (const [name, m] of Object.entries(MUXES)) {
        const out = join(dir, `${file.replace('.mp4', '')}.${name}.${m.ext}`);
        await remux(join(fixtures, file), m.format(), new mb.FilePathTarget(out));
      }
    }
    for (const [name, h] of Object.entries(HLS)) {
      const base = join(dir, `hls_${name}`);
      const target = new mb.PathedTarget('master.m3u8', (req) => {
        const path = join(base, req.path);
        mkdirSync(dirname(path), { recursive: true });
        return new mb.FilePathTarget(path);
      });
      const format = new mb.HlsOutputFormat({
        segmentFormat: h.segmentFormat(),
        targetDuration: 1,
        singleFilePerPlaylist: h.singleFilePerPlaylist ?? false,
      });
      await remux(join(fixtures, 'h264_aac.mp4'), format, target);
    }
    for (const [name, out, pipeline] of GST) {
      mkdirSync(dirname(join(dir, out)), { recursive: true });
      const words = pipeline
        .replaceAll('{FIX}', fixtures)
        .replaceAll('{DIR}', dir)
        .replaceAll('{OUT}', join(dir, out))
        .split(' ');
      // Debian's GStreamer 1.22 splitmuxsink hangs now and then at the end of the stream (7
      // of 120 runs here, each after EOS had reached the bus): a run that times out is tried
      // again, up to three times. A pipeline takes a few seconds when it does not hang.
      let run;
      for (let attempt = 0; attempt < 3; attempt++) {
        run = spawnSync('gst-launch-1.0', ['-q', ...words], { encoding: 'utf8', timeout: 45000 });
        if (run.error?.code !== 'ETIMEDOUT') break;
      }
      assert.equal(run.status, 0, `GStreamer (${name}; scripts/setup installs it): ${run.error ?? ''}${run.stdout}${run.stderr}`);
    }
    env = await setup({ mediaDir: dir });
  });
  after(async () => {
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const file of REMUXED) {
    for (const [name, m] of Object.entries(MUXES)) {
      const out = `${file.replace('.mp4', '')}.${name}.${m.ext}`;
      test(`mediabunny ${name}: ${file}`, async () => {
        const n = frameCounts.get(file);
        assertExact(await readAll(env.media(out), picks(n, n)), n);
      });
    }
  }

  for (const name of Object.keys(HLS)) {
    test(`mediabunny HLS ${name}: master and media playlist`, async () => {
      const n = frameCounts.get('h264_aac.mp4');
      for (const playlist of ['master.m3u8', 'playlist-1.m3u8']) {
        const got = await readAll(env.media(`hls_${name}/${playlist}`), picks(n + 1, n));
        assertExact(got, n);
        assert.deepEqual(got.range, { start: 0, end: n });
      }
    });
  }

  for (const [name, codec, extra, mbCodec, fastStart] of ENCODED) {
    test(`Chromium's ${name} encoder, muxed by mediabunny`, async (t) => {
      const made = await env.page.evaluate(
        async ({ codec, extra, mbCodec, fastStart, n }) => {
          const mb = await import('/mb/bundles/mediabunny.mjs');
          const W = 320;
          const H = 240;
          const config = { codec, width: W, height: H, bitrate: 600_000, framerate: 30, ...extra };
          if (codec.startsWith('avc')) config.avc = { format: 'avc' };
          if (!(await VideoEncoder.isConfigSupported(config)).supported) return { unsupported: true };
          const target = new mb.BufferTarget();
          const output = new mb.Output({ format: new mb.Mp4OutputFormat({ fastStart }), target });
          const source = new mb.EncodedVideoPacketSource(mbCodec);
          output.addVideoTrack(source, { frameRate: 30 });
          await output.start();
          const packets = [];
          let failure = null;
          const encoder = new VideoEncoder({
            output: (chunk, meta) => packets.push([mb.EncodedPacket.fromEncodedChunk(chunk), meta]),
            error: (e) => {
              failure = e;
            },
          });
          encoder.configure(config);
          // A moving picture under the DESIGN.md barcode (rows 0-23, bit k at x 20k..20k+20).
          const canvas = new OffscreenCanvas(W, H);
          const g = canvas.getContext('2d');
          for (let i = 0; i < n; i++) {
            g.fillStyle = `hsl(${(i * 7) % 360} 60% 50%)`;
            g.fillRect(0, 0, W, H);
            g.fillStyle = '#fff';
            g.fillRect((i * 4) % W, 60 + (i % 50), 40, 40);
            for (let b = 0; b < 16; b++) {
              g.fillStyle = (i >> b) & 1 ? '#fff' : '#000';
              g.fillRect(20 * b, 0, 20, 24);
            }
            const frame = new VideoFrame(canvas, { timestamp: Math.round((i * 1e6) / 30), duration: Math.round(1e6 / 30) });
            encoder.encode(frame, { keyFrame: i % 30 === 0 });
            frame.close();
          }
          await encoder.flush();
          encoder.close();
          if (failure) throw failure;
          for (const [packet, meta] of packets) await source.add(packet, meta);
          await output.finalize();
          return { bytes: Array.from(new Uint8Array(target.buffer)) };
        },
        { codec, extra, mbCodec, fastStart, n: ENCODED_FRAMES },
      );
      if (made.unsupported) {
        t.skip(`this Chromium cannot encode ${codec}`);
        return;
      }
      const file = `encoded_${name}.mp4`;
      writeFileSync(join(dir, file), Buffer.from(made.bytes));
      const got = await readAll(env.media(file), picks(7, ENCODED_FRAMES));
      assertExact(got, ENCODED_FRAMES);
    });
  }

  for (const [name, out] of GST) {
    test(`GStreamer ${name}`, async () => {
      const want = ffmpegBarcodes(join(dir, out));
      // From the end as ffmpeg counts (a playlist's count at open() is an estimate).
      const ks = picks(11, want.length).map((k) => (k < 0 ? want.length + k : k));
      const got = await readAll(env.media(out), ks);
      assert.deepEqual(got.all, want, 'frames() against ffmpeg');
      assert.deepEqual(got.codes, got.ks.map((k) => want[k]), `frameAt(${got.ks}) against ffmpeg`);
      if (out.endsWith('.m3u8')) {
        // hlssink2's last EXTINF leaves out its last frame's duration: the count read at open()
        // is the playlist's estimate, the frame range after reading the last segment is exact.
        assert.ok(Math.abs(got.n - want.length) <= 1, `frame count ${got.n}, ffmpeg ${want.length}`);
        assert.deepEqual(got.range, { start: 0, end: want.length });
      } else {
        assert.equal(got.n, want.length, 'frame count');
      }
    });
  }

  for (const [name, type] of RECORDED) {
    test(`Chromium's MediaRecorder, ${type}`, async (t) => {
      const made = await env.page.evaluate(async (type) => {
        if (!MediaRecorder.isTypeSupported(type)) return { unsupported: true };
        const canvas = document.createElement('canvas');
        canvas.width = 320;
        canvas.height = 240;
        const g = canvas.getContext('2d');
        const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: type, videoBitsPerSecond: 800_000 });
        const chunks = [];
        recorder.ondataavailable = (e) => chunks.push(e.data);
        recorder.start(500); // a fragment every half second
        for (let i = 0; i < 60; i++) {
          g.fillStyle = `hsl(${(i * 7) % 360} 60% 50%)`;
          g.fillRect(0, 0, 320, 240);
          for (let b = 0; b < 16; b++) {
            g.fillStyle = (i >> b) & 1 ? '#fff' : '#000';
            g.fillRect(20 * b, 0, 20, 24);
          }
          await new Promise((resolve) => setTimeout(resolve, 33));
        }
        await new Promise((resolve) => {
          recorder.onstop = resolve;
          recorder.stop();
        });
        return { bytes: Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer())) };
      }, type);
      if (made.unsupported) {
        t.skip(`this Chromium cannot record ${type}`);
        return;
      }
      const file = `recorded_${name}.mp4`;
      writeFileSync(join(dir, file), Buffer.from(made.bytes));
      const want = ffmpegBarcodes(join(dir, file));
      assert.ok(want.length > 30, `ffmpeg decoded ${want.length} frames`);
      const got = await readAll(env.media(file), picks(9, want.length));
      assert.equal(got.n, want.length, 'frame count');
      assert.deepEqual(got.all, want, 'frames() against ffmpeg');
      assert.deepEqual(got.codes, got.ks.map((k) => want[k]), `frameAt(${got.ks}) against ffmpeg`);
    });
  }
});
