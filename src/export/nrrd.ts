/**
 * NRRD exporter for the network volume (uint8 occupancy, 0–255), readable by 3D Slicer, ParaView,
 * ITK and teem.
 *
 * Axes are listed fastest first: columns (x right), rows (y down), slices (z toward the camera).
 * The header places the voxels in Slicer's anatomical `left-posterior-superior` space, in
 * millimetres (photo pixels × metresPerPixel × 1000), assuming the subject faces the camera:
 * photo x → the subject's left (+L), photo y (down) → inferior (−S), photo z (toward the camera)
 * → anterior (−P). So the face opens upright and facing front in Slicer. `space origin` is the
 * centre of voxel (0, 0, 0). Encoding is gzip (default) or raw.
 *
 * @example
 * const bytes = parse(face.volume, { crop: face.crop, encoding: 'gzip' }); // write to volume.nrrd
 */
import { gzipSync } from 'fflate';
import type { Crop, Volume } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { quantizeVolume, volumeGeometry } from './volume.ts';

export interface NRRDOptions {
  /** The crop the volume came from: places it in the photo frame (else the crop frame). */
  crop?: Crop;
  /** 'gzip' (default) or 'raw'. */
  encoding?: 'gzip' | 'raw';
  /** Metres per photo pixel for the mm spacing (default 0.001: one pixel = one millimetre). */
  metresPerPixel?: number;
}

/**
 * Encodes the volume as a single attached-header .nrrd file.
 *
 * @example
 * const nrrd = parse(volume, { crop, metresPerPixel: 0.0008 });
 */
export function parse(volume: Volume, options: NRRDOptions = {}): Uint8Array {
  const encoding = options.encoding ?? 'gzip';
  if (encoding !== 'gzip' && encoding !== 'raw') throw new VoxfaceError('BAD_ARGUMENT', `unknown NRRD encoding "${encoding}"`);
  const mpp = options.metresPerPixel ?? 0.001;
  if (!(mpp > 0) || !Number.isFinite(mpp)) throw new VoxfaceError('BAD_ARGUMENT', `metresPerPixel must be > 0, got ${mpp}`);
  const data = quantizeVolume(volume);
  const { spacing, origin } = volumeGeometry(volume, options.crop);
  const mm = 1000 * mpp;
  const s = spacing * mm;
  const num = (x: number) => String(Math.round(x * 1e6) / 1e6 || 0);
  // Photo (x, y, z) → LPS (L, P, S) = mm * (x, −z, −y).
  const lps = (x: number, y: number, z: number) => `(${num(x * mm)},${num(-z * mm)},${num(-y * mm)})`;
  const header = [
    'NRRD0004',
    '# voxface occupancy volume (0-255); photo x -> L, photo z (toward camera) -> -P, photo y (down) -> -S',
    'type: uint8',
    'dimension: 3',
    'space: left-posterior-superior',
    `sizes: ${volume.width} ${volume.height} ${volume.depth}`,
    `space directions: (${num(s)},0,0) (0,0,${num(-s)}) (0,${num(-s)},0)`,
    'kinds: domain domain domain',
    `encoding: ${encoding}`,
    `space origin: ${lps(origin[0], origin[1], origin[2])}`,
    'space units: "mm" "mm" "mm"',
    '',
    '',
  ].join('\n');
  const head = new TextEncoder().encode(header);
  const body = encoding === 'gzip' ? gzipSync(data, { level: 3 }) : data;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
