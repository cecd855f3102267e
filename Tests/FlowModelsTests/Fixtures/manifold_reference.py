"""Reference values for ManifoldTests.swift, written to manifold_reference.json.

Von Mises (kappa = 1) moments from scipy's Bessel functions, and the KL
divergence and total variation between it and the uniform density on the
circle by adaptive quadrature (scipy.integrate.quad). Von Mises-Fisher
(p = 3) moments from the closed forms A(k) = coth k - 1/k and
E[(mu.x)^2] = 1 - 2 A(k)/k, checked here against direct quadrature of the
density of w = mu.x, k e^{k w} / (2 sinh k) on [-1, 1].
"""
import json
import numpy as np
from scipy import integrate, special

kappa = 1.0
i0, i1, i2 = (special.iv(n, kappa) for n in (0, 1, 2))
density = lambda t: np.exp(kappa * np.cos(t)) / (2 * np.pi * i0)
uniform = 1 / (2 * np.pi)
kl = integrate.quad(lambda t: density(t) * np.log(density(t) / uniform), -np.pi, np.pi, epsabs=1e-14, epsrel=1e-14)[0]
crossing = np.arccos(np.log(i0) / kappa)
tv = 0.5 * (integrate.quad(lambda t: abs(density(t) - uniform), -np.pi, -crossing, epsabs=1e-14)[0]
            + integrate.quad(lambda t: abs(density(t) - uniform), -crossing, crossing, epsabs=1e-14)[0]
            + integrate.quad(lambda t: abs(density(t) - uniform), crossing, np.pi, epsabs=1e-14)[0])

def vmf_moments(k):
    w_density = lambda w: k * np.exp(k * w) / (2 * np.sinh(k))
    first = integrate.quad(lambda w: w * w_density(w), -1, 1, epsabs=1e-14)[0]
    second = integrate.quad(lambda w: w * w * w_density(w), -1, 1, epsabs=1e-14)[0]
    a = 1 / np.tanh(k) - 1 / k
    assert abs(first - a) < 1e-12 and abs(second - (1 - 2 * a / k)) < 1e-12
    return first, second

first2, second2 = vmf_moments(2.0)
first8, second8 = vmf_moments(8.0)
result = {
    "von_mises_i0": i0,
    "von_mises_mean_cos": i1 / i0,
    "von_mises_mean_cos2": i2 / i0,
    "von_mises_kl_to_uniform": kl,
    "von_mises_tv_to_uniform": tv,
    "vmf_mean_cos_kappa2": first2,
    "vmf_mean_cos_squared_kappa2": second2,
    "vmf_mean_cos_kappa8": first8,
    "vmf_mean_cos_squared_kappa8": second8,
}
with open(__file__.replace(".py", ".json"), "w") as f:
    json.dump({k: float(v) for k, v in result.items()}, f, indent=1)
    f.write("\n")
