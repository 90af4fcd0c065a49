/**
 * Messages between the page and the device-mode worker (web/src/worker.ts). The worker holds the models and runs
 * the whole pipeline; the page only sends photos and draws what comes back. Types only: importing this module
 * from the page pulls in no model code.
 *
 * ```ts
 * worker.postMessage({ type: 'reconstruct', id: 1, file, base: 'selfie' } satisfies ToWorker);
 * worker.onmessage = (e: MessageEvent<FromWorker>) => e.data.type === 'progress' && show(e.data.text);
 * ```
 */
import type { ResultJSON } from '../../src/export/json.ts';
import type { OptionsInput } from '../../src/options.ts';

/** Where the worker is: loading the models, reading the photo, finding faces, reconstructing a face, making files. */
export type DeviceStage = 'load' | 'decode' | 'detect' | 'face' | 'export';

export type ToWorker =
  /**
   * Load the network and the detectors (once; answered with 'ready' or an 'error' without id), from `models/` and
   * `vendor/` relative to `base`, the page's address (`document.baseURI`): the site may live under any path prefix.
   */
  | { type: 'prepare'; base: string }
  /** Reconstruct every face of a photo (answered with 'result' or 'error' with the same id). */
  | { type: 'reconstruct'; id: number; file: Blob; base: string; options?: OptionsInput }
  /**
   * Make the other formats' files of result `id` (answered with 'files'): the page asks once its model is on screen,
   * so making them never slows the first view.
   */
  | { type: 'files'; id: number }
  /** Free the blob: URLs of a result the page no longer shows. */
  | { type: 'release'; hrefs: string[] };

/**
 * One file made in the worker, as a blob: URL made there too (same origin: the page links and fetches it), so the
 * page thread never copies the bytes; a 24-face photo has some 300 files.
 */
export interface DeviceFile {
  name: string;
  format: string;
  /** The export manifest's role (model, mesh, material, texture, …). */
  role: string;
  /** Its size in bytes. */
  bytes: number;
  href: string;
}

export type FromWorker =
  | {
      type: 'progress';
      /** The request this belongs to (none while preparing). */
      id?: number;
      stage: DeviceStage;
      /** 0..1 where known. */
      fraction?: number;
      /** While stage is 'face': the face being reconstructed (0-based) and how many there are. */
      face?: number;
      faces?: number;
      text: string;
    }
  | { type: 'ready'; loadMs: number }
  /** The warm-up after 'ready' is done (web/src/worker.ts): the pipeline ran `runs` times on a synthetic face. */
  | { type: 'warm'; warmMs: number; runs: number }
  | {
      type: 'result';
      id: number;
      json: ResultJSON;
      /** Files per face, largest face first. */
      faces: DeviceFile[][];
      /** Files of the whole photo (the JSON). */
      photoFiles: DeviceFile[];
      /** Milliseconds in the worker: decode to the model's files. */
      ms: number;
      /** Whether the other formats' files can be asked for ('files'): the page asks once the model is on screen. */
      more: boolean;
    }
  /**
   * The files of the formats the viewer does not need (OBJ, PLY, STL, the depth map…), made when the page asks for
   * them after showing the result's model; `error` where making them failed.
   */
  | { type: 'files'; id: number; faces: DeviceFile[][]; photoFiles: DeviceFile[]; error?: string }
  | { type: 'error'; id?: number; code: string; message: string };
