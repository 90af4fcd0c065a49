#!/usr/bin/env bash
# Copies what a device run needs into the git-ignored training/.carry (named in the run's `carry`):
# the ICT face model arrays, the AFLW2000-3D dev photos (evaluation only) and, when present, a checkpoint
# to fine-tune from. Nothing here is ever committed.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${VOXFACE_SHARED:-../shared}
dst=training/.carry
mkdir -p "$dst/ict-face-model" "$dst/aflw2000-3d-dev"
cp "$shared"/ict-face-model/{manifest.json,neutral.npy,identity.npy,expression.npy,faces.npy,face_material.npy,uvs.npy,face_uvs.npy} "$dst/ict-face-model/"
cp "$shared"/aflw2000-3d-dev/* "$dst/aflw2000-3d-dev/"
# weights to fine-tune from: a local run's latest, else the committed checkpoint of the shipped model
for cfg in compact paper; do
  for src in "training/runs/latest-$cfg.pt" "training/checkpoints/vrn-$cfg.pt"; do
    if [ -f "$src" ]; then cp "$src" "$dst/init-$cfg.pt"; break; fi
  done
done
du -sh "$dst"
