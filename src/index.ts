/**
 * voxface: one photograph of a face in, a textured 3D model of that face out. This is the platform-neutral
 * entry point — the pipeline, the exporters, the options table and the types; the platforms' loaders are
 * `voxface/node` and `voxface/browser`.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { exportResult, reconstruct, resolveOptions } from 'voxface';
 * import { decodeImage, loadVoxface } from 'voxface/node';
 *
 * const { deps } = await loadVoxface();                            // in a browser: loadBrowserVoxface()
 * const photo = await decodeImage(await readFile('examples/face.jpg'));
 * const options = resolveOptions({ faces: 'largest', formats: ['glb', 'json'] }); // checked, defaults filled in
 * const result = await reconstruct(photo, deps, options);
 * for (const f of exportResult(result, 'face', options)) console.log(f.face, f.format, f.role, f.name, f.bytes.length);
 * ```
 */
export * from './types.ts';
export { reconstruct } from './pipeline.ts';
export type { PipelineDeps, ReconstructOptions } from './pipeline.ts';
export { exportResult, exportFace, fileName, baseName, FORMATS } from './export/files.ts';
export type { ExportedFile, ExportOptions, FileKind, FileRole, Format } from './export/files.ts';
export * as exporters from './export/index.ts';
export { OPTIONS, OptionError, resolveOptions } from './options.ts';
export type { FrontEnd, OptionKey, Options, OptionsInput, OptionSpec } from './options.ts';
export { parseModelInfo } from './network/index.ts';
export type { ModelInfo } from './network/index.ts';
