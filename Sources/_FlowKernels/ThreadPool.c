// FlowTensor's worker threads: a fixed pool that spins briefly before it
// sleeps, so the many short parallel regions of a training step (an
// elementwise op, a convolution's images) start on every core within
// microseconds. libdispatch's concurrentPerform, used before, put its
// workers to sleep on a futex after every region: ~650 futex calls and
// ~9% of a CDFlow training step's time in the kernel's scheduler.
//
// One region runs at a time. A region's chunks are claimed through one
// 64-bit ticket that packs the region's generation, its chunk count and
// the next unclaimed chunk, so a worker that wakes late can never claim a
// chunk of a region it did not see published: its compare-and-swap on a
// stale ticket fails. A region's task and context stay fixed until all of
// its chunks have finished, which is when the submitter may publish the
// next one.
#include "FlowKernels.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// Ticket fields: generation (24 bits) | chunk count (20 bits) | next chunk (20 bits).
#define CHUNK_BITS 20
#define CHUNK_MASK ((1ull << CHUNK_BITS) - 1)
#define MAX_WORKERS 255
// How long an idle worker spins before it sleeps: long enough to bridge
// the serial code between two regions (at 0.2 ms, a [4096, 128] CD
// forward pass, whose output's fresh pages take ~0.2 ms to fault in, ran
// on one core in half of the calls), short enough not to hold a core for
// long when the process goes quiet.
#define SPIN_NANOSECONDS 2000000

static struct {
  pthread_mutex_t submit;
  pthread_once_t once;
  int workers;
  // Written by the submitter before a region is published; fixed until
  // every chunk of the region has finished.
  flow_pool_task task;
  void *context;
  _Atomic uint64_t ticket;
  _Atomic long pending;
  // The futex word: bumped when a region is published.
  _Atomic uint32_t generation;
  _Atomic int sleepers;
  // Set while another library's threads (OpenBLAS's, for a large
  // product) need the cores: spinning workers go to sleep at once.
  _Atomic int park;
} pool = {.submit = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT};

static int requested_workers = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static inline uint64_t now_nanoseconds(void) {
  struct timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return (uint64_t)time.tv_sec * 1000000000ull + (uint64_t)time.tv_nsec;
}

// Claims and runs chunks of the published region until none is left.
static void run_chunks(void) {
  uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
  for (;;) {
    uint64_t next = ticket & CHUNK_MASK;
    uint64_t count = (ticket >> CHUNK_BITS) & CHUNK_MASK;
    if (next >= count) return;
    if (atomic_compare_exchange_weak_explicit(
            &pool.ticket, &ticket, ticket + 1, memory_order_acq_rel, memory_order_acquire)) {
      // The claim succeeded on the live ticket: this region's task and
      // context stay valid until its pending count reaches zero.
      pool.task(pool.context, (long)next);
      atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
      ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
    }
  }
}

static void *worker_main(void *argument) {
  (void)argument;
  uint32_t seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
  for (;;) {
    uint64_t spin_start = now_nanoseconds();
    unsigned spins = 0;
    uint32_t current;
    while ((current = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
      cpu_relax();
      if (++spins % 64 != 0) continue;
      if (!atomic_load_explicit(&pool.park, memory_order_relaxed) && now_nanoseconds() - spin_start < SPIN_NANOSECONDS) {
        continue;
      }
      atomic_fetch_add(&pool.sleepers, 1);
      // Returns at once if the generation moved since it was read.
      syscall(SYS_futex, &pool.generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
      atomic_fetch_sub(&pool.sleepers, 1);
      spin_start = now_nanoseconds();
    }
    seen = current;
    run_chunks();
  }
  return NULL;
}

static void start_workers(void) {
  // OpenBLAS's workers, started when it loaded, would spin on these cores
  // for ~0.1 s (LibraryThreads.c).
  flow_library_threads_shutdown();
  int count = requested_workers;
  if (count > MAX_WORKERS) count = MAX_WORKERS;
  for (int index = 0; index < count; index++) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attributes, worker_main, NULL) == 0) pool.workers += 1;
    pthread_attr_destroy(&attributes);
  }
}

void flow_pool_run(long chunks, int threads, flow_pool_task task, void *context) {
  if (chunks <= 0) return;
  // Another region in flight (a second submitting thread), a pool without
  // workers, or more chunks than a ticket holds: run here, serially.
  if (chunks == 1 || threads <= 1 || (uint64_t)chunks > CHUNK_MASK || pthread_mutex_trylock(&pool.submit) != 0) {
    for (long chunk = 0; chunk < chunks; chunk++) task(context, chunk);
    return;
  }
  if (requested_workers == 0) requested_workers = threads - 1;
  pthread_once(&pool.once, start_workers);
  if (pool.workers == 0) {
    pthread_mutex_unlock(&pool.submit);
    for (long chunk = 0; chunk < chunks; chunk++) task(context, chunk);
    return;
  }
  atomic_store_explicit(&pool.park, 0, memory_order_relaxed);
  pool.task = task;
  pool.context = context;
  atomic_store_explicit(&pool.pending, chunks, memory_order_relaxed);
  uint32_t generation = atomic_load_explicit(&pool.generation, memory_order_relaxed) + 1;
  uint64_t ticket = ((uint64_t)(generation & 0xFFFFFF) << (2 * CHUNK_BITS)) | ((uint64_t)chunks << CHUNK_BITS);
  atomic_store_explicit(&pool.ticket, ticket, memory_order_release);
  atomic_store(&pool.generation, generation);
  if (atomic_load(&pool.sleepers) > 0) syscall(SYS_futex, &pool.generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
  run_chunks();
  // Wait for chunks still running on workers; yield if one is descheduled.
  unsigned spins = 0;
  while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
    if (++spins < 4096) {
      cpu_relax();
    } else {
      sched_yield();
    }
  }
  pthread_mutex_unlock(&pool.submit);
}

void flow_pool_park(void) { atomic_store_explicit(&pool.park, 1, memory_order_relaxed); }

// One scratch buffer per thread, kept between calls (see FlowKernels.h).
void *flow_thread_scratch(size_t bytes) {
  static __thread void *buffer = NULL;
  static __thread size_t capacity = 0;
  if (bytes > capacity) {
    free(buffer);
    buffer = NULL;
    capacity = 0;
    if (posix_memalign(&buffer, 64, bytes) != 0) return NULL;
    capacity = bytes;
  }
  return buffer;
}
