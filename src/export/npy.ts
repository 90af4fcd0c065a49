/**
 * NumPy .npy exporter for the network volume (`parse`), with a JSON sidecar describing its geometry
 * (`parseSidecar`, given the .npy file's name it describes).
 *
 * The array is uint8 occupancy (0–255 = probability × 255), shape (D, H, W) in C order, i.e.
 * `np.load('volume.npy')[d, r, c]` is slice d (z, toward the camera), row r (y, down), column c
 * (x, right). The sidecar gives the voxel size and origin in the photo frame and the 4×4 matrix from
 * (c, r, d, 1) to photo (x, y, z, 1).
 *
 * @example
 * writeFileSync('face.volume.npy', parse(face.volume));
 * writeFileSync('face.volume.json', parseSidecar(face.volume, { crop: face.crop, file: 'face.volume.npy' }));
 */
import type { Crop, Volume } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { quantizeVolume, volumeGeometry } from './volume.ts';

export interface SidecarOptions {
  /** The crop the volume came from: places it in the photo frame (else the crop frame). */
  crop?: Crop;
  /** The .npy file the sidecar describes (its `file` field; default 'volume.npy'). */
  file?: string;
  /**
   * The .npy of the fitted prior's surface voxelised in the same grid, where the face's mesh is the prior (its
   * `prior.file` field; the same shape, axes and matrix).
   */
  priorFile?: string;
}

/**
 * Encodes the volume as .npy bytes: uint8, shape (D, H, W).
 *
 * @example
 * const bytes = parse(volume);
 */
export function parse(volume: Volume): Uint8Array {
  return npy(quantizeVolume(volume), [volume.depth, volume.height, volume.width]);
}

/**
 * The JSON sidecar of a volume's .npy: shape, axes, voxel size, origin and the voxel → photo matrix.
 *
 * @example
 * const json = parseSidecar(volume, { crop, file: 'face.volume.npy' });
 */
export function parseSidecar(volume: Volume, options: SidecarOptions = {}): Uint8Array {
  const file = options.file ?? 'volume.npy';
  if (/[\0\n]/.test(file) || file.length === 0) throw new VoxfaceError('BAD_ARGUMENT', `volume file name must be a plain file name, got "${file}"`);
  if (options.priorFile !== undefined && (/[\0\n]/.test(options.priorFile) || options.priorFile.length === 0)) {
    throw new VoxfaceError('BAD_ARGUMENT', `prior volume file name must be a plain file name, got "${options.priorFile}"`);
  }
  const { spacing, origin } = volumeGeometry(volume, options.crop);
  const sidecar = {
    file,
    dtype: 'uint8',
    shape: [volume.depth, volume.height, volume.width],
    axes: ['d: slice, z toward the camera', 'r: row, y down', 'c: column, x right'],
    values: 'occupancy probability × 255 (inside the head = 255)',
    frame: options.crop ? 'photo frame (x right, y down, z toward the camera), photo pixels' : 'crop frame, crop pixels',
    voxelSize: spacing,
    origin,
    photoFromIndex: [
      [spacing, 0, 0, origin[0]],
      [0, spacing, 0, origin[1]],
      [0, 0, spacing, origin[2]],
      [0, 0, 0, 1],
    ],
    ...(options.crop ? { crop: options.crop, cropVoxelSize: volume.voxelSize } : {}),
    ...(options.priorFile
      ? {
          prior: {
            file: options.priorFile,
            values: "the fitted ICT face (the face's mesh files) voxelised in this grid: occupancy × 255, same shape, axes and matrix",
          },
          note: `${file} is the network's volume; ${options.priorFile} the shape prior's surface, which the mesh files show`,
        }
      : {}),
  };
  return new TextEncoder().encode(JSON.stringify(sidecar, null, 2) + '\n');
}

/**
 * A version 1.0 .npy file of uint8 data: magic, header dict padded with spaces to a multiple of 64 bytes.
 *
 * @example
 * const bytes = npy(new Uint8Array(24), [2, 3, 4]);
 */
export function npy(data: Uint8Array, shape: number[]): Uint8Array {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const headerLength = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  const out = new Uint8Array(10 + headerLength + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, headerLength & 0xff, headerLength >> 8]);
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + headerLength);
  return out;
}
