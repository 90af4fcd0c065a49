import type { Mesh } from '../types.ts';
import { submesh } from './adjacency.ts';

/** Connected components of a mesh (triangles sharing a vertex are connected). */
export interface Components {
  /** Number of components. */
  count: number;
  /** Component of every triangle, 0 = the one with the most triangles, then by size. */
  triangleLabels: Int32Array;
  /** Triangles per component, largest first. */
  sizes: number[];
}

/**
 * Labels connected components (union-find over vertices), largest first.
 *
 * @example const { count, sizes } = connectedComponents(mesh);
 */
export function connectedComponents(mesh: Mesh): Components {
  const n = mesh.positions.length / 3;
  const t = mesh.indices;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent[ra < rb ? rb : ra] = ra < rb ? ra : rb;
  };
  for (let i = 0; i < t.length; i += 3) {
    union(t[i], t[i + 1]);
    union(t[i], t[i + 2]);
  }
  const nt = t.length / 3;
  const rootLabel = new Int32Array(n).fill(-1);
  const raw = new Int32Array(nt);
  const counts: number[] = [];
  for (let i = 0; i < nt; i++) {
    const root = find(t[3 * i]);
    if (rootLabel[root] < 0) {
      rootLabel[root] = counts.length;
      counts.push(0);
    }
    raw[i] = rootLabel[root];
    counts[raw[i]]++;
  }
  const order = counts.map((_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const rank = new Int32Array(order.length);
  order.forEach((c, r) => (rank[c] = r));
  const triangleLabels = raw.map((l) => rank[l]);
  return { count: counts.length, triangleLabels, sizes: order.map((c) => counts[c]) };
}

/**
 * Keeps the connected component with the most triangles (drops floating specks of network noise).
 *
 * @example const clean = largestComponent(marchingCubes(volume));
 */
export function largestComponent(mesh: Mesh): Mesh {
  const { count, triangleLabels } = connectedComponents(mesh);
  if (count <= 1) return mesh;
  return submesh(mesh, triangleLabels.map((l) => (l === 0 ? 1 : 0)));
}

/**
 * Drops components with fewer than `minFraction` of the largest one's triangles.
 *
 * @example const clean = dropSmallComponents(mesh, 0.05);
 */
export function dropSmallComponents(mesh: Mesh, minFraction: number): Mesh {
  const { count, triangleLabels, sizes } = connectedComponents(mesh);
  if (count <= 1) return mesh;
  const min = sizes[0] * minFraction;
  return submesh(mesh, triangleLabels.map((l) => (sizes[l] >= min ? 1 : 0)));
}
