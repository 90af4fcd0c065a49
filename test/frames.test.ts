/**
 * Clear messages for images that cannot hold a face where it is looked for: animations whose face is on a later
 * frame (the library tries the next frames and says which one it used), animations with no face at all (the
 * message names the frames read), and tiny images ("too small to hold a face (N×M)").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage, frameCount, loadVoxface, MAX_FRAMES_TRIED } from '../src/node/index.ts';
import type { Voxface } from '../src/node/index.ts';
import { noFaceMessage } from '../src/detect/too-small.ts';
import { VoxfaceError } from '../src/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FACE = path.join(root, 'examples', 'face.jpg');
const skip = existsSync(path.join(root, 'models', 'vrn-compact.onnx')) ? false : 'needs models/vrn-compact.onnx';

const facePNG = () => sharp(FACE).resize(200, 200).png().toBuffer();
const noisePNG = (seed: number) =>
  sharp({ create: { width: 200, height: 200, channels: 3, background: { r: seed * 40, g: 90, b: 160 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
const animatedGIF = async (frames: Buffer[]) => sharp(frames, { join: { animated: true } }).gif().toBuffer();

test('frameCount and decodeImage read every frame of an animated GIF', async () => {
  const gif = await animatedGIF([await noisePNG(1), await facePNG()]);
  assert.equal(await frameCount(gif), 2);
  assert.equal(await frameCount(await facePNG()), 1);
  assert.equal(await frameCount(new TextEncoder().encode('not an image')), 1);
  const [first, second] = [await decodeImage(gif, {}, 0), await decodeImage(gif, {}, 1)];
  assert.deepEqual([second.width, second.height], [200, 200]);
  // the second frame is the face photo, not the noise: its colours vary far less between neighbours
  const roughness = (d: Uint8Array) => {
    let s = 0;
    for (let i = 3; i < d.length; i++) s += Math.abs(d[i] - d[i - 3]);
    return s / d.length;
  };
  assert.ok(roughness(second.data) < roughness(first.data) / 3, `${roughness(second.data)} vs ${roughness(first.data)}`);
});

test('noFaceMessage: below 16 px on the short side an image is too small to hold a face', () => {
  assert.equal(noFaceMessage({ width: 1, height: 1 }), 'the image is too small to hold a face (1×1)');
  assert.equal(noFaceMessage({ width: 640, height: 15 }), 'the image is too small to hold a face (640×15)');
  assert.equal(noFaceMessage({ width: 16, height: 16 }), 'no face found');
});

test('the library: the face on a later frame is found, frames without one say so, a 1×1 image is too small', { skip, timeout: 120_000 }, async () => {
  const vox: Voxface = await loadVoxface({ threads: 1 });
  const gif = await animatedGIF([await noisePNG(1), await noisePNG(2), await facePNG()]);
  const found = await vox.reconstructBytes(gif, { faces: 'largest' });
  assert.deepEqual(found.frame, { index: 2, count: 3 });
  assert.equal(found.result.faces.length, 1);

  const still = await vox.reconstructBytes(await facePNG(), { faces: 'largest' });
  assert.deepEqual(still.frame, { index: 0, count: 1 });

  const none = await animatedGIF([await noisePNG(1), await noisePNG(2)]);
  await assert.rejects(vox.reconstructBytes(none), (e: unknown) => e instanceof VoxfaceError && e.code === 'NO_FACE' && /no face found in any of its 2 frames/.test(e.message));

  const many = await animatedGIF(await Promise.all(Array.from({ length: MAX_FRAMES_TRIED + 2 }, (_, i) => noisePNG(i % 6))));
  await assert.rejects(vox.reconstructBytes(many), new RegExp(`no face found in its first ${MAX_FRAMES_TRIED} of ${MAX_FRAMES_TRIED + 2} frames`));

  const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer();
  await assert.rejects(vox.reconstructBytes(tiny), (e: unknown) => e instanceof VoxfaceError && e.code === 'NO_FACE' && e.message === 'the image is too small to hold a face (1×1)');
});
