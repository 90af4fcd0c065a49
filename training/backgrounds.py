"""Cut background patches (no faces in them) from real photos, for `train.py --backgrounds=FILE`.

    npx voxface ../shared/faces/* -o /tmp/boxes --format json --quiet      # face boxes, by our own detector
    python3 training/backgrounds.py --photos=../shared/faces --boxes=/tmp/boxes --out=training/.carry/backgrounds.pt

Each photo gives up to `per_photo` square patches of 12–45% of its shorter side that stay clear of every
detected face box (grown by 40% on each side, so hair, ears and chins stay out too). Real clutter — walls,
clothes, shoulders, furniture, foliage — behind the rendered heads is what the procedural backgrounds lack.
The patches are stored as uint8 (N, 3, size, size); the photos themselves stay in ../shared and are never
committed (their rights are unclear): the .pt file lives in the ignored training/.carry.
"""
from __future__ import annotations

import json
import os
import random
import sys

import numpy as np
import torch

photos = "../shared/faces"
boxes = "/tmp/boxes"  # voxface JSON per photo (NAME.json), from the command above
out = "training/.carry/backgrounds.pt"
size = 64
per_photo = 12
seed = 0
for arg in sys.argv[1:]:
    k, _, v = arg.lstrip("-").partition("=")
    if k not in globals():
        raise SystemExit(f"unknown option --{k}")
    globals()[k] = type(globals()[k])(v)


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def main():
    from PIL import Image, ImageOps

    rng = random.Random(seed)
    patches, used = [], 0
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(photos) for f in fs
                   if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))
    for path in files:
        meta = os.path.join(boxes, os.path.splitext(os.path.basename(path))[0] + ".json")
        if not os.path.exists(meta):
            continue  # no detection result: we cannot know where the faces are
        faces = json.load(open(meta)).get("faces", [])
        keep_out = []
        for f in faces:
            x, y, w, h = f["box"]
            keep_out.append((x - 0.4 * w, y - 0.4 * h, x + 1.4 * w, y + 1.4 * h))
        im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        W, H = im.size
        got = 0
        for _ in range(per_photo * 20):
            if got >= per_photo:
                break
            s = int(min(W, H) * rng.uniform(0.12, 0.45))
            if s < 24:
                continue
            x0, y0 = rng.randint(0, W - s), rng.randint(0, H - s)
            if any(overlaps((x0, y0, x0 + s, y0 + s), k) for k in keep_out):
                continue
            p = im.crop((x0, y0, x0 + s, y0 + s)).resize((size, size), Image.BILINEAR)
            patches.append(torch.from_numpy(np.asarray(p).copy()).permute(2, 0, 1))
            got += 1
        used += got > 0
    if not patches:
        raise SystemExit("no patches: are the photos and the boxes folders right?")
    t = torch.stack(patches).contiguous()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.save(t, out)
    print(f"{t.shape[0]} patches of {size}×{size} from {used} of {len(files)} photos → {out} "
          f"({os.path.getsize(out) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
