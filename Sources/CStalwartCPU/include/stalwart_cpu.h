#ifndef STALWART_CPU_H
#define STALWART_CPU_H
/* CPU feature probe for kernel dispatch (internal; not part of the public API). */
#include <stdbool.h>
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
