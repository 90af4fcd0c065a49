"""Rebuilds a trainable landmark network from a shipped `models/landmarks68.onnx`, so a run can go on from the
shipped weights where no training checkpoint is at hand (a fresh machine, a device session).

    /usr/bin/python3 training/landmarks/from_onnx.py [--onnx models/landmarks68.onnx] [--out training/data/landmarks-shipped.pt]

The export folded each batch norm into its convolution; here each convolution takes the folded weights and its batch
norm becomes the identity plus the folded bias (running mean 0, variance 1 − ε, scale 1), so the rebuilt network in
eval mode computes what the ONNX file computes. Its checkpoint says `bn_folded`: train.py then keeps the batch norms'
statistics frozen (batch statistics would undo the folding). Checks the rebuilt network against the ONNX graph
(onnx's reference evaluation is not in Debian's onnx 1.12, so: the same initializers after a re-export).
"""
import argparse
import io
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import INPUT, LandmarkNet  # noqa: E402


def rebuild(path):
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    width = init[convs[0].input[1]].shape[0]
    net = LandmarkNet(width)
    blocks = [b for b in net.features]
    assert len(convs) == len(blocks), f"{len(convs)} convolutions in the file, {len(blocks)} in the network"
    sd = net.state_dict()
    for k, (node, _) in enumerate(zip(convs, blocks)):
        w, b = init[node.input[1]], init[node.input[2]]
        bn = blocks[k][1]
        sd[f"features.{k}.0.weight"] = torch.as_tensor(np.array(w))
        sd[f"features.{k}.1.weight"] = torch.ones_like(sd[f"features.{k}.1.weight"])
        sd[f"features.{k}.1.bias"] = torch.as_tensor(np.array(b))
        sd[f"features.{k}.1.running_mean"] = torch.zeros_like(sd[f"features.{k}.1.running_mean"])
        sd[f"features.{k}.1.running_var"] = torch.full_like(sd[f"features.{k}.1.running_var"], 1 - bn.eps)
    for name in ("fc.weight", "fc.bias", "mean", "std", "mean_shape"):
        sd[name] = torch.as_tensor(np.array(init[name])).reshape(sd[name].shape)
    net.load_state_dict(sd)
    net.eval()
    return net, m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default="models/landmarks68.onnx")
    ap.add_argument("--out", default="training/data/landmarks-shipped.pt")
    a = ap.parse_args()
    net, m = rebuild(a.onnx)
    # the check: re-exported, the network gives the same folded initializers as the file
    buf = io.BytesIO()
    torch.onnx.export(net, torch.rand(1, 3, INPUT, INPUT), buf, input_names=["crop"], output_names=["landmarks"], opset_version=13)
    again = onnx.load_from_string(buf.getvalue())
    w0 = [numpy_helper.to_array(i) for i in m.graph.initializer]
    w1 = [numpy_helper.to_array(i) for i in again.graph.initializer]
    assert len(w0) == len(w1), (len(w0), len(w1))
    diff = max(float(np.abs(x - y).max()) for x, y in zip(sorted(w0, key=lambda t: (t.shape, float(t.sum()))), sorted(w1, key=lambda t: (t.shape, float(t.sum())))))
    assert diff < 1e-4, f"re-exported weights differ by {diff}"
    side = json.load(open(a.onnx[:-5] + ".json"))
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    torch.save({"model": net.state_dict(), "width": net.features[0][0].out_channels, "rule": side["crop"], "step": 0,
                "bn_folded": True, "from": a.onnx}, a.out)
    print(f"wrote {a.out} from {a.onnx} (re-export agrees to {diff:.1e})")


if __name__ == "__main__":
    main()
