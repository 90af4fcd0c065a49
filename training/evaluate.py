"""Network-only metrics for the model card: the held-out synthetic set by yaw bin, and the real AFLW2000-3D dev
photos cropped from their ground-truth landmarks (the full pipeline, detector included, is measured by
`npm run eval`).

    python3 training/evaluate.py --ckpt=training/runs/compact/ckpt.pt --out=metrics.json

Synthetic (fixed seed, never trained on): 68-landmark NME 2D/3D (÷ √(w·h) of the GT 2D box, z centred),
mean |depth error| of the visible face surface in mm, volumetric IoU, coverage of the visible face.
Real: NME 2D and 3D of the 68 landmarks (3D also for the 51 interior points alone), and the depth error of our
surface at the visible landmarks (interior points 17–67; z centred on their mean; ÷ √(w·h)), at all 68 and at
the jaw contour 0–16 alone (with the share of those our surface lies under), also for a flat face as the floor.
"""
from __future__ import annotations

import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402
import model as M  # noqa: E402
import render  # noqa: E402
from metrics import by_yaw, depth_from_volume, nme, synthetic_metrics  # noqa: E402

ckpt = ""
model = ""  # optional ONNX path (only for reporting its size)
out = ""
n_synth = 512
val_seed = 1234567  # the same held-out set as train.py's validation (first val_size samples)
real = ""  # folder with ground_truth.json (default: <shared>/aflw2000-3d-dev)
threads = 0
for arg in sys.argv[1:]:
    k, _, v = arg.lstrip("-").partition("=")
    if k not in globals():
        raise SystemExit(f"unknown option --{k}")
    globals()[k] = type(globals()[k])(v)


def load_net(path: str, dev):
    st = torch.load(path, map_location=dev)
    cfg = M.NetConfig(**st["net"])
    net = M.VRN(cfg).to(dev)
    net.load_state_dict(st["model"])
    return net.eval(), cfg


@torch.no_grad()
def synthetic(net, cfg, dev) -> dict:
    rc = render.RenderConfig(size=cfg.size, vol_res=cfg.vol_res, vol_depth=cfg.vol_depth)
    data = render.Renderer(rc, device=dev)
    g = torch.Generator().manual_seed(val_seed)
    vals, yaws = {}, []
    voxel = cfg.size / cfg.vol_res
    for i in range(0, n_synth, 32):
        b = data.sample(min(32, n_synth - i), g)
        vol, lm = net(b["image"])
        for k, v in synthetic_metrics(vol.float(), lm.float(), b, voxel).items():
            vals.setdefault(k, []).append(v.cpu())
        yaws.append(b["pose"][:, 0].cpu())
    return by_yaw({k: torch.cat(v) for k, v in vals.items()}, torch.cat(yaws))


def load_image(path: str) -> torch.Tensor:
    try:
        from PIL import Image, ImageOps

        im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        import numpy as np

        arr = np.asarray(im)
    except ImportError:
        import cv2

        arr = cv2.imread(path)[:, :, ::-1].copy()
    return torch.from_numpy(arr).permute(2, 0, 1).float() / 255


def crop_image(img: torch.Tensor, lm2d: torch.Tensor, size: int, scale: float, shift_y: float):
    """Crop per models/README.md from 2D landmarks; returns (crop (1,3,S,S), photo px per crop px, offset)."""
    lo, hi = lm2d.amin(0), lm2d.amax(0)
    side = float((hi - lo).max()) * scale
    cx, cy = float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2) + shift_y * side
    s = side / size
    ox, oy = cx - side / 2, cy - side / 2
    H, W = img.shape[1:]
    u = (torch.arange(size) + 0.5) * s + ox  # photo x of crop pixel centres
    v = (torch.arange(size) + 0.5) * s + oy
    gx = u / W * 2 - 1
    gy = v / H * 2 - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1)[None]
    src = img[None]
    if s > 1.5:  # anti-alias when shrinking
        k = int(s)
        src = F.avg_pool2d(src, k, stride=1, padding=k // 2, count_include_pad=False)[..., :H, :W]
    crop = F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return crop, s, (ox, oy)


def _nme3d_subset(pred: torch.Tensor, gt: torch.Tensor, idx: list[int], norm: float) -> torch.Tensor:
    p, g = pred[idx].clone(), gt[idx].clone()
    p[:, 2] -= p[:, 2].mean()
    g[:, 2] -= g[:, 2].mean()
    return (p - g).norm(dim=-1).mean() / norm


@torch.no_grad()
def real_photos(net, cfg, folder: str) -> dict:
    gt = json.load(open(os.path.join(folder, "ground_truth.json")))
    voxel = cfg.size / cfg.vol_res
    rc = render.RenderConfig()
    rows = []
    for name, g in sorted(gt.items()):
        path = next((os.path.join(folder, name + e) for e in (".jpg", ".png", ".jpeg") if os.path.exists(os.path.join(folder, name + e))), None)
        if path is None:
            continue
        img = load_image(path)
        lm_gt = torch.tensor(g["landmarks68_3d"], dtype=torch.float32)
        crop, s, (ox, oy) = crop_image(img, lm_gt[:, :2], cfg.size, rc.crop_scale, rc.crop_shift_y)
        vol, lm = net(crop.to(next(net.parameters()).device))
        lm = lm[0].cpu()
        pred = torch.stack([lm[:, 0] * s + ox, lm[:, 1] * s + oy, lm[:, 2] * s], -1)
        # our surface depth at the GT landmarks: interior points 17-67 (visible in these near-frontal photos) and all 68
        zmap = depth_from_volume(torch.sigmoid(vol.float()), voxel)[0].cpu()  # crop px
        norm = float(((lm_gt[:, :2].amax(0) - lm_gt[:, :2].amin(0)).prod()).sqrt())
        errs = {}
        for tag, idx in (("", list(range(17, 68))), ("_all68", list(range(68)))):
            cxy = (lm_gt[idx, :2] - torch.tensor([ox, oy])) / s / voxel  # volume cells
            ci = cxy[:, 0].floor().long().clamp(0, cfg.vol_res - 1)
            ri = cxy[:, 1].floor().long().clamp(0, cfg.vol_res - 1)
            zs = zmap[ri, ci] * s
            ok = torch.isfinite(zs)
            zg = lm_gt[idx, 2]
            if ok.sum() >= 3:
                e = (zs[ok] - zs[ok].mean()) - (zg[ok] - zg[ok].mean())
                errs["surface_depth_err" + tag] = float(e.abs().mean()) / norm
            else:
                errs["surface_depth_err" + tag] = float("nan")
            errs["flat_depth_err" + tag] = float((zg - zg.mean()).abs().mean()) / norm
            errs["surface_hit" + tag] = float(ok.float().mean())
            if tag == "_all68" and ok.sum() >= 3:
                # the jaw contour (0-16) alone, centred as all 68: where most of the all-68 error sits
                n_contour = int(ok[:17].sum())  # e keeps the order of the hit points: contour first
                errs["surface_depth_err_contour"] = float(e[:n_contour].abs().mean()) / norm if n_contour else float("nan")
                errs["surface_hit_contour"] = float(ok[:17].float().mean())
        rows.append({
            "image": name, "yaw": g.get("yaw_degrees"),
            "nme2d": float(nme(pred[None], lm_gt[None], 2)), "nme3d": float(nme(pred[None], lm_gt[None], 3)),
            # 3D error of the 51 interior points alone (z centred on them, ÷ the same 68-point box): the jaw
            # contour's depth is where ICT's Multi-PIE vertices and the dataset's 3DMM vertices differ most
            "nme3d_interior": float(_nme3d_subset(pred, lm_gt, list(range(17, 68)), norm)),
            **errs,
        })
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0] if k not in ("image", "yaw")}
    return {"images": rows, "mean": mean}


def main():
    if threads:
        torch.set_num_threads(threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net, cfg = load_net(ckpt, dev)
    res = {"config": cfg.__dict__, "params": M.count_params(net)}
    if model and os.path.exists(model):
        res["onnx_bytes"] = os.path.getsize(model)
    folder = real or os.path.join(ict.shared_dir(), "aflw2000-3d-dev")
    if os.path.exists(os.path.join(folder, "ground_truth.json")):
        res["real"] = real_photos(net, cfg, folder)
        m = res["real"]["mean"]
        print(f"real ({folder}): NME 2D {m['nme2d'] * 100:.2f}%  NME 3D {m['nme3d'] * 100:.2f}% "
              f"(interior 17-67 {m['nme3d_interior'] * 100:.2f}%)  "
              f"surface depth err {m['surface_depth_err'] * 100:.2f}% at landmarks 17-67 (flat face {m['flat_depth_err'] * 100:.2f}%), "
              f"{m['surface_depth_err_all68'] * 100:.2f}% at all 68 (flat {m['flat_depth_err_all68'] * 100:.2f}%; "
              f"jaw contour 0-16 alone {m['surface_depth_err_contour'] * 100:.2f}%, our surface under "
              f"{m['surface_hit_contour'] * 100:.0f}% of them)", flush=True)
    res["synthetic"] = synthetic(net, cfg, dev)
    print("synthetic by yaw bin:")
    for k, row in res["synthetic"].items():
        print(f"  {k:10s} " + "  ".join(f"{b}: {v:.4f}" for b, v in row.items()))
    if out:
        json.dump(res, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
