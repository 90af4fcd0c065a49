#!/usr/bin/env bash
# Copies what a device run needs into the git-ignored training/.carry (named in the run's `carry`):
# the ICT face model arrays, the AFLW2000-3D dev photos (evaluation only) and, when present, a checkpoint
# to fine-tune from. Nothing here is ever committed.
#   bash training/prepare-carry.sh             # the volume network (training/device.sh compact|paper)
#   bash training/prepare-carry.sh landmarks   # the landmark network (training/device.sh landmarks): only its data
#   bash training/prepare-carry.sh identity    # the shape-identity network (training/device.sh identity)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${VOXFACE_SHARED:-../shared}
dst=training/.carry
if [ "${1:-}" = landmarks ]; then
  # the carry is 64 MiB in all: the landmark data alone (pack.py, JPEG + float16) and the weights to start from
  rm -rf "$dst" && mkdir -p "$dst"
  py=${PYTHON:-/usr/bin/python3}
  [ -f training/data/landmark-data.npz ] || { echo "training/data/landmark-data.npz is missing: run training/landmarks/pseudo.py, then train.py once (it writes the cache), and renders.py (training/landmarks/README.md)" >&2; exit 2; }
  "$py" training/landmarks/pack.py --out "$dst/landmarks.npz"
  # weights to start from: the shipped model's, rebuilt from models/landmarks68.onnx (its batch norms folded, which
  # train.py then freezes), or a local checkpoint named by LANDMARKS_INIT
  if [ -n "${LANDMARKS_INIT:-}" ]; then
    "$py" -c 'import sys, torch; c = torch.load(sys.argv[1], map_location="cpu"); torch.save({"model": c["model"], "bn_folded": c.get("bn_folded", False)}, sys.argv[2])' "$LANDMARKS_INIT" "$dst/landmarks-init.pt"
  else
    "$py" training/landmarks/from_onnx.py --out "$dst/landmarks-init.pt"
  fi
  du -sh "$dst"
  exit 0
fi
if [ "${1:-}" = identity ]; then
  # the ICT arrays the renderer needs, the baked skin textures as small JPEGs (training/identity_photos.py, then the
  # CLI's OBJ textures: models/README.md "identity-shape.onnx"), the landmark backbone, and the CPU run's checkpoint
  rm -rf "$dst" && mkdir -p "$dst/ict-face-model" "$dst/identity-tex"
  py=${PYTHON:-/usr/bin/python3}
  cp "$shared"/ict-face-model/{manifest.json,neutral.npy,identity.npy,expression.npy,faces.npy,face_material.npy,uvs.npy,face_uvs.npy} "$dst/ict-face-model/"
  tex=training/data/identity/tex
  [ -d "$tex" ] || { echo "$tex is missing: bake the textures first (models/README.md, identity-shape.onnx)" >&2; exit 2; }
  "$py" -c 'import glob, os, sys
from PIL import Image
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.png"))):
    Image.open(f).convert("RGB").resize((256, 256), Image.BILINEAR).save(os.path.join(sys.argv[2], os.path.basename(f)[:-4] + ".jpg"), quality=90)' "$tex" "$dst/identity-tex"
  cp training/data/landmarks-shipped.pt "$dst/landmarks-shipped.pt" 2>/dev/null || "$py" training/landmarks/from_onnx.py --out "$dst/landmarks-shipped.pt"
  if [ -f training/runs/identity/ckpt.pt ]; then
    "$py" -c 'import sys, torch; c = torch.load(sys.argv[1], map_location="cpu"); c.pop("opt", None); torch.save(c, sys.argv[2])' training/runs/identity/ckpt.pt "$dst/identity-ckpt.pt"
  fi
  du -sh "$dst"
  exit 0
fi
mkdir -p "$dst/ict-face-model" "$dst/aflw2000-3d-dev"
cp "$shared"/ict-face-model/{manifest.json,neutral.npy,identity.npy,expression.npy,faces.npy,face_material.npy,uvs.npy,face_uvs.npy} "$dst/ict-face-model/"
cp "$shared"/aflw2000-3d-dev/* "$dst/aflw2000-3d-dev/"
# weights to fine-tune from: a local run's latest, else the committed checkpoint of the shipped model, else
# the shipped ONNX model itself (training/from_onnx.py rebuilds a trainable network from it)
py=${PYTHON:-/usr/bin/python3}
for cfg in compact paper; do
  rm -f "$dst/init-$cfg.pt"
  for src in "training/runs/latest-$cfg.pt" "training/checkpoints/vrn-$cfg.pt"; do
    if [ -f "$src" ]; then cp "$src" "$dst/init-$cfg.pt"; break; fi
  done
  if [ ! -f "$dst/init-$cfg.pt" ] && [ -f "models/vrn-$cfg.onnx" ]; then
    "$py" training/from_onnx.py "models/vrn-$cfg.onnx" "$dst/init-$cfg.pt" --config="$cfg"
  fi
done
# real-photo background patches (no faces: our own detector finds them first), used by train.py --backgrounds
if [ ! -f "$dst/backgrounds.pt" ] && [ -d "$shared/faces" ]; then
  boxes=$(mktemp -d)
  node --import tsx scripts/voxface.ts "$shared"/faces/* -o "$boxes" --format json --quiet || true
  "$py" training/backgrounds.py --photos="$shared/faces" --boxes="$boxes" --out="$dst/backgrounds.pt"
  rm -rf "$boxes"
fi
du -sh "$dst"
