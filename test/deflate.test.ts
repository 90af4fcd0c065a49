import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, deflateSync } from 'node:zlib';
import { decodePNG, encodePNG } from '../src/image/png.ts';
import { useDeflate, zlibDeflate } from '../src/image/deflate.ts';

const image = { width: 37, height: 23, data: Uint8Array.from({ length: 37 * 23 * 3 }, (_, i) => (i * 7919) % 251) };

test("PNGs round-trip with fflate's compressor and with Node's, which voxface/node sets", async () => {
  useDeflate(undefined);
  const byFflate = encodePNG(image, { level: 1, filter: 2 });
  assert.deepEqual(decodePNG(byFflate).data, image.data);
  let calls = 0;
  useDeflate((data, level) => {
    calls++;
    return deflateSync(data, { level });
  });
  const byNode = encodePNG(image, { level: 6 });
  assert.equal(calls, 1);
  assert.deepEqual(decodePNG(byNode).data, image.data);
  useDeflate(undefined);
  // voxface/node sets Node's zlib for its process
  await import('../src/node/zlib.ts');
  const raw = new Uint8Array(1000).fill(3);
  assert.deepEqual(zlibDeflate(raw, 6), new Uint8Array(deflateSync(raw, { level: 6 })));
  // the textures' RLE strategy: Node's zlib honours it (other bytes than the default strategy's, the same pixels);
  // fflate ignores it
  const noisy = { width: 64, height: 48, data: Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 7919) % 251) };
  const rle = encodePNG(noisy, { level: 1, filter: 2, strategy: 'rle' });
  assert.notDeepEqual(rle, encodePNG(noisy, { level: 1, filter: 2 }));
  assert.deepEqual(decodePNG(rle).data, noisy.data);
  assert.deepEqual(zlibDeflate(raw, 1, 'rle'), new Uint8Array(deflateSync(raw, { level: 1, strategy: constants.Z_RLE })));
  useDeflate(undefined);
  assert.deepEqual(decodePNG(encodePNG(noisy, { level: 1, strategy: 'rle' })).data, noisy.data);
});
