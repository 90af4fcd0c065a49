/**
 * Exporters: each format is a namespace with a `parse(...)` that returns bytes (or named files);
 * writing them is the caller's job. Mesh files share one frame convention (frame.ts).
 *
 * @example
 * import { glb, obj } from './export/index.ts';
 * const bytes = glb.parse(textured, { metresPerPixel: 0.0008 });
 * const files = obj.parse(textured, { name: 'face' });
 */
export * as glb from './glb.ts';
export * as obj from './obj.ts';
export * as ply from './ply.ts';
export * as stl from './stl.ts';
export * as npy from './npy.ts';
export * as nrrd from './nrrd.ts';
export * as depth from './depth.ts';
export * as json from './json.ts';
export { toExportFrame, frameNote, validateMesh, type ExportFrame, type FramedMesh } from './frame.ts';
export { volumeGeometry, quantizeVolume, type VolumeGeometry } from './volume.ts';
export { texturePNG, TEXTURE_PNG } from './texture.ts';
