/**
 * Adapts an onnxruntime session (onnxruntime-node and onnxruntime-web share this API) to the pipeline's
 * `InferenceSession`: the platform adapters pass their own `Tensor` class.
 *
 * ```ts
 * import * as ort from 'onnxruntime-node';
 * const session = wrapOrtSession(await ort.InferenceSession.create(bytes), ort.Tensor);
 * ```
 */
import type { InferenceSession, Tensor } from '../types.ts';

/** The part of an onnxruntime session the pipeline uses. */
export interface OrtLikeSession<T> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, T>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}

export function wrapOrtSession<T>(s: OrtLikeSession<T>, TensorClass: new (type: 'float32', data: Float32Array, dims: readonly number[]) => T): InferenceSession {
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
      const ortFeeds: Record<string, T> = {};
      for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = new TensorClass('float32', t.data, t.dims);
      const out = await s.run(ortFeeds);
      const res: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(out)) res[k] = { data: t.data as Float32Array, dims: [...t.dims] };
      return res;
    },
  };
}
