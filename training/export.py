"""Export a trained VRN to ONNX (fixed input size) with its sidecar JSON, and check it against PyTorch.

    python3 training/export.py training/runs/compact/ckpt.pt models/vrn-compact.onnx [--fp16] [--checks]

The check runs onnxruntime when it is installed (the GPU machine has it); the CPU smoke test checks the
export with onnxruntime-node instead (test/training.test.ts).
"""
from __future__ import annotations

import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import render  # noqa: E402


class Exported(torch.nn.Module):
    """Wraps the network so the ONNX graph has exactly the contract's inputs and outputs."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image, prior=None):
        vol, lm = self.net(image, prior)
        return vol, lm


def weights_to_fp16(path: str) -> None:
    """Stores the ONNX file's float weights as float16, each followed by a Cast back to float: half the bytes,
    fp32 arithmetic (onnxruntime folds the casts at load time)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(path)
    g = m.graph
    casts = []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or len(init.dims) == 0:
            continue
        arr = numpy_helper.to_array(init)
        if arr.size < 16:
            continue
        name = init.name
        half = numpy_helper.from_array(arr.astype(np.float16), name + "_fp16")
        init.CopyFrom(half)
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT, name=name + "_cast"))
    for n in reversed(casts):
        g.node.insert(0, n)
    onnx.save(m, path)


def sidecar(cfg: M.NetConfig, name: str, extra: dict | None = None) -> dict:
    r = render.RenderConfig()
    return {
        "name": name,
        "inputSize": cfg.size,
        "volume": {"width": cfg.vol_res, "height": cfg.vol_res, "depth": cfg.vol_depth,
                   "voxelSize": cfg.size / cfg.vol_res},
        "crop": {"scale": r.crop_scale, "shiftY": r.crop_shift_y},
        "landmarks": cfg.landmarks,
        "inputs": {"image": [1, 3, cfg.size, cfg.size], **({"prior": [1, 2, cfg.size, cfg.size]} if cfg.guided else {})},
        **({"guided": {"baseSlope": M.BASE_SLOPE, "baseClamp": M.BASE_CLAMP}} if cfg.guided else {}),
        "outputs": {"volume": [1, cfg.vol_depth, cfg.vol_res, cfg.vol_res], "landmarks": [1, cfg.landmarks, 3]},
        **(extra or {}),
    }


def export_onnx(net: M.VRN, cfg: M.NetConfig, path: str, name: str | None = None, extra: dict | None = None,
                sample: torch.Tensor | None = None, write_checks: bool = True, fp16: bool = False) -> dict:
    # a private copy: the exporter may fold batch norms into the weights in place
    wrapped = Exported(copy.deepcopy(net).float().eval().cpu())
    x = sample if sample is not None else torch.rand(1, 3, cfg.size, cfg.size, generator=torch.Generator().manual_seed(0))
    # the guided network's second input: a disc of prior surface in the middle of the crop (a check input that
    # exercises the base logits and the mask)
    pr = None
    if cfg.guided:
        yy, xx = torch.meshgrid(torch.arange(cfg.size) + 0.5, torch.arange(cfg.size) + 0.5, indexing="ij")
        r2 = ((xx - cfg.size / 2) ** 2 + (yy - cfg.size / 2) ** 2) / (cfg.size * 0.35) ** 2
        mask = (r2 < 1).float()
        pr = torch.stack([(0.4 * (1 - r2)).clamp(min=0) * mask, mask])[None]
    args = (x,) if pr is None else (x, pr)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    kwargs = dict(input_names=["image"] + (["prior"] if pr is not None else []), output_names=["volume", "landmarks"],
                  opset_version=17, do_constant_folding=True)
    with torch.no_grad():
        vol, lm = wrapped(*args)
        vol, lm = vol.clone(), lm.clone()
    try:
        torch.onnx.export(wrapped, args, path, dynamo=False, **kwargs)
    except TypeError:  # torch < 2.5 has no dynamo flag
        torch.onnx.export(wrapped, args, path, **kwargs)
    except Exception as e:  # a torch without the TorchScript exporter: the dynamo one (needs onnxscript)
        print(f"TorchScript export failed ({e}); trying dynamo=True", flush=True)
        torch.onnx.export(wrapped, args, path, dynamo=True, external_data=False, **kwargs)
    if fp16:
        weights_to_fp16(path)
    meta = sidecar(cfg, name or os.path.splitext(os.path.basename(path))[0], {**(extra or {}), "weights": "float16" if fp16 else "float32"})
    check = {"checked": False}
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        ov, ol = sess.run(None, {"image": x.numpy(), **({"prior": pr.numpy()} if pr is not None else {})})
        check = {"checked": True, "max_abs_diff_volume": float(np.abs(ov - vol.numpy()).max()),
                 "max_abs_diff_landmarks": float(np.abs(ol - lm.numpy()).max())}
        print("onnxruntime check:", check, flush=True)
    except ImportError:
        print("onnxruntime not installed: skipped the python-side check", flush=True)
    json.dump(meta, open(os.path.splitext(path)[0] + ".json", "w"), indent=2)
    # reference input/output for an independent check (onnxruntime-node in the smoke test)
    if not write_checks:
        print(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)", flush=True)
        return check
    np.save(os.path.splitext(path)[0] + ".check-input.npy", x.numpy())
    if pr is not None:
        np.save(os.path.splitext(path)[0] + ".check-prior.npy", pr.numpy())
    np.save(os.path.splitext(path)[0] + ".check-landmarks.npy", lm.numpy())
    np.save(os.path.splitext(path)[0] + ".check-volume.npy", vol.numpy())
    print(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)", flush=True)
    return check


if __name__ == "__main__":
    ck, dst = sys.argv[1], sys.argv[2]
    st = torch.load(ck, map_location="cpu")
    cfg = M.NetConfig(**st["net"])
    net = M.VRN(cfg)
    net.load_state_dict(st["model"])
    export_onnx(net, cfg, dst, os.path.splitext(os.path.basename(dst))[0], write_checks="--checks" in sys.argv,
                fp16="--fp16" in sys.argv)
