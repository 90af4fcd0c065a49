/**
 * voxface for Node: loads the network and the face detectors once, then reconstructs photos.
 *
 * ```ts
 * import { mkdtemp, writeFile } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import path from 'node:path';
 * import { exportResult } from 'voxface';
 * import { loadVoxface } from 'voxface/node';
 *
 * const vox = await loadVoxface({ threads: 2 });                   // the network and the detectors, once
 * const { result } = await vox.reconstructFile('examples/face.jpg', { landmarks: 'network' }); // any option of the table
 * const out = await mkdtemp(path.join(tmpdir(), 'voxface-'));
 * for (const f of exportResult(result, 'face', { formats: ['glb', 'obj'] })) await writeFile(path.join(out, f.name), f.bytes);
 * console.log(`${result.faces.length} face(s), yaw ${result.faces[0].pose.yaw.toFixed(0)}°, files in ${out}`);
 * ```
 *
 * Importing it turns onnxruntime's telemetry off for the process unless `ORT_DISABLE_TELEMETRY` is already set
 * (see ./telemetry.ts).
 */
import './telemetry.ts'; // first, before anything that loads onnxruntime-node
import './zlib.ts'; // PNGs by Node's zlib (src/image/deflate.ts)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { reconstruct } from '../pipeline.ts';
import type { PipelineDeps, ReconstructOptions } from '../pipeline.ts';
import { VoxfaceError } from '../types.ts';
import type { FaceDetector, ReconstructionResult, RGBImage } from '../types.ts';
import { decodeImage, frameCount } from './decode.ts';
import type { DecodeLimits } from '../decode/sniff.ts';
import { loadFaceDetector } from './detectors.ts';
import { loadModel, MODELS_DIR } from './session.ts';
import { createShapePrior } from '../prior/index.ts';
import type { ShapePrior } from '../prior/index.ts';

export { decodeImage, frameCount } from './decode.ts';
export { loadLandmarkModel, loadModel } from './session.ts';
import { loadLandmarkModel } from './session.ts';
export { loadFaceDetector } from './detectors.ts';
export { defaultIdentityEncoderPath, defaultIdentityMapPath, loadIdentityModel } from './identity.ts';
export type { LoadIdentityOptions } from './identity.ts';
import { loadIdentityModel } from './identity.ts';

/** The shape prior of this package (models/ict-face.bin). */
export function defaultPriorPath(): string {
  return path.join(path.dirname(defaultModelPath()), 'ict-face.bin');
}

/**
 * Reads the shape prior (the ICT basis file, models/ict-face.bin by default). Throws `VoxfaceError('MODEL_ERROR')`.
 *
 * ```ts
 * const prior = await loadShapePrior();
 * ```
 */
export async function loadShapePrior(file = defaultPriorPath()): Promise<ShapePrior> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new VoxfaceError('MODEL_ERROR', `cannot read the shape prior ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return createShapePrior(bytes);
}

/** The landmark model beside the default model (models/landmarks68.onnx). */
export function defaultLandmarkModelPath(): string {
  return path.join(path.dirname(defaultModelPath()), 'landmarks68.onnx');
}

/** The repository's default model (models/vrn-compact.onnx). */
export function defaultModelPath(): string {
  return path.join(MODELS_DIR, 'vrn-compact.onnx');
}

export interface VoxfaceOptions {
  /** Path of the ONNX model (its sidecar .json beside it). Default: models/vrn-compact.onnx. */
  model?: string;
  /** onnxruntime intra-op threads. */
  threads?: number;
  /** The shape prior file (default models/ict-face.bin). */
  prior?: string;
  /** A detector to use instead of the default multi-pass one. */
  detector?: FaceDetector;
  /**
   * The landmark model (default models/landmarks68.onnx: trained on real AFLW photos, research-only terms; see
   * models/README.md); null: none, the turned faces' landmarks then come from the volume network as before 0.3.
   */
  landmarkModel?: string | null;
  /**
   * The identity map (default models/identity-map.json; the encoder, models/identity-encoder.onnx, is read on the
   * first face that needs it); null: none, the `identity` option then pulls toward the mean face.
   */
  identityMap?: string | null;
  /** Byte and pixel limits for decoding. */
  limits?: DecodeLimits;
}

export interface Voxface {
  readonly deps: PipelineDeps;
  /** Reconstructs faces in a decoded image. */
  reconstruct(image: RGBImage, options?: ReconstructOptions): Promise<ReconstructionResult>;
  /**
   * Decodes image bytes (any format sharp reads, EXIF orientation applied) and reconstructs. In an animation or a
   * multi-page file without a face on its first frame, the next frames are tried (up to MAX_FRAMES_TRIED);
   * `frame` says which one was used.
   */
  reconstructBytes(bytes: Uint8Array, options?: ReconstructOptions): Promise<Reconstructed>;
  /** Reads, decodes and reconstructs a file. */
  reconstructFile(file: string, options?: ReconstructOptions): Promise<Reconstructed>;
}

/** A reconstructed photo: its pixels, the result, the decode time, and which frame of how many was used. */
export interface Reconstructed {
  image: RGBImage;
  result: ReconstructionResult;
  decodeMs: number;
  /** The frame used (0-based) and how many the file has (1 for a still image). */
  frame: { index: number; count: number };
}

/** Frames of an animation tried for a face before giving up (each costs a decode and a detector pass). */
export const MAX_FRAMES_TRIED = 10;

/**
 * Loads the model and the detectors (once; reuse the returned object for every photo). The volume network's files
 * are read now and its onnxruntime session is made on its first run (`lazySession`): photos of the default shape
 * never need it.
 */
export async function loadVoxface(options: VoxfaceOptions = {}): Promise<Voxface> {
  const modelPath = options.model ?? defaultModelPath();
  const [{ session, info }, detector, prior, landmarkModel, identity] = await Promise.all([
    // the volume network's session on its first run: the default shape never needs it
    loadModel(modelPath, { threads: options.threads, lazy: true }),
    options.detector ? Promise.resolve(options.detector) : loadFaceDetector({ threads: options.threads }),
    loadShapePrior(options.prior),
    options.landmarkModel === null ? Promise.resolve(undefined) : loadLandmarkModel(options.landmarkModel ?? defaultLandmarkModelPath(), { threads: options.threads }),
    options.identityMap === null ? Promise.resolve(undefined) : loadIdentityModel({ map: options.identityMap, threads: options.threads, lazy: true }),
  ]);
  const deps: PipelineDeps = { session, model: info, detector, prior, landmarks: landmarkModel, identity };
  const vox: Voxface = {
    deps,
    reconstruct: (image, o) => reconstruct(image, deps, o),
    async reconstructBytes(bytes, o) {
      const count = await frameCount(bytes);
      const tried = Math.min(count, MAX_FRAMES_TRIED);
      for (let index = 0; ; index++) {
        const t0 = performance.now();
        const image = await decodeImage(bytes, options.limits, index);
        const decodeMs = performance.now() - t0;
        try {
          const result = await reconstruct(image, deps, o);
          result.timings.decode = decodeMs;
          return { image, result, decodeMs, frame: { index, count } };
        } catch (e) {
          if (!(e instanceof VoxfaceError && e.code === 'NO_FACE') || count === 1) throw e;
          if (index + 1 >= tried) {
            const which = tried === count ? `any of its ${count} frames` : `its first ${tried} of ${count} frames`;
            throw new VoxfaceError('NO_FACE', `no face found in ${which}`);
          }
        }
      }
    },
    async reconstructFile(file, o) {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch (e) {
        throw new VoxfaceError('IO_ERROR', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      return vox.reconstructBytes(bytes, o);
    },
  };
  return vox;
}
