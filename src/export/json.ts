/**
 * The JSON result contract:
 * ```
 * { "image": { "width", "height" },
 *   "faces": [ { "box": [x, y, w, h], "score", "landmarks68": [[x, y, z] × 68],
 *                "pose": { "yaw", "pitch", "roll" }, "detector", "crop": { "size", "scale", "offset" },
 *                "shape": "prior" | "network", "mesh": { "vertices", "triangles" },
 *                "prior": { "source", "region", "scale", "rms", "identity": [w × 60], "expression": { name: e } },
 *                "timings": { stage: ms } } ] }
 * ```
 * `crop`: the volume network's crop where it ran (its refined crop), else the first crop, from the detection (the
 * pipeline's `volume` option says where it runs: by default not for the prior shape).
 * `prior` (faces whose mesh is the fitted ICT face): what it was fitted to (`facemesh` or the network's
 * `landmarks68`), the region meshed (`face`, `head`), photo pixels per cm, the fit's RMS in pixels, the ICT identity
 * weights (N(0, 1) units) and the non-zero expression (ARKit-style blendshape) weights.
 * Everything in the photo frame (x right, y down, z toward the camera, photo pixels) — the frame of
 * the mesh files with `frame: 'photo'`; the default y-up mesh files have y negated. Faces are sorted
 * largest box first. Rounding: coordinates, angles and milliseconds to 2 decimals, score to 3,
 * crop scale to 6; non-finite numbers become null.
 *
 * @example
 * const bytes = parse(result); // write to face.json
 */
import type { FaceResult, ReconstructionResult } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { ICT_EXPRESSIONS } from '../prior/basis.ts';

export interface JSONOptions {
  /** Indentation (default 2; 0 = one line). */
  indent?: number;
}

/** The contract object (see the module comment); `parse` is this, stringified. */
export interface ResultJSON {
  image: { width: number; height: number };
  faces: {
    box: number[];
    score: number | null;
    landmarks68: (number | null)[][];
    pose: { yaw: number | null; pitch: number | null; roll: number | null };
    detector: string;
    crop: { size: number; scale: number | null; offset: (number | null)[] };
    shape: 'prior' | 'network';
    mesh: { vertices: number; triangles: number };
    prior?: {
      source: string;
      region: string;
      scale: number | null;
      rms: number | null;
      identity: (number | null)[];
      expression: Record<string, number | null>;
    };
    timings: Record<string, number | null>;
  }[];
}

/** The weights up to the last non-zero one. */
function trimZeros(w: Float32Array): Float32Array {
  let n = w.length;
  while (n > 0 && w[n - 1] === 0) n--;
  return w.subarray(0, n);
}

const round = (x: number, digits = 2): number | null => {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f || 0; // || 0 turns -0 into 0
};

/**
 * The contract object for a reconstruction result.
 *
 * @example
 * const json = toJSON(result); // json.faces[0].landmarks68[30] is the nose tip
 */
export function toJSON(result: ReconstructionResult): ResultJSON {
  if (!result?.image || !Array.isArray(result.faces)) throw new VoxfaceError('BAD_ARGUMENT', 'not a ReconstructionResult');
  const area = (f: FaceResult) => f.box[2] * f.box[3];
  const faces = [...result.faces].sort((a, b) => area(b) - area(a));
  return {
    image: { width: result.image.width, height: result.image.height },
    faces: faces.map((f) => ({
      box: f.box.map((x) => round(x) ?? 0),
      score: round(f.score, 3),
      landmarks68: f.landmarks68.map((p) => p.map((x) => round(x))),
      pose: { yaw: round(f.pose.yaw), pitch: round(f.pose.pitch), roll: round(f.pose.roll) },
      detector: f.detector,
      crop: { size: f.crop.size, scale: round(f.crop.scale, 6), offset: f.crop.offset.map((x) => round(x)) },
      shape: f.shape,
      mesh: { vertices: f.mesh.positions.length / 3, triangles: f.mesh.indices.length / 3 },
      ...(f.prior
        ? {
            prior: {
              source: f.prior.source,
              region: f.prior.region,
              scale: round(f.prior.scale, 4),
              rms: round(f.prior.rms),
              identity: Array.from(trimZeros(f.prior.identity), (x) => round(x, 3)),
              expression: Object.fromEntries(
                Array.from(f.prior.expression, (x, i) => [ICT_EXPRESSIONS[i] ?? `e${i}`, round(x, 3)] as const).filter(([, x]) => x !== 0 && x !== null),
              ),
            },
          }
        : {}),
      timings: Object.fromEntries(Object.entries(f.timings).map(([k, v]) => [k, round(v)])),
    })),
  };
}

/**
 * Serialises the contract object as UTF-8 JSON bytes (with a final newline).
 *
 * @example
 * const bytes = parse(result, { indent: 0 });
 */
export function parse(result: ReconstructionResult, options: JSONOptions = {}): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(toJSON(result), null, options.indent ?? 2) + '\n');
}
