#!/usr/bin/env python3
"""Writes the shape_*.json fixtures for ShapeTests, SlicingTests,
ConcatenationTests and GatherTests with numpy, from seeded random inputs.

Run from anywhere: python3 make_shape_fixtures.py
Each tensor is stored as {"shape": [...], "values": [...]} (row-major,
float64 printed with repr so the values round-trip exactly).
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "values": array.reshape(-1).tolist()}


def write(name, content):
    with open(os.path.join(HERE, name), "w") as handle:
        json.dump(content, handle, indent=None, separators=(",", ":"))
        handle.write("\n")


def main():
    rng = np.random.default_rng(20261129)

    # Rank-4 permutation.
    x = rng.standard_normal((2, 3, 4, 5))
    permutation = [2, 0, 3, 1]
    write("shape_transpose.json", {
        "input": tensor(x),
        "permutation": permutation,
        "expected": tensor(np.transpose(x, permutation)),
    })

    # Strided slices with negative steps and bounds that Python clamps.
    x = rng.standard_normal((5, 7, 6))
    lower, upper, strides = [4, -2, 0], [0, 1, 10], [-2, -1, 2]
    write("shape_slice.json", {
        "input": tensor(x),
        # x[:, 6:-9:-3, :]: the end -9 clamps to "before index 0".
        "axis": 1, "start": 6, "end": -9, "step": -3,
        "axis_expected": tensor(x[:, 6:-9:-3, :]),
        "lower_bounds": lower, "upper_bounds": upper, "strides": strides,
        "box_expected": tensor(x[4:0:-2, -2:1:-1, 0:10:2]),
    })

    # broadcast_to with size-1 axes and new leading axes.
    x = rng.standard_normal((3, 1, 4, 1))
    target = [2, 3, 5, 4, 6]
    write("shape_broadcast.json", {
        "input": tensor(x),
        "target": target,
        "expected": tensor(np.broadcast_to(x, target)),
    })

    # Constant padding.
    x = rng.standard_normal((3, 4, 2))
    padding = [[1, 2], [0, 3], [2, 0]]
    write("shape_pad.json", {
        "input": tensor(x),
        "padding": padding,
        "value": 1.5,
        "expected": tensor(np.pad(x, padding, constant_values=1.5)),
    })

    # Gathers along the middle axis and their scatter-add adjoints, with
    # repeated indices.
    x = rng.standard_normal((3, 5, 4))
    take = [3, 0, 0, 4, 2, 0]
    slices_out = rng.standard_normal((3, len(take), 4))
    slices_scattered = np.zeros_like(x)
    np.add.at(slices_scattered, (slice(None), take), slices_out)
    along = rng.integers(0, 5, size=(3, 6, 4))
    elements_out = rng.standard_normal(along.shape)
    elements_scattered = np.zeros_like(x)
    for i in range(along.shape[0]):
        for j in range(along.shape[1]):
            for k in range(along.shape[2]):
                elements_scattered[i, along[i, j, k], k] += elements_out[i, j, k]
    write("shape_gather.json", {
        "input": tensor(x),
        "axis": 1,
        "take": take,
        "take_expected": tensor(np.take(x, take, axis=1)),
        "take_values": tensor(slices_out),
        "take_scattered": tensor(slices_scattered),
        "along_shape": list(along.shape),
        "along": along.reshape(-1).tolist(),
        "along_expected": tensor(np.take_along_axis(x, along, axis=1)),
        "along_values": tensor(elements_out),
        "along_scattered": tensor(elements_scattered),
    })

    # Concatenation along axis 1, with an empty piece.
    pieces = [rng.standard_normal((2, size, 4)) for size in (3, 0, 5)]
    write("shape_concat.json", {
        "pieces": [tensor(piece) for piece in pieces],
        "axis": 1,
        "expected": tensor(np.concatenate(pieces, axis=1)),
    })


if __name__ == "__main__":
    main()
