"""Fits the polynomials of GELU's central range in NormalCDF.c.

For |x| ≤ 3, with s = x²/2:
  Φ(x)            = ½ + x·R(s),  R(s) = erf(√s)/(2√(2s)),
  Φ(x) + x·φ(x)   = ½ + x·U(s),  U(s) = R(s) + e^(−s)/√(2π),
the GELU and its slope (both odd parts are x times an entire function of
s), so neither needs an exponential or a division. R and U are fitted here
on Chebyshev nodes of s ∈ [0, 4.5] against mpmath at 40 digits. Degree 16
for R brings the absolute error of Φ to about 1.6e-15 on [−3, 3]; degree 18
for U brings the slope's to 5.8e-15 on [−3, 3] and 3.5e-16 on [−1.2, −0.3],
where the slope cancels (its zero is at x ≈ −0.75 and the ≤ 1 ulp test of
the float pullback needs it there to about 1e-13). Prints both sets of
coefficients, lowest degree first, and the worst absolute errors.
Run: python3 fit_erf.py
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
x_max = 3.0
s_max = x_max * x_max / 2

nodes = 600
k = np.arange(nodes)
s = s_max / 2 + s_max / 2 * np.cos(np.pi * (k + 0.5) / nodes)


def r_target(value):
    value = mpmath.mpf(value)
    return mpmath.erf(mpmath.sqrt(value)) / (2 * mpmath.sqrt(2 * value))


def u_target(value):
    value = mpmath.mpf(value)
    return r_target(value) + mpmath.exp(-value) / mpmath.sqrt(2 * mpmath.pi)


def fit(target, degree):
    values = np.array([float(target(v)) for v in s])
    # Fit in u = 2s/s_max − 1 (well conditioned), then expand in powers of s.
    chebyshev = np.polynomial.chebyshev.chebfit(2 * s / s_max - 1, values, degree)
    in_u = np.polynomial.Polynomial(np.polynomial.chebyshev.cheb2poly(chebyshev))
    return in_u(np.polynomial.Polynomial([-1, 2 / s_max])).coef


def worst(coefficients, exact, low, high):
    largest = 0.0
    for x in np.linspace(low, high, 8001):
        ss = 0.5 * x * x
        r = 0.0
        for c in coefficients[::-1]:
            r = r * ss + c
        largest = max(largest, abs(0.5 + x * r - float(exact(x))))
    return largest


def slope(x):
    return mpmath.ncdf(x) + x * mpmath.npdf(x)


R = fit(r_target, 16)
U = fit(u_target, 18)
print("R: worst absolute error of Phi on [-3, 3]:", worst(R, mpmath.ncdf, -x_max, x_max))
for c in R:
    print(f"    {float(c)!r},")
print("U: worst absolute error of the slope on [-3, 3]:", worst(U, slope, -x_max, x_max),
      "on [-1.2, -0.3]:", worst(U, slope, -1.2, -0.3))
for c in U:
    print(f"    {float(c)!r},")
