"""Fixtures for the Gaussian-mixture CDF flow (MixtureCDFTests.swift).

u = Phi^-1(F(z)), F(z) = sum_k w_k Phi((z - m_k)/s_k), w = softmax(logits),
and log|du/dz| = log p(z) - log N(u; 0, 1), evaluated with mpmath at 50
digits so that the tails (|u| up to ~8) are exact to double precision.
Run: python3 make_mixture_cdf_fixtures.py  (writes mixture_cdf.json)
"""
import json

import mpmath
import numpy as np

mpmath.mp.dps = 50
rng = np.random.default_rng(8)

count, components = 24, 3
logits = rng.normal(size=(count, components))
means = rng.normal(size=(count, components)) * 2
log_scales = rng.normal(size=(count, components)) * 0.5
z = rng.normal(size=count) * 3
# Far tails: 8 and more standard deviations out of every component.
z[0] = means[0].min() - 9 * np.exp(log_scales[0]).max()
z[1] = means[1].max() + 9 * np.exp(log_scales[1]).max()
z[2] = means[2].max() + 5 * np.exp(log_scales[2]).max()


def transform(z, logits, means, log_scales):
    weights = [mpmath.e ** mpmath.mpf(l) for l in logits]
    total = sum(weights)
    weights = [w / total for w in weights]
    cdf = mpmath.mpf(0)
    upper = mpmath.mpf(0)
    density = mpmath.mpf(0)
    for w, m, ls in zip(weights, means, log_scales):
        s = mpmath.e ** mpmath.mpf(ls)
        t = (mpmath.mpf(z) - mpmath.mpf(m)) / s
        cdf += w * mpmath.ncdf(t)
        upper += w * mpmath.ncdf(-t)
        density += w * mpmath.npdf(t) / s
    # Phi^-1 from the smaller tail, as mpmath's erfinv loses nothing.
    if cdf <= upper:
        u = -mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * cdf)
    else:
        u = mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * upper)
    log_derivative = mpmath.log(density) + u * u / 2 + mpmath.log(2 * mpmath.pi) / 2
    return float(u), float(log_derivative)


results = [transform(*args) for args in zip(z, logits, means, log_scales)]
fixture = {
    "z": {"shape": [count], "values": z.tolist()},
    "logits": {"shape": [count, components], "values": logits.ravel().tolist()},
    "means": {"shape": [count, components], "values": means.ravel().tolist()},
    "logScales": {"shape": [count, components], "values": log_scales.ravel().tolist()},
    "output": {"shape": [count], "values": [r[0] for r in results]},
    "logDerivative": {"shape": [count], "values": [r[1] for r in results]},
}
with open("mixture_cdf.json", "w") as file:
    json.dump(fixture, file)
