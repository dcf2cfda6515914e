/*
 * metrics.c - the server's counters, their Prometheus text rendering
 * (exposition format 0.0.4) and the issuance rate limiter.
 */
#include "metrics.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the latency buckets, as numbers and as rendered. */
static const double bucket_le[SRV_METRIC_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1,
};
static const char *const bucket_text[SRV_METRIC_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "0.75", "1",
};
static const char *const endpoint_name[SRV_EP_COUNT] = {"leaf", "sign"};
static const char *const error_name[SRV_ERRK_COUNT] = {
    "bad_request", "unauthorized", "forbidden", "rate_limited", "signer", "internal",
};

/* Every family fits easily: about 60 lines of under 100 bytes. */
#define RENDER_MAX 16384

void srv_metrics_issued(struct srv_metrics *m, enum srv_metric_endpoint ep, double seconds)
{
    size_t i;

    if (m == NULL || (unsigned)ep >= SRV_EP_COUNT)
        return;
    /* A clock that stepped back gives a negative time; count it as 0. */
    if (!(seconds >= 0) || isinf(seconds))
        seconds = 0;
    m->issued[ep]++;
    for (i = 0; i < SRV_METRIC_BUCKETS && seconds > bucket_le[i]; i++)
        ;
    m->latency_buckets[i]++;
    m->latency_sum += seconds;
    m->latency_count++;
}

void srv_metrics_error(struct srv_metrics *m, enum srv_metric_error kind)
{
    if (m != NULL && (unsigned)kind < SRV_ERRK_COUNT)
        m->errors[kind]++;
}

/* codes[i] == 0 marks a free slot (the struct starts zeroed); a status
 * outside 100-599 never gets one. Bounding the series keeps a client that
 * provokes odd codes from growing the output without limit. */
static void status_add(struct srv_metrics *m, int code, uint64_t n)
{
    size_t i;

    for (i = 0; code >= 100 && code <= 599 && i < SRV_METRIC_CODES; i++) {
        if (m->codes[i] == 0)
            m->codes[i] = code;
        if (m->codes[i] == code) {
            m->code_counts[i] += n;
            return;
        }
    }
    m->code_other += n;
}

void srv_metrics_status(struct srv_metrics *m, int code)
{
    if (m != NULL)
        status_add(m, code, 1);
}

void srv_metrics_add(struct srv_metrics *dst, const struct srv_metrics *src)
{
    size_t i;

    for (i = 0; i < SRV_EP_COUNT; i++)
        dst->issued[i] += src->issued[i];
    for (i = 0; i <= SRV_METRIC_BUCKETS; i++)
        dst->latency_buckets[i] += src->latency_buckets[i];
    dst->latency_sum += src->latency_sum;
    dst->latency_count += src->latency_count;
    for (i = 0; i < SRV_ERRK_COUNT; i++)
        dst->errors[i] += src->errors[i];
    for (i = 0; i < SRV_METRIC_CODES && src->codes[i] != 0; i++)
        status_add(dst, src->codes[i], src->code_counts[i]);
    dst->code_other += src->code_other;
    dst->rotations += src->rotations;
    dst->rotation_in_progress |= src->rotation_in_progress;
}

struct out {
    char text[RENDER_MAX];
    size_t len;
    int overflow;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(o->text) - o->len)
        o->overflow = 1;
    else
        o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The shortest of %.15g and %.17g that reads back as v (Go's 'g', -1 form,
 * which Prometheus clients write). */
static void put_double(struct out *o, double v)
{
    char b[32];

    snprintf(b, sizeof(b), "%.15g", v);
    if (strtod(b, NULL) != v)
        snprintf(b, sizeof(b), "%.17g", v);
    put(o, "%s", b);
}

static void render_histogram(struct out *o, const struct srv_metrics *m)
{
    uint64_t cum = 0;
    size_t i;

    family(o, "pkictl_issue_duration_seconds", "histogram",
           "Time to issue one leaf certificate, in seconds.");
    for (i = 0; i <= SRV_METRIC_BUCKETS; i++) {
        cum += m->latency_buckets[i];
        put(o, "pkictl_issue_duration_seconds_bucket{le=\"%s\"} %llu\n",
            i < SRV_METRIC_BUCKETS ? bucket_text[i] : "+Inf", (unsigned long long)cum);
    }
    put(o, "pkictl_issue_duration_seconds_sum ");
    put_double(o, m->latency_sum);
    put(o, "\npkictl_issue_duration_seconds_count %llu\n", (unsigned long long)m->latency_count);
}

/* Status codes in ascending order, then "other" if any. */
static void render_codes(struct out *o, const struct srv_metrics *m)
{
    int last = 0, next;
    size_t i, at;

    family(o, "pkictl_http_requests_total", "counter", "HTTP responses, by status code.");
    for (;;) {
        next = INT_MAX;
        at = SRV_METRIC_CODES;
        for (i = 0; i < SRV_METRIC_CODES; i++)
            if (m->codes[i] > last && m->codes[i] < next) {
                next = m->codes[i];
                at = i;
            }
        if (at == SRV_METRIC_CODES)
            break;
        put(o, "pkictl_http_requests_total{code=\"%d\"} %llu\n", next,
            (unsigned long long)m->code_counts[at]);
        last = next;
    }
    if (m->code_other > 0)
        put(o, "pkictl_http_requests_total{code=\"other\"} %llu\n",
            (unsigned long long)m->code_other);
}

static void render_counters(struct out *o, const struct srv_metrics *m)
{
    size_t i;

    family(o, "pkictl_leaves_issued_total", "counter", "Leaf certificates issued, by endpoint.");
    for (i = 0; i < SRV_EP_COUNT; i++)
        put(o, "pkictl_leaves_issued_total{endpoint=\"%s\"} %llu\n", endpoint_name[i],
            (unsigned long long)m->issued[i]);
    render_histogram(o, m);
    family(o, "pkictl_errors_total", "counter", "Failed requests, by kind of error.");
    for (i = 0; i < SRV_ERRK_COUNT; i++)
        put(o, "pkictl_errors_total{kind=\"%s\"} %llu\n", error_name[i],
            (unsigned long long)m->errors[i]);
    render_codes(o, m);
}

int srv_metrics_render(const struct srv_metrics *m, int64_t root_expiry,
                       int64_t intermediate_expiry, size_t roots, struct pki_buf *out,
                       struct pki_err *err)
{
    struct out *o;
    int rc;

    if (m == NULL || out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "metrics: missing argument");
    if ((o = calloc(1, sizeof(*o))) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    render_counters(o, m);
    family(o, "pkictl_root_expiry_seconds", "gauge",
           "Seconds until the active root certificate expires.");
    put(o, "pkictl_root_expiry_seconds %lld\n", (long long)root_expiry);
    family(o, "pkictl_intermediate_expiry_seconds", "gauge",
           "Seconds until the signing intermediate certificate expires.");
    put(o, "pkictl_intermediate_expiry_seconds %lld\n", (long long)intermediate_expiry);
    family(o, "pkictl_roots", "gauge", "Root certificates in the trust bundle.");
    put(o, "pkictl_roots %zu\n", roots);
    family(o, "pkictl_rotation_in_progress", "gauge", "1 while a root rotation is running.");
    put(o, "pkictl_rotation_in_progress %d\n", m->rotation_in_progress ? 1 : 0);
    family(o, "pkictl_rotations_total", "counter", "Root rotations completed.");
    put(o, "pkictl_rotations_total %llu\n", (unsigned long long)m->rotations);
    if (o->overflow)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "metrics: output longer than %d bytes",
                         RENDER_MAX);
    else
        rc = pki_buf_append(out, o->text, o->len, err);
    free(o);
    return rc;
}

/* ---- rate limit --------------------------------------------------------- */

static double burst(double rate)
{
    return rate > 1 ? rate : 1;
}

/* The bucket starts full: a server that just started (or just changed its
 * rate) may issue a burst at once. */
void srv_ratelimit_set(struct srv_ratelimit *rl, double rate, int64_t now_ms)
{
    if (rl == NULL)
        return;
    rl->rate = (rate > 0 && !isinf(rate)) ? rate : 0;
    rl->tokens = burst(rl->rate);
    rl->last_ms = now_ms;
}

/* ceil(s), clamped to 1..INT_MAX (no libm needed). RFC 9110 section
 * 10.2.3: Retry-After is whole seconds; rounding up means a client that
 * waits that long finds a token. */
static int whole_seconds(double s)
{
    int n;

    if (!(s < INT_MAX))
        return INT_MAX;
    if (!(s > 0))
        return 1;
    n = (int)s;
    if ((double)n < s)
        n++;
    return n < 1 ? 1 : n;
}

int srv_ratelimit_take(struct srv_ratelimit *rl, int64_t now_ms, int *retry_after)
{
    double wait;

    if (rl == NULL || !(rl->rate > 0))
        return 1;
    /* A clock that went back refills nothing (and does not move last_ms). */
    if (now_ms > rl->last_ms) {
        rl->tokens += (double)(now_ms - rl->last_ms) * rl->rate / 1000.0;
        if (rl->tokens > burst(rl->rate))
            rl->tokens = burst(rl->rate);
        rl->last_ms = now_ms;
    }
    if (rl->tokens >= 1) {
        rl->tokens -= 1;
        return 1;
    }
    wait = (1 - rl->tokens) / rl->rate;
    if (retry_after != NULL)
        *retry_after = whole_seconds(wait);
    return 0;
}
