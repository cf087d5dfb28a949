#include "stalwart_cpu.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
static bool osxsave(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    return (c & (1u << 27)) != 0;
}
bool swcpu_has_avx2_fma(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    bool fma = (c & (1u << 12)) != 0, avx = (c & (1u << 28)) != 0;
    if (!fma || !avx || !osxsave()) return false;
    if ((xgetbv0() & 0x6) != 0x6) return false;
    if (__get_cpuid_max(0, 0) < 7) return false;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0; /* AVX2 */
}
bool swcpu_has_avx512(void) {
    unsigned int a, b, c, d;
    if (!swcpu_has_avx2_fma()) return false;
    if ((xgetbv0() & 0xE6) != 0xE6) return false;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned int need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31); /* F DQ BW VL */
    return (b & need) == need;
}
#else
bool swcpu_has_avx2_fma(void) { return false; }
bool swcpu_has_avx512(void) { return false; }
#endif
