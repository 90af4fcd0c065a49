/** Mesh stage: marching cubes and the mesh operations that follow it. */
export { marchingCubes } from './marching-cubes.ts';
export type { MarchingCubesOptions } from './marching-cubes.ts';
export { vertexNormals, volumeNormals } from './normals.ts';
export { taubinSmooth } from './smooth.ts';
export type { TaubinOptions } from './smooth.ts';
export { decimate } from './decimate.ts';
export type { DecimateOptions } from './decimate.ts';
export { connectedComponents, largestComponent, dropSmallComponents } from './components.ts';
export type { Components } from './components.ts';
export { frontSurface } from './front-surface.ts';
export type { FrontSurfaceOptions } from './front-surface.ts';
export { closedSolid } from './closed-solid.ts';
export type { ClosedSolidOptions } from './closed-solid.ts';
export { transformMesh } from './transform.ts';
export { vertexAdjacency, submesh } from './adjacency.ts';
export type { VertexAdjacency } from './adjacency.ts';
export { surfaceArea, signedVolume, edgeReport } from './measure.ts';
export type { EdgeReport } from './measure.ts';
