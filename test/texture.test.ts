import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoxfaceError, type RGBImage, type Vec3 } from '../src/types.ts';
import { rotationFromAngles } from '../src/landmarks/pose.ts';
import { LANDMARK_TEMPLATE_CM } from '../src/landmarks/template.ts';
import {
  axesFromPose,
  computeVertexNormals,
  estimateHeadFrame,
  headFrameFromLandmarks,
  rasterizeDepth,
  rasterizeTriangle,
  textureMesh,
} from '../src/texture/index.ts';
import { pullPushFill } from '../src/texture/fill.ts';
import { ellipsoidSheet, gradientPhoto, renderEllipsoid, symmetricColour, yawAxes, type Ellipsoid } from './_meshes.ts';

/** Bilinear lookup of an RGB texture at uv (v = 0 at the top row), 0–255. */
function textureAt(tex: RGBImage, u: number, v: number): number[] {
  const fx = Math.min(Math.max(u * tex.width - 0.5, 0), tex.width - 1);
  const fy = Math.min(Math.max(v * tex.height - 0.5, 0), tex.height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, tex.width - 1);
  const y1 = Math.min(y0 + 1, tex.height - 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const at = (x: number, y: number, c: number) => tex.data[3 * (y * tex.width + x) + c];
  return [0, 1, 2].map(
    (c) => (1 - ty) * ((1 - tx) * at(x0, y0, c) + tx * at(x1, y0, c)) + ty * ((1 - tx) * at(x0, y1, c) + tx * at(x1, y1, c)),
  );
}

const frontal: Ellipsoid = { centre: [128, 120, 0], radii: [60, 80, 55], yaw: 0 };

test('vertex colours are the bilinear photo colour at the vertex (x, y)', () => {
  const photo = gradientPhoto(256, 240);
  const { mesh } = ellipsoidSheet(frontal, { nTheta: 31, nPhi: 31 });
  const tm = textureMesh(mesh, photo, { size: 256 });
  for (let v = 0; v < mesh.positions.length / 3; v++) {
    // The gradient is linear in pixel centres (i + 0.5): red = 255 (x − 0.5) / (W − 1).
    const x = Math.min(Math.max(mesh.positions[3 * v], 0.5), 255.5);
    const y = Math.min(Math.max(mesh.positions[3 * v + 1], 0.5), 239.5);
    assert.ok(Math.abs(tm.colors[3 * v] * 255 - (255 * (x - 0.5)) / 255) < 0.6, `red at vertex ${v}`);
    assert.ok(Math.abs(tm.colors[3 * v + 1] * 255 - (255 * (y - 0.5)) / 239) < 0.6, `green at vertex ${v}`);
    assert.ok(Math.abs(tm.colors[3 * v + 2] * 255 - 90) < 1e-3);
  }
});

test('the texel of a well-seen vertex matches the photo at its (x, y)', () => {
  const photo = gradientPhoto(256, 240);
  const { mesh } = ellipsoidSheet(frontal);
  const tm = textureMesh(mesh, photo, { size: 512 });
  assert.equal(tm.texture.width, 512);
  assert.equal(tm.texture.data.length, 512 * 512 * 3);
  let checked = 0;
  for (let v = 0; v < mesh.positions.length / 3; v++) {
    if (tm.normals![3 * v + 2] < 0.6) continue;
    const got = textureAt(tm.texture, tm.uvs[2 * v], tm.uvs[2 * v + 1]);
    const expected = [0, 1, 2].map((c) => tm.colors[3 * v + c] * 255);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[c] - expected[c]) < 3, `vertex ${v} channel ${c}: ${got[c]} vs ${expected[c]}`);
    checked++;
  }
  assert.ok(checked > 1000, `only ${checked} vertices checked`);
});

test('sampleAt: the photo is sampled where sampleAt puts each vertex, the mesh keeps its own positions', () => {
  const photo = gradientPhoto(256, 240);
  const { mesh } = ellipsoidSheet(frontal, { nTheta: 31, nPhi: 31 });
  const at = new Float32Array(mesh.positions);
  for (let v = 0; v < at.length / 3; v++) at[3 * v] -= 20; // 20 px to the left: red falls by 20
  const own = textureMesh(mesh, photo, { size: 256 });
  const moved = textureMesh(mesh, photo, { size: 256, sampleAt: at });
  assert.equal(moved.positions, mesh.positions);
  let checked = 0;
  for (let v = 0; v < at.length / 3; v++) {
    const x = mesh.positions[3 * v];
    if (x < 30 || x > 250) continue; // both inside the photo
    assert.ok(Math.abs((own.colors[3 * v] - moved.colors[3 * v]) * 255 - 20) < 0.6, `vertex ${v}`);
    checked++;
  }
  assert.ok(checked > 300, `${checked} vertices`);
  // the texture follows too: the mean red of the two textures differs
  const red = (t: RGBImage) => t.data.reduce((a, b, i) => (i % 3 === 0 ? a + b : a), 0) / (t.data.length / 3);
  assert.ok(red(own.texture) - red(moved.texture) > 5, `texture red ${red(own.texture)} vs ${red(moved.texture)}`);
  assert.throws(() => textureMesh(mesh, photo, { size: 256, sampleAt: at.subarray(3) }), VoxfaceError);
});

test('the unwrap is mirror-symmetric about the mid-sagittal plane: θ → −θ maps u → 1 − u', () => {
  const { mesh, angles } = ellipsoidSheet(frontal, { nTheta: 41, nPhi: 21 });
  const tm = textureMesh(mesh, gradientPhoto(256, 240), { size: 128 });
  for (let j = 0; j < 21; j++) {
    for (let i = 0; i < 41; i++) {
      const v = j * 41 + i;
      const m = j * 41 + (40 - i);
      assert.ok(Math.abs(angles[2 * v] + angles[2 * m]) < 1e-6);
      assert.ok(Math.abs(tm.uvs[2 * v] + tm.uvs[2 * m] - 1) < 1e-4, `u of vertex ${v}`);
      assert.ok(Math.abs(tm.uvs[2 * v + 1] - tm.uvs[2 * m + 1]) < 1e-4, `v of vertex ${v}`);
      assert.ok(tm.uvs[2 * v] > 0 && tm.uvs[2 * v] < 1 && tm.uvs[2 * v + 1] > 0 && tm.uvs[2 * v + 1] < 1);
    }
  }
  // Top of the head at the top of the texture.
  assert.ok(tm.uvs[2 * (0 * 41 + 20) + 1] < tm.uvs[2 * (20 * 41 + 20) + 1]);
});

test('a yawed head: the hidden side gets the mirrored colours, not stretched or occluding ones', () => {
  const yawed: Ellipsoid = { centre: [128, 128, 0], radii: [60, 80, 55], yaw: 40 };
  const { mesh, angles } = ellipsoidSheet(yawed);
  const photo = renderEllipsoid(yawed, 256, 256);
  const pose = { yaw: 40, pitch: 0, roll: 0 };
  const normals = computeVertexNormals(mesh.positions, mesh.indices);
  const errorOnHiddenSide = (symmetry: boolean) => {
    const tm = textureMesh(mesh, photo, { size: 512, pose, symmetry });
    let sum = 0;
    let count = 0;
    for (let v = 0; v < angles.length / 2; v++) {
      if (normals[3 * v + 2] > -0.1) continue; // turned away from the camera
      const expected = symmetricColour(angles[2 * v], angles[2 * v + 1]);
      const got = textureAt(tm.texture, tm.uvs[2 * v], tm.uvs[2 * v + 1]);
      sum += [0, 1, 2].reduce((s, c) => s + Math.abs(got[c] - expected[c]), 0) / 3;
      count++;
    }
    assert.ok(count > 300, `only ${count} hidden vertices`);
    return sum / count;
  };
  const withMirror = errorOnHiddenSide(true);
  const without = errorOnHiddenSide(false);
  assert.ok(withMirror < 8, `mean error on the hidden side with symmetry: ${withMirror.toFixed(1)}`);
  assert.ok(without > 30, `without symmetry the hidden side should be wrong, error ${without.toFixed(1)}`);
});

test('head frame from symmetric landmarks recovers the head axes', () => {
  const pairs = [[0, 16], [1, 15], [2, 14], [3, 13], [4, 12], [5, 11], [6, 10], [7, 9], [17, 26], [18, 25], [19, 24],
    [20, 23], [21, 22], [31, 35], [32, 34], [36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46], [48, 54],
    [49, 53], [50, 52], [59, 55], [58, 56], [60, 64], [61, 63], [67, 65]];
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const head: Vec3[] = Array.from({ length: 68 }, () => [0, 0, 0] as Vec3);
  for (const [l, r] of pairs) {
    const [a, h, b] = [20 + 30 * Math.abs(rand()), 40 * rand(), 30 + 20 * rand()];
    head[l] = [-a, h, b];
    head[r] = [a, h, b];
  }
  for (const m of [8, 27, 28, 29, 30, 33, 51, 57, 62, 66]) head[m] = [0, 50 * rand(), 40 + 10 * rand()];
  head[27] = [0, -30, 45];
  head[8] = [0, 60, 45];
  const axes = yawAxes(25);
  const centre: Vec3 = [300, 200, -10];
  const photo = head.map(([a, h, b]) => [0, 1, 2].map((k) => centre[k] + a * axes.right[k] + h * axes.down[k] + b * axes.forward[k]) as Vec3);
  const frame = headFrameFromLandmarks(photo);
  for (const key of ['right', 'down', 'forward'] as const) {
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(frame[key][k] - axes[key][k]) < 1e-6, `${key}[${k}]`);
  }
  // The centre lies on the mid-sagittal plane.
  const d = [0, 1, 2].map((k) => frame.centre[k] - centre[k]);
  assert.ok(Math.abs(d[0] * axes.right[0] + d[1] * axes.right[1] + d[2] * axes.right[2]) < 1e-6);
  assert.throws(() => headFrameFromLandmarks(photo.slice(0, 10)), VoxfaceError);
});

test('pose axes follow the project convention (landmarks/pose.ts) and agree with the landmark frame', () => {
  const yawed = axesFromPose({ yaw: 30, pitch: 0, roll: 0 });
  assert.ok(yawed.forward[0] > 0.45, 'positive yaw turns the nose toward the photo right');
  assert.ok(axesFromPose({ yaw: 0, pitch: 20, roll: 0 }).forward[1] > 0.3, 'positive pitch tilts the nose down');
  assert.ok(axesFromPose({ yaw: 0, pitch: 0, roll: 20 }).right[1] < -0.3, 'positive roll turns counter-clockwise');
  const angle = (u: Vec3, v: Vec3) => (Math.acos(Math.min(1, u[0] * v[0] + u[1] * v[1] + u[2] * v[2])) * 180) / Math.PI;
  for (const pose of [{ yaw: 35, pitch: 10, roll: -5 }, { yaw: -60, pitch: -20, roll: 25 }]) {
    const R = rotationFromAngles(pose);
    const landmarks = LANDMARK_TEMPLATE_CM.map(([x, y, z]) => [
      300 + 12 * (R[0] * x + R[1] * y + R[2] * z),
      200 - 12 * (R[3] * x + R[4] * y + R[5] * z),
      12 * (R[6] * x + R[7] * y + R[8] * z),
    ] as Vec3);
    const fromLandmarks = headFrameFromLandmarks(landmarks);
    const fromPose = axesFromPose(pose);
    for (const key of ['right', 'down', 'forward'] as const) {
      assert.ok(angle(fromLandmarks[key], fromPose[key]) < 3, `${key} differs by ${angle(fromLandmarks[key], fromPose[key])}°`);
    }
  }
});

test('head frame from the mesh alone: frontal stays frontal, a turned head gets a yaw of the right sign', () => {
  const yawOf = (f: { forward: Vec3 }) => (Math.atan2(f.forward[0], f.forward[2]) * 180) / Math.PI;
  const flat = estimateHeadFrame(ellipsoidSheet(frontal, { nose: 0.3, thetaMax: 70 }).mesh.positions);
  assert.ok(Math.abs(yawOf(flat)) < 1, `frontal yaw ${yawOf(flat)}`);
  assert.ok(Math.abs(flat.centre[0] - 128) < 1);
  const turned = estimateHeadFrame(ellipsoidSheet({ ...frontal, yaw: 20 }, { nose: 0.3, thetaMax: 70 }).mesh.positions);
  assert.ok(Math.abs(yawOf(turned) - 20) < 10, `yaw 20 estimated as ${yawOf(turned)}`);
  const posed = estimateHeadFrame(new Float32Array(9).fill(1), { pose: { yaw: 20, pitch: 0, roll: 0 } });
  assert.ok(Math.abs(yawOf(posed) - 20) < 1e-6);
});

test('rasterizeDepth keeps the largest z and leaves uncovered pixels NaN', () => {
  // Two overlapping triangles over the window: a far one (z = 1) and a near one (z = 5) on its left half.
  const positions = new Float32Array([0, 0, 1, 10, 0, 1, 0, 10, 1, 0, 0, 5, 5, 0, 5, 0, 5, 5]);
  const depth = rasterizeDepth({ positions, indices: new Uint32Array([0, 1, 2, 3, 4, 5]) }, { width: 12, height: 12 });
  assert.equal(depth[1 * 12 + 1], 5);
  assert.equal(depth[1 * 12 + 7], 1);
  assert.ok(Number.isNaN(depth[11 * 12 + 11]));
  // A window offset shifts the pixel grid.
  const shifted = rasterizeDepth({ positions, indices: new Uint32Array([0, 1, 2]) }, { x0: 2, y0: 2, width: 4, height: 4 });
  assert.equal(shifted[0], 1);
  assert.ok(Number.isNaN(shifted[15]));
});

test('rasterizeDepth covers the pixels the triangle rasteriser does, with its weights (tiny, sliver and clipped triangles)', () => {
  // a seeded stream of triangles over a 40 × 30 window offset by (3, 2): most a pixel or two wide like a face mesh's,
  // some long slivers, some reaching past the window; each rasterised alone, compared pixel by pixel
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const W = 40, H = 30, X0 = 3, Y0 = 2;
  let covered = 0;
  for (let n = 0; n < 400; n++) {
    const size = n % 10 === 0 ? 30 : n % 3 === 0 ? 8 : 2.5;
    const cx = X0 - 5 + rnd() * (W + 10), cy = Y0 - 5 + rnd() * (H + 10);
    const positions = new Float32Array(9);
    for (let k = 0; k < 3; k++) positions.set([cx + (rnd() - 0.5) * size, cy + (rnd() - 0.5) * (n % 10 === 0 ? 1 : size), rnd() * 10], 3 * k);
    const depth = rasterizeDepth({ positions, indices: new Uint32Array([0, 1, 2]) }, { x0: X0, y0: Y0, width: W, height: H });
    const want = new Float32Array(W * H).fill(NaN);
    const p = positions.map((v, i) => (i % 3 === 0 ? v - X0 : i % 3 === 1 ? v - Y0 : v));
    rasterizeTriangle(p[0], p[1], p[3], p[4], p[6], p[7], W, H, (i, j, w0, w1, w2) => {
      want[j * W + i] = w0 * p[2] + w1 * p[5] + w2 * p[8];
    });
    for (let k = 0; k < W * H; k++) {
      if (Number.isNaN(want[k])) assert.ok(Number.isNaN(depth[k]), `triangle ${n}: pixel ${k} covered, the rasteriser leaves it`);
      else {
        covered++;
        assert.ok(Math.abs(depth[k] - want[k]) < 1e-5, `triangle ${n}: pixel ${k} z ${depth[k]} against ${want[k]}`);
      }
    }
  }
  assert.ok(covered > 300, `${covered} pixels covered in all`);
});

test('pull-push fill extends known texels over unknown ones and keeps known ones', () => {
  const w = 37;
  const h = 23;
  const colour = new Float32Array(w * h * 3);
  const weight = new Float32Array(w * h);
  for (let j = 5; j < 10; j++) {
    for (let i = 4; i < 12; i++) {
      weight[j * w + i] = 1;
      colour.set([0.2, 0.5, 0.9], 3 * (j * w + i));
    }
  }
  const out = pullPushFill(colour, weight, w, h);
  for (let k = 0; k < w * h; k++) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(out[3 * k + c] - [0.2, 0.5, 0.9][c]) < 1e-5, `texel ${k}`);
  }
});

test('pull-push fill in place: the same floats as on copies, colour under weight 0 ignored, weights clamped', () => {
  const w = 29;
  const h = 18;
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const colour = new Float32Array(w * h * 3).map(() => rnd());
  // weights in [-0.2, 1.2] (clamped to [0, 1]), a third of them exactly 0 over a non-zero colour
  const weight = new Float32Array(w * h).map(() => (rnd() < 0.33 ? 0 : rnd() * 1.4 - 0.2));
  const colourCopy = new Float32Array(colour);
  const weightCopy = new Float32Array(weight);
  const copied = pullPushFill(colour, weight, w, h);
  assert.deepEqual(colour, colourCopy, 'by default the inputs are left alone');
  assert.deepEqual(weight, weightCopy);
  const inPlace = pullPushFill(colour, weight, w, h, true);
  assert.equal(inPlace, colour, 'in place: the result is the colour buffer itself');
  assert.deepEqual(inPlace, copied);
});

test('pullPushBytes: the SIMD kernels give the JavaScript fill\'s bytes within 1 (even and odd sides); rounding and clamping as Uint8ClampedArray', async () => {
  const { pullPushBytes } = await import('../src/texture/fill.ts');
  let seed = 11;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (const [w, h] of [[64, 64], [96, 32], [37, 23]] as const) {
    const colour = new Float32Array(w * h * 3).map(() => rnd() * 1.2 - 0.1); // some below 0 and above 1: clamped
    const weight = new Float32Array(w * h).map(() => (rnd() < 0.6 ? 0 : rnd() * 1.4 - 0.2));
    const fast = pullPushBytes(colour.slice(), weight.slice(), w, h);
    const rgb = pullPushFill(colour, weight, w, h);
    const want = Uint8ClampedArray.from(rgb, (x) => x * 255);
    assert.equal(fast.length, want.length);
    let worst = 0, differing = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(fast[i] - want[i]);
      worst = Math.max(worst, d);
      if (d) differing++;
    }
    assert.ok(worst <= 1 && differing <= want.length / 1000, `${w}×${h}: ${differing} bytes differ, by up to ${worst}`);
  }
  // the byte conversion alone: every texel known (weight 1), so the fill keeps each colour as it is
  const values = [0, 1, 0.5 / 255, 1.5 / 255, 2.5 / 255, 254.5 / 255, -0.3, 1.7, NaN, 0.25];
  const n = values.length;
  const colour = new Float32Array(3 * n);
  values.forEach((v, k) => colour.set([v, v, v], 3 * k));
  const bytes = pullPushBytes(colour.slice(), new Float32Array(n).fill(1), n, 1);
  assert.deepEqual([...bytes], [...Uint8ClampedArray.from(colour, (x) => x * 255)]);
});

test('no black seams: texels around the UV islands are dilated with island colours', () => {
  const { mesh } = ellipsoidSheet(frontal, { thetaMax: 60, phiMax: 50 });
  const tm = textureMesh(mesh, gradientPhoto(256, 240), { size: 128 });
  for (let k = 0; k < tm.texture.data.length; k += 3) {
    assert.ok(tm.texture.data[k + 2] > 80, `texel ${k / 3} has blue ${tm.texture.data[k + 2]}`); // photo blue is 90 on the face
  }
});

test('bad input raises VoxfaceError', () => {
  const { mesh } = ellipsoidSheet(frontal, { nTheta: 5, nPhi: 5 });
  const photo = gradientPhoto(16, 16);
  assert.throws(() => textureMesh(mesh, photo, { size: 3 }), VoxfaceError);
  assert.throws(() => textureMesh({ positions: mesh.positions, indices: new Uint32Array([0, 1, 999]) }, photo), VoxfaceError);
  assert.throws(() => textureMesh(mesh, { width: 16, height: 16, data: new Uint8Array(5) }), VoxfaceError);
});

test('texelPlan: each covered texel once, with the last triangle over it and its weights; kept per layout, found by content', async () => {
  const { texelPlan } = await import('../src/texture/bake.ts');
  const { rasterizeTriangle } = await import('../src/texture/raster.ts');
  // two triangles sharing an edge, a third over both (the last one wins where it covers)
  const uvs = Float32Array.from([0.1, 0.1, 0.9, 0.1, 0.1, 0.9, 0.9, 0.9, 0.3, 0.3, 0.7, 0.3, 0.5, 0.8]);
  const indices = Uint32Array.from([0, 1, 2, 1, 3, 2, 4, 5, 6]);
  const W = 24, H = 16;
  const plan = texelPlan(uvs, indices, W, H);
  assert.equal(texelPlan(uvs, indices, W, H), plan, 'the same layout and size: the kept plan');
  assert.equal(texelPlan(uvs.slice(), indices.slice(), W, H), plan, 'found by content, not by array');
  const moved = uvs.slice();
  moved[3] += 0.01;
  assert.notEqual(texelPlan(moved, indices, W, H), plan, 'another layout: another plan');
  assert.notEqual(texelPlan(uvs, indices, 32, 32), plan, 'another size: another plan');
  const owner = new Map<number, [number, number, number]>();
  for (let t = 0; t < indices.length; t += 3) {
    const [a, b, c] = [indices[t], indices[t + 1], indices[t + 2]];
    rasterizeTriangle(uvs[2 * a] * W, uvs[2 * a + 1] * H, uvs[2 * b] * W, uvs[2 * b + 1] * H, uvs[2 * c] * W, uvs[2 * c + 1] * H, W, H, (i, j, w0, w1) => owner.set(j * W + i, [t, w0, w1]));
  }
  assert.deepEqual([...plan.texel], [...owner.keys()].sort((p, q) => p - q));
  plan.texel.forEach((k, e) => {
    const [t, w0, w1] = owner.get(k)!;
    assert.deepEqual([plan.triangle[e], plan.w0[e], plan.w1[e]], [t, w0, w1]);
    assert.equal(plan.covered[k], 1);
  });
  assert.equal(plan.covered.reduce((s, v) => s + v, 0), owner.size);
  assert.ok(plan.triangle.includes(6) && plan.triangle.includes(0) && plan.triangle.includes(3));
});
