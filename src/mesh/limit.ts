/**
 * `--max-triangles` for every mesh of the pipeline: the network's isosurface and ICT's template (`--shape prior`,
 * `--mesh template`) alike. The template keeps its uvs (they still index the same atlas), its outline and its uv
 * seams; a limit below what the mesh can reach without tearing its outline is refused with a clear message.
 *
 * ```ts
 * const light = limitTriangles(mesh, 1500);      // ≤ 1500 triangles, normals recomputed when the mesh had them
 * limitTriangles(mesh, undefined) === mesh;       // no limit: the same mesh
 * ```
 */
import type { Mesh } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { decimate } from './decimate.ts';
import { vertexNormals } from './normals.ts';

/**
 * The mesh with at most `maxTriangles` triangles (undefined or 0: no limit), by quadric edge collapses
 * (`decimate`): interior edges first, the boundary's own edges only when the interior alone cannot reach the
 * limit (every boundary loop and every uv seam kept). Throws `VoxfaceError('BAD_ARGUMENT')` naming the limit and
 * the smallest count reached when even that is not enough.
 */
export function limitTriangles(mesh: Mesh, maxTriangles: number | undefined): Mesh {
  const n = mesh.indices.length / 3;
  if (!maxTriangles || n <= maxTriangles) return mesh;
  const light = decimate(mesh, { targetTriangles: maxTriangles, boundary: 'when-needed' });
  const left = light.indices.length / 3;
  if (left > maxTriangles) {
    throw new VoxfaceError(
      'BAD_ARGUMENT',
      `max-triangles ${maxTriangles} is below what this mesh can keep: ${left} triangles at the least (of ${n}) without tearing its outline or its uv seams`,
    );
  }
  return mesh.normals ? { ...light, normals: vertexNormals(light) } : light;
}
