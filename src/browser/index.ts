/**
 * voxface in the browser: the same pipeline as in Node, with browser adapters (canvas decoding,
 * onnxruntime-web, TF.js WebAssembly). The photo never leaves the machine.
 *
 * ```ts
 * import { exportResult } from 'voxface';
 * import { browserSupport, loadBrowserVoxface } from 'voxface/browser';
 *
 * const support = browserSupport();
 * if (!support.ok) throw new Error(`this browser cannot run voxface: ${support.why}`);
 * // the model and the runtimes' files as `npm start` and `npm run build:site` lay them out (models/, vendor/),
 * // found relative to the page (a static copy may live under any path prefix)
 * const vox = await loadBrowserVoxface({ baseUrl: document.baseURI });
 * const photo = await (await fetch('/examples/face.jpg')).blob();  // or a File from an <input type=file>
 * const { result, bitmap } = await vox.reconstructBlob(photo, { faces: 'largest' });
 * bitmap.close();
 * const [glb] = exportResult(result, 'face', { formats: ['glb'] });
 * console.log(`${glb.name}: ${glb.bytes.length} bytes, yaw ${result.faces[0].pose.yaw.toFixed(0)}°`);
 * ```
 */
import { reconstruct } from '../pipeline.ts';
import type { PipelineDeps, ReconstructOptions } from '../pipeline.ts';
import type { ReconstructionResult, RGBImage } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { decodeBlob } from './decode.ts';
import type { DecodeLimits } from './decode.ts';
import { loadBrowserDetector } from './detector.ts';
import { loadWebModel } from './session.ts';
import { createShapePrior } from '../prior/index.ts';
import type { ShapePrior } from '../prior/index.ts';

export { decodeBlob, bitmapToRGB } from './decode.ts';
export { loadWebLandmarkModel, loadWebModel, wrapWebSession } from './session.ts';
import { loadWebLandmarkModel } from './session.ts';
import { loadWebIdentityModel } from './identity.ts';
export { loadWebIdentityModel } from './identity.ts';
export { loadBrowserDetector, initWasmBackend } from './detector.ts';
export { browserSupport } from './support.ts';

export interface BrowserVoxfaceOptions {
  /**
   * The absolute URL the default file URLs below are relative to, resolved as links on a page at that address (e.g. the
   * page's `document.baseURI`): `models/model.onnx`, `vendor/ort/`, … Default: the site's root ('/models/model.onnx', …).
   */
  baseUrl?: string | URL;
  /** The ONNX model URL, its sidecar beside it (default 'models/model.onnx' under baseUrl). */
  modelUrl?: string;
  /** onnxruntime-web's wasm files (default 'vendor/ort/' under baseUrl). */
  ortWasmPaths?: string;
  /** TF.js wasm backend files (default 'vendor/tfjs-wasm/' under baseUrl). */
  tfWasmUrl?: string;
  /** The shape prior, models/ict-face.bin (default 'models/ict-face.bin' under baseUrl). */
  priorUrl?: string;
  /** The landmark model (default 'models/landmarks68.onnx' under baseUrl, its sidecar beside it); null: none. */
  landmarkModelUrl?: string | null;
  /**
   * The identity map (default 'models/identity-map.json' under baseUrl; the encoder from `identityEncoderUrl`,
   * default 'models/identity-encoder.onnx', fetched on the first face that needs it); null: none (the `identity`
   * option then pulls toward the mean face).
   */
  identityMapUrl?: string | null;
  identityEncoderUrl?: string;
  /** Detector graph models (default 'vendor/human-models' under baseUrl). */
  detectorModelsUrl?: string;
  /** The detector's ONNX networks (default 'models/' under baseUrl: blazeface-front, blazeface-back, facemesh). */
  detectorOnnxUrl?: string;
  /** Where the detector's networks run: 'onnx' (default; FaceBoxes on TF.js) or 'tfjs' (src/browser/detector.ts). */
  detectorRuntime?: 'onnx' | 'tfjs';
  limits?: DecodeLimits;
  /** Download progress of the network model, 0..1. */
  onProgress?: (fraction: number) => void;
}

export interface BrowserVoxface {
  readonly deps: PipelineDeps;
  reconstruct(image: RGBImage, options?: ReconstructOptions): Promise<ReconstructionResult>;
  /**
   * Makes now what the first photo would otherwise wait for (the identity encoder's session, loaded on first use so
   * that `loadBrowserVoxface` resolves sooner): call it once the page is ready and idle. Never throws (a failure shows
   * on the photo that needs it).
   */
  prepare(): Promise<void>;
  /** Decodes a File/Blob and reconstructs; returns the bitmap too (for display; close it when done). */
  reconstructBlob(blob: Blob, options?: ReconstructOptions): Promise<{ image: RGBImage; bitmap: ImageBitmap; result: ReconstructionResult; decodeMs: number }>;
}


/** Loads the network and the detectors (once; reuse the returned object for every photo). */
export async function loadBrowserVoxface(options: BrowserVoxfaceOptions = {}): Promise<BrowserVoxface> {
  const at = (file: string) => siteUrl(file, options.baseUrl);
  const ortWasmPaths = options.ortWasmPaths ?? at('vendor/ort/');
  const [{ session, info }, detector, prior, landmarks, identity] = await Promise.all([
    // the volume network's session on its first run (`lazy`): the default shape never needs it
    loadWebModel(options.modelUrl ?? at('models/model.onnx'), { wasmPaths: ortWasmPaths, onProgress: options.onProgress, lazy: true }),
    loadBrowserDetector({
      modelsUrl: options.detectorModelsUrl ?? at('vendor/human-models'),
      wasmUrl: options.tfWasmUrl ?? at('vendor/tfjs-wasm/'),
      onnxUrl: options.detectorOnnxUrl ?? at('models/'),
      ortWasmPaths,
      runtime: options.detectorRuntime,
    }),
    loadWebPrior(options.priorUrl ?? at('models/ict-face.bin')),
    options.landmarkModelUrl === null ? Promise.resolve(undefined) : loadWebLandmarkModel(options.landmarkModelUrl ?? at('models/landmarks68.onnx'), { wasmPaths: ortWasmPaths }),
    options.identityMapUrl === null ? Promise.resolve(undefined) : loadWebIdentityModel(options.identityMapUrl ?? at('models/identity-map.json'), options.identityEncoderUrl ?? at('models/identity-encoder.onnx'), { wasmPaths: ortWasmPaths }),
  ]);
  const deps: PipelineDeps = { session, model: info, detector, prior, landmarks, identity };
  return {
    deps,
    async prepare() {
      // the identity encoder (every face of the default options needs it), made while the page waits for a photo
      await identity?.encoder.prepare();
    },
    reconstruct: (image, o) => reconstruct(image, deps, o),
    async reconstructBlob(blob, o) {
      const t0 = performance.now();
      const { image, bitmap } = await decodeBlob(blob, options.limits);
      const decodeMs = performance.now() - t0;
      try {
        const result = await reconstruct(image, deps, o);
        result.timings.decode = decodeMs;
        return { image, bitmap, result, decodeMs };
      } catch (e) {
        bitmap.close();
        throw e;
      }
    },
  };
}

/**
 * A file of the site's layout (`models/…`, `vendor/…`) as a URL: resolved against `baseUrl` the way a link on a
 * page at that address is (so a page's `document.baseURI`, `…/demo/` or `…/demo/index.html`, gives `…/demo/models/…`),
 * or from the root ('/models/…') without one.
 *
 * ```ts
 * siteUrl('models/model.onnx', 'https://example.org/demo/index.html');  // 'https://example.org/demo/models/model.onnx'
 * siteUrl('vendor/ort/');                                                // '/vendor/ort/'
 * ```
 */
export function siteUrl(file: string, baseUrl?: string | URL): string {
  return baseUrl === undefined ? `/${file}` : new URL(file, baseUrl).href;
}

/**
 * Fetches and parses the shape prior (the ICT basis file). Throws `VoxfaceError('MODEL_ERROR')` when it cannot.
 *
 * ```ts
 * const prior = await loadWebPrior('/models/ict-face.bin');
 * ```
 */
export async function loadWebPrior(url: string): Promise<ShapePrior> {
  let bytes: Uint8Array;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new VoxfaceError('MODEL_ERROR', `cannot load the shape prior ${url}: ${(e as Error).message}`);
  }
  return createShapePrior(bytes);
}
