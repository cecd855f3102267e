// The normal CDF Φ and GELU (x·Φ(x)) with its derivative, for float
// arrays, computed in double precision so that the float results are
// rounded once from values good to about 1e-12 (the Swift versions call
// the C library's scalar erfc once per element, most of the cost of a GELU
// layer; `flowbench autodiff`).
//
//   Φ(x) = ½·erfc(−x/√2),  erfc(z) = t·exp(−z² + P(t)),  t = 1/(1 + z/2),
//
// the form of Numerical Recipes' erfcc with P refitted to 1.3e-12 relative
// error by tools/fit_erfc.py, and z² = x²/2 exact in double for float x.
// Beyond z = 10.5 (|x| > 14.8), Φ is 0 or 1 to float precision.
//
// The vector kernels take most inputs (|x| ≤ 3, where a transformer's
// pre-activations mostly lie) through odd series instead, s = x²/2:
//
//   Φ(x) = ½ + x·R(s),   Φ(x) + x·φ(x) = ½ + x·U(s)   (GELU's slope),
//
// R(s) = erf(√s)/(2√(2s)) and U(s) = R(s) + e^(−s)/√(2π) fitted by
// tools/fit_erf.py (degrees 16 and 18; Φ to 1.6e-15 and the slope to
// 5.8e-15 absolute, 3.5e-16 where it cancels near x = −0.75): multiply-adds
// only, where the erfc form costs 17 of them, a division and an exponential
// (two in the slope). Lanes beyond 3 use the erfc form.

#include "FlowKernels.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FLOW_KERNELS_X86 1
#endif

#include "ErfcFit.h"
static const double kInverseSquareRootTwoPi = 0.39894228040143267794;

// R(s) and U(s), lowest degree first (tools/fit_erf.py), for s = x²/2 ≤ 4.5.
static const double kCdfSeries[] = {
    0.398942280401432,
    -0.13298076013377808,
    0.039894228039678035,
    -0.009498625720720808,
    0.0018469549899208224,
    -0.00030222897135898124,
    4.2621990850808036e-05,
    -5.276958566943201e-06,
    5.81975926158875e-07,
    -5.783148446230445e-08,
    5.220372484870161e-09,
    -4.291051144965654e-10,
    3.1794247026544184e-11,
    -2.0510922106478727e-12,
    1.068908376637293e-13,
    -3.906762091150871e-15,
    7.304477619714058e-17};
enum { kCdfSeriesDegree = sizeof kCdfSeries / sizeof kCdfSeries[0] - 1 };
static const double kSlopeSeries[] = {
    0.7978845608028649,
    -0.5319230405352153,
    0.23936536824025562,
    -0.07598900578539257,
    0.018469549993236585,
    -0.0036267479298662158,
    0.0005967083953775586,
    -8.443203120047851e-05,
    1.0476227036843804e-05,
    -1.1570907127403084e-06,
    1.1508751258149439e-07,
    -1.0391353500746804e-08,
    8.534685341246128e-10,
    -6.312577586668772e-11,
    4.0725199057702924e-12,
    -2.1478363767733714e-13,
    8.276233440691296e-15,
    -1.8997272196425196e-16,
    1.5386299931298562e-18};
enum { kSlopeSeriesDegree = sizeof kSlopeSeries / sizeof kSlopeSeries[0] - 1 };
static const double kCentralLimit = 3.0;

// Φ(x) in double.
static inline double normal_cdf(double x) {
  double z = fabs(x) * kInverseSquareRootTwo;
  double half_erfc;
  if (z > kLargestZ) {
    half_erfc = 0;
  } else {
    double t = 1 / (1 + 0.5 * z);
    double p = kErfcPolynomial[kErfcDegree];
    for (int k = kErfcDegree - 1; k >= 0; k--) p = p * t + kErfcPolynomial[k];
    half_erfc = 0.5 * t * exp(-0.5 * x * x + p);
  }
  return x < 0 ? half_erfc : 1 - half_erfc;
}

static inline float gelu_scalar(float x) {
  if (x != x) return x;
  return (float)(x * normal_cdf(x));
}

static inline float gelu_backward_scalar(float g, float x) {
  double xd = x;
  double slope = normal_cdf(xd) + xd * kInverseSquareRootTwoPi * exp(-0.5 * xd * xd);
  return (float)(g * slope);
}

#ifdef FLOW_KERNELS_X86
// e^x for x in [−700, 700]: Cody–Waite reduction and the degree-11 Taylor
// polynomial on |r| ≤ ln 2 / 2 (truncation below 1e-14 relative).
__attribute__((target("avx2,fma")))
static inline __m256d exp_pd(__m256d x) {
  const __m256d magic = _mm256_set1_pd(6755399441055744.0);  // 1.5·2^52
  __m256d shifted = _mm256_fmadd_pd(x, _mm256_set1_pd(1.4426950408889634), magic);
  __m256d n = _mm256_sub_pd(shifted, magic);
  __m256i exponent = _mm256_sub_epi64(_mm256_castpd_si256(shifted), _mm256_castpd_si256(magic));
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
  static const double inverse_factorials[] = {
      1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720,
      1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0, 1.0};
  __m256d p = _mm256_set1_pd(inverse_factorials[0]);
  for (int k = 1; k < 12; k++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(inverse_factorials[k]));
  __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(exponent, _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

// Φ(x) for 4 doubles; also returns e^(−x²/2) in *gaussian unless it is
// NULL (GELU's forward pass needs only Φ: one exponential fewer).
__attribute__((target("avx2,fma")))
static inline __m256d normal_cdf_pd(__m256d x, __m256d *gaussian) {
  const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0);
  __m256d absolute = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  __m256d z = _mm256_mul_pd(absolute, _mm256_set1_pd(kInverseSquareRootTwo));
  __m256d t = _mm256_div_pd(one, _mm256_fmadd_pd(half, z, one));
  __m256d p = _mm256_set1_pd(kErfcPolynomial[kErfcDegree]);
  for (int k = kErfcDegree - 1; k >= 0; k--) p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(kErfcPolynomial[k]));
  __m256d exponent = _mm256_mul_pd(_mm256_mul_pd(x, x), _mm256_set1_pd(-0.5));
  __m256d tiny = _mm256_cmp_pd(z, _mm256_set1_pd(kLargestZ), _CMP_GT_OQ);
  // Keep exp's argument in range for every lane; large lanes are replaced below.
  __m256d safe_exponent = _mm256_max_pd(exponent, _mm256_set1_pd(-700.0));
  if (gaussian) *gaussian = exp_pd(safe_exponent);
  __m256d half_erfc = _mm256_mul_pd(_mm256_mul_pd(half, t), exp_pd(_mm256_max_pd(_mm256_add_pd(exponent, p), _mm256_set1_pd(-700.0))));
  half_erfc = _mm256_blendv_pd(half_erfc, _mm256_setzero_pd(), tiny);
  __m256d negative = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);
  return _mm256_blendv_pd(_mm256_sub_pd(one, half_erfc), half_erfc, negative);
}

// ½ + x·P(s) for the polynomial `coefficients` of degree `degree`.
__attribute__((target("avx2,fma")))
static inline __m256d odd_series_pd(__m256d x, __m256d s, const double *coefficients, int degree) {
  __m256d p = _mm256_set1_pd(coefficients[degree]);
  for (int k = degree - 1; k >= 0; k--) p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(coefficients[k]));
  return _mm256_fmadd_pd(x, p, _mm256_set1_pd(0.5));
}

// The lanes where the series do not apply: |x| > 3 or NaN.
__attribute__((target("avx2,fma")))
static inline __m256d outside_series_pd(__m256d x) {
  __m256d absolute = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  return _mm256_cmp_pd(absolute, _mm256_set1_pd(kCentralLimit), _CMP_NLE_UQ);
}

// odd_series_pd on four vectors at once: four independent multiply-add
// chains in lockstep, so that each step's latency (4–5 cycles) is hidden
// by the other three instead of stalling one chain of 16–18 steps.
__attribute__((target("avx2,fma")))
static inline void odd_series4_pd(const __m256d *x, const __m256d *s, const double *coefficients, int degree,
                                  __m256d *out) {
  __m256d top = _mm256_set1_pd(coefficients[degree]);
  __m256d p0 = top, p1 = top, p2 = top, p3 = top;
  for (int k = degree - 1; k >= 0; k--) {
    __m256d c = _mm256_set1_pd(coefficients[k]);
    p0 = _mm256_fmadd_pd(p0, s[0], c);
    p1 = _mm256_fmadd_pd(p1, s[1], c);
    p2 = _mm256_fmadd_pd(p2, s[2], c);
    p3 = _mm256_fmadd_pd(p3, s[3], c);
  }
  const __m256d half = _mm256_set1_pd(0.5);
  out[0] = _mm256_fmadd_pd(x[0], p0, half);
  out[1] = _mm256_fmadd_pd(x[1], p1, half);
  out[2] = _mm256_fmadd_pd(x[2], p2, half);
  out[3] = _mm256_fmadd_pd(x[3], p3, half);
}

__attribute__((target("avx2,fma")))
static void gelu_avx2(const float *x, float *y, ptrdiff_t count) {
  ptrdiff_t i = 0;
  for (; i + 16 <= count; i += 16) {
    __m128 xs[4];
    __m256d xd[4], s[4], cdf[4];
    for (int j = 0; j < 4; j++) {
      xs[j] = _mm_loadu_ps(x + i + 4 * j);
      xd[j] = _mm256_cvtps_pd(xs[j]);
      s[j] = _mm256_mul_pd(_mm256_mul_pd(xd[j], xd[j]), _mm256_set1_pd(0.5));
    }
    odd_series4_pd(xd, s, kCdfSeries, kCdfSeriesDegree, cdf);
    for (int j = 0; j < 4; j++) {
      __m256d outside = outside_series_pd(xd[j]);
      if (_mm256_movemask_pd(outside)) cdf[j] = _mm256_blendv_pd(cdf[j], normal_cdf_pd(xd[j], NULL), outside);
      __m128 result = _mm256_cvtpd_ps(_mm256_mul_pd(xd[j], cdf[j]));
      result = _mm_blendv_ps(result, xs[j], _mm_cmpunord_ps(xs[j], xs[j]));
      _mm_storeu_ps(y + i + 4 * j, result);
    }
  }
  for (; i + 4 <= count; i += 4) {
    __m128 xs = _mm_loadu_ps(x + i);
    __m256d xd = _mm256_cvtps_pd(xs);
    __m256d s = _mm256_mul_pd(_mm256_mul_pd(xd, xd), _mm256_set1_pd(0.5));
    __m256d cdf = odd_series_pd(xd, s, kCdfSeries, kCdfSeriesDegree);
    __m256d outside = outside_series_pd(xd);
    // The erfc form only when some lane needs it, blended per lane so that
    // a lane's value never depends on its neighbours.
    if (_mm256_movemask_pd(outside)) cdf = _mm256_blendv_pd(cdf, normal_cdf_pd(xd, NULL), outside);
    __m256d value = _mm256_mul_pd(xd, cdf);
    __m128 result = _mm256_cvtpd_ps(value);
    // NaN in, NaN out.
    result = _mm_blendv_ps(result, xs, _mm_cmpunord_ps(xs, xs));
    _mm_storeu_ps(y + i, result);
  }
  for (; i < count; i++) y[i] = gelu_scalar(x[i]);
}

__attribute__((target("avx2,fma")))
static void gelu_backward_avx2(const float *g, const float *x, float *out, ptrdiff_t count) {
  ptrdiff_t i = 0;
  for (; i + 16 <= count; i += 16) {
    __m256d xd[4], s[4], slope[4];
    for (int j = 0; j < 4; j++) {
      xd[j] = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * j));
      s[j] = _mm256_mul_pd(_mm256_mul_pd(xd[j], xd[j]), _mm256_set1_pd(0.5));
    }
    odd_series4_pd(xd, s, kSlopeSeries, kSlopeSeriesDegree, slope);
    for (int j = 0; j < 4; j++) {
      __m256d outside = outside_series_pd(xd[j]);
      if (_mm256_movemask_pd(outside)) {
        __m256d gaussian;
        __m256d cdf = normal_cdf_pd(xd[j], &gaussian);
        __m256d tail = _mm256_fmadd_pd(_mm256_mul_pd(xd[j], _mm256_set1_pd(kInverseSquareRootTwoPi)), gaussian, cdf);
        slope[j] = _mm256_blendv_pd(slope[j], tail, outside);
      }
      __m256d value = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(g + i + 4 * j)), slope[j]);
      _mm_storeu_ps(out + i + 4 * j, _mm256_cvtpd_ps(value));
    }
  }
  for (; i + 4 <= count; i += 4) {
    __m256d xd = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
    __m256d s = _mm256_mul_pd(_mm256_mul_pd(xd, xd), _mm256_set1_pd(0.5));
    __m256d slope = odd_series_pd(xd, s, kSlopeSeries, kSlopeSeriesDegree);
    __m256d outside = outside_series_pd(xd);
    if (_mm256_movemask_pd(outside)) {
      __m256d gaussian;
      __m256d cdf = normal_cdf_pd(xd, &gaussian);
      __m256d tail = _mm256_fmadd_pd(_mm256_mul_pd(xd, _mm256_set1_pd(kInverseSquareRootTwoPi)), gaussian, cdf);
      slope = _mm256_blendv_pd(slope, tail, outside);
    }
    __m256d value = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(g + i)), slope);
    _mm_storeu_ps(out + i, _mm256_cvtpd_ps(value));
  }
  for (; i < count; i++) out[i] = gelu_backward_scalar(g[i], x[i]);
}
#endif

void flow_kernels_gelu_f32(const float *x, float *y, ptrdiff_t count) {
#ifdef FLOW_KERNELS_X86
  if (flow_kernels_instruction_set() == 1) {
    gelu_avx2(x, y, count);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) y[i] = gelu_scalar(x[i]);
}

void flow_kernels_gelu_backward_f32(const float *g, const float *x, float *out, ptrdiff_t count) {
#ifdef FLOW_KERNELS_X86
  if (flow_kernels_instruction_set() == 1) {
    gelu_backward_avx2(g, x, out, count);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) out[i] = gelu_backward_scalar(g[i], x[i]);
}
