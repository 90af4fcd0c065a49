"""The landmark network: a small convolutional regressor from a 112×112 face crop to the benchmark's 68 landmarks in 3D.

Output: (N, 68, 3) in crop units: x, y in [0, 1] across the crop (x right, y down), z toward the camera in the same
unit, centred on the 68 points' mean. Input: (N, 3, 112, 112) RGB in [0, 1] (normalised inside the network).
"""
import torch
import torch.nn as nn

INPUT = 112


def conv(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class LandmarkNet(nn.Module):
    """Five stages of two 3×3 convolutions (the first of each with stride 2), global average pooling, one linear
    layer. Plain convolutions rather than MobileNet's depthwise ones: on a CPU they train ~4× faster per image here,
    which is what this network is trained on (training/landmarks/README.md)."""

    def __init__(self, width=16):
        super().__init__()
        layers, c = [], 3
        for k in range(5):
            out = width << k
            layers += [conv(c, out, 2), conv(out, out, 1)]
            c = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, 68 * 3)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.register_buffer("mean_shape", torch.zeros(1, 68, 3))
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = (x - self.mean) / self.std
        f = self.features(x).mean((2, 3))
        return self.fc(f).view(-1, 68, 3) + self.mean_shape
