"""Links the real photos whose faces voxface bakes into skin textures for the identity renders (issue 18).

    /usr/bin/python3 training/identity_photos.py [--out=training/data/identity/photos]

Deterministic: the first 200 photos of ../shared/aflw2000-3d/fit by name, every 85th of ../shared/aflw-21pt/images
(150), and every photo of ../shared/faces except dlib-johns (which tests identity). Never AFLW2000-3D's eval folder.
Symlinks only: nothing of ../shared is copied. The photos other than AFLW2000-3D's also go into `<out>/../real-photos`
(the identity map's real-photo statistics take `fit/` and these apart: scripts/identity-embed.ts photos).
"""
from __future__ import annotations

import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("VOXFACE_SHARED", os.path.join(HERE, "..", "..", "shared"))
out = os.path.join(HERE, "data/identity/photos")
for arg in sys.argv[1:]:
    k, _, v = arg.lstrip("-").partition("=")
    if k != "out":
        raise SystemExit(f"unknown option --{k}")
    out = v
IMG = (".jpg", ".jpeg", ".png")
os.makedirs(out, exist_ok=True)
picks: list[tuple[str, str]] = []
fit = sorted(f for f in glob.glob(os.path.join(SHARED, "aflw2000-3d/fit/*")) if f.lower().endswith(IMG))
picks += [("afw_", f) for f in fit[:200]]
a21 = sorted(f for f in glob.glob(os.path.join(SHARED, "aflw-21pt/images/*")) if f.lower().endswith(IMG))
picks += [("aflw21_", f) for f in a21[::85]]
for folder in sorted(os.listdir(os.path.join(SHARED, "faces"))):
    if folder == "dlib-johns":
        continue
    for root, _, files in os.walk(os.path.join(SHARED, "faces", folder)):
        for name in sorted(files):
            if name.lower().endswith(IMG):
                picks.append((folder + "_", os.path.join(root, name)))
real = os.path.join(os.path.dirname(os.path.abspath(out)), "real-photos")
os.makedirs(real, exist_ok=True)
for prefix, src in picks:
    for folder in [out] + ([real] if prefix != "afw_" else []):
        dst = os.path.join(folder, prefix + os.path.basename(src))
        if not os.path.lexists(dst):
            os.symlink(os.path.abspath(src), dst)
print(f"{len(picks)} photos linked in {out}")
