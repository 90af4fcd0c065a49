import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textureSizeFor } from '../src/texture/index.ts';

test('textureSizeFor: a power of two near 1.2 texels per face pixel, within the limits, never shrinking as faces grow', () => {
  assert.equal(textureSizeFor(150), 256);
  assert.equal(textureSizeFor(350), 512);
  assert.equal(textureSizeFor(476), 1024);
  assert.equal(textureSizeFor(3000), 1024);
  assert.equal(textureSizeFor(3000, { max: 4096 }), 4096);
  assert.equal(textureSizeFor(10, { min: 64 }), 64);
  assert.equal(textureSizeFor(NaN), 1024);
  let last = 0;
  for (let side = 1; side < 2000; side += 7) {
    const s = textureSizeFor(side);
    assert.ok(Number.isInteger(Math.log2(s)) && s >= 256 && s <= 1024 && s >= last, `side ${side} → ${s}`);
    if (s < 1024) assert.ok(s >= 1.2 * side, `side ${side} → ${s} is below 1.2 texels per pixel`);
    last = s;
  }
});
