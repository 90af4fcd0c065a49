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
