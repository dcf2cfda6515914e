/*
 * shared.h - what the server's worker processes share: one mapping made
 * before they fork (MAP_SHARED | MAP_ANONYMOUS). Each worker counts its
 * metrics in its own slot (no locks on the hot path; /v1/metrics adds the
 * slots up); the rate limiter is one bucket for the whole server, under a
 * spin lock, so CSRMaxPerSecond means the same with one worker or eight.
 */
#ifndef SRV_SHARED_H
#define SRV_SHARED_H

#include <stdatomic.h>

#include "err.h"
#include "metrics.h"

#define SRV_WORKERS_MAX 16

struct srv_shared {
    atomic_flag lock;                /* guards rl */
    struct srv_ratelimit rl;
    struct srv_metrics metrics[SRV_WORKERS_MAX];
};

/* A zeroed shared mapping; NULL and err on failure. */
PKI_MUST_CHECK struct srv_shared *srv_shared_new(struct pki_err *err);
void srv_shared_free(struct srv_shared *sh);

/* The rate limiter (metrics.h) under the lock; set only if rate changed. */
void srv_shared_rate_set(struct srv_shared *sh, double rate, int64_t now_ms);
int srv_shared_rate_take(struct srv_shared *sh, int64_t now_ms, int *retry_after);

/* The sum of every slot. */
void srv_shared_metrics_sum(const struct srv_shared *sh, struct srv_metrics *out);

#endif
