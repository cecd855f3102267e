#!/usr/bin/env python3
"""Writes the fixtures of MathTests and NormalDistributionTests.

Run from this directory: `python3 make_math_fixtures.py` (numpy, mpmath).
Every reference value is computed with mpmath at 50 significant digits
from the exact binary value of its input and then rounded once to float64,
so the fixtures are independent of any libm. Inputs are float32-representable
(unless named otherwise) so one file serves the Float and Double tests.

Files (each tensor as {"shape": [...], "values": [...]}, non-finite values
as "nan"/"inf"/"-inf"):
- math_unary.json: {"x": tensor, "expected": {op name: tensor}}
- normal_cdf.json: {"x", "cdf", "logCDF"}
- normal_inverse_cdf.json: {"p", "x"} in float64 and {"p32", "x32"} where
  p32 is p rounded to float32 and x32 its exact quantile.
"""
import json
import math

import mpmath as mp
import numpy as np

mp.mp.dps = 50


def encode(value):
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def tensor(values):
    return {"shape": [len(values)], "values": [encode(v) for v in values]}


def to_float(value):
    """Rounds an mpmath real (or ±inf/nan) to the nearest float64."""
    if isinstance(value, float):
        return value
    return float(value)


NAN = float("nan")
INF = float("inf")


def phi(x):
    return mp.ncdf(x)


def log_phi(x):
    # log1p keeps log Φ(x) ≈ −Φ(−x) for x ≫ 0, where log(Φ(x)) would round to 0.
    return mp.log1p(-phi(-x)) if x > 0 else mp.log(phi(x))


def unary_reference(name, x):
    """The op `name` at the exact float x, as a float64."""
    X = mp.mpf(x)
    if name == "abs":
        return abs(x)
    if name == "exp":
        return to_float(mp.exp(X))
    if name == "log":
        return NAN if x < 0 else (-INF if x == 0 else to_float(mp.log(X)))
    if name == "log1p":
        return NAN if x < -1 else (-INF if x == -1 else to_float(mp.log1p(X)))
    if name == "expm1":
        return to_float(mp.expm1(X))
    if name == "sqrt":
        return NAN if x < 0 else to_float(mp.sqrt(X))
    if name == "rsqrt":
        return NAN if x < 0 else (INF if x == 0 else to_float(1 / mp.sqrt(X)))
    if name == "square":
        return to_float(X * X)
    if name == "tanh":
        return to_float(mp.tanh(X))
    if name == "sigmoid":
        return to_float(1 / (1 + mp.exp(-X)))
    if name == "softplus":
        return to_float(mp.log1p(mp.exp(X)))
    if name == "logSigmoid":
        return to_float(-mp.log1p(mp.exp(-X)))
    if name == "relu":
        return max(x, 0.0)
    if name == "gelu":
        return to_float(X * phi(X))
    if name == "geluApproximate":
        c = mp.sqrt(2 / mp.pi)
        # ½(1 + tanh u) = 1/(1 + e^(−2u)), free of cancellation for u ≪ 0.
        return to_float(X / (1 + mp.exp(-2 * c * (X + mp.mpf("0.044715") * X**3))))
    if name == "erf":
        return to_float(mp.erf(X))
    if name == "erfc":
        return to_float(mp.erfc(X))
    if name == "sin":
        return to_float(mp.sin(X))
    if name == "cos":
        return to_float(mp.cos(X))
    if name == "normalCDF":
        return to_float(phi(X))
    if name == "logNormalCDF":
        return to_float(log_phi(X))
    raise ValueError(name)


UNARY_OPS = [
    "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "tanh",
    "sigmoid", "softplus", "logSigmoid", "relu", "gelu", "geluApproximate",
    "erf", "erfc", "sin", "cos", "normalCDF", "logNormalCDF",
]


def make_unary():
    rng = np.random.default_rng(20261129)
    magnitudes = [1e-30, 1e-7, 0.1, 0.5, 1, 2, 3.7, 10, 20, 30, 50, 100]
    x = [0.0, -1.0 + 2.0**-20] + [s * m for m in magnitudes for s in (1, -1)]
    x += list(rng.uniform(-8, 8, size=24))
    x = [float(np.float32(v)) for v in x]
    expected = {name: tensor([unary_reference(name, v) for v in x]) for name in UNARY_OPS}
    return {"x": tensor(x), "expected": expected}


def make_cdf():
    x = [float(v) for v in np.arange(-38, 8.0001, 0.25)]
    x += [-40.0, -50.0, -100.0, -1e3, -1e5, -1e10, 10.0, 20.0, 40.0]
    return {
        "x": tensor(x),
        "cdf": tensor([to_float(phi(mp.mpf(v))) for v in x]),
        "logCDF": tensor([to_float(log_phi(mp.mpf(v))) for v in x]),
    }


def quantile(p):
    """Φ⁻¹(p) at the exact binary value p in (0, 1), by Newton on log Φ."""
    P = mp.mpf(p)
    if P == mp.mpf(1) / 2:
        return 0.0
    if P > mp.mpf(1) / 2:
        lower = 1 - P  # exact: P has at most 53 bits
        sign = -1
    else:
        lower = P
        sign = 1
    start = mp.mpf(scipy_free_start(float(lower)))
    target = mp.log(lower)
    root = mp.findroot(lambda t: mp.log(mp.ncdf(t)) - target, start, tol=mp.mpf(10) ** -45)
    assert abs(mp.ncdf(root) / lower - 1) < mp.mpf(10) ** -40, (p, root)
    return to_float(sign * root)


def scipy_free_start(lower):
    """A starting point for Newton from the tail asymptotics (Φ(t) ≈ φ(t)/|t|)."""
    if lower > 0.2:
        return float(-math.sqrt(2) * mp.erfinv(1 - 2 * mp.mpf(lower)))
    t = -math.sqrt(-2 * math.log(lower))
    for _ in range(4):
        t = -math.sqrt(-2 * math.log(lower * -t * math.sqrt(2 * math.pi)))
    return t


def make_inverse_cdf():
    rng = np.random.default_rng(241)
    p = [10.0**-k for k in range(1, 301)]
    p += [1e-300, 1e-200, 1e-100, 1e-20, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 0.075, 0.925, 0.0749, 0.9251]
    p += [1 - 1e-10, 1 - 1e-15, 1 - 1e-16, float(np.nextafter(1.0, 0.0)), 0.5 + 2.0**-40, 0.5 - 2.0**-40]
    p += list(10.0 ** rng.uniform(-300, np.log10(0.5), size=40))
    p += list(rng.uniform(0, 1, size=40))
    p += [1 - v for v in 10.0 ** rng.uniform(-16, -1, size=20)]
    p = [float(v) for v in p]
    p32 = [float(np.float32(v)) for v in p]

    def quantile_or_limit(v):
        return -INF if v == 0 else (INF if v == 1 else quantile(v))

    return {
        "p": tensor(p),
        "x": tensor([quantile(v) for v in p]),
        "p32": tensor(p32),
        "x32": tensor([quantile_or_limit(v) for v in p32]),
    }


def write(name, value):
    with open(name, "w") as file:
        json.dump(value, file, indent=None, separators=(",", ":"))
        file.write("\n")


if __name__ == "__main__":
    write("math_unary.json", make_unary())
    write("normal_cdf.json", make_cdf())
    write("normal_inverse_cdf.json", make_inverse_cdf())
