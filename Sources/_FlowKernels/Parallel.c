// The nesting depth of FlowTensor's parallel regions on this thread: a
// kernel that runs inside another kernel's worker (a per-image gemm inside
// a convolution split over images) runs serially instead of splitting
// again. Swift has no thread-local storage of its own short of
// pthread keys, which cost a call each.
#include "FlowKernels.h"

static _Thread_local int parallel_depth = 0;

int flow_parallel_depth(void) { return parallel_depth; }
void flow_parallel_enter(void) { parallel_depth += 1; }
void flow_parallel_leave(void) { parallel_depth -= 1; }
