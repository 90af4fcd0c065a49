/**
 * How detector and landmark models are obtained: an injected loader, so the same detection code
 * runs in Node (files, see `src/node/detectors.ts`) and in the browser (URLs, `urlModelLoader` in
 * `src/browser/detector.ts`).
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { tf } from './tf.ts';

/** Loads a TF.js graph model by its name (e.g. 'blazeface-back'), however the platform stores it. */
export type GraphModelLoader = (name: string) => Promise<GraphModel>;

/**
 * Runs a graph model on one float32 NHWC image and returns every output's values, keyed by the
 * output node name without the ':0' suffix, plus shapes.
 *
 *   const out = await runGraph(model, pixels, [1, 128, 128, 3]);
 *   out.get('Identity')?.data;
 */
export async function runGraph(
  model: GraphModel,
  input: Float32Array,
  shape: [number, number, number, number],
): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  const x = tf().tensor4d(input, shape);
  try {
    const raw = model.execute(x);
    const outs = Array.isArray(raw) ? raw : [raw as TF.Tensor];
    const result = new Map<string, { data: Float32Array; shape: number[] }>();
    for (let i = 0; i < outs.length; i++) {
      const name = model.outputs[i].name.replace(/:0$/, '');
      result.set(name, { data: (await outs[i].data()) as Float32Array, shape: outs[i].shape });
      outs[i].dispose();
    }
    return result;
  } finally {
    x.dispose();
  }
}
