/* test_metrics.c - Prometheus rendering of the server's counters, and the
 * issuance rate limiter (clock injected). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>

#include "metrics.h"
#include "unit_util.h"

static const char EXPECTED[] =
    "# HELP pkictl_leaves_issued_total Leaf certificates issued, by endpoint.\n"
    "# TYPE pkictl_leaves_issued_total counter\n"
    "pkictl_leaves_issued_total{endpoint=\"leaf\"} 3\n"
    "pkictl_leaves_issued_total{endpoint=\"sign\"} 2\n"
    "# HELP pkictl_issue_duration_seconds Time to issue one leaf certificate, in seconds.\n"
    "# TYPE pkictl_issue_duration_seconds histogram\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.0005\"} 1\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.001\"} 1\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.0025\"} 2\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.005\"} 2\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.01\"} 2\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.025\"} 2\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.05\"} 2\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.1\"} 2\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.25\"} 3\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.5\"} 4\n"
    "pkictl_issue_duration_seconds_bucket{le=\"0.75\"} 4\n"
    "pkictl_issue_duration_seconds_bucket{le=\"1\"} 4\n"
    "pkictl_issue_duration_seconds_bucket{le=\"+Inf\"} 5\n"
    "pkictl_issue_duration_seconds_sum 2.75244140625\n"
    "pkictl_issue_duration_seconds_count 5\n"
    "# HELP pkictl_errors_total Failed requests, by kind of error.\n"
    "# TYPE pkictl_errors_total counter\n"
    "pkictl_errors_total{kind=\"bad_request\"} 2\n"
    "pkictl_errors_total{kind=\"unauthorized\"} 0\n"
    "pkictl_errors_total{kind=\"forbidden\"} 0\n"
    "pkictl_errors_total{kind=\"rate_limited\"} 1\n"
    "pkictl_errors_total{kind=\"signer\"} 0\n"
    "pkictl_errors_total{kind=\"internal\"} 0\n"
    "# HELP pkictl_http_requests_total HTTP responses, by status code.\n"
    "# TYPE pkictl_http_requests_total counter\n"
    "pkictl_http_requests_total{code=\"200\"} 3\n"
    "pkictl_http_requests_total{code=\"400\"} 2\n"
    "pkictl_http_requests_total{code=\"404\"} 1\n"
    "pkictl_http_requests_total{code=\"429\"} 1\n"
    "# HELP pkictl_root_expiry_seconds Seconds until the active root certificate expires.\n"
    "# TYPE pkictl_root_expiry_seconds gauge\n"
    "pkictl_root_expiry_seconds 315360000\n"
    "# HELP pkictl_intermediate_expiry_seconds Seconds until the signing intermediate "
    "certificate expires.\n"
    "# TYPE pkictl_intermediate_expiry_seconds gauge\n"
    "pkictl_intermediate_expiry_seconds -5\n"
    "# HELP pkictl_roots Root certificates in the trust bundle.\n"
    "# TYPE pkictl_roots gauge\n"
    "pkictl_roots 2\n"
    "# HELP pkictl_rotation_in_progress 1 while a root rotation is running.\n"
    "# TYPE pkictl_rotation_in_progress gauge\n"
    "pkictl_rotation_in_progress 1\n"
    "# HELP pkictl_rotations_total Root rotations completed.\n"
    "# TYPE pkictl_rotations_total counter\n"
    "pkictl_rotations_total 4\n";

static char *render(const struct srv_metrics *m)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    char *text;

    assert_ok(srv_metrics_render(m, 10 * YEAR, -5, 2, &b, &err), err);
    text = strndup((const char *)b.data, b.len);
    assert_non_null(text);
    pki_buf_free(&b);
    return text;
}

static void render_known_sequence(void **state)
{
    struct srv_metrics m;
    char *text;

    (void)state;
    memset(&m, 0, sizeof(m));
    /* Powers of two, so the sum is exact. 0.25 sits on a bucket's bound
     * and counts in it (le is "less than or equal"). */
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.00048828125);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.001953125);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.25);
    srv_metrics_issued(&m, SRV_EP_SIGN, 0.5);
    srv_metrics_issued(&m, SRV_EP_SIGN, 2);
    srv_metrics_error(&m, SRV_ERRK_BAD_REQUEST);
    srv_metrics_error(&m, SRV_ERRK_BAD_REQUEST);
    srv_metrics_error(&m, SRV_ERRK_RATE_LIMITED);
    srv_metrics_status(&m, 429);
    srv_metrics_status(&m, 200);
    srv_metrics_status(&m, 404);
    srv_metrics_status(&m, 200);
    srv_metrics_status(&m, 400);
    srv_metrics_status(&m, 200);
    srv_metrics_status(&m, 400);
    m.rotations = 4;
    m.rotation_in_progress = 1;
    text = render(&m);
    assert_string_equal(text, EXPECTED);
    free(text);
}

static void render_empty_has_every_family(void **state)
{
    static const char *const families[] = {
        "pkictl_leaves_issued_total counter", "pkictl_issue_duration_seconds histogram",
        "pkictl_errors_total counter", "pkictl_http_requests_total counter",
        "pkictl_root_expiry_seconds gauge", "pkictl_intermediate_expiry_seconds gauge",
        "pkictl_roots gauge", "pkictl_rotation_in_progress gauge",
        "pkictl_rotations_total counter",
    };
    struct srv_metrics m;
    char *text, want[128];
    size_t i;

    (void)state;
    memset(&m, 0, sizeof(m));
    text = render(&m);
    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        snprintf(want, sizeof(want), "# TYPE %s\n", families[i]);
        assert_str_has(text, want);
        snprintf(want, sizeof(want), "# HELP %.*s ", (int)strcspn(families[i], " "),
                 families[i]);
        assert_str_has(text, want);
    }
    assert_str_has(text, "pkictl_issue_duration_seconds_bucket{le=\"+Inf\"} 0\n");
    assert_str_has(text, "pkictl_issue_duration_seconds_sum 0\n");
    assert_str_has(text, "pkictl_rotation_in_progress 0\n");
    assert_null(strstr(text, "code=\""));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
}

static void histogram_cumulative(void **state)
{
    struct srv_metrics m;
    char *text, want[128];
    size_t i;
    static const char *const le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                                     "0.05",   "0.1",   "0.25",   "0.5",   "0.75", "1"};

    (void)state;
    memset(&m, 0, sizeof(m));
    /* One observation just under each bound, and two above the last. */
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.0004);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.0009);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.002);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.004);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.009);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.02);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.04);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.09);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.2);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.4);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.7);
    srv_metrics_issued(&m, SRV_EP_LEAF, 0.9);
    srv_metrics_issued(&m, SRV_EP_SIGN, 1.5);
    srv_metrics_issued(&m, SRV_EP_SIGN, 30);
    /* A clock step backwards or garbage counts as 0 s, never as negative. */
    srv_metrics_issued(&m, SRV_EP_SIGN, -3);
    srv_metrics_issued(&m, SRV_EP_SIGN, NAN);
    srv_metrics_issued(&m, (enum srv_metric_endpoint)9, 0.1); /* ignored */
    text = render(&m);
    for (i = 0; i < 12; i++) {
        snprintf(want, sizeof(want), "pkictl_issue_duration_seconds_bucket{le=\"%s\"} %zu\n",
                 le[i], i + 3);
        assert_str_has(text, want);
    }
    assert_str_has(text, "pkictl_issue_duration_seconds_bucket{le=\"+Inf\"} 16\n");
    assert_str_has(text, "pkictl_issue_duration_seconds_count 16\n");
    assert_str_has(text, "pkictl_leaves_issued_total{endpoint=\"sign\"} 4\n");
    assert_str_has(text, "pkictl_leaves_issued_total{endpoint=\"leaf\"} 12\n");
    assert_str_has(text, "pkictl_issue_duration_seconds_sum 33.8663");
    free(text);
}

static void codes_overflow_to_other(void **state)
{
    struct srv_metrics m;
    char *text, want[96];
    int c;

    (void)state;
    memset(&m, 0, sizeof(m));
    for (c = 500; c > 500 - SRV_METRIC_CODES; c--)
        srv_metrics_status(&m, c);
    srv_metrics_status(&m, 200);
    srv_metrics_status(&m, 201);
    srv_metrics_status(&m, 200);
    srv_metrics_status(&m, 500); /* already tracked */
    srv_metrics_status(&m, 0);   /* never a real status */
    srv_metrics_status(&m, 1000);
    text = render(&m);
    for (c = 500; c > 500 - SRV_METRIC_CODES; c--) {
        snprintf(want, sizeof(want), "pkictl_http_requests_total{code=\"%d\"} %d\n", c,
                 c == 500 ? 2 : 1);
        assert_str_has(text, want);
    }
    assert_null(strstr(text, "code=\"200\""));
    assert_null(strstr(text, "code=\"201\""));
    assert_str_has(text, "pkictl_http_requests_total{code=\"485\"} 1\n"
                         "pkictl_http_requests_total{code=\"486\"} 1\n");
    assert_str_has(text, "pkictl_http_requests_total{code=\"500\"} 2\n"
                         "pkictl_http_requests_total{code=\"other\"} 5\n"
                         "# HELP pkictl_root_expiry_seconds");
    free(text);
}

static void render_appends(void **state)
{
    struct srv_metrics m;
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    memset(&m, 0, sizeof(m));
    assert_ok(pki_buf_set(&b, "x\n", 2, &err), err);
    assert_ok(srv_metrics_render(&m, 1, 1, 1, &b, &err), err);
    assert_true(b.len > 2 && memcmp(b.data, "x\n# HELP ", 9) == 0);
    assert_err(srv_metrics_render(NULL, 1, 1, 1, &b, &err), err, PKI_ERR_USAGE, "metrics");
    pki_buf_free(&b);
}

static void rate_two_per_second(void **state)
{
    struct srv_ratelimit rl;
    int retry = -1;

    (void)state;
    srv_ratelimit_set(&rl, 2, 1000);
    assert_true(srv_ratelimit_take(&rl, 1000, &retry));
    assert_true(srv_ratelimit_take(&rl, 1000, &retry));
    assert_int_equal(retry, -1);
    assert_false(srv_ratelimit_take(&rl, 1000, &retry));
    assert_int_equal(retry, 1);
    retry = -1;
    assert_false(srv_ratelimit_take(&rl, 1499, &retry));
    assert_int_equal(retry, 1);
    assert_true(srv_ratelimit_take(&rl, 1500, &retry));
    assert_false(srv_ratelimit_take(&rl, 1500, &retry));
    /* A long pause refills to the burst (2), not more. */
    assert_true(srv_ratelimit_take(&rl, 60000, &retry));
    assert_true(srv_ratelimit_take(&rl, 60000, &retry));
    assert_false(srv_ratelimit_take(&rl, 60000, &retry));
    /* A clock that goes back refills nothing. */
    assert_false(srv_ratelimit_take(&rl, 0, &retry));
    assert_false(srv_ratelimit_take(&rl, 60250, &retry));
    assert_true(srv_ratelimit_take(&rl, 60500, &retry));
}

static void rate_zero_is_unlimited(void **state)
{
    struct srv_ratelimit rl;
    int i, retry = -1;

    (void)state;
    srv_ratelimit_set(&rl, 0, 0);
    for (i = 0; i < 10000; i++)
        assert_true(srv_ratelimit_take(&rl, 0, &retry));
    srv_ratelimit_set(&rl, -1, 0);
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    srv_ratelimit_set(&rl, NAN, 0);
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_int_equal(retry, -1);
}

static void rate_fractional(void **state)
{
    struct srv_ratelimit rl;
    int retry = -1;

    (void)state;
    srv_ratelimit_set(&rl, 0.5, 0); /* burst max(1, 0.5) = 1 */
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_false(srv_ratelimit_take(&rl, 0, &retry));
    assert_int_equal(retry, 2);
    assert_false(srv_ratelimit_take(&rl, 1000, &retry));
    assert_int_equal(retry, 1);
    assert_false(srv_ratelimit_take(&rl, 1999, &retry));
    assert_int_equal(retry, 1);
    assert_true(srv_ratelimit_take(&rl, 2000, &retry));
    srv_ratelimit_set(&rl, 0.1, 0);
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_false(srv_ratelimit_take(&rl, 0, &retry));
    assert_int_equal(retry, 10);
    assert_false(srv_ratelimit_take(&rl, 500, &retry));
    assert_int_equal(retry, 10); /* 9.5 s rounds up */
    srv_ratelimit_set(&rl, 1e-12, 0);
    assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_false(srv_ratelimit_take(&rl, 0, &retry));
    assert_int_equal(retry, INT_MAX);
}

static void rate_burst_is_rate(void **state)
{
    struct srv_ratelimit rl;
    int i, retry = -1;

    (void)state;
    srv_ratelimit_set(&rl, 50, 0);
    for (i = 0; i < 50; i++)
        assert_true(srv_ratelimit_take(&rl, 0, &retry));
    assert_false(srv_ratelimit_take(&rl, 0, &retry));
    assert_int_equal(retry, 1);
    assert_true(srv_ratelimit_take(&rl, 20, &retry)); /* one token per 20 ms */
    assert_false(srv_ratelimit_take(&rl, 20, &retry));
    /* Changing the rate starts a full bucket of the new size. */
    srv_ratelimit_set(&rl, 3, 20);
    for (i = 0; i < 3; i++)
        assert_true(srv_ratelimit_take(&rl, 20, &retry));
    assert_false(srv_ratelimit_take(&rl, 20, &retry));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_known_sequence),
        cmocka_unit_test(render_empty_has_every_family),
        cmocka_unit_test(histogram_cumulative),
        cmocka_unit_test(codes_overflow_to_other),
        cmocka_unit_test(render_appends),
        cmocka_unit_test(rate_two_per_second),
        cmocka_unit_test(rate_zero_is_unlimited),
        cmocka_unit_test(rate_fractional),
        cmocka_unit_test(rate_burst_is_rate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
