import type { Mesh, Volume } from '../types.ts';
import { checkVolume } from '../volume/check.ts';

/**
 * Unit vertex normals: the area-weighted average of the adjacent triangles' normals
 * (right-hand rule, so outward for marching-cubes meshes). Isolated vertices get (0, 0, 1).
 *
 * @example const withNormals = { ...mesh, normals: vertexNormals(mesh) };
 */
export function vertexNormals(mesh: Mesh): Float32Array {
  const p = mesh.positions, t = mesh.indices;
  const acc = new Float64Array(p.length);
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
    // |cross| = 2·area: the plain cross product is the area-weighted normal
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    acc[a] += nx; acc[a + 1] += ny; acc[a + 2] += nz;
    acc[b] += nx; acc[b + 1] += ny; acc[b + 2] += nz;
    acc[c] += nx; acc[c + 1] += ny; acc[c + 2] += nz;
  }
  return normalizeInto(acc, new Float32Array(p.length));
}

function normalizeInto(acc: Float64Array, out: Float32Array): Float32Array {
  for (let i = 0; i < acc.length; i += 3) {
    const l = Math.sqrt(acc[i] * acc[i] + acc[i + 1] * acc[i + 1] + acc[i + 2] * acc[i + 2]);
    if (l > 0) {
      out[i] = acc[i] / l; out[i + 1] = acc[i + 1] / l; out[i + 2] = acc[i + 2] / l;
    } else {
      out[i] = 0; out[i + 1] = 0; out[i + 2] = 1;
    }
  }
  return out;
}

/**
 * Unit vertex normals from the volume: minus the occupancy gradient (central differences at the
 * voxels, one-sided at the border), trilinearly interpolated at each vertex, so they point from
 * inside to outside. Smoother than face normals on marching-cubes meshes; where the gradient
 * vanishes the area-weighted face normal is used. The mesh must be in the volume's crop frame.
 *
 * @example const mesh = marchingCubes(volume); mesh.normals = volumeNormals(mesh, volume);
 */
export function volumeNormals(mesh: Mesh, volume: Volume): Float32Array {
  checkVolume(volume, 'volumeNormals');
  const { width: W, height: H, depth: D, voxelSize: vs, data } = volume;
  if (W < 2 || H < 2 || D < 2) return vertexNormals(mesh);
  const S = W * H;
  const p = mesh.positions;
  const acc = new Float64Array(p.length);
  const at = (c: number, r: number, d: number) => data[(d * H + r) * W + c];
  let fallback: Float32Array | null = null;
  for (let i = 0; i < p.length; i += 3) {
    // continuous voxel coordinates (voxel centres at integers)
    const fx = p[i] / vs - 0.5, fy = p[i + 1] / vs - 0.5, fz = p[i + 2] / vs + D / 2 - 0.5;
    const c0 = clampI(Math.floor(fx), 0, W - 2), r0 = clampI(Math.floor(fy), 0, H - 2), d0 = clampI(Math.floor(fz), 0, D - 2);
    const tx = clamp01(fx - c0), ty = clamp01(fy - r0), tz = clamp01(fz - d0);
    let gx = 0, gy = 0, gz = 0;
    for (let k = 0; k < 8; k++) {
      const c = c0 + (k & 1), r = r0 + ((k >> 1) & 1), d = d0 + (k >> 2);
      if (c < 0 || r < 0 || d < 0 || c >= W || r >= H || d >= D) continue;
      const w = (k & 1 ? tx : 1 - tx) * ((k >> 1) & 1 ? ty : 1 - ty) * (k >> 2 ? tz : 1 - tz);
      if (w === 0) continue;
      const cm = c > 0 ? c - 1 : c, cp = c < W - 1 ? c + 1 : c;
      const rm = r > 0 ? r - 1 : r, rp = r < H - 1 ? r + 1 : r;
      const dm = d > 0 ? d - 1 : d, dp = d < D - 1 ? d + 1 : d;
      gx += (w * (at(cp, r, d) - at(cm, r, d))) / Math.max(cp - cm, 1);
      gy += (w * (at(c, rp, d) - at(c, rm, d))) / Math.max(rp - rm, 1);
      gz += (w * (data[dp * S + r * W + c] - data[dm * S + r * W + c])) / Math.max(dp - dm, 1);
    }
    if (gx === 0 && gy === 0 && gz === 0) {
      fallback ??= vertexNormals(mesh);
      acc[i] = fallback[i]; acc[i + 1] = fallback[i + 1]; acc[i + 2] = fallback[i + 2];
    } else {
      acc[i] = -gx; acc[i + 1] = -gy; acc[i + 2] = -gz;
    }
  }
  return normalizeInto(acc, new Float32Array(p.length));
}

const clampI = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
