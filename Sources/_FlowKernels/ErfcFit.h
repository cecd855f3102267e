// The erfc fit shared by NormalCDF.c (GELU, Φ) and MixtureCDF.c:
// erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), for 0 ≤ z ≤ kLargestZ,
// P of degree 17 fitted by tools/fit_erfc.py (1.3e-12 relative).
#ifndef FLOW_KERNELS_ERFC_FIT_H
#define FLOW_KERNELS_ERFC_FIT_H

// P(t), lowest degree first.
static const double kErfcPolynomial[] = {
    -1.265513002313472,
    1.0000361201880654,
    0.37432651434642966,
    0.09088048664823833,
    -0.14266457299669275,
    0.15813349550114336,
    -1.2596299700561464,
    3.3355712507295503,
    -6.613888357901312,
    9.522118054057545,
    -7.4549760595651025,
    -0.4036841695096381,
    7.6174637784300705,
    -8.612202098070268,
    5.114546582144963,
    -1.7650068307915507,
    0.3292665575052167,
    -0.024777778346191295};
enum { kErfcDegree = sizeof kErfcPolynomial / sizeof kErfcPolynomial[0] - 1 };
// Where the fit ends: z = |x|/√2 ≤ 10.5.
static const double kLargestZ = 10.5;
static const double kInverseSquareRootTwo = 0.70710678118654752440;

#endif
