/**
 * Camera helpers of the software renderer: rotations about a centre and the orthographic view.
 *
 * Frames are the photo frame's: x right, y down, z toward the viewer. The camera looks along −z, so a
 * point (x, y, z) lands on image pixel `view.scale · (x, y) + view.offset` and larger z is nearer.
 *
 * @example
 * const R = rotationMatrix({ yaw: 45 });            // nose (+z) turns toward the image's right (+x)
 * const p = rotateAbout([0, 0, 10], R, [0, 0, 0]);  // ≈ [7.07, 0, 7.07]
 */
import type { Vec2, Vec3 } from '../../src/types.ts';

/** Degrees. yaw: about the vertical axis, + turns the front (+z) toward +x; pitch: about x, + tips the front down (+y); roll: about z, + counter-clockwise as seen in the image. */
export interface Rotation {
  yaw?: number;
  pitch?: number;
  roll?: number;
}

/** Image pixel = scale · (x, y) + offset (pixel (i, j) covers [i, i+1) × [j, j+1)). */
export interface View {
  scale: number;
  offset: Vec2;
}

/** A 3×3 row-major rotation matrix. */
export type Matrix3 = [number, number, number, number, number, number, number, number, number];

/**
 * Rotation matrix R = Rz(roll) · Rx(pitch) · Ry(yaw) in the photo frame (the yaw acts first).
 *
 * @example
 * rotationMatrix({ yaw: 90 }); // maps +z (toward the viewer) to +x (the image's right)
 */
export function rotationMatrix(r: Rotation = {}): Matrix3 {
  const rad = Math.PI / 180;
  const y = (r.yaw ?? 0) * rad, p = (r.pitch ?? 0) * rad, q = (r.roll ?? 0) * rad;
  const cy = Math.cos(y), sy = Math.sin(y), cp = Math.cos(p), sp = Math.sin(p), cr = Math.cos(q), sr = Math.sin(q);
  // Ry: +z → +x
  const Ry: Matrix3 = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  // Rx: +z → +y (front tips down, y is down)
  const Rx: Matrix3 = [1, 0, 0, 0, cp, sp, 0, -sp, cp];
  // Rz: counter-clockwise on screen with y down: +x → −y
  const Rz: Matrix3 = [cr, sr, 0, -sr, cr, 0, 0, 0, 1];
  return multiply(Rz, multiply(Rx, Ry));
}

/** a · b for 3×3 row-major matrices. */
export function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out = new Array<number>(9) as Matrix3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  }
  return out;
}

/**
 * R · (p − centre) + centre.
 *
 * @example
 * rotateAbout([1, 0, 0], rotationMatrix({ roll: 90 }), [0, 0, 0]); // [0, −1, 0]: up on screen
 */
export function rotateAbout(p: Vec3, R: Matrix3, centre: Vec3): Vec3 {
  const x = p[0] - centre[0], y = p[1] - centre[1], z = p[2] - centre[2];
  return [
    R[0] * x + R[1] * y + R[2] * z + centre[0],
    R[3] * x + R[4] * y + R[5] * z + centre[1],
    R[6] * x + R[7] * y + R[8] * z + centre[2],
  ];
}

/**
 * The view that fits an xy bounding box into a width × height image, centred, leaving `margin` (a
 * fraction of the image's smaller side) free on every side.
 *
 * @example
 * const view = fitView([0, 0, 100, 200], 256, 256, 0.05); // scale ≈ 1.15, the box centred
 */
export function fitView(box: [xMin: number, yMin: number, xMax: number, yMax: number], width: number, height: number, margin = 0.05): View {
  const [x0, y0, x1, y1] = box;
  const pad = margin * Math.min(width, height);
  const w = Math.max(x1 - x0, 1e-9), h = Math.max(y1 - y0, 1e-9);
  const scale = Math.min((width - 2 * pad) / w, (height - 2 * pad) / h);
  return { scale, offset: [width / 2 - scale * (x0 + x1) / 2, height / 2 - scale * (y0 + y1) / 2] };
}
