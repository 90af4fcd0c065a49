"""Ceiling of identity from 68 landmarks: how well 68 3D (or 2D) points, similarity-normalised, with i.i.d. noise,
determine an ICT identity (60 modes) by ridge regression, as the identity-only error over the front of the face (mm).
Random ICT faces (100 identity modes ~ N(0, 1), four random expressions each); 3 500 to fit, 500 to score.

    /usr/bin/python3 training/identity_landmark_ceiling.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ict  # noqa: E402

m = ict.ICTModel.load()
V = m.neutral.shape[0]
FRONT = 6706
idm = m.identity.numpy().reshape(m.identity.shape[0], V, 3).astype(np.float64)  # K x V x 3
K = idm.shape[0]
ex = m.expression.numpy().reshape(m.expression.shape[0], V, 3).astype(np.float64) if hasattr(m, 'expression') else None
print('modes', K, 'expr', None if ex is None else ex.shape[0])
# the benchmark's 68 on ICT's face (src/prior/landmarks68-aflw.ts: their vertices; the fixed offsets do not matter here)
LM = np.array([8132, 8137, 12, 11260, 11263, 1838, 1674, 1444, 965, 2571, 3881, 4040, 11323, 11321, 2253, 7410, 7405, 386, 1010, 1032, 1415, 2000, 4200, 4232, 4116, 2736, 2627, 1307, 979, 4842, 4857, 4585, 4602, 4555, 5067, 5050, 1624, 690, 1928, 1370, 575, 580, 3136, 2895, 2849, 3759, 2823, 2813, 5921, 5720, 2069, 0, 4263, 6225, 6425, 6345, 6480, 5518, 5976, 5840, 5599, 6041, 5523, 6545, 6104, 6483, 5516, 5980])
LM = np.minimum(LM, V - 1)
rng = np.random.default_rng(0)
N = 4000
W = rng.standard_normal((N, K))
E = np.zeros((N, ex.shape[0])) if ex is not None else None
if ex is not None:
    for i in range(N):
        idx = rng.choice(ex.shape[0], 4, replace=False); E[i, idx] = rng.uniform(0, 0.6, 4)
neu = m.neutral.numpy().astype(np.float64)
L = neu[LM][None] + np.einsum('nk,kvd->nvd', W, idm[:, LM]) + (np.einsum('nk,kvd->nvd', E, ex[:, LM]) if ex is not None else 0)
def procrustes(P, Q):  # align P onto Q by similarity, return aligned P
    mp, mq = P.mean(0), Q.mean(0); A, B = P - mp, Q - mq
    U_, S, Vt = np.linalg.svd(A.T @ B); d = np.sign(np.linalg.det(U_ @ Vt)); D = np.diag([1, 1, d])
    R = U_ @ D @ Vt; s = (S * np.diag(D)).sum() / (A ** 2).sum()
    return s * A @ R + mq
ref = neu[LM]
U = idm[:60, :FRONT].reshape(60, -1)
def err_each(P, T):
    d = (P - T) @ U
    return 10 * np.sqrt((d.reshape(len(d), -1, 3) ** 2).sum(-1)).mean(1)
Yt_full = W
def run(noise_mm, dims=3):
    X = []
    for i in range(N):
        P = L[i] + rng.standard_normal(L[i].shape) * noise_mm / 10
        P = procrustes(P, ref)
        X.append(P[:, :dims].ravel())
    X = np.array(X); tr, te = slice(0, 3500), slice(3500, N)
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-9
    A = (X - mu) / sd
    Y = W[:, :60]
    best = 9
    for lam in [1, 10, 100, 1000]:
        B = np.linalg.solve(A[tr].T @ A[tr] + lam * np.eye(A.shape[1]), A[tr].T @ Y[tr])
        e = err_each(A[te] @ B, Y[te]).mean(); best = min(best, e)
    return best
print('mean face', err_each(np.zeros((500, 60)), W[3500:, :60]).mean())
for nz in [0, 1, 2, 4]:
    print('noise', nz, 'mm: 3D', round(run(nz, 3), 3), ' 2D', round(run(nz, 2), 3))
