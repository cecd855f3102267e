#!/usr/bin/env python3
"""Writes the fixtures of ReductionTests and SoftmaxTests.

Run from this directory: `python3 make_reduction_fixtures.py` (numpy 2.4,
scipy 1.17). Expected values are computed in float64 by numpy and scipy.

- reduction_axes.json: a seeded random [3, 4, 5, 2] array (its values
  rounded to float32, so both precisions read the same input) and the result
  of every reduction over each axis set, with and without keepdims, and of
  argmax/argmin along each axis.
- reduction_softmax.json: the same array's softmax and log-softmax along
  each axis.
- reduction_nonfinite.json: rows with ±inf and NaN, and what numpy/scipy
  give for them, row by row (last axis). One deliberate difference: a row
  holding +inf has a NaN log-softmax throughout, the logarithm of its
  softmax (scipy's and torch's agree there) and torch's log_softmax, where
  scipy's log_softmax shifts by 0 instead and gives -inf beside the +inf.
"""
import json

import numpy as np
from scipy.special import log_softmax, logsumexp, softmax

AXIS_SETS = [[], [0], [1], [3], [0, 2], [1, 3], [0, 1, 2, 3], [-1]]


def encode(value):
    value = float(value)
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "values": [encode(v) for v in array.ravel()]}


def write(name, content):
    """One top-level entry, or one case, per line."""
    def dump(value):
        if isinstance(value, list):
            return "[\n" + ",\n".join(json.dumps(item) for item in value) + "\n]"
        return json.dumps(value)
    with open(name, "w") as file:
        file.write("{\n" + ",\n".join(f"{json.dumps(key)}: {dump(value)}" for key, value in content.items()) + "\n}\n")


def main():
    rng = np.random.default_rng(20261129)
    x = (3 * rng.standard_normal((3, 4, 5, 2))).astype(np.float32).astype(np.float64)

    reductions = {
        "sum": lambda a, axes, keep: np.sum(a, axis=axes, keepdims=keep),
        "mean": lambda a, axes, keep: np.mean(a, axis=axes, keepdims=keep),
        "max": lambda a, axes, keep: np.max(a, axis=axes, keepdims=keep),
        "min": lambda a, axes, keep: np.min(a, axis=axes, keepdims=keep),
        "logSumExp": lambda a, axes, keep: logsumexp(a, axis=axes, keepdims=keep)
        if axes != () else a.copy(),
    }
    cases = []
    for axes in AXIS_SETS:
        for keep in (False, True):
            for name, function in reductions.items():
                cases.append({"operation": name, "axes": axes, "keepingDimensions": keep, "correction": 0,
                              "expected": tensor(function(x, tuple(axes), keep))})
            for correction in (0, 1):
                cases.append({"operation": "variance", "axes": axes, "keepingDimensions": keep,
                              "correction": correction,
                              "expected": tensor(np.var(x, axis=tuple(axes), keepdims=keep, ddof=correction))})
    for axis in [0, 1, 2, 3, -1]:
        for keep in (False, True):
            for name, function in (("argmax", np.argmax), ("argmin", np.argmin)):
                cases.append({"operation": name, "axes": [axis], "keepingDimensions": keep, "correction": 0,
                              "expected": tensor(function(x, axis=axis, keepdims=keep))})
    write("reduction_axes.json", {"input": tensor(x), "cases": cases})

    write("reduction_softmax.json", {
        "input": tensor(x),
        "cases": [{"axis": axis, "softmax": tensor(softmax(x, axis=axis)),
                   "logSoftmax": tensor(log_softmax(x, axis=axis))} for axis in [0, 1, 2, 3, -1]],
    })

    inf, nan = np.inf, np.nan
    rows = np.array([
        [1000.0, 1000.0, -inf],
        [-inf, -inf, -inf],
        [-inf, 0.0, 1.0],
        [inf, 1.0, -inf],
        [inf, -inf, 2.0],
        [nan, 1.0, inf],
        [2.0, nan, nan],
        [-1.0, -1.0, -5.0],
    ])
    with np.errstate(all="ignore"):
        write("reduction_nonfinite.json", {
            "input": tensor(rows),
            "max": tensor(np.max(rows, axis=1)),
            "min": tensor(np.min(rows, axis=1)),
            "argmax": tensor(np.argmax(rows, axis=1)),
            "argmin": tensor(np.argmin(rows, axis=1)),
            "logSumExp": tensor(logsumexp(rows, axis=1)),
            "softmax": tensor(softmax(rows, axis=1)),
            "logSoftmax": tensor(np.where(np.isposinf(rows).any(axis=1, keepdims=True),
                                          nan, log_softmax(rows, axis=1))),
        })


if __name__ == "__main__":
    main()
