"""Packs the landmark network's training data into one file small enough for a device run's carry (64 MiB in all):
the AFLW crops, `fit/`'s cropped sources and the renders as JPEG bytes, their labels as float16.

    /usr/bin/python3 training/landmarks/pack.py [--cache training/data/landmark-data.npz]
        [--renders training/data/landmark-renders.npz] [--out training/.carry/landmarks.npz] [--quality 70]
        [--render-quality 70] [--max-renders 3000]

Reads train.py's cache (built from ../shared by train.py or data.py; AFLW and AFLW2000-3D `fit/`, research-only
terms, never `eval/`) and renders.py's file. The output is git-ignored and never committed; train.py reads it with
`--packed=<file>` (data.load_packed), as training/device.sh does on the device. Prints the sizes and what the JPEG
re-encoding costs (mean absolute pixel error).
"""
import argparse
import io
import json
import os

import numpy as np
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument("--cache", default="training/data/landmark-data.npz")
ap.add_argument("--renders", default="training/data/landmark-renders.npz")
ap.add_argument("--out", default="training/.carry/landmarks.npz")
ap.add_argument("--quality", type=int, default=70)
ap.add_argument("--render-quality", type=int, default=70)
ap.add_argument("--max-renders", type=int, default=3000)
a = ap.parse_args()


def jpegs(images, quality):
    """(N, H, W, 3) uint8 → concatenated JPEG bytes, offsets (N + 1), mean absolute error of the round trip."""
    parts, offsets, err = [], [0], 0.0
    for im in images:
        b = io.BytesIO()
        Image.fromarray(im).save(b, "JPEG", quality=quality, optimize=True)
        data = b.getvalue()
        parts.append(np.frombuffer(data, np.uint8))
        offsets.append(offsets[-1] + len(data))
        back = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.int16)
        err += np.abs(back - im).mean() / len(images)
    return np.concatenate(parts), np.array(offsets, np.int64), err


z = np.load(a.cache, allow_pickle=True)
out = {"rule": np.array(str(z["rule"]))}
for prefix, keys in [("a_", ["lm", "p21", "v21", "yaw", "names"]), ("f_", ["lm", "yaw", "names"])]:
    buf, off, err = jpegs(z[prefix + "images"], a.quality)
    out[prefix + "jpeg"], out[prefix + "offsets"] = buf, off
    for k in keys:
        v = z[prefix + k]
        out[prefix + k] = v.astype(np.float16) if v.dtype in (np.float32, np.float64) else np.char.encode(v.astype(str), "utf-8") if k == "names" else v
    print(f"{prefix[0]}: {len(off) - 1} images {z[prefix + 'images'].shape[1:]}, {buf.nbytes / 2**20:.1f} MiB of JPEG, mean abs error {err:.2f}/255")
if a.renders and os.path.exists(a.renders):
    r = np.load(a.renders)
    k = min(a.max_renders, len(r["images"]))
    buf, off, err = jpegs(r["images"][:k], a.render_quality)
    out.update(r_jpeg=buf, r_offsets=off, r_lm=r["lm"][:k].astype(np.float16), r_yaw=r["yaw"][:k].astype(np.float16), r_seed=np.array(int(r["seed"])))
    print(f"r: {len(off) - 1} renders {r['images'].shape[1:]}, {buf.nbytes / 2**20:.1f} MiB of JPEG, mean abs error {err:.2f}/255")
os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
np.savez(a.out, **out)
print(f"wrote {a.out}: {os.path.getsize(a.out) / 2**20:.1f} MiB; rule {json.loads(str(z['rule']))}")
