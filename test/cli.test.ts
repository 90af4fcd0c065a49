/**
 * The CLI end to end: a batch mixing a good photo with every kind of bad input writes the good one's files,
 * names each bad file in one line, and exits 1; usage errors exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { main, EXIT } from '../src/cli/main.ts';

const root = resolve(import.meta.dirname, '..');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), isTTY: false }, out, err };
}

/** A valid-looking PNG header claiming 30000×30000 pixels, with a tiny compressed body (a decompression bomb). */
function pngBomb(): Buffer {
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc = (b: Buffer) => {
    let c = -1;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30000, 0);
  ihdr.writeUInt32BE(30000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + 30000 * 3);
  const idat = deflateSync(Buffer.concat(Array.from({ length: 64 }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

test('help and usage errors', async () => {
  let c = capture();
  assert.equal(await main(['--help'], c.io), EXIT.OK);
  assert.match(c.out.join(''), /Usage: voxface/);
  assert.match(c.out.join(''), /Exit codes/);
  c = capture();
  assert.equal(await main(['--no-such-flag', 'x.jpg'], c.io), EXIT.USAGE);
  assert.match(c.err.join(''), /voxface: .*no-such-flag/);
  c = capture();
  assert.equal(await main(['a.jpg', '--box', '1,2,3'], c.io), EXIT.USAGE);
  assert.match(c.err.join(''), /--box needs x,y,w,h/);
  c = capture();
  assert.equal(await main(['a.jpg', '--format', 'glb,fbx'], c.io), EXIT.USAGE);
  assert.match(c.err.join(''), /unknown format "fbx"/);
  c = capture();
  assert.equal(await main([], c.io), EXIT.USAGE);
});

test('a batch with bad inputs still writes the good photo and exits 1', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-cli-'));
  const out = join(dir, 'out');
  try {
    const good = join(root, 'examples', 'face.jpg');
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'this is not an image\n');
    const empty = join(dir, 'empty.png');
    writeFileSync(empty, '');
    const jpeg = readFileSync(good);
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, jpeg.subarray(0, Math.floor(jpeg.length / 3)));
    const bomb = join(dir, 'bomb.png');
    writeFileSync(bomb, pngBomb());
    const noise = join(dir, 'noise.png');
    const px = Buffer.alloc(256 * 256 * 3);
    let s = 12345;
    for (let i = 0; i < px.length; i++) px[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 23;
    await sharp(px, { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(noise);
    const missing = join(dir, 'missing.jpg');

    const c = capture();
    const code = await main([text, empty, truncated, good, bomb, noise, missing, '-o', out, '--format', 'glb,json,ply'], c.io);
    const err = c.err.join('');
    assert.equal(code, EXIT.FAILED, err);
    // the good photo's files are written
    for (const f of ['face.json', 'face.glb', 'face.ply']) assert.ok(existsSync(join(out, f)), `${f} missing; stderr: ${err}`);
    const json = JSON.parse(readFileSync(join(out, 'face.json'), 'utf8'));
    assert.deepEqual(json.image, { width: 512, height: 512 });
    assert.ok(json.faces.length >= 1);
    assert.equal(json.faces[0].landmarks68.length, 68);
    // each bad input: exactly one line naming it, no stack trace (the plain progress lines aside: stderr is no terminal)
    const lines = err.trim().split('\n').filter((l) => !/^voxface: (\[\d+\/\d+\] |\d+\/\d+ photos)/.test(l));
    for (const [file, why] of [
      [text, /not an image/],
      [empty, /empty|not an image|0 bytes/i],
      [truncated, /truncated/i],
      [bomb, /too large|pixels/i],
      [noise, /no face/i],
      [missing, /no such file/],
    ] as const) {
      const line = lines.find((l) => l.includes(file));
      assert.ok(line, `no error line for ${file}: ${err}`);
      assert.match(line!, why);
    }
    assert.equal(lines.length, 6, err);
    assert.ok(!/\n\s+at /.test(err), 'stack trace printed');
    for (const f of ['notes.json', 'empty.json', 'truncated.json', 'bomb.json', 'noise.json']) assert.ok(!existsSync(join(out, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bin script runs the CLI and --box skips detection', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-cli-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/voxface.ts', 'examples/face.jpg', '--box', '150,120,220,260', '-o', dir, '--format', 'json', '--quiet'],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    const json = JSON.parse(readFileSync(join(dir, 'face.json'), 'utf8'));
    assert.equal(json.faces.length, 1);
    assert.equal(json.faces[0].detector, 'user');
    assert.deepEqual(json.faces[0].box, [150, 120, 220, 260]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
