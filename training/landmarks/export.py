"""Exports a landmark checkpoint to ONNX with its sidecar (the pipeline's src/landmarks/regressor.ts reads both).

    /usr/bin/python3 training/landmarks/export.py [--ckpt training/runs/landmarks/best.pt] [--out models/landmarks68]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import INPUT, LandmarkNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="training/runs/landmarks/best.pt")
    ap.add_argument("--out", default="models/landmarks68")
    a = ap.parse_args()
    ck = torch.load(a.ckpt, map_location="cpu")
    model = LandmarkNet(ck.get("width", 16))
    model.load_state_dict(ck["model"])
    model.eval()
    x = torch.rand(1, 3, INPUT, INPUT)
    torch.onnx.export(model, x, a.out + ".onnx", input_names=["crop"], output_names=["landmarks"], opset_version=13,
                      dynamic_axes={"crop": {0: "n"}, "landmarks": {0: "n"}})
    info = {
        "kind": "landmarks68",
        "inputSize": INPUT,
        "crop": {k: round(float(v), 5) for k, v in ck["rule"].items()},
        "input": "crop",
        "output": "landmarks",
        "convention": "AFLW2000-3D / 300W-LP 68 landmarks (src/prior/landmarks68-aflw.ts); x, y in [0, 1] of the crop, z centred, same unit",
        "trained": {"step": ck["step"], "data": "AFLW 21-point crops (../shared/aflw-21pt) + AFLW2000-3D fit/ (research-only terms)"
                    + (f" + {ck['renders']} synthetic ICT renders (MIT)" if ck.get("renders") else ""),
                    "heldOutNme2d": {k: {"bins": [round(float(x), 2) for x in v[0]], "mean": round(float(v[1]), 2)} for k, v in (ck.get("eval") or {}).items()}},
    }
    json.dump(info, open(a.out + ".json", "w"), indent=1)
    print(f"wrote {a.out}.onnx ({os.path.getsize(a.out + '.onnx') / 1e6:.2f} MB) and {a.out}.json")
    try:  # a check that the export runs and agrees, where Python has onnxruntime (test/landmarks.test.ts checks it in Node)
        import onnxruntime as ort  # noqa: E402
    except ImportError:
        return
    s = ort.InferenceSession(a.out + ".onnx")
    diff = (torch.as_tensor(s.run(None, {"crop": x.numpy()})[0]) - model(x)).abs().max().item()
    print(f"max |onnxruntime − torch| {diff:.2e}")


if __name__ == "__main__":
    main()
