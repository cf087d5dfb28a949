/* Core-to-core round trip: two threads hand a counter back and forth through one cache line
 * (acquire/release atomics); prints the median round trip in nanoseconds over 5 batches of
 * 20 000. On this project's 2-vCPU machine it is ≈ 80–130 ns when the two vCPUs sit on
 * nearby cores and ≈ 400 ns when they are far apart (the machine's slow two-thread phase), so
 * bench_vs_ort.py prints it with every row. Build: cc -O2 -pthread core_rtt.c -o core_rtt */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { TRIPS = 20000, BATCHES = 5 };
static _Alignas(64) atomic_long flag;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *bounce(void *arg) {
    long me = (long)arg;
    for (long i = 0; i < TRIPS; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + me) {}
        atomic_store_explicit(&flag, 2 * i + me + 1, memory_order_release);
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    double ns[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        pthread_t t0, t1;
        atomic_store(&flag, 0);
        double start = now();
        if (pthread_create(&t0, NULL, bounce, (void *)0) || pthread_create(&t1, NULL, bounce, (void *)1)) return 1;
        pthread_join(t0, NULL);
        pthread_join(t1, NULL);
        ns[b] = (now() - start) / TRIPS * 1e9;
    }
    qsort(ns, BATCHES, sizeof ns[0], cmp);
    printf("%.0f\n", ns[BATCHES / 2]);
    return 0;
}
