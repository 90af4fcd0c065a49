/**
 * Exporters: each format is a namespace with a `parse(...)` that returns bytes and does no I/O; a file that
 * references another (OBJ → MTL → PNG, PLY → PNG, volume sidecar → NPY) is given that file's name. Writing is
 * the caller's job; `exportResult` (files.ts) names and makes every file of a result. Mesh files share one
 * frame convention (frame.ts).
 *
 * @example
 * import { glb, obj } from './export/index.ts';
 * const bytes = glb.parse(textured, { metresPerPixel: 0.0008 });
 * const objText = obj.parse(textured, { materialFile: 'face.mtl' });
 * const mtl = obj.parseMaterial({ textureFile: 'face.png' });
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
