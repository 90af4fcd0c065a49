/**
 * Geometry of a network volume in the photo frame, shared by the .npy sidecar and the NRRD header.
 *
 * Voxel (d, r, c) has its centre at crop pixel ((c + ½) s, (r + ½) s, (d + ½ − D/2) s), s = voxelSize
 * (types.ts `Volume`), and photo = crop · scale + offset (z: · scale). So in the photo frame the
 * grid is axis aligned with spacing s · scale along x (columns), y (rows) and z (slices).
 */
import type { Crop, Vec3, Volume } from '../types.ts';
import { VoxfaceError } from '../types.ts';

export interface VolumeGeometry {
  /** Photo pixels per voxel (same on every axis). */
  spacing: number;
  /** Photo-frame position (x, y, z) of voxel (d, r, c) = (0, 0, 0)'s centre. */
  origin: Vec3;
}

/**
 * Spacing and origin of the volume's voxel centres in the photo frame (the crop frame when no crop).
 *
 * @example
 * const { spacing, origin } = volumeGeometry(face.volume, face.crop);
 * // voxel (d, r, c) centre = origin + spacing * (c, r, d)
 */
export function volumeGeometry(volume: Volume, crop?: Crop): VolumeGeometry {
  const scale = crop?.scale ?? 1;
  const [ox, oy] = crop?.offset ?? [0, 0];
  const spacing = volume.voxelSize * scale;
  return { spacing, origin: [0.5 * spacing + ox, 0.5 * spacing + oy, (0.5 - volume.depth / 2) * spacing] };
}

/**
 * The volume as bytes: round(255 · clamp(p, 0, 1)), same layout as `Volume.data` (C order d, r, c).
 *
 * @example
 * const bytes = quantizeVolume(volume); // bytes[(d * H + r) * W + c]
 */
export function quantizeVolume(volume: Volume): Uint8Array {
  const { width, height, depth, data } = volume;
  if (![width, height, depth].every((n) => Number.isInteger(n) && n > 0) || data.length !== width * height * depth) {
    throw new VoxfaceError('BAD_ARGUMENT', `volume data has ${data.length} values, expected ${width}×${height}×${depth}`);
  }
  if (!(volume.voxelSize > 0)) throw new VoxfaceError('BAD_ARGUMENT', `volume voxelSize must be > 0, got ${volume.voxelSize}`);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}
