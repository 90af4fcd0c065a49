#!/usr/bin/env python3
"""Derives the Face Mesh → ICT correspondence: each of MediaPipe's 468 canonical vertices as a point on the ICT
face surface (three ICT vertex ids and barycentric weights). Writes src/prior/correspondence.ts.

    python3 scripts/facemesh-ict.py [--shared ../shared] [--out src/prior/correspondence.ts]

It reads the vertex mirror map of models/ict-face.bin: run scripts/ict-basis.py first.

How (the steps are printed with their residuals when run):
 1. Similarity (Umeyama) of the canonical mesh onto the ICT neutral face, from the 51 interior iBUG-68 landmark
    pairs (src/detect/mesh68.ts's Face Mesh vertices ↔ ICT's `landmarks68_multipie` vertices; the jaw points are
    left out: Face Mesh's oval and ICT's contour are not the same points).
 2. Rigid ICP: every canonical vertex to its closest point on the ICT face surface, the similarity re-solved, a few
    rounds.
 3. Non-rigid refinement: ICT's own identity (first 40 modes) and expression weights, plus the similarity, fitted
    to the closest points and the landmark pairs (regularised least squares), a few rounds, so that the ICT face
    takes the canonical face's proportions and each canonical vertex lands on the matching part of the face, not
    merely the nearest one of the mean face.
 4. Each canonical vertex's closest point on the refined surface, as (triangle, barycentric weights).
 5. Left/right symmetry: the canonical mesh is symmetric (vertex i ↔ its mirror j); ICT's face is too (vertex
    v ↔ mirror(v), exactly symmetric uvs). For each pair the two points are averaged (one mirrored), projected
    back onto the surface, and the pair's second point is set to the mirror of the first — same weights on the
    mirrored vertex ids —, so mirrored Face Mesh vertices map to mirrored ICT points exactly. Midline vertices
    are projected onto the midline the same way.
The canonical mesh is Apache-2.0 (MediaPipe); the ICT Face Model MIT (© 2020 USC ICT). Only the correspondence
(vertex ids and weights) is written.
"""
from __future__ import annotations

import argparse
import json
import os
import re

import numpy as np
from scipy.spatial import cKDTree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))


def mesh68_table() -> list[int]:
    """MESH_TO_IBUG68 from src/detect/mesh68.ts (the Face Mesh vertex of each iBUG landmark)."""
    src = open(os.path.join(ROOT, "src", "detect", "mesh68.ts")).read()
    body = src.split("MESH_TO_IBUG68: readonly number[] = [", 1)[1].split("];", 1)[0]
    body = re.sub(r"//[^\n]*", "", body)
    ids = [int(x) for x in re.findall(r"\d+", body)]
    assert len(ids) == 68, len(ids)
    return ids


def basis_mirror() -> np.ndarray:
    """The vertex mirror map of models/ict-face.bin (run scripts/ict-basis.py first)."""
    import struct

    raw = open(os.path.join(ROOT, "models", "ict-face.bin"), "rb").read()
    n = struct.unpack("<I", raw[8:12])[0]
    spec = json.loads(raw[12:12 + n])["buffers"]["mirror"]
    return np.frombuffer(raw, np.uint32, spec["shape"][0], 12 + n + spec["offset"]).astype(np.int64)


def read_obj_vertices(path: str) -> np.ndarray:
    return np.array([[float(t) for t in line.split()[1:4]] for line in open(path) if line.startswith("v ")])


def umeyama(src: np.ndarray, dst: np.ndarray, w: np.ndarray | None = None):
    """s, R, t minimising Σ w |s R src + t − dst|²."""
    w = np.ones(len(src)) if w is None else w
    w = w / w.sum()
    ms, md = w @ src, w @ dst
    a, b = src - ms, dst - md
    C = (b * w[:, None]).T @ a
    U, S, Vt = np.linalg.svd(C)
    D = np.eye(3)
    D[2, 2] = np.sign(np.linalg.det(U @ Vt))
    R = U @ D @ Vt
    s = np.trace(np.diag(S) @ D) / (w @ (a * a).sum(1))
    return s, R, md - s * R @ ms


def closest_on_triangles(p: np.ndarray, A: np.ndarray, B: np.ndarray, C: np.ndarray):
    """Closest points of p (N,3) on triangles (N,3 each): the point and its barycentric weights (Ericson, RTCD 5.1.5)."""
    ab, ac, ap = B - A, C - A, p - A
    d1, d2 = (ab * ap).sum(1), (ac * ap).sum(1)
    bp = p - B
    d3, d4 = (ab * bp).sum(1), (ac * bp).sum(1)
    cp = p - C
    d5, d6 = (ab * cp).sum(1), (ac * cp).sum(1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    n = len(p)
    bary = np.zeros((n, 3))
    den = va + vb + vc
    with np.errstate(divide="ignore", invalid="ignore"):
        v_in = vb / den
        w_in = vc / den
    bary[:] = np.stack([1 - v_in - w_in, v_in, w_in], 1)
    # regions, in reverse priority so earlier cases win
    with np.errstate(divide="ignore", invalid="ignore"):
        m = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
        t = (d4 - d3) / ((d4 - d3) + (d5 - d6))
        bary[m] = np.stack([np.zeros(n), 1 - t, t], 1)[m]
        m = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
        t = d2 / (d2 - d6)
        bary[m] = np.stack([1 - t, np.zeros(n), t], 1)[m]
        m = (d6 >= 0) & (d5 <= d6)
        bary[m] = [0, 0, 1]
        m = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
        t = d1 / (d1 - d3)
        bary[m] = np.stack([1 - t, t, np.zeros(n)], 1)[m]
        m = (d3 >= 0) & (d4 <= d3)
        bary[m] = [0, 1, 0]
        m = (d1 <= 0) & (d2 <= 0)
        bary[m] = [1, 0, 0]
    q = bary[:, :1] * A + bary[:, 1:2] * B + bary[:, 2:] * C
    return q, bary


class Surface:
    def __init__(self, v: np.ndarray, tris: np.ndarray):
        self.v, self.tris = v, tris
        self.tree = cKDTree(v[tris].mean(1))

    def closest(self, p: np.ndarray, k: int = 24):
        """Per point: triangle index, barycentric weights, closest point, distance."""
        _, cand = self.tree.query(p, k=k)
        best_d = np.full(len(p), np.inf)
        best = (np.zeros(len(p), int), np.zeros((len(p), 3)), np.zeros((len(p), 3)))
        for j in range(k):
            t = self.tris[cand[:, j]]
            q, b = closest_on_triangles(p, self.v[t[:, 0]], self.v[t[:, 1]], self.v[t[:, 2]])
            d = np.linalg.norm(q - p, axis=1)
            m = d < best_d
            best_d[m] = d[m]
            best[0][m], best[1][m], best[2][m] = cand[m, j], b[m], q[m]
        return best[0], best[1], best[2], best_d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--out", default=os.path.join(ROOT, "src", "prior", "correspondence.ts"))
    a = ap.parse_args()
    ict = os.path.join(a.shared, "ict-face-model")
    man = json.load(open(os.path.join(ict, "manifest.json")))
    f1 = man["vertex_regions"]["face"][1]
    V = f1 + 1
    neutral = np.load(os.path.join(ict, "neutral.npy")).astype(np.float64)[:V]
    identity = np.load(os.path.join(ict, "identity.npy"), mmap_mode="r")[:40, :V].astype(np.float64)
    expression = np.load(os.path.join(ict, "expression.npy"), mmap_mode="r")[:, :V].astype(np.float64)
    polys = np.load(os.path.join(ict, "faces.npy")).astype(np.int64)
    mats = np.load(os.path.join(ict, "face_material.npy"))
    keep = (mats == man["materials"].index("M_Face")) & (polys <= f1).all(1)
    tris = []
    for p in polys[keep]:
        tris.append(p[:3])
        if p[3] != p[2]:
            tris.append(p[[0, 2, 3]])
    tris = np.array(tris)
    lm_ict = np.array(man["landmarks68_multipie"])
    canon = read_obj_vertices(os.path.join(a.shared, "mediapipe-face-geometry", "canonical_face_model.obj"))
    assert canon.shape == (468, 3)
    lm_mp = np.array(mesh68_table())
    interior = np.arange(17, 68)

    # 1. similarity from the interior landmark pairs
    s, R, t = umeyama(canon[lm_mp[interior]], neutral[lm_ict[interior]])
    X = canon @ (s * R).T + t
    print(f"1. similarity from {len(interior)} landmark pairs: scale {s:.4f}, "
          f"landmark rms {np.sqrt(((X[lm_mp[interior]] - neutral[lm_ict[interior]]) ** 2).sum(1).mean()):.3f} cm")

    # 2. rigid ICP
    surf = Surface(neutral, tris)
    for it in range(5):
        _, _, q, d = surf.closest(X)
        w = (d < np.percentile(d, 90)).astype(float)
        s2, R2, t2 = umeyama(X, q, w)
        X = X @ (s2 * R2).T + t2
    _, _, q, d = surf.closest(X)
    print(f"2. rigid ICP: mean distance to the ICT surface {d.mean():.3f} cm (max {d.max():.3f})")

    # 3. non-rigid: ICT weights + similarity of the canonical points, fitted to their closest points
    shape = neutral.copy()
    B = np.concatenate([identity, expression], 0)  # (M, V, 3)
    M = B.shape[0]
    lam = np.concatenate([np.full(identity.shape[0], 0.05), np.full(expression.shape[0], 0.5)])
    coef = np.zeros(M)
    for it in range(6):
        surf = Surface(shape, tris)
        tri, bary, q, d = surf.closest(X)
        # target: the canonical points X should lie on the model surface at (tri, bary); landmark pairs at vertices
        ids = tris[tri]  # (468, 3)
        rows_B = (B[:, ids, :] * bary[None, :, :, None]).sum(2)  # (M, 468, 3)
        rows_0 = (neutral[ids] * bary[:, :, None]).sum(1)
        lmB, lm0 = B[:, lm_ict[interior], :], neutral[lm_ict[interior]]
        lmX = X[lm_mp[interior]]
        wl = 2.0
        Aq = np.concatenate([rows_B.reshape(M, -1), wl * lmB.reshape(M, -1)], 1).T
        bq = np.concatenate([(X - rows_0).ravel(), wl * (lmX - lm0).ravel()])
        coef = np.linalg.solve(Aq.T @ Aq + np.diag(lam) * len(bq) / 100, Aq.T @ bq)
        coef[identity.shape[0]:] = np.clip(coef[identity.shape[0]:], 0, 1)
        shape = neutral + np.tensordot(coef, B, 1)
        # and the similarity of the canonical points onto the refined surface
        _, _, q, d = Surface(shape, tris).closest(X)
        s2, R2, t2 = umeyama(X, q, (d < np.percentile(d, 90)).astype(float))
        X = X @ (s2 * R2).T + t2
    surf = Surface(shape, tris)
    tri, bary, q, d = surf.closest(X)
    print(f"3. non-rigid: mean distance {d.mean():.3f} cm (max {d.max():.3f}); identity norm "
          f"{np.linalg.norm(coef[:identity.shape[0]]):.2f}, expressions > 0.05: "
          f"{[(man['expressions'][i], round(c, 2)) for i, c in enumerate(coef[identity.shape[0]:]) if c > 0.05]}")

    # 4–5. symmetric correspondence on the refined surface
    mirror = basis_mirror()[:V]  # the same mirror map as the runtime's (some vertices coincide: one choice for all)
    assert (mirror < V).all() and np.abs(neutral[mirror] * [-1, 1, 1] - neutral).max() < 0.01
    mirror_canon = cKDTree(canon).query(canon * np.array([-1, 1, 1]))[1]
    assert (mirror_canon[mirror_canon] == np.arange(468)).all()
    P = q.copy()
    flipx = np.array([-1, 1, 1])
    done = np.zeros(468, bool)
    out_ids = np.zeros((468, 3), np.int64)
    out_w = np.zeros((468, 3))
    ref = (shape + shape[mirror] * flipx) / 2  # the refined surface made exactly symmetric
    surf = Surface(ref, tris)
    for i in range(468):
        if done[i]:
            continue
        j = mirror_canon[i]
        target = (P[i] + P[j] * flipx) / 2
        if i == j:
            target[0] = 0.0
        ti, bi, _, _ = surf.closest(target[None])
        ids = tris[ti[0]]
        out_ids[i], out_w[i] = ids, bi[0]
        if j != i:
            out_ids[j], out_w[j] = mirror[ids], bi[0]
        done[i] = done[j] = True
    pts = (ref[out_ids] * out_w[:, :, None]).sum(1)
    sym = np.abs(pts[mirror_canon] * flipx - pts).max()
    moved = np.linalg.norm(pts - q, axis=1)
    print(f"5. symmetric: points moved {moved.mean():.3f} cm on average (max {moved.max():.3f}); "
          f"asymmetry after {sym:.2e} cm; midline |x| max {np.abs(pts[mirror_canon == np.arange(468), 0]).max():.2e}")

    lines = [
        "/**",
        " * MediaPipe Face Mesh (468 canonical vertices) → points on the ICT Face Model's face surface.",
        " *",
        " * Face Mesh vertex i lies at `Σ_k FACEMESH_ICT_WEIGHTS[3i + k] · vertex[FACEMESH_ICT_IDS[3i + k]]` of any ICT",
        " * face (neutral, identity and expression alike: the model is linear). Derived once, offline, by",
        " * `python3 scripts/facemesh-ict.py` from MediaPipe's canonical mesh and the ICT neutral shape: a similarity on the",
        " * 51 interior iBUG-68 landmark pairs, rigid ICP, then a non-rigid refinement with ICT's own identity and",
        " * expression modes, each canonical vertex's closest point on the refined surface, made exactly left/right",
        " * symmetric (mirrored Face Mesh vertices map to the same weights on mirrored ICT vertices). The script's",
        " * docstring gives the details; it prints the residuals of each step.",
        " * The canonical mesh is Apache-2.0 (MediaPipe), the ICT Face Model MIT (© 2020 USC ICT); only ids and weights",
        " * are here.",
        " */",
        "",
        "// prettier-ignore",
        "export const FACEMESH_ICT_IDS: readonly number[] = [",
    ]
    for i in range(0, 468, 8):
        lines.append("  " + " ".join(f"{a},{b},{c}," for a, b, c in out_ids[i:i + 8]))
    lines += ["];", "", "// prettier-ignore", "export const FACEMESH_ICT_WEIGHTS: readonly number[] = ["]
    for i in range(0, 468, 6):
        lines.append("  " + " ".join(",".join(f"{x:.5f}" for x in w) + "," for w in out_w[i:i + 6]))
    lines += ["];", "", "/** The mirror of each Face Mesh vertex (its left/right counterpart; itself on the midline). */",
              "// prettier-ignore", "export const FACEMESH_MIRROR: readonly number[] = ["]
    for i in range(0, 468, 20):
        lines.append("  " + " ".join(f"{x}," for x in mirror_canon[i:i + 20]))
    lines += ["];", ""]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write("\n".join(lines))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
