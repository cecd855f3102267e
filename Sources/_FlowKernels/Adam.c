// The fused Adam/AdamW update for float arrays, in PyTorch's operation
// order (FlowTensor's AdamMoments.swift documents the formulas):
//   g ← g + λ·p (coupled decay);  p ← p·(1 − lr·λ) (decoupled decay)
//   m ← lerp(m, g, 1 − β₁);  v ← β₂·v + (1 − β₂)·g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// Every operation is rounded separately, as in the Swift loop (no fused
// multiply-adds), so both paths give the same bits.
#include "FlowKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FLOW_KERNELS_X86 1
#endif

static inline void adam_scalar(float *p, const float *g, float *m, float *v, ptrdiff_t i,
                               const FlowAdamConstants *c) {
  float parameter = p[i];
  float gradient = g[i];
  if (c->coupled) gradient = gradient + c->weight_decay * parameter;
  if (c->decoupled) parameter = parameter * c->decay_factor;
  float average = c->lerp_from_start ? m[i] + c->average_weight * (gradient - m[i])
                                     : gradient - (gradient - m[i]) * c->average_weight_complement;
  float squares = v[i] * c->beta2 + c->square_weight * gradient * gradient;
  m[i] = average;
  v[i] = squares;
  float denominator = __builtin_sqrtf(squares) / c->bias_correction2_root + c->epsilon;
  p[i] = parameter + c->negative_step_size * (average / denominator);
}

#ifdef FLOW_KERNELS_X86
__attribute__((target("avx2")))
static void adam_avx2(float *p, const float *g, float *m, float *v, ptrdiff_t count,
                      const FlowAdamConstants *c) {
  const __m256 weight_decay = _mm256_set1_ps(c->weight_decay);
  const __m256 decay_factor = _mm256_set1_ps(c->decay_factor);
  const __m256 average_weight = _mm256_set1_ps(c->average_weight);
  const __m256 complement = _mm256_set1_ps(c->average_weight_complement);
  const __m256 beta2 = _mm256_set1_ps(c->beta2);
  const __m256 square_weight = _mm256_set1_ps(c->square_weight);
  const __m256 root = _mm256_set1_ps(c->bias_correction2_root);
  const __m256 epsilon = _mm256_set1_ps(c->epsilon);
  const __m256 step = _mm256_set1_ps(c->negative_step_size);
  ptrdiff_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 parameter = _mm256_loadu_ps(p + i);
    __m256 gradient = _mm256_loadu_ps(g + i);
    __m256 old_average = _mm256_loadu_ps(m + i);
    if (c->coupled) gradient = _mm256_add_ps(gradient, _mm256_mul_ps(weight_decay, parameter));
    if (c->decoupled) parameter = _mm256_mul_ps(parameter, decay_factor);
    __m256 average = c->lerp_from_start
        ? _mm256_add_ps(old_average, _mm256_mul_ps(average_weight, _mm256_sub_ps(gradient, old_average)))
        : _mm256_sub_ps(gradient, _mm256_mul_ps(_mm256_sub_ps(gradient, old_average), complement));
    __m256 squares = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), beta2),
                                   _mm256_mul_ps(_mm256_mul_ps(square_weight, gradient), gradient));
    _mm256_storeu_ps(m + i, average);
    _mm256_storeu_ps(v + i, squares);
    __m256 denominator = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(squares), root), epsilon);
    _mm256_storeu_ps(p + i, _mm256_add_ps(parameter, _mm256_mul_ps(step, _mm256_div_ps(average, denominator))));
  }
  for (; i < count; i++) adam_scalar(p, g, m, v, i, c);
}
#endif

void flow_kernels_adam_f32(float *p, const float *g, float *m, float *v, ptrdiff_t count,
                           const FlowAdamConstants *constants) {
#ifdef FLOW_KERNELS_X86
  if (flow_kernels_instruction_set() == 1) {
    adam_avx2(p, g, m, v, count, constants);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) adam_scalar(p, g, m, v, i, constants);
}
