/**
 * Published AFLW2000-3D results (68-landmark NME 2D, %, ÷ √(w·h) of the ground-truth box, by |yaw| bin; "mean"
 * = mean of the three bin means). All were measured on all 2000 AFLW2000-3D images; ours on whatever folder
 * `npm run eval` is given (the 8-image dev subset in ../shared is all within ±30°).
 *
 * ```ts
 * for (const p of PUBLISHED) console.log(p.method, p.bins[0], p.mean);
 * ```
 */
export interface PublishedResult {
  method: string;
  /** NME 2D % for |yaw| in [0,30], (30,60], (60,90]. */
  bins: [number, number, number];
  /** Mean of the three bins, as printed by the authors. */
  mean: number;
  source: string;
}

export const PUBLISHED: readonly PublishedResult[] = [
  {
    method: '3DDFA',
    bins: [3.78, 4.54, 7.93],
    mean: 5.42,
    source: 'Zhu et al., "Face Alignment Across Large Poses: A 3D Solution", CVPR 2016; "Face Alignment in Full Pose Range: A 3D Total Solution", TPAMI 2019',
  },
  {
    method: 'PRNet',
    bins: [2.75, 3.51, 4.61],
    mean: 3.62,
    source: 'Feng et al., "Joint 3D Face Reconstruction and Dense Alignment with Position Map Regression Network", ECCV 2018',
  },
  {
    method: '3DDFA_V2',
    bins: [2.63, 3.42, 4.48],
    mean: 3.51,
    source: 'Guo et al., "Towards Fast, Accurate and Stable 3D Dense Face Alignment", ECCV 2020',
  },
  {
    method: 'SynergyNet',
    bins: [2.65, 3.3, 4.27],
    mean: 3.41,
    source: 'Wu et al., "Synergy between 3DMM and 3D Landmarks for Accurate 3D Facial Geometry", 3DV 2021',
  },
];

/** The protocol note printed with the published numbers. */
export const PUBLISHED_NOTE =
  'published: NME 2D on all 2000 AFLW2000-3D images (3DDFA benchmark protocol, landmark box √(w·h)); ours: the images of this run only';

/**
 * The line to beat on `../shared/aflw2000-3d/eval` (484 photos): 3DDFA_V2's smallest model (MobileNet ×0.5, its own
 * FaceBoxes detector) run on those same photos on this project's kind of machine (issue 17). NME 2D and 3D, %, by
 * |yaw| bin and the mean of bins.
 */
export const SAME_PHOTOS_BASELINE = {
  method: '3DDFA_V2 MobileNet ×0.5 (same 484 eval/ photos)',
  nme2d: { bins: [3.14, 4.17, 5.57] as const, mean: 4.29 },
  nme3d: { bins: [4.47, 5.6, 7.6] as const, mean: 5.89 },
  /** The folder it was measured on: printed only when the eval runs on a folder of that name. */
  folder: 'aflw2000-3d/eval',
};
