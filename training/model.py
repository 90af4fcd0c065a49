"""The network: a stacked hourglass that regresses a face's voxel volume and its 68 3D landmarks from one crop.

    net = VRN(CONFIGS['compact'])
    logits, landmarks = net(images)      # images (B, 3, S, S) in [0, 1]
    logits, landmarks = guided(images, prior)   # CONFIGS['compact-guided']: prior (B, 2, S, S) = depth, mask
    logits     # (B, D, R, R) per-voxel occupancy logits (models/README.md: slice d increases toward the camera)
    landmarks  # (B, 68, 3) crop pixels, z in the volume's frame

After VRN (Jackson et al., ICCV 2017): residual modules, hourglasses of `features` channels working at S/4,
intermediate supervision after each hourglass. Differences: the volume is decoded to resolution R with
learned upsampling and a skip from the stem (sharper surfaces than nearest-neighbour upsampling), and a
landmark head reads 68 heatmaps (soft-argmax for x, y) and 68 depth maps (z averaged under each heatmap), so
landmarks on the far side of a turned face get a z too.

The guided network (VRN-Guided's idea, with the fitted ICT face as the guide instead of landmarks): the prior's
depth map and mask in the crop are two more input channels, and the volume is `prior_base_logits(prior)` — a fixed
function of each voxel's distance to the prior's surface — plus the network's residual, whose last layer starts at
zero, so the network only learns what the prior misses.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class NetConfig:
    size: int = 128  # input crop side S
    vol_res: int = 64  # R
    vol_depth: int = 64  # D
    features: int = 64  # hourglass channels
    stacks: int = 2
    hg_depth: int = 3  # poolings inside each hourglass (S/4 / 2**hg_depth = smallest map)
    decoder: tuple = (64,)  # channels of each ×2 upsampling step from S/4 to R
    landmarks: int = 68
    guided: bool = False  # the prior's depth and mask as 2 more input channels; the volume = base(prior) + residual


CONFIGS = {
    # fits the CPU speed bar (≤ 100 ms on 2 cores) and can be trained on a CPU
    "compact": NetConfig(),
    # the paper's shape: 192×192 → 192×192×200, 2 hourglasses of 256 features
    "paper": NetConfig(size=192, vol_res=192, vol_depth=200, features=256, stacks=2, hg_depth=4, decoder=(128, 64)),
    # for smoke tests
    "tiny": NetConfig(size=64, vol_res=32, vol_depth=32, features=16, stacks=1, hg_depth=2, decoder=(16,)),
    # the guided network (the prior as input, residual volume): compact and tiny sizes
    "compact-guided": NetConfig(guided=True),
    "tiny-guided": NetConfig(size=64, vol_res=32, vol_depth=32, features=16, stacks=1, hg_depth=2, decoder=(16,), guided=True),
}

# the base logits of the guided volume (models/README.md, the model contract): BASE_SLOPE logits per voxel of
# signed distance to the prior's surface along z (positive behind it), clamped to ±BASE_CLAMP; −BASE_CLAMP where the
# prior does not cover a column (or there is no prior)
BASE_SLOPE = 2.0
BASE_CLAMP = 6.0


def prior_base_logits(prior: torch.Tensor, depth: int, res: int, size: int) -> torch.Tensor:
    """(B, 2, S, S) prior (depth ÷ half the volume's depth, mask) → (B, D, R, R) base logits."""
    k = size // res
    depth_map, mask = prior[:, :1], prior[:, 1:2]
    m = F.avg_pool2d(mask, k)
    z = F.avg_pool2d(depth_map * mask, k) / m.clamp(min=1e-6)  # the mean depth of the covered part of each column
    z_vox = z * (depth / 2)  # voxels, 0 = the middle of the depth axis
    d = torch.arange(depth, device=prior.device, dtype=prior.dtype).view(1, depth, 1, 1) + 0.5 - depth / 2
    base = (BASE_SLOPE * (z_vox - d)).clamp(-BASE_CLAMP, BASE_CLAMP)
    return torch.where(m > 0.5, base, torch.full_like(base, -BASE_CLAMP))


def conv_bn(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    """Pre-activation bottleneck residual module (as in stacked hourglass networks)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        mid = max(cout // 2, 8)
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, mid, 1, bias=False),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, cout, 1, bias=False),
        )
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.body(x) + self.skip(x)


class Hourglass(nn.Module):
    def __init__(self, depth: int, f: int):
        super().__init__()
        self.up = Residual(f, f)
        self.down = Residual(f, f)
        self.inner = Hourglass(depth - 1, f) if depth > 1 else Residual(f, f)
        self.after = Residual(f, f)

    def forward(self, x):
        up = self.up(x)
        low = self.after(self.inner(self.down(F.max_pool2d(x, 2))))
        return up + F.interpolate(low, scale_factor=2.0, mode="nearest")


class VolumeHead(nn.Module):
    """S/4 features (+ a stem skip at S/2) → (B, D, R, R) logits."""

    def __init__(self, cfg: NetConfig, stem_ch: int):
        super().__init__()
        f = cfg.features
        steps = []
        cin = f
        res = cfg.size // 4
        for cout in cfg.decoder:
            steps.append(conv_bn(cin + (stem_ch if res * 2 == cfg.size // 2 else 0), cout))
            cin = cout
            res *= 2
        self.steps = nn.ModuleList(steps)
        self.out = nn.Conv2d(cin, cfg.vol_depth, 1)
        self.cfg = cfg

    def forward(self, x, stem):
        res = x.shape[-1]
        for step in self.steps:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            res *= 2
            if res == stem.shape[-1]:
                x = torch.cat([x, stem], 1)
            x = step(x)
        if x.shape[-1] != self.cfg.vol_res:
            x = F.interpolate(x, size=(self.cfg.vol_res, self.cfg.vol_res), mode="bilinear", align_corners=False)
        return self.out(x)


class LandmarkHead(nn.Module):
    """68 heatmaps + 68 depth maps at S/4 → (B, 68, 3) in crop pixels (integral regression)."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        self.body = Residual(cfg.features, cfg.features)
        self.heat = nn.Conv2d(cfg.features, cfg.landmarks, 1)
        self.depth = nn.Conv2d(cfg.features, cfg.landmarks, 1)

    def forward(self, x):
        h = self.body(x)
        B, _, H, W = h.shape
        heat = self.heat(h).flatten(2).float()
        prob = torch.softmax(heat, -1).view(B, -1, H, W)
        cell = self.cfg.size / W
        xs = (torch.arange(W, device=x.device, dtype=prob.dtype) + 0.5) * cell
        ys = (torch.arange(H, device=x.device, dtype=prob.dtype) + 0.5) * cell
        px = (prob.sum(2) * xs).sum(-1)
        py = (prob.sum(3) * ys).sum(-1)
        # depth maps predict z in units of the crop size (keeps activations O(1))
        pz = (prob * self.depth(h).float()).sum((2, 3)) * self.cfg.size
        return torch.stack([px, py, pz], -1)


class VRN(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        f = cfg.features
        stem_ch = max(f // 2, 16)
        self.stem = conv_bn(5 if cfg.guided else 3, stem_ch, 7, 2)  # S/2 (the guided network: RGB + prior depth, mask)
        self.pre = nn.Sequential(Residual(stem_ch, stem_ch), nn.MaxPool2d(2), Residual(stem_ch, f), Residual(f, f))
        self.hgs = nn.ModuleList([Hourglass(cfg.hg_depth, f) for _ in range(cfg.stacks)])
        self.post = nn.ModuleList([nn.Sequential(Residual(f, f), conv_bn(f, f, 1)) for _ in range(cfg.stacks)])
        self.merge = nn.ModuleList([nn.Conv2d(f, f, 1) for _ in range(cfg.stacks - 1)])
        self.volume = VolumeHead(cfg, stem_ch)
        if cfg.guided:
            # the residual starts at zero: an untrained guided network returns the prior
            nn.init.zeros_(self.volume.out.weight)
            nn.init.zeros_(self.volume.out.bias)
        self.landmarks = LandmarkHead(cfg)
        self.register_buffer("mean", torch.tensor([0.5, 0.45, 0.42]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))

    def forward(self, img, prior=None, all_stacks: bool = False):
        x = (img - self.mean) / self.std
        base = None
        if self.cfg.guided:
            if prior is None:  # the image-only path: no prior anywhere
                prior = torch.zeros(img.shape[0], 2, img.shape[2], img.shape[3], device=img.device, dtype=img.dtype)
            x = torch.cat([x, prior], 1)
            base = prior_base_logits(prior, self.cfg.vol_depth, self.cfg.vol_res, self.cfg.size)
        stem = self.stem(x)
        x = self.pre(stem)
        outs = []
        for i, (hg, post) in enumerate(zip(self.hgs, self.post)):
            y = post(hg(x))
            if all_stacks or i == len(self.hgs) - 1:
                vol = self.volume(y, stem)
                outs.append((vol + base if base is not None else vol, self.landmarks(y)))
            if i < len(self.hgs) - 1:
                x = x + self.merge[i](y)
        return outs if all_stacks else outs[-1]


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
