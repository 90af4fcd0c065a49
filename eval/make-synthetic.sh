#!/bin/sh
# Renders the synthetic large-pose benchmark (120 photos of random ICT faces, yaw spread evenly over ±90°,
# fixed seed: the same set every time) into bench-data/synthetic (git-ignored), then evaluates the full
# pipeline on it exactly as on AFLW2000-3D.
#
#   sh eval/make-synthetic.sh                 # render (once) + evaluate → report/synthetic/
#   sh eval/make-synthetic.sh --limit 24      # extra arguments go to npm run eval
#
# Needs /usr/bin/python3 with numpy, torch and PIL, and ../shared/ict-face-model (or VOXFACE_SHARED).
set -eu
cd "$(dirname "$0")/.."
DIR=bench-data/synthetic
if [ ! -f "$DIR/ground_truth.json" ]; then
  /usr/bin/python3 training/benchmark.py --out="$DIR" --n=120 --seed=2024
fi
exec node --import tsx eval/eval.ts "$DIR" --out report/synthetic "$@"
