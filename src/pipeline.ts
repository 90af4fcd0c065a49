/**
 * The voxface pipeline: photo → faces → crops → network → volume → mesh → texture, every stage a plain
 * function, platform-neutral (Node adapters in `src/node/`, browser adapters in `src/browser/`).
 *
 * ```ts
 * const deps = { detector, session, model };           // from loadVoxface() in Node, or the browser adapters
 * const result = await reconstruct(photo, deps, { faces: 'all' });
 * result.faces[0].mesh;        // TexturedMesh in the photo frame (x right, y down, z toward the camera)
 * result.faces[0].landmarks68; // 68 × [x, y, z], same frame
 * ```
 */
import { cropFromBox, cropFromLandmarks } from './align/crop.ts';
import { ImageLevels, sampleCrop } from './align/sample.ts';
import { estimatePose } from './landmarks/pose.ts';
import { firstLandmarkCrop, regressLandmarks } from './landmarks/regressor.ts';
import type { LandmarkModel } from './landmarks/regressor.ts';
import { frontSurface, largestComponent, marchingCubes, taubinSmooth, transformMesh, limitTriangles, vertexNormals } from './mesh/index.ts';
import { runNetwork } from './network/index.ts';
import type { ModelInfo } from './network/index.ts';
import { benchmarkLandmarks, choosePriorSource, fitPrior, fitSilhouette, onSurfaceLandmarks, priorLandmarks, priorMesh, SILHOUETTE_DEFAULTS } from './prior/index.ts';
import type { PriorChoice, PriorFit, PriorFitOptions, ShapePrior } from './prior/index.ts';
import { embedFaces, regressIdentity } from './identity/index.ts';
import type { IdentityModel } from './identity/index.ts';
import { priorGuide } from './prior/guide.ts';
import { priorOntoVolume } from './prior/onto-volume.ts';
import { textureMesh } from './texture/index.ts';
import { textureSizeFor } from './texture/size.ts';
import { blurVolume, depthMap } from './volume/index.ts';
import { noFaceMessage } from './detect/too-small.ts';
import { isOptionKey, resolveOptions } from './options.ts';
import type { Options, OptionsInput } from './options.ts';
import { VOLUME_FORMATS } from './export/formats.ts';
import { VoxfaceError } from './types.ts';
import type {
  Crop,
  Detection,
  FaceDetector,
  FaceResult,
  InferenceSession,
  Mesh,
  NetworkOutput,
  ReconstructionResult,
  RGBImage,
  Vec2,
  Vec3,
} from './types.ts';

/** What the pipeline needs from its platform. */
export interface PipelineDeps {
  detector: FaceDetector;
  session: InferenceSession;
  model: ModelInfo;
  /** The shape prior (models/ict-face.bin, see src/prior/); `shape: 'prior'` needs it. */
  prior?: ShapePrior;
  /**
   * The landmark network (models/landmarks68.onnx, src/landmarks/regressor.ts): the 68 points the prior is fitted to
   * where Face Mesh is not used. Without it (or with `landmarkSource: 'synthetic'`) the volume network's landmarks.
   */
  landmarks?: LandmarkModel;
  /**
   * The identity encoder and map (src/identity/): with the `identity` option on, the prior is pulled toward the
   * identity it regresses from the face. Without it the prior is pulled toward the mean face.
   */
  identity?: IdentityModel;
}

/**
 * The pipeline's options: any subset of the reconstruction rows of the options table (src/options.ts: names,
 * defaults, ranges and help live there), plus a clock. Other rows of the table (export, model loading) are
 * accepted and not read here, so one options object can serve every stage.
 */
export type ReconstructOptions = OptionsInput & {
  /** Clock for stage timings (default performance.now). */
  now?: () => number;
  /** Called before detection, before each face and after the last one, for progress displays (default: none). */
  onProgress?: (progress: ReconstructProgress) => void;
};

/** Where `reconstruct` is: finding faces, or `done` of `total` faces reconstructed (the next one starting). */
export interface ReconstructProgress {
  stage: 'detect' | 'face';
  /** Faces reconstructed so far. */
  done: number;
  /** Faces to reconstruct (0 while detecting). */
  total: number;
}

/** The table's options resolved (other keys, such as callbacks, are the caller's), and the clock. */
function settings(options: ReconstructOptions): { o: Options; now: () => number } {
  const table = Object.fromEntries(Object.entries(options).filter(([k]) => isOptionKey(k)));
  return { o: resolveOptions(table), now: options.now ?? (() => performance.now()) };
}

/**
 * Reconstructs every face (or the largest) in a photo. Faces come back sorted largest first. Throws
 * `VoxfaceError('NO_FACE')` when there is none, `VoxfaceError('BAD_ARGUMENT')` (an `OptionError` naming the
 * option) for a bad option.
 */
export async function reconstruct(image: RGBImage, deps: PipelineDeps, options: ReconstructOptions = {}): Promise<ReconstructionResult> {
  const { o, now } = settings(options);
  const progress = options.onProgress ?? (() => {});
  const timings: Record<string, number> = {};
  progress({ stage: 'detect', done: 0, total: 0 });
  let t = now();
  // the box-filtered copies of the photo, made once for the detector and every face's crops
  const levels = new ImageLevels(image);
  let detections: Detection[];
  if (o.box) {
    detections = [{ box: o.box, score: 1, source: 'user' }];
  } else {
    detections = await deps.detector.detect(image, levels);
  }
  timings.detect = now() - t;
  if (detections.length === 0) throw new VoxfaceError('NO_FACE', noFaceMessage(image));
  detections = [...detections].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  if (o.faces === 'largest') detections = detections.slice(0, 1);
  const faces: FaceResult[] = [];
  for (const det of detections) {
    progress({ stage: 'face', done: faces.length, total: detections.length });
    t = now();
    faces.push(await reconstructFace(levels, det, deps, { ...o, now }));
    timings[`face${faces.length - 1}`] = now() - t;
  }
  progress({ stage: 'face', done: faces.length, total: faces.length });
  return { image: { width: image.width, height: image.height }, faces, timings };
}

/**
 * Reconstructs one detected face, from the photo or from its box-filtered levels (`ImageLevels`, shared with the
 * detector and the photo's other faces so that no level is filtered twice).
 */
export async function reconstructFace(
  photo: RGBImage | ImageLevels,
  det: Detection,
  deps: PipelineDeps,
  options: ReconstructOptions = {},
): Promise<FaceResult> {
  const { o, now } = settings(options);
  const { model, session } = deps;
  const timings: Record<string, number> = {};
  const time = <T>(stage: string, f: () => T): T => {
    const t0 = now();
    const r = f();
    timings[stage] = (timings[stage] ?? 0) + now() - t0;
    return r;
  };
  const timeAsync = async <T>(stage: string, f: () => Promise<T>): Promise<T> => {
    const t0 = now();
    const r = await f();
    timings[stage] = (timings[stage] ?? 0) + now() - t0;
    return r;
  };

  // 1. first crop: from the detector's landmarks when it has them, else from its box
  const levels = time('align', () => (photo instanceof ImageLevels ? photo : new ImageLevels(photo)));
  const image = levels.image;
  let crop = time('align', () => cropFromBox(det, model.crop, model.inputSize));
  // the texture's size of the prior's face: by the face's size from the detection, whether the volume network runs
  const firstCrop = crop;
  // the test-time flip (twice the network time) only where the answer is kept: the last pass
  const { flip, refine } = o;
  // a guided network (models/README.md) needs the prior; it runs image-only first (a zero prior), then guided
  const guided = model.guided !== undefined;
  if (guided && !deps.prior) throw new VoxfaceError('MODEL_ERROR', 'this network is guided by the shape prior (models/ict-face.bin): load it');

  // The volume network runs only where its output is used (`volume` option, volumeNeeds): its passes on first use,
  // once. `out` is its last answer (volume and 68 landmarks, crop frame), `outCrop` that answer's crop; `crop`
  // becomes the refined crop when it runs, the first crop stays otherwise.
  let out: NetworkOutput | undefined;
  let outCrop = crop;
  let fit: PriorFit | undefined;
  let ran: Promise<NetworkOutput> | undefined;
  const network = (why: string): Promise<NetworkOutput> => {
    if (o.volume === 'off') throw new VoxfaceError('BAD_ARGUMENT', `${why} needs the volume network, and volume is off: set volume to auto or on`);
    return (ran ??= volumeNetwork());
  };
  // the network's 68 landmarks in the photo frame (running it if it has not run)
  const network68 = async (why: string): Promise<Vec3[]> => {
    const last = out ?? (await network(why));
    return photoLandmarks(last.landmarks, outCrop);
  };
  async function volumeNetwork(): Promise<NetworkOutput> {
    let last = await runOn(levels, crop, flip && !refine && !guided);
    out = last;
    outCrop = crop;
    // 2. refine: re-crop around the 68 landmarks the network found, the way it was trained
    //    — unless those landmarks are implausible for this crop (collapsed or exploded), then the first pass stands
    if (refine) {
      const lm2d: Vec2[] = last.landmarks.map(([x, y]) => [x * crop.scale + crop.offset[0], y * crop.scale + crop.offset[1]]);
      const next = time('align', () => cropFromLandmarks(lm2d, model.crop, model.inputSize));
      const ratio = next.scale / crop.scale;
      if (ratio > 0.6 && ratio < 1.6) crop = next;
      if (!guided && (crop === next || flip)) {
        last = out = await runOn(levels, crop, flip);
        outCrop = crop;
      }
    }
    // a guided network: the prior fitted to Face Mesh's points or the landmarks (the image-only pass's), then the
    // network again on the final crop, guided by it
    if (guided) {
      fit = await fitNow();
      const prior = deps.prior as ShapePrior;
      const guide = time('prior', () => priorGuide(priorMesh(prior.basis, fit as PriorFit, 'face'), crop, model));
      last = out = await runOn(levels, crop, flip, guide);
      outCrop = crop;
    }
    return last;
  }

  // the shape prior, fitted to Face Mesh's points or to 68 landmarks: the landmark network's (landmark source real),
  // else the volume network's (the last pass's, or the image-only pass's for a guided network)
  let quick: ReturnType<typeof regressLandmarks> | undefined;
  let regressed: ReturnType<typeof regressLandmarks> | undefined;
  // the landmark network's first pass (no flip) on the detection's crop: once per face
  const quickPass = (lm: NonNullable<PipelineDeps['landmarks']>) =>
    (quick ??= timeAsync('landmarks', () => regressLandmarks(levels, firstLandmarkCrop(det, lm.info), lm, 1, false)));
  const fitTargets = async (extra: PriorChoice & PriorFitOptions = {}): Promise<PriorFit> => {
    const prior = deps.prior;
    if (!prior) throw new VoxfaceError('MODEL_ERROR', "the shape prior (models/ict-face.bin) is not loaded: load it, or use shape 'network' with mesh 'isosurface'");
    const lm = deps.landmarks;
    if (lm && o.landmarkSource === 'real') {
      // the landmark network trained on real photos: the benchmark's 68. Its first pass (no flip) judges the yaw
      // (choosePriorSource); where Face Mesh is fitted that is all it runs, elsewhere its refining pass follows (each
      // once per face: a second fit, with the identity centre, reuses them)
      const crop0 = firstLandmarkCrop(det, lm.info);
      const first = await quickPass(lm);
      const source = extra.source ?? (first.landmarks.length === 68 ? choosePriorSource(prior, { mesh468: det.mesh468, aflw68: first.landmarks }, extra) : 'aflw68');
      if (source === 'facemesh') return time('prior', () => fitPrior(prior, { mesh468: det.mesh468, landmarks68: [] }, { ...extra, source }));
      const reg = await (regressed ??= timeAsync('landmarks', () => regressLandmarks(levels, crop0, lm, 2, true, first.landmarks)));
      // with its 68 points the fit does not read the volume network's (fitPrior): given only where they exist
      const landmarks68 = out ? photoLandmarks(out.landmarks, outCrop) : reg.landmarks.length === 68 ? [] : await network68('a landmark network answer without 68 points');
      return time('prior', () => fitPrior(prior, { mesh468: det.mesh468, landmarks68, aflw68: reg.landmarks }, { ...extra, source: reg.landmarks.length === 68 ? 'aflw68' : extra.source }));
    }
    const why = lm ? 'landmark source synthetic' : 'the shape prior without the landmark network (models/landmarks68.onnx)';
    const landmarks68 = await network68(why);
    return time('prior', () => fitPrior(prior, { mesh468: det.mesh468, landmarks68 }, extra));
  };
  // identity from the image (`identity` option, src/identity/): the fit pulled toward the ICT identity regressed from
  // the face's embedding, cropped around the landmark network's 68 points (else a first fit's); without the encoder,
  // toward the mean face
  const fitNow = async (): Promise<PriorFit> => {
    const enc = deps.identity;
    const lmNet = deps.landmarks;
    let chosen: PriorFit['source'] | undefined;
    // Where Face Mesh is fitted (a face turned < 30°, judged by the landmark network's first pass), one fit: the
    // identity crop is cut around that pass's 68 points and the fit starts with the identity centre (models/README.md,
    // "One prior fit": a fit less, the same NME). A turned face is fitted twice as before, its crop around the first
    // fit's points: one fit there cost 0.1–0.3 points of coverage at 60–90°.
    const withShape = o.identity === 'shape';
    if (o.identity !== 'off' && enc && deps.prior && lmNet && o.landmarkSource === 'real') {
      const q = await quickPass(lmNet);
      if (q.landmarks.length === 68) {
        chosen = choosePriorSource(deps.prior, { mesh468: det.mesh468, aflw68: q.landmarks });
        if (chosen === 'facemesh') {
          const [embedding] = await timeAsync('identity', () => embedFaces(enc, levels, [q.landmarks], withShape));
          return fitTargets({ identityCenter: regressIdentity(enc.map, embedding), identityPrior: enc.map.identityPrior, source: chosen });
        }
      }
    }
    const first = await fitTargets(chosen ? { source: chosen } : {});
    if (o.identity === 'off' || !enc || !deps.prior) return first;
    const basis = deps.prior.basis;
    const [embedding] = await timeAsync('identity', () => embedFaces(enc, levels, [benchmarkLandmarks(basis, first)], withShape));
    const identityCenter = regressIdentity(enc.map, embedding);
    // the same targets as the first fit, started from it: it only moves toward the new identity centre
    return fitTargets({ identityCenter, identityPrior: enc.map.identityPrior, source: first.source, start: first });
  };

  // what needs the volume network from the start (the rest asks for it where it is used)
  const needs = volumeNeeds(o, model);
  if (needs) await network(needs);

  if (o.shape === 'prior') return templateFace((fit ??= await fitNow()), 'prior');
  if (o.mesh === 'template') return templateFace((fit ??= await fitNow()), 'network');
  const net = await network('shape network');
  const { volume } = net;

  // 3. volume → mesh in the crop frame, then into the photo frame (the mesh from the blurred field, the
  //    result keeps the network's own volume)
  const blur = o.volumeBlur;
  const field = blur > 0 ? time('mesh', () => blurVolume(volume, blur)) : volume;
  const surfaceOut: NetworkOutput = { ...net, volume: field };
  const mesh: Mesh = time('mesh', () => {
    let m = largestComponent(marchingCubes(field, { iso: o.iso }));
    const it = o.smooth;
    if (it > 0) m = taubinSmooth(m, { iterations: it });
    m = frontSurface(m, { volume: field, smoothing: it > 0 ? 0 : 8 });
    // the cut along the face's outline is ragged at voxel scale: smooth the border curve itself
    if (it > 0) m = taubinSmooth(m, { iterations: Math.max(2, it >> 1), boundary: 'curve' });
    m = limitTriangles(m, o.maxTriangles);
    m = transformMesh(m, crop);
    return { ...m, normals: vertexNormals(m) };
  });
  if (mesh.indices.length === 0) throw new VoxfaceError('NO_FACE', 'the network found no face surface in the detected region');

  // 4. landmarks in the photo frame; z of landmarks the camera sees snapped onto the surface
  let landmarks68 = time('landmarks', () => landmarksOnSurface(surfaceOut, crop));
  let poseFit = time('pose', () => estimatePose(landmarks68));
  if (o.landmarks !== 'network' && det.landmarks68?.length === 68 && Math.abs(poseFit.pose.yaw) < 45) {
    const guide = det.landmarks68;
    const inCrop: Vec3[] = net.landmarks.map(([, , z], i) => [
      (guide[i][0] - crop.offset[0]) / crop.scale,
      (guide[i][1] - crop.offset[1]) / crop.scale,
      z,
    ]);
    landmarks68 = time('landmarks', () => landmarksOnSurface({ ...surfaceOut, landmarks: inCrop }, crop));
    poseFit = time('pose', () => estimatePose(landmarks68));
  }

  // 5. texture from the photo
  const textured = time('texture', () => textureMesh(mesh, image, { size: textureSize(crop), landmarks: landmarks68 }));
  return faceResult({ landmarks68, pose: poseFit.pose, shape: 'network', mesh: textured });

  /** The texture's side: the option, else by the face's size in the photo (the side of the landmark box of a crop). */
  function textureSize(c: Crop): number {
    const size = o.textureSize ?? textureSizeFor(Math.max(c.size * c.scale, 1) / model.crop.scale);
    return size > 0 ? size : 16;
  }

  /** The result of this face: what the stages made of it, with its detection, crop, volume (where made) and timings. */
  function faceResult(made: Pick<FaceResult, 'landmarks68' | 'pose' | 'shape' | 'mesh' | 'prior'>): FaceResult {
    return { box: det.box, score: det.score, detector: det.source, crop, ...made, ...(out ? { volume: out.volume } : {}), timings };
  }

  /**
   * Steps 3–5 on ICT's topology: the fitted face itself (`prior`), or moved onto the network volume's surface where
   * the camera sees it (`network`, mesh 'template').
   */
  async function templateFace(fitted0: PriorFit, shape: 'prior' | 'network'): Promise<FaceResult> {
    const prior = deps.prior as ShapePrior;
    const region = o.head ? 'head' : 'face';
    // a turned face's identity moved so its profile outline meets the photo's edges (src/prior/silhouette.ts)
    const fit = o.silhouette === 'auto' && Math.abs(fitted0.pose.yaw) >= SILHOUETTE_DEFAULTS.minYaw
      ? time('prior', () => fitSilhouette(prior.basis, fitted0, region, image))
      : fitted0;
    const fitted = time('mesh', () => priorMesh(prior.basis, fit, region));
    let mesh = o.surfaceLandmarks === 'on' ? time('mesh', () => onSurfaceLandmarks(prior.basis, fit, region, fitted)) : fitted;
    // the texture is sampled on ICT's fitted surface where the nose and lips were moved out (TextureOptions.sampleAt)
    const sampleOn = mesh !== fitted && shape === 'prior' ? fitted : undefined;
    if (shape === 'network') {
      const { volume } = await network('shape network');
      const field = o.volumeBlur > 0 ? time('mesh', () => blurVolume(volume, o.volumeBlur)) : volume;
      mesh = time('mesh', () => priorOntoVolume(mesh, prior.basis.meshes[region].vertex, field, crop));
    }
    // landmarks: 'fit', the benchmark's 68 points on the fitted face; else x, y by the landmarks rule (Face Mesh's
    // where it fits and the head turns < 45°, else the network's) with z of the mesh's ICT landmark vertices
    let landmarks68: Vec3[];
    if (o.landmarks === 'fit') {
      landmarks68 = time('landmarks', () => benchmarkLandmarks(prior.basis, fit));
    } else {
      const onFace = time('landmarks', () => templateLandmarks(prior.basis, fit, mesh, region));
      const guide = o.landmarks === 'fused' && det.landmarks68?.length === 68 && Math.abs(fit.pose.yaw) < 45 ? det.landmarks68 : undefined;
      const xy = guide ?? (await network68(o.landmarks === 'fused' ? 'landmarks fused where Face Mesh does not fit' : 'landmarks network'));
      landmarks68 = onFace.map(([, , z], i) => [xy[i][0], xy[i][1], z]);
    }
    // --max-triangles on ICT's mesh too (after the landmarks, which read its own vertices): uvs, outline, seams kept
    const full = mesh;
    mesh = time('mesh', () => limitTriangles(mesh, o.maxTriangles));
    const aspect = prior.basis.meshes[region].aspect;
    // the texture's size by the face's size in the photo as the detection gives it (the prior's face is the same
    // whether the volume network ran or not)
    const size = textureSize(shape === 'prior' ? firstCrop : crop);
    const on = mesh === full ? sampleOn : undefined; // not on a decimated mesh (--max-triangles): its own
    const textured = time('texture', () => textureMesh(mesh, image, { size, atlas: { aspect, mirrorTiles: aspect }, sampleAt: on?.positions, sampleNormals: on?.normals }));
    return faceResult({ landmarks68, pose: fit.pose, shape, prior: { ...fit, region }, mesh: textured });
  }

  async function runOn(img: ImageLevels, c: Crop, withFlip: boolean, prior?: Float32Array): Promise<NetworkOutput> {
    const input = time('align', () => sampleCrop(img, c));
    return timeAsync('network', () => runNetwork(session, model, input, { flip: withFlip, prior }));
  }
}

/**
 * Why a face needs the volume network from the start, in words, or undefined where nothing does (it may still run
 * later for what only some faces need: the landmarks of `landmarks: 'network'`, or of `'fused'` where Face Mesh
 * does not fit, and the fit's 68 points with landmark source synthetic or without the landmark network). `volume`
 * 'on': always; 'off': never (what needs it then fails); 'auto': the volume formats among `formats`, shape network,
 * a guided network.
 *
 * ```ts
 * volumeNeeds(resolveOptions({ formats: ['glb', 'nrrd'] }), model); // 'the nrrd format'
 * volumeNeeds(resolveOptions({}), model);                           // undefined: the default glb + json do not
 * ```
 */
export function volumeNeeds(o: Pick<Options, 'volume' | 'formats' | 'shape'>, model: Pick<ModelInfo, 'guided'>): string | undefined {
  if (o.volume === 'off') {
    const f = o.formats.find((x) => VOLUME_FORMATS.includes(x));
    if (f) throw new VoxfaceError('BAD_ARGUMENT', `the ${f} format needs the volume network, and volume is off: set volume to auto or on`);
    return undefined;
  }
  if (o.volume === 'on') return 'volume on';
  const f = o.formats.find((x) => VOLUME_FORMATS.includes(x));
  if (f) return `the ${f} format`;
  if (o.shape === 'network') return 'shape network';
  if (model.guided !== undefined) return 'a guided network';
  return undefined;
}

/** The network's landmarks (crop frame) in the photo frame. */
function photoLandmarks(landmarks: readonly Vec3[], crop: Crop): Vec3[] {
  return landmarks.map(([x, y, z]) => [x * crop.scale + crop.offset[0], y * crop.scale + crop.offset[1], z * crop.scale]);
}

/** The 68 landmark vertices of a template mesh (the prior's, or the prior moved onto the network's surface). */
function templateLandmarks(basis: ShapePrior['basis'], fit: PriorFit, mesh: Mesh, region: 'face' | 'head'): Vec3[] {
  const onPrior = priorLandmarks(basis, fit);
  const vertexOf = basis.meshes[region].vertex;
  const at = new Map<number, number>();
  for (let i = 0; i < vertexOf.length; i++) if (!at.has(vertexOf[i])) at.set(vertexOf[i], i);
  return Array.from(basis.landmarks68, (v, k): Vec3 => {
    const i = at.get(v);
    return i === undefined ? onPrior[k] : [mesh.positions[3 * i], mesh.positions[3 * i + 1], mesh.positions[3 * i + 2]];
  });
}

/**
 * Maps the network's landmarks into the photo frame. A landmark the camera sees (its z within two voxels of
 * the surface in front of it, or in front of the surface) takes the surface's z at its (x, y), so landmarks and
 * mesh agree; a landmark hidden behind the surface (the far side of a turned face) keeps the network's z.
 */
export function landmarksOnSurface(out: NetworkOutput, crop: Crop): Vec3[] {
  const { volume, landmarks } = out;
  const depth = depthMap(volume);
  const v = volume.voxelSize;
  return landmarks.map(([x, y, z]) => {
    const c = Math.floor(x / v);
    const r = Math.floor(y / v);
    let zz = z;
    if (c >= 0 && r >= 0 && c < volume.width && r < volume.height) {
      const zs = depth[r * volume.width + c];
      if (Number.isFinite(zs) && z >= zs - 2 * v) zz = zs;
    }
    return [x * crop.scale + crop.offset[0], y * crop.scale + crop.offset[1], zz * crop.scale];
  });
}
