// OpenBLAS's own worker threads, kept off the cores the pool's workers use.
//
// OpenBLAS starts its workers when the library loads, and an idle worker
// spins on sched_yield for THREAD_TIMEOUT (2^28 cycles, ~0.1 s here) before
// it sleeps, again after every call it takes part in. On two cores that
// spinning worker shared a core with FlowTensor's pool worker: the two
// yielded to each other ~1,100 times in a short `flowbench cd` run, and a
// process's first ~0.1 s (most of a short benchmark, every short command)
// ran at one thread's speed or worse: a [4096, 64] CD training step
// measured 0.39 or 0.67 ms from one process to the next.
// `OPENBLAS_THREAD_TIMEOUT=4` in the environment removed that; this does
// the same from inside the process by shutting the idle workers down
// (`flowbench gemm` order 512 went from 65–248 to 231–241 GFLOP/s). OpenBLAS starts them again on
// its next threaded call (its fork handler relies on that), which FlowTensor
// makes only for large LAPACK factorisations.
#define _GNU_SOURCE
#include "FlowKernels.h"

#include <dlfcn.h>
#include <stddef.h>

void flow_library_threads_shutdown(void) {
  // Found at run time: absent with the reference BLAS or another library.
  static int (*shutdown)(void) = NULL;
  static int looked_up = 0;
  if (!looked_up) {
    shutdown = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    looked_up = 1;
  }
  if (shutdown != NULL) shutdown();
}
