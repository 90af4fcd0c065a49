/**
 * The landmark stage: a small CNN (training/landmarks/) regresses the benchmark's 68 landmarks in 3D from a 112×112
 * crop of the face — at every yaw, learnt from real photos (AFLW's manual points and AFLW2000-3D `fit/`). Its points
 * mean what AFLW2000-3D, 3DDFA and 300W-LP mean by the 68 (src/prior/landmarks68-aflw.ts), and the prior is fitted to
 * them (`PriorTargets.aflw68`). Platform-neutral: the session comes from the Node or browser adapter.
 *
 * ```ts
 * const info = parseLandmarkModelInfo(JSON.parse(await readFile('models/landmarks68.json', 'utf8')));
 * const { landmarks, crop } = await regressLandmarks(levels, firstCrop, { session, info });
 * landmarks[30];   // the nose tip, photo frame: x right, y down, z toward the camera (photo pixels)
 * ```
 */
import { landmarkBoxFromDetection, pointsBox } from '../align/crop.ts';
import { sampleCrop } from '../align/sample.ts';
import type { ImageLevels } from '../align/sample.ts';
import { VoxfaceError } from '../types.ts';
import type { Box, Crop, Detection, InferenceSession, Tensor, Vec3 } from '../types.ts';
import { MIRROR68 } from '../network/index.ts';

/** The landmark model's sidecar (`models/landmarks68.json`). */
export interface LandmarkModelInfo {
  kind: 'landmarks68';
  /** Side of the network's square input, pixels. */
  inputSize: number;
  /**
   * The crop rule it was trained with: for the 68 points' box with s = √(w·h), the crop is a square of side `k`·s
   * centred at the box centre + (dx, dy)·s.
   */
  crop: { k: number; dx: number; dy: number };
  /** Input tensor name and output tensor name. */
  input: string;
  output: string;
}

/** A loaded landmark model. */
export interface LandmarkModel {
  session: InferenceSession;
  info: LandmarkModelInfo;
}

/** Checks a sidecar; throws VoxfaceError MODEL_ERROR naming what is wrong. */
export function parseLandmarkModelInfo(json: unknown): LandmarkModelInfo {
  const j = json as Partial<LandmarkModelInfo> | null;
  const bad = (what: string): never => {
    throw new VoxfaceError('MODEL_ERROR', `landmark model sidecar: ${what}`);
  };
  if (!j || typeof j !== 'object') bad('not an object');
  const o = j as Partial<LandmarkModelInfo>;
  if (o.kind !== 'landmarks68') bad(`kind must be "landmarks68"`);
  if (!(Number.isInteger(o.inputSize) && (o.inputSize as number) >= 16)) bad('inputSize must be an integer ≥ 16');
  const c = o.crop;
  if (!c || ![c.k, c.dx, c.dy].every(Number.isFinite) || !(c.k > 0)) bad('crop must hold finite k > 0, dx, dy');
  if (typeof o.input !== 'string' || typeof o.output !== 'string') bad('input and output must name the tensors');
  return o as LandmarkModelInfo;
}

/** The model's crop around a landmark box (s = √(w·h)). */
export function cropAroundBox(box: Box, info: LandmarkModelInfo): Crop {
  const [x, y, w, h] = box;
  const s = Math.sqrt(Math.max(w, 1) * Math.max(h, 1));
  const side = info.crop.k * s;
  const cx = x + w / 2 + info.crop.dx * s;
  const cy = y + h / 2 + info.crop.dy * s;
  return { size: info.inputSize, scale: side / info.inputSize, offset: [cx - side / 2, cy - side / 2] };
}

/**
 * The first crop of a detected face: around Face Mesh's 68 points where the detector has them (their box is close to
 * the benchmark's), else around the landmark box the detector's box calibration predicts.
 */
export function firstLandmarkCrop(det: Pick<Detection, 'box' | 'roll' | 'source' | 'landmarks68'>, info: LandmarkModelInfo): Crop {
  const box = det.landmarks68 && det.landmarks68.length === 68 ? pointsBox(det.landmarks68) : landmarkBoxFromDetection(det);
  return cropAroundBox(box, info);
}

/**
 * One pass: the network on one crop (and, with `flip`, on its mirror image in the same batch, the two answers
 * averaged: the mirror's landmark i is landmark MIRROR68[i] at 1 − x), its 68 points in the photo frame.
 */
export async function runLandmarkModel(levels: ImageLevels, crop: Crop, model: LandmarkModel, flip = true): Promise<Vec3[]> {
  const { session, info } = model;
  const n = info.inputSize;
  const input = sampleCrop(levels, crop, { outside: 'clamp' });
  let data = input.data;
  if (flip) {
    data = new Float32Array(2 * input.data.length);
    data.set(input.data);
    const plane = n * n, off = input.data.length;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < n; y++) {
        const row = c * plane + y * n;
        for (let x = 0; x < n; x++) data[off + row + x] = input.data[row + n - 1 - x];
      }
    }
  }
  const feeds: Record<string, Tensor> = { [info.input]: { data, dims: [flip ? 2 : 1, 3, n, n] } };
  const out = (await session.run(feeds))[info.output];
  const d = out?.data as Float32Array | undefined;
  const count = flip ? 2 : 1;
  if (!d || d.length !== 204 * count) throw new VoxfaceError('MODEL_ERROR', `landmark model: expected ${count} × 68 × 3 outputs, got ${d?.length ?? 0}`);
  const side = crop.size * crop.scale;
  return Array.from({ length: 68 }, (_, i): Vec3 => {
    let x = d[3 * i], y = d[3 * i + 1], z = d[3 * i + 2];
    if (flip) {
      const j = 204 + 3 * MIRROR68[i];
      x = (x + 1 - d[j]) / 2;
      y = (y + d[j + 1]) / 2;
      z = (z + d[j + 2]) / 2;
    }
    return [crop.offset[0] + x * side, crop.offset[1] + y * side, z * side];
  });
}

/**
 * The 68 landmarks of a face: the network on the first crop, then again on the crop its points give (`passes` in
 * all; a pass whose crop would shrink or grow more than 1.6× keeps the previous one). `flip`: the last pass also
 * on the mirrored crop, averaged (test-time flip). `firstPass`: the first pass's answer where the caller already has
 * it (one pass without flip: `regressLandmarks(levels, first, model, 1, false)`), so the refining pass continues it.
 *
 * ```ts
 * const quick = await regressLandmarks(levels, crop, model, 1, false);            // the first pass only
 * const full = await regressLandmarks(levels, crop, model, 2, true, quick.landmarks); // = regressLandmarks(levels, crop, model)
 * ```
 */
export async function regressLandmarks(
  levels: ImageLevels,
  first: Crop,
  model: LandmarkModel,
  passes = 2,
  flip = true,
  firstPass?: readonly Vec3[],
): Promise<{ landmarks: Vec3[]; crop: Crop }> {
  let crop = first;
  // `firstPass`: the answer of `regressLandmarks(levels, first, model, 1, false)`, already run (not run again)
  let landmarks = firstPass && passes > 1 ? [...firstPass] : await runLandmarkModel(levels, crop, model, flip && passes === 1);
  for (let p = 1; p < passes; p++) {
    const next = cropAroundBox(pointsBox(landmarks), model.info);
    const ratio = next.scale / crop.scale;
    if (!(ratio > 1 / 1.6 && ratio < 1.6)) break;
    crop = next;
    landmarks = await runLandmarkModel(levels, crop, model, flip && p === passes - 1);
  }
  return { landmarks, crop };
}
