"""Synthetic training photos for the landmark network: random ICT heads rendered by training/render.py, labelled with
the benchmark's 68 (src/prior/landmarks68-aflw.ts: an ICT vertex plus a fixed offset each) from the render's own
posed mesh. They teach what real photos cannot label: the far side of a turned face, and depth.

    /usr/bin/python3 training/landmarks/renders.py --n=3000 --seed=77 --out=training/data/landmark-renders.npz

Each render is cropped by the real photos' crop rule (data.crop_box, measured on AFLW's crops) with data.CONTEXT
around it, like fit/'s photos in data.load_fit, so train.py treats both alike. The seed must differ from the
synthetic benchmark's (eval/make-synthetic.sh, 2024): those renders are never trained on.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.append(os.path.join(HERE, ".."))
import ict  # noqa: E402
import render  # noqa: E402
from data import CONTEXT, crop_box  # noqa: E402

# ---- config
n = 3000
seed = 77
size = 192  # render side, px
face_fraction = 0.42  # ICT landmark box side / render side (room for the crop rule's context)
out_size = 160  # stored source side (as data.load_fit)
chunk = 16
threads = 1
basis = "training/data/landmark-basis.json"  # export_basis.ts's output (the layer's vertices and offsets)
rule_file = "training/data/landmark-data.npz"  # the crop rule, measured on AFLW's crops (train.py's cache)
out = "training/data/landmark-renders.npz"
# ----
for arg in sys.argv[1:]:
    k, v = arg.lstrip("-").split("=", 1)
    if k not in globals():
        raise SystemExit(f"unknown option {k}")
    globals()[k] = type(globals()[k])(v)
if seed == 2024:
    raise SystemExit("seed 2024 is the synthetic benchmark's: pick another")
torch.set_num_threads(threads)


def bench68(r: render.Renderer, pm: ict.PriorMesh, b: dict, lm: dict) -> torch.Tensor:
    """The benchmark's 68 in the render's crop frame (x right, y down, z toward the camera, px). `lm`: the layer
    (export_basis.ts's `vertex`, runtime vertex ids, and `offset`, cm in ICT's frame)."""
    V = r.model.neutral.shape[0]
    ids = torch.tensor([v if v < 11248 else V + (v - 11248) for v in lm["vertex"]])
    off = torch.tensor(lm["offset"], dtype=torch.float32).view(68, 3)
    pts = pm.extend(b["points"])[:, ids]  # (B, 68, 3) crop px
    R = ict.rotation_matrix(b["pose"][:, 0], b["pose"][:, 1], b["pose"][:, 2])
    o = torch.einsum("bij,kj->bki", R, off) * b["px_per_cm"][:, None, None]
    o[..., 1] = -o[..., 1]  # model y up → crop y down
    return pts + o


def main():
    rule = json.loads(str(np.load(rule_file, allow_pickle=True)["rule"]))
    cfg = render.RenderConfig(size=size, vol_res=16, vol_depth=16, crop_scale=1 / face_fraction, scale_jitter=0.05,
                              shift_jitter=0.03)
    r = render.Renderer(cfg)
    pm = ict.PriorMesh.load(r.model.neutral.shape[0])
    layer = json.load(open(basis))
    g = torch.Generator().manual_seed(seed)
    imgs, lms, yaws = [], [], []
    t0 = time.time()
    while len(imgs) < n:
        with torch.no_grad():
            b = r.sample(min(chunk, n - len(imgs)), g)
            p = bench68(r, pm, b, layer)
        for i in range(p.shape[0]):
            pt = p[i].numpy().astype(np.float64)
            cx, cy, side = crop_box(pt[:, :2], rule)
            half = side * CONTEXT / 2
            # source [-1, 1]² ↔ render px: x = c + half·u; sample the render there (grey outside)
            u = (torch.arange(out_size) + 0.5) / out_size * 2 - 1
            gy, gx = torch.meshgrid(u, u, indexing="ij")
            grid = torch.stack([(cx + half * gx) / size * 2 - 1, (cy + half * gy) / size * 2 - 1], -1)[None].float()
            im = F.grid_sample(b["image"][i : i + 1], grid, mode="bilinear", padding_mode="border", align_corners=False)
            imgs.append((im[0].permute(1, 2, 0).clamp(0, 1) * 255 + 0.5).byte().numpy())
            lm = np.empty((68, 3), np.float32)
            lm[:, 0] = (pt[:, 0] - cx) / half
            lm[:, 1] = (pt[:, 1] - cy) / half
            lm[:, 2] = (pt[:, 2] - pt[:, 2].mean()) / half
            lms.append(lm)
            yaws.append(float(b["pose"][i, 0]))
        print(f"{len(imgs)}/{n} {time.time() - t0:.0f}s", flush=True)
    np.savez(out, images=np.stack(imgs), lm=np.stack(lms), yaw=np.array(yaws, np.float32), seed=seed)
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    main()
