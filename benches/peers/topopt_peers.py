"""Peer for `adjoint topopt`: the 88-line algorithm in numpy/scipy with CHOLMOD (cvxopt).

The same algorithm as DTU's Python topology optimization code (Andreassen et al. 2011, the
88-line code translated): numpy/scipy assembly, CHOLMOD through cvxopt for the solve; the
MBB half-beam, volfrac 0.5, p = 3, ft = 1. Set-up (mesh, filter) is excluded; reports the
mean seconds per iteration and the part spent in the solve.

Not part of CI (needs `pip install numpy scipy cvxopt`). Run beside the Rust command, in one
session:

    python3 benches/peers/topopt_peers.py 300 100 3 10
    adjoint topopt --nelx 300 --nely 100 --rmin 3 --maxit 10 --json
"""

import sys
import time

import cvxopt
import cvxopt.cholmod
import numpy as np
from scipy.sparse import coo_matrix


def lk(nu=0.3):
    k = np.array([1 / 2 - nu / 6, 1 / 8 + nu / 8, -1 / 4 - nu / 12, -1 / 8 + 3 * nu / 8,
                  -1 / 4 + nu / 12, -1 / 8 - nu / 8, nu / 6, 1 / 8 - 3 * nu / 8])
    return 1 / (1 - nu ** 2) * np.array([
        [k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]],
        [k[1], k[0], k[7], k[6], k[5], k[4], k[3], k[2]],
        [k[2], k[7], k[0], k[5], k[6], k[3], k[4], k[1]],
        [k[3], k[6], k[5], k[0], k[7], k[2], k[1], k[4]],
        [k[4], k[5], k[6], k[7], k[0], k[1], k[2], k[3]],
        [k[5], k[4], k[3], k[2], k[1], k[0], k[7], k[6]],
        [k[6], k[3], k[4], k[1], k[2], k[7], k[0], k[5]],
        [k[7], k[2], k[1], k[4], k[3], k[6], k[5], k[0]]])


def main(nelx, nely, rmin, iterations, volfrac=0.5, penal=3.0):
    emin, emax = 1e-9, 1.0
    ndof = 2 * (nelx + 1) * (nely + 1)
    x = volfrac * np.ones(nely * nelx)
    xphys = x.copy()
    ke = lk()
    edof = np.zeros((nelx * nely, 8), dtype=int)
    for elx in range(nelx):
        for ely in range(nely):
            el = ely + elx * nely
            n1 = (nely + 1) * elx + ely
            n2 = (nely + 1) * (elx + 1) + ely
            edof[el, :] = np.array([2 * n1 + 2, 2 * n1 + 3, 2 * n2 + 2, 2 * n2 + 3,
                                    2 * n2, 2 * n2 + 1, 2 * n1, 2 * n1 + 1])
    ik = np.kron(edof, np.ones((8, 1))).flatten()
    jk = np.kron(edof, np.ones((1, 8))).flatten()
    nfilter = int(nelx * nely * ((2 * (np.ceil(rmin) - 1) + 1) ** 2))
    ih, jh, sh = np.zeros(nfilter), np.zeros(nfilter), np.zeros(nfilter)
    cc = 0
    for i in range(nelx):
        for j in range(nely):
            row = i * nely + j
            for k in range(int(max(i - (np.ceil(rmin) - 1), 0)), int(min(i + np.ceil(rmin), nelx))):
                for l in range(int(max(j - (np.ceil(rmin) - 1), 0)), int(min(j + np.ceil(rmin), nely))):
                    col = k * nely + l
                    ih[cc], jh[cc] = row, col
                    sh[cc] = max(0.0, rmin - np.sqrt((i - k) ** 2 + (j - l) ** 2))
                    cc += 1
    h = coo_matrix((sh, (ih, jh)), shape=(nelx * nely, nelx * nely)).tocsc()
    hs = h.sum(1)
    dofs = np.arange(ndof)
    fixed = np.union1d(dofs[0:2 * (nely + 1):2], np.array([ndof - 1]))
    free = np.setdiff1d(dofs, fixed)
    f = np.zeros((ndof, 1))
    f[1, 0] = -1
    u = np.zeros((ndof, 1))
    dv = np.ones(nely * nelx)
    times, solves, compliance = [], [], []
    for _ in range(iterations):
        t0 = time.perf_counter()
        sk = ((ke.flatten()[np.newaxis]).T * (emin + xphys ** penal * (emax - emin))).flatten(order="F")
        k = coo_matrix((sk, (ik, jk)), shape=(ndof, ndof)).tocsc()
        k = k[free, :][:, free]
        kc = k.tocoo()
        kc = cvxopt.spmatrix(kc.data, kc.row.astype(int), kc.col.astype(int))
        b = cvxopt.matrix(f[free, 0])
        t1 = time.perf_counter()
        cvxopt.cholmod.linsolve(kc, b)
        solves.append(time.perf_counter() - t1)
        u[free, 0] = np.array(b)[:, 0]
        ce = (np.dot(u[edof].reshape(nelx * nely, 8), ke) * u[edof].reshape(nelx * nely, 8)).sum(1)
        c = ((emin + xphys ** penal * (emax - emin)) * ce).sum()
        dc = (-penal * xphys ** (penal - 1) * (emax - emin)) * ce
        dc[:] = np.asarray((h * (x * dc))[np.newaxis].T / hs)[:, 0] / np.maximum(0.001, x)
        l1, l2, move = 0.0, 1e9, 0.2
        while (l2 - l1) / (l1 + l2) > 1e-3:
            lmid = 0.5 * (l2 + l1)
            xnew = np.maximum(0.0, np.maximum(x - move, np.minimum(1.0, np.minimum(x + move, x * np.sqrt(-dc / dv / lmid)))))
            xphys = xnew
            if xphys.sum() - volfrac * nelx * nely > 0:
                l1 = lmid
            else:
                l2 = lmid
        x = xnew
        compliance.append(c)
        times.append(time.perf_counter() - t0)
    print(f"python/cholmod {nelx}x{nely} rmin {rmin}: {np.mean(times) * 1e3:.1f} ms per iteration, "
          f"solve {np.mean(solves) * 1e3:.1f} ms, compliance after {iterations}: {compliance[-1]:.4f}")


if __name__ == "__main__":
    nelx, nely, rmin, iterations = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    main(nelx, nely, rmin, iterations)
