"""Train the voxface VRN on synthetic ICT faces rendered on the fly.

    python3 training/train.py --config=compact --minutes=8 --out=training/runs/compact
    python3 training/train.py --config=tiny --steps=5 --batch=2 --out=/tmp/smoke      # smoke test
    python3 training/train.py --config=compact-guided --init=training/checkpoints/vrn-compact.pt --minutes=90 \
        --out=training/runs/guided                                                     # the guided network

Every value in the block below can be overridden as --name=value. Training stops at `steps` or after
`minutes` of wall time, whichever comes first; the learning rate follows a cosine over that budget.
Checkpoints (`ckpt.pt`) are resumable (--resume=1); the run folder also gets history.json,
loss.png, and, at the end, the ONNX export and the synthetic validation metrics.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import render  # noqa: E402
from metrics import by_yaw, synthetic_metrics  # noqa: E402

# ----------------------------------------------------------------------------- config
config = "compact"  # a key of model.CONFIGS
out = "training/runs/compact"
steps = 100000
minutes = 8.0
batch = 32
lr = 2e-3
weight_decay = 1e-4
warmup = 200
lm_weight = 0.5  # landmark loss weight (L1 in units of the crop size)
stack_weight = 0.5  # weight of the intermediate hourglass outputs
val_size = 256  # fixed held-out synthetic set (seed below, never trained on)
val_seed = 1234567
val_every = 500
ckpt_every = 500
log_every = 25
seed = 1
resume = 0
init = ""  # a checkpoint to fine-tune from (weights only)
threads = 0  # CPU threads (0: torch default)
export = 1  # export ONNX at the end
fp16_export = 0  # store the exported weights as float16 (half the file; needed for the paper config's 16 MiB limit)
backgrounds = ""  # optional .pt tensor (N,3,h,w) of background patches
reuse = 1  # train on each rendered batch this many times (2: the batch, then its mirror image) — for slow CPUs
workers = 0  # CPU only: render the next batches in this many background processes while the model trains
# ----------------------------------------------------------------------------- overrides
for arg in sys.argv[1:]:
    k, _, v = arg.lstrip("-").partition("=")
    if k not in globals():
        raise SystemExit(f"unknown option --{k}")
    old = globals()[k]
    globals()[k] = type(old)(v) if not isinstance(old, str) else v
cfgd = {k: globals()[k] for k in ["config", "steps", "minutes", "batch", "lr", "weight_decay", "warmup", "lm_weight",
                                   "stack_weight", "val_size", "val_seed", "seed", "init", "reuse"]}


def main():
    if threads:
        torch.set_num_threads(threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(out, exist_ok=True)
    ncfg = M.CONFIGS[config]
    rcfg = render.RenderConfig(size=ncfg.size, vol_res=ncfg.vol_res, vol_depth=ncfg.vol_depth, guide=ncfg.guided)
    bgs = torch.load(backgrounds) if backgrounds else None
    if bgs is not None and bgs.dtype == torch.uint8:  # training/backgrounds.py stores uint8
        bgs = bgs.float() / 255
    data = render.Renderer(rcfg, device=dev, backgrounds=bgs)
    voxel = ncfg.size / ncfg.vol_res
    torch.manual_seed(seed)  # the initial weights
    net = M.VRN(ncfg).to(dev)
    print(f"config {config}: {M.count_params(net) / 1e6:.2f} M parameters, device {dev}", flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    step, elapsed, history = 0, 0.0, {"train": [], "val": []}
    ck = os.path.join(out, "ckpt.pt")
    if resume and os.path.exists(ck):
        st = torch.load(ck, map_location=dev)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, elapsed, history = st["step"], st["elapsed"], st["history"]
        print(f"resumed at step {step}", flush=True)
    elif init:
        st = torch.load(init, map_location=dev)
        weights = st["model"]
        if ncfg.guided:
            weights = guided_init(net, weights)
        missing = net.load_state_dict(weights, strict=False)
        print(f"initialised from {init}: {missing}", flush=True)

    # fixed validation set
    vg = torch.Generator().manual_seed(val_seed)
    val = [data.sample(min(32, val_size - i), vg) for i in range(0, val_size, 32)]

    # background rendering (CPU): the same batches in the same order as rendering them inline
    batches = None
    if workers > 0 and dev.type == "cpu":
        loader = torch.utils.data.DataLoader(_Batches(data, step, reuse, steps), batch_size=None,
                                             num_workers=workers, prefetch_factor=2, persistent_workers=False)
        batches = iter(loader)

    amp = dev.type == "cuda"
    budget = minutes * 60
    t_start = time.time() - elapsed

    def lr_at(frac: float, s: int) -> float:
        w = min(1.0, (s + 1) / warmup)
        return lr * w * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))

    def save():
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": time.time() - t_start, "history": history, "config": cfgd,
                    "net": ncfg.__dict__}, ck + ".tmp")
        os.replace(ck + ".tmp", ck)

    t_data = t_model = 0.0
    b = None
    while step < steps and time.time() - t_start < budget:
        frac = max(step / steps, (time.time() - t_start) / budget)
        for g in opt.param_groups:
            g["lr"] = lr_at(frac, step)
        t0 = time.time()
        if reuse > 1 and step % reuse and b is not None:
            b = render.flip_batch(b, ncfg.size) if step % reuse == 1 else b
        elif batches is not None:
            s, b = next(batches)
            assert s == step, (s, step)
        else:
            b = _render(data, step)
        t1 = time.time()
        net.train()
        with autocast(amp):
            outs = net(b["image"], b.get("prior"), all_stacks=True)
        target = render.occupancy_target(b["zmap"], b["cover"], ncfg.vol_depth, voxel)
        loss_v = loss_l = 0.0
        for i, (vol, lm) in enumerate(outs):
            w = 1.0 if i == len(outs) - 1 else stack_weight
            loss_v = loss_v + w * F.binary_cross_entropy_with_logits(vol.float(), target)
            loss_l = loss_l + w * (lm.float() - b["landmarks"]).abs().mean() / ncfg.size
        loss = loss_v + lm_weight * loss_l
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        t2 = time.time()
        t_data += t1 - t0
        t_model += t2 - t1
        step += 1
        if step % log_every == 0 or step == 1:
            history["train"].append({"step": step, "time": time.time() - t_start, "loss": float(loss),
                                     "vol": float(loss_v), "lm": float(loss_l)})
            print(f"step {step} loss {float(loss):.4f} (vol {float(loss_v):.4f} lm {float(loss_l):.4f}) "
                  f"lr {opt.param_groups[0]['lr']:.2e} data {t_data / step:.3f}s model {t_model / step:.3f}s "
                  f"t {time.time() - t_start:.0f}s", flush=True)
        if step % val_every == 0:
            history["val"].append({"step": step, **validate(net, val, voxel, amp)})
            print("val", json.dumps(history["val"][-1]), flush=True)
        if step % ckpt_every == 0:
            save()
    del batches  # stops the rendering workers
    history["val"].append({"step": step, **validate(net, val, voxel, amp)})
    print("final val", json.dumps(history["val"][-1]), flush=True)
    save()
    json.dump(history, open(os.path.join(out, "history.json"), "w"), indent=1)
    try:
        from plot import loss_plot

        loss_plot(history, os.path.join(out, "loss.png"))
    except Exception as e:  # a plot must never lose a trained model
        print("plot failed:", e)
    if export:
        from export import export_onnx

        export_onnx(net.float().eval(), ncfg, os.path.join(out, f"vrn-{config}.onnx"), f"vrn-{config}",
                    fp16=bool(fp16_export))


class _Batches(torch.utils.data.IterableDataset):
    """Rendered batches for the steps that render one (the start step, then every multiple of `reuse` up to
    `stop`), each by `_render` as inline rendering. With n workers, worker k renders every n-th of them;
    the DataLoader hands them back in order."""

    def __init__(self, data, start: int, reuse: int, stop: int):
        first = -(-start // reuse) * reuse
        self.steps = ([start] if start != first else []) + list(range(first, stop, reuse))
        self.data = data

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        k, n = (info.id, info.num_workers) if info else (0, 1)
        for s in self.steps[k::n]:
            yield s, _render(self.data, s)


def _render(data, step: int) -> dict:
    """The batch rendered for `step` (its own seed: the same batch inline, in a worker, or after a resume)."""
    return data.sample(batch, torch.Generator().manual_seed(seed * 1_000_003 + step))


def guided_init(net, weights: dict) -> dict:
    """An image-only network's weights for a guided one: the stem's two new input channels (prior depth, mask) start
    at zero and the volume head's last layer stays at the guided network's zero (the residual); the rest is copied."""
    own = net.state_dict()
    out = {}
    for k, v in weights.items():
        if k not in own:
            continue
        if k == "stem.0.weight" and v.shape[1] == 3 and own[k].shape[1] == 5:
            w = torch.zeros_like(own[k])
            w[:, :3] = v
            v = w
        if k.startswith("volume.out."):
            continue
        if v.shape == own[k].shape:
            out[k] = v
    return out


def autocast(enabled: bool):
    """bf16 autocast on CUDA; nothing on CPU (torch 1.13's CPU autocast is slow and lacks some ops)."""
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


@torch.no_grad()
def validate(net, val, voxel, amp) -> dict:
    net.eval()
    vals, yaws = {}, []
    for b in val:
        with autocast(amp):
            vol, lm = net(b["image"], b.get("prior"))
        m = synthetic_metrics(vol.float(), lm.float(), b, voxel)
        for k, v in m.items():
            vals.setdefault(k, []).append(v.cpu())
        yaws.append(b["pose"][:, 0].cpu())
    vals = {k: torch.cat(v) for k, v in vals.items()}
    res = by_yaw(vals, torch.cat(yaws))
    return {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in res.items()}


if __name__ == "__main__":
    main()
