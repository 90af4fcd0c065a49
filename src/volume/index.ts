/** Volume stage: network logits → occupancy volume, depth maps, and analytic test volumes. */
export { sigmoidInPlace, volumeFromLogits } from './logits.ts';
export type { VolumeFromLogitsOptions } from './logits.ts';
export { depthMap } from './depth-map.ts';
export { blurVolume, gaussianKernel } from './blur.ts';
export { checkVolume, checkDims, sliceZ } from './check.ts';
export type { VolumeDims } from './check.ts';
export {
  voxelizeSDF,
  voxelizeHeightField,
  voxelizeFaceLike,
  faceLikeField,
  volumeCenter,
  sphereSDF,
  ellipsoidSDF,
  torusSDF,
  boxSDF,
  unionSDF,
} from './voxelize.ts';
export type { SDF, HeightField, VoxelizeOptions } from './voxelize.ts';
