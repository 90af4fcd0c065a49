/**
 * Device mode (loaded on demand as its own chunk): the whole pipeline in the page, the files made with the
 * same `exportResult` as the CLI, offered as blob: downloads. Nothing is uploaded.
 *
 * ```ts
 * const local = await import('./local.ts');
 * await local.prepare(onProgress);                 // downloads and compiles the models once
 * const result = await local.reconstructOnDevice(file, 'selfie', onProgress);
 * ```
 */
import { browserSupport, loadBrowserVoxface } from '../../src/browser/index.ts';
import type { BrowserVoxface } from '../../src/browser/index.ts';
import { exportResult, FORMATS } from '../../src/export/files.ts';
import type { ExportedFile } from '../../src/export/files.ts';
import { toJSON } from '../../src/export/json.ts';
import { VoxfaceError } from '../../src/types.ts';
import type { Progress } from './api.ts';
import { PageError } from './result.ts';
import type { PageFile, PageResult } from './result.ts';

let loading: Promise<BrowserVoxface> | undefined;

export { browserSupport };

/** Loads the network and detectors once (later calls reuse them). */
export function prepare(onProgress?: Progress): Promise<BrowserVoxface> {
  if (!loading) {
    loading = loadBrowserVoxface({
      modelUrl: '/models/model.onnx',
      limits: { maxBytes: 20 * 1024 * 1024, maxPixels: 40e6 },
      onProgress: (f) => onProgress?.(f, `Loading the model on this device… ${Math.round(f * 100)}%`),
    });
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/** Reconstructs a photo on this device. Rejects with a PageError. */
export async function reconstructOnDevice(file: Blob, base: string, onProgress: Progress): Promise<PageResult> {
  const t0 = performance.now();
  try {
    const vox = await prepare(onProgress);
    onProgress(undefined, 'Finding faces and reconstructing on this device…');
    await new Promise((r) => setTimeout(r, 30)); // let the status paint before the CPU-heavy part
    const { result, bitmap } = await vox.reconstructBlob(file, { faces: 'all' });
    bitmap.close();
    onProgress(undefined, 'Making the files…');
    await new Promise((r) => setTimeout(r, 0));
    const files = exportResult(result, base, { formats: [...FORMATS] });
    const json = toJSON(result);
    const urls: string[] = [];
    const bytesOf = new Map(files.map((f) => [f.name, f.bytes]));
    const entry = (f: ExportedFile): PageFile => {
      const href = URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>]));
      urls.push(href);
      return { name: f.name, format: f.format, role: f.role, bytes: f.bytes.byteLength, href };
    };
    const faces: PageFile[][] = json.faces.map(() => []);
    const photoFiles: PageFile[] = [];
    for (const f of files) (f.face === null ? photoFiles : faces[f.face]).push(entry(f));
    return {
      mode: 'device',
      json,
      faces,
      photoFiles,
      ms: performance.now() - t0,
      async glb(i) {
        const f = faces[i]?.find((x) => x.format === 'glb');
        const bytes = f && bytesOf.get(f.name);
        if (!bytes) throw new PageError('NO_GLB', 'no GLB for this face');
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
      dispose() {
        for (const u of urls) URL.revokeObjectURL(u);
      },
    };
  } catch (e) {
    if (e instanceof PageError) throw e;
    if (e instanceof VoxfaceError) throw new PageError(e.code, e.message);
    throw new PageError('DEVICE_FAILED', `this browser could not run the reconstruction: ${(e as Error)?.message ?? e}`);
  }
}
