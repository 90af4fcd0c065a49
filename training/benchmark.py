"""Renders the synthetic large-pose benchmark: photos of random ICT faces with exact 3D landmarks, yaw spread
evenly over [-90°, 90°], in the same layout as ../shared/aflw2000-3d-dev (images + ground_truth.json).

    python3 training/benchmark.py --out=bench-data/synthetic --n=120 --size=384 --seed=2024

ground_truth.json: {"<name>": {"landmarks68_3d": [[x, y, z] × 68], "landmarks68_2d_reannotated": [[x, y] × 68],
"landmarks68_visible": [true/false × 68], "yaw_degrees": yaw, "pitch_degrees": ..., "roll_degrees": ...,
"identity": [100 weights], "expression": [53 weights]}} with x right, y down, z toward the camera, in pixels of the
image. Beside each image, `<name>.vertices.f32`: the posed ICT vertices 0–11247 (face and head regions) as float32
x, y, z in the same frame (z with the landmarks' mean depth at 0), the dense ground truth of the shape prior's eval. A landmark is visible when the face surface the
camera sees (the renderer's target depth map) lies within max(2 cells, 5% of √(w·h) of the landmark box) of it:
the far side of a turned face is hidden behind its near side. The face fills about a third of the photo, so a detector has work to do.
Fixed seed: the same command always gives the same set.
"""
from __future__ import annotations

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402
import render  # noqa: E402

out = "bench-data/synthetic"
n = 120
size = 384
seed = 2024
face_fraction = 0.4  # landmark box side / photo side
for arg in sys.argv[1:]:
    k, _, v = arg.lstrip("-").partition("=")
    if k not in globals():
        raise SystemExit(f"unknown option --{k}")
    globals()[k] = type(globals()[k])(v)


def main():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cfg = render.RenderConfig(size=size, vol_res=size // 4, vol_depth=size // 4, crop_scale=1 / face_fraction,
                              scale_jitter=0.05, shift_jitter=0.12, occluder_p=0.15, glasses_p=0.08)
    r = render.Renderer(cfg)
    yaws = torch.linspace(-90, 90, n)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    yaws = yaws[perm]
    os.makedirs(out, exist_ok=True)
    gt = {}
    orig = ict.sample_poses
    done = 0
    while done < n:
        k = min(8, n - done)
        chunk = yaws[done : done + k]

        def poses(B, gen, max_yaw, max_pitch, max_roll, chunk=chunk):
            _, pitch, roll = orig(B, gen, max_yaw, 30.0, 30.0)
            return chunk.clone(), pitch, roll

        ict.sample_poses = poses
        b = r.sample(k, g)
        ict.sample_poses = orig
        for i in range(k):
            name = f"synth{done + i:04d}"
            save_jpeg(b["image"][i], os.path.join(out, name + ".jpg"))
            lm = b["landmarks"][i]
            gt[name] = {
                "landmarks68_3d": [[round(float(v), 3) for v in p] for p in lm],
                "landmarks68_2d_reannotated": [[round(float(p[0]), 3), round(float(p[1]), 3)] for p in lm],
                "landmarks68_visible": visible(lm, b["zmap"][i], size),
                "yaw_degrees": round(float(b["pose"][i, 0]), 2),
                "pitch_degrees": round(float(b["pose"][i, 1]), 2),
                "roll_degrees": round(float(b["pose"][i, 2]), 2),
                "identity": [round(float(v), 4) for v in b["identity"][i]],
                "expression": [round(float(v), 4) for v in b["expression"][i]],
            }
            b["points"][i, :11248].contiguous().cpu().numpy().astype("<f4").tofile(os.path.join(out, name + ".vertices.f32"))
        done += k
        print(f"{done}/{n}", flush=True)
    meta = {"generator": "voxface training/benchmark.py", "seed": seed, "n": n, "size": size}
    json.dump(gt, open(os.path.join(out, "ground_truth.json"), "w"))
    json.dump(meta, open(os.path.join(out, "benchmark.json"), "w"), indent=1)


def visible(lm: torch.Tensor, zmap: torch.Tensor, size: int) -> list[bool]:
    """Which landmarks the camera sees: the target surface at the landmark's cell is within a tolerance of it."""
    R = zmap.shape[-1]
    cell = size / R
    w = float(lm[:, 0].max() - lm[:, 0].min())
    h = float(lm[:, 1].max() - lm[:, 1].min())
    tol = max(2 * cell, 0.05 * (w * h) ** 0.5)
    out = []
    for x, y, z in lm.tolist():
        c, r = int(x // cell), int(y // cell)
        zs = float(zmap[r, c]) if 0 <= r < R and 0 <= c < R else float("-inf")
        out.append(bool(zs != float("-inf") and zs - z < tol))
    return out


def save_jpeg(img: torch.Tensor, path: str) -> None:
    arr = (img.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype("uint8")
    try:
        from PIL import Image

        Image.fromarray(arr).save(path, quality=92)
    except ImportError:
        import cv2

        cv2.imwrite(path, arr[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])


if __name__ == "__main__":
    main()
