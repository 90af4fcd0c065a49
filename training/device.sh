#!/usr/bin/env bash
# One device call: train on the lent GPU, export, evaluate, and put everything worth keeping under $OUT.
#   (here)    bash training/prepare-carry.sh
#   (device)  run(command="bash training/device.sh compact 7", carry=["training/.carry"], timeout_s=560)
# Set PYTHON to pick the interpreter (default python3). At most 8 files come back: keep $OUT to these.
# Arguments: config (compact|paper|landmarks|identity), minutes of training, extra train.py options...
#   identity: the shape-identity network (training/identity_train.py --live: renders made on the GPU as it trains);
#   (here)    bash training/prepare-carry.sh identity
#   (device)  run(command="bash training/device.sh identity 8", carry=["training/.carry"], timeout_s=600)
#   landmarks: the landmark network (training/landmarks/) on pack.py's data;
#   (here)    bash training/prepare-carry.sh landmarks
#   (device)  run(command="bash training/device.sh landmarks 8", carry=["training/.carry"], timeout_s=600)
#   (here)    choose landmarks68 or landmarks68-last by their held-out fit/ numbers (train.log), copy it to models/,
#             then node --import tsx scripts/tune-landmarks.ts (held-out fit/); the benchmark's evaluation folder is for reporting only
set -euo pipefail
cfg=${1:-compact}
minutes=${2:-7}
shift 2 || true
export VOXFACE_SHARED="$PWD/training/.carry"
out=${OUT:-/tmp/voxface-out}
run=/tmp/voxface-run
mkdir -p "$out" "$run"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
if [ "$cfg" = landmarks ]; then
  # a GPU step takes a larger batch: 4× the CPU batch, the learning rate scaled by √4. From the carried weights (the
  # shipped model's, prepare-carry.sh) a gentle fine-tune (session 9 on the CPU at lr 3e-4, batch 64: the held-out fit/ NME
  # rose from 3.34 to 3.76 within 200 steps and ended at 3.38 after 2 000, the start kept); without, from scratch.
  # The cosine schedule runs over --total_steps: give what the minutes hold (train.log prints the seconds per 50 steps)
  if [ -f training/.carry/landmarks-init.pt ]; then
    lopts=(--init=training/.carry/landmarks-init.pt --lr=0.0002 --warmup=200 --total_steps=8000)
  else
    lopts=(--lr=0.004 --warmup=500 --total_steps=40000)
  fi
  "${PYTHON:-python3}" training/landmarks/train.py --packed=training/.carry/landmarks.npz --out_dir="$run/landmarks" \
    --minutes="$minutes" --batch=256 --render_fraction=0.25 --eval_every=1000 --ckpt_every=1000 --threads=4 \
    "${lopts[@]}" "$@" 2>&1 | tee "$out/train.log"
  # the best held-out fit/ checkpoint and the last step, both exported (choose here, on fit/, never on eval/)
  "${PYTHON:-python3}" training/landmarks/export.py --ckpt "$run/landmarks/best.pt" --out "$out/landmarks68"
  "${PYTHON:-python3}" training/landmarks/export.py --ckpt "$run/landmarks/ckpt.pt" --out "$out/landmarks68-last"
  cp "$run/landmarks/log.txt" "$out/log.txt"
  ls -la "$out"
  exit 0
fi
if [ "$cfg" = identity ]; then
  # the shape-identity network (issue 18, models/README.md "identity-shape.onnx") on renders made on the GPU as it
  # trains (identity_train.py --live): from the carried CPU checkpoint when there is one, else from the landmark
  # backbone. Back: the ONNX model, a model-only checkpoint (to go on here) and the log; then, here, identity-embed.ts
  # and identity_stack.py as in the model card.
  iopts=(--init=training/.carry/landmarks-shipped.pt)
  if [ -f training/.carry/identity-ckpt.pt ]; then mkdir -p "$run/identity"; cp training/.carry/identity-ckpt.pt "$run/identity/ckpt.pt"; fi
  "${PYTHON:-python3}" training/identity_train.py --device=cuda --live=1 --tex=training/.carry/identity-tex --batch=256 \
    --lr=0.002 --steps=${IDENTITY_STEPS:-40000} --minutes="$minutes" --eval_every=1000 --ckpt_every=500 --threads=4 \
    --out="$run/identity" "${iopts[@]}" "$@" 2>&1 | tee "$out/train.log"
  "${PYTHON:-python3}" training/identity_train.py --out="$run/identity" --export="$out/identity-shape.onnx"
  "${PYTHON:-python3}" -c 'import sys, torch; c = torch.load(sys.argv[1], map_location="cpu"); c.pop("opt", None); torch.save(c, sys.argv[2])' \
    "$run/identity/ckpt.pt" "$out/identity-ckpt.pt"
  ls -la "$out"
  exit 0
fi
init=()
fp16=0
[ "$cfg" = paper ] && fp16=1
[ -f "training/.carry/init-$cfg.pt" ] && init=(--init="training/.carry/init-$cfg.pt")
[ -f "training/.carry/backgrounds.pt" ] && init+=(--backgrounds="training/.carry/backgrounds.pt")
"${PYTHON:-python3}" training/train.py --config="$cfg" --minutes="$minutes" --batch=64 --lr=2e-3 --val_size=512 \
  --val_every=1000 --ckpt_every=1000 --fp16_export=$fp16 --out="$run" "${init[@]}" "$@" 2>&1 | tee "$out/train.log"
cp "$run/vrn-$cfg.onnx" "$run/vrn-$cfg.json" "$run/history.json" "$run/loss.png" "$out/"
"${PYTHON:-python3}" training/evaluate.py --model="$run/vrn-$cfg.onnx" --ckpt="$run/ckpt.pt" --out="$out/metrics.json" 2>&1 | tee "$out/eval.log" || true
# the checkpoint travels back only when it fits the 16 MiB return limit
"${PYTHON:-python3}" - "$run/ckpt.pt" "$out/ckpt-$cfg.pt" <<'PY'
import sys, torch
st = torch.load(sys.argv[1], map_location="cpu")
st.pop("opt", None)
torch.save(st, sys.argv[2])
PY
ls -la "$out"
