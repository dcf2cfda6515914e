/* bench_util.h - what the C benchmarks (bench_leaf.c, bench_csr.c) share:
 * the SPIFFE URI they issue for, a monotonic clock, one report line. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "err.h"

#define URI "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web"

static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "WHAT  N in S s: R /s, U us each", WHAT padded to width. */
static inline void bench_report(int width, const char *what, long n, double secs)
{
    printf("%-*s %8ld in %7.3f s: %9.0f /s, %8.1f us each\n", width, what, n, secs, n / secs,
           secs / n * 1e6);
}

static inline void bench_die(const char *prog, const char *what, const struct pki_err *err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, err->msg);
    exit(1);
}

#endif
