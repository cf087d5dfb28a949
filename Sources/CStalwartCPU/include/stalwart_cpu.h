#ifndef STALWART_CPU_H
#define STALWART_CPU_H
/* CPU feature probe for kernel dispatch, and the few OS calls the thread pool needs that
 * Swift's Glibc module hides behind _GNU_SOURCE (internal; not part of the public API). */
#include <stdbool.h>
#include <stdint.h>
/** Cores in this process's CPU affinity mask (at least 1). */
int swcpu_available_cores(void);
/** Names the calling thread (truncated to 15 bytes); best effort. */
void swcpu_set_thread_name(const char *name);
/** Monotonic clock in nanoseconds. */
uint64_t swcpu_now_ns(void);
/** True when the CPU and OS support AVX2 and FMA (ymm state enabled). */
bool swcpu_has_avx2_fma(void);
/** True when the CPU and OS support AVX-512 F/BW/DQ/VL (zmm and opmask state enabled). */
bool swcpu_has_avx512(void);
/** A spin-wait hint (x86 `pause`); a no-op elsewhere. Used by the thread pool's spin loops. */
static inline void swcpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
#endif
