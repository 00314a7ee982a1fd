// AES-128 HLS (RFC 8216 §4.3.2.4, §5.2) through the browser module in headless Chromium:
// ffmpeg's own encrypted HLS (its key info file, an explicit IV), the MPEG-TS and fMP4 fixture
// playlists with their segments encrypted here by Node's crypto under a key without an IV (the
// media sequence number is the IV; the fMP4 initialization section stays clear), a playlist
// that turns encryption off with METHOD=NONE midway, and the errors: a wrong key, a key that
// is not 16 bytes, SAMPLE-AES. Every frame read carries its own barcode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, setup } from './browser.mjs';

const FRAMES = 150; // the HLS fixtures: 5 s at 30 fps, 1 s segments
const KEY = randomBytes(16);
let env;
let dir;

/** The media sequence number as an AES-128 IV (RFC 8216 §5.2). */
function sequenceIv(n) {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(n), 8);
  return iv;
}

function encrypt(data, iv) {
  const c = createCipheriv('aes-128-cbc', KEY, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/**
 * Writes `out/` from the fixture playlist `name`: MEDIA-SEQUENCE `sequence`, its segments
 * encrypted from `from` on (by sequence-number IVs, under `#EXT-X-KEY` `key`), METHOD=NONE and
 * clear segments from `until` on; the EXT-X-MAP stays before the key, clear.
 */
function encryptedCopy(name, out, { sequence, key, from = 0, until = Infinity }) {
  mkdirSync(join(dir, out), { recursive: true });
  const lines = readFileSync(join(fixtures, name, 'index.m3u8'), 'utf8').trim().split('\n');
  const playlist = [];
  let segment = 0;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE')) {
      playlist.push(`#EXT-X-MEDIA-SEQUENCE:${sequence}`);
      continue;
    }
    if (line.startsWith('#EXT-X-MAP')) {
      const uri = line.match(/URI="([^"]+)"/)[1];
      writeFileSync(join(dir, out, uri), readFileSync(join(fixtures, name, uri)));
    }
    if (line.startsWith('#EXTINF') && segment === from) playlist.push(key);
    if (line.startsWith('#EXTINF') && segment === until) playlist.push('#EXT-X-KEY:METHOD=NONE');
    playlist.push(line);
    if (!line.startsWith('#') && line.trim()) {
      const data = readFileSync(join(fixtures, name, line));
      const clear = segment < from || segment >= until;
      writeFileSync(join(dir, out, line), clear ? data : encrypt(data, sequenceIv(sequence + segment)));
      segment += 1;
    }
  }
  writeFileSync(join(dir, out, 'index.m3u8'), playlist.join('\n') + '\n');
}

/** Every frame through frames(), frameAt at `ks`; or the error. */
async function readAll(url, ks) {
  return env.page.evaluate(
    async ({ url, ks }) => {
      try {
        const v = await frameseek.open(url);
        const all = [];
        for await (const f of v.frames()) {
          all.push(await barcode(f));
          f.close();
        }
        const codes = [];
        for (const k of ks) {
          const f = await v.frameAt(k);
          codes.push(await barcode(f));
          f.close();
        }
        const out = { all, codes, n: v.info.frameCount, requests: v.stats.requests };
        v.close();
        return out;
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    },
    { url, ks },
  );
}

const everyFrame = [...Array(FRAMES).keys()];
const picks = [0, 29, 30, 31, 75, 119, 120, 149];

describe('browser module: AES-128 HLS', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frameseek-hls-aes-'));
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'k.bin'), KEY);
    // A wrong key whose plaintext of the first segment fails the padding check (1 in 256
    // wrong keys would pass it by chance and fail later, in the demuxer).
    const first = encrypt(readFileSync(join(fixtures, 'hls_ts', 'seg_000.ts')), sequenceIv(0));
    let wrong;
    for (;;) {
      wrong = randomBytes(16);
      const d = createDecipheriv('aes-128-cbc', wrong, sequenceIv(0));
      try {
        d.update(first);
        d.final();
      } catch {
        break;
      }
    }
    writeFileSync(join(dir, 'keys', 'wrong.bin'), wrong);
    writeFileSync(join(dir, 'keys', 'short.bin'), KEY.subarray(0, 8));
    // ffmpeg's writer: key URI, key file, IV.
    mkdirSync(join(dir, 'ffmpeg'));
    const info = join(dir, 'keyinfo');
    writeFileSync(info, `../keys/k.bin\n${join(dir, 'keys', 'k.bin')}\n000102030405060708090a0b0c0d0e0f\n`);
    const ff = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-i', join(fixtures, 'h264_aac.mp4'), '-c', 'copy', '-hls_time', '1', '-hls_playlist_type', 'vod',
        '-hls_key_info_file', info, '-hls_segment_filename', join(dir, 'ffmpeg', 's%d.ts'), join(dir, 'ffmpeg', 'index.m3u8')],
      { encoding: 'utf8' },
    );
    assert.equal(ff.status, 0, `ffmpeg: ${ff.stderr}`);
    const key = (uri) => `#EXT-X-KEY:METHOD=AES-128,URI="${uri}"`;
    encryptedCopy('hls_ts', 'ts', { sequence: 5, key: key('../keys/k.bin') });
    encryptedCopy('hls_fmp4', 'fmp4', { sequence: 3, key: key('../keys/k.bin') });
    encryptedCopy('hls_ts', 'mixed', { sequence: 0, key: key('../keys/k.bin'), from: 1, until: 3 });
    encryptedCopy('hls_ts', 'wrong', { sequence: 0, key: key('../keys/wrong.bin') });
    encryptedCopy('hls_ts', 'short', { sequence: 0, key: key('../keys/short.bin') });
    encryptedCopy('hls_ts', 'sample_aes', {
      sequence: 0,
      key: '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key",KEYFORMAT="com.apple.streamingkeydelivery"',
    });
    env = await setup({ mediaDir: dir });
  });
  after(async () => {
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, what] of [
    ['ffmpeg', "ffmpeg's encrypted MPEG-TS (IV given)"],
    ['ts', 'MPEG-TS, IV from the media sequence number'],
    ['fmp4', 'fMP4, IV from the media sequence number, clear initialization section'],
    ['mixed', 'clear, encrypted, then METHOD=NONE'],
  ]) {
    test(`${what}: every frame exact`, async () => {
      const got = await readAll(env.media(`${name}/index.m3u8`), picks);
      assert.equal(got.message, undefined, `${got.code}: ${got.message}`);
      assert.equal(got.n, FRAMES);
      assert.deepEqual(got.all, everyFrame);
      assert.deepEqual(got.codes, picks);
    });
  }

  test('the key is fetched once', async () => {
    const got = await readAll(env.media('ts/index.m3u8'), []);
    assert.deepEqual(got.all, everyFrame);
    assert.equal(got.requests, 7, 'the playlist, the key and 5 segments');
  });

  test('a wrong key, a key that is not 16 bytes and SAMPLE-AES reject clearly', async () => {
    const wrong = await readAll(env.media('wrong/index.m3u8'), [0]);
    assert.equal(wrong.code, 'invalid');
    assert.match(wrong.message, /seg_000\.ts: .*padding does not check.*wrong key or IV/);
    const short = await readAll(env.media('short/index.m3u8'), [0]);
    assert.equal(short.code, 'invalid');
    assert.match(short.message, /short\.bin has 8 bytes, not 16/);
    const sample = await readAll(env.media('sample_aes/index.m3u8'), [0]);
    assert.equal(sample.code, 'unsupported');
    assert.match(sample.message, /SAMPLE-AES \(com\.apple\.streamingkeydelivery\).*only AES-128/);
  });
});
