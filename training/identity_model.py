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


def mirror_matrix(identity: torch.Tensor, neutral: torch.Tensor, modes: int, front: int) -> torch.Tensor:
    """P (modes × modes) with P w ≈ the identity weights of the mirror image (x → −x) of the face with weights w:
    each vertex of ICT's front paired with the one nearest its mirror position, each mode mirrored, and the mirrored
    modes projected onto the modes by least squares (ICT's modes are nearly closed under mirroring: 0.2% left over)."""
    from scipy.spatial import cKDTree

    V = neutral.shape[0]
    nv = neutral[:front].double().numpy()
    _, mate = cKDTree(nv).query(nv * [-1.0, 1.0, 1.0])
    U = identity[:modes].view(modes, V, 3)[:, :front].double()
    Um = U[:, torch.as_tensor(mate)] * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    A, B = U.reshape(modes, -1), Um.reshape(modes, -1)
    return torch.linalg.solve(A @ A.T, A @ B.T).T.float()


class MirrorAveraged(nn.Module):
    """The shipped graph: the network on the crop and on its mirror image, the mirror's answer mirrored back
    (`mirror_matrix`) and the two averaged. A person's photos from the left and from the right then agree more
    (on dlib-johns, the nearest other photo is the same person more often), and noise halves where it is independent."""

    def __init__(self, net: IdentityNet, mirror: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("mirror", mirror)

    def forward(self, x):
        n = x.shape[0]
        y = self.net(torch.cat([x, torch.flip(x, [3])], 0))
        return (y[:n] + y[n:] @ self.mirror.T) / 2
