/**
 * The plain CLI's output names (as `voxface batch` gives them): a folder's subfolders are kept in the output
 * (a/face.jpg and b/face.jpg → out/a/face.glb and out/b/face.glb); a name already taken by an earlier input
 * (photo.avif and photo.webp, or two files given by themselves with the same base name) fails the later input with
 * one line naming both, exit 1, and the other photos are still written; nothing is overwritten. Inputs that cannot
 * run (missing, a pixel bomb) are refused before the output folder is made or the model loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { EXIT, main } from '../src/cli/main.ts';
import { checkImageFile } from '../src/batch/plan.ts';

const root = resolve(import.meta.dirname, '..');
const FACE = join(root, 'examples', 'face.jpg');
const noModel = existsSync(join(root, 'models', 'vrn-compact.onnx')) ? false : 'needs models/vrn-compact.onnx';
// these tests are about names: a small texture and no flip make each photo faster
const FAST = ['--flip', 'off', '--texture-size', '128', '--format', 'glb,json'];

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), isTTY: false });
  return { code, out: out.join(''), err: err.join('') };
}

/** The error lines (the plain progress lines left out: stderr is no terminal). */
const errors = (err: string) =>
  err.split('\n').filter((l) => l && !/^voxface: (\[\d+\/\d+\] |\d+\/\d+ photos)|…$|: \d+ faces found$|: face \d+ of \d+ \(/.test(l));

function withDir(f: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxface-cli-names-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The example face at `width` px, as `file` (the format from its extension). */
async function photo(file: string, width: number): Promise<void> {
  mkdirSync(resolve(file, '..'), { recursive: true });
  await sharp(FACE).resize(width, width).toFile(file);
}

const imageWidth = (json: string) => (JSON.parse(readFileSync(json, 'utf8')) as { image: { width: number } }).image.width;

test('a folder keeps its subfolders in the output: a/face.jpg and b/face.jpg are two photos, two outputs', { skip: noModel, timeout: 240_000 }, withDir(async (dir) => {
  const photos = join(dir, 'photos');
  await photo(join(photos, 'a', 'face.jpg'), 240);
  await photo(join(photos, 'b', 'face.jpg'), 256);
  const out = join(dir, 'out');
  const r = await run([photos, '-o', out, ...FAST]);
  assert.equal(r.code, EXIT.OK, r.err);
  assert.deepEqual(readdirSync(out).sort(), ['a', 'b']);
  for (const [sub, width] of [['a', 240], ['b', 256]] as const) {
    assert.deepEqual(readdirSync(join(out, sub)).sort(), ['face.glb', 'face.json']);
    assert.equal(imageWidth(join(out, sub, 'face.json')), width, `${sub}/face.json is of ${sub}/face.jpg`);
  }
  assert.match(r.out, new RegExp(`a/face\\.jpg: 1 face → 2 files in ${out}/a `));
}));

test('a name clash fails the later input with one line naming both, exit 1; the other photos are written, nothing overwritten', { skip: noModel, timeout: 240_000 }, withDir(async (dir) => {
  const photos = join(dir, 'photos');
  await photo(join(photos, 'photo.avif'), 224);
  await photo(join(photos, 'photo.webp'), 240);
  await photo(join(photos, 'other.jpg'), 256);
  const out = join(dir, 'out');
  let r = await run([photos, '-o', out, ...FAST]);
  assert.equal(r.code, EXIT.FAILED, r.err);
  const avif = join(photos, 'photo.avif');
  const webp = join(photos, 'photo.webp');
  assert.deepEqual(errors(r.err), [`voxface: ${webp}: output name "photo" is already taken by ${avif}`]);
  assert.deepEqual(readdirSync(out).sort(), ['other.glb', 'other.json', 'photo.glb', 'photo.json']);
  assert.equal(imageWidth(join(out, 'photo.json')), 224, 'photo.* are the first input’s (photo.avif)');
  assert.equal(imageWidth(join(out, 'other.json')), 256);
  assert.match(r.out, /photo\.avif: 1 face/);
  assert.doesNotMatch(r.out, /photo\.webp/);

  // two files given by themselves with the same base name: the same
  const a = join(dir, 'a', 'face.jpg');
  const b = join(dir, 'b', 'face.jpg');
  await photo(a, 224);
  await photo(b, 240);
  const out2 = join(dir, 'out2');
  r = await run([a, b, '-o', out2, ...FAST]);
  assert.equal(r.code, EXIT.FAILED, r.err);
  assert.deepEqual(errors(r.err), [`voxface: ${b}: output name "face" is already taken by ${a}`]);
  assert.deepEqual(readdirSync(out2).sort(), ['face.glb', 'face.json']);
  assert.equal(imageWidth(join(out2, 'face.json')), 224);
}));

test('inputs that cannot run are refused before the output folder is made or the model loaded', withDir(async (dir) => {
  const missing = join(dir, 'missing.jpg');
  // a PNG header claiming 30000×30000 pixels (a pixel bomb) and nothing else
  const bomb = join(dir, 'bomb.png');
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(30000, 8);
  ihdr.writeUInt32BE(30000, 12);
  ihdr.set([8, 2, 0, 0, 0], 16);
  writeFileSync(bomb, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]));
  const text = join(dir, 'notes.jpg');
  writeFileSync(text, 'not an image\n');
  const out = join(dir, 'out');
  // a model that does not exist: loading it would exit 3
  const r = await run([missing, bomb, text, 'https://example.com/a.jpg', '-o', out, '--model', join(dir, 'none.onnx')]);
  assert.equal(r.code, EXIT.FAILED, r.err);
  assert.ok(!existsSync(out), 'no output folder made');
  const lines = errors(r.err);
  assert.equal(lines.length, 4, r.err);
  assert.match(lines[0], /missing\.jpg: no such file or folder$/);
  assert.match(lines[1], /bomb\.png: the image is 30000×30000 = 900\.0 megapixels, more than the limit of 50\.0$/);
  assert.match(lines[2], /notes\.jpg: not an image: a text file/);
  assert.match(lines[3], /https:\/\/example\.com\/a\.jpg: a URL: 'voxface batch' fetches URLs/);

  // only the head is read: a large good photo passes, whatever its end
  assert.equal(await checkImageFile(FACE), undefined);
  const big = join(dir, 'big.jpg');
  await sharp({ create: { width: 3000, height: 3000, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 95 }).toFile(big);
  assert.ok(statSync(big).size > 1024 * 1024);
  assert.equal(await checkImageFile(big), undefined);
  assert.deepEqual(await checkImageFile(missing), { code: 'NOT_FOUND', message: 'no such file or folder' });
}));
