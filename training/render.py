"""Synthetic training data: photo-like crops of random ICT heads with their volumetric and landmark targets.

    data = Renderer(RenderConfig(size=128, vol_res=64, vol_depth=64), device='cuda')
    batch = data.sample(32, generator)      # dict of tensors, see Renderer.sample
    occ = occupancy_target(batch['zmap'], batch['cover'], depth=64, voxel=2.0)   # (B, D, R, R) soft targets

Frames follow models/README.md: crop pixels x right, y down, z toward the camera in the same pixel scale,
z = 0 at the centroid depth of the 68 landmarks. The crop is cut around the 68 landmarks' 2D box
(side = crop_scale · max(w, h)) with jitter, axis-aligned: roll stays in the picture.

Rendering: whole head (skin, eyes, teeth, gums, lashes), procedural albedo (skin tones across the human range,
brows, lips, eye make-up, stubble, freckles, blush, hair on the scalp), SH + directional light + specular,
random backgrounds (gradients, noise, blobs, stripes, optional real-photo patches), occluders (hands-like blobs,
hair strands, glasses), then camera effects (blur, noise, JPEG-like DCT quantisation, colour jitter, grey).
The target is the surface of the face area (ICT face region + eyeballs + mouth interior) that the camera sees.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import ict
import raster

# Regions (inclusive vertex ranges) that make up the target surface. ICT's `face` region is more than the face: it
# holds the ears, the front of the scalp and the front of the neck down to ~9 cm below the chin (so the shipped
# network's chins run into the collar). The runtime prior's face mesh cuts the neck off (models/ict-face.bin,
# scripts/ict-basis.py); the guided network's target should use that cut.
TARGET_REGIONS = ["face", "mouth_socket", "eye_socket_left", "eye_socket_right", "gums_and_tongue", "teeth",
                  "eyeball_left", "eyeball_right"]


@dataclass
class RenderConfig:
    size: int = 128  # crop side in pixels (network input)
    vol_res: int = 64  # volume width = height
    vol_depth: int = 64  # volume depth (slices)
    crop_scale: float = 1.6  # crop side / max side of the 68-landmark box
    crop_shift_y: float = 0.0
    scale_jitter: float = 0.10  # log-normal sigma of the crop side
    shift_jitter: float = 0.06  # sigma of the crop centre shift, in crop sides
    max_yaw: float = 90.0
    max_pitch: float = 45.0
    max_roll: float = 45.0
    perspective_p: float = 0.5  # chance of a perspective camera (else orthographic)
    occluder_p: float = 0.35
    glasses_p: float = 0.12
    grey_p: float = 0.08
    target_supersample: int = 2
    border_p: float = 0.1  # chance of a mid-grey band where the crop leaves the photo
    # the guided network (issue: the network learns what the prior misses): a prior made like the pipeline's
    guide: bool = False  # also render `prior` (B, 2, S, S): the prior's depth and mask in the crop
    guide_errors: str = ""  # the pipeline prior's error model (default training/prior-errors.json)
    guide_drop: float = 0.1  # chance of no prior at all (the image-only path)
    guide_mean_identity: float = 0.3  # chance of the mean identity exactly


def _regions_mask(model_regions: dict, V: int, names: list[str]) -> torch.Tensor:
    m = torch.zeros(V, dtype=torch.bool)
    for n in names:
        a, b = model_regions[n]
        m[a : b + 1] = True
    return m


class Renderer:
    def __init__(self, cfg: RenderConfig, device="cpu", model: ict.ICTModel | None = None, backgrounds=None):
        import json
        import os

        self.cfg = cfg
        self.device = torch.device(device)
        self.model = (model or ict.ICTModel.load()).to(self.device)
        m = self.model
        V = m.neutral.shape[0]
        man = json.load(open(os.path.join(ict.shared_dir(), "ict-face-model", "manifest.json"))) \
            if os.path.exists(os.path.join(ict.shared_dir(), "ict-face-model", "manifest.json")) else None
        regions = man["vertex_regions"]
        # pixel scale bound: crop side covers crop_scale * ~14 cm at least, jitter and perspective enlarge by ~1.6
        px_per_cm = cfg.size / (cfg.crop_scale * 12.0) * 1.6
        max_edge_cm = 6.5 / px_per_cm  # keep triangles under ~6.5 px (the rasteriser's window is 8)
        tris, pairs, owner = raster.subdivide(m.triangles.cpu(), m.neutral.cpu(), max_edge_cm)
        self.tris = tris.to(self.device)
        self.levels = raster.midpoint_levels(V, pairs)
        self.total = V + pairs.shape[0]
        self.neutral_ext = raster.extend_vertices(m.neutral[None], self.levels, self.total)[0]
        self.tri_part = m.tri_part.cpu()[owner].to(self.device)
        self.window = 8
        # target surface triangles (at target resolution pixels are larger, so no subdivision needed
        # beyond what the image needs; reuse the same split for simplicity)
        tmask = _regions_mask(regions, V, TARGET_REGIONS)
        t_all = m.triangles.cpu()
        tsel = tmask[t_all].all(1)
        ttris, tpairs, _ = raster.subdivide(t_all[tsel], m.neutral.cpu(), max_edge_cm * 2)
        self.target_tris = ttris.to(self.device)
        self.target_levels = raster.midpoint_levels(V, tpairs)
        self.target_total = V + tpairs.shape[0]
        self.prior_mesh = None
        if cfg.guide:
            import os as _os

            pm = ict.PriorMesh.load(V, device=self.device)
            self.prior_mesh = pm
            # the target: the prior's face (the neck cut off, no caps) and what lies behind its caps (eyes, mouth)
            inner = _regions_mask(regions, V, [r for r in TARGET_REGIONS if r != "face"])
            inner_tris = t_all[inner[t_all].all(1)]
            gtris = torch.cat([pm.triangles[~pm.cap].cpu(), inner_tris])
            ext = pm.extend(m.neutral[None].cpu())[0]
            ttris, tpairs, _ = raster.subdivide(gtris, ext, max_edge_cm * 2)
            self.target_tris = ttris.to(self.device)
            self.target_levels = raster.midpoint_levels(V + pm.n_derived, tpairs)
            self.target_total = V + pm.n_derived + tpairs.shape[0]
            # the prior's own mesh (with caps), subdivided for the image-resolution raster
            ptris, ppairs, _ = raster.subdivide(pm.triangles.cpu(), ext, max_edge_cm)
            self.prior_tris = ptris.to(self.device)
            self.prior_levels = raster.midpoint_levels(V + pm.n_derived, ppairs)
            self.prior_total = V + pm.n_derived + ppairs.shape[0]
            self.prior_verts = torch.unique(pm.triangles.cpu()).to(self.device)
            path = cfg.guide_errors or _os.path.join(ict.repo_dir(), "training", "prior-errors.json")
            self.guide_stats = json.load(open(path))["bins"]
            # a fixed sample of face vertices for the ground truth's similarity (the landmarks and the front)
            front = torch.arange(0, 6706, 7)
            self.sim_verts = torch.cat([m.landmarks68.cpu(), front]).to(self.device)
        self.backgrounds = backgrounds  # optional (N, 3, h, w) float tensor of real-photo patches in [0, 1]

    # ------------------------------------------------------------------ geometry
    def _project(self, verts: torch.Tensor, gen: torch.Generator):
        """Pose + camera + crop. Returns crop-frame points (B, V, 3), landmarks (B, 68, 3), pose degrees."""
        cfg, m, dev = self.cfg, self.model, self.device
        B = verts.shape[0]
        yaw, pitch, roll = ict.sample_poses(B, gen, cfg.max_yaw, cfg.max_pitch, cfg.max_roll)
        R = ict.rotation_matrix(yaw, pitch, roll).to(dev)
        # rotate about the head's centre (between the ears, behind the nose)
        centre = verts[:, m.landmarks68].mean(1, keepdim=True) - torch.tensor([0, 0, 6.0], device=dev)
        cam = (verts - centre) @ R.transpose(1, 2)  # camera frame: x right, y up, z toward camera (cm)
        # optional perspective: camera at distance d in front of the head
        persp = (torch.rand(B, generator=gen) < cfg.perspective_p).to(dev)
        dist = (40 + torch.rand(B, generator=gen) * 110).to(dev)
        f = torch.where(persp, dist, torch.full_like(dist, 1e6))[:, None]
        s = f / (f - cam[..., 2])  # magnification per point
        xy = cam[..., :2] * s[..., None]
        z = cam[..., 2] * s  # depth scaled with the local magnification (keeps the aspect of the surface)
        # crop around the 2D landmark box
        lm = m.landmarks68
        lxy = xy[:, lm]
        lo, hi = lxy.amin(1), lxy.amax(1)
        ctr = (lo + hi) / 2
        side = (hi - lo).amax(1) * cfg.crop_scale
        side = side * torch.exp(torch.randn(B, generator=gen).to(dev) * cfg.scale_jitter)
        shift = torch.randn(B, 2, generator=gen).to(dev) * cfg.shift_jitter * side[:, None]
        ctr = ctr + shift
        ctr[:, 1] = ctr[:, 1] - cfg.crop_shift_y * side  # +shiftY moves the crop down in the image (y up here)
        a = cfg.size / side  # px per cm
        px = (xy[..., 0] - ctr[:, None, 0]) * a[:, None] + cfg.size / 2
        py = (ctr[:, None, 1] - xy[..., 1]) * a[:, None] + cfg.size / 2
        pz = z * a[:, None]
        pz = pz - pz[:, lm].mean(1, keepdim=True)
        pts = torch.stack([px, py, pz], -1)
        normals_cam = self._vertex_normals(cam)
        px_per_cm = a * s[:, lm].mean(1)
        return pts, normals_cam, torch.stack([yaw, pitch, roll], 1).to(dev), px_per_cm

    def _vertex_normals(self, v: torch.Tensor) -> torch.Tensor:
        t = self.model.triangles
        a, b, c = v[:, t[:, 0]], v[:, t[:, 1]], v[:, t[:, 2]]
        fn = torch.cross(b - a, c - a, dim=-1)
        n = torch.zeros_like(v)
        for k in range(3):
            n.index_add_(1, t[:, k], fn)
        return F.normalize(n, dim=-1)

    # ------------------------------------------------------------------ appearance
    def _albedo(self, B: int, gen: torch.Generator):
        """Per-vertex albedo (B, V, 3) and per-sample material parameters."""
        m, dev = self.model, self.device
        r = lambda *s: torch.rand(*s, generator=gen).to(dev)  # noqa: E731
        # skin tone across the human range (linear-ish RGB), from very light to very dark
        t = r(B, 1) ** 0.9
        light = torch.tensor([0.95, 0.78, 0.68], device=dev)
        mid = torch.tensor([0.72, 0.50, 0.38], device=dev)
        dark = torch.tensor([0.30, 0.18, 0.12], device=dev)
        skin = torch.where(t < 0.5, light + (mid - light) * (t * 2), mid + (dark - mid) * (t * 2 - 1))
        skin = skin * (1 + (r(B, 3) - 0.5) * 0.12)  # hue jitter
        hair_t = r(B, 1)
        hair = torch.where(hair_t < 0.6, torch.tensor([0.06, 0.045, 0.035], device=dev) * (0.6 + r(B, 1)),
                           torch.where(hair_t < 0.85, torch.tensor([0.32, 0.2, 0.1], device=dev) * (0.6 + r(B, 1)),
                                       torch.tensor([0.75, 0.62, 0.4], device=dev) * (0.7 + 0.4 * r(B, 1))))
        grey_hair = r(B, 1) < 0.1
        hair = torch.where(grey_hair, torch.full_like(hair, 0.6) * (0.7 + 0.5 * r(B, 1)), hair)
        M = m.vertex_masks  # (V, K): brows, lips, eye_area, beard, cheeks, nose, scalp, forehead
        alb = skin[:, None, :].expand(B, M.shape[0], 3).clone()

        def mix(mask, colour, amount):
            w = (mask[None, :, None] * amount[:, None, :]).clamp(0, 1)
            return alb * (1 - w) + colour[:, None, :] * w

        brow_col = hair * (0.5 + 0.5 * r(B, 1))
        alb = mix(M[:, 0], brow_col, 0.5 + 0.5 * r(B, 1))
        lip_col = skin * torch.tensor([0.85, 0.55, 0.55], device=dev) * (0.7 + 0.4 * r(B, 1))
        lipstick = r(B, 1) < 0.15
        lip_col = torch.where(lipstick, torch.tensor([0.6, 0.08, 0.12], device=dev) * (0.5 + r(B, 1)), lip_col)
        alb = mix(M[:, 1], lip_col, 0.5 + 0.5 * r(B, 1))
        eye_col = skin * (0.55 + 0.35 * r(B, 1))
        makeup = r(B, 1) < 0.15
        eye_col = torch.where(makeup, r(B, 3) * 0.4, eye_col)
        alb = mix(M[:, 2], eye_col, 0.15 + 0.5 * r(B, 1))
        beard = (r(B, 1) < 0.3).float() * r(B, 1)
        alb = mix(M[:, 3], hair, beard * 0.9)
        blush = skin * torch.tensor([1.1, 0.75, 0.75], device=dev)
        alb = mix(M[:, 4], blush, 0.35 * r(B, 1))
        alb = mix(M[:, 5], blush, 0.2 * r(B, 1))
        has_hair = (r(B, 1) < 0.85).float()
        alb = mix(M[:, 6], hair, has_hair)
        fringe = (r(B, 1) < 0.25).float() * has_hair
        alb = mix(M[:, 7], hair, fringe * r(B, 1))
        # fixed parts
        part_col = {
            "teeth": torch.tensor([0.85, 0.82, 0.72], device=dev) * (0.6 + 0.4 * r(B, 1)),
            "gums": torch.tensor([0.55, 0.18, 0.18], device=dev) * (0.6 + 0.6 * r(B, 1)),
            "sclera": torch.tensor([0.88, 0.84, 0.8], device=dev) * (0.6 + 0.4 * r(B, 1)),
            "iris": torch.where(r(B, 1) < 0.7, torch.tensor([0.2, 0.1, 0.05], device=dev),
                                r(B, 3) * torch.tensor([0.3, 0.45, 0.6], device=dev)) * (0.5 + r(B, 1)),
            "lashes": hair * 0.4,
        }
        return alb.clamp(0, 1), part_col, hair, skin, has_hair

    def _solid_noise(self, B: int, gen: torch.Generator, k: int = 24) -> torch.Tensor:
        """Per-vertex (B, N, 1) random Fourier noise over the neutral head's 3D positions, about [-1, 1]."""
        dev = self.device
        p = self.neutral_ext  # (N, 3) cm
        freq = torch.randn(B, k, 3, generator=gen).to(dev) * (0.4 + 1.2 * torch.rand(B, k, 1, generator=gen).to(dev))
        phase = torch.rand(B, k, generator=gen).to(dev) * 2 * math.pi
        amp = 1 / (1 + freq.norm(dim=-1))
        v = torch.sin(torch.einsum("nc,bkc->bnk", p, freq) + phase[:, None]) @ amp[..., None]
        return v / amp.sum(1)[:, None, None] * 2.5

    def _noise(self, B: int, res: int, gen: torch.Generator, octaves=(4, 16, 64)):
        """Multi-octave value noise (B, 1, res, res) in about [-1, 1]."""
        out = torch.zeros(B, 1, res, res, device=self.device)
        for i, o in enumerate(octaves):
            n = torch.randn(B, 1, o, o, generator=gen).to(self.device)
            out += F.interpolate(n, size=(res, res), mode="bicubic", align_corners=False) * (0.6 ** i)
        return out / 1.5

    def _background(self, B: int, S: int, gen: torch.Generator):
        dev = self.device
        r = lambda *s: torch.rand(*s, generator=gen).to(dev)  # noqa: E731
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, S, device=dev), torch.linspace(-1, 1, S, device=dev), indexing="ij")
        kind = r(B)
        c0, c1 = r(B, 3, 1, 1), r(B, 3, 1, 1)
        ang = r(B, 1, 1) * 2 * math.pi
        g = (xx[None] * torch.cos(ang) + yy[None] * torch.sin(ang))[:, None] * 0.5 + 0.5
        grad = c0 * (1 - g) + c1 * g
        noise = self._noise(B, S, gen)
        colour_noise = torch.cat([self._noise(B, S, gen) for _ in range(3)], 1) * 0.25 + c0
        stripes = (torch.sin((xx[None] * torch.cos(ang) + yy[None] * torch.sin(ang)) * (5 + 30 * r(B, 1, 1))) > 0)[:, None].float()
        stripe_img = c0 * stripes + c1 * (1 - stripes)
        bg = torch.where(kind[:, None, None, None] < 0.3, grad + noise * 0.08,
                         torch.where(kind[:, None, None, None] < 0.6, colour_noise,
                                     torch.where(kind[:, None, None, None] < 0.75, stripe_img * 0.7 + grad * 0.3,
                                                 grad * 0.5 + colour_noise * 0.5)))
        if self.backgrounds is not None and self.backgrounds.shape[0] > 0:
            use = r(B) < 0.5
            idx = torch.randint(0, self.backgrounds.shape[0], (B,), generator=gen)
            patch = self.backgrounds[idx.to(self.backgrounds.device)].to(dev)
            patch = F.interpolate(patch, size=(S, S), mode="bilinear", align_corners=False)
            bg = torch.where(use[:, None, None, None], patch, bg)
        # blobs (other objects, shoulders in clothing colours)
        for _ in range(3):
            cx, cy = r(B, 1, 1) * 2 - 1, r(B, 1, 1) * 2 - 1
            rx, ry = 0.1 + r(B, 1, 1) * 0.6, 0.1 + r(B, 1, 1) * 0.6
            inside = (((xx[None] - cx) / rx) ** 2 + ((yy[None] - cy) / ry) ** 2 < 1)[:, None]
            on = (r(B, 1, 1, 1) < 0.4)
            bg = torch.where(inside & on, r(B, 3, 1, 1) * (0.7 + 0.3 * noise), bg)
        return bg.clamp(0, 1)

    # ------------------------------------------------------------------ main entry
    @torch.no_grad()
    def sample(self, B: int, gen: torch.Generator) -> dict:
        """Render B samples. Returns image (B,3,S,S) in [0,1]; zmap, cover (B,R,R): the target surface depth
        (crop px, -inf where none) and pixel coverage at volume resolution; landmarks (B,68,3) crop px;
        pose (B,3) yaw/pitch/roll degrees; px_per_cm (B,) the crop's scale at the face."""
        cfg, m, dev = self.cfg, self.model, self.device
        S = cfg.size
        faces = ict.sample_faces(m, B, gen)
        pts, ncam, pose, px_per_cm = self._project(faces.vertices, gen)
        lms = pts[:, m.landmarks68]

        # ---- image
        alb, part_col, hair, skin, has_hair = self._albedo(B, gen)
        P = raster.extend_vertices(pts, self.levels, self.total)
        N = raster.extend_vertices(ncam, self.levels, self.total)
        A = raster.extend_vertices(alb, self.levels, self.total)
        UV = raster.extend_vertices(m.vertex_uv[None].expand(B, -1, -1), self.levels, self.total)
        frag = raster.rasterize(P, self.tris, S, S, window=self.window, chunk=4 if dev.type == "cpu" else 16)
        hit = frag.tri >= 0
        n = F.normalize(raster.interpolate(frag, self.tris, N), dim=-1)
        albedo = raster.interpolate(frag, self.tris, A)
        uv = raster.interpolate(frag, self.tris, UV)
        part = self.tri_part[frag.tri.clamp(min=0)]
        for name, col in part_col.items():
            sel = (part == ict.PARTS.index(name)) & hit
            albedo = torch.where(sel[..., None], col[:, None, None, :].expand_as(albedo), albedo)
        # skin detail from noise looked up in uv space (pores, freckles, stubble, hair strands)
        grid = (uv * 2 - 1)[..., [0, 1]] * torch.tensor([1.0, -1.0], device=dev)
        # low-frequency skin detail as a smooth function of the neutral 3D position (no seams at uv borders)
        detail = raster.interpolate(frag, self.tris, self._solid_noise(B, gen))[..., 0]
        fine = F.grid_sample(torch.randn(B, 1, 512, 512, generator=gen).to(dev), grid, align_corners=False)[:, 0]
        r = lambda *s: torch.rand(*s, generator=gen).to(dev)  # noqa: E731
        is_skin = (part == ict.PARTS.index("skin")) & hit
        amt = (0.03 + 0.12 * r(B, 1, 1)) * is_skin
        albedo = albedo * (1 + amt[..., None] * detail[..., None] + 0.04 * r(B, 1, 1, 1) * fine[..., None] * is_skin[..., None])
        freckles = (r(B, 1, 1) < 0.15) & (fine > 1.6) & is_skin
        albedo = torch.where(freckles[..., None], albedo * 0.75, albedo)
        albedo = albedo.clamp(0, 1)

        # lighting: 2nd-order SH (ambient + gradients) + one directional light + Blinn-Phong specular
        nx, ny, nz = n[..., 0], n[..., 1], n[..., 2]
        sh = r(B, 9, 1, 1) * 2 - 1
        sh[:, 0] = 0.45 + 0.5 * r(B, 1, 1)
        sh[:, 1:4] *= 0.35
        sh[:, 4:] *= 0.12
        basis = [torch.ones_like(nx), ny, nz, nx, nx * ny, ny * nz, 3 * nz ** 2 - 1, nx * nz, nx ** 2 - ny ** 2]
        amb = sum(sh[:, i] * basis[i] for i in range(9)).clamp(min=0.05)
        ld = F.normalize(torch.cat([r(B, 2) * 2 - 1, 0.2 + r(B, 1)], 1), dim=-1)[:, None, None, :]
        lcol = (0.6 + 0.8 * r(B, 1, 1, 3)) * (0.3 + r(B, 1, 1, 1))
        lcol = lcol * torch.tensor([1.0, 0.95, 0.9], device=dev) ** (r(B, 1, 1, 1) * 4 - 2)
        ndl = (n * ld).sum(-1, keepdim=True).clamp(min=0)
        h = F.normalize(ld + torch.tensor([0, 0, 1.0], device=dev), dim=-1)
        shin = 8 + 50 * r(B, 1, 1, 1)
        wet = ((part == ict.PARTS.index("sclera")) | (part == ict.PARTS.index("iris")))[..., None].float()
        spec_amt = 0.03 + 0.25 * r(B, 1, 1, 1) + wet * 0.5
        spec = (n * h).sum(-1, keepdim=True).clamp(min=0) ** (shin + wet * 80) * spec_amt
        colour = albedo * (amb[..., None] + ndl * lcol) + spec * lcol
        face_img = colour.permute(0, 3, 1, 2)

        bg = self._background(B, S, gen)
        # shoulders/torso blob under the chin in a clothing colour
        chin = lms[:, 8]
        yy, xx = torch.meshgrid(torch.arange(S, device=dev) + 0.5, torch.arange(S, device=dev) + 0.5, indexing="ij")
        width = (lms[:, 16, 0] - lms[:, 0, 0]).abs().clamp(min=S * 0.2) * (1.5 + r(B))
        ty = chin[:, 1] + S * (0.1 + 0.15 * r(B))
        torso = (((xx[None] - chin[:, 0, None, None]) / (width[:, None, None])) ** 2
                 + ((yy[None] - ty[:, None, None] - S) / S) ** 2 < 1) & (yy[None] > ty[:, None, None])
        torso &= (r(B, 1, 1) < 0.7)
        bg = torch.where(torso[:, None], r(B, 3, 1, 1) * (0.8 + 0.2 * self._noise(B, S, gen)), bg)
        img = torch.where(hit[:, None], face_img, bg)

        # ---- occluders and hair
        img = self._occluders(img, lms, hair, skin, has_hair, gen)
        # ---- camera effects
        img = self._camera(img, gen)
        img = self._outside_photo(img, gen)

        # ---- targets at volume resolution (supersampled coverage)
        ss = cfg.target_supersample
        Rres = cfg.vol_res * ss
        k = Rres / S
        tpts = self.prior_mesh.extend(pts) if self.prior_mesh is not None else pts
        tp = raster.extend_vertices(tpts * torch.tensor([k, k, k], device=dev), self.target_levels, self.target_total)
        tfrag = raster.rasterize(tp, self.target_tris, Rres, Rres, window=self.window, chunk=4 if dev.type == "cpu" else 16)
        thit = (tfrag.tri >= 0).float()
        z = torch.where(tfrag.tri >= 0, tfrag.z, torch.zeros_like(tfrag.z)) / k  # back to crop px
        cover = F.avg_pool2d(thit[:, None], ss)[:, 0]
        zsum = F.avg_pool2d(z[:, None], ss)[:, 0]
        zmap = torch.where(cover > 0, zsum / cover.clamp(min=1e-6), torch.full_like(cover, float("-inf")))
        out = {"image": img.clamp(0, 1), "zmap": zmap, "cover": cover, "landmarks": lms, "pose": pose,
               "px_per_cm": px_per_cm, "identity": faces.identity, "expression": faces.expression, "points": pts}
        if self.prior_mesh is not None:
            out["prior"] = self._prior(faces, pts, lms, pose, gen)
        return out

    # ------------------------------------------------------------------ the guided network's prior
    def _prior(self, faces, pts, lms, pose, gen) -> torch.Tensor:
        """(B, 2, S, S): the depth (÷ half the volume's depth, 0 at the landmarks' mean depth) and the mask of a prior
        made like the pipeline's: the ground truth's scaled-orthographic pose and shape, degraded by the measured
        errors of the pipeline's fit (training/prior-errors.json, by |yaw| bin: pose, scale, translation, identity
        kept at its measured slope with its residual noise, expression noise), a mean identity now and then, and no
        prior at all (guidance dropout)."""
        cfg, m, dev = self.cfg, self.model, self.device
        B, S = pts.shape[0], cfg.size
        r = lambda *sh: torch.randn(*sh, generator=gen).to(dev)  # noqa: E731
        u = lambda *sh: torch.rand(*sh, generator=gen).to(dev)  # noqa: E731
        # the ground truth's similarity, model frame (cm, y up) → crop (px, y up)
        X = faces.vertices[:, self.sim_verts]
        Q = pts[:, self.sim_verts] * torch.tensor([1.0, -1.0, 1.0], device=dev)
        mx, mq = X.mean(1, keepdim=True), Q.mean(1, keepdim=True)
        Xc, Qc = X - mx, Q - mq
        U, Sg, Vt = torch.linalg.svd(Qc.transpose(1, 2) @ Xc)
        d = torch.sign(torch.det(U @ Vt))
        D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
        R = U @ D @ Vt
        s = (Sg * torch.diagonal(D, dim1=1, dim2=2)).sum(1) / (Xc ** 2).sum((1, 2))
        t = mq[:, 0] - s[:, None] * (R @ mx[:, 0, :, None])[..., 0]
        # the errors of the bin of each face's |yaw|
        yb = torch.bucketize(pose[:, 0].abs(), torch.tensor([30.0, 60.0], device=dev)).clamp(max=2).tolist()
        st = [self.guide_stats[k] for k in yb]
        col = lambda f: torch.tensor([f(x) for x in st], device=dev, dtype=torch.float32)  # noqa: E731
        dyaw = col(lambda x: x["yawError"]["mean"]) + col(lambda x: x["yawError"]["sd"]) * r(B)
        dpitch = col(lambda x: x["pitchError"]["mean"]) + col(lambda x: x["pitchError"]["sd"]) * r(B)
        droll = col(lambda x: x["rollError"]["mean"]) + col(lambda x: x["rollError"]["sd"]) * r(B)
        R = ict.rotation_matrix(dyaw, dpitch, droll).to(dev) @ R
        s = s * torch.exp(col(lambda x: x["logScaleError"]["sd"]) * r(B))
        norm = ((lms[:, :, 0].amax(1) - lms[:, :, 0].amin(1)) * (lms[:, :, 1].amax(1) - lms[:, :, 1].amin(1))).clamp(min=1).sqrt()
        t = t + torch.stack([col(lambda x: x["translationError"][0]["sd"]) * r(B),
                             col(lambda x: x["translationError"][1]["sd"]) * r(B), torch.zeros(B, device=dev)], 1) * norm[:, None]
        # the shape: identity at the fit's measured slope plus its residual noise (60 modes), or the mean
        K = len(st[0]["identitySlope"])
        slope = torch.tensor([x["identitySlope"] for x in st], device=dev)
        resid = torch.tensor([x["identityResidual"] for x in st], device=dev)
        w = torch.zeros_like(faces.identity)
        w[:, :K] = slope * faces.identity[:, :K] + resid * r(B, K)
        w = torch.where(u(B, 1) < cfg.guide_mean_identity, torch.zeros_like(w), w)
        e_sd = torch.tensor([[e["sd"] for e in x["expressionError"]] for x in st], device=dev)
        e = (faces.expression + e_sd * r(*faces.expression.shape)).clamp(0, 1)
        V = m.neutral.shape[0]
        verts = m.neutral[None] + (w @ m.identity + e @ m.expression).view(B, V, 3)
        verts = self.prior_mesh.extend(verts)
        P = s[:, None, None] * (verts @ R.transpose(1, 2)) + t[:, None]
        P = P * torch.tensor([1.0, -1.0, 1.0], device=dev)  # crop: y down
        ext_lm = P[:, m.landmarks68]
        P = torch.cat([P[..., :2], (P[..., 2:] - ext_lm[..., 2:].mean(1, keepdim=True))], -1)
        PP = raster.extend_vertices(P, self.prior_levels, self.prior_total)
        out = prior_map(PP, self.prior_tris, S, cfg.vol_depth, cfg.vol_res, window=self.window)
        return out * (u(B, 1, 1, 1) >= cfg.guide_drop).float()  # guidance dropout: no prior at all

    def _occluders(self, img, lms, hair, skin, has_hair, gen):
        cfg, dev = self.cfg, self.device
        B, _, S, _ = img.shape
        r = lambda *s: torch.rand(*s, generator=gen).to(dev)  # noqa: E731
        yy, xx = torch.meshgrid(torch.arange(S, device=dev) + 0.5, torch.arange(S, device=dev) + 0.5, indexing="ij")
        xx, yy = xx[None], yy[None]
        # thin hair strands falling over the forehead and the sides of the face (a fringe on some faces)
        brow = lms[:, 17:27].mean(1)
        face_w = (lms[:, 16, :2] - lms[:, 0, :2]).norm(dim=-1).clamp(min=S * 0.1)[:, None, None]
        count = (r(B) < 0.3).float() * (r(B) * 14).floor()
        for k in range(14):
            on = (k < count)[:, None, None] & (has_hair[:, :, None] > 0)
            x0 = brow[:, 0, None, None] + (r(B, 1, 1) - 0.5) * face_w * 1.2
            y0 = brow[:, 1, None, None] - face_w * (0.25 + 0.3 * r(B, 1, 1))
            length = face_w * (0.2 + 0.6 * r(B, 1, 1))
            t = ((yy - y0) / length).clamp(0, 1)
            bend = (r(B, 1, 1) - 0.5) * face_w * 0.5
            cx = x0 + bend * t ** 2
            thick = S * (0.003 + 0.008 * r(B, 1, 1)) * (1 - 0.7 * t)
            strand = ((xx - cx).abs() < thick) & (yy >= y0) & (yy <= y0 + length) & on
            img = torch.where(strand[:, None], hair[:, :, None, None] * (0.5 + 0.9 * r(B, 1, 1, 1)), img)
        # hand-like or object blobs
        on = r(B, 1, 1) < cfg.occluder_p
        idx = torch.randint(0, 68, (B,), generator=gen).to(dev)
        c = lms[torch.arange(B, device=dev), idx][:, :2]
        rx, ry = S * (0.05 + 0.15 * r(B, 1, 1)), S * (0.05 + 0.25 * r(B, 1, 1))
        ang = r(B, 1, 1) * math.pi
        dx, dy = xx - c[:, 0, None, None], yy - c[:, 1, None, None]
        u = dx * torch.cos(ang) + dy * torch.sin(ang)
        v = -dx * torch.sin(ang) + dy * torch.cos(ang)
        blob = ((u / rx) ** 2 + (v / ry) ** 2 < 1) & on
        colr = torch.where(r(B, 1) < 0.5, skin * (0.8 + 0.4 * r(B, 1)), r(B, 3))
        shade = 0.7 + 0.3 * (1 - (u / rx) ** 2 - (v / ry) ** 2).clamp(0, 1)
        img = torch.where(blob[:, None], colr[:, :, None, None] * shade[:, None], img)
        # glasses: two ellipse outlines around the eyes and a bridge
        on = r(B, 1, 1) < cfg.glasses_p
        col = r(B, 3, 1, 1) * 0.5
        eye_w = (lms[:, 45, 0] - lms[:, 36, 0]).abs()[:, None, None] * 0.32 + 1
        th = 0.12 + 0.1 * r(B, 1, 1)
        ring_any = torch.zeros_like(blob)
        for a, b in ((36, 39), (42, 45)):
            ec = (lms[:, a, :2] + lms[:, b, :2]) / 2
            d = ((xx - ec[:, 0, None, None]) / eye_w) ** 2 + ((yy - ec[:, 1, None, None]) / (eye_w * 0.75)) ** 2
            ring_any |= (d < 1) & (d > (1 - th) ** 2)
        bridge_c = (lms[:, 39, :2] + lms[:, 42, :2]) / 2
        bridge = ((yy - bridge_c[:, 1, None, None]).abs() < eye_w * 0.08) & \
                 ((xx - bridge_c[:, 0, None, None]).abs() < (lms[:, 42, 0] - lms[:, 39, 0]).abs()[:, None, None] / 2)
        img = torch.where(((ring_any | bridge) & on)[:, None], col, img)
        return img

    def _outside_photo(self, img, gen):
        """Faces near a photo's border: the pipeline fills crop pixels outside the photo with mid-grey 0.5
        (src/align/sample.ts), so some samples get a grey band on one side."""
        cfg, dev = self.cfg, self.device
        B, _, S, _ = img.shape
        r = lambda *s: torch.rand(*s, generator=gen).to(dev)  # noqa: E731
        on = r(B) < cfg.border_p
        side = (r(B) * 4).long()
        depth = (r(B) * 0.3 * S).long()
        idx = torch.arange(S, device=dev)
        band_x = ((side == 0)[:, None, None] & (idx[None, None, :] < depth[:, None, None])) | \
                 ((side == 1)[:, None, None] & (idx[None, None, :] >= S - depth[:, None, None]))
        band_y = ((side == 2)[:, None, None] & (idx[None, :, None] < depth[:, None, None])) | \
                 ((side == 3)[:, None, None] & (idx[None, :, None] >= S - depth[:, None, None]))
        band = (band_x | band_y) & on[:, None, None]
        return torch.where(band[:, None], torch.full_like(img, 0.5), img)

    def _camera(self, img, gen):
        cfg, dev = self.cfg, self.device
        B, _, S, _ = img.shape
        r = lambda *s: torch.rand(*s, generator=gen).to(dev)  # noqa: E731
        # low resolution source
        low = r(B) < 0.2
        if low.any():
            f = 0.3 + 0.5 * float(r(1))
            small = F.interpolate(img, scale_factor=f, mode="bilinear", align_corners=False, antialias=False)
            up = F.interpolate(small, size=(S, S), mode="bilinear", align_corners=False)
            img = torch.where(low[:, None, None, None], up, img)
        # gaussian blur with a per-sample sigma
        sig = (r(B) ** 2) * 1.5
        xs = torch.arange(-3, 4, device=dev).float()
        k = torch.exp(-(xs[None] ** 2) / (2 * sig[:, None] ** 2 + 1e-6))
        k = k / k.sum(1, keepdim=True)
        x = img.reshape(1, B * 3, S, S)
        kk = k.repeat_interleave(3, 0)
        x = F.conv2d(F.pad(x, (3, 3, 0, 0), mode="replicate"), kk[:, None, None, :], groups=B * 3)
        x = F.conv2d(F.pad(x, (0, 0, 3, 3), mode="replicate"), kk[:, None, :, None], groups=B * 3)
        img = x.view(B, 3, S, S)
        # colour: gain, gamma, contrast, white balance
        img = img.clamp(0, 1) ** (0.7 + 0.7 * r(B, 1, 1, 1))
        img = img * (0.75 + 0.5 * r(B, 3, 1, 1)) * (0.6 + 0.8 * r(B, 1, 1, 1))
        grey = r(B) < cfg.grey_p
        g = img.mean(1, keepdim=True).expand_as(img)
        img = torch.where(grey[:, None, None, None], g, img)
        # sensor noise
        img = img + torch.randn(img.shape, generator=gen).to(dev) * (r(B, 1, 1, 1) ** 2 * 0.06)
        img = img.clamp(0, 1)
        # JPEG-like blockwise DCT quantisation
        jpg = r(B) < 0.6
        if jpg.any():
            img = torch.where(jpg[:, None, None, None], jpeg_like(img, 20 + 70 * r(B)), img)
        return img.clamp(0, 1)


# iBUG 68-point mirror: index i of a mirrored face is landmark MIRROR68[i] of the original
MIRROR68 = (list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
            + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40] + [54, 53, 52, 51, 50, 49, 48] + [59, 58, 57, 56, 55]
            + [64, 63, 62, 61, 60] + [67, 66, 65])


def prior_map(points: torch.Tensor, tris: torch.Tensor, size: int, vol_depth: int, vol_res: int, window: int = 8) -> torch.Tensor:
    """The guided network's prior input (B, 2, S, S) from the prior's crop-frame points (B, N, 3: x, y pixels, z crop
    pixels with the landmarks' mean depth at 0) and triangles: channel 0 the front surface's depth at each pixel
    centre ÷ half the volume's depth (0 where uncovered), channel 1 the mask. src/prior/guide.ts is the same in
    TypeScript (test/training.test.ts compares the two on one fixture)."""
    frag = raster.rasterize(points, tris, size, size, window=window, chunk=4 if points.device.type == "cpu" else 16)
    hit = frag.tri >= 0
    half = vol_depth * (size / vol_res) / 2
    depth = torch.where(hit, frag.z / half, torch.zeros_like(frag.z))
    return torch.stack([depth, hit.to(depth.dtype)], 1)


def flip_batch(b: dict, size: int) -> dict:
    """The mirror image of a rendered batch (x → size − x), landmarks renumbered left ↔ right, yaw and roll negated."""
    lm = b["landmarks"][:, MIRROR68].clone()
    lm[..., 0] = size - lm[..., 0]
    pose = b["pose"].clone()
    pose[:, 0] = -pose[:, 0]
    pose[:, 2] = -pose[:, 2]
    out = {**b, "image": b["image"].flip(-1), "zmap": b["zmap"].flip(-1), "cover": b["cover"].flip(-1),
           "landmarks": lm, "pose": pose}
    if "prior" in b:
        out["prior"] = b["prior"].flip(-1)
    return out


def _dct_matrix(n=8, device="cpu"):
    k = torch.arange(n, device=device).float()
    m = torch.cos((2 * k[None] + 1) * k[:, None] * math.pi / (2 * n)) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m


_JPEG_Q = torch.tensor([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]).float().view(8, 8)


def jpeg_like(img: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """Approximate JPEG artefacts: YCbCr, 8×8 DCT, quantisation with the standard luminance table scaled by
    quality (per sample), inverse. Chroma is quantised more coarsely."""
    B, C, H, W = img.shape
    dev = img.device
    ph, pw = (-H) % 8, (-W) % 8
    x = F.pad(img, (0, pw, 0, ph), mode="replicate") * 255
    Y = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    Cb = 128 - 0.168736 * x[:, 0] - 0.331264 * x[:, 1] + 0.5 * x[:, 2]
    Cr = 128 + 0.5 * x[:, 0] - 0.418688 * x[:, 1] - 0.081312 * x[:, 2]
    ycc = torch.stack([Y, Cb, Cr], 1) - 128
    Hp, Wp = ycc.shape[2], ycc.shape[3]
    blocks = ycc.view(B, 3, Hp // 8, 8, Wp // 8, 8).permute(0, 1, 2, 4, 3, 5)
    D = _dct_matrix(8, dev)
    coef = D @ blocks @ D.T
    q = quality.clamp(1, 100)
    scale = torch.where(q < 50, 5000 / q, 200 - 2 * q) / 100
    Q = (_JPEG_Q.to(dev)[None] * scale[:, None, None]).clamp(min=1)  # (B, 8, 8)
    Qc = torch.stack([Q, Q * 2, Q * 2], 1)[:, :, None, None]
    coef = torch.round(coef / Qc) * Qc
    rec = D.T @ coef @ D
    ycc = rec.permute(0, 1, 2, 4, 3, 5).reshape(B, 3, Hp, Wp) + 128
    Y, Cb, Cr = ycc[:, 0], ycc[:, 1] - 128, ycc[:, 2] - 128
    rgb = torch.stack([Y + 1.402 * Cr, Y - 0.344136 * Cb - 0.714136 * Cr, Y + 1.772 * Cb], 1) / 255
    return rgb[:, :, :H, :W]


def occupancy_target(zmap: torch.Tensor, cover: torch.Tensor, depth: int, voxel: float) -> torch.Tensor:
    """Soft occupancy (B, D, R, R): for voxel slice d spanning z in [(d - D/2)·v, (d + 1 - D/2)·v], the fraction
    of it lying behind the surface (z ≤ zmap), times the pixel coverage. Back-filled to the back of the volume."""
    d = torch.arange(depth, device=zmap.device, dtype=zmap.dtype)
    z_lo = (d - depth / 2) * voxel  # (D,)
    zm = torch.where(torch.isfinite(zmap), zmap, torch.full_like(zmap, -1e9))
    frac = ((zm[:, None] - z_lo[None, :, None, None]) / voxel).clamp(0, 1)
    return frac * cover[:, None]
