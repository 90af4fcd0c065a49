/**
 * The overlay view: the photo, the face mesh rendered over it with an orthographic camera that looks
 * straight down the photo's z axis (the mesh lives in the photo frame, so it lands exactly on the face),
 * and a 2D layer with every face's box, the selected face's 68 landmarks and its head-pose axes.
 *
 * ```ts
 * const overlay = new Overlay(photoCanvas, meshCanvas, marksCanvas, (i) => selectFace(i));
 * overlay.setPhoto(bitmap, json.image.width, json.image.height);
 * overlay.setMesh(faceObject);             // a clone of the parsed GLB
 * overlay.setFaces(json.faces, 0, true);
 * ```
 */
import * as THREE from 'three';
import type { ResultJSON } from '../../src/export/json.ts';
import { rotationFromAngles } from '../../src/landmarks/pose.ts';
import { applySurface, findMesh } from './viewer.ts';
import type { Surface } from './viewer.ts';

type FaceJSON = ResultJSON['faces'][number];

/** Where a photo-frame point lands on a canvas showing the photo scaled by `s` (canvas pixels per photo pixel). */
export function toCanvas(p: readonly (number | null)[], s: number): [number, number] {
  return [(p[0] ?? 0) * s, (p[1] ?? 0) * s];
}

export class Overlay {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.OrthographicCamera(0, 1, 0, -1, 0.001, 1000);
  private readonly light = new THREE.DirectionalLight(0xffffff, 2);
  private readonly materials = new Map<Surface, THREE.Material>();
  private model?: THREE.Object3D;
  private photo?: ImageBitmap;
  private width = 1;
  private height = 1;
  private faces: FaceJSON[] = [];
  private selected = 0;
  private showLandmarks = true;
  private surface: Surface = 'shaded';
  private frame = 0;

  constructor(
    private readonly photoCanvas: HTMLCanvasElement,
    private readonly meshCanvas: HTMLCanvasElement,
    private readonly marksCanvas: HTMLCanvasElement,
    private readonly onSelect: (face: number) => void,
  ) {
    this.renderer = new THREE.WebGLRenderer({ canvas: meshCanvas, antialias: true, alpha: true, premultipliedAlpha: true });
    this.renderer.setClearColor(0x000000, 0);
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.scene.add(new THREE.AmbientLight(0xffffff, 0.6), this.light, this.light.target);
    marksCanvas.addEventListener('click', (e) => this.onClick(e));
    new ResizeObserver(() => this.redraw()).observe(marksCanvas);
  }

  /** The photo (EXIF-oriented, as the pipeline saw it; may be undefined if the browser cannot show it). */
  setPhoto(photo: ImageBitmap | undefined, width: number, height: number): void {
    this.photo = photo;
    this.width = width;
    this.height = height;
    (this.marksCanvas.parentElement as HTMLElement).style.aspectRatio = `${width} / ${height}`;
    this.redraw();
  }

  /** The mesh to lay over the photo (a GLB object whose node scale turns photo pixels into metres). */
  setMesh(model: THREE.Object3D | undefined): void {
    if (this.model) this.scene.remove(this.model);
    this.model = model;
    if (model) {
      const extras: THREE.Object3D[] = [];
      model.traverse((o) => (o as THREE.Points).isPoints && extras.push(o)); // the 3D view's landmark points
      for (const o of extras) o.removeFromParent();
      this.scene.add(model);
      const mesh = findMesh(model);
      if (mesh) applySurface(mesh, this.surface, this.materials);
    }
    this.redraw();
  }

  /** Shaded or wireframe (a textured mesh over its own photo would hide the alignment, so it is drawn shaded). */
  setSurface(surface: Surface): void {
    this.surface = surface === 'textured' ? 'shaded' : surface;
    const mesh = this.model && findMesh(this.model);
    if (mesh) applySurface(mesh, this.surface, this.materials);
    this.redraw();
  }

  setOpacity(opacity: number): void {
    this.meshCanvas.style.opacity = String(opacity);
  }

  /** Light direction, the same angle as the 3D view's. */
  setLight(deg: number): void {
    const a = (deg * Math.PI) / 180;
    this.light.position.set(Math.sin(a), 0.6, Math.cos(a));
    this.redraw();
  }

  setFaces(faces: FaceJSON[], selected: number, showLandmarks: boolean): void {
    this.faces = faces;
    this.selected = selected;
    this.showLandmarks = showLandmarks;
    this.redraw();
  }

  /** Photo pixels → canvas pixels for the marks layer. */
  get scale(): number {
    return this.marksCanvas.width / this.width;
  }

  private redraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const cssW = this.marksCanvas.clientWidth || 300;
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round((w * this.height) / this.width));
    for (const c of [this.photoCanvas, this.marksCanvas]) {
      if (c.width !== w || c.height !== h) Object.assign(c, { width: w, height: h });
    }
    const pctx = this.photoCanvas.getContext('2d')!;
    pctx.clearRect(0, 0, w, h);
    if (this.photo) pctx.drawImage(this.photo, 0, 0, w, h);

    // the mesh: orthographic camera covering the photo, in the GLB's frame (x right, y up, metres)
    this.renderer.setPixelRatio(1);
    this.renderer.setSize(w, h, false);
    this.scene.updateMatrixWorld();
    const mesh = this.model && findMesh(this.model);
    const mpp = mesh ? mesh.getWorldScale(new THREE.Vector3()).x : 1;
    Object.assign(this.camera, { left: 0, right: this.width * mpp, top: 0, bottom: -this.height * mpp });
    const depth = Math.max(this.width, this.height) * mpp * 4;
    this.camera.position.set(0, 0, depth);
    this.camera.near = 0.001 * depth;
    this.camera.far = depth * 2;
    this.camera.updateProjectionMatrix();
    this.light.target.position.set(0, 0, 0);
    this.renderer.render(this.scene, this.camera);

    this.drawMarks(w, h);
  }

  private drawMarks(w: number, h: number): void {
    const ctx = this.marksCanvas.getContext('2d')!;
    ctx.clearRect(0, 0, w, h);
    const s = w / this.width;
    const unit = Math.max(1.5, w / 400);
    this.faces.forEach((f, i) => {
      const [x, y, bw, bh] = f.box;
      ctx.lineWidth = i === this.selected ? 2.5 * unit : 1.2 * unit;
      ctx.strokeStyle = i === this.selected ? '#ffd166' : 'rgba(255,255,255,.7)';
      ctx.strokeRect(x * s, y * s, bw * s, bh * s);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = `${Math.round(11 * unit)}px system-ui, sans-serif`;
      ctx.fillText(String(i + 1), x * s + 3 * unit, y * s - 4 * unit);
    });
    const face = this.faces[this.selected];
    if (!face || !this.showLandmarks) return;
    ctx.fillStyle = '#ff4d6d';
    for (const p of face.landmarks68) {
      const [cx, cy] = toCanvas(p, s);
      ctx.beginPath();
      ctx.arc(cx, cy, 1.8 * unit, 0, 2 * Math.PI);
      ctx.fill();
    }
    // head-pose axes from the nose tip: columns of R (frontal y-up frame → photo-aligned y-up frame)
    const { yaw, pitch, roll } = face.pose;
    if (yaw === null || pitch === null || roll === null) return;
    const R = rotationFromAngles({ yaw, pitch, roll });
    const [nx, ny] = toCanvas(face.landmarks68[30], s);
    const len = 0.45 * face.box[2] * s;
    ['#ff5a5a', '#5ad45a', '#5aa0ff'].forEach((colour, k) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2 * unit;
      ctx.beginPath();
      ctx.moveTo(nx, ny);
      ctx.lineTo(nx + R[k] * len, ny - R[3 + k] * len);
      ctx.stroke();
    });
  }

  private onClick(e: MouseEvent): void {
    const rect = this.marksCanvas.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * this.width;
    const py = ((e.clientY - rect.top) / rect.height) * this.height;
    const hit = this.faces.findIndex(({ box: [x, y, w, h] }) => px >= x && px <= x + w && py >= y && py <= y + h);
    if (hit >= 0 && hit !== this.selected) this.onSelect(hit);
  }
}
