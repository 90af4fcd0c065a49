"""Trains the landmark network (model.py) on real photos (data.py), on a CPU, resumably.

    /usr/bin/python3 training/landmarks/train.py --minutes=60 [--resume=1] [--key=value ...]

Config: the plain values below; any of them can be set as --name=value. The checkpoint (weights, optimiser, step,
crop rule) is written to `out_dir` every `ckpt_every` steps and at the end; --resume=1 goes on from it (the
schedule is by `total_steps`, so a run split over sessions is the same run). Validation: 60 held-out fit/ photos
(chosen by name, never eval/) and 300 AFLW crops, NME 2D of the 68 by |yaw| bin with each photo's crop from its
ground truth; the best checkpoint by the held-out fit/ mean of bins is kept as best.pt.
"""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from data import AFLW_IDS, CONTEXT, W21, augment, load_aflw, load_fit, load_packed  # noqa: E402
from ict import shared_dir  # noqa: E402
from model import INPUT, LandmarkNet  # noqa: E402

# ---- config
out_dir = "training/runs/landmarks"
pseudo = "training/data/aflw21-pseudo.npz"
cache = "training/data/landmark-data.npz"
width = 16
batch = 64
fit_fraction = 0.25  # share of each batch from fit/ (489 photos with the full 3D ground truth)
lr = 2e-3
weight_decay = 1e-4
total_steps = 12000
warmup = 200
minutes = 60.0
ckpt_every = 200
eval_every = 400
threads = 1
resume = 0
seed = 1
w_manual, w_pseudo, w_gt, w_z = 1.0, 0.5, 1.0, 0.5
renders = ""  # synthetic renders (renders.py), "" for real photos only
render_fraction = 0.0  # share of each batch from the renders (exact 3D labels, the far side included)
w_render = 1.0
init = ""  # start from these weights (a best.pt) with a fresh optimiser and schedule, instead of the mean label
freeze_bn = 0  # keep the batch norms in eval mode (their running statistics); set by a from_onnx.py checkpoint
packed = ""  # pack.py's file (a device run's carry): the data from it instead of the cache or ../shared; renders too
device = "auto"  # "auto": the GPU where there is one, else the CPU
# ----
for arg in sys.argv[1:]:
    k, v = arg.lstrip("-").split("=", 1)
    if k not in globals():
        raise SystemExit(f"unknown option {k}")
    globals()[k] = type(globals()[k])(v)
torch.set_num_threads(threads)
torch.manual_seed(seed)
os.makedirs(out_dir, exist_ok=True)


def held_out_fit(name):
    return int(name[-3:]) % 8 == 0  # ~1 in 8 of fit/, by name


device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
print(f"device {device}", flush=True)

# ---- data (cached: decoding 13k JPEGs takes a while)
Rd = None
if packed:
    A, Fd, rule, Rd = load_packed(packed)
    if render_fraction <= 0:
        Rd = None
elif os.path.exists(cache):
    z = np.load(cache, allow_pickle=True)
    A = {k[2:]: z[k] for k in z.files if k.startswith("a_")}
    Fd = {k[2:]: z[k] for k in z.files if k.startswith("f_")}
    rule = json.loads(str(z["rule"]))
else:
    A = load_aflw(os.path.join(shared_dir(), "aflw-21pt"), pseudo)
    rule = A.pop("rule")
    Fd = load_fit(os.path.join(shared_dir(), "aflw2000-3d", "fit"), rule)
    np.savez(cache, rule=json.dumps(rule), **{"a_" + k: np.asarray(v) for k, v in A.items()}, **{"f_" + k: np.asarray(v) for k, v in Fd.items()})
print(f"crop rule {rule}; AFLW crops {len(A['images'])}, fit/ photos {len(Fd['images'])}", flush=True)
a_val = np.arange(len(A["images"])) % 40 == 0
f_val = np.array([held_out_fit(n) for n in Fd["names"]])
a_tr, f_tr = np.nonzero(~a_val)[0], np.nonzero(~f_val)[0]
if renders and not packed:
    z = np.load(renders)
    Rd = {k: z[k] for k in ("images", "lm", "yaw")}
    Rd["seed"] = int(z["seed"])
if Rd is not None:
    r_val = np.arange(len(Rd["images"])) % 20 == 0
    r_tr = np.nonzero(~r_val)[0]
    print(f"renders {len(Rd['images'])} (seed {Rd['seed']}), {int(r_val.sum())} held out", flush=True)

model = LandmarkNet(width)
opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
step, best = 0, float("inf")
ckpt_path = os.path.join(out_dir, "ckpt.pt")
if resume and os.path.exists(ckpt_path):
    ck = torch.load(ckpt_path, map_location="cpu")
    model.load_state_dict(ck["model"])
    # the optimiser's state is loaded below, once the model is on its device
    step, best = ck["step"], ck.get("best", best)
    freeze_bn = freeze_bn or bool(ck.get("bn_folded"))
    print(f"resumed at step {step}", flush=True)
elif init:
    ck0 = torch.load(init, map_location="cpu")
    model.load_state_dict(ck0["model"])
    freeze_bn = freeze_bn or bool(ck0.get("bn_folded"))
    print(f"initialised from {init}{' (batch norms folded: their statistics frozen)' if ck0.get('bn_folded') else ''}", flush=True)
else:
    # start from the mean label: the regressor learns offsets from it
    lm = torch.as_tensor(Fd["lm"][f_tr])
    xy = (lm[..., :2] * CONTEXT + 1) / 2
    model.mean_shape.copy_(torch.cat([xy, (lm[..., 2:] * CONTEXT) / 2], 2).mean(0, keepdim=True))
model.to(device)


def train_mode():
    """Training mode, the batch norms' statistics frozen where `freeze_bn` says so."""
    model.train()
    if freeze_bn:
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.eval()


train_mode()
if resume and os.path.exists(ckpt_path):
    opt.load_state_dict(torch.load(ckpt_path, map_location=device)["opt"])  # its state on the model's device
W21d = W21.to(device)
gen = torch.Generator().manual_seed(seed * 1000 + step)


def lr_at(s):
    if s < warmup:
        return lr * (s + 1) / warmup
    return lr * 0.5 * (1 + np.cos(np.pi * min(1.0, (s - warmup) / max(1, total_steps - warmup))))


def nme_by_bin(pred, lab, yaw):
    """NME 2D (%) of the 68, ÷ √(w·h) of the label box, by |yaw| bin, and the mean of bins."""
    e = (pred[..., :2] - lab[..., :2]).norm(dim=-1).mean(1)
    wh = (lab[..., :2].amax(1) - lab[..., :2].amin(1)).prod(1).sqrt()
    n = (e / wh).cpu().numpy() * 100
    bins = [n[(np.abs(yaw) >= lo) & (np.abs(yaw) < hi)].mean() for lo, hi in [(0, 30), (30, 60), (60, 181)]]
    return bins, float(np.mean(bins))


def evaluate():
    model.eval()
    g = torch.Generator().manual_seed(0)
    out = {}
    with torch.no_grad():
        sets = [("fit", Fd, np.nonzero(f_val)[0], 1 / CONTEXT), ("aflw", A, np.nonzero(a_val)[0], 1.0)]
        if Rd is not None:
            sets.append(("render", Rd, np.nonzero(r_val)[0], 1 / CONTEXT))
        for name, D, idx, half in sets:
            p21 = D.get("p21", np.zeros((len(D["images"]), 21, 2), np.float32))
            v21 = D.get("v21", np.zeros((len(D["images"]), 21), bool))
            crops, lab, _, _ = augment(D["images"][idx], D["lm"][idx], p21[idx], v21[idx], half, g, INPUT, strength=0.0,
                                       flip=torch.zeros(len(idx), dtype=torch.bool), device=device)
            pred = torch.cat([model(c) for c in torch.split(crops, 128)])
            out[name] = nme_by_bin(pred, lab, D["yaw"][idx])
    train_mode()
    return out


def state(ev):
    return {"model": model.state_dict(), "step": step, "rule": rule, "width": width, "eval": ev,
            "renders": len(Rd["images"]) if Rd is not None else 0, "bn_folded": bool(freeze_bn)}


def save_best(ev):
    torch.save(state(ev), os.path.join(out_dir, "best.pt"))


def save_ckpt():
    torch.save({**state(last_eval), "opt": opt.state_dict(), "best": best}, ckpt_path)


t0 = time.time()
last_eval = None
if init and step == 0:
    ev = evaluate()
    print("eval at the start: " + "; ".join(f"{k} {' / '.join(f'{x:.2f}' for x in v[0])} (mean {v[1]:.2f})" for k, v in ev.items()), flush=True)
    # the starting weights are the best so far: best.pt is only ever replaced by better ones
    best, last_eval = ev["fit"][1], ev
    save_best(ev)
nf = int(round(batch * fit_fraction))
nr = int(round(batch * render_fraction)) if Rd is not None else 0
log = open(os.path.join(out_dir, "log.txt"), "a")
while step < total_steps and time.time() - t0 < minutes * 60:
    for gp in opt.param_groups:
        gp["lr"] = lr_at(step)
    ia = a_tr[torch.randint(len(a_tr), (batch - nf - nr,), generator=gen).numpy()]
    jf = f_tr[torch.randint(len(f_tr), (nf,), generator=gen).numpy()]
    ca, la, qa, va = augment(A["images"][ia], A["lm"][ia], A["p21"][ia], A["v21"][ia], 1.0, gen, INPUT, device=device)
    cf, lf, _, _ = augment(Fd["images"][jf], Fd["lm"][jf], np.zeros((nf, 21, 2), np.float32), np.zeros((nf, 21), bool),
                           1 / CONTEXT, gen, INPUT, device=device)
    parts = [ca, cf]
    if nr:
        jr = r_tr[torch.randint(len(r_tr), (nr,), generator=gen).numpy()]
        cr, lr_, _, _ = augment(Rd["images"][jr], Rd["lm"][jr], np.zeros((nr, 21, 2), np.float32), np.zeros((nr, 21), bool),
                                1 / CONTEXT, gen, INPUT, device=device)
        parts.append(cr)
    pred = model(torch.cat(parts))
    pa, pf, pr = pred[: len(ia)], pred[len(ia): len(ia) + nf], pred[len(ia) + nf:]
    # manual points: the 19 AFLW points that are (means of) the 68, where the annotator saw them
    m21 = torch.einsum("jk,nka->nja", W21d, pa[..., :2])
    qv, vv = qa[:, AFLW_IDS], va[:, AFLW_IDS].float()
    l_manual = ((m21 - qv).abs().sum(-1) * vv).sum() / vv.sum().clamp_min(1)
    l_pseudo = (pa[..., :2] - la[..., :2]).abs().sum(-1).mean() + w_z * (pa[..., 2] - la[..., 2]).abs().mean()
    pz = pf[..., 2] - pf[..., 2].mean(1, keepdim=True)
    l_gt = (pf[..., :2] - lf[..., :2]).abs().sum(-1).mean() + w_z * (pz - lf[..., 2]).abs().mean()
    loss = w_manual * l_manual + w_pseudo * l_pseudo + w_gt * l_gt
    l_render = torch.zeros(())
    if nr:
        pzr = pr[..., 2] - pr[..., 2].mean(1, keepdim=True)
        l_render = (pr[..., :2] - lr_[..., :2]).abs().sum(-1).mean() + w_z * (pzr - lr_[..., 2]).abs().mean()
        loss = loss + w_render * l_render
    opt.zero_grad()
    loss.backward()
    opt.step()
    step += 1
    if step % 50 == 0:
        line = f"step {step} loss {loss.item():.4f} manual {l_manual.item():.4f} pseudo {l_pseudo.item():.4f} gt {l_gt.item():.4f} render {l_render.item():.4f} lr {lr_at(step):.2e} {time.time() - t0:.0f}s"
        print(line, flush=True)
        log.write(line + "\n")
    if step % eval_every == 0 or step == total_steps:
        ev = evaluate()
        last_eval = ev
        line = f"eval step {step}: fit/ held-out NME 2D {' / '.join(f'{x:.2f}' for x in ev['fit'][0])} (mean {ev['fit'][1]:.2f}); AFLW val (pseudo) {' / '.join(f'{x:.2f}' for x in ev['aflw'][0])}"
        if "render" in ev:
            line += f"; renders held-out {' / '.join(f'{x:.2f}' for x in ev['render'][0])}"
        print(line, flush=True)
        log.write(line + "\n")
        if ev["fit"][1] < best:
            best = ev["fit"][1]
            save_best(ev)
    if step % ckpt_every == 0:
        save_ckpt()
save_ckpt()
print(f"stopped at step {step} ({time.time() - t0:.0f} s); best held-out fit/ mean {best:.2f}", flush=True)
