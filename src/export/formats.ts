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
