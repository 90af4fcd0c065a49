"""Renders for the identity map (issue 18, models/README.md "Identity"): random ICT identities that look like photos.

Each render is a random ICT head (100 identity modes ~ N(0, 1), a sparse expression), posed (yaw over ±90°), lit and
set on a background by training/render.py; for a share of them (`--real=0.8`) the skin is not the procedural albedo
but a **real skin texture baked onto ICT's UV atlas by voxface itself** from a real photo: the face-tile PNG of the
CLI's OBJ output (`--format obj`), sampled at each vertex's ICT uv. The label is always the render's identity, never
the photo's. Texture photos: `../shared/aflw2000-3d/fit`, `../shared/faces` (not dlib-johns, which tests identity),
`../shared/aflw-21pt/images` — never AFLW2000-3D's evaluation folder.

    node --import tsx scripts/voxface.ts training/data/identity/photos -o training/data/identity/tex --format obj --largest --threads 1 --quiet
    /usr/bin/python3 training/identity_data.py --n=3000 --seed=11 --out=training/data/identity/train --threads=1
    /usr/bin/python3 training/identity_data.py --n=400 --seed=99 --out=training/data/identity/test --threads=1

Writes <out>.u8 (N, S, S, 3) uint8 renders, <out>.lm.f32 (N, 68, 2) the 68 landmarks in render pixels (ICT's landmark
vertices: where the pipeline's fitted 68 lie), <out>.id.f32 (N, 100) the identity, <out>.pose.f32 (N, 3) yaw, pitch,
roll, <out>.tex.i32 (N,) the texture used (-1: procedural). `--pairs=1`: renders 2k and 2k + 1 show one identity. Textures are split by name: `--textures=even|odd|all`
(hash of the file name) so the test renders can use textures the training renders never saw.
"""
from __future__ import annotations

import glob
import os
import sys
import time
import zlib

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402
import render  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def args(argv):
    out = {}
    for a in argv:
        k, _, v = a.lstrip("-").partition("=")
        out[k] = v
    return out


def load_textures(folder: str, split: str) -> list[np.ndarray]:
    files = sorted(glob.glob(os.path.join(folder, "*.png")) + glob.glob(os.path.join(folder, "*.jpg")))
    keep = []
    for f in files:
        h = zlib.crc32(os.path.basename(f).encode()) % 2
        if split == "all" or (split == "even") == (h == 0):
            keep.append(f)
    return [np.asarray(Image.open(f).convert("RGB"), np.float32) / 255 for f in keep]


class TexturedRenderer(render.Renderer):
    """training/render.py's renderer with real baked skin textures in place of the procedural albedo."""

    def __init__(self, cfg, textures, real_p, device="cpu"):
        super().__init__(cfg, device=device)
        self.textures, self.real_p = textures, real_p
        uv = self.model.vertex_uv.numpy()
        self.face_tile = torch.as_tensor(uv[:, 0] < 1.0)
        self.uv = uv
        self.used = []

    def _albedo(self, B, gen):
        alb, part_col, hair, skin, has_hair = super()._albedo(B, gen)
        r = torch.rand(B, generator=gen)
        pick = torch.randint(len(self.textures), (B,), generator=gen) if self.textures else torch.zeros(B, dtype=torch.long)
        used = []
        for b in range(B):
            if not self.textures or r[b] >= self.real_p:
                used.append(-1)
                continue
            tex = self.textures[int(pick[b])]
            H, W, _ = tex.shape
            u = np.clip(self.uv[:, 0], 0, 1 - 1e-6)
            x = np.clip((u * W).astype(np.int64), 0, W - 1)
            y = np.clip(((1 - self.uv[:, 1]) * H).astype(np.int64), 0, H - 1)
            col = torch.as_tensor(tex[y, x]).to(alb.device)
            # off the face tile (back of the head, neck's back): the texture's median skin colour of the cheeks
            cheek = tex[int(H * 0.45):int(H * 0.6), int(W * 0.2):int(W * 0.35)].reshape(-1, 3)
            med = torch.as_tensor(np.median(cheek, 0)).to(alb.device)
            a = torch.where(self.face_tile.to(alb.device)[:, None], col, med[None].expand_as(col))
            alb[b] = a * (0.85 + 0.3 * torch.rand(1, 3, generator=gen)).to(alb.device)
            skin[b] = med
            used.append(int(pick[b]))
        self.used.extend(used)
        return alb.clamp(0, 1), part_col, hair, skin, has_hair


def paired_faces(orig):
    """ict.sample_faces with each identity drawn twice in a row (renders 2k and 2k + 1 are one person, posed, lit and
    textured apart): `--pairs=1`, made to measure the map's within-person spread on renders (models/README.md,
    identity-shape.onnx: it gave nothing; the set `pairs25` serves as stacking data)."""
    def sample(model, batch, gen, identity_scale=1.0):
        f = orig(model, batch, gen, identity_scale)
        w = f.identity.clone()
        w[1::2] = w[0::2][: len(w[1::2])]
        V = model.neutral.shape[0]
        verts = model.neutral[None] + (w @ model.identity + f.expression @ model.expression).view(batch, V, 3)
        return ict.FaceBatch(vertices=verts, identity=w, expression=f.expression)
    return sample


def render_config(S: int, max_yaw: float = 90.0) -> render.RenderConfig:
    """The identity renders' settings (also identity_train.py's `--live` renders)."""
    return render.RenderConfig(size=S, vol_res=16, vol_depth=16, crop_scale=1.6, scale_jitter=0.05, shift_jitter=0.02,
                               max_yaw=max_yaw, max_pitch=20, max_roll=15, occluder_p=0.1,
                               glasses_p=0.05, grey_p=0.05, border_p=0, perspective_p=0.3)


def main(a):
    n, seed, out = int(a["n"]), int(a.get("seed", 11)), a["out"]
    if a.get("pairs", "0") == "1":
        ict.sample_faces = paired_faces(ict.sample_faces)
    torch.set_num_threads(int(a.get("threads", 1)))
    S = int(a.get("size", 224))
    tex_dir = a.get("tex", os.path.join(HERE, "data/identity/tex"))
    textures = load_textures(tex_dir, a.get("textures", "all"))
    cfg = render_config(S, float(a.get("max_yaw", 90)))
    data = TexturedRenderer(cfg, textures, float(a.get("real", 0.8)))
    gen = torch.Generator().manual_seed(seed)
    imgs, lms, ids, poses = [], [], [], []
    t = time.time()
    for i in range(0, n, 8):
        b = data.sample(8, gen)
        imgs.append((b["image"].permute(0, 2, 3, 1) * 255).round().clamp(0, 255).to(torch.uint8).numpy())
        lms.append(b["landmarks"][..., :2].numpy().astype(np.float32))
        ids.append(b["identity"].numpy().astype(np.float32))
        poses.append(b["pose"].numpy().astype(np.float32))
        if i % 400 == 0:
            print(f"{i}/{n} {time.time() - t:.0f} s", flush=True)
    np.concatenate(imgs)[:n].tofile(out + ".u8")
    np.concatenate(lms)[:n].tofile(out + ".lm.f32")
    np.concatenate(ids)[:n].tofile(out + ".id.f32")
    np.concatenate(poses)[:n].tofile(out + ".pose.f32")
    np.array(data.used[:n], np.int32).tofile(out + ".tex.i32")
    print(f"{n} renders ({len(textures)} textures, {sum(u >= 0 for u in data.used[:n])} textured) in {time.time() - t:.0f} s → {out}.*")


if __name__ == "__main__":
    main(args(sys.argv[1:]))
