import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoxfaceError } from '../src/types.ts';

test('VoxfaceError carries a stable code and a one-line message', () => {
  const e = new VoxfaceError('NO_FACE', 'no face found in a.jpg');
  assert.equal(e.code, 'NO_FACE');
  assert.equal(e.name, 'VoxfaceError');
  assert.ok(e instanceof Error);
  assert.ok(!e.message.includes('\n'));
});
