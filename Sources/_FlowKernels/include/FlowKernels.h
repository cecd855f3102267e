// Vectorised elementwise kernels that Swift cannot express: Swift code in a
// package without unsafeFlags is compiled for baseline x86-64 (SSE2), while
// C functions may carry __attribute__((target("avx2,fma"))) and be chosen at
// run time. FlowTensor calls these behind its own Swift API.
#ifndef FLOW_KERNELS_H
#define FLOW_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// y[i] = exp(x[i]) for i < count, within 1 ulp; x and y may be the same
/// array. Uses AVX2+FMA when the processor has them.
void flow_kernels_exp_f32(const float *x, float *y, ptrdiff_t count);

/// y[i] = x[i]·Φ(x[i]) (exact GELU), computed in double; AVX2+FMA when present.
void flow_kernels_gelu_f32(const float *x, float *y, ptrdiff_t count);

/// out[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])), the GELU pullback, in double.
void flow_kernels_gelu_backward_f32(const float *g, const float *x, float *out, ptrdiff_t count);

/// One Adam/AdamW step's constants (see Adam.c for the update).
typedef struct {
  int coupled, decoupled, lerp_from_start;
  float weight_decay, decay_factor, average_weight, average_weight_complement;
  float beta2, square_weight, bias_correction2_root, epsilon, negative_step_size;
} FlowAdamConstants;

/// The fused Adam update of count parameters p with gradients g and
/// moments m, v, in place. Uses AVX2 when the processor has it.
void flow_kernels_adam_f32(float *p, const float *g, float *m, float *v, ptrdiff_t count,
                           const FlowAdamConstants *constants);

/// A chunk of a parallel region: `task(context, chunk)`.
typedef void (*flow_pool_task)(void *context, long chunk);

/// Runs `task(context, c)` for every c in 0..<chunks, on the calling
/// thread and on up to `threads − 1` pool workers (made on first use,
/// spinning ~2 ms before they sleep), and returns when all have
/// finished. One region runs at a time: a call while another thread's
/// region is in flight runs its chunks serially on its own thread.
void flow_pool_run(long chunks, int threads, flow_pool_task task, void *context);

/// Sends the pool's spinning workers to sleep now rather than after their
/// spin, until the next region: for calls that run on another library's
/// threads (OpenBLAS's), which would otherwise share the cores with them.
void flow_pool_park(void);

/// The elementwise stages of the circulant-diagonal product for Float
/// (CirculantDiagonal.c): `split` selects the packed layout (n real parts
/// then n imaginary parts) over interleaved pairs; `diagonal` may be NULL in
/// `flow_cd_pack_f32` (no scaling).
void flow_cd_pack_f32(const float *x, long rows, long n, int split, const float *diagonal, float *u);
void flow_cd_unpack_f32(const float *u, long rows, long n, int split, const float *diagonal, float *y);
void flow_cd_scale_f32(float *u, long pairs, long n, int split, const float *diagonal);
void flow_cd_multiply_f32(float *z, long pairs, long n, int split, const float *spectrum);

/// Stops OpenBLAS's idle worker threads, if OpenBLAS is the BLAS in use,
/// so that they do not spin on the pool's cores; OpenBLAS restarts them on
/// its next multithreaded call. Call it when no other thread is inside BLAS.
void flow_library_threads_shutdown(void);

/// A 64-byte-aligned scratch buffer of at least `bytes` that belongs to
/// the calling thread and is kept for its next call (its contents are not),
/// so that a kernel's scratch stays in that core's cache instead of
/// passing between threads through a shared free list. NULL when out of
/// memory. Valid until the thread's next call with a larger size.
void *flow_thread_scratch(size_t bytes);

/// The nesting depth of FlowTensor's parallel regions on the calling
/// thread (0 outside any), and entering and leaving one.
int flow_parallel_depth(void);
void flow_parallel_enter(void);
void flow_parallel_leave(void);

/// The instruction set flow_kernels_* use: 0 portable C, 1 AVX2+FMA.
int flow_kernels_instruction_set(void);

/// Forces the portable path (1) or restores detection (0); for tests.
void flow_kernels_force_portable(int force);

/// The Gaussian-mixture CDF flow u = Φ⁻¹(Σ_k w_k Φ((z − m_k)/s_k)), w =
/// softmax(logits), and log|du/dz|, of `count` elements with `components`
/// contiguous parameters each (row i at i·components), in double with
/// AVX2+FMA (MixtureCDF.c). Elements it cannot do to full precision (a
/// tail mass below 1e-30, anything non-finite), or every element without
/// AVX2, get fallback[i] = 1 and their outputs unwritten; returns how many.
ptrdiff_t flow_kernels_mixture_cdf_f32(const float *z, const float *logits, const float *means,
                                       const float *log_scales, ptrdiff_t count, ptrdiff_t components,
                                       float *output, float *log_derivative, unsigned char *fallback);

/// The pullback of flow_kernels_mixture_cdf_f32 from its output u and the
/// cotangents of u and of log|du/dz|: the gradients of z (`count`) and of
/// the logits, means and log-scales (`count`·`components`), with the same
/// fallback flags and return value.
ptrdiff_t flow_kernels_mixture_cdf_backward_f32(const float *z, const float *logits, const float *means,
                                                const float *log_scales, const float *output,
                                                const float *output_cotangent,
                                                const float *log_derivative_cotangent, ptrdiff_t count,
                                                ptrdiff_t components, float *z_gradient,
                                                float *logit_gradient, float *mean_gradient,
                                                float *log_scale_gradient, unsigned char *fallback);

#ifdef __cplusplus
}
#endif

#endif
