/**
 * How detector and landmark models are obtained: an injected loader, so the same detection code
 * runs in Node (files, see `src/node/detectors.ts`) and in the browser (URLs, `urlModelLoader`).
 */
import * as tf from '@tensorflow/tfjs';

/** Loads a TF.js graph model by its name (e.g. 'blazeface-back'), however the platform stores it. */
export type GraphModelLoader = (name: string) => Promise<tf.GraphModel>;

/**
 * A loader fetching `<baseUrl>/<name>.json` and its weight files over HTTP (browser, or any fetch).
 *
 *   const load = urlModelLoader('/models/human');
 *   const model = await load('blazeface-back');
 */
export function urlModelLoader(baseUrl: string): GraphModelLoader {
  const base = baseUrl.replace(/\/+$/, '');
  return (name) => tf.loadGraphModel(`${base}/${name}.json`);
}

/**
 * Runs a graph model on one float32 NHWC image and returns every output's values, keyed by the
 * output node name without the ':0' suffix, plus shapes.
 *
 *   const out = await runGraph(model, pixels, [1, 128, 128, 3]);
 *   out.get('Identity')?.data;
 */
export async function runGraph(
  model: tf.GraphModel,
  input: Float32Array,
  shape: [number, number, number, number],
): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  const x = tf.tensor4d(input, shape);
  try {
    const raw = model.execute(x);
    const outs = Array.isArray(raw) ? raw : [raw as tf.Tensor];
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
