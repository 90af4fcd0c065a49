/**
 * Texture stage: colours a photo-frame face mesh from the photo it came from.
 *
 * ## What it produces
 * - **Vertex colours**: the photo, bilinearly sampled at each vertex's (x, y).
 * - **A UV texture map** (square, default 1024²) in a head-centred *cylindrical* layout:
 *   u = arc length around the head's vertical axis, measured from the mid-sagittal plane,
 *   v = height along that axis (top of the head at v = 0). A face is close to a cylinder
 *   section, so texels stay nearly square over the cheeks where a frontal (photo-plane)
 *   projection would stretch, and the layout is mirror-symmetric: the point mirrored across the
 *   mid-sagittal plane has uv (1 − u, v).
 *
 * ## How the texture is baked
 * 1. Head frame (centre, vertical axis, sagittal plane) from the landmarks, else the pose, else the
 *    mesh itself (see `estimateHeadFrame`).
 * 2. Every triangle is rasterised in UV space; each texel's 3D point projects orthographically to
 *    the photo pixel (x, y) and gets its bilinear colour, weighted by visibility = ramp of the
 *    normal's z (0 below ≈ 84° from the view axis, 1 above ≈ 63°) × not hidden in a z-buffer.
 * 3. Texels seen badly take the colour of their mirror texel across the sagittal plane when that
 *    one was seen better (faces are bilaterally symmetric): the hidden side of a turned head is
 *    completed from the visible side instead of being stretched from the silhouette.
 * 4. What neither side saw, and everything outside the UV islands, is filled by pull-push from the
 *    nearest confident texels: this dilates the islands so seams do not bleed when filtered.
 *
 * @example
 * const textured = textureMesh(mesh, photo, { size: 1024, landmarks: face.landmarks68 });
 * textured.texture; // RGBImage 1024×1024; textured.uvs, textured.colors per vertex
 */
import type { Mesh, Pose, RGBImage, TexturedMesh, Vec3 } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { bakeFromPhoto, mirrorComplete } from './bake.ts';
import { pullPushBytes } from './fill.ts';
import { estimateHeadFrame, type HeadFrame } from './headFrame.ts';
import { computeVertexNormals } from './normals.ts';
import { samplePhoto } from './sample.ts';
import { cylindricalUnwrap } from './unwrap.ts';

export { computeVertexNormals } from './normals.ts';
export { estimateHeadFrame, headFrameFromLandmarks, axesFromPose, type HeadFrame } from './headFrame.ts';
export { rasterizeDepth, rasterizeTriangle, type DepthWindow } from './raster.ts';
export { samplePhoto } from './sample.ts';
export { textureSizeFor } from './size.ts';

export interface TextureOptions {
  /** Texture width = height in texels (default 1024, 16–8192). */
  size?: number;
  /** Head pose in degrees, used for the head frame when no landmarks are given. */
  pose?: Pose;
  /** 68 landmarks (iBUG order) in the photo frame: the best source for the head frame. */
  landmarks?: Vec3[];
  /** Explicit head frame (overrides `pose` and `landmarks`). */
  headFrame?: HeadFrame;
  /** Complete badly seen texels from the mirrored side (default true). */
  symmetry?: boolean;
  /** Texels kept free around the layout for dilation (default 8). */
  padding?: number;
  /**
   * Keep the mesh's own uvs, a fixed atlas (the shape prior's, ICT's layout) instead of unwrapping: the texture is
   * `aspect · size` × `size` texels, and the mirror completion works within each of `mirrorTiles` mirror-symmetric
   * tiles side by side.
   */
  atlas?: { aspect: number; mirrorTiles: number };
  /**
   * Where each vertex samples the photo (photo frame, xyz per vertex, the mesh's vertex count): the texture and colours
   * are taken as if the mesh lay there, the mesh keeps its own positions (default: its own). The prior samples on
   * ICT's fitted surface when its nose and lips are moved onto the benchmark's points (src/prior/surface-field.ts):
   * moved out to the photo's outline in profile, they would sample the background beyond it.
   */
  sampleAt?: Float32Array;
  /** The vertex normals at `sampleAt` where the caller has them (default: computed). */
  sampleNormals?: Float32Array;
}

/**
 * Vertex colours and a UV texture for a photo-frame mesh (see the module comment for the method).
 * Positions and indices are shared with the input, not copied; normals are computed when missing.
 *
 * @example
 * const textured = textureMesh(mesh, photo, { pose: face.pose });
 * const prior = textureMesh(priorMesh(basis, fit), photo, { size: 512, atlas: { aspect: 1, mirrorTiles: 1 } });
 */
export function textureMesh(mesh: Mesh, photo: RGBImage, options: TextureOptions = {}): TexturedMesh {
  const size = options.size ?? 1024;
  if (!Number.isInteger(size) || size < 16 || size > 8192) {
    throw new VoxfaceError('BAD_ARGUMENT', `texture size must be an integer in 16..8192, got ${size}`);
  }
  const { positions, indices } = mesh;
  const nVertices = positions.length / 3;
  if (!Number.isInteger(nVertices) || nVertices < 3 || indices.length < 3 || indices.length % 3 !== 0) {
    throw new VoxfaceError('BAD_ARGUMENT', 'mesh must have at least one triangle and xyz per vertex');
  }
  for (let i = 0; i < indices.length; i++) {
    if (indices[i] >= nVertices) throw new VoxfaceError('BAD_ARGUMENT', `mesh index ${indices[i]} is out of range`);
  }
  if (photo.data.length !== photo.width * photo.height * 3 || photo.width < 1 || photo.height < 1) {
    throw new VoxfaceError('BAD_ARGUMENT', 'photo data does not match its width × height × 3');
  }
  const normals = mesh.normals ?? computeVertexNormals(positions, indices);
  const at = options.sampleAt ?? positions;
  if (at.length !== positions.length) throw new VoxfaceError('BAD_ARGUMENT', `sampleAt holds ${at.length / 3} vertices, the mesh ${nVertices}`);
  const atNormals = at === positions ? normals : options.sampleNormals?.length === at.length ? options.sampleNormals : computeVertexNormals(at, indices);
  const { atlas } = options;
  let uvs: Float32Array, theta: Float32Array | undefined;
  if (atlas) {
    if (!mesh.uvs || mesh.uvs.length !== nVertices * 2) throw new VoxfaceError('BAD_ARGUMENT', 'an atlas texture needs the mesh\'s uvs');
    uvs = mesh.uvs;
  } else {
    const frame = options.headFrame ?? estimateHeadFrame(positions, { pose: options.pose, landmarks: options.landmarks });
    ({ uvs, theta } = cylindricalUnwrap(positions, frame, ((options.padding ?? 8) + 1) / size));
  }
  const width = Math.round(size * (atlas?.aspect ?? 1));
  let baked = bakeFromPhoto({ positions: at, indices, normals: atNormals, uvs, theta }, photo, width, size);
  if (options.symmetry ?? true) baked = mirrorComplete(baked, true, atlas?.mirrorTiles ?? 1);
  // filled, then 0–1 → 0–255 (clamped, rounded half to even) as the texture's bytes; baked is ours to overwrite
  const data = pullPushBytes(baked.colour, baked.weight, width, size);

  const colors = new Float32Array(nVertices * 3);
  for (let v = 0; v < nVertices; v++) samplePhoto(photo, at[3 * v], at[3 * v + 1], colors, 3 * v);

  return { positions, indices, normals, uvs, colors, texture: { width, height: size, data } };
}
