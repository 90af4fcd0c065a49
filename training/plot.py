"""A dependency-free line plot written as PNG (numpy + zlib): the training loss curve.

    loss_plot(history, 'loss.png')
"""
from __future__ import annotations

import struct
import zlib

import numpy as np


def write_png(path: str, rgb: np.ndarray) -> None:
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(png)


def _line(img, x0, y0, x1, y1, col):
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.linspace(x0, x1, n).round().astype(int)
    ys = np.linspace(y0, y1, n).round().astype(int)
    ok = (xs >= 0) & (xs < img.shape[1]) & (ys >= 0) & (ys < img.shape[0])
    img[ys[ok], xs[ok]] = col


def loss_plot(history: dict, path: str, w: int = 640, h: int = 360) -> None:
    """Log-scale training loss (grey: volume BCE, blue: total) vs step, with grid lines per decade."""
    tr = history["train"]
    if len(tr) < 2:
        return
    img = np.full((h, w, 3), 255, np.uint8)
    steps = np.array([r["step"] for r in tr], float)
    series = [(np.array([r["loss"] for r in tr]), (30, 80, 200)), (np.array([r["vol"] for r in tr]), (120, 120, 120))]
    lo = min(s.min() for s, _ in series)
    hi = max(s.max() for s, _ in series)
    llo, lhi = np.floor(np.log10(lo)), np.ceil(np.log10(hi))
    m = 30

    def X(s):
        return m + (s - steps.min()) / max(steps.max() - steps.min(), 1) * (w - 2 * m)

    def Y(v):
        return h - m - (np.log10(v) - llo) / max(lhi - llo, 1e-9) * (h - 2 * m)

    for d in np.arange(llo, lhi + 1):
        for k in range(1, 10):
            y = Y(k * 10 ** d)
            if m <= y <= h - m:
                _line(img, m, y, w - m, y, (225, 225, 225) if k > 1 else (170, 170, 170))
    _line(img, m, h - m, w - m, h - m, (0, 0, 0))
    _line(img, m, m, m, h - m, (0, 0, 0))
    for s, col in series:
        for i in range(len(s) - 1):
            _line(img, X(steps[i]), Y(s[i]), X(steps[i + 1]), Y(s[i + 1]), col)
    write_png(path, img)
