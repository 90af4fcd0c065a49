/**
 * voxface: one photograph of a face in, a textured 3D model of that face out.
 * Platform-neutral entry point (runs in Node and in browsers); Node adapters live in `voxface/node`.
 *
 * ```ts
 * import { reconstruct, exportResult } from 'voxface';
 * const result = await reconstruct(photo, { detector, session, model });
 * const files = exportResult(result, ['glb', 'json'], 'selfie');
 * ```
 */
export * from './types.ts';
export { reconstruct, reconstructFace, landmarksOnSurface } from './pipeline.ts';
export type { PipelineDeps, ReconstructOptions } from './pipeline.ts';
export { exportResult, exportFace, parseFormats, metresPerPixel, FORMATS } from './export/files.ts';
export type { Format, ExportOptions } from './export/files.ts';
export * as exporters from './export/index.ts';
export { parseModelInfo, runNetwork } from './network/index.ts';
export type { ModelInfo } from './network/index.ts';
export { estimatePose, rotationFromAngles, anglesFromRotation } from './landmarks/pose.ts';
export { textureMesh } from './texture/index.ts';
export * from './mesh/index.ts';
export * from './volume/index.ts';
export { cropFromBox, cropFromLandmarks } from './align/crop.ts';
export { sampleCrop } from './align/sample.ts';
