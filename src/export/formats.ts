/**
 * The output formats, in the order files are written and listed.
 *
 * ```ts
 * import { FORMATS } from './export/formats.ts';
 * FORMATS.includes('glb'); // true
 * ```
 */
export const FORMATS = ['glb', 'obj', 'ply', 'stl', 'volume', 'nrrd', 'depth', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/**
 * The formats made from the volume network's volume: a face has it only where that network ran (the pipeline's
 * `volume` option; auto runs it when these are among the formats asked for).
 */
export const VOLUME_FORMATS: readonly Format[] = ['volume', 'nrrd'];
