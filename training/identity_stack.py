"""The identity map with the shape-identity network (issue 18): dlib's map as it is, plus a ridge map from the network's
outputs to what dlib's map leaves (the residual identity), trained on renders the network never saw.

    /usr/bin/python3 training/identity_stack.py --base=<dlib map json> --train=training/data/identity/stack23 \\
        --test=training/data/identity/test99 --real=training/data/identity/real-afw,training/data/identity/real-misc \\
        --out=models/identity-map.json

y = b_d + M_d x_dlib  (the base: training/identity_map.py's map, its real-photo alignment folded in)
  + g (b_s + M_s x_shape)  (ridge on the renders' standardised network outputs, λ chosen on the held-out renders)

The output is the base map with a `shape` block holding this map (M of modes × (128 + 60)): the pipeline's
`identity: 'shape'` option (src/identity/index.ts); the base map stays what `identity: 'on'` uses.

dlib's part keeps its weight, so photos of one person stay as near as dlib's map puts them (dlib-johns); the
network's part adds the shape dlib's embedding does not hold. No domain alignment on the network's part: its outputs
on real photos already spread like the renders' (printed). `--gain` g (default 1). The sets are training/identity_data.py
renders with `.dlib.f32` and `.shape.f32` from scripts/identity-embed.ts; real photos' from its `photos` and `crops` modes.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402
from identity_map import args, by_yaw, front_error, front_modes, write_map  # noqa: E402


def load(p, modes, labelled=True):
    xd = np.fromfile(p + ".dlib.f32", np.float32).reshape(-1, 128).astype(np.float64)
    xs = np.fromfile(p + ".shape.f32", np.float32).reshape(len(xd), -1).astype(np.float64)
    if not labelled:
        return xd, xs
    y = np.fromfile(p + ".id.f32", np.float32).reshape(len(xd), -1)[:, :modes].astype(np.float64)
    yaw = np.fromfile(p + ".pose.f32", np.float32).reshape(len(xd), 3)[:, 0]
    return xd, xs, y, yaw


def main(a):
    base = json.load(open(a["base"]))
    modes = base["modes"]
    Md, bd = np.array(base["M"]).reshape(modes, -1), np.array(base["b"])
    parts = [load(p, modes) for p in a["train"].split(",")]
    Xd, Xs, Y, _ = (np.concatenate([q[i] for q in parts]) for i in range(4))
    Td, Ts, Yt, yaw_t = load(a["test"], modes)
    reals = [load(p, modes, False) for p in a["real"].split(",")]
    Rd, Rs = (np.concatenate([q[i] for q in reals]) for i in range(2))
    U = front_modes(ict.ICTModel.load(), modes)
    err = lambda P, T: front_error(P, T, U)  # noqa: E731
    bins = lambda e: by_yaw(e, yaw_t)  # noqa: E731

    norm = lambda P: np.median(np.linalg.norm(P, axis=1))  # noqa: E731
    base_tr, base_te, base_re = Xd @ Md.T + bd, Td @ Md.T + bd, Rd @ Md.T + bd
    e0, eb = err(np.zeros_like(Yt), Yt), err(base_te, Yt)
    print(f"{len(Y)} renders to fit, {len(Yt)} held out, {len(Rd)} real photos")
    print(f"mean face {e0.mean():.3f} mm ({bins(e0)}); dlib's map {eb.mean():.3f} ({bins(eb)})")
    mu, sd = Xs.mean(0), Xs.std(0) + 1e-6
    A, T = (Xs - mu) / sd, (Ts - mu) / sd
    res = Y - base_tr
    rm = res.mean(0)
    best = None
    for lam in [float(x) for x in a.get("lams", "10,30,100,300,1000").split(",")]:
        W = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ (res - rm))
        e = err(base_te + T @ W + rm, Yt)
        print(f"λ {lam:>6g}: {e.mean():.3f} mm ({bins(e)})")
        if best is None or e.mean() < best[0]:
            best = (e.mean(), lam, W)
    _, lam, W = best
    g = float(a.get("gain", 1))
    Ms = g * W.T / sd[None, :]
    bs = g * (rm - (W.T / sd[None, :]) @ mu)
    P_te = base_te + Ts @ Ms.T + bs
    P_re = base_re + Rs @ Ms.T + bs
    e = err(P_te, Yt)
    print(f"λ {lam:g}, gain {g:g}: held-out renders {e.mean():.3f} mm ({bins(e)})")
    print(f"identity norm, median: held-out renders {norm(P_te):.2f} (dlib's map {norm(base_te):.2f}); real photos "
          f"{norm(P_re):.2f} (dlib's map {norm(base_re):.2f}); ratio real ÷ renders {norm(P_re) / norm(P_te):.2f}")
    shape_te, shape_re = Ts @ Ms.T + bs, Rs @ Ms.T + bs
    print(f"the network's part alone, median norm: renders {norm(shape_te):.2f}, real photos {norm(shape_re):.2f}")
    M = np.concatenate([Md, Ms], 1)
    out = {k: v for k, v in base.items() if k != "shape"}
    out["shape"] = {"size": int(a.get("shape-size", 112)), "cropScale": float(a.get("shape-crop-scale", 1.25)), "outputs": Ms.shape[1],
                    "M": [round(float(v), 7) for v in M.ravel()], "b": [round(float(v), 7) for v in bd + bs],
                    "training": {"lambda": lam, "gain": g, "train": len(Y), "real": len(Rd),
                                 "test_mm": round(float(e.mean()), 3), "base_test_mm": round(float(eb.mean()), 3)}}
    write_map(out, a.get("out"))


if __name__ == "__main__":
    main(args(sys.argv[1:]))
