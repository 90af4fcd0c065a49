"""Metrics on synthetic batches and real photos, shared by train.py (validation) and evaluate.py.

    m = synthetic_metrics(logits, landmarks, batch, cfg)   # per-sample dict of tensors
    nme3d = m['nme3d']      # 68-landmark 3D NME (z centred), ÷ √(w·h) of the GT 2D landmark box
    depth_mm = m['depth_mm']  # mean |z| error of the visible face surface, millimetres
    iou = m['iou']          # volumetric IoU of occupancy > 0.5
"""
from __future__ import annotations

import torch

YAW_BINS = [(0, 30), (30, 60), (60, 90)]


def depth_from_volume(prob: torch.Tensor, voxel: float, iso: float = 0.5) -> torch.Tensor:
    """Front-most iso crossing per column of a (B, D, R, R) occupancy volume, in crop px (-inf where empty).

    Scans from the camera side (high d) backwards; the crossing is linearly interpolated between slices.
    """
    B, D, R, _ = prob.shape
    inside = prob >= iso
    # index of the highest d that is inside
    d_idx = torch.arange(D, device=prob.device)[None, :, None, None].expand_as(prob)
    top = torch.where(inside, d_idx, torch.full_like(d_idx, -1)).amax(1)  # (B, R, R)
    has = top >= 0
    t = top.clamp(min=0)
    p_in = prob.gather(1, t[:, None]).squeeze(1)
    t_out = (t + 1).clamp(max=D - 1)
    p_out = torch.where(top < D - 1, prob.gather(1, t_out[:, None]).squeeze(1), torch.zeros_like(p_in))
    frac = ((p_in - iso) / (p_in - p_out).clamp(min=1e-6)).clamp(0, 1)
    z = (t.float() + 0.5 + frac - D / 2) * voxel
    return torch.where(has, z, torch.full_like(z, float("-inf")))


def landmark_box(lm2d: torch.Tensor) -> torch.Tensor:
    lo, hi = lm2d.amin(1), lm2d.amax(1)
    return ((hi - lo).prod(-1)).clamp(min=1e-6).sqrt()


def nme(pred: torch.Tensor, gt: torch.Tensor, dims: int) -> torch.Tensor:
    """Mean point error over 68 landmarks ÷ √(w·h) of the GT 2D box. dims=2: x,y; dims=3: x,y and centred z."""
    norm = landmark_box(gt[..., :2])
    if dims == 2:
        err = (pred[..., :2] - gt[..., :2]).norm(dim=-1)
    else:
        p = pred.clone()
        g = gt.clone()
        p[..., 2] -= p[..., 2].mean(1, keepdim=True)
        g[..., 2] -= g[..., 2].mean(1, keepdim=True)
        err = (p - g).norm(dim=-1)
    return err.mean(1) / norm


def synthetic_metrics(logits: torch.Tensor, landmarks: torch.Tensor, batch: dict, voxel: float) -> dict:
    prob = torch.sigmoid(logits.float())
    gt_lm = batch["landmarks"]
    out = {"nme2d": nme(landmarks, gt_lm, 2), "nme3d": nme(landmarks, gt_lm, 3)}
    zp = depth_from_volume(prob, voxel)
    zg = batch["zmap"]
    vis = (batch["cover"] > 0.5) & torch.isfinite(zg)
    both = vis & torch.isfinite(zp)
    err = torch.where(both, (zp - zg).abs(), torch.zeros_like(zg))
    px_per_cm = batch["px_per_cm"]
    mm = err.sum((1, 2)) / both.sum((1, 2)).clamp(min=1) / px_per_cm * 10
    out["depth_mm"] = mm
    out["coverage"] = both.sum((1, 2)) / vis.sum((1, 2)).clamp(min=1)  # how much of the visible face we hit
    from render import occupancy_target  # local import: render imports ict which needs the data

    tgt = occupancy_target(zg, batch["cover"], prob.shape[1], voxel) > 0.5
    pr = prob > 0.5
    out["iou"] = (tgt & pr).sum((1, 2, 3)) / (tgt | pr).sum((1, 2, 3)).clamp(min=1)
    return out


def by_yaw(values: dict, yaw: torch.Tensor) -> dict:
    """{metric: {'0-30': mean, '30-60': mean, '60-90': mean, 'all': mean}}"""
    res = {}
    a = yaw.abs()
    for k, v in values.items():
        row = {}
        for lo, hi in YAW_BINS:
            sel = (a >= lo) & (a <= hi) if lo == 0 else (a > lo) & (a <= hi)
            row[f"{lo}-{hi}"] = float(v[sel].mean()) if sel.any() else float("nan")
        row["all"] = float(v.mean())
        res[k] = row
    return res
