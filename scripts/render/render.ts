/**
 * A small software renderer for shaded pictures of meshes: orthographic camera along −z, z-buffer,
 * Lambert shading with smooth (interpolated vertex) normals, lit from both sides, optional supersampling,
 * drawn over a plain colour or an image (e.g. the photo, for an overlay).
 *
 * @example
 * // a grey frontal render of a face, fitted into 256×256
 * const img = renderMeshes([{ mesh: face.mesh }], { width: 256, height: 256 });
 * // the same face turned 45° about its head centre
 * const turned = renderMeshes([{ mesh: face.mesh, rotation: { yaw: 45 }, centre }], { width: 256, height: 256 });
 * // over the photo, half transparent, in the photo frame
 * const overlay = renderMeshes([{ mesh: face.mesh }], { width: photo.width, height: photo.height, view: { scale: 1, offset: [0, 0] }, background: photo, opacity: 0.5 });
 */
import type { Mesh, RGBImage, Vec3 } from '../../src/types.ts';
import { VoxfaceError } from '../../src/types.ts';
import { TriangleSpans } from '../../src/raster/triangle.ts';
import { fitView, rotationMatrix, type Rotation, type View } from './camera.ts';

/** One mesh in the scene. */
export interface RenderItem {
  mesh: Mesh;
  /** Turns the mesh about `centre` before drawing (degrees, see `Rotation`). */
  rotation?: Rotation;
  /** Centre of the rotation (default: the centre of the mesh's bounding box). */
  centre?: Vec3;
  /** Surface colour: RGB in [0,1] (default light grey), 'vertex' (mesh.colors) or 'texture' (the mesh's texture at its uvs). */
  albedo?: [number, number, number] | 'vertex' | 'texture';
}

export interface RenderOptions {
  width: number;
  height: number;
  /** Where mesh (x, y) lands in the image (default: fit every item, after rotation, with `margin`). */
  view?: View;
  /** Free border when fitting, as a fraction of the smaller image side (default 0.06). */
  margin?: number;
  /** Direction toward the light, photo frame (default (−0.35, −0.45, 1): from the upper left, in front). */
  light?: Vec3;
  /** Light that reaches every surface, 0–1 (default 0.12). */
  ambient?: number;
  /** An RGB colour in [0,1] (default dark grey) or a width × height image. */
  background?: [number, number, number] | RGBImage;
  /** 0–1 (default 1): blend of the mesh over the background. */
  opacity?: number;
  /** Samples per pixel along each axis (default 2): anti-aliased edges. */
  supersample?: number;
}

/** A rendered picture and the fraction of its pixels the meshes cover. */
export interface Rendered extends RGBImage {
  coverage: number;
}

const GREY: [number, number, number] = [0.8, 0.8, 0.8];

/**
 * Renders meshes (see the module comment).
 *
 * @example
 * const png = encodePNG(renderMeshes([{ mesh }], { width: 320, height: 320 }));
 */
export function renderMeshes(items: RenderItem[], options: RenderOptions): Rendered {
  const { width, height } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width * height > 1 << 26) {
    throw new VoxfaceError('BAD_ARGUMENT', `render size must be positive integers (at most 2^26 pixels), got ${width}x${height}`);
  }
  const ss = options.supersample ?? 2;
  if (!Number.isInteger(ss) || ss < 1 || ss > 8) throw new VoxfaceError('BAD_ARGUMENT', `supersample must be an integer in 1..8, got ${ss}`);
  const bg = options.background ?? [0.16, 0.16, 0.17];
  if (!Array.isArray(bg) && (bg.width !== width || bg.height !== height || bg.data.length !== width * height * 3)) {
    throw new VoxfaceError('BAD_ARGUMENT', `background image must be ${width}x${height} RGB`);
  }
  const opacity = Math.min(Math.max(options.opacity ?? 1, 0), 1);
  const ambient = Math.min(Math.max(options.ambient ?? 0.12, 0), 1);
  const L = normalize(options.light ?? [-0.35, -0.45, 1]);

  const posed = items.map(pose);
  const view = options.view ?? fitView(bounds(posed.map((p) => p.positions)), width, height, options.margin ?? 0.06);
  const W = width * ss, H = height * ss;
  const zbuf = new Float32Array(W * H).fill(-Infinity);
  const shade = new Float32Array(W * H * 3);
  for (let k = 0; k < posed.length; k++) {
    drawItem(posed[k], items[k], { scale: view.scale * ss, offset: [view.offset[0] * ss, view.offset[1] * ss] }, W, H, zbuf, shade, L, ambient);
  }

  const plain = Array.isArray(bg) ? bg.map((v) => v * 255) : undefined;
  const image = Array.isArray(bg) ? undefined : bg;
  // Resolve: average the covered samples of each pixel, blend over the background by coverage × opacity.
  const data = new Uint8Array(width * height * 3);
  let covered = 0;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      let n = 0, r = 0, g = 0, b = 0;
      for (let sj = 0; sj < ss; sj++) {
        const row = (j * ss + sj) * W + i * ss;
        for (let si = 0; si < ss; si++) {
          const s = row + si;
          if (zbuf[s] === -Infinity) continue;
          n++;
          r += shade[3 * s];
          g += shade[3 * s + 1];
          b += shade[3 * s + 2];
        }
      }
      const o = 3 * (j * width + i);
      const b0 = plain ? plain[0] : image!.data[o], b1 = plain ? plain[1] : image!.data[o + 1], b2 = plain ? plain[2] : image!.data[o + 2];
      if (n > 0) covered++;
      const a = (opacity * n) / (ss * ss);
      const k = n > 0 ? (a * 255) / n : 0;
      data[o] = Math.round((1 - a) * b0 + k * Math.min(r, n));
      data[o + 1] = Math.round((1 - a) * b1 + k * Math.min(g, n));
      data[o + 2] = Math.round((1 - a) * b2 + k * Math.min(b, n));
    }
  }
  return { width, height, data, coverage: covered / (width * height) };
}

/** Positions after the item's rotation, and unit vertex normals of the rotated mesh. */
function pose(item: RenderItem): { positions: Float32Array; normals: Float32Array } {
  const src = item.mesh.positions;
  const n = src.length / 3;
  if (!Number.isInteger(n) || item.mesh.indices.length % 3 !== 0) throw new VoxfaceError('BAD_ARGUMENT', 'render: mesh needs xyz per vertex and 3 indices per triangle');
  for (let i = 0; i < item.mesh.indices.length; i++) {
    if (item.mesh.indices[i] >= n) throw new VoxfaceError('BAD_ARGUMENT', `render: mesh index ${item.mesh.indices[i]} is out of range`);
  }
  let positions = src;
  if (item.rotation) {
    const R = rotationMatrix(item.rotation);
    const c = item.centre ?? boxCentre(src);
    positions = new Float32Array(src.length);
    for (let i = 0; i < src.length; i += 3) {
      const x = src[i] - c[0], y = src[i + 1] - c[1], z = src[i + 2] - c[2];
      positions[i] = R[0] * x + R[1] * y + R[2] * z + c[0];
      positions[i + 1] = R[3] * x + R[4] * y + R[5] * z + c[1];
      positions[i + 2] = R[6] * x + R[7] * y + R[8] * z + c[2];
    }
  }
  return { positions, normals: smoothNormals(positions, item.mesh.indices) };
}

/** Area-weighted vertex normals (right-hand rule), normalised. */
function smoothNormals(p: Float32Array, t: Uint32Array): Float32Array {
  const acc = new Float64Array(p.length);
  for (let i = 0; i < t.length; i += 3) {
    const a = 3 * t[i], b = 3 * t[i + 1], c = 3 * t[i + 2];
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      acc[v] += nx;
      acc[v + 1] += ny;
      acc[v + 2] += nz;
    }
  }
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const l = Math.sqrt(acc[i] * acc[i] + acc[i + 1] * acc[i + 1] + acc[i + 2] * acc[i + 2]);
    if (l > 0) {
      out[i] = acc[i] / l;
      out[i + 1] = acc[i + 1] / l;
      out[i + 2] = acc[i + 2] / l;
    } else out[i + 2] = 1;
  }
  return out;
}

/** Rasterises one posed mesh into the z-buffer and the shade buffer (W × H samples). */
function drawItem(
  posed: { positions: Float32Array; normals: Float32Array },
  item: RenderItem,
  view: View,
  W: number,
  H: number,
  zbuf: Float32Array,
  shade: Float32Array,
  L: Vec3,
  ambient: number,
): void {
  const { positions: p, normals: nrm } = posed;
  const t = item.mesh.indices;
  const albedo = item.albedo ?? GREY;
  const colours = albedo === 'vertex' ? item.mesh.colors : undefined;
  const texture = albedo === 'texture' ? (item.mesh as { texture?: RGBImage }).texture : undefined;
  const uvs = item.mesh.uvs;
  if (albedo === 'vertex' && (!colours || colours.length !== p.length)) throw new VoxfaceError('BAD_ARGUMENT', "render: albedo 'vertex' needs mesh.colors");
  if (albedo === 'texture' && (!texture || !uvs || uvs.length !== (p.length / 3) * 2)) throw new VoxfaceError('BAD_ARGUMENT', "render: albedo 'texture' needs a textured mesh");
  const fixed = Array.isArray(albedo) ? albedo : GREY;
  const s = view.scale, [ox, oy] = view.offset;
  const rgb = [0, 0, 0];
  const spans = new TriangleSpans();
  for (let f = 0; f < t.length; f += 3) {
    const a = t[f], b = t[f + 1], c = t[f + 2];
    const x0 = s * p[3 * a] + ox, y0 = s * p[3 * a + 1] + oy;
    const x1 = s * p[3 * b] + ox, y1 = s * p[3 * b + 1] + oy;
    const x2 = s * p[3 * c] + ox, y2 = s * p[3 * c + 1] + oy;
    const n = spans.set(x0, y0, x1, y1, x2, y2, W, H);
    const { rows, b0, b1 } = spans;
    const za = p[3 * a + 2], zb = p[3 * b + 2], zc = p[3 * c + 2];
    for (let r = 0; r < n; r++) {
      const j = rows[5 * r];
      const ra0 = rows[5 * r + 3], ra1 = rows[5 * r + 4];
      for (let i = rows[5 * r + 1], i1 = rows[5 * r + 2]; i <= i1; i++) {
        const w0 = ra0 + b0 * i;
        const w1 = ra1 + b1 * i;
        const w2 = 1 - w0 - w1;
        const z = w0 * za + w1 * zb + w2 * zc;
        const k = j * W + i;
        if (!(z > zbuf[k])) continue;
        zbuf[k] = z;
        let nx = w0 * nrm[3 * a] + w1 * nrm[3 * b] + w2 * nrm[3 * c];
        let ny = w0 * nrm[3 * a + 1] + w1 * nrm[3 * b + 1] + w2 * nrm[3 * c + 1];
        let nz = w0 * nrm[3 * a + 2] + w1 * nrm[3 * b + 2] + w2 * nrm[3 * c + 2];
        const l = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
        // two-sided: a surface seen from behind is lit like its front
        const sign = nz < 0 ? -1 / l : 1 / l;
        nx *= sign;
        ny *= sign;
        nz *= sign;
        const lambert = Math.max(0, nx * L[0] + ny * L[1] + nz * L[2]);
        const light = ambient + (1 - ambient) * lambert;
        if (colours) {
          for (let ch = 0; ch < 3; ch++) rgb[ch] = w0 * colours[3 * a + ch] + w1 * colours[3 * b + ch] + w2 * colours[3 * c + ch];
        } else if (texture && uvs) {
          sampleTexture(texture, w0 * uvs[2 * a] + w1 * uvs[2 * b] + w2 * uvs[2 * c], w0 * uvs[2 * a + 1] + w1 * uvs[2 * b + 1] + w2 * uvs[2 * c + 1], rgb);
        } else {
          rgb[0] = fixed[0];
          rgb[1] = fixed[1];
          rgb[2] = fixed[2];
        }
        shade[3 * k] = rgb[0] * light;
        shade[3 * k + 1] = rgb[1] * light;
        shade[3 * k + 2] = rgb[2] * light;
      }
    }
  }
}

/** Bilinear texture sample at (u, v), v = 0 at the top row; RGB in [0,1] into out. */
function sampleTexture(tex: RGBImage, u: number, v: number, out: number[]): void {
  const fx = Math.min(Math.max(u * tex.width - 0.5, 0), tex.width - 1);
  const fy = Math.min(Math.max(v * tex.height - 0.5, 0), tex.height - 1);
  const x0 = Math.floor(fx), y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, tex.width - 1), y1 = Math.min(y0 + 1, tex.height - 1);
  const tx = fx - x0, ty = fy - y0;
  const d = tex.data;
  for (let ch = 0; ch < 3; ch++) {
    const top = (1 - tx) * d[3 * (y0 * tex.width + x0) + ch] + tx * d[3 * (y0 * tex.width + x1) + ch];
    const bottom = (1 - tx) * d[3 * (y1 * tex.width + x0) + ch] + tx * d[3 * (y1 * tex.width + x1) + ch];
    out[ch] = ((1 - ty) * top + ty * bottom) / 255;
  }
}

function normalize(v: Vec3): Vec3 {
  const l = Math.hypot(v[0], v[1], v[2]);
  if (!(l > 0) || !Number.isFinite(l)) throw new VoxfaceError('BAD_ARGUMENT', 'render: light direction must be a non-zero finite vector');
  return [v[0] / l, v[1] / l, v[2] / l];
}

function boxCentre(p: Float32Array): Vec3 {
  const [x0, y0, x1, y1, z0, z1] = extent(p);
  return [(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2];
}

function extent(p: Float32Array): [number, number, number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, z0 = Infinity, x1 = -Infinity, y1 = -Infinity, z1 = -Infinity;
  for (let i = 0; i < p.length; i += 3) {
    if (p[i] < x0) x0 = p[i];
    if (p[i] > x1) x1 = p[i];
    if (p[i + 1] < y0) y0 = p[i + 1];
    if (p[i + 1] > y1) y1 = p[i + 1];
    if (p[i + 2] < z0) z0 = p[i + 2];
    if (p[i + 2] > z1) z1 = p[i + 2];
  }
  return [x0, y0, x1, y1, z0, z1];
}

/** xy bounding box of several position arrays ([0, 0, 1, 1] when all are empty). */
function bounds(all: Float32Array[]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of all) {
    const e = extent(p);
    x0 = Math.min(x0, e[0]);
    y0 = Math.min(y0, e[1]);
    x1 = Math.max(x1, e[2]);
    y1 = Math.max(y1, e[3]);
  }
  return Number.isFinite(x0) ? [x0, y0, x1, y1] : [0, 0, 1, 1];
}
