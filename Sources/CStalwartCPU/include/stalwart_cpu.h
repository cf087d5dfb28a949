#ifndef STALWART_CPU_H
#define STALWART_CPU_H
/* CPU feature probe for kernel dispatch (internal; not part of the public API). */
#include <stdbool.h>
/** True when the CPU and OS support AVX2 and FMA (ymm state enabled). */
bool swcpu_has_avx2_fma(void);
/** True when the CPU and OS support AVX-512 F/BW/DQ/VL (zmm and opmask state enabled). */
bool swcpu_has_avx512(void);
#endif
