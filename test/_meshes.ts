/**
 * Analytic test meshes and synthetic photos for the texture and export tests (photo frame:
 * x right, y down, z toward the camera, photo pixels).
 */
import type { Mesh, RGBImage, Vec3 } from '../src/types.ts';

export interface Ellipsoid {
  centre: Vec3;
  /** Semi-axes along the head's right, down and forward axes. */
  radii: Vec3;
  /** Degrees; > 0 turns the nose toward +x (the photo's right), as in src/landmarks/pose.ts. */
  yaw: number;
}

/** Head axes of a yawed head, written out independently of src/texture/headFrame.ts. */
export function yawAxes(yawDeg: number): { right: Vec3; down: Vec3; forward: Vec3 } {
  const y = (yawDeg * Math.PI) / 180;
  return { right: [Math.cos(y), 0, -Math.sin(y)], down: [0, 1, 0], forward: [Math.sin(y), 0, Math.cos(y)] };
}

/**
 * The front half (head angle θ in ±thetaMax° around the vertical axis, elevation φ in ±phiMax°) of an
 * ellipsoid, as a grid mesh with outward normals; `angles` holds (θ, φ) in radians per vertex.
 */
export function ellipsoidSheet(
  e: Ellipsoid,
  opts: { nTheta?: number; nPhi?: number; thetaMax?: number; phiMax?: number; nose?: number } = {},
): { mesh: Mesh; angles: Float32Array } {
  const nT = opts.nTheta ?? 61;
  const nP = opts.nPhi ?? 61;
  const tMax = ((opts.thetaMax ?? 90) * Math.PI) / 180;
  const pMax = ((opts.phiMax ?? 75) * Math.PI) / 180;
  const { right, down, forward } = yawAxes(e.yaw);
  const positions = new Float32Array(nT * nP * 3);
  const angles = new Float32Array(nT * nP * 2);
  for (let j = 0; j < nP; j++) {
    for (let i = 0; i < nT; i++) {
      const th = -tMax + (2 * tMax * i) / (nT - 1);
      const ph = -pMax + (2 * pMax * j) / (nP - 1);
      // Optional nose: a bump scaling the radius by up to 1 + nose around θ = φ = 0.
      const s = 1 + (opts.nose ?? 0) * Math.exp(-(th * th + ph * ph) / 0.03);
      const a = s * e.radii[0] * Math.cos(ph) * Math.sin(th);
      const h = s * e.radii[1] * Math.sin(ph);
      const b = s * e.radii[2] * Math.cos(ph) * Math.cos(th);
      const v = j * nT + i;
      for (let k = 0; k < 3; k++) positions[3 * v + k] = e.centre[k] + a * right[k] + h * down[k] + b * forward[k];
      angles[2 * v] = th;
      angles[2 * v + 1] = ph;
    }
  }
  const tris: number[] = [];
  for (let j = 0; j + 1 < nP; j++) {
    for (let i = 0; i + 1 < nT; i++) {
      const q = [j * nT + i, j * nT + i + 1, (j + 1) * nT + i + 1, (j + 1) * nT + i];
      for (const [a, b, c] of [[q[0], q[1], q[2]], [q[0], q[2], q[3]]]) {
        tris.push(...(outward(positions, e.centre, a, b, c) ? [a, b, c] : [a, c, b]));
      }
    }
  }
  return { mesh: { positions, indices: new Uint32Array(tris) }, angles };
}

function outward(p: Float32Array, c: Vec3, a: number, b: number, d: number): boolean {
  const u = [0, 1, 2].map((k) => p[3 * b + k] - p[3 * a + k]);
  const v = [0, 1, 2].map((k) => p[3 * d + k] - p[3 * a + k]);
  const n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  const m = [0, 1, 2].map((k) => (p[3 * a + k] + p[3 * b + k] + p[3 * d + k]) / 3 - c[k]);
  return n[0] * m[0] + n[1] * m[1] + n[2] * m[2] > 0;
}

/** A colour that depends on |θ| and φ only: symmetric about the head's mid-sagittal plane. */
export function symmetricColour(theta: number, phi: number): [number, number, number] {
  const t = Math.abs(theta);
  return [
    Math.min(255, 20 + (220 * t) / (Math.PI / 2)),
    128 + 100 * Math.sin(2 * phi),
    128 + 120 * Math.cos(8 * t),
  ];
}

/** Orthographic render of the whole ellipsoid (front-most hit per pixel centre), background black. */
export function renderEllipsoid(
  e: Ellipsoid,
  width: number,
  height: number,
  colour: (theta: number, phi: number) => [number, number, number] = symmetricColour,
): RGBImage {
  const { right, down, forward } = yawAxes(e.yaw);
  const [A, B, C] = e.radii;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Head coordinates of (x + 0.5, y + 0.5, z) are linear in z: q = q0 + z * dq.
      const d0 = [x + 0.5 - e.centre[0], y + 0.5 - e.centre[1], -e.centre[2]];
      const proj = (axis: Vec3) => [axis[0] * d0[0] + axis[1] * d0[1] + axis[2] * d0[2], axis[2]];
      const [a0, da] = proj(right);
      const [h0, dh] = proj(down);
      const [b0, db] = proj(forward);
      const qa = (da / A) ** 2 + (dh / B) ** 2 + (db / C) ** 2;
      const qb = 2 * ((a0 * da) / A ** 2 + (h0 * dh) / B ** 2 + (b0 * db) / C ** 2);
      const qc = (a0 / A) ** 2 + (h0 / B) ** 2 + (b0 / C) ** 2 - 1;
      const disc = qb * qb - 4 * qa * qc;
      if (disc < 0) continue;
      const z = (-qb + Math.sqrt(disc)) / (2 * qa);
      const a = a0 + z * da;
      const h = h0 + z * dh;
      const b = b0 + z * db;
      const rgb = colour(Math.atan2(a / A, b / C), Math.asin(Math.max(-1, Math.min(1, h / B))));
      for (let k = 0; k < 3; k++) data[3 * (y * width + x) + k] = Math.round(Math.max(0, Math.min(255, rgb[k])));
    }
  }
  return { width, height, data };
}

/** A smooth colour gradient photo: red grows with x, green with y, blue constant. */
export function gradientPhoto(width: number, height: number): RGBImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = 3 * (y * width + x);
      data[k] = Math.round((255 * x) / (width - 1));
      data[k + 1] = Math.round((255 * y) / (height - 1));
      data[k + 2] = 90;
    }
  }
  return { width, height, data };
}

/** A closed UV sphere (poles shared), outward normals: for STL and closed-solid checks. */
export function closedSphere(centre: Vec3, radius: number, nLon = 24, nLat = 12): Mesh {
  const pos: number[] = [...centre.map((c, k) => c + (k === 1 ? -radius : 0))]; // north pole (y up = −y)
  for (let j = 1; j < nLat; j++) {
    const lat = Math.PI / 2 - (Math.PI * j) / nLat;
    for (let i = 0; i < nLon; i++) {
      const lon = (2 * Math.PI * i) / nLon;
      pos.push(
        centre[0] + radius * Math.cos(lat) * Math.cos(lon),
        centre[1] - radius * Math.sin(lat),
        centre[2] + radius * Math.cos(lat) * Math.sin(lon),
      );
    }
  }
  pos.push(centre[0], centre[1] + radius, centre[2]);
  const south = pos.length / 3 - 1;
  const ring = (j: number, i: number) => 1 + (j - 1) * nLon + (i % nLon);
  const tris: number[] = [];
  const positions = new Float32Array(pos);
  const add = (a: number, b: number, c: number) => tris.push(...(outward(positions, centre, a, b, c) ? [a, b, c] : [a, c, b]));
  for (let i = 0; i < nLon; i++) {
    add(0, ring(1, i), ring(1, i + 1));
    add(south, ring(nLat - 1, i + 1), ring(nLat - 1, i));
    for (let j = 1; j + 1 < nLat; j++) {
      add(ring(j, i), ring(j + 1, i), ring(j + 1, i + 1));
      add(ring(j, i), ring(j + 1, i + 1), ring(j, i + 1));
    }
  }
  return { positions, indices: new Uint32Array(tris) };
}
