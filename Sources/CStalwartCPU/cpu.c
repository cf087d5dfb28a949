#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
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

int swcpu_available_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void swcpu_set_thread_name(const char *name) {
    char buf[16];
    size_t i = 0;
    for (; name && name[i] && i < sizeof buf - 1; i++) buf[i] = name[i];
    buf[i] = 0;
    (void)pthread_setname_np(pthread_self(), buf);
}

uint64_t swcpu_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
