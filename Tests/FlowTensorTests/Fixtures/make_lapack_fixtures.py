#!/usr/bin/env python3
"""Writes the lapack_*.json fixtures of the LinearAlgebra*Tests.

Run from this directory: `python3 make_lapack_fixtures.py` (numpy 2.4,
scipy 1.17). Every matrix is drawn from a seeded generator, so rerunning
rewrites identical files. Each file maps a name to {"shape", "values"}
(row-major, float64); names sharing a prefix belong to one case.
"""
import json

import numpy as np
import scipy.linalg


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    values = [v if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf"))
              for v in array.ravel().tolist()]
    return {"shape": list(array.shape), "values": values}


def write(name, cases):
    # One tensor a line, so that a regenerated file diffs by case.
    lines = [f"{json.dumps(key)}: {json.dumps(tensor(value))}" for key, value in cases.items()]
    with open(name, "w") as file:
        file.write("{\n" + ",\n".join(lines) + "\n}\n")


rng = np.random.default_rng(20261129)

# LU (scipy: a = p @ l @ u) and solve, for several orders.
lu = {}
for n in (1, 4, 7):
    a = rng.standard_normal((n, n))
    p, l, u = scipy.linalg.lu(a)
    b_vector = rng.standard_normal(n)
    b_matrix = rng.standard_normal((n, 3))
    lu.update({f"n{n}.a": a, f"n{n}.p": p, f"n{n}.l": l, f"n{n}.u": u,
               f"n{n}.b_vector": b_vector, f"n{n}.x_vector": np.linalg.solve(a, b_vector),
               f"n{n}.b_matrix": b_matrix, f"n{n}.x_matrix": np.linalg.solve(a, b_matrix)})
# A batch of systems, with one and several right-hand sides.
a = rng.standard_normal((2, 3, 4, 4))
b_vectors = rng.standard_normal((2, 3, 4))
b_matrices = rng.standard_normal((2, 3, 4, 2))
lu.update({"batch.a": a, "batch.b_vectors": b_vectors,
           "batch.x_vectors": np.linalg.solve(a, b_vectors[..., None])[..., 0],
           "batch.b_matrices": b_matrices, "batch.x_matrices": np.linalg.solve(a, b_matrices)})
write("lapack_lu.json", lu)

# slogdet, single and batched.
slogdet = {}
for name, shape in (("single", (6, 6)), ("one", (1, 1)), ("batch", (2, 3, 5, 5))):
    a = rng.standard_normal(shape)
    sign, logdet = np.linalg.slogdet(a)
    slogdet.update({f"{name}.a": a, f"{name}.sign": sign, f"{name}.logdet": logdet})
write("lapack_slogdet.json", slogdet)

# inverse, single and batched.
inverse = {}
for name, shape in (("single", (5, 5)), ("batch", (3, 4, 4))):
    a = rng.standard_normal(shape)
    inverse.update({f"{name}.a": a, f"{name}.inverse": np.linalg.inv(a)})
write("lapack_inverse.json", inverse)

# Cholesky of symmetric positive-definite M·Mᵀ + n·I.
cholesky = {}
for name, shape in (("single", (6, 6)), ("batch", (2, 3, 3))):
    m = rng.standard_normal(shape)
    a = m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])
    cholesky.update({f"{name}.a": a, f"{name}.lower": np.linalg.cholesky(a)})
write("lapack_cholesky.json", cholesky)

# Triangular solves: a full matrix (only one triangle is read) with a
# diagonal kept away from zero, every flag combination.
triangular = {}
n = 5
a = rng.standard_normal((n, n)) + 3 * np.eye(n)
b_matrix = rng.standard_normal((n, 3))
b_vector = rng.standard_normal(n)
triangular.update({"a": a, "b_matrix": b_matrix, "b_vector": b_vector})
for lower in (False, True):
    for transposed in (False, True):
        for unit in (False, True):
            key = f"{'lower' if lower else 'upper'}.{'T' if transposed else 'N'}.{'unit' if unit else 'diagonal'}"
            for b_name, b in (("matrix", b_matrix), ("vector", b_vector)):
                triangular[f"{key}.x_{b_name}"] = scipy.linalg.solve_triangular(
                    a, b, lower=lower, trans=1 if transposed else 0, unit_diagonal=unit)
write("lapack_triangular.json", triangular)

# Reduced QR of tall, square, wide and batched matrices.
qr = {}
for name, shape in (("tall", (6, 4)), ("square", (4, 4)), ("wide", (3, 5)), ("batch", (2, 5, 3))):
    a = rng.standard_normal(shape)
    q, r = np.linalg.qr(a, mode="reduced")
    qr.update({f"{name}.a": a, f"{name}.q": q, f"{name}.r": r})
write("lapack_qr.json", qr)
