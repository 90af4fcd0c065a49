/**
 * The 3D viewer: a face's GLB in a three.js scene with orbit/zoom (mouse, touch, keyboard), a key light the
 * user can turn, textured / shaded / wireframe surfaces, the 68 landmarks, and a reset. Renders on demand.
 *
 * ```ts
 * const viewer = new Viewer(canvas);
 * viewer.show(await parseGLB(glbBytes), face.landmarks68);
 * viewer.setSurface('wireframe');
 * ```
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

export type Surface = 'textured' | 'shaded' | 'wireframe';

/** Parses GLB bytes into a three.js object (the face mesh, its node scale turning pixels into metres). */
export async function parseGLB(bytes: ArrayBuffer): Promise<THREE.Object3D> {
  const gltf = await new GLTFLoader().parseAsync(bytes, '');
  return gltf.scene;
}

/** Frees the GPU buffers and textures of an object (the shared shaded/wireframe materials stay). */
export function disposeObject(root: THREE.Object3D): void {
  root.traverse((o) => {
    const m = o as THREE.Mesh;
    if (!m.isMesh && !(o as THREE.Points).isPoints) return;
    m.geometry.dispose();
    const original = (m.userData.original ?? m.material) as THREE.Material & { map?: THREE.Texture | null };
    original.map?.dispose();
    original.dispose();
  });
}

/** The first mesh inside an object. */
export function findMesh(root: THREE.Object3D): THREE.Mesh | undefined {
  let found: THREE.Mesh | undefined;
  root.traverse((o) => {
    if (!found && (o as THREE.Mesh).isMesh) found = o as THREE.Mesh;
  });
  return found;
}

const shadedMaterial = () => new THREE.MeshStandardMaterial({ color: 0xd9c4b3, roughness: 0.6, metalness: 0, side: THREE.DoubleSide });
const wireMaterial = () => new THREE.MeshBasicMaterial({ color: 0x8fd0ff, wireframe: true });

/** Sets a mesh's material for a surface mode, keeping its own (textured) material to go back to. */
export function applySurface(mesh: THREE.Mesh, surface: Surface, cache: Map<Surface, THREE.Material>): void {
  if (!mesh.userData.original) mesh.userData.original = mesh.material;
  if (surface === 'textured') {
    mesh.material = mesh.userData.original as THREE.Material;
    return;
  }
  let m = cache.get(surface);
  if (!m) {
    m = surface === 'shaded' ? shadedMaterial() : wireMaterial();
    cache.set(surface, m);
  }
  mesh.material = m;
}

/** Points at photo-frame landmarks, in the GLB's y-up pixel frame (add them under the mesh: same scale). */
export function landmarkPoints(landmarks: readonly (readonly (number | null)[])[], sizePx: number): THREE.Points {
  const pos = new Float32Array(landmarks.length * 3);
  landmarks.forEach((p, i) => {
    pos[i * 3] = p[0] ?? 0;
    pos[i * 3 + 1] = -(p[1] ?? 0);
    pos[i * 3 + 2] = (p[2] ?? 0) + 0.5; // a hair in front of the surface
  });
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.BufferAttribute(pos, 3));
  return new THREE.Points(g, new THREE.PointsMaterial({ color: 0xff4d6d, size: sizePx, sizeAttenuation: false, depthTest: true }));
}

export class Viewer {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(30, 1, 0.001, 100);
  private readonly controls: OrbitControls;
  private readonly key = new THREE.DirectionalLight(0xffffff, 2.2);
  private readonly materials = new Map<Surface, THREE.Material>();
  private model?: THREE.Object3D;
  private mesh?: THREE.Mesh;
  private points?: THREE.Points;
  private surface: Surface = 'textured';
  private lightDeg = 30;
  private showLandmarks = true;
  private home = { position: new THREE.Vector3(0, 0, 1), target: new THREE.Vector3() };
  private frame = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, alpha: false });
    this.renderer.setClearColor(0x20252c);
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x404850, 1.1));
    this.scene.add(this.key, this.key.target);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.addEventListener('change', () => this.requestRender());
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  /** Shows one face (replacing the previous one); frames the camera on it. */
  show(model: THREE.Object3D, landmarks: readonly (readonly (number | null)[])[]): void {
    if (this.model) this.scene.remove(this.model);
    this.model = model;
    this.mesh = findMesh(model);
    this.scene.add(model);
    if (this.mesh) {
      applySurface(this.mesh, this.surface, this.materials);
      for (const old of this.mesh.children.filter((o) => (o as THREE.Points).isPoints)) {
        old.removeFromParent();
        (old as THREE.Points).geometry.dispose();
      }
      this.points = landmarkPoints(landmarks, 5);
      this.points.visible = this.showLandmarks;
      this.mesh.add(this.points);
    }
    const box = new THREE.Box3().setFromObject(model);
    const centre = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3()).length() || 1;
    const dist = size / (2 * Math.tan((this.camera.fov * Math.PI) / 360)) * 1.1;
    this.camera.near = dist / 100;
    this.camera.far = dist * 100;
    this.camera.updateProjectionMatrix();
    this.home = { position: centre.clone().add(new THREE.Vector3(0, 0, dist)), target: centre };
    this.controls.minDistance = dist / 8;
    this.controls.maxDistance = dist * 8;
    this.reset();
    this.setLight(this.lightDeg);
  }

  setSurface(surface: Surface): void {
    this.surface = surface;
    if (this.mesh) applySurface(this.mesh, surface, this.materials);
    this.requestRender();
  }

  /** Turns the key light around the vertical axis (0 = from the front). */
  setLight(deg: number): void {
    this.lightDeg = deg;
    const t = this.home.target;
    const r = this.home.position.distanceTo(t);
    const a = (deg * Math.PI) / 180;
    this.key.position.set(t.x + Math.sin(a) * r, t.y + 0.6 * r, t.z + Math.cos(a) * r);
    this.key.target.position.copy(t);
    this.requestRender();
  }

  setLandmarksVisible(visible: boolean): void {
    this.showLandmarks = visible;
    if (this.points) this.points.visible = visible;
    this.requestRender();
  }

  /** Back to the front view. */
  reset(): void {
    this.camera.position.copy(this.home.position);
    this.controls.target.copy(this.home.target);
    this.controls.update();
    this.requestRender();
  }

  private onKey(e: KeyboardEvent): void {
    const step = Math.PI / 18;
    const offset = this.camera.position.clone().sub(this.controls.target);
    const s = new THREE.Spherical().setFromVector3(offset);
    switch (e.key) {
      case 'ArrowLeft':
        s.theta -= step;
        break;
      case 'ArrowRight':
        s.theta += step;
        break;
      case 'ArrowUp':
        s.phi = Math.max(0.05, s.phi - step);
        break;
      case 'ArrowDown':
        s.phi = Math.min(Math.PI - 0.05, s.phi + step);
        break;
      case '+':
      case '=':
        s.radius = Math.max(this.controls.minDistance, s.radius / 1.15);
        break;
      case '-':
      case '_':
        s.radius = Math.min(this.controls.maxDistance, s.radius * 1.15);
        break;
      case '0':
      case 'Home':
        this.reset();
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.camera.position.copy(this.controls.target).add(new THREE.Vector3().setFromSpherical(s));
    this.controls.update();
  }

  private resize(): void {
    const w = this.canvas.clientWidth || 300;
    const h = this.canvas.clientHeight || 300;
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  private requestRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderer.render(this.scene, this.camera);
    });
  }
}
