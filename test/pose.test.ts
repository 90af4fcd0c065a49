import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePose, rotationFromAngles, anglesFromRotation } from '../src/landmarks/pose.ts';
import { LANDMARK_TEMPLATE_CM } from '../src/landmarks/template.ts';
import type { Vec3 } from '../src/types.ts';

/** The template posed by R, scaled to pixels and written in the photo frame (y down). */
function posed(yaw: number, pitch: number, roll: number, scale = 12, noise = 0): Vec3[] {
  const R = rotationFromAngles({ yaw, pitch, roll });
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2 * noise;
  return LANDMARK_TEMPLATE_CM.map(([x, y, z]) => {
    const X = R[0] * x + R[1] * y + R[2] * z;
    const Y = R[3] * x + R[4] * y + R[5] * z;
    const Z = R[6] * x + R[7] * y + R[8] * z;
    return [300 + scale * X + rnd(), 200 - scale * Y + rnd(), scale * Z + rnd()] as Vec3;
  });
}

test('angles ↔ rotation round trip', () => {
  for (const a of [{ yaw: 40, pitch: -20, roll: 10 }, { yaw: -85, pitch: 30, roll: -44 }, { yaw: 0, pitch: 0, roll: 0 }]) {
    const b = anglesFromRotation(rotationFromAngles(a));
    assert.ok(Math.abs(a.yaw - b.yaw) < 1e-9 && Math.abs(a.pitch - b.pitch) < 1e-9 && Math.abs(a.roll - b.roll) < 1e-9);
  }
});

test('estimatePose recovers yaw, pitch, roll and scale of a posed mean face', () => {
  for (const [yaw, pitch, roll] of [[0, 0, 0], [35, 10, -5], [-70, -25, 30], [88, 5, 40]]) {
    const fit = estimatePose(posed(yaw, pitch, roll, 12, 0.5));
    assert.ok(Math.abs(fit.pose.yaw - yaw) < 2, `yaw ${fit.pose.yaw} vs ${yaw}`);
    assert.ok(Math.abs(fit.pose.pitch - pitch) < 2, `pitch ${fit.pose.pitch} vs ${pitch}`);
    assert.ok(Math.abs(fit.pose.roll - roll) < 2, `roll ${fit.pose.roll} vs ${roll}`);
    assert.ok(Math.abs(fit.scale - 12) < 0.2, `scale ${fit.scale}`);
    assert.ok(fit.rms < 1.5);
  }
});

test('positive yaw means the nose moves toward the photo right', () => {
  const lm = posed(30, 0, 0);
  const noseX = lm[30][0];
  const midEyes = (lm[36][0] + lm[45][0]) / 2;
  assert.ok(noseX > midEyes);
  assert.ok(estimatePose(lm).pose.yaw > 20);
});
