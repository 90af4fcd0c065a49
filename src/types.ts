/**
 * Shared data types of the voxface pipeline.
 *
 * The pipeline is a chain of small stages with typed inputs and outputs and no hidden state:
 *   image → detect → align/crop → network → volume → mesh → texture → export
 * Every stage runs in Node and in the browser; only adapters (image decoding, ONNX session,
 * model loading, file access) differ.
 *
 * ## Coordinate frames
 * - **Photo frame**: pixels of the input photo after EXIF orientation; x right, y down,
 *   z toward the camera, in the same pixel scale. Landmarks in JSON use this frame.
 * - **Crop frame**: pixels of the network's square input crop, same axes as the photo frame.
 *   `Crop.toPhoto` maps crop → photo (a similarity: scale + translation, no rotation;
 *   z scales with the same factor).
 * - **Volume grid**: see `Volume`.
 */
import type { ImageLevels } from './align/sample.ts';
import type { PriorFit } from './prior/fit.ts';

/** A decoded 8-bit RGB image, rows top to bottom, 3 bytes per pixel. */
export interface RGBImage {
  width: number;
  height: number;
  /** length = width * height * 3 */
  data: Uint8Array;
}

/** Axis-aligned box in photo pixels: x, y of the top-left corner, width, height. */
export type Box = [x: number, y: number, w: number, h: number];

/** A point in 2D or 3D. */
export type Vec2 = [number, number];
export type Vec3 = [number, number, number];

/** One face found by a detector. */
export interface Detection {
  box: Box;
  /** 0..1 confidence. */
  score: number;
  /** Optional coarse keypoints in photo pixels (eyes, nose, mouth, ears...), detector specific. */
  keypoints?: Vec2[];
  /** Estimated in-plane rotation in degrees, if the detector knows it. */
  roll?: number;
  /** Which detector (or the user's --box) produced it. */
  source: string;
  /**
   * Optional 68 iBUG landmarks in photo pixels from the landmark refinement (Face Mesh 468 → 68,
   * see detect/mesh68.ts); the pipeline uses them only to choose the first crop.
   */
  landmarks68?: Vec2[];
  /**
   * Face Mesh's 468 points where it fitted the face: x, y in photo pixels, z MediaPipe's relative depth in photo
   * pixels (negative toward the camera). The shape prior is fitted to them (src/prior/).
   */
  mesh468?: Vec3[];
}

/**
 * The square crop fed to the network.
 * photo = crop * scale + offset (for x and y); z_photo = z_crop * scale.
 */
export interface Crop {
  /** Side of the crop in crop pixels (= network input size). */
  size: number;
  /** Photo pixels per crop pixel. */
  scale: number;
  /** Photo position of crop pixel (0, 0)'s corner. */
  offset: Vec2;
}

/** Network input: planar RGB float32 in [0,1], shape [1, 3, size, size]. */
export interface NetworkInput {
  crop: Crop;
  data: Float32Array;
}

/**
 * A voxel volume from the network, in the crop frame.
 *
 * Layout: `data[(d * height + r) * width + c]` — depth slice d, row r, column c.
 * Voxel (d, r, c) has its centre at crop pixel
 *   x = (c + 0.5) * voxelSize, y = (r + 0.5) * voxelSize,
 *   z = (d + 0.5 - depth / 2) * voxelSize          (z toward the camera)
 * i.e. slice d increases toward the camera and z = 0 is the middle of the depth axis.
 * Values are occupancy probabilities in [0,1] (sigmoid of the network's logits):
 * 1 inside the head (on or behind the surface seen by the camera), 0 outside.
 */
export interface Volume {
  width: number;
  height: number;
  depth: number;
  /** Crop pixels per voxel along every axis. */
  voxelSize: number;
  data: Float32Array;
}

/** The network's raw outputs for one crop. */
export interface NetworkOutput {
  volume: Volume;
  /** 68 landmarks (iBUG order) in the crop frame, z with the same origin as the volume. */
  landmarks: Vec3[];
}

/** Indexed triangle mesh. */
export interface Mesh {
  /** xyz per vertex. */
  positions: Float32Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside (right-hand rule normal points out). */
  indices: Uint32Array;
  /** Unit normal per vertex, optional. */
  normals?: Float32Array;
  /** uv per vertex in [0,1], v = 0 at the top row of the texture image (glTF convention). */
  uvs?: Float32Array;
  /** RGB per vertex in [0,1]. */
  colors?: Float32Array;
}

/** A texture image with its mesh. */
export interface TexturedMesh extends Mesh {
  uvs: Float32Array;
  colors: Float32Array;
  texture: RGBImage;
}

/**
 * Head pose in degrees (see landmarks/pose.ts): yaw + = the face turns toward the photo's right (the subject's
 * left), pitch + = looking down, roll + = counter-clockwise as seen in the photo.
 */
export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** Everything reconstructed for one face, in the photo frame. */
export interface FaceResult {
  box: Box;
  score: number;
  detector: string;
  /**
   * The volume network's crop: the refined crop of its last pass where it ran (`volume` says where), else the
   * first crop, made from the detection, that it would have started from.
   */
  crop: Crop;
  /** 68 landmarks, iBUG order, photo frame. */
  landmarks68: Vec3[];
  pose: Pose;
  /**
   * Which surface `mesh` is: `prior`, the ICT face fitted to Face Mesh's points (or, for strongly turned faces, to the
   * network's landmarks), on ICT's topology and uv atlas; or `network`, the isosurface of the network's volume.
   */
  shape: 'prior' | 'network';
  /** The prior's fit when `shape` is `prior`: pose, scale, identity and expression weights, the region meshed. */
  prior?: PriorFit & { region: 'face' | 'head' };
  /** Mesh in the photo frame (x right, y down, z toward the camera). */
  mesh: TexturedMesh;
  /**
   * The volume network's volume (crop frame, see Volume), where it ran: the pipeline's `volume` option (auto, the
   * default, runs it only where its output is used: the volume and nrrd formats among the `formats` given to the
   * pipeline, shape network, landmark source synthetic, …; on: always). Absent otherwise: the default shape
   * (prior, fitted to Face Mesh or to the landmark network's points) does not need it, and the volume formats then
   * refuse the face with a message saying so.
   */
  volume?: Volume;
  /** Milliseconds per stage for this face. */
  timings: Record<string, number>;
}

export interface ReconstructionResult {
  image: { width: number; height: number };
  faces: FaceResult[];
  timings: Record<string, number>;
}

/** An ONNX-like tensor: flat data and its shape. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/**
 * Runs the network. Node uses onnxruntime-node, the browser onnxruntime-web; tests may use
 * anything that honours the model contract (models/README.md).
 */
export interface InferenceSession {
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

/**
 * A face detector: finds every face in a photo. `levels`, when given, are box-filtered copies of this photo
 * (align/sample.ts) that the caller samples from too: a detector may sample from them instead of filtering the
 * photo again (the pipeline passes its own, made for this photo and this call).
 */
export interface FaceDetector {
  readonly name: string;
  detect(image: RGBImage, levels?: ImageLevels): Promise<Detection[]>;
}

/** Errors meant for users: a clear one-line message, a stable code, no stack trace needed. */
export class VoxfaceError extends Error {
  constructor(
    public readonly code:
      | 'NOT_AN_IMAGE'
      | 'TRUNCATED_IMAGE'
      | 'IMAGE_TOO_LARGE'
      | 'NO_FACE'
      | 'BAD_ARGUMENT'
      | 'MODEL_ERROR'
      | 'IO_ERROR',
    message: string,
  ) {
    super(message);
    this.name = 'VoxfaceError';
  }
}
