/**
 * voxface: one photograph of a face in, a textured 3D model of that face out.
 * Platform-neutral entry point (runs in Node and in browsers); Node adapters live in `voxface/node`.
 */
export * from './types.ts';
