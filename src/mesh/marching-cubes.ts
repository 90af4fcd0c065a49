import { VoxfaceError } from '../types.ts';
import type { Mesh, Vec3, Volume } from '../types.ts';
import { checkDims, checkVolume } from '../volume/check.ts';
import type { VolumeDims } from '../volume/check.ts';
import { EDGE_CORNERS, FACE_CORNERS, mcTables } from './mc-tables.ts';

/** Options of `marchingCubes`. */
export interface MarchingCubesOptions {
  /** Iso level; voxels with value ≥ iso are inside. Default 0.5 (use 0 on raw logits). */
  iso?: number;
  /**
   * Crop-frame position of the centre of voxel (0, 0, 0). Default per the `Volume` contract:
   * (v/2, v/2, (1/2 − depth/2)·v).
   */
  origin?: Vec3;
}

/** Crossings closer than this (in voxels) to a grid corner are pushed off it: no coincident vertices. */
const SNAP = 1e-3;

const EA = Uint8Array.from(EDGE_CORNERS.map((e) => e[0]));
const EB = Uint8Array.from(EDGE_CORNERS.map((e) => e[1]));

/**
 * Marching cubes: the iso-surface of a volume as an indexed, welded triangle mesh.
 *
 * - Every grid-edge crossing is one shared vertex (per-slice edge caches, no float hashing).
 * - Triangles are counter-clockwise seen from outside: the right-hand-rule normal points from
 *   inside (value ≥ iso) to outside. Positions are crop pixels per the `Volume` contract.
 * - Ambiguous faces are resolved with the asymptotic decider, consistently for both cubes that share
 *   them, so a shape strictly inside the volume gives a closed 2-manifold. Surfaces touching the
 *   volume's border stay open there (see `closedSolid`).
 * - Visits only cubes that hold a crossing (found from per-row lists of x-edge cuts, merged over the
 *   four voxel rows each row of cubes touches), so empty or solid space costs one read per voxel. Zero-area triangles are dropped.
 *
 * Also callable on raw data: `marchingCubes(data, { width, height, depth, voxelSize? }, options)`;
 * `options` may be just the iso level.
 *
 * @example
 * const mesh = marchingCubes(volume);                    // iso 0.5 on occupancies
 * const same = marchingCubes(logitVolume, 0);            // or iso 0 on raw logits
 */
export function marchingCubes(volume: Volume, options?: MarchingCubesOptions | number): Mesh;
export function marchingCubes(
  data: Float32Array,
  dims: VolumeDims & { voxelSize?: number },
  options?: MarchingCubesOptions | number,
): Mesh;
export function marchingCubes(
  a: Volume | Float32Array,
  b?: MarchingCubesOptions | number | (VolumeDims & { voxelSize?: number }),
  c?: MarchingCubesOptions | number,
): Mesh {
  let volume: Volume;
  let o: MarchingCubesOptions | number | undefined;
  if (a instanceof Float32Array) {
    const dims = b as VolumeDims & { voxelSize?: number };
    checkDims(dims, 'marchingCubes');
    volume = { width: dims.width, height: dims.height, depth: dims.depth, voxelSize: dims.voxelSize ?? 1, data: a };
    o = c;
  } else {
    volume = a;
    o = b as MarchingCubesOptions | number | undefined;
  }
  const options: MarchingCubesOptions = typeof o === 'number' ? { iso: o } : (o ?? {});
  checkVolume(volume, 'marchingCubes');
  const iso = options.iso ?? 0.5;
  if (!Number.isFinite(iso)) throw new VoxfaceError('BAD_ARGUMENT', `marchingCubes: iso must be a finite number, got ${String(iso)}`);
  const v = volume.voxelSize;
  const origin = options.origin ?? [v / 2, v / 2, (0.5 - volume.depth / 2) * v];
  if (!origin.every(Number.isFinite)) throw new VoxfaceError('BAD_ARGUMENT', 'marchingCubes: origin must be 3 finite numbers');
  return march(volume.data, volume.width, volume.height, volume.depth, v, origin, iso);
}

function march(data: Float32Array, W: number, H: number, D: number, v: number, origin: Vec3, iso: number): Mesh {
  if (W < 2 || H < 2 || D < 2) return { positions: new Float32Array(0), indices: new Uint32Array(0) };
  const [ox, oy, oz] = origin;
  const S = W * H;
  const { edgeMask: EDGE_MASK, ambiguous: AMBIGUOUS, start: TRI_START, count: TRI_COUNT, tris: TRIS, centerEdges: CENTER_EDGES } = mcTables();

  // Per voxel row (d, r): its inside state at c = 0 and its cut x edges (c where the state flips
  // between c and c+1), in one CSR list. Filled one slice ahead of the slab being meshed, so the
  // slab's data is still in cache when its cubes read it.
  const nRows = H * D;
  const rowState = new Uint8Array(nRows);
  const rowStart = new Int32Array(nRows + 1);
  let cuts = new Int32Array(Math.max(1024, 4 * nRows));
  let ncut = 0;
  const scanSlice = (d: number): void => {
    for (let q = d * H, base = d * S; q < (d + 1) * H; q++, base += W) {
      let prev = data[base] >= iso ? 1 : 0;
      rowState[q] = prev;
      if (ncut + W > cuts.length) {
        const x = new Int32Array(cuts.length * 2);
        x.set(cuts);
        cuts = x;
      }
      // Four voxels per step: only a step that is not all `prev` is looked at voxel by voxel.
      const stop = base + W;
      let i = base + 1;
      let same = prev * 15;
      for (; i + 4 <= stop; i += 4) {
        const m =
          (data[i] >= iso ? 1 : 0) | (data[i + 1] >= iso ? 2 : 0) | (data[i + 2] >= iso ? 4 : 0) | (data[i + 3] >= iso ? 8 : 0);
        if (m === same) continue;
        for (let k = 0; k < 4; k++) {
          const b = (m >> k) & 1;
          if (b !== prev) {
            cuts[ncut++] = i + k - base - 1;
            prev = b;
          }
        }
        same = prev * 15;
      }
      for (; i < stop; i++) {
        const b = data[i] >= iso ? 1 : 0;
        if (b !== prev) {
          cuts[ncut++] = i - base - 1;
          prev = b;
        }
      }
      rowStart[q + 1] = ncut;
    }
  };
  scanSlice(0);

  // Outputs grow by doubling.
  let vcap = 4096;
  let icap = 8192;
  let pos = new Float32Array(vcap * 3);
  let idx = new Uint32Array(icap);
  let nv = 0;
  let ni = 0;

  // Vertex caches: x and y edges of the slab's lower and upper slices, z edges of the slab.
  // An entry is valid iff its id ≥ the vertex count when its slice could first be written.
  const xA = new Int32Array(S).fill(-1), xB = new Int32Array(S).fill(-1);
  const yA = new Int32Array(S).fill(-1), yB = new Int32Array(S).fill(-1);
  const zC = new Int32Array(S).fill(-1);
  const cv = new Float64Array(8);
  const ev = new Int32Array(13);

  // Active cube ranges [from, to] of the current row of cubes.
  const rangeFrom = new Int32Array(W), rangeTo = new Int32Array(W);
  const ptr = new Int32Array(4), end = new Int32Array(4), st = new Uint8Array(4);
  let thLow = 0;
  for (let d = 0; d < D - 1; d++) {
    scanSlice(d + 1);
    const thUp = nv;
    const lowX = d & 1 ? xB : xA, upX = d & 1 ? xA : xB;
    const lowY = d & 1 ? yB : yA, upY = d & 1 ? yA : yB;
    for (let r = 0; r < H - 1; r++) {
      const q0 = d * H + r;
      // The cube row touches voxel rows q0, q0+1 (next row), q0+H, q0+H+1 (next slice).
      let any = 0;
      for (let k = 0; k < 4; k++) {
        const q = q0 + (k & 1) + (k >> 1) * H;
        ptr[k] = rowStart[q];
        end[k] = rowStart[q + 1];
        st[k] = rowState[q];
        any |= end[k] - ptr[k];
      }
      if (any === 0 && st[0] === st[1] && st[0] === st[2] && st[0] === st[3]) continue;
      // Merge the four cut lists: between breakpoints every row is constant, so a cube is active
      // iff it holds a cut x edge or lies in a stretch where the four rows disagree.
      let nr = 0, seg = 0;
      while (true) {
        let e = W - 1;
        for (let k = 0; k < 4; k++) if (ptr[k] < end[k] && cuts[ptr[k]] < e) e = cuts[ptr[k]];
        const mixed = st[0] !== st[1] || st[0] !== st[2] || st[0] !== st[3];
        const from = mixed ? seg : e;
        const to = e < W - 1 ? e : W - 2; // last cube of this stretch (cube e holds the cut)
        if (from <= to) {
          if (nr > 0 && rangeTo[nr - 1] >= from - 1) rangeTo[nr - 1] = to;
          else {
            rangeFrom[nr] = from;
            rangeTo[nr++] = to;
          }
        }
        if (e === W - 1) break;
        for (let k = 0; k < 4; k++) {
          if (ptr[k] < end[k] && cuts[ptr[k]] === e) {
            ptr[k]++;
            st[k] ^= 1;
          }
        }
        seg = e + 1;
      }
      const rowW = r * W;
      for (let g = 0; g < nr; g++) {
        const lo = rangeFrom[g], hi = rangeTo[g] + 1;
        let i = q0 * W + lo;
        let v0 = data[i], v2 = data[i + W], v4 = data[i + S], v6 = data[i + S + W];
        for (let c = lo; c < hi; c++, i++) {
          const v1 = data[i + 1], v3 = data[i + W + 1], v5 = data[i + S + 1], v7 = data[i + S + W + 1];
          let cfg = 0;
          if (v0 >= iso) cfg |= 1;
          if (v1 >= iso) cfg |= 2;
          if (v2 >= iso) cfg |= 4;
          if (v3 >= iso) cfg |= 8;
          if (v4 >= iso) cfg |= 16;
          if (v5 >= iso) cfg |= 32;
          if (v6 >= iso) cfg |= 64;
          if (v7 >= iso) cfg |= 128;
          if (cfg !== 0 && cfg !== 255) {
            cv[0] = v0; cv[1] = v1; cv[2] = v2; cv[3] = v3;
            cv[4] = v4; cv[5] = v5; cv[6] = v6; cv[7] = v7;
            let key = cfg << 6;
            const amb = AMBIGUOUS[cfg];
            if (amb !== 0) key |= decideFaces(cv, amb, iso);

            if (nv + 13 > vcap) {
              vcap *= 2;
              const p = new Float32Array(vcap * 3);
              p.set(pos);
              pos = p;
            }
            for (let m = EDGE_MASK[cfg]; m !== 0; m &= m - 1) {
              const e = 31 - Math.clz32(m & -m);
              let cache: Int32Array, ci: number, th: number;
              switch (e) {
                case 0: cache = lowX; ci = rowW + c; th = thLow; break;
                case 1: cache = lowX; ci = rowW + W + c; th = thLow; break;
                case 2: cache = upX; ci = rowW + c; th = thUp; break;
                case 3: cache = upX; ci = rowW + W + c; th = thUp; break;
                case 4: cache = lowY; ci = rowW + c; th = thLow; break;
                case 5: cache = lowY; ci = rowW + c + 1; th = thLow; break;
                case 6: cache = upY; ci = rowW + c; th = thUp; break;
                case 7: cache = upY; ci = rowW + c + 1; th = thUp; break;
                case 8: cache = zC; ci = rowW + c; th = thUp; break;
                case 9: cache = zC; ci = rowW + c + 1; th = thUp; break;
                case 10: cache = zC; ci = rowW + W + c; th = thUp; break;
                default: cache = zC; ci = rowW + W + c + 1; th = thUp; break;
              }
              let id = cache[ci];
              if (id < th) {
                const ca = EA[e];
                const va = cv[ca];
                let t = (iso - va) / (cv[EB[e]] - va);
                t = t > SNAP ? (t < 1 - SNAP ? t : 1 - SNAP) : SNAP; // NaN → SNAP
                const axis = e >> 2;
                const p = nv * 3;
                pos[p] = ox + (c + (ca & 1) + (axis === 0 ? t : 0)) * v;
                pos[p + 1] = oy + (r + ((ca >> 1) & 1) + (axis === 1 ? t : 0)) * v;
                pos[p + 2] = oz + (d + (ca >> 2) + (axis === 2 ? t : 0)) * v;
                id = nv++;
                cache[ci] = id;
              }
              ev[e] = id;
            }
            const centre = CENTER_EDGES[key];
            if (centre !== 0) {
              let sx = 0, sy = 0, sz = 0, n = 0;
              for (let m = centre; m !== 0; m &= m - 1) {
                const p = ev[31 - Math.clz32(m & -m)] * 3;
                sx += pos[p]; sy += pos[p + 1]; sz += pos[p + 2];
                n++;
              }
              const p = nv * 3;
              pos[p] = sx / n; pos[p + 1] = sy / n; pos[p + 2] = sz / n;
              ev[12] = nv++;
            }

            const t0 = TRI_START[key], t1 = t0 + TRI_COUNT[key];
            if (ni + (t1 - t0) > icap) {
              icap *= 2;
              const x = new Uint32Array(icap);
              x.set(idx);
              idx = x;
            }
            for (let t = t0; t < t1; t += 3) {
              const ia = ev[TRIS[t]], ib = ev[TRIS[t + 1]], ic = ev[TRIS[t + 2]];
              // Drop zero-area triangles (collinear crossings).
              const pa = ia * 3, pb = ib * 3, pc = ic * 3;
              const ux = pos[pb] - pos[pa], uy = pos[pb + 1] - pos[pa + 1], uz = pos[pb + 2] - pos[pa + 2];
              const wx = pos[pc] - pos[pa], wy = pos[pc + 1] - pos[pa + 1], wz = pos[pc + 2] - pos[pa + 2];
              const nx = uy * wz - uz * wy, ny = uz * wx - ux * wz, nz = ux * wy - uy * wx;
              if (nx === 0 && ny === 0 && nz === 0) continue;
              idx[ni++] = ia;
              idx[ni++] = ib;
              idx[ni++] = ic;
            }
          }
          v0 = v1; v2 = v3; v4 = v5; v6 = v7;
        }
      }
    }
    thLow = thUp;
  }
  return { positions: pos.slice(0, nv * 3), indices: idx.slice(0, ni) };
}

/**
 * Asymptotic decider for the ambiguous faces in `amb`: bit f set when the inside corners connect
 * across face f (bilinear saddle value ≥ iso). Uses the face's canonical corner order, so both
 * cubes sharing a face compute bit-identical results.
 */
function decideFaces(cv: Float64Array, amb: number, iso: number): number {
  let bits = 0;
  for (let f = 0; f < 6; f++) {
    if ((amb & (1 << f)) === 0) continue;
    const k = f * 4;
    const a = cv[FACE_CORNERS[k]], b = cv[FACE_CORNERS[k + 1]], c = cv[FACE_CORNERS[k + 2]], d = cv[FACE_CORNERS[k + 3]];
    const den = a + c - (b + d);
    const num = a * c - b * d;
    if (den > 0 ? num >= iso * den : num <= iso * den) bits |= 1 << f;
  }
  return bits;
}
