"""Pseudo-labels for AFLW's 21-point crops: the ICT face fitted to each crop's visible manual points.

    python3 training/landmarks/pseudo.py [--out training/data/aflw21-pseudo.npz]

Each of ../shared/aflw-21pt's 12,790 crops has up to 21 manual points (AFLW, research-only terms). A batched
fit (Adam, all crops at once) poses and shapes the ICT face to the visible ones: rotation, scale, 2D translation,
the first 20 identity modes and the 53 expressions, with priors on the shape and on the annotated yaw (AFLW's own
yaw, from a mean face fitted to the same points, so only a weak pull). The result is a full set of the benchmark's
68 3D landmarks (src/prior/landmarks68-aflw.ts, exported by export_basis.ts) per crop: the labels the landmark
network learns from, beside the manual points themselves, which stay the exact targets where they exist.

AFLW's points map to the 68 by definition (brow and eye corners, nose wings and tip, mouth corners, chin) or as
means (brow centre, eye centre, mouth centre); the ear lobes are ICT vertices chosen here on the crops themselves
(the vertex nearest the labelled lobes after a first fit without them).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ict import ICTModel, shared_dir  # noqa: E402

# AFLW 21 → weights over the 68 (iBUG order); 12 and 16 are the ear lobes (ICT vertices, chosen below)
AFLW_TO_68 = {
    0: [17], 1: [19], 2: [21], 3: [22], 4: [24], 5: [26],
    6: [36], 7: [37, 38, 40, 41], 8: [39], 9: [42], 10: [43, 44, 46, 47], 11: [45],
    13: [31], 14: [30], 15: [35], 17: [48], 18: [51, 57, 62, 66], 19: [54], 20: [8],
}
EARS = (12, 16)
ID_MODES = 20


def load_labels(root):
    labels = json.load(open(os.path.join(root, "labels.json")))
    names = sorted(labels)
    pts = np.zeros((len(names), 21, 2), np.float32)
    vis = np.zeros((len(names), 21), bool)
    yaw = np.zeros(len(names), np.float32)
    for i, n in enumerate(names):
        for j, p in enumerate(labels[n]["points21"]):
            if p is not None:
                pts[i, j] = p
                vis[i, j] = True
        yaw[i] = -labels[n]["yaw_degrees"]  # AFLW's sign → voxface's (+ = turned toward the photo's right)
    return names, pts, vis, yaw


def axis_angle_to_matrix(r):
    theta = r.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    k = r / theta
    K = torch.zeros(r.shape[0], 3, 3, dtype=r.dtype)
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    K = K - K.transpose(1, 2)
    s, c = torch.sin(theta)[..., None], torch.cos(theta)[..., None]
    return torch.eye(3).expand_as(K) + s * K + (1 - c) * (K @ K)


def yaw_of(R):
    """voxface yaw (degrees) of camera-from-model rotations: the model's +z (out of the face) seen in x."""
    return torch.rad2deg(torch.atan2(R[:, 0, 2], R[:, 2, 2]))


def fit(points_basis, pts, vis, yaw, iters=700, yaw_sigma=12.0, seed=0):
    """Batched fit. points_basis: (P, 3, 1 + M) model points as x0 + B·c. Returns params and the fitted 2D points."""
    torch.manual_seed(seed)
    N, P = pts.shape[0], points_basis.shape[0]
    M = points_basis.shape[2] - 1
    x0, B = points_basis[..., 0], points_basis[..., 1:]
    pts_t, vis_t = torch.as_tensor(pts), torch.as_tensor(vis, dtype=torch.float32)
    n = vis_t.sum(1).clamp_min(1)
    mean = (pts_t * vis_t[..., None]).sum(1) / n[:, None]
    spread = (((pts_t - mean[:, None]) ** 2).sum(-1) * vis_t).sum(1) / n
    r = torch.zeros(N, 3)
    r[:, 1] = torch.deg2rad(torch.as_tensor(yaw))
    r.requires_grad_(True)
    logs = torch.log(spread.sqrt() / 4.0).clone().requires_grad_(True)  # ~4 cm rms spread of the points on a face
    s0 = torch.exp(logs.detach())
    dt = torch.zeros(N, 2, requires_grad=True)  # translation in cm at the first scale (Adam's steps are then in cm)
    c = torch.zeros(N, M, requires_grad=True)
    opt = torch.optim.Adam([r, logs, dt, c], lr=0.03)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters)
    yaw_t = torch.as_tensor(yaw)
    for it in range(iters):
        opt.zero_grad()
        w = c[:, :ID_MODES]
        e = torch.sigmoid(c[:, ID_MODES:] - 3.0)
        coef = torch.cat([w, e], 1)
        X = x0[None] + torch.einsum("pam,nm->npa", B, coef)
        R = axis_angle_to_matrix(r)
        s = torch.exp(logs)[:, None, None]
        Pc = s * torch.einsum("nij,npj->npi", R, X)
        uv = torch.stack([Pc[..., 0], -Pc[..., 1]], -1)
        # the translation: the visible points' centroids matched, then the learnt correction
        centre = ((uv * vis_t[..., None]).sum(1) / n[:, None]).detach()
        t = mean - centre + s0[:, None] * dt
        uv = uv + t[:, None]
        res = ((uv - pts_t) ** 2).sum(-1) / s0[:, None] ** 2  # cm² at the first guess of the scale (a free scale here would shrink the residuals)
        data = (res * vis_t).sum(1)
        reg = vis_t.sum(1) * (0.06 * (w ** 2).sum(1) + 0.1 * (e ** 2).sum(1))  # per point, as src/prior/fit.ts
        dyaw = (yaw_of(R) - yaw_t) / yaw_sigma
        loss = (data + reg + dyaw ** 2).sum() / N
        loss.backward()
        opt.step()
        sched.step()
        if it % 100 == 0 or it == iters - 1:
            rms = torch.sqrt((res * vis_t).sum() / vis_t.sum()).item()
            print(f"  iter {it}: loss {loss.item():.3f}, rms {rms:.3f} cm", flush=True)
    with torch.no_grad():
        w = c[:, :ID_MODES]
        e = torch.sigmoid(c[:, ID_MODES:] - 3.0)
        R = axis_angle_to_matrix(r)
        return dict(R=R, s=torch.exp(logs), t=t.detach(), w=w, e=e)  # t of the last step


def project(points_basis, prm):
    x0, B = points_basis[..., 0], points_basis[..., 1:]
    coef = torch.cat([prm["w"], prm["e"]], 1)
    X = x0[None] + torch.einsum("pam,nm->npa", B, coef)
    Pc = prm["s"][:, None, None] * torch.einsum("nij,npj->npi", prm["R"], X)
    return torch.stack([Pc[..., 0] + prm["t"][:, None, 0], -Pc[..., 1] + prm["t"][:, None, 1], Pc[..., 2]], -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(shared_dir(), "aflw-21pt"))
    ap.add_argument("--basis", default="training/data/landmark-basis.json")
    ap.add_argument("--out", default="training/data/aflw21-pseudo.npz")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    names, pts, vis, yaw = load_labels(a.root)
    if a.limit:
        names, pts, vis, yaw = names[: a.limit], pts[: a.limit], vis[: a.limit], yaw[: a.limit]
    lb = json.load(open(a.basis))
    K, E = lb["identityModes"], lb["expressions"]
    full = torch.tensor(lb["basis"], dtype=torch.float32).reshape(68, 3, K + E)
    lm68 = torch.cat([torch.tensor(lb["x0"], dtype=torch.float32).reshape(68, 3, 1), full[..., :ID_MODES], full[..., K:]], 2)
    W = torch.zeros(21, 68)
    for j, ks in AFLW_TO_68.items():
        W[j, ks] = 1.0 / len(ks)
    pts21 = torch.einsum("jk,kam->jam", W, lm68)
    # first fit without the ear lobes
    vis0 = vis.copy()
    vis0[:, list(EARS)] = False
    print(f"fit 1: {len(names)} crops, no ear lobes", flush=True)
    prm = fit(pts21, pts, vis0, yaw)
    # ear lobes: the ICT vertex nearest the labelled lobes, by median distance over the crops that show them
    ict = ICTModel.load()
    V = ict.neutral.shape[0]
    idb = ict.identity.reshape(100, V, 3)[:ID_MODES].permute(1, 2, 0)
    exb = ict.expression.reshape(-1, V, 3).permute(1, 2, 0)
    cand = torch.arange(0, 11248)
    cand = cand[(ict.neutral[cand, 1] < 0) & (ict.neutral[cand, 2] < 2) & (ict.neutral[cand, 0].abs() > 6)]  # low, back, sides
    ear_vertex = []
    for j in EARS:
        rows = np.nonzero(vis[:, j])[0][:3000]
        sub = {k: v[rows] for k, v in prm.items()}
        best, best_err = -1, math.inf
        for chunk in torch.split(cand, 256):
            pb = torch.cat([ict.neutral[chunk][..., None], idb[chunk], exb[chunk]], 2)
            uv = project(pb, sub)[..., :2]  # (n, chunk, 2)
            d = (uv - torch.as_tensor(pts[rows, j])[:, None]).norm(dim=-1) / sub["s"][:, None]
            med = d.median(0).values
            k = int(med.argmin())
            if med[k] < best_err:
                best, best_err = int(chunk[k]), float(med[k])
        print(f"ear lobe {j}: ICT vertex {best}, median {best_err:.2f} cm", flush=True)
        ear_vertex.append(best)
    ears = torch.stack([torch.cat([ict.neutral[v][:, None], idb[v], exb[v]], 1) for v in ear_vertex])
    pts21[list(EARS)] = ears
    print("fit 2: all points", flush=True)
    prm = fit(pts21, pts, vis, yaw)
    prm = {k: v.detach() for k, v in prm.items()}
    p68 = project(lm68, prm).numpy()
    p21 = project(pts21, prm).numpy()
    err = np.linalg.norm(p21[..., :2] - pts, axis=-1)
    box = np.sqrt(np.ptp(p68[..., 0], 1) * np.ptp(p68[..., 1], 1))
    nme = (err * vis).sum(1) / np.maximum(vis.sum(1), 1) / box
    fy = yaw_of(prm["R"]).numpy()
    print(f"fitted manual points: NME {100 * nme.mean():.2f}% (median {100 * np.median(nme):.2f}%) of the 68 box", flush=True)
    for lo, hi in [(0, 30), (30, 60), (60, 90), (90, 181)]:
        m = (np.abs(yaw) >= lo) & (np.abs(yaw) < hi)
        print(f"  |yaw| {lo}-{hi}: {m.sum()} crops, NME {100 * nme[m].mean():.2f}%, |fitted − annotated yaw| {np.abs(fy[m] - yaw[m]).mean():.1f}°")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    np.savez_compressed(a.out, names=np.array(names), landmarks68=p68.astype(np.float32), points21=pts, visible21=vis,
                        yaw=yaw, fitted_yaw=fy, rotation=prm["R"].numpy(), scale=prm["s"].numpy(), nme=nme,
                        ear_vertex=np.array(ear_vertex), points21_fitted=p21.astype(np.float32))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
