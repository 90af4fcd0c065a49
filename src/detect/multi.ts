/**
 * The default face detector: BlazeFace (back-camera and front-camera models) on the whole photo, plus passes that catch
 * what one look misses, merged by NMS, verified and refined by Face Mesh.
 *
 * Passes, in order:
 *  1. a cascade: BlazeFace-front (the cheapest) on the whole (letterboxed) photo, checked by Face Mesh; every other
 *     detector in `detectors` only where that does not explain the photo (`cascade` below) — BlazeFace handles
 *     in-plane rotations up to about ±90° itself;
 *  2. overlapping tiles when the photo is large (faces under ~1/12 of the photo's long side);
 *  3. only if nothing was found: the photo rotated by 180°, ±90° (upside-down faces), zoomed out
 *     (faces filling the frame), and FaceBoxes (a WIDER FACE detector, better on profiles).
 * Every candidate then goes through Face Mesh (at the detector's roll, then turned by a half and a
 * quarter turn, as the eye keypoints of rotated faces can be wrong): a face-presence score ≥ `meshMinScore` confirms it and adds
 * `landmarks68` and a roll from the eye corners. Face Mesh cannot fit profiles (beyond ~65° yaw), so a
 * candidate it rejects survives when two second looks agree — BlazeFace-front on a square 2.5× the box
 * and BlazeFace-back on a square 4× the box both score ≥ `confirmScore` there — or when its own score
 * reaches `strongScore`.
 */
import type { Box, Detection, FaceDetector, RGBImage } from '../types.ts';
import { ImageLevels, type Affine } from '../align/sample.ts';
import { landmarkBoxFromDetection, pointsBox } from '../align/crop.ts';
import { BlazeFace, BLAZE_SPECS, letterbox } from './blazeface.ts';
import { FaceBoxes } from './faceboxes.ts';
import { FaceMesh, isSettled, MAX_SETTLED_NOSE_OFFSET, noseOffset, roiFromLandmarkBox, roiFromMesh, settledRoiFromLandmarkBox, type MeshResult } from './facemesh.ts';
import { meshToIbug68 } from './mesh68.ts';
import { graphNets, type DetectorNetLoader, type GraphModelLoader } from './models.ts';
import { iou, overlapMin, weightedNms } from './nms.ts';

export type DetectorKind = 'back' | 'front' | 'full';

export interface MultiDetectorOptions {
  /** BlazeFace variants on the whole photo (default ['back', 'front']: back for small faces, front for large and turned ones). */
  detectors?: DetectorKind[];
  /**
   * A cascade (default true): `first` alone looks at the whole photo (with the tiles of a large photo), Face Mesh checks
   * what it found, and the other `detectors` (and FaceBoxes 'always') look too only where that does not explain the
   * photo: a face not confirmed by Face Mesh (or none), or scored under `sureScore` (its box may be off, and Face Mesh
   * then fits it from a poor region); a detection of the first look, down to `doubtScore`, that no face covers
   * (one Face Mesh rejected, one merged into another, a face it barely sees); or the largest confirmed face's landmark
   * box under `cascadeFaceSize` × the photo's long side (room for small faces the first cannot see). The second look
   * then gives what every detector at once gives, and no candidate is checked twice. false: every detector on every
   * photo.
   */
  cascade?: boolean;
  /** The cascade's first look, one of `detectors` (default 'front': 128 px, a quarter of the back model's work). */
  first?: DetectorKind;
  /** See `cascade` (default 0.2). */
  cascadeFaceSize?: number;
  /** See `cascade` (default 0.3; below `minScore`, these detections are never faces themselves). */
  doubtScore?: number;
  /**
   * See `cascade` (default 0.8: on AFLW2000-3D fit/, stopping at faces scored from 0.75 up moves no yaw bin's NME,
   * depth error or coverage by more than 0.05 points against every detector at once; stopping at any score moved
   * coverage by 0.13).
   */
  sureScore?: number;
  /** Tile large photos to find small faces (default true). */
  tiles?: boolean;
  /** When nothing is found: rotated and zoomed-out passes (default true). */
  fallbacks?: boolean;
  /**
   * One Face Mesh pass for a settled face (default true): each candidate is first fitted once in the region Face Mesh's
   * re-centring would take (`settledRoiFromLandmarkBox`); where that pass is settled (`isSettled`: sure, frontal, its
   * region confirmed by its own points) it is the answer, else the two passes from the box run as with false.
   */
  settled?: boolean;
  /** FaceBoxes: 'fallback' (only when nothing else found, default), 'always', or 'never'. */
  faceboxes?: 'fallback' | 'always' | 'never';
  /** Verify with Face Mesh and add landmarks68 (default true). */
  landmarks?: boolean;
  /** Minimum detector score of a candidate (default 0.5). */
  minScore?: number;
  /** Face Mesh presence score that confirms a candidate (default 0.8; retries upside down need 0.95). */
  meshMinScore?: number;
  /** A candidate Face Mesh rejects is kept when both zoomed second looks score at least this (default 0.6)… */
  confirmScore?: number;
  /** …or when its own detector score reaches this (default 0.9). */
  strongScore?: number;
  /** At most this many faces, largest first (default unlimited). */
  maxFaces?: number;
  /**
   * How BlazeFace and Face Mesh are loaded and run (default: the TF.js graph models of the loader, `graphNets`); the
   * Node adapter passes onnxruntime sessions of the same graphs (`mixedNets`, models/<name>.onnx). FaceBoxes
   * always runs on TF.js.
   */
  nets?: DetectorNetLoader;
}

/** A `FaceDetector` that also reports per-pass timings of its last call. */
export interface MultiFaceDetector extends FaceDetector {
  /** Milliseconds spent per pass in the last `detect` call (e.g. { 'blazeface-back': 48, facemesh: 30 }). */
  readonly lastTimings: Readonly<Record<string, number>>;
}

/** A model loaded on its first use, once (a failed load is tried again on the next use). */
type Lazy<T> = () => Promise<T>;

function once<T>(load: () => Promise<T>): Lazy<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    }));
}

/**
 * Loads the models the first look needs (the cascade's first detector and Face Mesh; without the cascade every one
 * of `detectors`, and FaceBoxes 'always') and returns the multi-pass detector; the others are loaded on their first
 * use, once (the second look, tiles, fallbacks: most portraits never need them).
 *
 *   const detector = await createFaceDetector(fileModelLoader(), { faceboxes: 'always' });
 *   const faces = await detector.detect(image);   // Detection[], largest first
 */
export async function createFaceDetector(
  loader: GraphModelLoader,
  options: MultiDetectorOptions = {},
): Promise<MultiFaceDetector> {
  const kinds = options.detectors ?? ['back', 'front'];
  if (kinds.length === 0) throw new Error('createFaceDetector: no detector selected');
  const nets = options.nets ?? graphNets(loader);
  const blaze = Object.fromEntries((Object.keys(BLAZE_SPECS) as DetectorKind[]).map((k) => [k, once(() => BlazeFace.load(nets, BLAZE_SPECS[k]))])) as Record<DetectorKind, Lazy<BlazeFace>>;
  const fbMode = options.faceboxes ?? 'fallback';
  const fb = fbMode === 'never' ? undefined : once(() => FaceBoxes.load(loader));
  const first = options.first !== undefined && kinds.includes(options.first) ? options.first : kinds.includes('front') ? 'front' : kinds[0];
  const [mesh] = await Promise.all([
    options.landmarks === false ? undefined : FaceMesh.load(nets),
    ...((options.cascade ?? true) ? [first] : kinds).map((k) => blaze[k]()),
    fbMode === 'always' ? fb?.() : undefined,
  ]);
  return new MultiDetector(kinds, blaze, first, fb, mesh, options);
}

/** A roll retry's Face Mesh first pass must score this much for its second pass to run (`MultiDetector.verify`). */
const RETRY_MIN_FIRST = 0.1;

class MultiDetector implements MultiFaceDetector {
  readonly name = 'voxface-multi';
  lastTimings: Record<string, number> = {};

  constructor(
    private readonly kinds: DetectorKind[],
    private readonly blaze: Record<DetectorKind, Lazy<BlazeFace>>,
    private readonly first: DetectorKind,
    private readonly faceboxes: Lazy<FaceBoxes> | undefined,
    private readonly mesh: FaceMesh | undefined,
    private readonly options: MultiDetectorOptions,
  ) {}

  /** `shared`: box-filtered levels of this photo to sample from (and add to), e.g. the pipeline's; default its own. */
  async detect(image: RGBImage, shared?: ImageLevels): Promise<Detection[]> {
    const timings: Record<string, number> = {};
    this.lastTimings = timings;
    const timed = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        timings[key] = (timings[key] ?? 0) + performance.now() - t0;
      }
    };
    const levels = shared?.image === image ? shared : new ImageLevels(image);
    const o = this.options;
    const minScore = o.minScore ?? 0.5;
    // tiles, rotated and zoomed-out passes: the first of `detectors`
    const primary = (): Promise<BlazeFace> => this.blaze[this.kinds[0]]();

    const cascade = o.cascade ?? true;
    // each detector's candidates on the whole photo, in `blaze` order (the cascade's first look alone, at first)
    const looks = new Map<DetectorKind, Detection[]>();
    // the first look's detections down to doubtScore: each must be covered by a face for the cascade to stop there
    let doubts: Detection[] = [];
    const doubt = Math.min(minScore, o.doubtScore ?? 0.3);
    const look = async (kind: DetectorKind, down = minScore): Promise<void> => {
      const det = await this.blaze[kind]();
      const raw = await timed(det.name, () => det.detectIn(levels, letterbox(image, det.spec.inputSize), down));
      looks.set(kind, weightedNms(down < minScore ? raw.filter((d) => d.score >= minScore) : raw, 0.3));
      if (down < minScore) doubts = weightedNms(raw, 0.3);
    };
    if (cascade) await look(this.first, doubt);
    else for (const kind of this.kinds) await look(kind);
    const tiled: Detection[] = [];
    const tiles = (o.tiles ?? true) ? tileMaps(image, BLAZE_SPECS[this.kinds[0]].inputSize) : [];
    for (const m of tiles) {
      const det = await primary();
      const raw = await timed(`${det.name} tiles`, () => det.detectIn(levels, m.affine, minScore));
      tiled.push(...weightedNms(raw, 0.3).filter((d) => !touchesInnerEdge(d.box, m.region, image)));
    }
    const boxed: Detection[] = [];
    const faceboxesAlways = async (): Promise<void> => {
      if (!this.faceboxes || o.faceboxes !== 'always') return;
      const fb = await this.faceboxes();
      boxed.push(...(await timed('faceboxes', () => fb.detect(levels, minScore))));
    };
    if (!cascade) await faceboxesAlways();
    const gathered = (): Detection[] => [...this.kinds.flatMap((k) => looks.get(k) ?? []), ...tiled, ...boxed];
    // Face Mesh's verdict on each candidate, kept for the second look
    const verdicts = new Map<Detection, Detection | null>();

    let faces = await timed('facemesh', () => this.verify(levels, mergeCandidates(gathered()), verdicts));
    if (cascade && !explains(faces, doubts, image, o.cascadeFaceSize ?? 0.2, o.sureScore ?? 0.8)) {
      for (const kind of this.kinds) if (!looks.has(kind)) await look(kind);
      await faceboxesAlways();
      faces = await timed('facemesh', () => this.verify(levels, mergeCandidates(gathered()), verdicts));
    }
    if (faces.length === 0 && (o.fallbacks ?? true)) {
      const candidates: Detection[] = [];
      const det = await primary();
      for (const deg of [180, 90, -90]) {
        const raw = await timed(`${det.name} rotated`, () => det.detectIn(levels, rotatedLetterbox(image, det.spec.inputSize, deg), minScore));
        candidates.push(...weightedNms(raw, 0.3));
      }
      const raw = await timed(`${det.name} zoomed out`, () => det.detectIn(levels, zoomedLetterbox(image, det.spec.inputSize, 2), minScore));
      candidates.push(...weightedNms(raw, 0.3));
      if (this.faceboxes && (o.faceboxes ?? 'fallback') === 'fallback') {
        const fb = await this.faceboxes();
        candidates.push(...(await timed('faceboxes', () => fb.detect(levels, minScore))));
      }
      faces = await timed('facemesh', () => this.verify(levels, mergeCandidates(candidates)));
    }
    faces.sort((p, q) => q.box[2] * q.box[3] - p.box[2] * p.box[3]);
    return o.maxFaces !== undefined ? faces.slice(0, o.maxFaces) : faces;
  }

  /**
   * Face Mesh check of each candidate (adds landmarks68 and roll); a candidate it rejects stays if
   * strong or confirmed by the zoomed second looks.
   */
  private async verify(levels: ImageLevels, candidates: Detection[], verdicts = new Map<Detection, Detection | null>()): Promise<Detection[]> {
    if (!this.mesh) return candidates;
    const strong = this.options.strongScore ?? 0.9;
    const meshMin = this.options.meshMinScore ?? 0.8;
    const confirmMin = this.options.confirmScore ?? 0.6;
    const out: Detection[] = [];
    for (const d of candidates) {
      const known = verdicts.get(d);
      if (known !== undefined) {
        if (known) out.push(known);
        continue;
      }
      const lb = landmarkBoxFromDetection(d);
      const roll = d.roll ?? 0;
      // The keypoints' roll can be off by a half or quarter turn (FaceBoxes gives none): retry those.
      const rolls = [roll, roll + 180, roll + 90, roll - 90];
      let fitted: Detection | undefined;
      for (const r of rolls) {
        // a retry's first pass that finds no face at all ends it: its re-centred pass never reached the 0.95 a retry
        // needs from there (AFLW2000-3D fit/: 735 Face Mesh checks, none from a first pass under 0.1 to 0.95)
        const minFirst = r === rolls[0] ? 0 : RETRY_MIN_FIRST;
        // a frontal face Face Mesh is sure of, in the region the re-centring pass would take: one pass (the candidate's
        // roll only; a face it is not settled on gets the two passes from the box, as before)
        let res: MeshResult | undefined;
        // (not for a face its keypoints show turned: it would not settle)
        if (r === rolls[0] && this.options.settled !== false && !(Math.abs(noseOffset(d.keypoints) ?? 0) > MAX_SETTLED_NOSE_OFFSET)) {
          const once = await this.mesh.run(levels, settledRoiFromLandmarkBox(lb, r));
          if (isSettled(once)) res = once;
        }
        res ??= await this.mesh.refine(levels, roiFromLandmarkBox(lb, r), 2, minFirst);
        // Retries (other rolls) must be surer; and the fitted face must sit where the candidate is.
        const need = r === rolls[0] ? meshMin : Math.max(meshMin, 0.95);
        if (res.score < need) continue;
        const lm = meshToIbug68(res.points);
        if (iou(pointsBox(lm), lb) < 0.25) continue;
        fitted = { ...d, roll: roiFromMesh(res.points).roll, landmarks68: lm, mesh468: res.points };
        break;
      }
      const kept = fitted ?? (d.score >= strong || (await this.confirm(levels, d)) >= confirmMin ? d : null);
      verdicts.set(d, kept);
      if (kept) out.push(kept);
    }
    return dedupe(out);
  }

  /** The lower of the two zoomed second looks' best scores at the candidate (IoU > 0.3). */
  private async confirm(levels: ImageLevels, d: Detection): Promise<number> {
    let worst = 1;
    for (const [kind, zoom] of [['front', 2.5], ['back', 4]] as const) {
      const det = await this.blaze[kind]();
      const side = zoom * Math.max(d.box[2], d.box[3]);
      const k = side / det.spec.inputSize;
      const cx = d.box[0] + d.box[2] / 2, cy = d.box[1] + d.box[3] / 2;
      const m: Affine = { a: k, b: 0, c: cx - side / 2, d: 0, e: k, f: cy - side / 2 };
      const found = await det.detectIn(levels, m, 0.3);
      worst = Math.min(worst, Math.max(0, ...found.filter((f) => iou(f.box, d.box) > 0.3).map((f) => f.score)));
      if (worst === 0) break;
    }
    return worst;
  }
}

/**
 * Whether the cascade's first look explains the photo: faces, every one confirmed by Face Mesh (a face kept without
 * it, a profile, is left to every detector at once, whose box the landmark crop then starts from) and scored at least
 * `sure`, the largest one's landmark box at least `faceSize` × the photo's long side, and every detection of the first
 * look (`seen`, weak ones included) covered by one of them.
 */
function explains(faces: Detection[], seen: Detection[], image: RGBImage, faceSize: number, sure: number): boolean {
  if (faces.length === 0 || faces.some((f) => !f.landmarks68 || f.score < sure)) return false;
  const sides = faces.map((f) => Math.max(pointsBox(f.landmarks68!)[2], pointsBox(f.landmarks68!)[3]));
  if (Math.max(...sides) < faceSize * Math.max(image.width, image.height)) return false;
  const boxes = faces.flatMap((f) => [f.box, pointsBox(f.landmarks68!)]);
  return seen.every((d) => boxes.some((b) => iou(b, d.box) > 0.3 || overlapMin(b, d.box) > 0.5));
}

/** Merges candidates of all passes: one per face, the best score, preferring boxes with keypoints. */
function mergeCandidates(dets: Detection[]): Detection[] {
  const sorted = [...dets].sort((p, q) => q.score - p.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.some((k) => iou(k.box, d.box) > 0.3 || overlapMin(k.box, d.box) > 0.7)) continue;
    kept.push(d);
  }
  return kept;
}

/**
 * One detection per face: Face Mesh-confirmed detections first (best score first), then the others;
 * a detection is dropped when its box (or landmark box) mostly overlaps one already kept.
 */
function dedupe(dets: Detection[]): Detection[] {
  const order = [...dets].sort((p, q) => Number(!!q.landmarks68) - Number(!!p.landmarks68) || q.score - p.score);
  const kept: { det: Detection; boxes: Box[] }[] = [];
  for (const d of order) {
    const boxes = d.landmarks68 ? [d.box, pointsBox(d.landmarks68)] : [d.box];
    const same = kept.some((k) => k.boxes.some((a) => boxes.some((b) => iou(a, b) > 0.3 || overlapMin(a, b) > 0.5)));
    if (!same) kept.push({ det: d, boxes });
  }
  return kept.map((k) => k.det);
}

/** Overlapping square tiles (side = half the long side, ≥ 2× the input) for large photos. */
function tileMaps(image: RGBImage, inputSize: number): { affine: Affine; region: Box }[] {
  const L = Math.max(image.width, image.height);
  if (L < inputSize * 3) return [];
  const T = Math.max(inputSize * 2, Math.ceil(L / 2));
  const starts = (len: number): number[] => {
    if (len <= T) return [0];
    const n = Math.ceil((len - T) / (T * 0.75)) + 1;
    return Array.from({ length: n }, (_, i) => Math.round(((len - T) * i) / (n - 1)));
  };
  const out: { affine: Affine; region: Box }[] = [];
  for (const y of starts(image.height)) {
    for (const x of starts(image.width)) {
      const s = T / inputSize;
      out.push({ affine: { a: s, b: 0, c: x, d: 0, e: s, f: y }, region: [x, y, T, T] });
    }
  }
  return out;
}

/** True when a box touches a tile edge that is not also a photo edge (a face cut by the tile). */
function touchesInnerEdge(box: Box, region: Box, image: RGBImage): boolean {
  const m = 2;
  const [x, y, w, h] = box, [rx, ry, rw, rh] = region;
  if (x <= rx + m && rx > 0) return true;
  if (y <= ry + m && ry > 0) return true;
  if (x + w >= rx + rw - m && rx + rw < image.width) return true;
  if (y + h >= ry + rh - m && ry + rh < image.height) return true;
  return false;
}

/** Letterbox of the photo rotated by `deg` about its centre (input pixels → photo pixels). */
function rotatedLetterbox(image: RGBImage, size: number, deg: number): Affine {
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t);
  const side = Math.abs(c) * image.width + Math.abs(s) * image.height;
  const side2 = Math.abs(s) * image.width + Math.abs(c) * image.height;
  const k = Math.max(side, side2) / size;
  const h = size / 2;
  // photo = centre + R(deg) · k · (u − h)
  return {
    a: c * k,
    b: -s * k,
    c: image.width / 2 - (c * k - s * k) * h,
    d: s * k,
    e: c * k,
    f: image.height / 2 - (s * k + c * k) * h,
  };
}

/** Letterbox where the photo fills only 1/`factor` of the input (for faces filling the frame). */
function zoomedLetterbox(image: RGBImage, size: number, factor: number): Affine {
  const k = (Math.max(image.width, image.height) * factor) / size;
  return { a: k, b: 0, c: image.width / 2 - (k * size) / 2, d: 0, e: k, f: image.height / 2 - (k * size) / 2 };
}
