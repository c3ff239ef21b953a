#!/usr/bin/env python3
"""Writes recsys/testdata/ials_golden.json: implicit ALS on a toy matrix,
solved exactly in float64 by NumPy, the reference TestIALSNumPyGolden
compares recsys's conjugate gradient solver with.

The objective (recsys.IALSConfig): preference p_ui = 1 where w_ui > 0,
confidence c_ui = 1 + alpha * w_ui there and 1 elsewhere; each row's
regularization lambda_u = reg * (alpha * sum_i w_ui + n_items), n_items
the items with interactions (lambda_i likewise with n_users). Rows without
interactions are zero throughout.

    /usr/bin/python3 tools/implicit/ials_golden.py   # Debian: apt-get install python3-numpy
"""
import json
import os

import numpy as np

USERS, ITEMS, FACTORS, ITERATIONS = 12, 10, 4, 5
ALPHA, REG = 2.0, 0.05


def main():
    rng = np.random.default_rng(31)
    w = np.zeros((USERS, ITEMS))
    for u in range(USERS - 1):  # the last user has no interactions
        for i in rng.choice(ITEMS - 1, size=rng.integers(1, 6), replace=False):  # nor the last item
            w[u, i] = float(rng.integers(1, 4))
    x = rng.normal(0, 0.1, (USERS, FACTORS))
    y = rng.normal(0, 0.1, (ITEMS, FACTORS))
    init_x, init_y = x.copy(), y.copy()
    x[w.sum(axis=1) == 0] = 0
    y[w.sum(axis=0) == 0] = 0
    for _ in range(ITERATIONS):
        x = half(w, y)
        y = half(w.T, x)
    out = {
        "users": USERS, "items": ITEMS, "factors": FACTORS, "iterations": ITERATIONS,
        "alpha": ALPHA, "reg": REG,
        "weights": w.tolist(), "init_user": init_x.tolist(), "init_item": init_y.tolist(),
        "user": x.tolist(), "item": y.tolist(),
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "recsys", "testdata", "ials_golden.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")


def half(w, y):
    """Solves every row of w against the fixed other side y, exactly."""
    others = int((np.abs(y).sum(axis=1) > 0).sum())
    x = np.zeros((w.shape[0], y.shape[1]))
    for r in range(w.shape[0]):
        if not (w[r] > 0).any():
            continue
        c = 1 + ALPHA * w[r]
        p = (w[r] > 0).astype(float)
        lam = REG * (ALPHA * w[r].sum() + others)
        a = y.T @ (c[:, None] * y) + lam * np.eye(y.shape[1])
        x[r] = np.linalg.solve(a, y.T @ (c * p))
    return x


if __name__ == "__main__":
    main()
