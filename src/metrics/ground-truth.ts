/**
 * Ground truth of a face-alignment benchmark image, and its two file layouts:
 * - `ground_truth.json` beside the images (../shared/aflw2000-3d-dev, and the synthetic benchmark of
 *   training/benchmark.py): `{ "<name>": { "landmarks68_3d": [[x,y,z]×68], "landmarks68_2d_reannotated":
 *   [[x,y]×68], "landmarks68_visible"?: [bool×68], "yaw_degrees": y, "pitch_degrees"?: p, "roll_degrees"?: r } }`;
 * - AFLW2000-3D's own `.mat` files (`pt3d_68`, `Pose_Para`), see `groundTruthFromAflwMat`.
 *
 * ```ts
 * const samples = parseGroundTruthJson(JSON.parse(text), 'aflw');
 * samples[0].yaw;   // degrees, voxface convention: + = the face turns toward the photo's right
 * ```
 *
 * ## Yaw sign conventions
 * voxface (src/landmarks/pose.ts, training/ict.py): positive yaw = the face turns toward the photo's right
 * (the subject's left). AFLW2000-3D's `Pose_Para` yaw has the opposite sign (positive = toward the photo's
 * left), so `yaw_voxface = −yaw_aflw`. Evidence: on the 8 dev images of ../shared/aflw2000-3d-dev (whose
 * `yaw_degrees` are AFLW's Pose_Para yaws in degrees), fitting our mean face to the ground-truth 3D landmarks
 * (`estimatePose`) gives yaws of the opposite sign and about the same size (−16.2 → +17.3, −19.3 → +19.5,
 * 27.0 → −27.6, ...), and the jaw end nearer the camera (larger z) is the photo-left one (landmark 0) exactly
 * when AFLW's yaw is negative. training/benchmark.py instead writes voxface's sign (its `benchmark.json` names
 * the generator), which `estimatePose` confirms (80.9 → 85.3, −74.9 → −79.8). Binning uses |yaw| only.
 */
import type { Vec2, Vec3 } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { matGet } from './mat.ts';
import type { MatArray } from './mat.ts';

/** Which sign a dataset's yaw uses: AFLW2000-3D's or voxface's (see the module comment). */
export type YawConvention = 'aflw' | 'voxface';

export interface GroundTruth {
  /** Image name without extension (the key in ground_truth.json, or the .mat file's stem). */
  name: string;
  /** 68 3D landmarks, photo frame: x right, y down, z toward the camera, pixels (pixel i covers [i, i+1)). */
  landmarks3d: Vec3[];
  /** 68 re-annotated 2D landmarks (LS3D-W style), when the dataset has them. */
  landmarks2dReannotated?: Vec2[];
  /** Which of the 68 landmarks the camera sees (the synthetic benchmark has them; AFLW2000-3D does not). */
  visible?: boolean[];
  /** Yaw in degrees in voxface's convention (+ = the face turns toward the photo's right). */
  yaw: number;
  /** The pose as the dataset stores it, degrees, in its own convention. */
  datasetPose: { yaw: number; pitch?: number; roll?: number; convention: YawConvention };
}

/**
 * Converts a yaw from a dataset's convention to voxface's.
 *
 * ```ts
 * toVoxfaceYaw(-16.18, 'aflw'); // 16.18
 * ```
 */
export function toVoxfaceYaw(yaw: number, convention: YawConvention): number {
  return convention === 'aflw' ? -yaw : yaw;
}

function bad(message: string): never {
  throw new VoxfaceError('BAD_ARGUMENT', message);
}

function points<N extends 2 | 3>(v: unknown, dims: N, what: string): N extends 3 ? Vec3[] : Vec2[] {
  if (!Array.isArray(v) || v.length !== 68) bad(`${what}: expected 68 points, got ${Array.isArray(v) ? v.length : typeof v}`);
  for (const p of v) {
    if (!Array.isArray(p) || p.length < dims || !p.slice(0, dims).every((x) => typeof x === 'number' && Number.isFinite(x))) {
      bad(`${what}: every point needs ${dims} finite numbers, got ${JSON.stringify(p)}`);
    }
  }
  return v.map((p: number[]) => p.slice(0, dims)) as N extends 3 ? Vec3[] : Vec2[];
}

/**
 * Parses a `ground_truth.json` object. `convention` says which yaw sign its `yaw_degrees` uses.
 * Entries come back sorted by name. Bad entries throw `VoxfaceError('BAD_ARGUMENT')` naming the entry.
 *
 * ```ts
 * parseGroundTruthJson({ image00046: { landmarks68_3d: [...], yaw_degrees: -16.18 } }, 'aflw')[0].yaw; // 16.18
 * ```
 */
export function parseGroundTruthJson(json: unknown, convention: YawConvention): GroundTruth[] {
  if (!json || typeof json !== 'object' || Array.isArray(json)) bad('ground_truth.json: expected an object of images');
  const out: GroundTruth[] = [];
  for (const name of Object.keys(json).sort()) {
    const e = (json as Record<string, Record<string, unknown>>)[name];
    if (!e || typeof e !== 'object') bad(`ground_truth.json: entry "${name}" is not an object`);
    const landmarks3d = points(e.landmarks68_3d, 3, `ground_truth.json "${name}" landmarks68_3d`);
    const re = e.landmarks68_2d_reannotated;
    const landmarks2dReannotated = re === undefined ? undefined : points(re, 2, `ground_truth.json "${name}" landmarks68_2d_reannotated`);
    const vis = e.landmarks68_visible;
    if (vis !== undefined && !(Array.isArray(vis) && vis.length === 68 && vis.every((v) => typeof v === 'boolean'))) {
      bad(`ground_truth.json "${name}": landmarks68_visible must be 68 booleans`);
    }
    const yaw = e.yaw_degrees;
    if (typeof yaw !== 'number' || !Number.isFinite(yaw)) bad(`ground_truth.json "${name}": yaw_degrees must be a finite number`);
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
    out.push({
      name,
      landmarks3d,
      landmarks2dReannotated,
      ...(vis !== undefined ? { visible: vis as boolean[] } : {}),
      yaw: toVoxfaceYaw(yaw, convention),
      datasetPose: { yaw, pitch: num(e.pitch_degrees), roll: num(e.roll_degrees), convention },
    });
  }
  return out;
}

/**
 * Ground truth from an AFLW2000-3D annotation file (read with `readMat`):
 * - `pt3d_68` (3×68): x, y in MATLAB's 1-based pixel coordinates (pixel k's centre at k), z in the same
 *   scale toward the camera. Converted to the photo frame (pixel i covers [i, i+1), centre i + 0.5):
 *   x − 0.5, y − 0.5; z unchanged (only centred z is ever compared).
 * - `Pose_Para` (1×7): pitch, yaw, roll in radians, then translation (3) and scale. Yaw → degrees, sign flipped
 *   to voxface's convention (see the module comment).
 *
 * ```ts
 * const gt = groundTruthFromAflwMat('image00002', readMat(bytes));
 * ```
 */
export function groundTruthFromAflwMat(name: string, vars: Record<string, MatArray>): GroundTruth {
  const pt = vars.pt3d_68;
  const pose = vars.Pose_Para;
  if (!pt || pt.dims[0] !== 3 || pt.dims[1] !== 68) {
    bad(`${name}.mat: needs pt3d_68 as a 3×68 matrix, got ${pt ? pt.dims.join('×') : 'none'}`);
  }
  if (!pose || pose.data.length < 3) bad(`${name}.mat: needs Pose_Para (pitch, yaw, roll, ...)`);
  const landmarks3d: Vec3[] = [];
  for (let i = 0; i < 68; i++) landmarks3d.push([matGet(pt, 0, i) - 0.5, matGet(pt, 1, i) - 0.5, matGet(pt, 2, i)]);
  if (!landmarks3d.every((p) => p.every(Number.isFinite))) bad(`${name}.mat: pt3d_68 holds non-finite values`);
  const deg = 180 / Math.PI;
  const [pitch, yaw, roll] = [pose.data[0] * deg, pose.data[1] * deg, pose.data[2] * deg];
  if (!Number.isFinite(yaw)) bad(`${name}.mat: Pose_Para yaw is not finite`);
  return { name, landmarks3d, yaw: toVoxfaceYaw(yaw, 'aflw'), datasetPose: { yaw, pitch, roll, convention: 'aflw' } };
}
