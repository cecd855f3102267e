"""Tail fixtures for the vectorised Float mixture-CDF kernel (MixtureCDFKernelsTests.swift).

u = Phi^-1(F(z)) and log|du/dz| with mpmath at 50 digits, as
make_mixture_cdf_fixtures.py, on inputs chosen where the kernel's linear-space
sums are at their limits: z swept so that u crosses +-11.3 (a smaller tail
of 1e-30, below which the kernel hands the element to the log-space scalar
path) out to |u| ~ 20; one component 40 scales away from z (its tail mass
is beyond the kernel's erfc fit and dropped); and z between components
60 scales apart (the mixture density is ~e^-1800, far below double's range,
while F is ~1/2). Five components: one full vector of four and one partial.
Every input is rounded to float32 first, so that Float and Double tensors
hold the same inputs and only the outputs' rounding differs.
Run: python3 make_mixture_cdf_tail_fixtures.py  (writes mixture_cdf_tails.json)
"""
import json

import mpmath
import numpy as np

mpmath.mp.dps = 50


def transform(z, logits, means, log_scales):
    weights = [mpmath.e ** mpmath.mpf(float(l)) for l in logits]
    total = sum(weights)
    lower = upper = mpmath.mpf(0)
    density = mpmath.mpf(0)
    for w, m, ls in zip(weights, means, log_scales):
        w = w / total
        s = mpmath.e ** mpmath.mpf(float(ls))
        t = (mpmath.mpf(float(z)) - mpmath.mpf(float(m))) / s
        lower += w * mpmath.ncdf(t)
        upper += w * mpmath.ncdf(-t)
        density += w * mpmath.npdf(t) / s
    # Phi^-1 of the smaller tail, solved in log space (erfinv(1 - 2 tail)
    # would round 1 - 2 tail to 1 at 50 digits below tail ~ 1e-50).
    tail = min(lower, upper)
    log_tail = mpmath.log(tail)
    x = mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(x)) - log_tail, -mpmath.sqrt(-2 * log_tail))
    u = x if lower <= upper else -x
    log_derivative = mpmath.log(density) + u * u / 2 + mpmath.log(2 * mpmath.pi) / 2
    return float(u), float(log_derivative)


rows = []
base_logits = [0.3, -0.5, 1.1, 0.0, -1.2]
base_means = [-2.0, -0.5, 0.4, 1.5, 2.8]
base_log_scales = [0.2, -0.4, 0.0, 0.35, -0.15]
for z in np.linspace(-26, 26, 53):
    rows.append((z, base_logits, base_means, base_log_scales))
for z in [-2.0, 0.0, 3.0, 39.0]:
    rows.append((z, [0.5, -0.2, 0.1, 0.3, -1.0], [0.0, 0.5, -0.3, 1.0, 40.0], [0.0, 0.1, -0.1, 0.2, 0.0]))
for z in [-1.0, 0.0, 0.7]:
    rows.append((z, [0.0, 0.2, -0.3, 0.1, 0.4], [-60.0, 60.0, -61.0, 61.0, 62.0], [0.0, 0.0, 0.1, -0.1, 0.05]))

f32 = lambda values: np.asarray(values, dtype=np.float32).astype(np.float64)
z = f32([r[0] for r in rows])
logits = f32([r[1] for r in rows])
means = f32([r[2] for r in rows])
log_scales = f32([r[3] for r in rows])
results = [transform(*args) for args in zip(z, logits, means, log_scales)]
count, components = logits.shape
fixture = {
    "z": {"shape": [count], "values": z.tolist()},
    "logits": {"shape": [count, components], "values": logits.ravel().tolist()},
    "means": {"shape": [count, components], "values": means.ravel().tolist()},
    "logScales": {"shape": [count, components], "values": log_scales.ravel().tolist()},
    "output": {"shape": [count], "values": [r[0] for r in results]},
    "logDerivative": {"shape": [count], "values": [r[1] for r in results]},
}
with open("mixture_cdf_tails.json", "w") as file:
    json.dump(fixture, file)
