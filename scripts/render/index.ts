/**
 * A small software renderer (z-buffer, Lambert shading, orthographic camera, rotation
 * about a centre), platform-neutral, for galleries, docs pictures and tests.
 *
 * @example
 * import { renderMeshes, hstack } from './render/index.ts';
 * const picture = renderMeshes([{ mesh: face.mesh, rotation: { yaw: 45 } }], { width: 320, height: 320 });
 */
export { renderMeshes } from './render.ts';
export type { RenderItem, RenderOptions, Rendered } from './render.ts';
export { fitView, multiply, rotateAbout, rotationMatrix } from './camera.ts';
export type { Matrix3, Rotation, View } from './camera.ts';
export { grid, hstack, resizeImage } from './compose.ts';
