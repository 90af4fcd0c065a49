/**
 * The JSON result contract:
 * ```
 * { "image": { "width", "height" },
 *   "faces": [ { "box": [x, y, w, h], "score", "landmarks68": [[x, y, z] × 68],
 *                "pose": { "yaw", "pitch", "roll" }, "detector", "crop": { "size", "scale", "offset" },
 *                "mesh": { "vertices", "triangles" }, "timings": { stage: ms } } ] }
 * ```
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
    mesh: { vertices: number; triangles: number };
    timings: Record<string, number | null>;
  }[];
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
      mesh: { vertices: f.mesh.positions.length / 3, triangles: f.mesh.indices.length / 3 },
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
