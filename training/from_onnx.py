"""Recover a trainable PyTorch checkpoint from a shipped ONNX model, to fine-tune it when its checkpoint is gone.

    python3 training/from_onnx.py models/vrn-compact.onnx training/runs/from-onnx.pt [--config=compact]

The exporter folds each batch norm that follows a convolution into that convolution (W' = W·γ/σ,
b' = β − μ·γ/σ), so the original γ, β, μ, σ cannot be recovered. This file builds an equivalent network
instead: the convolution gets W', the batch norm after it gets γ = 1, β = b', μ = 0, σ² = 1 − ε (identical in
eval mode). Then it re-calibrates those batch norms on rendered training batches so they also behave in train
mode: with the measured batch statistics μ_c, σ_c of each channel it sets μ = μ_c, σ² = σ_c², γ = σ_c and
β = μ_c + b' — the same function in eval mode, and batch statistics that normalise to the same values in train
mode. Batch norms the exporter kept (pre-activation ones) carry their own names and are copied as they are.
It prints how much eval-mode outputs moved in the re-calibration (they must not), and with --ref=a.npz (arrays
`input`, `volume`, `landmarks` computed by onnxruntime) the difference from the ONNX model itself.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402


def module_path(output_name: str) -> str:
    """'/net/pre/pre.0/body/body.2/Conv_output_0' → 'pre.0.body.2' (the TorchScript exporter's scope names)."""
    parts = output_name.strip("/").split("/")[:-1]
    if parts and parts[0] == "net":
        parts = parts[1:]
    segs: list[str] = []
    for p in parts:
        if segs and p.startswith(segs[-1] + "."):
            segs[-1] = p  # 'body' then 'body.2': the child of a Sequential / ModuleList
        else:
            segs.append(p)
    return ".".join(segs)


def load_from_onnx(onnx_path: str, cfg: M.NetConfig) -> tuple[M.VRN, list[str]]:
    """Returns the network in eval mode with the ONNX weights, and the names of the batch norms that were folded."""
    import onnx
    from onnx import numpy_helper

    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in g.initializer}
    # fp16 exports: weight_fp16 → Cast → weight
    for n in g.node:
        if n.op_type == "Cast" and n.input[0] in inits:
            inits[n.output[0]] = inits[n.input[0]].astype(np.float32)
    net = M.VRN(cfg).eval()
    state = net.state_dict()
    new = {}
    for k, v in inits.items():
        if k.startswith("net.") and k[4:] in state:
            new[k[4:]] = torch.from_numpy(np.array(v)).reshape(state[k[4:]].shape)
    modules = dict(net.named_modules())
    folded = []
    for n in g.node:
        if n.op_type != "Conv":
            continue
        path = module_path(n.name or n.output[0])
        conv = modules.get(path)
        if not isinstance(conv, torch.nn.Conv2d):
            raise ValueError(f"ONNX conv {n.output[0]} ({n.name}) maps to {path!r}, which is not a Conv2d in this config")
        w = torch.from_numpy(np.array(inits[n.input[1]]))
        new[f"{path}.weight"] = w
        b = torch.from_numpy(np.array(inits[n.input[2]])) if len(n.input) > 2 else None
        if conv.bias is not None:
            new[f"{path}.bias"] = b if b is not None else torch.zeros(conv.out_channels)
            continue
        if b is None:
            continue
        # the batch norm this bias came from: the next module in the same Sequential
        parent, _, idx = path.rpartition(".")
        bn_path = f"{parent}.{int(idx) + 1}"
        bn = modules.get(bn_path)
        if not isinstance(bn, torch.nn.BatchNorm2d):
            raise ValueError(f"conv {path} has a folded bias but {bn_path} is not a BatchNorm2d")
        new[f"{bn_path}.weight"] = torch.ones_like(b)
        new[f"{bn_path}.bias"] = b
        new[f"{bn_path}.running_mean"] = torch.zeros_like(b)
        new[f"{bn_path}.running_var"] = torch.full_like(b, 1 - bn.eps)
        folded.append(bn_path)
    missing = [k for k in state if k not in new and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"{len(missing)} parameters not found in the ONNX file, e.g. {missing[:5]}")
    net.load_state_dict(new, strict=False)
    return net, folded


@torch.no_grad()
def recalibrate(net: M.VRN, folded: list[str], images: torch.Tensor) -> None:
    """Gives each folded batch norm the batch statistics its input really has (see the module docstring)."""
    mods = dict(net.named_modules())
    stats = {}

    def hook(name):
        def f(mod, inp, out):
            x = inp[0].double()
            stats[name] = (x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False))
        return f

    handles = [mods[n].register_forward_hook(hook(n)) for n in folded]
    net.eval()
    net(images)  # eval mode: every layer sees exactly the inputs it saw before
    for h in handles:
        h.remove()
    for n in folded:
        bn = mods[n]
        mu, var = stats[n]
        sd = (var + bn.eps).sqrt()
        b = bn.bias.double().clone()
        bn.running_mean.copy_(mu.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_(sd.float())
        bn.bias.copy_((mu + b).float())


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a.lstrip("-").partition("=")[::2] for a in sys.argv[1:] if a.startswith("--"))
    src, dst = args
    cfg = M.CONFIGS[opts.get("config", "compact")]
    net, folded = load_from_onnx(src, cfg)
    import render

    data = render.Renderer(render.RenderConfig(size=cfg.size, vol_res=cfg.vol_res, vol_depth=cfg.vol_depth))
    b = data.sample(int(opts.get("batch", 16)), torch.Generator().manual_seed(99))
    with torch.no_grad():
        v0, l0 = net(b["image"])
    recalibrate(net, folded, b["image"])
    with torch.no_grad():
        v1, l1 = net(b["image"])
        net.train()
        v2, l2 = net(b["image"])  # train mode: batch statistics of the same batch
        net.eval()
    print(f"{len(folded)} folded batch norms re-created; eval-mode change after recalibration: volume "
          f"{(v1 - v0).abs().max():.2e}, landmarks {(l1 - l0).abs().max():.2e} px; train vs eval mode on the "
          f"calibration batch: volume {(v2 - v1).abs().max():.2e}, landmarks {(l2 - l1).abs().max():.2e} px")
    if "ref" in opts:  # a .npz with input, volume, landmarks computed by onnxruntime
        ref = np.load(opts["ref"])
        with torch.no_grad():
            v, lm = net(torch.from_numpy(ref["input"]))
        print(f"against onnxruntime: volume {np.abs(v.numpy() - ref['volume']).max():.2e}, "
              f"landmarks {np.abs(lm.numpy() - ref['landmarks']).max():.2e} px")
    torch.save({"model": net.state_dict(), "net": cfg.__dict__, "step": 0, "source": os.path.basename(src)}, dst)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
