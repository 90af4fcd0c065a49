"""The ICT Face Model (MIT, USC ICT) as torch tensors, and a sampler of random faces.

    model = ICTModel.load('../shared/ict-face-model', device='cpu')
    faces = sample_faces(model, batch=8, generator=torch.Generator().manual_seed(0))
    faces.vertices  # (B, V, 3) in centimetres: +x subject's left, +y up, +z out of the face

Everything the renderer needs about the mesh topology (triangles, parts, per-vertex feature masks
for brows, lips, eyes, stubble) is precomputed here once.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch

# Parts of the ICT mesh by material name (see manifest.json). Eye "blend"/"occlusion" and lacrimal fluid
# are transparent helper shells in the original asset: we do not render them.
PART_OF_MATERIAL = {
    "M_Face": "skin",
    "M_BackHead": "skin",
    "M_GumsTongue": "gums",
    "M_Teeth": "teeth",
    "M_ScleraLeft": "sclera",
    "M_ScleraRight": "sclera",
    "M_IrisLeft": "iris",
    "M_IrisRight": "iris",
    "M_EyeLashes": "lashes",
}
PARTS = ["skin", "gums", "teeth", "sclera", "iris", "lashes"]

# ARKit-style expression groups for sampling plausible, sparse expressions.
EXPRESSION_GROUPS = {
    "jaw": ["jawOpen"],
    "smile": ["mouthSmile_L", "mouthSmile_R", "cheekSquint_L", "cheekSquint_R"],
    "blink": ["eyeBlink_L", "eyeBlink_R"],
    "brows_up": ["browInnerUp_L", "browInnerUp_R", "browOuterUp_L", "browOuterUp_R"],
    "brows_down": ["browDown_L", "browDown_R"],
    "pucker": ["mouthPucker", "mouthFunnel"],
    "frown": ["mouthFrown_L", "mouthFrown_R"],
    "stretch": ["mouthStretch_L", "mouthStretch_R"],
    "squint": ["eyeSquint_L", "eyeSquint_R"],
    "wide": ["eyeWide_L", "eyeWide_R"],
    "sneer": ["noseSneer_L", "noseSneer_R"],
    "puff": ["cheekPuff_L", "cheekPuff_R"],
    "shrug": ["mouthShrugLower", "mouthShrugUpper"],
    "lips_roll": ["mouthRollLower", "mouthRollUpper"],
    "press": ["mouthPress_L", "mouthPress_R"],
    "dimple": ["mouthDimple_L", "mouthDimple_R"],
    "upper_up": ["mouthUpperUp_L", "mouthUpperUp_R"],
    "lower_down": ["mouthLowerDown_L", "mouthLowerDown_R"],
    "jaw_side": ["jawLeft", "jawRight"],
    "mouth_side": ["mouthLeft", "mouthRight"],
    "look": ["eyeLookDown_L", "eyeLookDown_R", "eyeLookUp_L", "eyeLookUp_R"],
}


def shared_dir() -> str:
    """Path of the project's shared data (env VOXFACE_SHARED, else ../shared next to the repo)."""
    env = os.environ.get("VOXFACE_SHARED")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared"))


@dataclass
class ICTModel:
    neutral: torch.Tensor  # (V, 3)
    identity: torch.Tensor  # (100, V*3)
    expression: torch.Tensor  # (53, V*3)
    expression_names: list[str]
    triangles: torch.Tensor  # (T, 3) long, rendered triangles (all parts)
    tri_part: torch.Tensor  # (T,) long index into PARTS
    face_triangles: torch.Tensor  # (Tf, 3) long, triangles of the face region (target surface)
    landmarks68: torch.Tensor  # (68,) long vertex ids
    vertex_masks: torch.Tensor  # (V, K) float feature masks, see FEATURES
    vertex_uv: torch.Tensor  # (V, 2) a per-vertex uv (for procedural noise lookups)
    face_vertex_count: int

    FEATURES = ["brows", "lips", "eye_area", "beard", "cheeks", "nose", "scalp", "forehead"]

    @staticmethod
    def load(path: str | None = None, device: str | torch.device = "cpu") -> "ICTModel":
        path = path or os.path.join(shared_dir(), "ict-face-model")
        man = json.load(open(os.path.join(path, "manifest.json")))
        neutral = np.load(os.path.join(path, "neutral.npy")).astype(np.float32)
        V = neutral.shape[0]
        identity = np.load(os.path.join(path, "identity.npy")).astype(np.float32).reshape(100, V * 3)
        expression = np.load(os.path.join(path, "expression.npy")).astype(np.float32).reshape(-1, V * 3)
        polys = np.load(os.path.join(path, "faces.npy")).astype(np.int64)
        mats = np.load(os.path.join(path, "face_material.npy"))
        uvs = np.load(os.path.join(path, "uvs.npy")).astype(np.float32)
        poly_uv = np.load(os.path.join(path, "face_uvs.npy")).astype(np.int64)
        names = man["materials"]
        f0, f1 = man["vertex_regions"]["face"]

        tris, parts, face_tris = [], [], []
        for poly, m in zip(polys, mats):
            part = PART_OF_MATERIAL.get(names[m])
            quad = poly[3] != poly[2]
            ts = [(poly[0], poly[1], poly[2])] + ([(poly[0], poly[2], poly[3])] if quad else [])
            for t in ts:
                if part is not None:
                    tris.append(t)
                    parts.append(PARTS.index(part))
                if all(f0 <= i <= f1 for i in t):
                    face_tris.append(t)
        # a per-vertex uv: first uv seen for each vertex
        vuv = np.zeros((V, 2), np.float32)
        vuv[polys.reshape(-1)] = uvs[poly_uv.reshape(-1)]

        lm = np.array(man["landmarks68_multipie"], np.int64)
        masks = _feature_masks(neutral, lm, man["vertex_regions"])
        t = lambda a, dt=torch.float32: torch.as_tensor(a, dtype=dt, device=device)  # noqa: E731
        return ICTModel(
            neutral=t(neutral),
            identity=t(identity),
            expression=t(expression),
            expression_names=list(man["expressions"]),
            triangles=t(np.array(tris), torch.long),
            tri_part=t(np.array(parts), torch.long),
            face_triangles=t(np.array(face_tris), torch.long),
            landmarks68=t(lm, torch.long),
            vertex_masks=t(masks),
            vertex_uv=t(vuv),
            face_vertex_count=f1 + 1,
        )

    def to(self, device) -> "ICTModel":
        kw = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}
        return ICTModel(**kw)


def _polyline_distance(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Distance from each point (N,3) to a polyline (M,3)."""
    best = np.full(points.shape[0], np.inf, np.float32)
    for a, b in zip(line[:-1], line[1:]):
        ab = b - a
        t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
        d = np.linalg.norm(points - (a + t[:, None] * ab), axis=1)
        best = np.minimum(best, d)
    return best


def _feature_masks(v: np.ndarray, lm: np.ndarray, regions: dict) -> np.ndarray:
    """Soft per-vertex masks (0..1) of facial features on the neutral mesh, from the 68 landmarks."""
    L = v[lm]
    V = v.shape[0]
    f1 = regions["face"][1]
    face = np.zeros(V, np.float32)
    face[: f1 + 1] = 1
    head = np.zeros(V, np.float32)
    h0, h1 = regions["head_and_neck"]
    head[h0 : h1 + 1] = 1
    skin = np.maximum(face, head)

    def soft(d, r0, r1):
        return np.clip((r1 - d) / (r1 - r0), 0, 1)

    brow_l = _polyline_distance(v, L[17:22])
    brow_r = _polyline_distance(v, L[22:27])
    brows = soft(np.minimum(brow_l, brow_r), 0.35, 0.75) * skin
    # lips: inside the outer lip contour, projected to the front (x, y)
    lips_d = _polyline_distance(v, np.concatenate([L[48:60], L[48:49]]))
    mouth_c = L[48:60].mean(0)
    rx = (L[54, 0] - L[48, 0]) / 2
    ry = (L[57, 1] - L[51, 1]) / 2
    ell = ((v[:, 0] - mouth_c[0]) / (rx * 1.02)) ** 2 + ((v[:, 1] - mouth_c[1]) / (abs(ry) * 1.1 + 1e-3)) ** 2
    lips = np.maximum(soft(lips_d, 0.05, 0.3), (ell < 1).astype(np.float32)) * face * (v[:, 2] > L[51, 2] - 2.5)
    eye_l = _polyline_distance(v, np.concatenate([L[36:42], L[36:37]]))
    eye_r = _polyline_distance(v, np.concatenate([L[42:48], L[42:43]]))
    eye_area = soft(np.minimum(eye_l, eye_r), 0.3, 1.4) * skin
    # beard area: below the nose, around the mouth and along the jaw
    jaw = _polyline_distance(v, L[0:17])
    below_nose = (v[:, 1] < L[33, 1] + 0.3).astype(np.float32)
    beard = np.clip(soft(jaw, 0.0, 3.5) + soft(lips_d, 0.2, 2.5), 0, 1) * below_nose * (1 - lips) * skin
    cheek_l = np.linalg.norm(v - (L[2] * 0.4 + L[31] * 0.6), axis=1)
    cheek_r = np.linalg.norm(v - (L[14] * 0.4 + L[35] * 0.6), axis=1)
    cheeks = soft(np.minimum(cheek_l, cheek_r), 0.5, 2.5) * face
    nose = soft(_polyline_distance(v, L[27:31]), 0.2, 1.2) * face
    # scalp: head region above the brows, behind the forehead (where hair usually is)
    brow_top = L[17:27, 1].max()
    scalp = np.clip((v[:, 1] - (brow_top + 4.0)) / 1.5, 0, 1) * skin
    scalp = np.maximum(scalp, head * (v[:, 2] < L[0, 2] - 1.0) * (v[:, 1] > L[0, 1] - 1.0))
    forehead = np.clip((v[:, 1] - (brow_top + 0.8)) / 2.0, 0, 1) * face
    return np.stack([brows, lips, eye_area, beard, cheeks, nose, scalp, forehead], 1).astype(np.float32)


@dataclass
class FaceBatch:
    vertices: torch.Tensor  # (B, V, 3) cm, model frame
    identity: torch.Tensor  # (B, 100)
    expression: torch.Tensor  # (B, 53)


def sample_expressions(model: ICTModel, batch: int, gen: torch.Generator, device) -> torch.Tensor:
    """Sparse, plausible expressions: a few active groups per face, with mild left/right asymmetry."""
    names = model.expression_names
    e = torch.zeros(batch, len(names), device=device)
    groups = list(EXPRESSION_GROUPS.items())
    for b in range(batch):
        u = torch.rand(8, generator=gen).tolist()
        if u[0] < 0.25:  # neutral
            continue
        k = 1 + int(u[1] * 3)
        picks = torch.randperm(len(groups), generator=gen)[:k].tolist()
        if u[2] < 0.35:  # open mouths are common in photos and hard for the network
            picks.append(0)
        for gi in picks:
            _, members = groups[gi]
            strength = 0.2 + 0.8 * float(torch.rand(1, generator=gen))
            if members[0] in ("jawLeft", "mouthLeft"):  # one side only
                members = [members[int(torch.rand(1, generator=gen) < 0.5)]]
                strength *= 0.6
            for m in members:
                asym = 1.0 + 0.25 * (float(torch.rand(1, generator=gen)) - 0.5)
                e[b, names.index(m)] = min(1.0, strength * asym)
    return e


def sample_faces(model: ICTModel, batch: int, gen: torch.Generator, identity_scale: float = 1.0) -> FaceBatch:
    device = model.neutral.device
    w = torch.randn(batch, model.identity.shape[0], generator=gen).to(device) * identity_scale
    e = sample_expressions(model, batch, gen, device)
    V = model.neutral.shape[0]
    verts = model.neutral[None] + (w @ model.identity + e @ model.expression).view(batch, V, 3)
    return FaceBatch(vertices=verts, identity=w, expression=e)


def rotation_matrix(yaw: torch.Tensor, pitch: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """(B,3,3) rotation from degrees. Model frame: +y up, +z toward the camera.

    yaw turns the head about the vertical axis (positive: the face turns toward the camera's right...
    i.e. the subject's left), pitch nods (positive: chin down), roll tilts in the image plane.
    Applied as R = Rz(roll) @ Rx(pitch) @ Ry(yaw).
    """
    y, p, r = (torch.deg2rad(a) for a in (yaw, pitch, roll))
    cy, sy, cp, sp, cr, sr = y.cos(), y.sin(), p.cos(), p.sin(), r.cos(), r.sin()
    o, z = torch.ones_like(y), torch.zeros_like(y)
    Ry = torch.stack([cy, z, sy, z, o, z, -sy, z, cy], -1).view(-1, 3, 3)
    Rx = torch.stack([o, z, z, z, cp, -sp, z, sp, cp], -1).view(-1, 3, 3)
    Rz = torch.stack([cr, -sr, z, sr, cr, z, z, z, o], -1).view(-1, 3, 3)
    return Rz @ Rx @ Ry


def sample_poses(batch: int, gen: torch.Generator, max_yaw=90.0, max_pitch=45.0, max_roll=45.0):
    """Yaw uniform over ±max_yaw (profiles as common as frontal views); pitch, roll mostly moderate."""
    yaw = (torch.rand(batch, generator=gen) * 2 - 1) * max_yaw
    pitch = torch.randn(batch, generator=gen).mul(max_pitch / 2.5).clamp(-max_pitch, max_pitch)
    roll = torch.randn(batch, generator=gen).mul(max_roll / 2.5).clamp(-max_roll, max_roll)
    return yaw, pitch, roll


def degrees_to_matrix_np(yaw: float, pitch: float, roll: float) -> np.ndarray:
    return rotation_matrix(*(torch.tensor([a], dtype=torch.float32) for a in (yaw, pitch, roll)))[0].numpy()


__all__ = ["ICTModel", "FaceBatch", "sample_faces", "sample_poses", "rotation_matrix", "shared_dir", "PARTS"]


def repo_dir() -> str:
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


@dataclass
class PriorMesh:
    """The runtime prior's face mesh (models/ict-face.bin), on ICT's vertices plus derived ones.

    Vertex ids < 11248 are ICT's; id 11248 + k is derived vertex k = Σ weights · ICT vertices (the neck cut's edge
    points, the eye and mouth cap centres). `triangles` index that extended set with the derived ones renumbered
    to `V + k` (V = ICT's full vertex count), so they can follow ICT's posed vertices.
    """
    triangles: torch.Tensor  # (T, 3) long, ids in [0, V + n_derived)
    cap: torch.Tensor  # (T,) bool: a cap triangle (eyes, mouth), not a surface of the real face
    derived_owner: torch.Tensor  # (E,) long: the derived vertex each (id, weight) entry belongs to
    derived_ids: torch.Tensor  # (E,) long ICT vertex ids
    derived_weights: torch.Tensor  # (E,) float
    n_derived: int

    @staticmethod
    def load(V: int, path: str | None = None, device="cpu") -> "PriorMesh":
        import struct

        path = path or os.path.join(repo_dir(), "models", "ict-face.bin")
        raw = open(path, "rb").read()
        n = struct.unpack("<I", raw[8:12])[0]
        head = json.loads(raw[12 : 12 + n])
        base = 12 + n

        def arr(name):
            spec = head["buffers"][name]
            dt = np.dtype(spec["dtype"])
            return np.frombuffer(raw, dt, int(np.prod(spec["shape"])), base + spec["offset"]).reshape(spec["shape"])

        M0 = head["modelVertices"]
        counts = arr("derivedCount").astype(np.int64)
        owner = np.repeat(np.arange(len(counts)), counts)
        vid = arr("face.vertex").astype(np.int64)
        tri = vid[arr("face.index").astype(np.int64).reshape(-1, 3)]
        is_cap_vertex = np.zeros(M0 + len(counts), bool)
        is_cap_vertex[M0:] = counts >= 3
        cap = is_cap_vertex[tri].any(1)
        tri = np.where(tri >= M0, tri - M0 + V, tri)
        t = lambda a, dt=torch.long: torch.as_tensor(np.array(a, dtype=np.int64 if dt == torch.long else None), dtype=dt, device=device)  # noqa: E731
        return PriorMesh(triangles=t(tri), cap=t(cap, torch.bool), derived_owner=t(owner), derived_ids=t(arr("derivedIds")),
                         derived_weights=t(arr("derivedWeights"), torch.float32), n_derived=len(counts))

    def extend(self, verts: torch.Tensor) -> torch.Tensor:
        """(B, V, 3) → (B, V + n_derived, 3): the derived vertices appended."""
        B = verts.shape[0]
        d = torch.zeros(B, self.n_derived, verts.shape[-1], device=verts.device, dtype=verts.dtype)
        d.index_add_(1, self.derived_owner, verts[:, self.derived_ids] * self.derived_weights[None, :, None])
        return torch.cat([verts, d], 1)
