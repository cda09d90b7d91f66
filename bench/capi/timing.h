/* Timing helpers of the C benchmarks (capi_bench.c, saf_bench.c). */
#ifndef CLCKPT_BENCH_TIMING_H
#define CLCKPT_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile of v (sorted in place). */
static long long pct(long long *v, size_t n, double p) {
    qsort(v, n, sizeof *v, cmp_ll);
    size_t i = (size_t)(p / 100.0 * (double)n);
    return v[i < n ? i : n - 1];
}

#endif
