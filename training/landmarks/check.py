"""Self-checks of the landmark training code, run by test/landmarks-training.test.ts (exit 0 = all good).

1. augment(): a bright dot drawn at each of a few landmarks lands, after the random warp and flip, where the
   warped labels say (mirrored indices included).
2. fit() of pseudo.py: a face made from known parameters (ICT's 68 through the AFLW mapping), seen through 12 of the
   21 points, annotated 8° off, is re-posed within 6° of yaw and its 68 re-projected within 2% of the face's size.
3. the network maps a batch to (N, 68, 3) and the export's crop rule round-trips.
4. renders.py's labels (where ../shared has ICT): on orthographic renders the benchmark's 68 placed on the posed
   mesh are an exact affine image of the same 68 computed from the render's identity and expression through the
   linear basis (x0 + B·[w, e]): the vertex ids, the offsets' rotation and the y flip agree.
5. pack.py → data.load_packed (a device run's data): a small cache and renders file packed and read back give the
   same images within JPEG's error, the same labels within float16's, names and crop rule unchanged.
"""
import json
import math
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.append(os.path.join(here, ".."))
from data import MIRROR21, MIRROR68, augment, crop_box, load_packed, measure_rule  # noqa: E402
from model import INPUT, LandmarkNet  # noqa: E402
from pseudo import AFLW_TO_68, axis_angle_to_matrix, fit, project, yaw_of  # noqa: E402


def check_augment():
    g = torch.Generator().manual_seed(5)
    N, S = 6, 120
    imgs = np.zeros((N, S, S, 3), np.uint8)
    rng = np.random.default_rng(0)
    lm = np.zeros((N, 68, 3), np.float32)
    lm[..., :2] = rng.uniform(-0.6, 0.6, (N, 68, 2))
    picks = [0, 30, 36, 48]
    for n in range(N):
        for k in picks:
            x, y = ((lm[n, k, :2] + 1) * S / 2).astype(int)
            imgs[n, y - 2:y + 3, x - 2:x + 3] = 255
    p21 = np.zeros((N, 21, 2), np.float32)
    v21 = np.zeros((N, 21), bool)
    flip = torch.tensor([False, True] * (N // 2))
    crops, lab, _, _ = augment(imgs, lm, p21, v21, 1.0, g, INPUT, flip=flip)
    img = crops.mean(1)
    for n in range(N):
        found = 0
        for k in picks:
            c = MIRROR68[k] if flip[n] else k  # a flipped face's landmark k is the mirror's index
            x, y = (lab[n, c, :2] * INPUT).tolist()
            xi, yi = int(round(x - 0.5)), int(round(y - 0.5))
            if 2 <= xi < INPUT - 2 and 2 <= yi < INPUT - 2:
                assert img[n, yi - 1:yi + 2, xi - 1:xi + 2].max() > 0.4, f"sample {n}: no dot at landmark {k}'s label"
                found += 1
        assert found >= 2, f"sample {n}: only {found} dots inside the crop"
    assert sorted(MIRROR68) == list(range(68)) and all(MIRROR68[MIRROR68[i]] == i for i in range(68))
    assert sorted(MIRROR21) == list(range(21)) and all(MIRROR21[MIRROR21[i]] == i for i in range(21))


def check_fit():
    basis = json.load(open(os.environ.get("LANDMARK_BASIS", "training/data/landmark-basis.json")))
    K, E = basis["identityModes"], basis["expressions"]
    full = torch.tensor(basis["basis"], dtype=torch.float32).reshape(68, 3, K + E)
    lm68 = torch.cat([torch.tensor(basis["x0"], dtype=torch.float32).reshape(68, 3, 1), full[..., :20], full[..., K:]], 2)
    W = torch.zeros(21, 68)
    for j, ks in AFLW_TO_68.items():
        W[j, ks] = 1.0 / len(ks)
    p21 = torch.einsum("jk,kam->jam", W, lm68)
    yaws = [0.0, 40.0, -70.0]
    r = torch.zeros(3, 3)
    r[:, 1] = torch.deg2rad(torch.tensor(yaws))
    prm = dict(R=axis_angle_to_matrix(r), s=torch.full((3,), 4.0), t=torch.full((3, 2), 60.0),
               w=torch.zeros(3, 20), e=torch.zeros(3, E))
    truth21 = project(p21, prm)[..., :2].numpy()
    truth68 = project(lm68, prm).numpy()
    vis = np.zeros((3, 21), bool)
    vis[:, [0, 2, 3, 5, 6, 8, 9, 11, 14, 17, 19, 20]] = True
    got = fit(p21, truth21.astype(np.float32), vis, np.array(yaws, np.float32) + 8, iters=300)
    got = {k: v.detach() for k, v in got.items()}
    fy = yaw_of(got["R"]).numpy()
    # annotated 8° off: the points pull the fit most of the way back (the annotation is only a weak prior)
    assert np.all(np.abs(fy - yaws) < 6), f"fitted yaws {fy} for {yaws}"
    p68 = project(lm68, got).numpy()
    size = np.sqrt(np.ptp(truth68[..., 0], 1) * np.ptp(truth68[..., 1], 1))
    err = np.linalg.norm(p68[..., :2] - truth68[..., :2], axis=-1).mean(1) / size
    assert np.all(err < 0.02), f"re-projected 68: {err}"


def check_model_and_rule():
    m = LandmarkNet(8).eval()
    out = m(torch.rand(2, 3, INPUT, INPUT))
    assert out.shape == (2, 68, 3)
    pts = np.random.default_rng(1).uniform(20, 100, (4, 68, 3)).astype(np.float32)
    rule = measure_rule(pts)
    for p in pts:
        cx, cy, side = crop_box(p[:, :2], rule)
        assert math.isclose(side, 120, rel_tol=0.3) and abs(cx - 60) < 30 and abs(cy - 60) < 30


def check_renders(basis_path):
    import ict
    import render
    from renders import bench68

    basis = json.load(open(basis_path))
    K, E = basis["identityModes"], basis["expressions"]
    cfg = render.RenderConfig(size=96, vol_res=8, vol_depth=8, crop_scale=2.4, perspective_p=0.0, occluder_p=0.0)
    r = render.Renderer(cfg)
    pm = ict.PriorMesh.load(r.model.neutral.shape[0])
    b = r.sample(3, torch.Generator().manual_seed(3))
    got = bench68(r, pm, b, basis).double()  # (3, 68, 3) crop px
    B = torch.tensor(basis["basis"], dtype=torch.float64).reshape(68, 3, K + E)
    coef = torch.cat([b["identity"][:, :K], b["expression"]], 1).double()
    model = torch.tensor(basis["x0"], dtype=torch.float64).reshape(1, 68, 3) + torch.einsum("kam,nm->nka", B, coef)
    for n in range(3):
        X = torch.cat([model[n], torch.ones(68, 1, dtype=torch.float64)], 1)
        A = torch.linalg.lstsq(X, got[n]).solution
        res = (X @ A - got[n]).norm(dim=1).max().item()
        assert res < 0.5, f"render {n}: the benchmark 68 are {res:.2f} px off an affine image of the model's"
        d = torch.linalg.det(A[:3]).item()
        assert d < 0, f"render {n}: the crop frame's y flip is missing (det {d:.3f})"


def check_packed():
    import subprocess
    import tempfile
    rng = np.random.default_rng(3)

    def faces(n, side):
        # smooth pictures (JPEG keeps them within a few levels), each different
        g = np.mgrid[0:side, 0:side] / side
        return np.stack([np.stack([(128 + 100 * np.sin(6 * g[0] + k) * np.cos(4 * g[1] + c)).astype(np.uint8) for c in range(3)], -1) for k in range(n)])

    rule = {"dx": 0.01, "dy": -0.05, "k": 1.52}
    a_lm = rng.uniform(-1, 1, (5, 68, 3)).astype(np.float32)
    cache = dict(rule=json.dumps(rule), a_images=faces(5, 120), a_lm=a_lm, a_p21=rng.uniform(-1, 1, (5, 21, 2)).astype(np.float32),
                 a_v21=rng.uniform(size=(5, 21)) < 0.7, a_yaw=rng.uniform(-90, 90, 5), a_names=np.array([f"crop{i}.jpg" for i in range(5)]),
                 f_images=faces(3, 160), f_lm=rng.uniform(-1, 1, (3, 68, 3)).astype(np.float32), f_yaw=rng.uniform(-90, 90, 3).astype(np.float32),
                 f_names=np.array(["image00008", "image00013", "image00016"]))
    with tempfile.TemporaryDirectory() as d:
        np.savez(os.path.join(d, "cache.npz"), **cache)
        np.savez(os.path.join(d, "renders.npz"), images=faces(4, 160), lm=rng.uniform(-1, 1, (4, 68, 3)).astype(np.float32),
                 yaw=rng.uniform(-90, 90, 4).astype(np.float32), seed=np.array(77))
        r = subprocess.run([sys.executable, os.path.join(here, "pack.py"), "--cache", os.path.join(d, "cache.npz"),
                            "--renders", os.path.join(d, "renders.npz"), "--out", os.path.join(d, "packed.npz")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        A, Fd, rule2, R = load_packed(os.path.join(d, "packed.npz"))
    assert rule2 == rule, rule2
    for D, prefix in [(A, "a_"), (Fd, "f_")]:
        src = cache[prefix + "images"]
        assert D["images"].shape == src.shape and D["images"].dtype == np.uint8
        err = np.abs(D["images"].astype(int) - src).mean()
        assert err < 3, f"{prefix}: JPEG round trip off by {err:.2f} levels on average"
        assert D["lm"].dtype == np.float32 and np.abs(D["lm"] - cache[prefix + "lm"]).max() < 2e-3
        assert list(D["names"]) == list(cache[prefix + "names"])
    assert (A["v21"] == cache["a_v21"]).all() and np.abs(A["p21"] - cache["a_p21"]).max() < 2e-3
    assert R is not None and R["images"].shape == (4, 160, 160, 3) and R["seed"] == 77


if __name__ == "__main__":
    torch.manual_seed(0)
    check_augment()
    check_model_and_rule()
    check_packed()
    print("packed data ok")
    basis_path = os.environ.get("LANDMARK_BASIS", "training/data/landmark-basis.json")
    if os.path.exists(basis_path):
        check_fit()
        print("pseudo-label fit ok")
        sys.path.append(os.path.join(here, ".."))
        import ict
        if os.path.exists(os.path.join(ict.shared_dir(), "ict-face-model", "manifest.json")):
            check_renders(basis_path)
            print("render labels ok")
        else:
            print("render labels not checked: ../shared/ict-face-model is missing")
    print("landmark training checks ok")
