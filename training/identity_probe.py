"""Identity from a face-recognition embedding — the probe of models/README.md ("Identity from the image").

Renders near-frontal synthetic ICT faces as 224×224 crops (1.3 × the 68-landmark box, the crop
scripts/faceres-embed.ts takes from a photo), and fits a ridge map from their faceres embeddings (1024-d, made by
that script) to the first 60 identity weights:

    python3 training/identity_probe.py render --n=2400 --seed=11 --out=/tmp/probe/train   # 5 min on 2 cores
    python3 training/identity_probe.py render --n=400 --seed=99 --out=/tmp/probe/test
    node --import tsx scripts/faceres-embed.ts /tmp/probe/train /tmp/probe/test             # 5 min
    python3 training/identity_probe.py ridge --train=/tmp/probe/train --test=/tmp/probe/test --out=/tmp/probe/ridge.json

`render` writes <out>.u8 (N, 224, 224, 3), <out>.id.f32 (N, 60) and <out>.pose.f32 (N, 3); `ridge` prints R² per
mode and the identity-only vertex error of the map against the mean face on the test renders, for a few λ, and
writes the chosen λ's map as JSON {M: 60×1024 row-major, b: 60, lam}.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402
import render  # noqa: E402

MODES = 60
FRONT = 6706  # ICT's narrow_face vertices


def args(argv):
    out = {}
    for a in argv:
        k, _, v = a.lstrip("-").partition("=")
        out[k] = v
    return out


def do_render(a):
    n, seed, out = int(a["n"]), int(a.get("seed", 11)), a["out"]
    torch.set_num_threads(int(a.get("threads", 2)))
    cfg = render.RenderConfig(size=224, vol_res=32, vol_depth=32, crop_scale=1.3, scale_jitter=0.05, shift_jitter=0.02,
                              max_yaw=30, max_pitch=15, max_roll=10, occluder_p=0, glasses_p=0, grey_p=0, border_p=0,
                              perspective_p=0.3)
    data = render.Renderer(cfg)
    gen = torch.Generator().manual_seed(seed)
    imgs, ids, poses = [], [], []
    t = time.time()
    for _ in range(0, n, 16):
        b = data.sample(16, gen)
        imgs.append((b["image"].permute(0, 2, 3, 1) * 255).round().clamp(0, 255).to(torch.uint8).numpy())
        ids.append(b["identity"][:, :MODES].numpy().astype(np.float32))
        poses.append(b["pose"].numpy().astype(np.float32))
    np.concatenate(imgs)[:n].tofile(out + ".u8")
    np.concatenate(ids)[:n].tofile(out + ".id.f32")
    np.concatenate(poses)[:n].tofile(out + ".pose.f32")
    print(f"{n} renders in {time.time() - t:.0f} s → {out}.*")


def load(p):
    return (np.fromfile(p + ".emb.f32", np.float32).reshape(-1, 1024).astype(np.float64),
            np.fromfile(p + ".id.f32", np.float32).reshape(-1, MODES).astype(np.float64))


def do_ridge(a):
    X, Y = load(a["train"])
    Xt, Yt = load(a["test"])
    mu, sd = X.mean(0), X.std(0) + 1e-6
    A, T = (X - mu) / sd, (Xt - mu) / sd
    ym = Y.mean(0)
    m = ict.ICTModel.load()
    V = m.neutral.shape[0]
    U = m.identity[:MODES].view(MODES, V, 3)[:, :FRONT].reshape(MODES, -1).numpy().astype(np.float64)

    def err(P):  # mean vertex distance over the front of the face, mm, identity only
        d = (P - Yt) @ U
        return 10 * np.sqrt((d.reshape(len(d), -1, 3) ** 2).sum(-1)).mean()

    print(f"mean face: {err(np.zeros_like(Yt)):.3f} mm")
    best = None
    for lam in [float(x) for x in a.get("lams", "100,300,1000,3000,10000").split(",")]:
        W = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ (Y - ym))
        P = T @ W + ym
        r2 = 1 - ((P - Yt) ** 2).sum(0) / ((Yt - Yt.mean(0)) ** 2).sum(0)
        e = err(P)
        print(f"λ {lam:>6g}: R² modes 0–7 {np.round(r2[:8], 2)}, mean of 60 {r2.mean():.3f}; {e:.3f} mm")
        if best is None or e < best[0]:
            best = (e, lam, W)
    _, lam, W = best
    M = W / sd[:, None]
    b = ym - (mu / sd) @ W
    with open(a["out"], "w") as f:
        json.dump({"M": M.T.ravel().tolist(), "b": b.tolist(), "lam": lam}, f)
    print(f"λ {lam:g} → {a['out']}")


if __name__ == "__main__":
    cmd, rest = sys.argv[1], args(sys.argv[2:])
    {"render": do_render, "ridge": do_ridge}[cmd](rest)
