/**
 * Bundles the page (web/src/main.ts) and device mode's Web Worker (web/src/worker.ts: the models and the
 * pipeline) into the git-ignored web/dist/ with esbuild. The server serves web/ and web/dist/.
 *
 * ```sh
 * node --import tsx scripts/build-web.ts            # minified, with source maps
 * node --import tsx scripts/build-web.ts --watch    # rebuild on change (development)
 * ```
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'web', 'dist');

/**
 * esbuild options for the page bundle: into web/dist/ with source maps unless told otherwise
 * (scripts/build-site.ts builds into its own folder, without maps).
 */
export function webBuildOptions(options: { minify?: boolean; outdir?: string; sourcemap?: boolean } = {}): esbuild.BuildOptions {
  return {
    absWorkingDir: root,
    // the page, and device mode's worker (the models and the pipeline run there: web/src/worker.ts)
    entryPoints: { main: 'web/src/main.ts', worker: 'web/src/worker.ts' },
    outdir: options.outdir ?? outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari16'],
    // onnxruntime-web: the build that loads ort-wasm-simd-threaded.{mjs,wasm} from ort.env.wasm.wasmPaths
    conditions: ['onnxruntime-web-use-extern-wasm'],
    minify: options.minify ?? true,
    sourcemap: options.sourcemap ?? true,
    chunkNames: 'chunks/[name]-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    legalComments: 'linked',
    metafile: true,
  };
}

/** Builds once; returns the output files and their sizes. */
export async function buildWeb(options: { minify?: boolean } = {}): Promise<{ file: string; bytes: number }[]> {
  await rm(outdir, { recursive: true, force: true });
  const result = await esbuild.build(webBuildOptions(options));
  return Object.entries(result.metafile!.outputs)
    .filter(([f]) => !f.endsWith('.map'))
    .map(([file, o]) => ({ file, bytes: o.bytes }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--watch')) {
    const ctx = await esbuild.context({ ...webBuildOptions({ minify: false }), logLevel: 'info' });
    await ctx.watch();
    console.log('watching web/src and src/ for changes…');
  } else {
    const t0 = performance.now();
    const files = await buildWeb();
    for (const f of files) console.log(`${f.file.padEnd(48)} ${(f.bytes / 1024).toFixed(0).padStart(7)} kB`);
    console.log(`built in ${Math.round(performance.now() - t0)} ms`);
  }
}
