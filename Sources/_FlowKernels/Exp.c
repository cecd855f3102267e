// exp for float arrays: Cody & Waite range reduction and Cephes' expf
// polynomial, as FlowTensor's documentation describes:
//   n = round(x·log2 e),  r = x − n·ln 2 (two parts, so r is exact),
//   e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln 2 / 2,  e^x = e^r · 2^n,
// with 2^n applied as two powers of two so n from −150 to 128 neither
// overflows the exponent field nor rounds twice.
#include "FlowKernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FLOW_KERNELS_X86 1
#endif

static const float kUpper = 88.72284f;     // above ln(greatest finite float): +inf
static const float kLower = -103.97208f;   // below ln(least subnormal / 2): 0
static const float kMagic = 12582912.0f;   // 1.5·2^23: adding it rounds to an integer
static const float kLog2e = 1.44269504f;
static const float kLn2High = 0.693359375f;
static const float kLn2Low = -2.12194440e-4f;
static const float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f,
                   kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

static inline float bits_to_float(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

static inline uint32_t float_to_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

static inline float exp_portable(float x) {
  if (x != x) return x;
  if (x > kUpper) return __builtin_inff();
  if (x < kLower) return 0.0f;
  float shifted = x * kLog2e + kMagic;
  float n = shifted - kMagic;
  int32_t exponent = (int32_t)(float_to_bits(shifted) - float_to_bits(kMagic));
  float r = (x - n * kLn2High) - n * kLn2Low;
  float p = kP0;
  p = p * r + kP1;
  p = p * r + kP2;
  p = p * r + kP3;
  p = p * r + kP4;
  p = p * r + kP5;
  float y = p * (r * r) + r + 1.0f;
  int32_t half = exponent >> 1;
  float scale_a = bits_to_float((uint32_t)(half + 127) << 23);
  float scale_b = bits_to_float((uint32_t)(exponent - half + 127) << 23);
  return y * scale_a * scale_b;
}

#ifdef FLOW_KERNELS_X86
__attribute__((target("avx2,fma")))
static void exp_avx2(const float *x, float *y, ptrdiff_t count) {
  const __m256 upper = _mm256_set1_ps(kUpper), lower = _mm256_set1_ps(kLower);
  const __m256 magic = _mm256_set1_ps(kMagic), log2e = _mm256_set1_ps(kLog2e);
  const __m256 ln2_high = _mm256_set1_ps(kLn2High), ln2_low = _mm256_set1_ps(kLn2Low);
  const __m256 one = _mm256_set1_ps(1.0f), infinity = _mm256_set1_ps(__builtin_inff());
  const __m256i bias = _mm256_set1_epi32(127);
  ptrdiff_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    // max/min return their second operand when the first is NaN: clamped is
    // finite here and NaN is restored at the end.
    __m256 clamped = _mm256_min_ps(_mm256_max_ps(v, lower), upper);
    __m256 shifted = _mm256_fmadd_ps(clamped, log2e, magic);
    __m256 n = _mm256_sub_ps(shifted, magic);
    __m256i exponent = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(magic));
    __m256 r = _mm256_fnmadd_ps(n, ln2_high, clamped);
    r = _mm256_fnmadd_ps(n, ln2_low, r);
    __m256 p = _mm256_set1_ps(kP0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP5));
    __m256 result = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), one);
    __m256i half = _mm256_srai_epi32(exponent, 1);
    __m256 scale_a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    __m256 scale_b = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(exponent, half), bias), 23));
    result = _mm256_mul_ps(_mm256_mul_ps(result, scale_a), scale_b);
    result = _mm256_blendv_ps(result, infinity, _mm256_cmp_ps(v, upper, _CMP_GT_OQ));
    result = _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(v, lower, _CMP_LT_OQ));
    result = _mm256_blendv_ps(result, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    _mm256_storeu_ps(y + i, result);
  }
  for (; i < count; i++) y[i] = exp_portable(x[i]);
}
#endif

static int forced_portable = 0;

int flow_kernels_instruction_set(void) {
#ifdef FLOW_KERNELS_X86
  static int detected = -1;
  if (detected < 0) {
    __builtin_cpu_init();
    detected = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
  }
  return forced_portable ? 0 : detected;
#else
  return 0;
#endif
}

void flow_kernels_force_portable(int force) { forced_portable = force; }

void flow_kernels_exp_f32(const float *x, float *y, ptrdiff_t count) {
#ifdef FLOW_KERNELS_X86
  if (flow_kernels_instruction_set() == 1) {
    exp_avx2(x, y, count);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) y[i] = exp_portable(x[i]);
}
