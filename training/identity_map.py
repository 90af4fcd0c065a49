"""The identity map (issue 18, models/README.md "Identity map"): dlib face-recognition embedding (128-d) → the first
60 ICT identity weights, trained on renders, aligned to real photos, written as models/identity-map.json.

    # renders (training/identity_data.py) and their embeddings; real photos' embeddings (scripts/identity-embed.ts)
    node --import tsx scripts/identity-embed.ts renders training/data/identity/train training/data/identity/test
    node --import tsx scripts/identity-embed.ts photos training/data/identity/real-afw ../shared/aflw2000-3d/fit
    node --import tsx scripts/identity-embed.ts photos training/data/identity/real-misc training/data/identity/real-photos
    /usr/bin/python3 training/identity_map.py --train=training/data/identity/train,training/data/identity/train2 --test=training/data/identity/test \\
        --real=training/data/identity/real-afw,training/data/identity/real-misc --out=models/identity-map.json

1. Ridge on the renders' embeddings (`--train` a comma list of render sets) (standardised by the renders' mean and spread), λ chosen on the held-out renders
   (other seed, other textures) by the identity-only vertex error over the front of the face (mm, mean face = 0).
2. Domain alignment, CORAL with shrinkage: a real photo's embedding x becomes
   μ_r + C_r^½ C_p^−½ (x − μ_p), C = (1 − α) C + α diag(C), μ/C of the renders (r) and of real photos (p).
3. Spread: the regressed identities of real photos are scaled by one factor so that their median norm equals the
   held-out renders' (the map may not extrapolate past what it gave on renders).
All three are linear, so the file holds one affine map y = b + M x of the raw embedding, as real photos need it.
`--alpha`, `--lams`, `--modes`, `--crop-scale` (must match the embeddings'), `--identity-prior` (λ_id of the fit).
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402

FRONT = 6706  # ICT's narrow_face vertices


def args(argv):
    out = {}
    for a in argv:
        k, _, v = a.lstrip("-").partition("=")
        out[k] = v
    return out


def load_renders(p, modes):
    X = np.fromfile(p + ".dlib.f32", np.float32).reshape(-1, 128).astype(np.float64)
    Y = np.fromfile(p + ".id.f32", np.float32).reshape(len(X), -1)[:, :modes].astype(np.float64)
    pose = np.fromfile(p + ".pose.f32", np.float32).reshape(len(X), 3)
    tex = np.fromfile(p + ".tex.i32", np.int32) if os.path.exists(p + ".tex.i32") else np.full(len(X), -1)
    return X, Y, pose, tex


def front_modes(m, modes):
    """ICT's first `modes` identity modes over the front of the face (narrow_face), (modes, FRONT · 3), cm."""
    V = m.neutral.shape[0]
    return m.identity[:modes].view(modes, V, 3)[:, :FRONT].reshape(modes, -1).numpy().astype(np.float64)


def front_error(P, T, U):
    """Identity-only mean vertex distance over the front of the face, mm, per row of P against T (identity weights)."""
    d = (P - T) @ U
    return 10 * np.sqrt((d.reshape(len(d), -1, 3) ** 2).sum(-1)).mean(1)


def by_yaw(e, yaw):
    """Means of e by |yaw| 0–30 / 30–60 / 60–90°, as text."""
    ay = np.abs(yaw)
    return " / ".join(f"{e[(ay >= lo) & (ay < hi)].mean():.2f}" for lo, hi in ((0, 30), (30, 60), (60, 91)))


def write_map(out, path):
    if path:
        with open(path, "w") as f:
            json.dump(out, f)
        print(f"→ {path}")


def sqrtm(C, inv=False):
    w, V = np.linalg.eigh(C)
    w = np.clip(w, 1e-9, None)
    return (V * (w ** (-0.5 if inv else 0.5))) @ V.T


def shrink(C, alpha):
    return (1 - alpha) * C + alpha * np.diag(np.diag(C))


def main(a):
    modes = int(a.get("modes", 60))
    parts = [load_renders(p, modes) for p in a["train"].split(",")]
    X, Y, pose = (np.concatenate([q[i] for q in parts]) for i in range(3))
    Xt, Yt, pose_t, tex_t = load_renders(a["test"], modes)
    R = np.concatenate([np.fromfile(p + ".dlib.f32", np.float32).reshape(-1, 128) for p in a["real"].split(",")]).astype(np.float64)
    U = front_modes(ict.ICTModel.load(), modes)
    err_each = lambda P, T: front_error(P, T, U)  # noqa: E731
    bins = by_yaw

    mu, sd = X.mean(0), X.std(0) + 1e-6
    A, T = (X - mu) / sd, (Xt - mu) / sd
    ym = Y.mean(0)
    e0 = err_each(np.zeros_like(Yt), Yt)
    print(f"{len(X)} train renders, {len(Xt)} test renders ({(tex_t >= 0).sum()} with real textures unseen in training), {len(R)} real photos")
    print(f"mean face: {e0.mean():.3f} mm (by |yaw| 0–30/30–60/60–90: {bins(e0, pose_t[:, 0])})")
    best = None
    for lam in [float(x) for x in a.get("lams", "10,30,100,300,1000,3000").split(",")]:
        W = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ (Y - ym))
        P = T @ W + ym
        r2 = 1 - ((P - Yt) ** 2).sum(0) / ((Yt - Yt.mean(0)) ** 2).sum(0)
        e = err_each(P, Yt)
        print(f"λ {lam:>6g}: R² modes 0–4 {np.round(r2[:5], 2)}, mean {r2.mean():.3f}; {e.mean():.3f} mm ({bins(e, pose_t[:, 0])})")
        if best is None or e.mean() < best[0]:
            best = (e.mean(), lam, W)
    _, lam, W = best
    # the map on the renders' raw embeddings
    M_r = W.T / sd[None, :]
    b_r = ym - M_r @ mu
    P_test = Xt @ M_r.T + b_r
    e_tex = err_each(P_test, Yt)
    print(f"λ {lam:g}: held-out renders with real textures {e_tex[tex_t >= 0].mean():.3f} mm, procedural {e_tex[tex_t < 0].mean():.3f} mm")

    # domain alignment of real photos' embeddings to the renders'
    alpha = float(a.get("alpha", 0.3))
    mu_p = R.mean(0)
    C_r, C_p = shrink(np.cov(X.T), alpha), shrink(np.cov(R.T), alpha)
    G = sqrtm(C_r) @ sqrtm(C_p, inv=True)  # x' = mu + G (x − mu_p)
    gap = np.linalg.norm(mu_p - mu) / np.sqrt(np.trace(np.cov(X.T)))
    print(f"domain gap: |μ_p − μ_r| = {gap:.2f} × the renders' RMS spread; traces C_p/C_r = {np.trace(np.cov(R.T)) / np.trace(np.cov(X.T)):.2f}")
    norm = lambda P: np.linalg.norm(P, axis=1)  # noqa: E731
    raw = R @ M_r.T + b_r
    M_a = M_r @ G
    b_a = b_r + M_r @ (mu - G @ mu_p)
    aligned = R @ M_a.T + b_a
    n_ren = np.median(norm(P_test))
    print(f"identity norm, median: renders (held out) {n_ren:.2f}, true {np.median(norm(Yt)):.2f}; real photos: raw map {np.median(norm(raw)):.2f}, CORAL {np.median(norm(aligned)):.2f}")
    s = n_ren / np.median(norm(aligned - ym)) if a.get("match", "1") == "1" else 1.0
    # scale about the renders' mean identity (ym ≈ 0)
    M = s * M_a
    b = ym + s * (b_a - ym)
    final = R @ M.T + b
    print(f"spread matched ×{s:.3f}: real photos' median norm {np.median(norm(final)):.2f} (renders {n_ren:.2f}; ratio {np.median(norm(final)) / n_ren:.2f})")
    # the shipped map on renders (what the synthetic benchmark sees)
    P_ship = Xt @ M.T + b
    e_ship = err_each(P_ship, Yt)
    print(f"shipped map on held-out renders: {e_ship.mean():.3f} mm ({bins(e_ship, pose_t[:, 0])}); norm {np.median(norm(P_ship)):.2f}")
    out = {
        "embedding": 128, "modes": modes, "M": [round(float(v), 7) for v in M.ravel()], "b": [round(float(v), 7) for v in b],
        "cropScale": float(a.get("crop-scale", 1.25)), "identityPrior": float(a.get("identity-prior", 0.06)),
        "training": {"lambda": lam, "alpha": alpha, "spread": s, "train": len(X), "real": len(R),
                     "test_mm": round(float(e_tex.mean()), 3), "shipped_test_mm": round(float(e_ship.mean()), 3),
                     "mean_face_mm": round(float(e0.mean()), 3)},
    }
    write_map(out, a.get("out"))


if __name__ == "__main__":
    main(args(sys.argv[1:]))
