/**
 * The fitted prior as a mesh in the photo frame, on ICT's topology (its triangles and its uv atlas).
 *
 * ```ts
 * const mesh = priorMesh(basis, fit, 'face');   // Mesh: photo pixels, x right, y down, z toward the camera
 * const onLandmarks = priorMesh(basis, fit, 'face', { surfaceLandmarks: true });   // through the benchmark's 68
 * mesh.uvs;                                      // ICT's atlas: the same texel is the same part of every face
 * const lm = priorLandmarks(basis, fit);         // the 68 landmark vertices, photo frame
 * ```
 */
import { vertexNormals } from '../mesh/normals.ts';
import type { Mesh, Vec3 } from '../types.ts';
import { shapeVertices } from './basis.ts';
import type { IctBasis } from './basis.ts';
import type { PriorFit } from './fit.ts';
import { LANDMARKS68_AFLW } from './landmarks68-aflw.ts';
import { landmarkSurfaceField } from './surface-field.ts';

/** Which part of the ICT head: the face (hairline to under the chin, with ears) or the whole head and neck. */
export type PriorRegion = 'face' | 'head';

/** Maps model-frame points (cm) to the photo frame in place: photo = (P.x, −P.y, P.z), P = s R X + t. */
export function poseToPhoto(xyz: Float32Array, fit: Pick<PriorFit, 'rotation' | 'scale' | 'translation'>): Float32Array {
  const { rotation: R, scale: s, translation: t } = fit;
  for (let i = 0; i < xyz.length; i += 3) {
    const x = xyz[i], y = xyz[i + 1], z = xyz[i + 2];
    xyz[i] = s * (R[0] * x + R[1] * y + R[2] * z) + t[0];
    xyz[i + 1] = -(s * (R[3] * x + R[4] * y + R[5] * z) + t[1]);
    xyz[i + 2] = s * (R[6] * x + R[7] * y + R[8] * z) + t[2];
  }
  return xyz;
}

export interface PriorMeshOptions {
  /**
   * Move the nose, lips, eyes and brows by the translation layer's offsets (src/prior/surface-field.ts), so the
   * surface passes through the benchmark's 68 points (default false: ICT's own surface).
   */
  surfaceLandmarks?: boolean;
}

/**
 * The fitted face (or head) as a mesh in the photo frame, with ICT's uvs and vertex normals. Triangles are wound
 * counter-clockwise seen from outside in the photo frame's coordinates, like every mesh of the pipeline (the
 * photo's y is a reflection of ICT's, so ICT's winding is reversed).
 */
export function priorMesh(basis: IctBasis, fit: PriorFit, region: PriorRegion = 'face', options: PriorMeshOptions = {}): Mesh {
  const t = basis.meshes[region];
  const positions = poseToPhoto(shapeVertices(basis, fit.identity, fit.expression, t.vertex), fit);
  const mesh: Mesh = { positions, indices: photoIndices(basis, region), uvs: new Float32Array(t.uv) };
  const fitted = { ...mesh, normals: vertexNormals(mesh) };
  return options.surfaceLandmarks ? onSurfaceLandmarks(basis, fit, region, fitted) : fitted;
}

/** The region's triangles wound for the photo frame (ICT's reversed: the photo's y is a reflection of ICT's). */
export function photoIndices(basis: IctBasis, region: PriorRegion): Uint32Array {
  const t = basis.meshes[region];
  const indices = new Uint32Array(t.index.length);
  for (let i = 0; i < indices.length; i += 3) {
    indices[i] = t.index[i];
    indices[i + 1] = t.index[i + 2];
    indices[i + 2] = t.index[i + 1];
  }
  return indices;
}

/**
 * The vertex positions of `priorMesh(basis, fit, region, { surfaceLandmarks: true })` alone (no normals, no uvs, no
 * triangles): the same floats, for code that only looks at where the surface lies (src/prior/silhouette.ts).
 */
export function surfacePositions(basis: IctBasis, fit: PriorFit, region: PriorRegion = 'face'): Float32Array {
  const vertexOf = basis.meshes[region].vertex;
  const positions = poseToPhoto(shapeVertices(basis, fit.identity, fit.expression, vertexOf), fit);
  moveOntoLandmarks(positions, vertexOf, landmarkSurfaceField(basis), fit);
  return positions;
}

/** Adds the posed field (s R d, photo frame) to each vertex, in place. */
function moveOntoLandmarks(positions: Float32Array, vertexOf: ArrayLike<number>, d: Float32Array, fit: Pick<PriorFit, 'rotation' | 'scale'>): void {
  const { rotation: R, scale: s } = fit;
  for (let i = 0; i < vertexOf.length; i++) {
    const v = 3 * vertexOf[i];
    const x = d[v], y = d[v + 1], z = d[v + 2];
    if (x === 0 && y === 0 && z === 0) continue;
    positions[3 * i] += s * (R[0] * x + R[1] * y + R[2] * z);
    positions[3 * i + 1] -= s * (R[3] * x + R[4] * y + R[5] * z);
    positions[3 * i + 2] += s * (R[6] * x + R[7] * y + R[8] * z);
  }
}

/**
 * `priorMesh`'s fitted mesh (without the field) moved onto the benchmark's landmarks: each vertex by the posed field
 * of src/prior/surface-field.ts (s R d, photo frame; `field`: another such field, e.g. of other settings), normals
 * again; the input is not changed.
 *
 * ```ts
 * const fitted = priorMesh(basis, fit);
 * const moved = onSurfaceLandmarks(basis, fit, 'face', fitted);   // = priorMesh(basis, fit, 'face', { surfaceLandmarks: true })
 * ```
 */
export function onSurfaceLandmarks(basis: IctBasis, fit: Pick<PriorFit, 'rotation' | 'scale'>, region: PriorRegion, fitted: Mesh, field?: Float32Array): Mesh {
  const positions = new Float32Array(fitted.positions);
  moveOntoLandmarks(positions, basis.meshes[region].vertex, field ?? landmarkSurfaceField(basis), fit);
  const mesh: Mesh = { positions, indices: fitted.indices, uvs: fitted.uvs };
  return { ...mesh, normals: vertexNormals(mesh) };
}

/** The 68 landmark vertices of the fitted face, photo frame. */
export function priorLandmarks(basis: IctBasis, fit: PriorFit): Vec3[] {
  const p = poseToPhoto(shapeVertices(basis, fit.identity, fit.expression, basis.landmarks68), fit);
  return Array.from({ length: 68 }, (_, i): Vec3 => [p[3 * i], p[3 * i + 1], p[3 * i + 2]]);
}

/**
 * The 68 landmarks as the AFLW2000-3D benchmark (and 3DDFA, PRNet, 300W-LP) places them, on the fitted face, photo
 * frame: each a model vertex moved by a fixed offset in ICT's frame (src/prior/landmarks68-aflw.ts, fitted on
 * AFLW2000-3D `fit/` by scripts/fit-landmarks68.ts). The jaw contour lies inside ICT's head, not on its outline.
 *
 * ```ts
 * const lm = benchmarkLandmarks(basis, fit);   // 68 × [x, y, z], what NME on AFLW2000-3D scores
 * ```
 */
export function benchmarkLandmarks(basis: IctBasis, fit: Pick<PriorFit, 'identity' | 'expression' | 'rotation' | 'scale' | 'translation'>): Vec3[] {
  const { vertex, offset } = LANDMARKS68_AFLW;
  const m = shapeVertices(basis, fit.identity, fit.expression, vertex);
  for (let i = 0; i < m.length; i++) m[i] += offset[i];
  const p = poseToPhoto(m, fit);
  return Array.from({ length: 68 }, (_, i): Vec3 => [p[3 * i], p[3 * i + 1], p[3 * i + 2]]);
}
