"""Trains the shape-identity network (training/identity_model.py) on renders of random ICT identities (issue 18).

    /usr/bin/python3 training/identity_train.py --train=training/data/identity/proc21,training/data/identity/tex22 \\
        --test=training/data/identity/test99 --out=training/runs/identity --steps=6000 --threads=1

Renders come from training/identity_data.py (`<set>.u8` images, `.lm.f32` 68 landmarks in render pixels, `.id.f32`
identity, `.pose.f32` yaw/pitch/roll). Each step cuts the pipeline's crop (src/identity/index.ts `identityCrop`:
upright, `crop_scale` × the 68 points' box) around the render's 68 points with jitter (scale, shift, roll: the
pipeline's points are the first fit's, not the truth), jitters colour, and regresses the first `modes` identity
weights. The loss is the metric: the identity-only mean vertex distance over the front of the face (ICT's
narrow_face, every `vstep`-th vertex), in mm. The label is always the render's identity.

`--live=1 --device=cuda --tex=<folder>` renders every batch on the device instead (training/device.sh identity; the
held-out renders are then made once at seed 99 with the other half of the textures).

Resumable: `<out>/ckpt.pt` is written every `ckpt_every` steps and at the end; a run with the same `--out` goes on
from it (more `--steps`, or more `--train` sets, may be given). `--export=<file.onnx>` writes the ONNX model
(input `faces` (N, 3, S, S) in [0, 1], output `identity` (N, modes)) from the checkpoint and exits: the network
averaged with its answer on the mirrored crop, mirrored back (identity_model.py `MirrorAveraged`).
"""
from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402
from identity_model import IdentityConfig, IdentityNet, MirrorAveraged, mirror_matrix  # noqa: E402

# ---- config (override with --name=value) ----
train = ""  # comma list of render sets
test = ""  # held-out render set
out = "training/runs/identity"
steps = 6000  # total steps of the cosine schedule
batch = 48
lr = 2e-3
weight_decay = 1e-4
threads = 1
vstep = 3  # every vstep-th front vertex in the loss
ckpt_every = 200
eval_every = 1000
jitter_scale = 0.08
jitter_shift = 0.05
jitter_roll = 6.0  # degrees
seed = 1
export = ""
init = "training/data/landmarks-shipped.pt"  # the landmark network's weights (training/landmarks), for the backbone
backbone_lr = 0.25  # the backbone's learning rate, × lr
minutes = 0.0  # stop (with a checkpoint) after this many minutes; 0: no limit
device = "cpu"  # cuda on the device (training/device.sh identity)
live = 0  # 1: every batch rendered now (identity_data.py's renderer on `device`) instead of read from --train sets
tex = ""  # live: the baked skin textures (identity_data.py --tex): the "even" half trains, the "odd" half the test set
real = 0.8  # live: the share of renders wearing a real texture
live_size = 160  # live: the renders' side
live_test = 600  # live without --test: held-out renders made once (seed 99, the odd textures, half of them)
for arg in sys.argv[1:]:
    k, _, v = arg.lstrip("-").partition("=")
    if k not in globals() or k.startswith("_"):
        raise SystemExit(f"unknown option --{k}")
    globals()[k] = type(globals()[k])(v) if not isinstance(globals()[k], str) else v

FRONT = 6706  # ICT's narrow_face vertices (training/identity_map.py)
cfg = IdentityConfig()


def load_set(prefix: str):
    ids = np.fromfile(prefix + ".id.f32", np.float32).reshape(-1, 100)
    n = len(ids)
    imgs = np.fromfile(prefix + ".u8", np.uint8)
    S = int(round(math.sqrt(imgs.size / n / 3)))
    return {"images": imgs.reshape(n, S, S, 3), "lm": np.fromfile(prefix + ".lm.f32", np.float32).reshape(n, 68, 2),
            "id": ids[:, :cfg.modes].copy(), "yaw": np.fromfile(prefix + ".pose.f32", np.float32).reshape(n, 3)[:, 0]}


def crop_affine(lm: torch.Tensor, scale: float, gen: torch.Generator | None) -> torch.Tensor:
    """identityCrop of src/identity/index.ts for a batch of 68-point sets (B, 68, 2): (B, 2, 3) output px → photo px
    for a unit-side crop (multiply the linear part by 1/S per pixel), optionally jittered."""
    B = lm.shape[0]
    eyes, mouth = lm[:, 36:48].mean(1), lm[:, 48:68].mean(1)
    ang = torch.atan2(mouth[:, 1] - eyes[:, 1], mouth[:, 0] - eyes[:, 0]) - math.pi / 2
    c, s = torch.cos(ang), torch.sin(ang)
    u = c[:, None] * lm[..., 0] + s[:, None] * lm[..., 1]
    v = -s[:, None] * lm[..., 0] + c[:, None] * lm[..., 1]
    side = scale * torch.maximum(u.amax(1) - u.amin(1), v.amax(1) - v.amin(1))
    cu, cv = (u.amax(1) + u.amin(1)) / 2, (v.amax(1) + v.amin(1)) / 2
    if gen is not None:
        r = lambda: torch.rand(B, generator=gen) * 2 - 1  # noqa: E731
        side = side * (1 + jitter_scale * r())
        cu = cu + jitter_shift * side * r()
        cv = cv + jitter_shift * side * r()
        ang = ang + math.radians(jitter_roll) * r()
        c, s = torch.cos(ang), torch.sin(ang)
    # crop point (p, q) in [0, 1]² → rotated frame (cu + side (p − ½), cv + side (q − ½)) → photo
    A = torch.zeros(B, 2, 3)
    A[:, 0, 0], A[:, 0, 1] = c * side, -s * side
    A[:, 1, 0], A[:, 1, 1] = s * side, c * side
    u0, v0 = cu - side / 2, cv - side / 2
    A[:, 0, 2] = c * u0 - s * v0
    A[:, 1, 2] = s * u0 + c * v0
    return A


def crops(images: np.ndarray, lm: np.ndarray, idx: np.ndarray, gen: torch.Generator | None) -> torch.Tensor:
    """The network's input (B, 3, S, S) in [0, 1] for renders idx of one set."""
    img = torch.from_numpy(images[idx]).permute(0, 3, 1, 2).float() / 255
    return crop_batch(img, torch.from_numpy(lm[idx]), gen)


def crop_batch(img: torch.Tensor, lm: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    """The network's input (B, 3, S, S) in [0, 1] from renders img (B, 3, H, H) in [0, 1] and their 68 points (B, 68, 2),
    on img's device; `gen` (a CPU generator) jitters the crop and the colours, None leaves them."""
    dev = img.device
    B, H = img.shape[0], img.shape[-1]
    A = crop_affine(lm.float().cpu(), cfg.crop_scale, gen)
    # grid_sample (align_corners=False): output normalised x_n ↔ crop p = (x_n + 1) / 2; photo X ↔ X_n = 2 X / H − 1
    theta = torch.empty(B, 2, 3)
    theta[:, :, 0] = A[:, :, 0] / H
    theta[:, :, 1] = A[:, :, 1] / H
    theta[:, :, 2] = (A[:, :, 0] + A[:, :, 1] + 2 * A[:, :, 2]) / H - 1
    grid = F.affine_grid(theta, [B, 3, cfg.size, cfg.size], align_corners=False).to(dev)
    x = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if gen is not None:
        gain = 1 + 0.15 * (torch.rand(B, 3, 1, 1, generator=gen) * 2 - 1)
        bias = 0.08 * (torch.rand(B, 1, 1, 1, generator=gen) * 2 - 1)
        x = x * gain.to(dev) + bias.to(dev)
        grey = (torch.rand(B, generator=gen) < 0.1).to(dev)
        x[grey] = x[grey].mean(1, keepdim=True).expand(-1, 3, -1, -1)
        x = x + (0.02 * torch.rand(B, 1, 1, 1, generator=gen) * torch.randn(x.shape, generator=gen)).to(dev)
        x = x.clamp(0, 1)
    return x


def main():
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    os.makedirs(out, exist_ok=True)
    net = IdentityNet(cfg)
    dev = torch.device(device)
    ck_path = os.path.join(out, "ckpt.pt")
    ck = torch.load(ck_path, map_location="cpu") if os.path.exists(ck_path) else None
    frozen_bn = bool(ck["frozen_bn"]) if ck else False
    if ck:
        net.load_state_dict(ck["model"])
    elif init:
        frozen_bn = net.load_landmark_backbone(init)
        print(f"backbone from {init}{' (batch norms folded: their statistics frozen)' if frozen_bn else ''}")
    if export:
        net.eval()
        x = torch.rand(1, 3, cfg.size, cfg.size)
        mm = ict.ICTModel.load()
        graph = MirrorAveraged(net, mirror_matrix(mm.identity, mm.neutral, cfg.modes, FRONT)).eval()
        torch.onnx.export(graph, x, export, input_names=["faces"], output_names=["identity"], opset_version=17,
                          dynamic_axes={"faces": {0: "n"}, "identity": {0: "n"}})
        print(f"→ {export} ({os.path.getsize(export) / 2**20:.2f} MiB)")
        return
    m = ict.ICTModel.load()
    V = m.neutral.shape[0]
    U = m.identity[:cfg.modes].view(cfg.modes, V, 3)[:, :FRONT:vstep].reshape(cfg.modes, -1).float().to(dev)
    Ufull = m.identity[:cfg.modes].view(cfg.modes, V, 3)[:, :FRONT].reshape(cfg.modes, -1).float().to(dev)
    net.to(dev)

    def vertex_mm(P, T, basis):  # identity-only mean vertex distance, mm (basis in cm)
        d = (P - T) @ basis
        return 10 * d.view(len(d), -1, 3).norm(dim=-1).mean(1)

    rend = None
    if live:  # renders made now, on the device: the training identities never repeat
        from identity_data import TexturedRenderer, load_textures, render_config

        rend = TexturedRenderer(render_config(live_size), load_textures(tex, "even") if tex else [], real, device=device)
        sets, sizes = [], np.array([1])
        print(f"live renders on {device} ({len(rend.textures)} textures); {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters")
    else:
        sets = [load_set(p) for p in train.split(",") if p]
        sizes = np.array([len(s["id"]) for s in sets])
        print(f"{sizes.sum()} training renders in {len(sets)} sets; {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters")
    te = load_set(test) if test else None
    if te is None and live and live_test:
        trend = TexturedRenderer(render_config(live_size), load_textures(tex, "odd") if tex else [], 0.5, device=device)
        tg = torch.Generator().manual_seed(99)
        parts = [trend.sample(min(32, live_test - i), tg) for i in range(0, live_test, 32)]
        te = {"images": np.concatenate([(b["image"].permute(0, 2, 3, 1) * 255).round().clamp(0, 255).byte().cpu().numpy() for b in parts]),
              "lm": np.concatenate([b["landmarks"][..., :2].float().cpu().numpy() for b in parts]),
              "id": np.concatenate([b["identity"][:, :cfg.modes].float().cpu().numpy() for b in parts]),
              "yaw": np.concatenate([b["pose"][:, 0].float().cpu().numpy() for b in parts])}
    groups = [{"params": list(net.features.parameters()), "scale": backbone_lr if (ck or init) else 1.0},
              {"params": list(net.head.parameters()), "scale": 1.0}]
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)

    def train_mode():
        net.train()
        if frozen_bn:  # folded batch norms keep their (identity) statistics
            for mod in net.features.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.eval()
    step = 0
    warm_from = 0  # the learning rate ramps up over 100 steps from here (the start, or a fresh optimiser's first step)
    if ck:
        step = ck["step"]
        if "opt" in ck:
            opt.load_state_dict(ck["opt"])
        else:  # a model-only checkpoint (device.sh's) starts a fresh optimiser: ramp up again
            warm_from = step
        print(f"resumed at step {step}")
    gen = torch.Generator().manual_seed(seed * 1000 + step)
    rng = np.random.default_rng(seed * 1000 + step)

    def evaluate():
        net.eval()
        errs = []
        with torch.no_grad():
            for i in range(0, len(te["id"]), 64):
                idx = np.arange(i, min(i + 64, len(te["id"])))
                P = net(crops(te["images"], te["lm"], idx, None).to(dev))
                errs.append(vertex_mm(P, torch.from_numpy(te["id"][idx]).to(dev), Ufull))
        train_mode()
        e = torch.cat(errs).cpu().numpy()
        e0 = vertex_mm(torch.zeros(len(te["id"]), cfg.modes, device=dev), torch.from_numpy(te["id"]).to(dev), Ufull).cpu().numpy()
        ay = np.abs(te["yaw"])
        b = lambda q: " / ".join(f"{q[(ay >= lo) & (ay < hi)].mean():.2f}" for lo, hi in ((0, 30), (30, 60), (60, 91)))  # noqa: E731
        return f"held out {e.mean():.3f} mm ({b(e)}); mean face {e0.mean():.3f} ({b(e0)})"

    def save():
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step, "frozen_bn": frozen_bn, "config": vars(cfg)}, ck_path + ".tmp")
        os.replace(ck_path + ".tmp", ck_path)

    train_mode()
    t0 = time.time()
    run = []
    while step < steps:
        if rend is not None:
            b = rend.sample(batch, gen)
            x = crop_batch(b["image"], b["landmarks"][..., :2], gen)
            y = b["identity"][:, :cfg.modes].float().to(dev)
        else:
            k = rng.choice(len(sets), p=sizes / sizes.sum())
            idx = np.sort(rng.choice(sizes[k], batch, replace=False))
            x = crops(sets[k]["images"], sets[k]["lm"], idx, gen).to(dev)
            y = torch.from_numpy(sets[k]["id"][idx]).to(dev)
        cur = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        if step - warm_from <= 100:  # the ramp: from the start, or from a fresh optimiser's first step
            cur = (lr if warm_from == 0 else cur) * (step - warm_from + 1) / 100
        for g in opt.param_groups:
            g["lr"] = cur * g["scale"]
        loss = vertex_mm(net(x), y, U).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run.append(loss.item())
        if step % 50 == 0:
            print(f"step {step} loss {np.mean(run[-50:]):.3f} mm lr {cur:.2e} {time.time() - t0:.0f} s", flush=True)
        if step % ckpt_every == 0:
            save()
        if te and step % eval_every == 0:
            print(evaluate(), flush=True)
        if minutes and time.time() - t0 > minutes * 60:
            break
    save()
    if te:
        print(evaluate(), flush=True)


if __name__ == "__main__":
    main()
