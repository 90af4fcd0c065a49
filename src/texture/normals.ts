/**
 * Per-vertex normals of an indexed triangle mesh: the area-weighted sum of the faces' right-hand
 * normals, normalised. Vertices on no (or only degenerate) triangles get (0, 0, 1), i.e. toward the camera.
 *
 * @example
 * const normals = computeVertexNormals(mesh.positions, mesh.indices);
 */
export function computeVertexNormals(positions: Float32Array, indices: Uint32Array): Float32Array {
  const n = new Float32Array(positions.length);
  for (let t = 0; t < indices.length; t += 3) {
    const a = 3 * indices[t];
    const b = 3 * indices[t + 1];
    const c = 3 * indices[t + 2];
    const ux = positions[b] - positions[a];
    const uy = positions[b + 1] - positions[a + 1];
    const uz = positions[b + 2] - positions[a + 2];
    const vx = positions[c] - positions[a];
    const vy = positions[c + 1] - positions[a + 1];
    const vz = positions[c + 2] - positions[a + 2];
    // The cross product's length is twice the area: summing it weights faces by area.
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      n[v] += nx;
      n[v + 1] += ny;
      n[v + 2] += nz;
    }
  }
  for (let v = 0; v < n.length; v += 3) {
    const len = Math.hypot(n[v], n[v + 1], n[v + 2]);
    if (len > 0) {
      n[v] /= len;
      n[v + 1] /= len;
      n[v + 2] /= len;
    } else {
      n[v + 2] = 1;
    }
  }
  return n;
}
