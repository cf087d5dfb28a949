/* FP32 FMA peak of this machine: every thread runs independent fused multiply-add chains on
 * registers only (24 accumulators: enough to cover the FMA latency on two pipes), with the
 * widest vectors the CPU has (AVX-512, else AVX2+FMA). Prints the total GFLOP/s of all threads.
 * Used by bench_vs_ort.py for the "of peak" column (compiled there with the system cc).
 *
 *     cc -O2 -pthread fma_peak.c -o fma_peak && ./fma_peak [threads]
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static long iterations = 20000000;

/* FLOPs per iteration: 24 FMAs × lanes × 2. The sum printed at the end keeps the loop alive. */
__attribute__((target("avx512f"))) static double run512(void) {
    __m512 acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps(0.001f * i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long k = 0; k < iterations; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    float s = 0;
    for (int i = 0; i < 24; i++) s += _mm512_reduce_add_ps(acc[i]);
    return s;
}

__attribute__((target("avx2,fma"))) static double run256(void) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(0.001f * i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long k = 0; k < 2 * iterations; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    float lanes[8], s = 0;
    for (int i = 0; i < 12; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        for (int j = 0; j < 8; j++) s += lanes[j];
    }
    return s;
}

static int wide;
static long sink;

static void *worker(void *arg) {
    (void)arg;
    double s = wide ? run512() : run256();
    __atomic_fetch_add(&sink, (long)(s != 12345.0), __ATOMIC_RELAXED);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 256) threads = 1;
    __builtin_cpu_init();
    wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        printf("0\n");
        return 0;
    }
    double flopsPerThread = (double)iterations * 24 * 16 * 2;  /* the AVX2 loop does the same work */
    pthread_t tid[256];
    double best = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, worker, NULL);
        for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
        double g = flopsPerThread * threads / (now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    printf("%.1f\n", best);
    return 0;
}
