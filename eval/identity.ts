/**
 * `npm run identity -- [photo dir] [--shape prior|network] [--model path] [pipeline options]`: does a shape tell people apart? On
 * `../shared/faces/dlib-johns` (11 photos each of 5 people, named `<First>_<Last>_…`), without ground truth.
 *
 * Every photo's face is reconstructed on ICT's topology (the prior, or the network's surface on the template), taken
 * back into ICT's frame through its fit's pose, and compared with every other photo's: a similarity alignment over
 * the front of the face (ICT's `narrow_face`), then the mean vertex distance in mm. A shape that carries identity makes
 * photos of different people clearly farther apart than photos of the same person; the table gives both means, their
 * ratio, and how often a photo's nearest other photo is of the same person (chance: 10 of 54 ≈ 19%).
 *
 * ```sh
 * npm run identity                         # both shapes side by side
 * ```
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fitSimilarity } from '../src/landmarks/pose.ts';
import { parseCommandLine } from '../src/cli/args.ts';
import { isImageFile } from '../src/decode/extensions.ts';
import { loadVoxface } from '../src/node/index.ts';
import { commandLineHelp, option } from '../src/options.ts';
import type { FaceResult } from '../src/types.ts';
import { FRONT_VERTICES } from './dense.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');

/** A face's front vertices in ICT's frame (cm), one per model vertex < FRONT_VERTICES (NaN where missing). */
function frontShape(face: FaceResult, vertexOf: ArrayLike<number>): Float64Array {
  const fit = face.prior!;
  const { rotation: R, scale: s, translation: t } = fit;
  const out = new Float64Array(FRONT_VERTICES * 3).fill(NaN);
  const p = face.mesh.positions;
  for (let i = 0; i < vertexOf.length; i++) {
    const v = vertexOf[i];
    if (v >= FRONT_VERTICES) continue;
    const x = (p[3 * i] - t[0]) / s, y = (-p[3 * i + 1] - t[1]) / s, z = (p[3 * i + 2] - t[2]) / s;
    out[3 * v] = R[0] * x + R[3] * y + R[6] * z;
    out[3 * v + 1] = R[1] * x + R[4] * y + R[7] * z;
    out[3 * v + 2] = R[2] * x + R[5] * y + R[8] * z;
  }
  return out;
}

/** Mean distance (mm) of two shapes after a similarity takes a onto b, over the vertices both have. */
export function shapeDistance(a: Float64Array, b: Float64Array): number {
  const P: number[][] = [], Q: number[][] = [];
  for (let v = 0; v < a.length / 3; v += 3) { // every third vertex: enough, and 9× faster over 55 × 54 pairs
    if (!Number.isFinite(a[3 * v]) || !Number.isFinite(b[3 * v])) continue;
    P.push([a[3 * v], a[3 * v + 1], a[3 * v + 2]]);
    Q.push([b[3 * v], b[3 * v + 1], b[3 * v + 2]]);
  }
  const { rotation: R, scale: s, translation: t } = fitSimilarity(P, Q);
  let d = 0;
  for (let k = 0; k < P.length; k++) {
    const [x, y, z] = P[k];
    d += Math.hypot(
      s * (R[0] * x + R[1] * y + R[2] * z) + t[0] - Q[k][0],
      s * (R[3] * x + R[4] * y + R[5] * z) + t[1] - Q[k][1],
      s * (R[6] * x + R[7] * y + R[8] * z) + t[2] - Q[k][2],
    );
  }
  return (10 * d) / P.length;
}

/** The identity measure's flags: the eval's rows of the options table (--shape picks one shape), and help. */
const IDENTITY_OPTIONS = { help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }) };
const USAGE = `usage: npm run identity -- [photo dir] [options]\n\nOptions (without --shape both shapes run):\n${commandLineHelp('eval', IDENTITY_OPTIONS)}`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, 'eval', IDENTITY_OPTIONS);
  } catch (e) {
    console.error(`identity: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { local, given, positionals } = parsed;
  if (local.help) {
    console.log(USAGE);
    return 0;
  }
  const { model, threads, shape, ...options } = given;
  const dir = positionals[0] ?? path.join(SHARED, 'faces', 'dlib-johns');
  const shapes = shape ? [shape] : (['prior', 'network'] as const);
  let files: string[];
  try {
    files = readdirSync(dir).filter(isImageFile).sort();
  } catch {
    console.error(`identity: cannot read ${dir} (needs ../shared/faces/dlib-johns, or give a folder)`);
    return 1;
  }
  const person = (f: string) => f.split('_').slice(0, 2).join('_');
  const vox = await loadVoxface({ threads: threads ?? 2, model });
  const vertexOf = vox.deps.prior!.basis.meshes.face.vertex;
  console.log(`identity on ${dir}: ${files.length} photos of ${new Set(files.map(person)).size} people`);
  const rows: string[] = [];
  for (const sh of shapes) {
    const shapesOf: { who: string; s: Float64Array }[] = [];
    for (const f of files) {
      try {
        const { result } = await vox.reconstructFile(path.join(dir, f), { mesh: 'template', ...options, faces: 'largest', textureSize: 16, shape: sh });
        shapesOf.push({ who: person(f), s: frontShape(result.faces[0], vertexOf) });
      } catch (e) {
        console.error(`${f}: ${(e as Error).message}`);
      }
    }
    const same: number[] = [], diff: number[] = [];
    let nearestSame = 0;
    for (let i = 0; i < shapesOf.length; i++) {
      let best = Infinity, bestWho = '';
      for (let j = 0; j < shapesOf.length; j++) {
        if (i === j) continue;
        const d = shapeDistance(shapesOf[i].s, shapesOf[j].s);
        if (j > i) (shapesOf[i].who === shapesOf[j].who ? same : diff).push(d);
        if (d < best) {
          best = d;
          bestWho = shapesOf[j].who;
        }
      }
      if (bestWho === shapesOf[i].who) nearestSame++;
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    rows.push(
      `${sh.padEnd(8)} ${shapesOf.length.toString().padStart(6)}  ${mean(same).toFixed(3).padStart(13)}  ${mean(diff).toFixed(3).padStart(16)}  ${(mean(diff) / mean(same)).toFixed(3).padStart(6)}  ${((100 * nearestSame) / shapesOf.length).toFixed(0).padStart(10)}%`,
    );
  }
  console.log('shape     faces  same person mm  different people mm   ratio  nearest is same person');
  for (const r of rows) console.log(r);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.slice(2));
