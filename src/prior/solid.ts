/**
 * The fitted prior as a closed, printable solid (`--solid` STL): the face surface (eyes and mouth already capped),
 * walls straight back from its outer border, and a flat back; the head's remaining openings (the neck) capped flat.
 * Built in ICT's own frame (the posed mesh taken back through the fit's pose), so the back lies behind the face
 * whichever way the head is turned in the photo, then posed back into the photo frame.
 *
 * ```ts
 * const solid = priorSolid(face.mesh, face.prior);   // watertight Mesh, photo frame
 * ```
 */
import type { Mesh } from '../types.ts';
import type { PriorFit } from './fit.ts';
import { poseToPhoto } from './mesh.ts';
import type { PriorRegion } from './mesh.ts';

/** Depth of the flat back behind the face's deepest point, cm. */
const BACK_MARGIN = 1;

/** `mesh`: the posed prior (`priorMesh`) of `fit`; `fit.region` says whether it is the face or the whole head. */
export function priorSolid(mesh: Pick<Mesh, 'positions' | 'indices'>, fit: PriorFit & { region?: PriorRegion }): Mesh {
  // back into ICT's frame: X = Rᵀ (P − t) / s with P = (x, −y, z)
  const { rotation: R, scale: s, translation: t } = fit;
  const p = mesh.positions;
  // one vertex per position (the template splits vertices at uv seams; a solid needs none)
  const xyz: number[] = [];
  const local = new Map<string, number>();
  const remap = new Uint32Array(p.length / 3);
  for (let i = 0; i < p.length / 3; i++) {
    const key = `${p[3 * i]},${p[3 * i + 1]},${p[3 * i + 2]}`;
    let j = local.get(key);
    if (j === undefined) {
      const x = (p[3 * i] - t[0]) / s, y = (-p[3 * i + 1] - t[1]) / s, z = (p[3 * i + 2] - t[2]) / s;
      xyz.push(R[0] * x + R[3] * y + R[6] * z, R[1] * x + R[4] * y + R[7] * z, R[2] * x + R[5] * y + R[8] * z);
      j = xyz.length / 3 - 1;
      local.set(key, j);
    }
    remap[i] = j;
  }
  // the photo's y is a reflection: ICT's frame has the opposite winding
  const tris: number[] = [];
  for (let i = 0; i < mesh.indices.length; i += 3) tris.push(remap[mesh.indices[i]], remap[mesh.indices[i + 2]], remap[mesh.indices[i + 1]]);
  const loops = borderLoops(tris);
  if ((fit.region ?? 'face') === 'face') {
    // the outer border (the longest loop): walls back to a plane, then the back polygon
    loops.sort((a, b) => b.length - a.length);
    const border = loops[0];
    let zMin = Infinity;
    for (let i = 2; i < xyz.length; i += 3) zMin = Math.min(zMin, xyz[i]);
    const zBack = zMin - BACK_MARGIN;
    const back = border.map((v) => {
      xyz.push(xyz[3 * v], xyz[3 * v + 1], zBack);
      return xyz.length / 3 - 1;
    });
    const n = border.length;
    for (let k = 0; k < n; k++) {
      // the border runs a → b in the surface's winding; the wall runs b → a
      const a = border[k], b = border[(k + 1) % n], a2 = back[k], b2 = back[(k + 1) % n];
      tris.push(b, a, a2, b, a2, b2);
    }
    // the back: its polygon (the back copies in border order), triangulated against that order
    const poly = back.map((v) => [xyz[3 * v], xyz[3 * v + 1]] as [number, number]);
    for (const [i, j, k] of earClip(poly)) tris.push(back[i], back[j], back[k]);
    for (const loop of loops.slice(1)) capLoop(loop, xyz, tris);
  } else {
    for (const loop of loops) capLoop(loop, xyz, tris);
  }
  const positions = poseToPhoto(Float32Array.from(xyz), fit);
  const indices = new Uint32Array(tris.length);
  for (let i = 0; i < tris.length; i += 3) {
    indices[i] = tris[i];
    indices[i + 1] = tris[i + 2];
    indices[i + 2] = tris[i + 1];
  }
  return { positions, indices };
}

/** Closed loops of border edges (edges of one triangle), each in the triangles' winding order. */
export function borderLoops(tris: readonly number[]): number[][] {
  let n = 0;
  for (const v of tris) n = Math.max(n, v + 1);
  const key = (a: number, b: number) => (a < b ? a * n + b : b * n + a);
  const count = new Map<number, number>();
  for (let i = 0; i < tris.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const e = key(tris[i + k], tris[i + ((k + 1) % 3)]);
      count.set(e, (count.get(e) ?? 0) + 1);
    }
  }
  const next = new Map<number, number>();
  for (let i = 0; i < tris.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = tris[i + k], b = tris[i + ((k + 1) % 3)];
      if (count.get(key(a, b)) === 1) next.set(a, b);
    }
  }
  const loops: number[][] = [];
  const seen = new Set<number>();
  for (const start of next.keys()) {
    if (seen.has(start)) continue;
    const loop: number[] = [];
    for (let v: number | undefined = start; v !== undefined && !seen.has(v); v = next.get(v)) {
      seen.add(v);
      loop.push(v);
    }
    loops.push(loop);
  }
  return loops;
}

/** Closes a loop with a fan from its centroid (a new vertex). */
function capLoop(loop: readonly number[], xyz: number[], tris: number[]): void {
  const c = [0, 0, 0];
  for (const v of loop) for (let a = 0; a < 3; a++) c[a] += xyz[3 * v + a] / loop.length;
  xyz.push(c[0], c[1], c[2]);
  const centre = xyz.length / 3 - 1;
  for (let k = 0; k < loop.length; k++) tris.push(loop[(k + 1) % loop.length], loop[k], centre);
}

/**
 * Triangulates a simple polygon (ear clipping), returning index triples wound against the polygon's own order, so
 * that the cap closes a border loop given in its surface's winding. A polygon that is not simple ends with a fan
 * over what is left.
 */
export function earClip(poly: readonly [number, number][]): [number, number, number][] {
  const n = poly.length;
  let area = 0;
  for (let i = 0; i < n; i++) {
    const [x0, y0] = poly[i], [x1, y1] = poly[(i + 1) % n];
    area += x0 * y1 - x1 * y0;
  }
  // work on a counter-clockwise order, flip the triangles at the end
  const idx = Array.from({ length: n }, (_, i) => i);
  if (area < 0) idx.reverse();
  const cross = (a: number, b: number, c: number) =>
    (poly[b][0] - poly[a][0]) * (poly[c][1] - poly[a][1]) - (poly[b][1] - poly[a][1]) * (poly[c][0] - poly[a][0]);
  const inside = (p: number, a: number, b: number, c: number) => cross(a, b, p) >= 0 && cross(b, c, p) >= 0 && cross(c, a, p) >= 0;
  const out: [number, number, number][] = [];
  let guard = 0;
  while (idx.length > 3 && guard < 4 * n * n) {
    let clipped = false;
    for (let k = 0; k < idx.length; k++) {
      guard++;
      const a = idx[(k + idx.length - 1) % idx.length], b = idx[k], c = idx[(k + 1) % idx.length];
      if (cross(a, b, c) <= 0) continue; // reflex
      let ear = true;
      for (const p of idx) {
        if (p !== a && p !== b && p !== c && inside(p, a, b, c)) {
          ear = false;
          break;
        }
      }
      if (!ear) continue;
      out.push([a, b, c]);
      idx.splice(k, 1);
      clipped = true;
      break;
    }
    if (!clipped) break;
  }
  // what is left (a triangle, or a polygon that is not simple): a fan
  for (let k = 1; k + 1 < idx.length; k++) out.push([idx[0], idx[k], idx[k + 1]]);
  // the triangles run with the counter-clockwise order: against the given order when that one was counter-clockwise
  return area > 0 ? out.map(([a, b, c]) => [a, c, b]) : out;
}
