#!/usr/bin/env python3
"""Builds models/ict-face.bin, the ICT Face Model as voxface's runtime shape prior, from ../shared/ict-face-model.

    python3 scripts/ict-basis.py [--ict ../shared/ict-face-model] [--out models/ict-face.bin] [--modes 100]

What the file holds (layout: see `write()` below and src/prior/basis.ts, which reads it):
- the model vertices of ICT's `face` and `head_and_neck` regions (ids 0–11247), then *derived* vertices, each a
  fixed weighted sum of model vertices (the points where the neck cut crosses an edge, and the centres of the caps
  over the eyes and the mouth), so that every vertex of every mesh below is linear in the model's weights;
- the neutral shape (float32, cm), the first `--modes` identity modes and the 53 expression blendshapes as int8
  deltas with one float32 scale per mode (max quantisation error ~0.03 mm per mode, printed when run);
- two meshes on that vertex set, each as render vertices (model vertex id + uv; ICT splits vertices at uv seams)
  and triangles, wound counter-clockwise seen from outside in ICT's frame (+x subject's left, +y up, +z out of the
  face):
  - `face`: the face from the hairline to just under the chin, with the ears. ICT's `face` region also holds the
    front of the scalp and the whole front of the neck, down to ~9 cm below the chin; the neck is cut off along a
    smooth surface derived from the 68-landmark jaw line (JAW_MARGIN below it in front, NECK_CUT_Y behind the jaw's
    ends, blended in between), clipping the triangles it crosses so the outline is smooth, not a staircase of quads;
  - `head`: ICT's face and head-and-neck regions uncut (no hair: ICT has none).
  Both close the eyes and the mouth with caps (a fan from the loop's centre): the photo's eyes and mouth are baked
  onto them, and the surface has only its outer border open.
  UVs: ICT's face tile is u ∈ [0, 1], the head's u ∈ [1, 2] (UDIM-style); both mirror exactly (u ↔ 1 − u within
  their tile). They are kept as they are here: src/prior/basis.ts maps them into one atlas.
- the 68 Multi-PIE landmark vertex ids and the left/right mirror of every model vertex.

The data is derived from the ICT Face Model (MIT, © 2020 USC ICT); models/ICT-LICENSE holds its licence.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
JAW_MARGIN = 0.8  # cm below the jaw line (landmarks 0–16) that the face keeps in front
NECK_CUT_Y = -2.5  # cm: behind the jaw's ends the cut is this level (below the ear lobes, lowest at y ≈ −1.9)
BLEND = 2.0  # cm along z over which the two cuts blend, starting 0.5 cm behind the jaw's end points
MAGIC = b"VXICT\x00\x01\x00"


def triangulate(polys, uv_ids, keep):
    """ICT polygons (quads, or triangles repeating their last id) → triangles with their uv ids."""
    tris, tuv = [], []
    for p, q, k in zip(polys, uv_ids, keep):
        if not k:
            continue
        corners = [(0, 1, 2)] + ([(0, 2, 3)] if p[3] != p[2] else [])
        for c in corners:
            tris.append([p[c[0]], p[c[1]], p[c[2]]])
            tuv.append([q[c[0]], q[c[1]], q[c[2]]])
    return np.array(tris, np.int64), np.array(tuv, np.int64)


class Derived:
    """Vertices defined as weighted sums of model vertices: id → (ids, weights)."""

    def __init__(self, base: int):
        self.base = base
        self.defs: list[tuple[list[int], list[float]]] = []
        self.keys: dict = {}

    def add(self, key, ids, weights) -> int:
        if key in self.keys:
            return self.keys[key]
        self.defs.append((list(map(int, ids)), list(map(float, weights))))
        self.keys[key] = self.base + len(self.defs) - 1
        return self.keys[key]

    def expand(self, arr: np.ndarray) -> np.ndarray:
        """arr (..., base, 3) → (..., base + n, 3) with the derived rows appended."""
        rows = [sum(w * arr[..., i, :] for i, w in zip(ids, ws)) for ids, ws in self.defs]
        return np.concatenate([arr] + [r[..., None, :] for r in rows], axis=-2)


def cut_face(v, tris, tuv, uvs, jaw, derived):
    """Clips the face triangles against the neck cut h = 0 (h > 0 is kept). Returns triangles as lists of
    (model vertex, uv) corners."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    front = np.interp(x, jaw[:, 0], jaw[:, 1]) - JAW_MARGIN
    t = np.clip((z - (jaw[0, 2] - 0.5)) / BLEND, 0, 1)
    h = y - (t * front + (1 - t) * NECK_CUT_Y)
    out = []

    def edge_point(a, ua, b, ub):
        s = h[a] / (h[a] - h[b])
        key = ("cut",) + ((a, b) if a < b else (b, a))
        vid = derived.add(key, [a, b], [1 - s, s])
        return vid, tuple(uvs[ua] * (1 - s) + uvs[ub] * s)

    for tri, tu in zip(tris, tuv):
        inside = [h[i] > 0 for i in tri]
        corners = [(int(i), tuple(uvs[u])) for i, u in zip(tri, tu)]
        if all(inside):
            out.append(corners)
            continue
        if not any(inside):
            continue
        poly = []  # Sutherland–Hodgman against h = 0, keeping the winding
        for k in range(3):
            a, b = tri[k], tri[(k + 1) % 3]
            ua, ub = tu[k], tu[(k + 1) % 3]
            if inside[k]:
                poly.append(corners[k])
            if inside[k] != inside[(k + 1) % 3]:
                poly.append(edge_point(a, ua, b, ub))
        for k in range(1, len(poly) - 1):
            out.append([poly[0], poly[k], poly[k + 1]])
    return out


def largest_component(tris):
    """Keeps the triangles of the largest edge-connected piece."""
    parent = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for t in tris:
        ids = [c[0] for c in t]
        for i in ids[1:]:
            ra, rb = find(ids[0]), find(i)
            if ra != rb:
                parent[ra] = rb
    roots = [find(t[0][0]) for t in tris]
    vals, counts = np.unique(roots, return_counts=True)
    best = vals[np.argmax(counts)]
    return [t for t, r in zip(tris, roots) if r == best]


def boundary_loops(tris):
    """Closed loops of boundary edges (by model vertex), each in the triangles' winding order."""
    count = {}
    for t in tris:
        ids = [c[0] for c in t]
        for k in range(3):
            e = (ids[k], ids[(k + 1) % 3])
            count[e] = count.get(e, 0) + 1
    nxt = {a: b for (a, b) in count if (b, a) not in count}
    loops, seen = [], set()
    for start in nxt:
        if start in seen:
            continue
        loop, a = [], start
        while a not in seen:
            seen.add(a)
            loop.append(a)
            a = nxt[a]
        loops.append(loop)
    return loops


def add_caps(tris, v_all, derived, corner_uv):
    """Fans over the eye and mouth holes. Returns the new triangles and the loops capped."""
    loops = boundary_loops(tris)
    loops.sort(key=len, reverse=True)
    caps, capped = [], []
    for loop in loops[1:]:  # the longest is the outer border
        c = v_all[loop].mean(0)
        if not (abs(c[0]) < 6 and -6 < c[1] < 6 and c[2] > 5):
            print(f"  left open: a loop of {len(loop)} vertices at {c.round(2)}", file=sys.stderr)
            continue
        centre = derived.add(("cap", loop[0]), loop, [1.0 / len(loop)] * len(loop))
        uvc = tuple(np.mean([corner_uv[i] for i in loop], axis=0))
        n = len(loop)
        for k in range(n):
            a, b = loop[k], loop[(k + 1) % n]
            # the hole's boundary runs a → b in the surface's winding; the cap runs b → a
            caps.append([(b, corner_uv[b]), (a, corner_uv[a]), (centre, uvc)])
        capped.append((len(loop), c.round(2).tolist()))
    return caps, capped


def render_mesh(tris):
    """(model vertex, uv) corners → render vertices and an index buffer."""
    key_of, vid, uv, idx = {}, [], [], []
    for t in tris:
        for m, u in t:
            k = (m, round(u[0], 6), round(u[1], 6))
            if k not in key_of:
                key_of[k] = len(vid)
                vid.append(m)
                uv.append(u)
            idx.append(key_of[k])
    return np.array(vid, np.uint32), np.array(uv, np.float32), np.array(idx, np.uint32)


def quantise(deltas):
    """(M, V, 3) float → int8 and per-mode scales."""
    scale = np.abs(deltas).reshape(deltas.shape[0], -1).max(1) / 127.0
    scale[scale == 0] = 1
    q = np.clip(np.round(deltas / scale[:, None, None]), -127, 127).astype(np.int8)
    err = np.abs(q * scale[:, None, None] - deltas).max()
    return q, scale.astype(np.float32), err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ict", default=os.path.join(HERE, "..", "..", "shared", "ict-face-model"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "models", "ict-face.bin"))
    ap.add_argument("--modes", type=int, default=100)
    a = ap.parse_args()
    man = json.load(open(os.path.join(a.ict, "manifest.json")))
    neutral = np.load(os.path.join(a.ict, "neutral.npy")).astype(np.float64)
    polys = np.load(os.path.join(a.ict, "faces.npy")).astype(np.int64)
    puv = np.load(os.path.join(a.ict, "face_uvs.npy")).astype(np.int64)
    uvs = np.load(os.path.join(a.ict, "uvs.npy")).astype(np.float64)
    mats = np.load(os.path.join(a.ict, "face_material.npy"))
    names = man["materials"]
    f1 = man["vertex_regions"]["face"][1]
    h1 = man["vertex_regions"]["head_and_neck"][1]
    V = h1 + 1
    lm = np.array(man["landmarks68_multipie"], np.int64)
    skin = np.isin(mats, [names.index("M_Face"), names.index("M_BackHead")])
    face_keep = skin & (polys <= f1).all(1)
    head_keep = skin & (polys <= h1).all(1)
    v = neutral[:V]

    # the winding: ICT's polygons must face out (+z at the nose tip)
    ft, fuv = triangulate(polys, puv, face_keep)
    nose = lm[30]
    k = np.where((ft == nose).any(1))[0][0]
    a0, b0, c0 = v[ft[k]]
    flip = np.cross(b0 - a0, c0 - a0)[2] < 0
    if flip:
        ft, fuv = ft[:, ::-1], fuv[:, ::-1]
    ht, huv = triangulate(polys, puv, head_keep)
    if flip:
        ht, huv = ht[:, ::-1], huv[:, ::-1]

    derived = Derived(V)
    face = largest_component(cut_face(v, ft, fuv, uvs, v[lm[:17]], derived))
    head = largest_component([[(int(i), tuple(uvs[u])) for i, u in zip(t, tu)] for t, tu in zip(ht, huv)])
    # positions of derived cut vertices are needed to place caps' centres and classify loops
    v_all = derived.expand(v)
    corner_uv_face = {m: u for t in face for m, u in t}
    caps, capped = add_caps(face, v_all, derived, corner_uv_face)
    face += caps
    corner_uv_head = {m: u for t in head for m, u in t}
    hcaps, _ = add_caps(head, derived.expand(v), derived, corner_uv_head)
    head += hcaps
    print(f"face: {len(face)} triangles, caps over {capped}; head: {len(head)} triangles", file=sys.stderr)
    outer = sorted(boundary_loops(face), key=len, reverse=True)
    print(f"face border loops after caps: {[len(x) for x in outer]}", file=sys.stderr)

    # the mirror of every model vertex (x → −x), and of derived ones by their definitions
    from scipy.spatial import cKDTree

    # within each region (the face's and the head's vertices meet at coincident seam vertices)
    mirror = np.zeros(V, np.int64)
    for lo, hi in ((0, f1 + 1), (f1 + 1, V)):
        d, j = cKDTree(v[lo:hi]).query(v[lo:hi] * np.array([-1, 1, 1]))
        assert d.max() < 0.01, d.max()
        mirror[lo:hi] = j + lo
    assert (mirror[mirror] == np.arange(V)).all()

    identity = np.load(os.path.join(a.ict, "identity.npy"), mmap_mode="r")[: a.modes, :V].astype(np.float64)
    expression = np.load(os.path.join(a.ict, "expression.npy"), mmap_mode="r")[:, :V].astype(np.float64)
    neutral_all = derived.expand(v)
    identity_all = derived.expand(identity)
    expression_all = derived.expand(expression)
    qi, si, ei = quantise(identity_all)
    qe, se, ee = quantise(expression_all)
    print(f"int8 error: identity ≤ {ei * 10:.3f} mm, expression ≤ {ee * 10:.3f} mm per mode", file=sys.stderr)

    fvid, fuvs, fidx = render_mesh(face)
    hvid, huvs, hidx = render_mesh(head)
    derived_ids = np.concatenate([np.array(ids, np.uint32) for ids, _ in derived.defs])
    derived_w = np.concatenate([np.array(ws, np.float32) for _, ws in derived.defs])
    derived_n = np.array([len(ids) for ids, _ in derived.defs], np.uint32)
    buffers = [
        ("neutral", neutral_all.astype(np.float32)),
        ("identity", qi),
        ("identityScale", si),
        ("expression", qe),
        ("expressionScale", se),
        ("mirror", mirror.astype(np.uint32)),
        ("landmarks68", lm.astype(np.uint32)),
        ("derivedCount", derived_n),
        ("derivedIds", derived_ids),
        ("derivedWeights", derived_w),
        ("face.vertex", fvid),
        ("face.uv", fuvs),
        ("face.index", fidx),
        ("head.vertex", hvid),
        ("head.uv", huvs),
        ("head.index", hidx),
    ]
    header = {
        "format": "voxface ICT basis 1",
        "source": man["source"],
        "license": "MIT, Copyright (c) 2020 USC Institute for Creative Technologies (models/ICT-LICENSE); derived by scripts/ict-basis.py",
        "units": "cm; +x subject's left, +y up, +z out of the face",
        "modelVertices": V,
        "vertices": int(neutral_all.shape[0]),
        "identityModes": int(qi.shape[0]),
        "expressions": list(man["expressions"]),
        "neckCut": {"jawMargin": JAW_MARGIN, "neckCutY": NECK_CUT_Y, "blend": BLEND},
        "buffers": {},
    }
    blob = bytearray()
    for name, arr in buffers:
        arr = np.ascontiguousarray(arr)
        while len(blob) % 8:
            blob.append(0)
        header["buffers"][name] = {"offset": len(blob), "dtype": str(arr.dtype), "shape": list(arr.shape)}
        blob += arr.tobytes()
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * ((8 - (len(MAGIC) + 4 + len(js)) % 8) % 8)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC + struct.pack("<I", len(js)) + js + bytes(blob))
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: {os.path.getsize(a.out) / 2**20:.2f} MiB, {neutral_all.shape[0]} vertices "
          f"({len(derived.defs)} derived), face {len(fvid)} render vertices / {len(fidx) // 3} triangles, "
          f"head {len(hvid)} / {len(hidx) // 3}", file=sys.stderr)


if __name__ == "__main__":
    main()
