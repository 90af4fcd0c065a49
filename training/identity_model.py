"""The shape-identity network (issue 18): a face crop in, ICT's first identity weights out.

    net = IdentityNet(IdentityConfig())
    ident = net(crops)        # crops (B, 3, S, S) in [0, 1], upright, side = crop_scale × the 68 landmarks' box
    ident                     # (B, modes) ICT identity weights (the modes' own units: a random ICT person ~ N(0, 1))

The backbone is the landmark network's (training/landmarks/model.py: five stages of two 3 × 3 convolutions, the
first of each with stride 2), started from the shipped landmark model's weights, which learned where a face's parts
lie on real photos and renders. Its last feature map (4 × 4 at 112 px) is flattened, not averaged: where the parts
of the face lie is the shape. The crop is `src/identity/index.ts` `identityCrop`'s (the pipeline cuts it around the
first fit's 68 points); `training/identity_train.py` cuts the same one around the renders' 68 points, with jitter.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "landmarks"))
from model import LandmarkNet  # noqa: E402  (training/landmarks/model.py)


@dataclass
class IdentityConfig:
    size: int = 112  # input side S (the landmark network's)
    width: int = 16  # the landmark network's first stage width
    hidden: int = 256
    modes: int = 60
    crop_scale: float = 1.25


class IdentityNet(nn.Module):
    def __init__(self, cfg: IdentityConfig):
        super().__init__()
        self.cfg = cfg
        lm = LandmarkNet(cfg.width)
        self.features = lm.features
        self.register_buffer("mean", lm.mean.clone())
        self.register_buffer("std", lm.std.clone())
        c = cfg.width << 4
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(c * 16, cfg.hidden), nn.ReLU(),
                                  nn.Linear(cfg.hidden, cfg.modes))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, x):
        x = self.features((x - self.mean) / self.std)
        return self.head(x)

    def load_landmark_backbone(self, path: str) -> bool:
        """Starts the backbone from a landmark checkpoint (training/landmarks). Returns whether its batch norms were
        folded (training/landmarks/from_onnx.py): their statistics must then stay frozen."""
        ck = torch.load(path, map_location="cpu")
        sd = {k: v for k, v in ck["model"].items() if k.startswith("features.") or k in ("mean", "std")}
        missing, unexpected = self.load_state_dict(sd, strict=False)
        assert not unexpected and all(k.startswith("head.") for k in missing), (missing, unexpected)
        return bool(ck.get("bn_folded"))
