import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIctBasis } from '../src/prior/basis.ts';
import type { PriorFit } from '../src/prior/fit.ts';
import { priorMesh } from '../src/prior/mesh.ts';
import { borderLoops } from '../src/prior/solid.ts';
import { VoxfaceError } from '../src/types.ts';
import type { Mesh, Volume } from '../src/types.ts';
import {
  closedSolid,
  connectedComponents,
  decimate,
  edgeReport,
  frontSurface,
  largestComponent,
  limitTriangles,
  marchingCubes,
  signedVolume,
  surfaceArea,
  taubinSmooth,
  transformMesh,
  vertexAdjacency,
  vertexNormals,
  volumeNormals,
} from '../src/mesh/index.ts';
import {
  ellipsoidSDF,
  faceLikeField,
  sphereSDF,
  torusSDF,
  unionSDF,
  voxelizeFaceLike,
  voxelizeHeightField,
  voxelizeSDF,
} from '../src/volume/index.ts';
import type { HeightField } from '../src/volume/index.ts';

/** Normal z of every triangle (right-hand rule, unit length). */
function faceNormalZ(m: Mesh): number[] {
  const p = m.positions, t = m.indices, out: number[] = [];
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
    const u = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
    const v = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
    const n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    out.push(n[2] / Math.hypot(n[0], n[1], n[2]));
  }
  return out;
}

function euler(m: Mesh): number {
  return m.positions.length / 3 - edgeReport(m).edges + m.indices.length / 3;
}

/** Area of a height field over its region, by midpoint quadrature. */
function heightFieldArea(f: HeightField, size: number, step = 0.25): number {
  let area = 0;
  const e = 0.01;
  for (let y = step / 2; y < size; y += step) {
    for (let x = step / 2; x < size; x += step) {
      if (f.region!(x, y) >= 0) continue;
      const gx = (f.height(x + e, y) - f.height(x - e, y)) / (2 * e);
      const gy = (f.height(x, y + e) - f.height(x, y - e)) / (2 * e);
      area += Math.sqrt(1 + gx * gx + gy * gy) * step * step;
    }
  }
  return area;
}

// A sphere of radius 16 voxels, voxel size 1.5 crop px, centred in a 40³ volume.
const V = 1.5;
const R = 16 * V;
const C: [number, number, number] = [20 * V, 20 * V, 0];
const sphereVol = voxelizeSDF({ width: 40, height: 40, depth: 40 }, V, sphereSDF(C, R));
const sphere = marchingCubes(sphereVol);

test('marching cubes: sphere area and volume within 1%, vertices on the sphere', () => {
  const area = surfaceArea(sphere), vol = signedVolume(sphere);
  assert.ok(Math.abs(area / (4 * Math.PI * R * R) - 1) < 0.01, `area ratio ${area / (4 * Math.PI * R * R)}`);
  assert.ok(Math.abs(vol / ((4 / 3) * Math.PI * R ** 3) - 1) < 0.01, `volume ratio ${vol / ((4 / 3) * Math.PI * R ** 3)}`);
  const p = sphere.positions;
  for (let i = 0; i < p.length; i += 3) {
    const r = Math.hypot(p[i] - C[0], p[i + 1] - C[1], p[i + 2] - C[2]);
    assert.ok(Math.abs(r - R) < 0.05 * V, `vertex off the sphere by ${r - R}`);
  }
});

test('marching cubes: sphere is a closed, welded, outward-oriented 2-manifold of genus 0', () => {
  const rep = edgeReport(sphere);
  assert.ok(rep.watertight, JSON.stringify(rep));
  assert.equal(euler(sphere), 2);
  assert.ok(signedVolume(sphere) > 0);
  // welded: no two vertices share a position
  const keys = new Set<string>();
  for (let i = 0; i < sphere.positions.length; i += 3) keys.add(`${sphere.positions[i]},${sphere.positions[i + 1]},${sphere.positions[i + 2]}`);
  assert.equal(keys.size, sphere.positions.length / 3);
  // every triangle faces away from the centre
  const p = sphere.positions, t = sphere.indices;
  for (let i = 0; i < t.length; i += 3) {
    const [a, b, c] = [t[i] * 3, t[i + 1] * 3, t[i + 2] * 3];
    const u = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
    const w = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
    const n = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
    const m = [0, 1, 2].map((k) => (p[a + k] + p[b + k] + p[c + k]) / 3 - C[k]);
    assert.ok(n[0] * m[0] + n[1] * m[1] + n[2] * m[2] > 0, 'triangle faces inward');
  }
});

test('marching cubes: half-spaces along each axis give flat, exactly placed, outward-facing planes', () => {
  const dims = { width: 9, height: 7, depth: 8 };
  const v = 2;
  for (let axis = 0; axis < 3; axis++) {
    const at = 1.7 + axis; // inside where coordinate < at (crop px; z is centred)
    const vol = voxelizeSDF(dims, v, (x, y, z) => [x, y, z][axis] - at);
    const m = marchingCubes(vol, 0.5);
    const p = m.positions;
    for (let i = axis; i < p.length; i += 3) assert.ok(Math.abs(p[i] - at) < 1e-4, `axis ${axis}: vertex at ${p[i]}`);
    const n = [dims.width, dims.height, dims.depth].map((k) => (k - 1) * v);
    const want = n.filter((_, k) => k !== axis).reduce((a, b) => a * b);
    assert.ok(Math.abs(surfaceArea(m) / want - 1) < 1e-4, `axis ${axis}: area ${surfaceArea(m)} vs ${want}`);
    const t = m.indices;
    for (let i = 0; i < t.length; i += 3) {
      const [a, b, c] = [t[i] * 3, t[i + 1] * 3, t[i + 2] * 3];
      const u = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
      const w = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
      const nrm = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
      assert.ok(nrm[axis] > 0, 'normal points from inside (low coordinate) to outside');
    }
  }
});

test('vertex normals (faces and volume gradient) point outward along the radius', () => {
  for (const normals of [vertexNormals(sphere), volumeNormals(sphere, sphereVol)]) {
    const p = sphere.positions;
    let minDot = 1;
    for (let i = 0; i < p.length; i += 3) {
      const r = Math.hypot(p[i] - C[0], p[i + 1] - C[1], p[i + 2] - C[2]);
      const dot = (normals[i] * (p[i] - C[0]) + normals[i + 1] * (p[i + 1] - C[1]) + normals[i + 2] * (p[i + 2] - C[2])) / r;
      assert.ok(Math.abs(Math.hypot(normals[i], normals[i + 1], normals[i + 2]) - 1) < 1e-5);
      minDot = Math.min(minDot, dot);
    }
    assert.ok(minDot > 0.95, `min radial dot ${minDot}`);
  }
});

test('marching cubes is watertight on random noise (every ambiguous case, asymptotic decider)', () => {
  for (const soft of [true, false]) {
    const N = 20;
    const data = new Float32Array(N * N * N);
    let seed = soft ? 7 : 11;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let d = 1; d < N - 1; d++)
      for (let r = 1; r < N - 1; r++)
        for (let c = 1; c < N - 1; c++) data[(d * N + r) * N + c] = soft ? rnd() : rnd() < 0.5 ? 1 : 0;
    const m = marchingCubes(data, { width: N, height: N, depth: N });
    const rep = edgeReport(m);
    assert.ok(m.indices.length > 10000);
    assert.ok(rep.watertight, JSON.stringify(rep));
    assert.ok(signedVolume(m) > 0);
  }
});

test('torus: closed, genus 1, volume within 2%', () => {
  const vol = voxelizeSDF({ width: 48, height: 48, depth: 20 }, 1, torusSDF([24, 24, 0], 14, 5));
  const m = marchingCubes(vol);
  assert.ok(edgeReport(m).watertight);
  assert.equal(euler(m), 0);
  const want = 2 * Math.PI ** 2 * 14 * 25;
  assert.ok(Math.abs(signedVolume(m) / want - 1) < 0.02, `${signedVolume(m) / want}`);
});

test('ellipsoid: closed, volume within 1.5%', () => {
  const vol = voxelizeSDF({ width: 48, height: 40, depth: 30 }, 1, ellipsoidSDF([24, 20, 0], [20, 15, 11]));
  const m = marchingCubes(vol);
  assert.ok(edgeReport(m).watertight);
  const want = (4 / 3) * Math.PI * 20 * 15 * 11;
  assert.ok(Math.abs(signedVolume(m) / want - 1) < 0.015, `${signedVolume(m) / want}`);
});

test('connected components: two blobs, largestComponent keeps the bigger one', () => {
  const vol = voxelizeSDF({ width: 48, height: 32, depth: 32 }, 1, unionSDF(sphereSDF([12, 16, 0], 6), sphereSDF([32, 16, 0], 10)));
  const m = marchingCubes(vol);
  const comps = connectedComponents(m);
  assert.equal(comps.count, 2);
  assert.ok(comps.sizes[0] > comps.sizes[1]);
  const big = largestComponent(m);
  assert.ok(edgeReport(big).watertight);
  const want = (4 / 3) * Math.PI * 1000;
  assert.ok(Math.abs(signedVolume(big) / want - 1) < 0.02, `${signedVolume(big) / want}`);
  assert.equal(big.indices.length / 3, comps.sizes[0]);
});

const faceDims = { width: 64, height: 64, depth: 64 };
const faceV = 2;
const faceField = faceLikeField(faceDims, faceV);
const faceVol = voxelizeFaceLike(faceDims, faceV);
const faceMesh = marchingCubes(faceVol);
const frontOpts = { voxelSize: faceV, backZ: (-faceDims.depth * faceV) / 2 };

test('frontSurface keeps only the face of a back-filled volume', () => {
  const front = frontSurface(faceMesh, frontOpts);
  assert.ok(front.indices.length < faceMesh.indices.length);
  const nz = faceNormalZ(front);
  assert.ok(Math.min(...nz) > 0, 'no triangle faces away from the camera');
  const want = heightFieldArea(faceField, 128);
  const area = surfaceArea(front);
  assert.ok(Math.abs(area / want - 1) < 0.02, `area ${area} vs analytic ${want}`);
  // every vertex sits on the height field (the walls are gone); away from the rim, within 1/4 voxel
  const p = front.positions;
  for (let i = 0; i < p.length; i += 3) {
    const err = Math.abs(p[i + 2] - faceField.height(p[i], p[i + 1]));
    assert.ok(err < 1.5 * faceV, `vertex ${err} px off the surface`);
    if (faceField.region!(p[i], p[i + 1]) < -2 * faceV) assert.ok(err < 0.25 * faceV, `vertex ${err} px off the surface`);
  }
  const rep = edgeReport(front);
  assert.equal(rep.nonManifold + rep.misoriented, 0);
  assert.equal(connectedComponents(front).count, 1);
});

test('frontSurface keeps the steep cheeks of a turned face', () => {
  // Add a strong slope (about 60° of yaw) to the face: its far cheek becomes steep.
  const turned: HeightField = {
    height: (x, y) => faceField.height(x, y) + 1.7 * (x - 64),
    region: faceField.region,
  };
  const dims = { width: 64, height: 64, depth: 160 };
  const vol = voxelizeHeightField(dims, faceV, turned);
  const front = frontSurface(marchingCubes(vol), { voxelSize: faceV, backZ: -160 });
  const want = heightFieldArea(turned, 128);
  const area = surfaceArea(front);
  assert.ok(Math.abs(area / want - 1) < 0.03, `area ${area} vs analytic ${want}`);
  assert.ok(Math.min(...faceNormalZ(front)) > 0);
});

test('frontSurface keeps a cliff inside the face (no slit), drops the outline walls', () => {
  // A 14 px drop over 1 px across the face at x = 80: the side of a nose seen from the side.
  const cliff: HeightField = {
    height: (x, y) => faceField.height(x, y) - 14 * Math.min(1, Math.max(0, x - 80)),
    region: faceField.region,
  };
  const front = frontSurface(marchingCubes(voxelizeHeightField(faceDims, faceV, cliff)), frontOpts);
  const plain = frontSurface(faceMesh, frontOpts);
  assert.equal(connectedComponents(front).count, 1);
  const want = heightFieldArea(cliff, 128, 0.1);
  assert.ok(Math.abs(surfaceArea(front) / want - 1) < 0.02, `area ${surfaceArea(front)} vs ${want}`);
  // holes would add border: allow the cliff's two ends only
  assert.ok(edgeReport(front).boundary < edgeReport(plain).boundary * 1.2, `${edgeReport(front).boundary} vs ${edgeReport(plain).boundary}`);
});

test('closedSolid is watertight with the back-filled volume', () => {
  const solid = closedSolid(faceVol);
  const rep = edgeReport(solid);
  assert.ok(rep.watertight, JSON.stringify(rep));
  // enclosed volume = ∫ over the face region of (height − back of the volume)
  let want = 0;
  const back = -64;
  for (let y = 0.25; y < 128; y += 0.5)
    for (let x = 0.25; x < 128; x += 0.5) if (faceField.region!(x, y) < 0) want += (faceField.height(x, y) - back) * 0.25;
  assert.ok(Math.abs(signedVolume(solid) / want - 1) < 0.02, `${signedVolume(solid) / want}`);
  // a thinner print: flat back at z = −10
  const thin = closedSolid(faceVol, { backZ: -10 });
  assert.ok(edgeReport(thin).watertight);
  let minZ = Infinity;
  for (let i = 2; i < thin.positions.length; i += 3) minZ = Math.min(minZ, thin.positions[i]);
  assert.ok(minZ > -10 - 2 * faceV && minZ < -10 + faceV, `back at ${minZ}`);
});

test('Taubin smoothing removes noise without shrinking the sphere', () => {
  const clean = taubinSmooth(sphere, { iterations: 10 });
  assert.ok(Math.abs(signedVolume(clean) / signedVolume(sphere) - 1) < 0.01);
  assert.ok(edgeReport(clean).watertight);
  const noisy = new Float32Array(sphereVol.data);
  let seed = 5;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < noisy.length; i++) noisy[i] = Math.min(1, Math.max(0, noisy[i] + (rnd() - 0.5) * 0.3));
  const rough = largestComponent(marchingCubes({ ...sphereVol, data: noisy }));
  const smooth = taubinSmooth(rough);
  const rms = (m: Mesh) => {
    let s = 0;
    for (let i = 0; i < m.positions.length; i += 3) s += (Math.hypot(m.positions[i] - C[0], m.positions[i + 1] - C[1], m.positions[i + 2] - C[2]) - R) ** 2;
    return Math.sqrt(s / (m.positions.length / 3));
  };
  assert.ok(rms(smooth) < 0.7 * rms(rough), `rms ${rms(rough)} → ${rms(smooth)}`);
  const sphereVolume = (4 / 3) * Math.PI * R ** 3;
  assert.ok(Math.abs(signedVolume(smooth) / sphereVolume - 1) < 0.01, `${signedVolume(smooth) / sphereVolume}`);
});

test('Taubin smoothing keeps an open border along itself', () => {
  const front = frontSurface(faceMesh, frontOpts);
  const fixed = taubinSmooth(front, { boundary: 'fixed' });
  const { boundary } = vertexAdjacency(front);
  for (let i = 0; i < boundary.length; i++) {
    if (boundary[i]) for (let k = 0; k < 3; k++) assert.equal(fixed.positions[3 * i + k], front.positions[3 * i + k]);
  }
  const curve = taubinSmooth(front);
  assert.ok(Math.abs(surfaceArea(curve) / surfaceArea(front) - 1) < 0.03);
});

test('decimation to 25% keeps the sphere closed and its volume within 2%', () => {
  const n = sphere.indices.length / 3;
  const d = decimate(sphere, { targetTriangles: Math.floor(n / 4) });
  assert.ok(d.indices.length / 3 <= Math.floor(n / 4));
  assert.ok(d.indices.length / 3 > n / 5);
  assert.ok(edgeReport(d).watertight);
  assert.ok(Math.abs(signedVolume(d) / signedVolume(sphere) - 1) < 0.02, `${signedVolume(d) / signedVolume(sphere)}`);
});

test('decimation keeps the border of an open surface', () => {
  const front = frontSurface(faceMesh, frontOpts);
  const d = decimate(front, { ratio: 0.25 });
  assert.ok(d.indices.length <= front.indices.length / 4 + 3);
  assert.equal(edgeReport(d).boundary, edgeReport(front).boundary);
  assert.equal(edgeReport(d).nonManifold, 0);
  assert.ok(Math.abs(surfaceArea(d) / surfaceArea(front) - 1) < 0.02);
  assert.ok(Math.min(...faceNormalZ(d)) > -0.5);
});

/**
 * An open, bumpy n × n grid over [0, 1]² with uv = (x, y), split into two uv charts along x = 1/2 (the seam's
 * vertices doubled, as ICT's template splits them), with a square hole in the middle of the left chart.
 */
function seamedGrid(n: number): Mesh {
  const positions: number[] = [];
  const uvs: number[] = [];
  const id = new Map<string, number>();
  const half = (n - 1) / 2;
  const vertex = (i: number, j: number, chart: number): number => {
    const key = `${i},${j},${chart}`;
    let v = id.get(key);
    if (v === undefined) {
      const x = i / (n - 1), y = j / (n - 1);
      positions.push(x * 100, y * 100, 6 * Math.sin(7 * x) * Math.cos(5 * y) + 10 * Math.exp(-((x - 0.7) ** 2 + (y - 0.4) ** 2) * 30));
      uvs.push(x, y);
      v = positions.length / 3 - 1;
      id.set(key, v);
    }
    return v;
  };
  const indices: number[] = [];
  for (let j = 0; j < n - 1; j++) {
    for (let i = 0; i < n - 1; i++) {
      const hole = i >= n / 4 && i < n / 4 + 3 && j >= n / 2 - 2 && j < n / 2 + 1;
      if (hole) continue;
      const chart = i < half ? 0 : 1;
      const a = vertex(i, j, chart), b = vertex(i + 1, j, chart), c = vertex(i + 1, j + 1, chart), d = vertex(i, j + 1, chart);
      indices.push(a, b, c, a, c, d);
    }
  }
  return { positions: Float32Array.from(positions), indices: Uint32Array.from(indices), uvs: Float32Array.from(uvs) };
}

/** The mesh's triangles over one vertex per position (a uv seam's copies welded). */
function welded(m: Mesh): number[] {
  const at = new Map<string, number>();
  return Array.from(m.indices, (i) => {
    const key = `${m.positions[3 * i]},${m.positions[3 * i + 1]},${m.positions[3 * i + 2]}`;
    if (!at.has(key)) at.set(key, at.size);
    return at.get(key)!;
  });
}

/** Signed area of every triangle in the uv plane. */
function uvAreas(m: Mesh): number[] {
  const uv = m.uvs!, t = m.indices, out: number[] = [];
  for (let k = 0; k < t.length; k += 3) {
    const [a, b, c] = [t[k], t[k + 1], t[k + 2]];
    out.push((uv[2 * b] - uv[2 * a]) * (uv[2 * c + 1] - uv[2 * a + 1]) - (uv[2 * b + 1] - uv[2 * a + 1]) * (uv[2 * c] - uv[2 * a]));
  }
  return out;
}

const uvRange = (m: Mesh): [number, number] => [Math.min(...m.uvs!), Math.max(...m.uvs!)];

test('decimation carries uvs: interpolated within their range, no triangle flipped in the uv plane, seams and holes kept', () => {
  const grid = seamedGrid(41);
  const n = grid.indices.length / 3;
  const loops = borderLoops(Array.from(grid.indices)).length;
  const weldedLoops = borderLoops(welded(grid)).length;
  assert.deepEqual([loops, weldedLoops], [3, 2], 'split: the outline of each chart and the hole; welded: the outline and the hole');
  assert.ok(uvAreas(grid).every((a) => a > 0));
  const d = decimate(grid, { targetTriangles: Math.floor(n / 5) });
  assert.ok(d.indices.length / 3 <= n / 5);
  const [lo, hi] = uvRange(d);
  assert.ok(lo >= 0 && hi <= 1, `uvs in [${lo}, ${hi}]`);
  assert.ok(uvAreas(d).every((a) => a > 0), 'no triangle flipped in the uv plane');
  assert.equal(borderLoops(Array.from(d.indices)).length, loops);
  assert.equal(borderLoops(welded(d)).length, weldedLoops, 'the seam still closed (no crack between the charts)');
  // a vertex's uv follows its position: on this grid uv = (x, y) / 100 wherever a vertex moved along its edges
  for (let v = 0; v < d.positions.length / 3; v++) {
    assert.ok(Math.abs(d.uvs![2 * v] - d.positions[3 * v] / 100) < 0.02 && Math.abs(d.uvs![2 * v + 1] - d.positions[3 * v + 1] / 100) < 0.02, `vertex ${v}`);
  }
});

test("decimation with boundary 'when-needed' goes below what a fixed boundary allows, keeping every loop and the seam", () => {
  const grid = seamedGrid(41);
  const fixed = decimate(grid, { targetTriangles: 100 });
  assert.ok(fixed.indices.length / 3 > 100, 'the fixed boundary alone cannot reach 100');
  const d = decimate(grid, { targetTriangles: 100, boundary: 'when-needed' });
  assert.ok(d.indices.length / 3 <= 100, `${d.indices.length / 3} triangles`);
  assert.equal(borderLoops(Array.from(d.indices)).length, 3);
  assert.equal(borderLoops(welded(d)).length, 2);
  assert.ok(uvAreas(d).every((a) => a > 0));
  assert.equal(edgeReport({ positions: d.positions, indices: Uint32Array.from(welded(d)) }).nonManifold, 0);
  // the outline stays the outline: the corners of the grid are still there
  const has = (x: number, y: number) => Array.from({ length: d.positions.length / 3 }, (_, v) => v).some((v) => d.positions[3 * v] === x && d.positions[3 * v + 1] === y);
  for (const [x, y] of [[0, 0], [100, 0], [0, 100], [100, 100]]) assert.ok(has(x, y), `corner ${x},${y}`);
});

test('limitTriangles on the ICT template (face and head): at most the limit, uvs in the atlas, outline and seams kept; a limit it cannot reach is refused', () => {
  const basis = parseIctBasis(new Uint8Array(readFileSync(new URL('../models/ict-face.bin', import.meta.url))));
  const fit = { source: 'landmarks68', identity: new Float32Array(60), expression: new Float32Array(53), rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], scale: 10, translation: [0, 0, 0] } as unknown as PriorFit;
  for (const region of ['face', 'head'] as const) {
    const mesh = priorMesh(basis, fit, region);
    const loops = borderLoops(Array.from(mesh.indices)).map((l) => l.length).sort();
    const weldedLoops = borderLoops(welded(mesh)).map((l) => l.length).sort();
    assert.equal(limitTriangles(mesh, undefined), mesh);
    for (const max of [5000, 1500]) {
      const d = limitTriangles(mesh, max);
      assert.ok(d.indices.length / 3 <= max && d.indices.length / 3 > max * 0.9, `${region} ${max}: ${d.indices.length / 3}`);
      const [lo, hi] = uvRange(d);
      assert.ok(lo >= 0 && hi <= 1, `${region} ${max}: uvs in [${lo}, ${hi}]`);
      // at these limits the boundary is not touched: the same loops, vertex for vertex
      assert.deepEqual(borderLoops(Array.from(d.indices)).map((l) => l.length).sort(), loops, `${region} ${max}: loops`);
      assert.deepEqual(borderLoops(welded(d)).map((l) => l.length).sort(), weldedLoops, `${region} ${max}: welded loops`);
      assert.equal(d.normals?.length, d.positions.length, 'normals recomputed');
    }
  }
  // the face's outline (292 vertices) gives way when asked for less than it holds; the head's seams do not
  const face = limitTriangles(priorMesh(basis, fit, 'face'), 100);
  assert.ok(face.indices.length / 3 <= 100);
  assert.equal(borderLoops(welded(face)).length, 1);
  assert.throws(
    () => limitTriangles(priorMesh(basis, fit, 'head'), 100),
    (e: unknown) => e instanceof VoxfaceError && e.code === 'BAD_ARGUMENT' && /^max-triangles 100 is below what this mesh can keep: \d+ triangles at the least \(of 22372\)/.test(e.message),
  );
});

test('empty and full volumes give empty meshes; every stage accepts an empty mesh', () => {
  const dims = { width: 8, height: 8, depth: 8 };
  for (const fill of [0, 1]) {
    const vol: Volume = { ...dims, voxelSize: 1, data: new Float32Array(512).fill(fill) };
    const m = marchingCubes(vol);
    assert.equal(m.indices.length, 0);
    assert.equal(m.positions.length, 0);
    assert.equal(frontSurface(m).indices.length, 0);
    assert.equal(taubinSmooth(m).indices.length, 0);
    assert.equal(decimate(m).indices.length, 0);
    assert.equal(largestComponent(m).indices.length, 0);
    assert.equal(vertexNormals(m).length, 0);
  }
  const full = closedSolid({ ...dims, voxelSize: 1, data: new Float32Array(512).fill(1) });
  assert.ok(edgeReport(full).watertight);
  assert.ok(Math.abs(signedVolume(full) / 512 - 1) < 0.05);
  assert.equal(marchingCubes({ width: 1, height: 1, depth: 1, voxelSize: 1, data: new Float32Array(1) }).indices.length, 0);
});

test('bad input gives VoxfaceError', () => {
  assert.throws(() => marchingCubes({ width: 4, height: 4, depth: 4, voxelSize: 1, data: new Float32Array(10) }), VoxfaceError);
  assert.throws(() => marchingCubes(sphereVol, { iso: NaN }), VoxfaceError);
  assert.throws(() => marchingCubes({ ...sphereVol, voxelSize: 0 }), VoxfaceError);
  assert.throws(() => taubinSmooth(sphere, { lambda: 2 }), VoxfaceError);
  assert.throws(() => decimate(sphere, { targetTriangles: -1 }), VoxfaceError);
  assert.throws(() => transformMesh(sphere, { size: 10, scale: 0, offset: [0, 0] }), VoxfaceError);
});

test('NaN voxels count as outside and never produce NaN vertices', () => {
  const data = new Float32Array(sphereVol.data);
  for (let i = 0; i < data.length; i += 97) data[i] = NaN;
  const m = marchingCubes({ ...sphereVol, data });
  assert.ok(m.positions.every(Number.isFinite));
  assert.ok(edgeReport(m).nonManifold === 0);
});

test('transformMesh maps crop pixels into the photo frame', () => {
  const crop = { size: 120, scale: 2.5, offset: [100, 40] as [number, number] };
  const m = transformMesh({ ...sphere, normals: vertexNormals(sphere) }, crop);
  for (const i of [0, 30, 300]) {
    assert.ok(Math.abs(m.positions[3 * i] - (sphere.positions[3 * i] * 2.5 + 100)) < 1e-3);
    assert.ok(Math.abs(m.positions[3 * i + 1] - (sphere.positions[3 * i + 1] * 2.5 + 40)) < 1e-3);
    assert.ok(Math.abs(m.positions[3 * i + 2] - sphere.positions[3 * i + 2] * 2.5) < 1e-3);
  }
  assert.equal(m.indices, sphere.indices);
  assert.ok(Math.abs(signedVolume(m) / (signedVolume(sphere) * 2.5 ** 3) - 1) < 1e-4);
});

test('192×192×200 face-like volume: manifold, oriented, open only at the back of the volume', () => {
  const dims = { width: 192, height: 192, depth: 200 };
  const vol = voxelizeFaceLike(dims, 1);
  const m = marchingCubes(vol);
  assert.ok(m.indices.length / 3 > 100000);
  const rep = edgeReport(m);
  assert.equal(rep.nonManifold, 0);
  assert.equal(rep.misoriented, 0);
  assert.equal(rep.degenerate, 0);
  // boundary vertices all lie on the back slice (z = −100 + 0.5)
  const { boundary } = vertexAdjacency(m);
  for (let i = 0; i < boundary.length; i++) if (boundary[i]) assert.ok(Math.abs(m.positions[3 * i + 2] + 99.5) < 1e-3);
  const front = frontSurface(m, { volume: vol });
  const want = heightFieldArea(faceLikeField(dims, 1), 192, 0.5);
  assert.ok(Math.abs(surfaceArea(front) / want - 1) < 0.02);
});
