/*
 * metrics.h - the server's counters and their Prometheus text rendering
 * (docs/server.md, "Metrics"). One struct per process, no globals.
 */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum srv_metric_endpoint { SRV_EP_LEAF, SRV_EP_SIGN, SRV_EP_COUNT };

enum srv_metric_error {
    SRV_ERRK_BAD_REQUEST, SRV_ERRK_UNAUTHORIZED, SRV_ERRK_FORBIDDEN, SRV_ERRK_RATE_LIMITED,
    SRV_ERRK_SIGNER, SRV_ERRK_INTERNAL, SRV_ERRK_COUNT
};

#define SRV_METRIC_BUCKETS 12 /* 0.0005 .. 1 seconds, then +Inf */
#define SRV_METRIC_CODES 16   /* distinct HTTP status codes tracked */

struct srv_metrics {
    uint64_t issued[SRV_EP_COUNT];
    uint64_t latency_buckets[SRV_METRIC_BUCKETS + 1]; /* cumulative at render time */
    double latency_sum;
    uint64_t latency_count;
    uint64_t errors[SRV_ERRK_COUNT];
    int codes[SRV_METRIC_CODES];
    uint64_t code_counts[SRV_METRIC_CODES];
    uint64_t code_other; /* codes seen after the first SRV_METRIC_CODES distinct ones */
    uint64_t rotations;
    int rotation_in_progress;
};

void srv_metrics_issued(struct srv_metrics *m, enum srv_metric_endpoint ep, double seconds);
void srv_metrics_error(struct srv_metrics *m, enum srv_metric_error kind);
void srv_metrics_status(struct srv_metrics *m, int code);

/* Adds src's counts to dst (worker processes each count in their own
 * struct; /v1/metrics renders the sum). Status codes merge by value. */
void srv_metrics_add(struct srv_metrics *dst, const struct srv_metrics *src);

/* Renders text format 0.0.4; the gauges are passed in (seconds until the
 * active root's / intermediate's notAfter, number of roots). */
PKI_MUST_CHECK int srv_metrics_render(const struct srv_metrics *m, int64_t root_expiry,
                                      int64_t intermediate_expiry, size_t roots,
                                      struct pki_buf *out, struct pki_err *err);

/* A token bucket: rate per second (0 = unlimited), burst max(1, rate).
 * Times in milliseconds from any monotonic clock. */
struct srv_ratelimit {
    double rate, tokens;
    int64_t last_ms;
};
void srv_ratelimit_set(struct srv_ratelimit *rl, double rate, int64_t now_ms);
/* 1 if allowed (takes a token); 0 and *retry_after (whole seconds, >= 1) if not. */
int srv_ratelimit_take(struct srv_ratelimit *rl, int64_t now_ms, int *retry_after);

#endif
