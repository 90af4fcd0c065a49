"""Training data of the landmark network: real photos only.

- AFLW's 12,790 crops (../shared/aflw-21pt, 120×120, research-only terms): the manual visible points (exact
  targets, through AFLW_TO_68) and the pseudo-labels of pseudo.py (all 68 in 3D, from ICT fitted to them).
- AFLW2000-3D `fit/` (../shared/aflw2000-3d/fit, research-only terms): the 68 3D ground truth of 489 photos, cropped
  by the same rule as the crops above (CROP_RULE, measured on them). `eval/` is never read here.

Every sample is a source image holding its crop in normalised coordinates [-1, 1]² (AFLW: the crop is the whole
source; fit/: the crop is the middle 1/CONTEXT of a wider source, room for the augmentation's shifts and turns).
"""
import glob
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.io import loadmat

from pseudo import AFLW_TO_68

# iBUG 68 left/right mirror
MIRROR68 = list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30, 35, 34, 33, 32, 31] + \
    [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40] + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65]
# the 19 AFLW points that are (means of) the 68, and their matrix
AFLW_IDS = sorted(AFLW_TO_68)
W21 = torch.zeros(len(AFLW_IDS), 68)
for r, j in enumerate(AFLW_IDS):
    W21[r, AFLW_TO_68[j]] = 1.0 / len(AFLW_TO_68[j])
MIRROR21 = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 16, 15, 14, 13, 12, 19, 18, 17, 20]

CONTEXT = 1.4  # fit/ sources hold 1.4× the crop


def crop_box(points, rule):
    """Square crop (cx, cy, side) of a face from its 68 2D points (any visibility), by the rule measured on AFLW's
    crops: centre = the points' box centre + (dx, dy)·√(w·h), side = k·√(w·h)."""
    lo, hi = points.min(0), points.max(0)
    size = np.sqrt(max(hi[0] - lo[0], 1) * max(hi[1] - lo[1], 1))
    c = (lo + hi) / 2
    return c[0] + rule["dx"] * size, c[1] + rule["dy"] * size, rule["k"] * size


def measure_rule(p68):
    """The crop rule of AFLW's 120×120 crops, from their pseudo-labelled 68 points (median over the crops)."""
    lo, hi = p68[..., :2].min(1), p68[..., :2].max(1)
    size = np.sqrt((hi - lo).prod(1))
    c = (lo + hi) / 2
    return {"dx": float(np.median((60 - c[:, 0]) / size)), "dy": float(np.median((60 - c[:, 1]) / size)),
            "k": float(np.median(120 / size))}


def load_aflw(root, pseudo_file):
    d = np.load(pseudo_file)
    names = list(d["names"])
    imgs = np.stack([np.asarray(Image.open(os.path.join(root, "images", n)).convert("RGB")) for n in names])
    # labels in source-normalised coordinates: u = p / 60 − 1 (the 120 px crop is the source)
    lm = d["landmarks68"].copy()
    lm[..., :2] = lm[..., :2] / 60 - 1
    lm[..., 2] = (lm[..., 2] - lm[..., 2].mean(1, keepdims=True)) / 60
    p21 = d["points21"] / 60 - 1
    return dict(images=imgs, lm=lm.astype(np.float32), p21=p21.astype(np.float32), v21=d["visible21"],
                yaw=d["yaw"], names=names, rule=measure_rule(d["landmarks68"]), pseudo_nme=d["nme"])


def load_fit(folder, rule, size=160):
    """fit/'s photos, each cropped by the rule with CONTEXT around it and resized to `size`."""
    imgs, lms, yaws, names = [], [], [], []
    for jpg in sorted(glob.glob(os.path.join(folder, "*.jpg"))):
        mat = loadmat(jpg[:-4] + ".mat")
        pt = mat["pt3d_68"].astype(np.float64).T  # (68, 3)
        pt[:, :2] -= 0.5  # MATLAB's 1-based pixel centres → continuous (src/metrics/ground-truth.ts)
        yaw = -float(np.rad2deg(mat["Pose_Para"].ravel()[1]))  # AFLW's sign → voxface's
        cx, cy, side = crop_box(pt[:, :2], rule)
        half = side * CONTEXT / 2
        im = Image.open(jpg).convert("RGB")
        src = im.transform((size, size), Image.EXTENT, (cx - half, cy - half, cx + half, cy + half), Image.BILINEAR)
        lm = np.empty((68, 3), np.float32)
        lm[:, 0] = (pt[:, 0] - cx) / half
        lm[:, 1] = (pt[:, 1] - cy) / half
        lm[:, 2] = (pt[:, 2] - pt[:, 2].mean()) / half
        imgs.append(np.asarray(src))
        lms.append(lm)
        yaws.append(yaw)
        names.append(os.path.basename(jpg)[:-4])
    return dict(images=np.stack(imgs), lm=np.stack(lms), yaw=np.array(yaws, np.float32), names=names)


def load_packed(path):
    """The training data as pack.py packs it for a device run: (AFLW crops, fit/ sources, crop rule, renders or
    None), the images decoded from their JPEG bytes, the labels as float32 (the same dicts as load_aflw / load_fit
    and renders.py's file give)."""
    import io
    import json
    z = np.load(path, allow_pickle=False)

    def images(prefix):
        buf, off = z[prefix + "jpeg"], z[prefix + "offsets"]
        return np.stack([np.asarray(Image.open(io.BytesIO(buf[off[i]:off[i + 1]].tobytes())).convert("RGB")) for i in range(len(off) - 1)])

    def part(prefix, keys):
        d = {"images": images(prefix)}
        for k in keys:
            v = z[prefix + k]
            d[k] = v.astype(np.float32) if v.dtype == np.float16 else np.char.decode(v, "utf-8") if v.dtype.kind == "S" else v
        return d

    A = part("a_", ["lm", "p21", "v21", "yaw", "names"])
    Fd = part("f_", ["lm", "yaw", "names"])
    R = part("r_", ["lm", "yaw"]) if "r_jpeg" in z.files else None
    if R is not None:
        R["seed"] = int(z["r_seed"])
    return A, Fd, json.loads(str(z["rule"])), R


def augment(images, lm, p21, v21, crop_half, gen, out=112, strength=1.0, flip=None, device="cpu"):
    """A batch through random similarity warps (scale, roll, shift), flips and colour changes.

    images (N, H, W, 3) uint8; lm (N, 68, 3) and p21 (N, 21, 2) in source-normalised coordinates; crop_half: the
    crop's half-side in those coordinates (1 for AFLW, 1/CONTEXT for fit/). Returns the crops (N, 3, out, out) in
    [0, 1] and the labels in crop units ([0, 1], z centred), the 21 points and their visibility (flipped alike).
    """
    N = images.shape[0]
    x = torch.as_tensor(images).to(device).permute(0, 3, 1, 2).float() / 255
    u = lambda *s: torch.rand(*s, generator=gen).to(device)  # noqa: E731  (drawn on the CPU: the same stream anywhere)
    scale = crop_half * (1 + strength * 0.12 * (2 * u(N) - 1))
    theta = torch.deg2rad(strength * 30 * (2 * u(N) - 1))
    shift = strength * 0.08 * (2 * u(N, 2) - 1) * crop_half
    if flip is None:
        flip = u(N) < 0.5
    flip = flip.to(device)
    c, s = torch.cos(theta), torch.sin(theta)
    # output u ∈ [-1,1]² → source: A u + b, A = scale · R(θ) · diag(±1, 1)
    fx = torch.where(flip, -1.0, 1.0)
    A = torch.stack([torch.stack([c * fx, -s], 1), torch.stack([s * fx, c], 1)], 1) * scale[:, None, None]
    grid = F.affine_grid(torch.cat([A, shift[..., None]], 2), (N, 3, out, out), align_corners=False)
    crops = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # colour: brightness, contrast, saturation, sometimes grey
    gray = crops.mean(1, keepdim=True)
    sat = 1 + strength * 0.4 * (2 * u(N, 1, 1, 1) - 1)
    sat = torch.where(u(N, 1, 1, 1) < 0.1 * strength, torch.zeros_like(sat), sat)
    crops = gray + (crops - gray) * sat
    mean = crops.mean((1, 2, 3), keepdim=True)
    crops = mean + (crops - mean) * (1 + strength * 0.3 * (2 * u(N, 1, 1, 1) - 1))
    crops = (crops + strength * 0.12 * (2 * u(N, 1, 1, 1) - 1)).clamp(0, 1)
    # labels: u = A⁻¹ (p − b), then [0, 1]
    Ainv = torch.linalg.inv(A)
    lm = torch.as_tensor(lm).to(device)
    xy = torch.einsum("nij,npj->npi", Ainv, lm[..., :2] - shift[:, None])
    z = lm[..., 2] / scale[:, None]
    lab = torch.cat([(xy + 1) / 2, (z / 2)[..., None]], 2)
    lab[flip] = lab[flip][:, MIRROR68]
    q = torch.einsum("nij,npj->npi", Ainv, torch.as_tensor(p21).to(device) - shift[:, None])
    q = (q + 1) / 2
    v = torch.as_tensor(v21).to(device).clone()
    q[flip] = q[flip][:, MIRROR21]
    v[flip] = v[flip][:, MIRROR21]
    return crops, lab, q, v
