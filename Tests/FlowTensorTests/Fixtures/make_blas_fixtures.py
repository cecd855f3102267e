#!/usr/bin/env python3
"""Writes the fixtures of MatrixMultiplicationTests and ConvolutionTests.

    python3 Tests/FlowTensorTests/Fixtures/make_blas_fixtures.py

blas_matmul.json: numpy.matmul on seeded normal operands, every case named,
with the transposition flags the Swift call passes (the script transposes
the last two axes itself with swapaxes).

conv_conv2d.json: a convolution (cross-correlation, NCHW, zero padding)
written as explicit loops over output pixels, so it shares no im2col/gemm
code path with the implementation under test, plus its two gradients for
a seeded output gradient `g`, also by loops:
  inputGradient[b, c, y, x]  = sum of w[o, c, i, j] * g[b, o, oy, ox]
                               over oy*sh + i - ph = y, ox*sw + j - pw = x,
  filterGradient[o, c, i, j] = sum over b, oy, ox of
                               g[b, o, oy, ox] * x[b, c, oy*sh + i - ph, ox*sw + j - pw].
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261129)


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "values": [float(v) for v in array.reshape(-1)]}


def normal(*shape):
    return rng.standard_normal(shape)


def matmul_cases():
    cases = {}

    def add(name, a_stored, b_stored, transposing_a=False, transposing_b=False):
        a = np.swapaxes(a_stored, -1, -2) if transposing_a and a_stored.ndim >= 2 else a_stored
        b = np.swapaxes(b_stored, -1, -2) if transposing_b and b_stored.ndim >= 2 else b_stored
        cases[name] = {
            "a": tensor(a_stored),
            "b": tensor(b_stored),
            "transposingA": transposing_a,
            "transposingB": transposing_b,
            "expected": tensor(np.matmul(a, b)),
        }

    # Rank 2, all four transposition combinations, non-square: [3, 4] x [4, 5].
    add("matrix", normal(3, 4), normal(4, 5))
    add("matrixTransposingA", normal(4, 3), normal(4, 5), transposing_a=True)
    add("matrixTransposingB", normal(3, 4), normal(5, 4), transposing_b=True)
    add("matrixTransposingBoth", normal(4, 3), normal(5, 4), True, True)
    # Size-1 axes.
    add("rowTimesColumn", normal(1, 4), normal(4, 1))
    add("columnTimesRow", normal(3, 1), normal(1, 2))
    # Batched a against a single b: the batch folds into m.
    add("batchedTimesMatrix", normal(2, 3, 4, 5), normal(5, 6))
    add("batchedTimesMatrixTransposingB", normal(2, 3, 4, 5), normal(6, 5), transposing_b=True)
    # Batch axes broadcast: [2, 1] with [3] gives [2, 3].
    add("broadcastBatches", normal(2, 1, 4, 5), normal(3, 5, 2))
    add("broadcastBatchesTransposingBoth", normal(2, 1, 5, 4), normal(3, 2, 5), True, True)
    # A single matrix against a batch, and a transposed batch against one matrix.
    add("matrixTimesBatched", normal(4, 5), normal(3, 5, 2))
    add("batchedTransposingATimesMatrix", normal(3, 5, 4), normal(5, 6), transposing_a=True)
    # b's batch is all ones: still one matrix of b for every matrix of a.
    add("batchedTimesUnitBatch", normal(2, 3, 4), normal(1, 1, 4, 2))
    # Vectors, as numpy.matmul.
    add("vectorDotVector", normal(4), normal(4))
    add("vectorTimesMatrix", normal(4), normal(4, 5))
    add("matrixTimesVector", normal(3, 4), normal(4))
    add("vectorTimesBatched", normal(4), normal(2, 4, 5))
    add("batchedTimesVector", normal(2, 3, 4), normal(4))
    add("matrixTransposingATimesVector", normal(4, 3), normal(4), transposing_a=True)
    return cases


def conv2d_loops(x, w, bias, strides, padding):
    n, c, h, width = x.shape
    o, _, kh, kw = w.shape
    sh, sw = strides
    ph, pw = padding
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for b in range(n):
        for q in range(o):
            for oy in range(oh):
                for ox in range(ow):
                    total = 0.0 if bias is None else bias[q]
                    for ch in range(c):
                        for i in range(kh):
                            for j in range(kw):
                                y = oy * sh + i - ph
                                xx = ox * sw + j - pw
                                if 0 <= y < h and 0 <= xx < width:
                                    total += w[q, ch, i, j] * x[b, ch, y, xx]
                    out[b, q, oy, ox] = total
    return out


def conv2d_gradients(x, w, g, strides, padding):
    n, c, h, width = x.shape
    o, _, kh, kw = w.shape
    _, _, oh, ow = g.shape
    sh, sw = strides
    ph, pw = padding
    input_gradient = np.zeros(x.shape)
    filter_gradient = np.zeros(w.shape)
    for b in range(n):
        for q in range(o):
            for oy in range(oh):
                for ox in range(ow):
                    for ch in range(c):
                        for i in range(kh):
                            for j in range(kw):
                                y = oy * sh + i - ph
                                xx = ox * sw + j - pw
                                if 0 <= y < h and 0 <= xx < width:
                                    input_gradient[b, ch, y, xx] += w[q, ch, i, j] * g[b, q, oy, ox]
                                    filter_gradient[q, ch, i, j] += g[b, q, oy, ox] * x[b, ch, y, xx]
    return input_gradient, filter_gradient


def conv_cases():
    cases = {}

    def add(name, batch, in_channels, size, out_channels, kernel, strides, padding, with_bias):
        x = normal(batch, in_channels, *size)
        w = normal(out_channels, in_channels, *kernel)
        bias = normal(out_channels) if with_bias else None
        y = conv2d_loops(x, w, bias, strides, padding)
        g = normal(*y.shape)
        input_gradient, filter_gradient = conv2d_gradients(x, w, g, strides, padding)
        case = {
            "input": tensor(x),
            "filter": tensor(w),
            "strides": list(strides),
            "padding": list(padding),
            "expected": tensor(y),
            "outputGradient": tensor(g),
            "inputGradient": tensor(input_gradient),
            "filterGradient": tensor(filter_gradient),
        }
        if bias is not None:
            case["bias"] = tensor(bias)
        cases[name] = case

    # Stride 2, padding 1, several channels, a non-square kernel, a bias.
    add("stride2Padding1", 2, 3, (7, 6), 4, (3, 2), (2, 2), (1, 1), True)
    # Different strides and paddings per axis, no bias.
    add("mixedStridesAndPadding", 1, 2, (5, 5), 3, (2, 3), (1, 2), (0, 1), False)
    # Stride 3 with padding 2: the first receptive field lies mostly in the padding.
    add("largeStrideAndPadding", 2, 2, (4, 5), 2, (3, 3), (3, 2), (2, 1), True)
    # A 1x1 kernel at stride 1 without padding: the column matrix is the image.
    add("pointwise", 2, 3, (3, 4), 2, (1, 1), (1, 1), (0, 0), True)
    # The kernel covers the whole padded input: a 1x1 output.
    add("kernelCoversInput", 3, 1, (2, 3), 2, (4, 3), (1, 1), (1, 0), False)
    return cases


def write(name, content):
    with open(os.path.join(HERE, name), "w") as file:
        json.dump(content, file, indent=None, separators=(",", ":"))
        file.write("\n")


write("blas_matmul.json", matmul_cases())
write("conv_conv2d.json", conv_cases())
