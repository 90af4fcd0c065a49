/**
 * The dense-shape metric of faces on ICT's topology (the prior, and the network's surface on the template), against
 * synthetic ground truth rendered by training/benchmark.py: its `<name>.vertices.f32` (the posed ICT vertices) and
 * the identity and expression weights in ground_truth.json.
 *
 * Mean distance in mm between the predicted face and the rendered one, vertex by vertex (the same topology), over
 * the front of the face (ICT's `narrow_face` vertices, 0–6705, that face the camera in the ground truth), after the
 * pose is removed: a similarity takes the prediction onto the ground truth's own shape in ICT's frame (cm). It
 * rewards identity: a correct pose and expression on the mean face still scores its distance to this person's face.
 *
 * ```ts
 * const dense = loadDenseTruth('bench-data/synthetic');
 * const mm = dense?.error('synth0001', face, basis);   // NaN for a mesh not on ICT's topology
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fitSimilarity } from '../src/landmarks/pose.ts';
import { shapeVertices } from '../src/prior/index.ts';
import type { IctBasis } from '../src/prior/index.ts';
import type { FaceResult } from '../src/types.ts';

/** ICT's `narrow_face` region: the front of the face. */
export const FRONT_VERTICES = 6706;

export interface DenseTruth {
  /** The metric for one face (NaN when the face's mesh is not on ICT's topology or the name has no truth). */
  error(name: string, face: Pick<FaceResult, 'mesh' | 'prior'>, basis: IctBasis): number;
}

/** The dense ground truth of a dataset folder, or undefined when it has none (AFLW2000-3D, older renders). */
export function loadDenseTruth(dir: string): DenseTruth | undefined {
  const file = path.join(dir, 'ground_truth.json');
  if (!existsSync(file)) return undefined;
  const gt = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { identity?: number[]; expression?: number[] }>;
  const names = Object.keys(gt).filter((n) => gt[n].identity && existsSync(path.join(dir, `${n}.vertices.f32`)));
  if (names.length === 0) return undefined;
  return {
    error(name, face, b) {
      const g = gt[name];
      if (!face.prior || !g?.identity || !g.expression) return NaN;
      const buf = readFileSync(path.join(dir, `${name}.vertices.f32`));
      const posed = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      return denseShapeError(face.mesh.positions, b.meshes[face.prior.region].vertex, posed, shapeVertices(b, g.identity, g.expression), b);
    },
  };
}

/**
 * The metric itself: `pred` (photo frame) on a template whose render vertex i is model vertex `vertexOf[i]`;
 * `posed` the ground truth's posed ICT vertices (photo frame), `truth` its shape in ICT's frame (cm).
 */
export function denseShapeError(pred: Float32Array, vertexOf: ArrayLike<number>, posed: Float32Array, truth: Float32Array, basis: IctBasis): number {
  const facing = facingCamera(posed, basis);
  const P: number[][] = [], Q: number[][] = [];
  const seen = new Uint8Array(FRONT_VERTICES);
  for (let i = 0; i < vertexOf.length; i++) {
    const v = vertexOf[i];
    if (v >= FRONT_VERTICES || seen[v] || !facing[v]) continue;
    seen[v] = 1;
    P.push([pred[3 * i], -pred[3 * i + 1], pred[3 * i + 2]]); // y up, like ICT's frame
    Q.push([truth[3 * v], truth[3 * v + 1], truth[3 * v + 2]]);
  }
  if (P.length < 100) return NaN;
  const { rotation: R, scale: s, translation: t } = fitSimilarity(P, Q);
  let d = 0;
  for (let k = 0; k < P.length; k++) {
    const [x, y, z] = P[k];
    const a = s * (R[0] * x + R[1] * y + R[2] * z) + t[0] - Q[k][0];
    const b = s * (R[3] * x + R[4] * y + R[5] * z) + t[1] - Q[k][1];
    const c = s * (R[6] * x + R[7] * y + R[8] * z) + t[2] - Q[k][2];
    d += Math.hypot(a, b, c);
  }
  return (10 * d) / P.length;
}

/** Per model vertex: its normal in the posed ground truth (photo frame, y down) faces the camera. */
export function facingCamera(posed: Float32Array, basis: IctBasis): Uint8Array {
  const V0 = basis.modelVertices;
  const nz = new Float64Array(V0);
  const t = basis.meshes.head;
  for (let i = 0; i < t.index.length; i += 3) {
    const a = t.vertex[t.index[i]], b = t.vertex[t.index[i + 1]], c = t.vertex[t.index[i + 2]];
    if (a >= V0 || b >= V0 || c >= V0) continue;
    // ICT's winding faces out in its y-up frame: in the photo frame (y down) the cross product's z flips
    const ux = posed[3 * b] - posed[3 * a], uy = posed[3 * b + 1] - posed[3 * a + 1];
    const vx = posed[3 * c] - posed[3 * a], vy = posed[3 * c + 1] - posed[3 * a + 1];
    const z = -(ux * vy - uy * vx);
    nz[a] += z;
    nz[b] += z;
    nz[c] += z;
  }
  return Uint8Array.from(nz, (z) => (z > 0 ? 1 : 0));
}
