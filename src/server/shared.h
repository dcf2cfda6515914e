/*
 * shared.h - what the server's worker processes share: one mapping made
 * before they fork (MAP_SHARED | MAP_ANONYMOUS). Each worker counts its
 * metrics in its own slot (no locks on the hot path; /v1/metrics adds the
 * slots up); the rate limiter is one bucket for the whole server, under a
 * spin lock, so CSRMaxPerSecond means the same with one worker or eight.
 * The audit log's chain head lives here too (audit.h), and a store
 * generation that a worker bumps after each commit, so the others know to
 * reload their caches without asking SQLite on every request.
 */
#ifndef SRV_SHARED_H
#define SRV_SHARED_H

#include <stdatomic.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "metrics.h"

#define SRV_WORKERS_MAX 16

struct srv_shared {
    atomic_flag lock;                /* guards rl */
    struct srv_ratelimit rl;
    struct srv_metrics metrics[SRV_WORKERS_MAX];
    struct srv_audit_shared audit;   /* every audit handle is attached to it */
    _Atomic uint64_t store_gen;      /* bumped after every store commit */
    int nworkers;                    /* set before the workers fork */
    _Atomic uint32_t conns[SRV_WORKERS_MAX]; /* each worker's open connections */
};

/* A zeroed shared mapping with the audit head's mutex ready; NULL and err
 * (PKI_ERR_INTERNAL) on failure. */
PKI_MUST_CHECK struct srv_shared *srv_shared_new(struct pki_err *err);
void srv_shared_free(struct srv_shared *sh);

/* The rate limiter (metrics.h) under the lock; set only if rate changed. */
void srv_shared_rate_set(struct srv_shared *sh, double rate, int64_t now_ms);
int srv_shared_rate_take(struct srv_shared *sh, int64_t now_ms, int *retry_after);

/* The store generation: acquire, so what the commit wrote is visible to a
 * worker that sees the new value; the bump releases it. */
uint64_t srv_shared_gen(const struct srv_shared *sh);
void srv_shared_gen_bump(struct srv_shared *sh);

/* Worker w now has n connections; returns 1 if it should accept the next
 * one: no other worker has fewer. The shared listening socket wakes every
 * worker, and the first to run would otherwise take connections that an
 * idle worker could serve (2 long connections on 1 of 2 workers: 1 core). */
int srv_shared_conns_balance(struct srv_shared *sh, int w, size_t n);

/* The sum of every slot. */
void srv_shared_metrics_sum(const struct srv_shared *sh, struct srv_metrics *out);

#endif
