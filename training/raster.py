"""A small batched triangle rasteriser in plain PyTorch (GPU or CPU), for meshes of many small triangles.

    tris = subdivide(faces, vertices, max_edge)        # once: make every triangle small
    frag = rasterize(points, tris, height, width)      # points: (B, N, 3) pixel x, y and depth z
    frag.tri   # (B, H, W) winning triangle index or -1
    frag.bary  # (B, H, W, 3) barycentric coordinates of the pixel centre in that triangle
    frag.z     # (B, H, W) depth (largest z = nearest to the camera wins)

Every triangle is tested against a K×K window of pixel centres from the top-left of its bounding box,
so triangles must be smaller than K pixels across (`subdivide` guarantees that for a given scale).
The z-buffer is a single scatter-max over int64 keys that pack (quantised depth, triangle id).
Pixel (i, j) covers [i, i+1) × [j, j+1); its centre is (i + 0.5, j + 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

TRI_BITS = 20  # up to ~1M triangles
Z_QUANT = 64.0  # depth steps per pixel unit
Z_OFFSET = 4096.0  # depths must lie in (-Z_OFFSET, Z_OFFSET) pixels


@dataclass
class Fragments:
    tri: torch.Tensor  # (B, H, W) long, -1 where empty
    bary: torch.Tensor  # (B, H, W, 3)
    z: torch.Tensor  # (B, H, W), -inf where empty


def subdivide(tris: torch.Tensor, verts: torch.Tensor, max_edge: float):
    """Split triangles until no edge is longer than max_edge (in the units of `verts`).

    Returns (new_tris, pairs, owner): new vertex k (index V + k) is the midpoint of vertices pairs[k];
    midpoints may build on earlier midpoints, so evaluate them in order (see `extend_vertices`).
    owner[i] is the original triangle each new triangle came from.
    """
    import numpy as np

    V = verts.shape[0]
    pos = list(verts.double().cpu().numpy())
    pairs: list[tuple[int, int]] = []
    midpoint: dict[tuple[int, int], int] = {}
    out, owner = [], []
    stack = [(tuple(t), i) for i, t in enumerate(tris.tolist())]
    while stack:
        (a, b, c), o = stack.pop()
        pa, pb, pc = pos[a], pos[b], pos[c]
        lens = [float(np.linalg.norm(pb - pa)), float(np.linalg.norm(pc - pb)), float(np.linalg.norm(pa - pc))]
        k = max(range(3), key=lambda i: lens[i])
        if lens[k] <= max_edge:
            out.append((a, b, c))
            owner.append(o)
            continue
        # split the longest edge
        e0, e1, opp = [(a, b, c), (b, c, a), (c, a, b)][k]
        key = (min(e0, e1), max(e0, e1))
        m = midpoint.get(key)
        if m is None:
            m = V + len(pairs)
            pairs.append(key)
            midpoint[key] = m
            pos.append((pos[e0] + pos[e1]) / 2)
        stack.append(((e0, m, opp), o))
        stack.append(((m, e1, opp), o))
    return (
        torch.tensor(out, dtype=torch.long),
        torch.tensor(pairs, dtype=torch.long).view(-1, 2),
        torch.tensor(owner, dtype=torch.long),
    )


def midpoint_levels(V: int, pairs: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Group the midpoints of `subdivide` into levels whose parents are all computed by earlier levels."""
    level = [0] * (V + pairs.shape[0])
    for k, (a, b) in enumerate(pairs.tolist()):
        level[V + k] = 1 + max(level[a], level[b])
    lv = torch.tensor(level[V:], dtype=torch.long)
    out = []
    for L in range(1, int(lv.max()) + 1 if lv.numel() else 1):
        idx = (lv == L).nonzero(as_tuple=True)[0]
        out.append((idx + V, pairs[idx]))
    return out


def extend_vertices(x: torch.Tensor, levels: list[tuple[torch.Tensor, torch.Tensor]], total: int) -> torch.Tensor:
    """Append the midpoints made by `subdivide` to per-vertex data x (B, V, C) → (B, total, C)."""
    if total == x.shape[1]:
        return x
    out = torch.empty(x.shape[0], total, x.shape[2], dtype=x.dtype, device=x.device)
    out[:, : x.shape[1]] = x
    for idx, p in levels:
        idx, p = idx.to(x.device), p.to(x.device)
        out[:, idx] = 0.5 * (out[:, p[:, 0]] + out[:, p[:, 1]])
    return out


def rasterize(points: torch.Tensor, tris: torch.Tensor, height: int, width: int, window: int = 8,
              cull_sign: float = 0.0, chunk: int = 4) -> Fragments:
    """Rasterise (B, N, 3) points (x, y pixels, z depth) with shared triangles (T, 3).

    Triangles are bucketed by how many pixel centres their box spans (≤2, ≤4, ≤window) so that small
    triangles test only a 2×2 window. Parts of triangles spanning more than `window` centres are lost.
    cull_sign: 0 keeps every triangle; +1/-1 keeps triangles whose 2D signed area has that sign.
    """
    B = points.shape[0]
    dev = points.device
    keys = torch.full((B * height * width,), -1, dtype=torch.long, device=dev)
    for b0 in range(0, B, chunk):
        p = points[b0 : b0 + chunk]
        v0, v1, v2 = p[:, tris[:, 0]], p[:, tris[:, 1]], p[:, tris[:, 2]]  # (nb, T, 3)
        area = (v1[..., 0] - v0[..., 0]) * (v2[..., 1] - v0[..., 1]) - (v1[..., 1] - v0[..., 1]) * (v2[..., 0] - v0[..., 0])
        keep = area.abs() > 1e-9
        if cull_sign != 0:
            keep &= area * cull_sign > 0
        xs = torch.stack([v0[..., 0], v1[..., 0], v2[..., 0]], -1)
        ys = torch.stack([v0[..., 1], v1[..., 1], v2[..., 1]], -1)
        i0 = torch.ceil(xs.amin(-1) - 0.5)
        j0 = torch.ceil(ys.amin(-1) - 0.5)
        i1 = torch.floor(xs.amax(-1) - 0.5)
        j1 = torch.floor(ys.amax(-1) - 0.5)
        keep &= (i1 >= 0) & (j1 >= 0) & (i0 < width) & (j0 < height) & (i1 >= i0) & (j1 >= j0)
        span = torch.maximum(i1 - i0, j1 - j0) + 1
        lo = 0
        for K in (2, 4, window):
            sel = keep & (span > lo) & ((span <= K) if K < window else True)
            lo = K
            bi, ti = sel.nonzero(as_tuple=True)
            if bi.numel() == 0:
                continue
            off = torch.arange(K, device=dev)
            oy, ox = torch.meshgrid(off, off, indexing="ij")
            ox, oy = ox.reshape(-1)[None], oy.reshape(-1)[None]
            a = area[bi, ti][:, None]
            q0, q1, q2 = v0[bi, ti], v1[bi, ti], v2[bi, ti]  # (M, 3)
            px = i0[bi, ti][:, None] + ox  # (M, K*K)
            py = j0[bi, ti][:, None] + oy
            ok = (px <= i1[bi, ti][:, None]) & (py <= j1[bi, ti][:, None]) & (px >= 0) & (py >= 0) & (px < width) & (py < height)
            cx, cy = px + 0.5, py + 0.5
            w0 = ((q2[:, 0:1] - q1[:, 0:1]) * (cy - q1[:, 1:2]) - (q2[:, 1:2] - q1[:, 1:2]) * (cx - q1[:, 0:1])) / a
            w1 = ((q0[:, 0:1] - q2[:, 0:1]) * (cy - q2[:, 1:2]) - (q0[:, 1:2] - q2[:, 1:2]) * (cx - q2[:, 0:1])) / a
            w2 = 1 - w0 - w1
            ok &= (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
            z = (w0 * q0[:, 2:3] + w1 * q1[:, 2:3] + w2 * q2[:, 2:3])[ok]
            zq = ((z + Z_OFFSET) * Z_QUANT).clamp(0, 2 ** 40).long()
            key = (zq << TRI_BITS) | ti[:, None].expand_as(ok)[ok]
            pix = ((bi[:, None] + b0) * height + py.long()) * width + px.long()
            keys.scatter_reduce_(0, pix[ok], key, reduce="amax")
    keys = keys.view(B, height, width)
    valid = keys >= 0
    tri = torch.where(valid, keys & ((1 << TRI_BITS) - 1), torch.full_like(keys, -1))
    # exact barycentrics of each pixel centre in its winning triangle
    t = tri.clamp(min=0)
    bidx = torch.arange(B, device=dev)[:, None, None].expand_as(t)
    q0 = points[bidx, tris[t, 0]]
    q1 = points[bidx, tris[t, 1]]
    q2 = points[bidx, tris[t, 2]]
    jj, ii = torch.meshgrid(torch.arange(height, device=dev), torch.arange(width, device=dev), indexing="ij")
    cx = (ii + 0.5).to(points.dtype)[None]
    cy = (jj + 0.5).to(points.dtype)[None]
    area = (q1[..., 0] - q0[..., 0]) * (q2[..., 1] - q0[..., 1]) - (q1[..., 1] - q0[..., 1]) * (q2[..., 0] - q0[..., 0])
    area = torch.where(area.abs() < 1e-12, torch.ones_like(area), area)

    def edge2(pa, pb):
        return (pb[..., 0] - pa[..., 0]) * (cy - pa[..., 1]) - (pb[..., 1] - pa[..., 1]) * (cx - pa[..., 0])

    w0 = edge2(q1, q2) / area
    w1 = edge2(q2, q0) / area
    bary = torch.stack([w0, w1, 1 - w0 - w1], -1).clamp(0, 1)
    bary = bary / bary.sum(-1, keepdim=True).clamp(min=1e-9)
    z = (bary * torch.stack([q0[..., 2], q1[..., 2], q2[..., 2]], -1)).sum(-1)
    bary = torch.where(valid[..., None], bary, torch.zeros_like(bary))
    z = torch.where(valid, z, torch.full_like(z, float("-inf")))
    return Fragments(tri=tri, bary=bary, z=z)


def interpolate(frag: Fragments, tris: torch.Tensor, attr: torch.Tensor) -> torch.Tensor:
    """Interpolate per-vertex attributes (B, N, C) at the fragments → (B, H, W, C); zero where empty."""
    B = attr.shape[0]
    t = frag.tri.clamp(min=0)
    bidx = torch.arange(B, device=attr.device)[:, None, None].expand_as(t)
    a0 = attr[bidx, tris[t, 0]]
    a1 = attr[bidx, tris[t, 1]]
    a2 = attr[bidx, tris[t, 2]]
    w = frag.bary
    out = a0 * w[..., 0:1] + a1 * w[..., 1:2] + a2 * w[..., 2:3]
    return torch.where((frag.tri >= 0)[..., None], out, torch.zeros_like(out))
