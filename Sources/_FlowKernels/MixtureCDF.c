// The Gaussian-mixture CDF flow u = Φ⁻¹(F(z)), F(z) = Σ_k w_k Φ(t_k),
// t_k = (z − m_k)/s_k, w = softmax(logits) (TarFlowLM, arXiv 2507.00425,
// Prop. 1), and its pullback, for float arrays, in double precision with
// AVX2+FMA: four components per vector, each element's components read
// once per pass. FlowTensor's Swift kernels (MixtureCDF.swift) call the C
// library's scalar erfc, log and exp about ten times per component; here
// a component costs four vector exponentials.
//
// Linear space with per-element shifts instead of log space throughout:
// with l̂_k = l_k − max l, E_k = e^(l̂_k) and q_k = Φ(−|t_k|),
//
//   S = Σ E_k,  L = Σ E_k Φ(t_k),  U = Σ E_k Φ(−t_k),  F = L/S,  1 − F = U/S,
//
// where E_k q_k = ½τ·exp(l̂_k − t_k²/2 + P(τ)) (one exponential, the
// erfc form of NormalCDF.c, relative error 1.3e-12) and E_k (1 − q_k) is
// the other tail, so both L and U are sums of positive terms and the
// smaller one is accurate to its own relative precision. Terms that
// underflow (or q_k beyond |t| = 14.8, where the fit ends and
// q_k < 3.5e-50) are dropped; that costs nothing relative while the
// smaller tail is ≥ 1e-30 (|u| ≤ 11.3), and an element below that, or
// with anything non-finite, is flagged for the caller's log-space scalar
// path. The density, log p = d̂ + log Σ e^(d_k − d̂) − log S − ½log 2π with
// d_k = l̂_k − log s_k − t_k²/2 and d̂ = max d, is shifted and never
// underflows. Φ⁻¹ of the smaller tail is Wichura's AS 241, as FlowTensor's
// `inverseNormalCDF`, four elements at a time.
#include "FlowKernels.h"

#include <math.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FLOW_KERNELS_X86 1
#endif

// The smallest tail mass the vector path keeps; below it, the caller's
// scalar path (see above).
static const double kSmallestTail = 1e-30;
static const double kSquareRootTwoPi = 2.5066282746310002;

#include "ErfcFit.h"

#ifdef FLOW_KERNELS_X86

// MARK: - Vector helpers

// e^x to about 1 ulp: Cody–Waite reduction (ln 2 in two parts, fdlibm's)
// and the degree-13 Taylor polynomial on |r| ≤ ln 2 / 2 (truncation
// 4e-18 relative). Below −708 it returns 0 (the true value is below
// 3.3e-308, an absolute error the callers tolerate), above 709.78 +∞,
// NaN stays NaN.
__attribute__((target("avx2,fma")))
static inline __m256d exp_pd(__m256d x) {
  const __m256d magic = _mm256_set1_pd(6755399441055744.0);  // 1.5·2^52
  __m256d clamped = _mm256_min_pd(_mm256_max_pd(x, _mm256_set1_pd(-708.0)), _mm256_set1_pd(709.0));
  __m256d shifted = _mm256_fmadd_pd(clamped, _mm256_set1_pd(1.4426950408889634), magic);
  __m256d n = _mm256_sub_pd(shifted, magic);
  __m256i exponent = _mm256_sub_epi64(_mm256_castpd_si256(shifted), _mm256_castpd_si256(magic));
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), clamped);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
  static const double inverse_factorials[] = {
      1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
      1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  __m256d p = _mm256_set1_pd(inverse_factorials[0]);
  for (int k = 1; k < 14; k++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(inverse_factorials[k]));
  __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(exponent, _mm256_set1_epi64x(1023)), 52);
  __m256d result = _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
  result = _mm256_blendv_pd(result, _mm256_setzero_pd(), _mm256_cmp_pd(x, _mm256_set1_pd(-708.0), _CMP_LT_OQ));
  result = _mm256_blendv_pd(
      result, _mm256_set1_pd(INFINITY), _mm256_cmp_pd(x, _mm256_set1_pd(709.782712893384), _CMP_GT_OQ));
  return _mm256_blendv_pd(result, x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q));
}

__attribute__((target("avx2,fma")))
static inline double horizontal_sum(__m256d v) {
  __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
}

__attribute__((target("avx2,fma")))
static inline double horizontal_max(__m256d v) {
  __m128d pair = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_max_sd(pair, _mm_unpackhi_pd(pair, pair)));
}

// log for positive normal doubles, to about 1 ulp: x = 2^e·m, m in [√½, √2),
// log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, as an odd series
// through s^21 (truncation below 1e-18), and e·ln 2 in two parts.
__attribute__((target("avx2,fma")))
static inline __m256d log_pd(__m256d x) {
  const __m256i mantissa_mask = _mm256_set1_epi64x(0x000fffffffffffffLL);
  const __m256i one_bits = _mm256_set1_epi64x(0x3ff0000000000000LL);
  __m256i bits = _mm256_castpd_si256(x);
  __m256i biased = _mm256_srli_epi64(bits, 52);
  __m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, mantissa_mask), one_bits));
  // The exponent as a double: 2^52 + e' minus 2^52 + 1023.
  __m256d e = _mm256_sub_pd(
      _mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_castpd_si256(_mm256_set1_pd(4503599627370496.0)))),
      _mm256_set1_pd(4503599627370496.0 + 1023));
  __m256d large = _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ);
  m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), large);
  e = _mm256_add_pd(e, _mm256_and_pd(large, _mm256_set1_pd(1.0)));
  __m256d s = _mm256_div_pd(_mm256_sub_pd(m, _mm256_set1_pd(1.0)), _mm256_add_pd(m, _mm256_set1_pd(1.0)));
  __m256d s2 = _mm256_mul_pd(s, s);
  static const double odd[] = {1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3};
  __m256d p = _mm256_set1_pd(odd[0]);
  for (int k = 1; k < 10; k++) p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(odd[k]));
  __m256d two_s = _mm256_add_pd(s, s);
  __m256d log_m = _mm256_fmadd_pd(_mm256_mul_pd(two_s, s2), p, two_s);
  return _mm256_add_pd(_mm256_fmadd_pd(e, _mm256_set1_pd(6.93147180369123816490e-01), log_m),
                       _mm256_mul_pd(e, _mm256_set1_pd(1.90821492927058770002e-10)));
}

// A degree-7 polynomial, coefficients from the highest degree down.
__attribute__((target("avx2,fma")))
static inline __m256d polynomial8(__m256d r, const double *c) {
  __m256d p = _mm256_set1_pd(c[0]);
  for (int k = 1; k < 8; k++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c[k]));
  return p;
}

// Φ⁻¹(p) for 1e-300 ≤ p ≤ ½ (the smaller tail), four at a time: Wichura's
// AS 241 as inverse_normal_cdf, without its Halley step: PPND16 alone is
// good to about 1e-16 relative, and log_pd to 1 ulp, so the step only
// mends the last bits of a double, which a float result rounds away.
__attribute__((target("avx2,fma")))
static inline __m256d inverse_normal_cdf_lower_pd(__m256d p) {
  static const double central_numerator[] = {2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4,
      4.5921953931549871457e4, 1.3731693765509461125e4, 1.9715909503065514427e3, 1.3314166789178437745e2, 3.3871328727963666080};
  static const double central_denominator[] = {5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4,
      2.1213794301586595867e4, 5.3941960214247511077e3, 6.8718700749205790830e2, 4.2313330701600911252e1, 1};
  static const double near_numerator[] = {7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
      1.27045825245236838258, 3.64784832476320460504, 5.76949722146069140550, 4.63033784615654529590, 1.42343711074968357734};
  static const double near_denominator[] = {1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
      1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940, 2.05319162663775882187, 1};
  static const double far_numerator[] = {2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
      2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580, 5.46378491116411436990, 6.65790464350110377720};
  static const double far_denominator[] = {2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
      7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1, 5.99832206555887937690e-1, 1};
  __m256d q = _mm256_sub_pd(p, _mm256_set1_pd(0.5));
  __m256d r = _mm256_fnmadd_pd(q, q, _mm256_set1_pd(0.180625));
  __m256d central = _mm256_div_pd(_mm256_mul_pd(q, polynomial8(r, central_numerator)), polynomial8(r, central_denominator));
  __m256d is_central = _mm256_cmp_pd(q, _mm256_set1_pd(-0.425), _CMP_GE_OQ);
  if (_mm256_movemask_pd(is_central) == 0xF) return central;
  __m256d root = _mm256_sqrt_pd(_mm256_sub_pd(_mm256_setzero_pd(), log_pd(p)));
  __m256d near_r = _mm256_sub_pd(root, _mm256_set1_pd(1.6));
  __m256d far_r = _mm256_sub_pd(root, _mm256_set1_pd(5.0));
  __m256d near = _mm256_div_pd(polynomial8(near_r, near_numerator), polynomial8(near_r, near_denominator));
  __m256d far = _mm256_div_pd(polynomial8(far_r, far_numerator), polynomial8(far_r, far_denominator));
  __m256d tail = _mm256_blendv_pd(far, near, _mm256_cmp_pd(root, _mm256_set1_pd(5.0), _CMP_LE_OQ));
  return _mm256_blendv_pd(_mm256_sub_pd(_mm256_setzero_pd(), tail), central, is_central);
}

// The lane mask of the first `valid` (1…4) of four lanes, for loads and
// stores of a partial last group of components.
__attribute__((target("avx2,fma")))
static inline __m128i lane_mask(ptrdiff_t valid) {
  return _mm_cmpgt_epi32(_mm_set1_epi32((int)valid), _mm_setr_epi32(0, 1, 2, 3));
}

// Four floats (the first `valid`, the rest `fill`) as doubles.
__attribute__((target("avx2,fma")))
static inline __m256d load4(const float *source, ptrdiff_t valid, double fill) {
  if (valid >= 4) return _mm256_cvtps_pd(_mm_loadu_ps(source));
  __m128i mask = lane_mask(valid);
  __m128 loaded = _mm_maskload_ps(source, mask);
  __m128 filled = _mm_blendv_ps(_mm_set1_ps((float)fill), loaded, _mm_castsi128_ps(mask));
  return _mm256_cvtps_pd(filled);
}

__attribute__((target("avx2,fma")))
static inline void store4(float *destination, __m256d value, ptrdiff_t valid) {
  __m128 narrowed = _mm256_cvtpd_ps(value);
  if (valid >= 4) {
    _mm_storeu_ps(destination, narrowed);
  } else {
    _mm_maskstore_ps(destination, lane_mask(valid), narrowed);
  }
}

// MARK: - One element

// Per component, for the pullback: t_k, 1/s_k, E_k, E_k·Φ(t_k),
// E_k·Φ(−t_k), d_k (then e^(d_k − d̂)); `stride` doubles each.
typedef struct {
  double *standardized, *inverse_scale, *weight, *lower, *upper, *density;
} ComponentScratch;

// The sums of one element (see the file comment).
typedef struct {
  double weight_sum, lower, upper, density_sum, density_shift;
  int finite;
} ElementSums;

// Fills `scratch` (padded lanes with zero weight) and returns the sums.
__attribute__((target("avx2,fma")))
static inline ElementSums evaluate_element(
    double z, const float *logits, const float *means, const float *log_scales, ptrdiff_t components,
    ComponentScratch scratch) {
  __m256d largest = _mm256_set1_pd(-INFINITY);
  for (ptrdiff_t k = 0; k < components; k += 4) {
    largest = _mm256_max_pd(largest, load4(logits + k, components - k, -INFINITY));
  }
  const __m256d shift = _mm256_set1_pd(horizontal_max(largest));
  const __m256d zv = _mm256_set1_pd(z), zero = _mm256_setzero_pd(), half = _mm256_set1_pd(0.5);
  const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0);
  __m256d weight_sum = zero, lower_sum = zero, upper_sum = zero, largest_density = _mm256_set1_pd(-INFINITY);
  __m256d magnitude = zero;  // Σ|t|, non-finite when any t is
  for (ptrdiff_t k = 0; k < components; k += 4) {
    ptrdiff_t valid = components - k;
    __m256d logit = _mm256_sub_pd(load4(logits + k, valid, -INFINITY), shift);
    __m256d log_scale = load4(log_scales + k, valid, 0);
    __m256d inverse_scale = exp_pd(_mm256_xor_pd(log_scale, sign));
    __m256d t = _mm256_mul_pd(_mm256_sub_pd(zv, load4(means + k, valid, 0)), inverse_scale);
    __m256d absolute = _mm256_andnot_pd(sign, t);
    magnitude = _mm256_add_pd(magnitude, absolute);
    __m256d a = _mm256_mul_pd(absolute, _mm256_set1_pd(kInverseSquareRootTwo));
    __m256d tau = _mm256_div_pd(one, _mm256_fmadd_pd(half, a, one));
    __m256d p = _mm256_set1_pd(kErfcPolynomial[kErfcDegree]);
    for (int j = kErfcDegree - 1; j >= 0; j--) p = _mm256_fmadd_pd(p, tau, _mm256_set1_pd(kErfcPolynomial[j]));
    __m256d gaussian_log = _mm256_mul_pd(_mm256_mul_pd(t, t), _mm256_set1_pd(-0.5));
    __m256d weight = exp_pd(logit);
    // E_k·q_k = ½τ·exp(l̂ − t²/2 + P(τ)); 0 beyond the fit (q < 3.5e-50).
    __m256d small = _mm256_mul_pd(
        _mm256_mul_pd(half, tau), exp_pd(_mm256_add_pd(_mm256_add_pd(logit, gaussian_log), p)));
    small = _mm256_blendv_pd(small, zero, _mm256_cmp_pd(a, _mm256_set1_pd(kLargestZ), _CMP_GT_OQ));
    __m256d large = _mm256_sub_pd(weight, small);
    __m256d negative = _mm256_cmp_pd(t, zero, _CMP_LT_OQ);
    __m256d lower = _mm256_blendv_pd(large, small, negative);
    __m256d upper = _mm256_blendv_pd(small, large, negative);
    __m256d density = _mm256_add_pd(_mm256_sub_pd(logit, log_scale), gaussian_log);
    weight_sum = _mm256_add_pd(weight_sum, weight);
    lower_sum = _mm256_add_pd(lower_sum, lower);
    upper_sum = _mm256_add_pd(upper_sum, upper);
    largest_density = _mm256_max_pd(largest_density, density);
    if (scratch.standardized) {
      _mm256_storeu_pd(scratch.standardized + k, t);
      _mm256_storeu_pd(scratch.inverse_scale + k, inverse_scale);
      _mm256_storeu_pd(scratch.weight + k, weight);
      _mm256_storeu_pd(scratch.lower + k, lower);
      _mm256_storeu_pd(scratch.upper + k, upper);
    }
    _mm256_storeu_pd(scratch.density + k, density);
  }
  ElementSums sums;
  sums.density_shift = horizontal_max(largest_density);
  const __m256d density_shift = _mm256_set1_pd(sums.density_shift);
  __m256d density_sum = zero;
  for (ptrdiff_t k = 0; k < components; k += 4) {
    __m256d term = exp_pd(_mm256_sub_pd(_mm256_loadu_pd(scratch.density + k), density_shift));
    // Padded lanes have density −∞ − d̂ = −∞: e^(−∞) = 0.
    density_sum = _mm256_add_pd(density_sum, term);
    _mm256_storeu_pd(scratch.density + k, term);
  }
  sums.weight_sum = horizontal_sum(weight_sum);
  sums.lower = horizontal_sum(lower_sum);
  sums.upper = horizontal_sum(upper_sum);
  sums.density_sum = horizontal_sum(density_sum);
  double smaller = (sums.lower <= sums.upper ? sums.lower : sums.upper) / sums.weight_sum;
  sums.finite = isfinite(horizontal_sum(magnitude)) && isfinite(z) && isfinite(sums.density_shift) &&
                sums.density_sum > 0 && isfinite(sums.density_sum) && sums.weight_sum > 0 &&
                isfinite(sums.weight_sum) && smaller >= kSmallestTail;
  return sums;
}

// Scratch of 6 arrays of `components` rounded up to 4 doubles.
static double *allocate_scratch(ptrdiff_t components, ComponentScratch *scratch) {
  ptrdiff_t stride = (components + 3) / 4 * 4;
  double *buffer = malloc(sizeof(double) * 6 * (size_t)stride);
  if (!buffer) return NULL;
  scratch->standardized = buffer;
  scratch->inverse_scale = buffer + stride;
  scratch->weight = buffer + 2 * stride;
  scratch->lower = buffer + 3 * stride;
  scratch->upper = buffer + 4 * stride;
  scratch->density = buffer + 5 * stride;
  return buffer;
}

// Elements per block of the forward kernel: their sums first, then Φ⁻¹
// and the logs four elements at a time.
enum { kBlock = 32 };

__attribute__((target("avx2,fma")))
static ptrdiff_t mixture_cdf_avx2(
    const float *z, const float *logits, const float *means, const float *log_scales, ptrdiff_t count,
    ptrdiff_t components, float *output, float *log_derivative, unsigned char *fallback) {
  ComponentScratch scratch;
  double *buffer = allocate_scratch(components, &scratch);
  if (!buffer) {
    for (ptrdiff_t i = 0; i < count; i++) fallback[i] = 1;
    return count;
  }
  scratch.standardized = NULL;  // the value needs only the density terms
  ptrdiff_t flagged = 0;
  double tail[kBlock], ratio[kBlock], shift[kBlock], quantile[kBlock], log_ratio[kBlock];
  int use_lower[kBlock];
  for (ptrdiff_t start = 0; start < count; start += kBlock) {
    ptrdiff_t size = count - start < kBlock ? count - start : kBlock;
    for (ptrdiff_t j = 0; j < kBlock; j++) {
      // Harmless values for flagged elements and the lanes past the end.
      tail[j] = 0.25;
      ratio[j] = 1;
      shift[j] = 0;
      use_lower[j] = 1;
    }
    for (ptrdiff_t j = 0; j < size; j++) {
      ptrdiff_t i = start + j, offset = i * components;
      ElementSums sums = evaluate_element(
          (double)z[i], logits + offset, means + offset, log_scales + offset, components, scratch);
      fallback[i] = !sums.finite;
      if (!sums.finite) {
        flagged++;
        continue;
      }
      use_lower[j] = sums.lower <= sums.upper;
      tail[j] = (use_lower[j] ? sums.lower : sums.upper) / sums.weight_sum;
      ratio[j] = sums.density_sum / sums.weight_sum;
      shift[j] = sums.density_shift;
    }
    for (ptrdiff_t j = 0; j < size; j += 4) {
      _mm256_storeu_pd(quantile + j, inverse_normal_cdf_lower_pd(_mm256_loadu_pd(tail + j)));
      _mm256_storeu_pd(log_ratio + j, log_pd(_mm256_loadu_pd(ratio + j)));
    }
    for (ptrdiff_t j = 0; j < size; j++) {
      ptrdiff_t i = start + j;
      if (fallback[i]) continue;
      // Φ⁻¹ of the smaller tail, so that neither tail rounds to 0 or 1.
      double u = use_lower[j] ? quantile[j] : -quantile[j];
      // log u′ = log p + u²/2 + ½log 2π = d̂ + log(Σ e^(d − d̂)/S) + u²/2.
      output[i] = (float)u;
      log_derivative[i] = (float)(shift[j] + log_ratio[j] + 0.5 * u * u);
    }
  }
  free(buffer);
  return flagged;
}

__attribute__((target("avx2,fma")))
static ptrdiff_t mixture_cdf_backward_avx2(
    const float *z, const float *logits, const float *means, const float *log_scales, const float *output,
    const float *output_cotangent, const float *log_derivative_cotangent, ptrdiff_t count, ptrdiff_t components,
    float *z_gradient, float *logit_gradient, float *mean_gradient, float *log_scale_gradient,
    unsigned char *fallback) {
  ComponentScratch scratch;
  double *buffer = allocate_scratch(components, &scratch);
  if (!buffer) {
    for (ptrdiff_t i = 0; i < count; i++) fallback[i] = 1;
    return count;
  }
  ptrdiff_t flagged = 0;
  for (ptrdiff_t i = 0; i < count; i++) {
    ptrdiff_t offset = i * components;
    ElementSums sums = evaluate_element(
        (double)z[i], logits + offset, means + offset, log_scales + offset, components, scratch);
    if (!sums.finite) {
      fallback[i] = 1;
      flagged++;
      continue;
    }
    fallback[i] = 0;
    double u = (double)output[i];
    double half_square = 0.5 * u * u;
    double slope = sums.density_sum / sums.weight_sum * exp(sums.density_shift + half_square);
    double g_output = (double)output_cotangent[i], g_log = (double)log_derivative_cotangent[i];
    double c = g_output + g_log * u;  // the cotangent reaching ∂u/∂θ
    int use_lower = sums.lower <= sums.upper;
    double tail_sum = use_lower ? sums.lower : sums.upper;
    // F/φ(u) or (1 − F)/φ(u), from the tail u came from: bounded.
    double tail_ratio = tail_sum / sums.weight_sum * exp(half_square) * kSquareRootTwoPi;
    // ∂u/∂l_k = w_k(Φ(t_k)/F − 1)·F/φ(u) = (E_kΦ(t_k)/L − E_k/S)·F/φ(u),
    // or minus its upper-tail twin.
    double tail_factor = use_lower ? c * tail_ratio : -c * tail_ratio;
    const __m256d inverse_tail = _mm256_set1_pd(1 / tail_sum);
    const __m256d inverse_weight_sum = _mm256_set1_pd(1 / sums.weight_sum);
    const __m256d inverse_density_sum = _mm256_set1_pd(1 / sums.density_sum);
    const __m256d tail_scale = _mm256_set1_pd(tail_factor), g_log_v = _mm256_set1_pd(g_log);
    const __m256d c_slope = _mm256_set1_pd(c * slope), one = _mm256_set1_pd(1.0);
    const double *terms = use_lower ? scratch.lower : scratch.upper;
    __m256d z_sum = _mm256_setzero_pd();
    for (ptrdiff_t k = 0; k < components; k += 4) {
      ptrdiff_t valid = components - k;
      __m256d t = _mm256_loadu_pd(scratch.standardized + k);
      __m256d inverse_scale = _mm256_loadu_pd(scratch.inverse_scale + k);
      __m256d weight = _mm256_mul_pd(_mm256_loadu_pd(scratch.weight + k), inverse_weight_sum);
      __m256d responsibility = _mm256_mul_pd(_mm256_loadu_pd(scratch.density + k), inverse_density_sum);
      __m256d shift = _mm256_sub_pd(_mm256_mul_pd(_mm256_loadu_pd(terms + k), inverse_tail), weight);
      __m256d logit =
          _mm256_fmadd_pd(tail_scale, shift, _mm256_mul_pd(g_log_v, _mm256_sub_pd(responsibility, weight)));
      // r_k·t_k/s_k, shared by ∂log p/∂m_k and ∂log p/∂z.
      __m256d pull = _mm256_mul_pd(_mm256_mul_pd(responsibility, t), inverse_scale);
      __m256d mean = _mm256_fmsub_pd(g_log_v, pull, _mm256_mul_pd(c_slope, responsibility));
      __m256d scale = _mm256_div_pd(one, inverse_scale);
      __m256d log_scale = _mm256_fmsub_pd(
          _mm256_mul_pd(g_log_v, responsibility), _mm256_fmsub_pd(t, t, one),
          _mm256_mul_pd(_mm256_mul_pd(c_slope, t), _mm256_mul_pd(scale, responsibility)));
      z_sum = _mm256_add_pd(z_sum, pull);
      store4(logit_gradient + offset + k, logit, valid);
      store4(mean_gradient + offset + k, mean, valid);
      store4(log_scale_gradient + offset + k, log_scale, valid);
    }
    z_gradient[i] = (float)(c * slope - g_log * horizontal_sum(z_sum));
  }
  free(buffer);
  return flagged;
}
#endif

ptrdiff_t flow_kernels_mixture_cdf_f32(
    const float *z, const float *logits, const float *means, const float *log_scales, ptrdiff_t count,
    ptrdiff_t components, float *output, float *log_derivative, unsigned char *fallback) {
#ifdef FLOW_KERNELS_X86
  if (flow_kernels_instruction_set() == 1) {
    return mixture_cdf_avx2(z, logits, means, log_scales, count, components, output, log_derivative, fallback);
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) fallback[i] = 1;
  return count;
}

ptrdiff_t flow_kernels_mixture_cdf_backward_f32(
    const float *z, const float *logits, const float *means, const float *log_scales, const float *output,
    const float *output_cotangent, const float *log_derivative_cotangent, ptrdiff_t count, ptrdiff_t components,
    float *z_gradient, float *logit_gradient, float *mean_gradient, float *log_scale_gradient,
    unsigned char *fallback) {
#ifdef FLOW_KERNELS_X86
  if (flow_kernels_instruction_set() == 1) {
    return mixture_cdf_backward_avx2(
        z, logits, means, log_scales, output, output_cotangent, log_derivative_cotangent, count, components,
        z_gradient, logit_gradient, mean_gradient, log_scale_gradient, fallback);
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) fallback[i] = 1;
  return count;
}
