"""numpy peer of `flowbench gemm`, `flowbench fft` and `flowbench elementwise`.

Runs the same workloads as the Swift suites and prints one JSON object in
flowbench's format, rows with impl "numpy". Exits with status 3 and a
sentence on stderr when this Python has no numpy.

    python3 numpy_core.py gemm --sizes 256 512 1024
    python3 numpy_core.py fft --batch 4096 --sizes 96 128 1024
    python3 numpy_core.py elementwise --count 16777216
"""
import argparse
import json
import os
import sys
from peer_timing import measure, summary

try:
    import numpy as np
except ImportError:
    sys.stderr.write(f"{sys.executable} has no numpy (pip install numpy)\n")
    sys.exit(3)


def row(case, dtype, unit, seconds, work=None, **sizes):
    median, fastest, slowest = summary(seconds)
    if work is None:
        values = (median * 1e3, fastest * 1e3, slowest * 1e3)
    else:
        values = (work / median, work / slowest, work / fastest)
    result = {"case": case, "impl": "numpy", "dtype": dtype, "unit": unit,
              "median": values[0], "min": values[1], "max": values[2]}
    result.update(sizes)
    return result


def gemm(args):
    rows = []
    for dtype in (np.float32, np.float64):
        for n in args.sizes:
            rng = np.random.default_rng(n)
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            seconds = measure(lambda: a @ b, args.warmups, args.repetitions)
            rows.append(row("matmul", np.dtype(dtype).name, "GFLOP/s", seconds, 2 * n**3 * 1e-9, n=n))
    return rows


def fft(args):
    rows = []
    for dtype in (np.float32, np.float64):
        for n in args.sizes:
            x = np.random.default_rng(n).standard_normal((args.batch, n)).astype(dtype)
            spectrum = np.fft.rfft(x, axis=-1)
            forward = measure(lambda: np.fft.rfft(x, axis=-1), args.warmups, args.repetitions)
            inverse = measure(lambda: np.fft.irfft(spectrum, n=n, axis=-1), args.warmups, args.repetitions)
            name = np.dtype(dtype).name
            rows.append(row("rfft", name, "ms", forward, batch=args.batch, n=n))
            rows.append(row("irfft", name, "ms", inverse, batch=args.batch, n=n))
    return rows


def elementwise(args):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(args.count).astype(np.float32)
    b = rng.standard_normal(args.count).astype(np.float32)
    element = a.itemsize
    add = measure(lambda: a + b, args.warmups, args.repetitions)
    exp = measure(lambda: np.exp(a), args.warmups, args.repetitions)
    return [
        row("add", "float32", "GB/s", add, 3 * element * args.count * 1e-9, n=args.count),
        row("exp", "float32", "GB/s", exp, 2 * element * args.count * 1e-9, n=args.count),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("suite", choices=["gemm", "fft", "elementwise"])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--count", type=int, default=1 << 24)
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    args = parser.parse_args()
    if args.sizes is None:
        args.sizes = [256, 512, 1024] if args.suite == "gemm" else [96, 128, 1024]
    rows = {"gemm": gemm, "fft": fft, "elementwise": elementwise}[args.suite](args)
    notes = [f"numpy {np.__version__}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}"]
    print(json.dumps({"suite": args.suite, "threads": os.cpu_count(), "results": rows, "notes": notes}))


if __name__ == "__main__":
    main()
