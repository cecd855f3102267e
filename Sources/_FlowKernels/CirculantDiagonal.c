// The elementwise stages of FlowTensor's circulant-diagonal product for
// Float rows (CirculantDiagonalProduct.swift): packing pairs of rows into
// complex signals with a diagonal scaling, the complex spectral product,
// the diagonal scaling between factors and the unpacking. Swift compiles
// for the x86-64 baseline, so these loops ran on 128-bit SSE vectors and
// took ~60% of a [4096, 128] forward pass against FFTW's ~27%; here they
// are compiled for AVX2 and FMA as well, chosen at run time (flow_kernels_
// instruction_set). Each element gets the same expression, products
// rounded separately (no fused multiply-add), as in the Swift loops that
// still serve Double.
//
// Layout of a packed pair of rows (2n floats): split (n real parts, then n
// imaginary parts; stride 1, imaginary offset n) or interleaved ((real,
// imaginary) pairs; stride 2, imaginary offset 1).
#include "FlowKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define FLOW_KERNELS_X86 1
#define AVX2 __attribute__((target("avx2,fma")))
#endif

// Each stage is written once as a macro body and instantiated twice: a
// portable copy and an AVX2 copy the compiler vectorises with 256-bit
// registers. `STRIDE` and `OFFSET` are the layout's constants, so each
// layout gets its own loop.
#define PACK_BODY(STRIDE, OFFSET)                                                      \
  for (long pair = 0; pair < (rows + 1) / 2; pair++) {                                \
    const float *first = x + 2 * pair * n;                                             \
    float *real = u + pair * 2 * n, *imaginary = u + pair * 2 * n + (OFFSET);          \
    if (2 * pair + 1 == rows) {                                                        \
      for (long i = 0; i < n; i++) {                                                   \
        real[i * (STRIDE)] = diagonal ? first[i] * diagonal[i] : first[i];             \
        imaginary[i * (STRIDE)] = 0;                                                   \
      }                                                                                \
      continue;                                                                        \
    }                                                                                  \
    const float *second = first + n;                                                   \
    if (diagonal) {                                                                    \
      for (long i = 0; i < n; i++) {                                                   \
        real[i * (STRIDE)] = first[i] * diagonal[i];                                   \
        imaginary[i * (STRIDE)] = second[i] * diagonal[i];                             \
      }                                                                                \
    } else {                                                                           \
      for (long i = 0; i < n; i++) {                                                   \
        real[i * (STRIDE)] = first[i];                                                 \
        imaginary[i * (STRIDE)] = second[i];                                           \
      }                                                                                \
    }                                                                                  \
  }

#define UNPACK_BODY(STRIDE, OFFSET)                                                    \
  for (long pair = 0; pair < (rows + 1) / 2; pair++) {                                \
    float *first = y + 2 * pair * n;                                                   \
    const float *real = u + pair * 2 * n, *imaginary = u + pair * 2 * n + (OFFSET);    \
    if (2 * pair + 1 == rows) {                                                        \
      for (long i = 0; i < n; i++) first[i] = real[i * (STRIDE)] * diagonal[i];        \
      continue;                                                                        \
    }                                                                                  \
    float *second = first + n;                                                         \
    for (long i = 0; i < n; i++) {                                                     \
      first[i] = real[i * (STRIDE)] * diagonal[i];                                     \
      second[i] = imaginary[i * (STRIDE)] * diagonal[i];                               \
    }                                                                                  \
  }

#define SCALE_BODY(STRIDE, OFFSET)                                                     \
  for (long pair = 0; pair < pairs; pair++) {                                          \
    float *real = u + pair * 2 * n, *imaginary = u + pair * 2 * n + (OFFSET);          \
    for (long i = 0; i < n; i++) {                                                     \
      real[i * (STRIDE)] *= diagonal[i];                                               \
      imaginary[i * (STRIDE)] *= diagonal[i];                                          \
    }                                                                                  \
  }

// No fused multiply-add: (a·p − b·q) rounded as the Swift loop rounds it.
#define MULTIPLY_BODY(STRIDE, OFFSET)                                                  \
  const float *p = spectrum, *q = spectrum + (OFFSET);                                 \
  for (long pair = 0; pair < pairs; pair++) {                                          \
    float *real = z + pair * 2 * n, *imaginary = z + pair * 2 * n + (OFFSET);          \
    for (long k = 0; k < n; k++) {                                                     \
      float a = real[k * (STRIDE)], b = imaginary[k * (STRIDE)];                       \
      float ap = a * p[k * (STRIDE)], bq = b * q[k * (STRIDE)];                        \
      float aq = a * q[k * (STRIDE)], bp = b * p[k * (STRIDE)];                        \
      real[k * (STRIDE)] = ap - bq;                                                    \
      imaginary[k * (STRIDE)] = aq + bp;                                               \
    }                                                                                  \
  }

#define DEFINE_STAGE(NAME, PARAMETERS, BODY)                                           \
  static void NAME##_split PARAMETERS { BODY(1, n) }                                   \
  static void NAME##_interleaved PARAMETERS { BODY(2, 1) }                             \
  AVX2 static void NAME##_split_avx2 PARAMETERS { BODY(1, n) }                         \
  AVX2 static void NAME##_interleaved_avx2 PARAMETERS { BODY(2, 1) }

#ifndef FLOW_KERNELS_X86
#define AVX2
#endif

#define PACK_PARAMETERS \
  (const float *restrict x, long rows, long n, const float *restrict diagonal, float *restrict u)
#define UNPACK_PARAMETERS \
  (const float *restrict u, long rows, long n, const float *restrict diagonal, float *restrict y)
#define SCALE_PARAMETERS (float *restrict u, long pairs, long n, const float *restrict diagonal)
#define MULTIPLY_PARAMETERS (float *restrict z, long pairs, long n, const float *restrict spectrum)

// Clang rejects the FP_CONTRACT pragma inside function bodies generated by
// macros, so it is set for the whole file: no contraction anywhere here.
#pragma STDC FP_CONTRACT OFF
DEFINE_STAGE(pack, PACK_PARAMETERS, PACK_BODY)
DEFINE_STAGE(unpack, UNPACK_PARAMETERS, UNPACK_BODY)
DEFINE_STAGE(scale, SCALE_PARAMETERS, SCALE_BODY)
DEFINE_STAGE(multiply, MULTIPLY_PARAMETERS, MULTIPLY_BODY)

#define DISPATCH(NAME, ...)                                                            \
  do {                                                                                 \
    int vector = flow_kernels_instruction_set() == 1;                                  \
    if (split) {                                                                       \
      if (vector) NAME##_split_avx2(__VA_ARGS__); else NAME##_split(__VA_ARGS__);      \
    } else {                                                                           \
      if (vector) NAME##_interleaved_avx2(__VA_ARGS__); else NAME##_interleaved(__VA_ARGS__); \
    }                                                                                  \
  } while (0)

void flow_cd_pack_f32(const float *x, long rows, long n, int split, const float *diagonal, float *u) {
  DISPATCH(pack, x, rows, n, diagonal, u);
}

void flow_cd_unpack_f32(const float *u, long rows, long n, int split, const float *diagonal, float *y) {
  DISPATCH(unpack, u, rows, n, diagonal, y);
}

void flow_cd_scale_f32(float *u, long pairs, long n, int split, const float *diagonal) {
  DISPATCH(scale, u, pairs, n, diagonal);
}

void flow_cd_multiply_f32(float *z, long pairs, long n, int split, const float *spectrum) {
  DISPATCH(multiply, z, pairs, n, spectrum);
}
