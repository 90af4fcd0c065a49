/**
 * How detector and landmark models are obtained: an injected loader, so the same detection code
 * runs in Node (files, see `src/node/detectors.ts`) and in the browser (URLs, `urlModelLoader` in
 * `src/browser/detector.ts`).
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { InferenceSession } from '../types.ts';
import { tf } from './tf.ts';

/** Loads a TF.js graph model by its name (e.g. 'blazeface-back'), however the platform stores it. */
export type GraphModelLoader = (name: string) => Promise<GraphModel>;

/** The answer of a detector network: every output's values and shape, keyed by its TF.js name without ':0'. */
export type NetOutputs = Map<string, { data: Float32Array; shape: number[] }>;

/**
 * One detector network (BlazeFace, Face Mesh): a float32 NHWC image in, its outputs by TF.js name out, whichever
 * runtime runs it — TF.js (`graphNets`) or onnxruntime on the graph `scripts/tfjs-onnx.py` wrote (`sessionNet`).
 */
export type DetectorNet = (input: Float32Array, shape: [number, number, number, number]) => Promise<NetOutputs>;

/** Loads a detector network by its model name (e.g. 'facemesh'). */
export type DetectorNetLoader = (name: string) => Promise<DetectorNet>;

/**
 * The detector networks that `scripts/tfjs-onnx.py` writes as ONNX (`models/<name>.onnx`): onnxruntime runs them 2–5×
 * faster than TF.js' WASM backend, with the same answers to 1e-5 of their range (test/detect.test.ts). FaceBoxes, a
 * graph with loops, stays on TF.js.
 */
export const ONNX_DETECTOR_NETS: readonly string[] = ['facemesh', 'blazeface-front', 'blazeface-back'];

/**
 * The TF.js graph models of `load` as detector networks.
 *
 *   const nets = graphNets(fileModelLoader());
 *   const out = await (await nets('facemesh'))(pixels, [1, 192, 192, 3]);
 */
export function graphNets(load: GraphModelLoader): DetectorNetLoader {
  return async (name) => {
    const model = await load(name);
    return (input, shape) => runGraph(model, input, shape);
  };
}

/**
 * An onnxruntime session of a graph written by `scripts/tfjs-onnx.py` (NHWC input, TF.js' output names) as a
 * detector network; the Node adapter makes the session (src/node/detectors.ts).
 *
 *   const net = sessionNet(session);
 *   const out = await net(pixels, [1, 192, 192, 3]);   // out.get('Identity_2')…
 */
export function sessionNet(session: InferenceSession): DetectorNet {
  const input = session.inputNames[0];
  return async (data, shape) => {
    const out = await session.run({ [input]: { data, dims: shape } });
    const result: NetOutputs = new Map();
    for (const name of session.outputNames) result.set(name, { data: out[name].data, shape: [...out[name].dims] });
    return result;
  };
}

/**
 * Detector networks from ONNX where `onnx` loads them (the names of `ONNX_DETECTOR_NETS`), the others from TF.js.
 *
 *   const nets = mixedNets(graphNets(fileModelLoader()), onnxNetLoader('models'));
 */
export function mixedNets(graphs: DetectorNetLoader, onnx: DetectorNetLoader): DetectorNetLoader {
  return (name) => (ONNX_DETECTOR_NETS.includes(name) ? onnx(name) : graphs(name));
}

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
