/* test_signer_pipe.c - pipelined issuance (signer.h, "Pipelined issuance"):
 * replies in the order sent, refusals in the middle of a pipeline, the drain
 * before a synchronous call or at the in-flight limit, and a signer that
 * dies with requests outstanding. Where a test needs "sent but not yet
 * answered" it stops the signer with SIGSTOP instead of racing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "signer_test_util.h"

#define NKEYS (SRV_SIGNER_INFLIGHT_MAX + 1)
#define WAIT_MS 5000 /* "promptly": far below cmocka's 60 s, far above a signature */

static char *dir;
static char key_path[4096];

/* A signer with a root and an intermediate, the intermediate the issuer of
 * leaves of at most 72 hours, and NKEYS distinct leaf keys. */
struct fx {
    struct srv_signer *s;
    struct srv_ca_made rm, im;
    X509 *root, *inter;
    EVP_PKEY *k[NKEYS];
    unsigned char *spki[NKEYS];
    size_t spki_len[NKEYS];
};

/* What a drain function saw: one record per reply it took. */
struct drained {
    struct srv_signer *s;
    int calls;
    size_t inflight_at_call;
    size_t n;
    int rc[NKEYS];
    struct pki_buf der[NKEYS];
    unsigned char serial[NKEYS][PKI_LEAF_SERIAL_LEN];
    struct pki_err err[NKEYS];
};

static int group_setup(void **state)
{
    (void)state;
    dir = ut_mkdtemp();
    snprintf(key_path, sizeof(key_path), "%s/store.key", dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ut_rmtree(dir);
    return 0;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct pki_err err = {0, ""};

    assert_non_null(f);
    f->s = start_ok(key_path);
    f->root = gen_root(f->s, "root", &f->rm);
    f->inter = gen_inter(f->s, &f->rm, "intermediate", YEAR, &f->im);
    assert_ok(srv_signer_set_issuer(f->s, f->im.key_id, f->im.cert.data, f->im.cert.len,
                                    72 * HOUR, TD, &err), err);
    for (int i = 0; i < NKEYS; i++) {
        f->k[i] = ut_ec();
        f->spki[i] = spki_der(f->k[i], &f->spki_len[i]);
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    srv_signer_stop(f->s);
    for (int i = 0; i < NKEYS; i++) {
        OPENSSL_free(f->spki[i]);
        EVP_PKEY_free(f->k[i]);
    }
    X509_free(f->inter);
    X509_free(f->root);
    srv_ca_made_clear(&f->im);
    srv_ca_made_clear(&f->rm);
    free(f);
    return 0;
}

/* Sends the leaf request for key i; inflight goes up by one. */
static void send_ok(struct fx *f, int i)
{
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;
    size_t before = srv_signer_inflight(f->s);

    leaf_req(&q, f->spki[i], f->spki_len[i]);
    assert_ok(srv_signer_issue_send(f->s, &q, &err), err);
    assert_int_equal(srv_signer_inflight(f->s), before + 1);
}

/* der is key i's leaf, carries serial, and verifies under root + intermediate. */
static void check_leaf(const struct fx *f, const struct pki_buf *der,
                       const unsigned char serial[PKI_LEAF_SERIAL_LEN], int i)
{
    X509 *leaf = der_x509(der->data, der->len);

    if (EVP_PKEY_eq(X509_get0_pubkey(leaf), f->k[i]) != 1)
        fail_msg("reply does not carry the public key of request %d", i);
    assert_int_equal(ASN1_STRING_length(X509_get0_serialNumber(leaf)), PKI_LEAF_SERIAL_LEN);
    assert_memory_equal(ASN1_STRING_get0_data(X509_get0_serialNumber(leaf)), serial,
                        PKI_LEAF_SERIAL_LEN);
    assert_int_equal(verify(f->root, f->inter, leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    X509_free(leaf);
}

/* Receives (waiting) the reply to key i's request and checks it. */
static void recv_ok(struct fx *f, int i, unsigned char serial[PKI_LEAF_SERIAL_LEN])
{
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    size_t before = srv_signer_inflight(f->s);

    assert_ok(srv_signer_issue_recv(f->s, 1, &der, serial, &err), err);
    assert_int_equal(srv_signer_inflight(f->s), before - 1);
    check_leaf(f, &der, serial, i);
    pki_buf_free(&der);
}

/* Takes every outstanding reply, as signer.h asks of a drain function. */
static void drain_all(void *arg)
{
    struct drained *d = arg;
    size_t want = srv_signer_inflight(d->s);

    d->calls++;
    d->inflight_at_call = want;
    while (want-- > 0 && d->n < NKEYS) {
        d->rc[d->n] = srv_signer_issue_recv(d->s, 1, &d->der[d->n], d->serial[d->n],
                                            &d->err[d->n]);
        d->n++;
    }
}

/* The drained replies are those of keys first.. in order, all issued. */
static void check_drained(const struct fx *f, struct drained *d, int first)
{
    for (size_t j = 0; j < d->n; j++) {
        assert_ok(d->rc[j], d->err[j]);
        check_leaf(f, &d->der[j], d->serial[j], first + (int)j);
        pki_buf_free(&d->der[j]);
    }
}

static void stop_signer(const struct fx *f)
{
    int st = 0;

    assert_int_equal(kill(srv_signer_pid(f->s), SIGSTOP), 0);
    assert_int_equal(waitpid(srv_signer_pid(f->s), &st, WUNTRACED), srv_signer_pid(f->s));
    assert_true(WIFSTOPPED(st));
}

/* SIGKILL, and wait until the signer is dead (its socket closed) without
 * reaping it: srv_signer reaps it and reports the signal. */
static void kill_signer(const struct fx *f)
{
    siginfo_t si;

    assert_int_equal(kill(srv_signer_pid(f->s), SIGKILL), 0);
    memset(&si, 0, sizeof(si));
    assert_int_equal(waitid(P_PID, (id_t)srv_signer_pid(f->s), &si, WEXITED | WNOWAIT), 0);
    assert_int_equal(si.si_code, CLD_KILLED);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- order ---------------------------------------------------------------- */

static void replies_come_in_the_order_sent(void **state)
{
    struct fx *f = *state;
    unsigned char serial[10][PKI_LEAF_SERIAL_LEN];
    struct pollfd pfd = {srv_signer_fd(f->s), POLLIN, 0};

    assert_int_equal(srv_signer_inflight(f->s), 0);
    for (int i = 0; i < 10; i++)
        send_ok(f, i);
    assert_int_equal(srv_signer_inflight(f->s), 10);
    /* The socket to poll shows the first reply. */
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    assert_true(pfd.revents & POLLIN);
    for (int i = 0; i < 10; i++)
        recv_ok(f, i, serial[i]);
    assert_int_equal(srv_signer_inflight(f->s), 0);
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++)
            if (memcmp(serial[i], serial[j], PKI_LEAF_SERIAL_LEN) == 0)
                fail_msg("leaves %d and %d share a serial", i, j);
}

/* Sending again after a pipeline was read, and mixing in synchronous
 * issuance once nothing is outstanding: one stream, no stale reply. */
static void pipeline_then_synchronous_issue(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;

    send_ok(f, 0);
    recv_ok(f, 0, serial);
    leaf_req(&q, f->spki[1], f->spki_len[1]);
    assert_ok(srv_signer_issue(f->s, &q, &der, serial, &err), err);
    check_leaf(f, &der, serial, 1);
    pki_buf_free(&der);
    send_ok(f, 2);
    send_ok(f, 3);
    recv_ok(f, 2, serial);
    recv_ok(f, 3, serial);
}

/* ---- nothing to read ------------------------------------------------------- */

static void recv_with_nothing_outstanding_is_usage(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};

    assert_err(srv_signer_issue_recv(f->s, 0, &der, serial, &err), err, PKI_ERR_USAGE,
               "no leaf request outstanding");
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue_recv(f->s, 1, &der, serial, &err), err, PKI_ERR_USAGE,
               "no leaf request outstanding"); /* would otherwise block for ever */
    send_ok(f, 0);
    recv_ok(f, 0, serial);
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue_recv(f->s, 0, &der, serial, &err), err, PKI_ERR_USAGE,
               "no leaf request outstanding");
    assert_null(der.data);
}

static void recv_before_the_answer_is_none(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pollfd pfd = {srv_signer_fd(f->s), POLLIN, 0};

    stop_signer(f);
    send_ok(f, 0);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    assert_int_equal(srv_signer_issue_recv(f->s, 0, &der, serial, &err), SRV_SIGNER_NONE);
    assert_int_equal(err.code, 0);
    assert_null(der.data);
    assert_int_equal(srv_signer_inflight(f->s), 1); /* not consumed */
    assert_int_equal(kill(srv_signer_pid(f->s), SIGCONT), 0);
    recv_ok(f, 0, serial);
}

/* ---- refusals --------------------------------------------------------------- */

static void refusal_mid_pipeline_keeps_the_order(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;
    const char *many[PKI_LEAF_DNS_MAX + 1];

    send_ok(f, 0);
    leaf_req(&q, f->spki[1], f->spki_len[1]);
    q.not_after = q.not_before + 72 * HOUR + 61; /* one second past the TTL + backdate */
    assert_ok(srv_signer_issue_send(f->s, &q, &err), err);
    leaf_req(&q, f->spki[2], f->spki_len[2]);
    q.uri = "spiffe://other.consul/ns/default/dc/dc1/svc/web";
    assert_ok(srv_signer_issue_send(f->s, &q, &err), err);
    /* What the message cannot carry is refused at once and not counted. */
    for (int i = 0; i <= PKI_LEAF_DNS_MAX; i++)
        many[i] = "a.example.com";
    q.dns = many;
    q.ndns = PKI_LEAF_DNS_MAX + 1;
    assert_err(srv_signer_issue_send(f->s, &q, &err), err, PKI_ERR_INPUT, "too many SANs");
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue_send(f->s, NULL, &err), err, PKI_ERR_USAGE, "none given");
    assert_int_equal(srv_signer_inflight(f->s), 3);
    send_ok(f, 3);

    recv_ok(f, 0, serial);
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue_recv(f->s, 1, &der, serial, &err), err, PKI_ERR_POLICY,
               "longer than the maximum");
    assert_int_equal(srv_signer_inflight(f->s), 2); /* consumed all the same */
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue_recv(f->s, 1, &der, serial, &err), err, PKI_ERR_POLICY,
               "outside the trust domain");
    assert_null(der.data);
    recv_ok(f, 3, serial);
    assert_int_equal(srv_signer_inflight(f->s), 0);
}

/* ---- the drain ------------------------------------------------------------- */

/* The drained leaves were asked for 72 hours and the new policy allows 1:
 * their success proves they were signed before set_issuer, and the 72-hour
 * refusal after it that set_issuer's request reached the signer intact. */
static void synchronous_call_drains_first(void **state)
{
    static struct drained d;
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;

    memset(&d, 0, sizeof(d));
    d.s = f->s;
    srv_signer_set_drain(f->s, drain_all, &d);
    for (int i = 0; i < 3; i++)
        send_ok(f, i);
    assert_ok(srv_signer_set_issuer(f->s, f->im.key_id, f->im.cert.data, f->im.cert.len, HOUR,
                                    TD, &err), err);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.inflight_at_call, 3);
    assert_int_equal(d.n, 3);
    check_drained(f, &d, 0);
    assert_int_equal(srv_signer_inflight(f->s), 0);
    leaf_req(&q, f->spki[3], f->spki_len[3]);
    assert_err(srv_signer_issue(f->s, &q, &der, serial, &err), err, PKI_ERR_POLICY,
               "longer than the maximum");
    /* srv_signer_issue is a synchronous call too. */
    memset(&d, 0, sizeof(d));
    d.s = f->s;
    q.not_after = q.not_before + HOUR;
    assert_ok(srv_signer_issue_send(f->s, &q, &err), err);
    leaf_req(&q, f->spki[4], f->spki_len[4]);
    q.not_after = q.not_before + HOUR;
    assert_ok(srv_signer_issue(f->s, &q, &der, serial, &err), err);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.n, 1);
    check_drained(f, &d, 3);
    check_leaf(f, &der, serial, 4);
    pki_buf_free(&der);
    /* Nothing outstanding: the drain is not called. */
    assert_ok(srv_signer_set_issuer(f->s, f->im.key_id, f->im.cert.data, f->im.cert.len, HOUR,
                                    TD, &err), err);
    assert_int_equal(d.calls, 1);
}

/* Without a drain function: refused, nothing sent, nothing lost. */
static void synchronous_call_without_drain_is_refused(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;

    send_ok(f, 0);
    send_ok(f, 1);
    assert_err(srv_signer_set_issuer(f->s, f->im.key_id, f->im.cert.data, f->im.cert.len, HOUR,
                                     TD, &err), err, PKI_ERR_USAGE, "2 leaf replies not yet read");
    leaf_req(&q, f->spki[2], f->spki_len[2]);
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue(f->s, &q, &der, serial, &err), err, PKI_ERR_USAGE,
               "2 leaf replies not yet read");
    assert_null(der.data);
    assert_int_equal(srv_signer_inflight(f->s), 2);
    recv_ok(f, 0, serial);
    recv_ok(f, 1, serial);
    /* The refused set_issuer never reached the signer: 72 hours still pass. */
    assert_ok(srv_signer_issue(f->s, &q, &der, serial, &err), err);
    check_leaf(f, &der, serial, 2);
    pki_buf_free(&der);
}

static void send_at_the_limit_drains_first(void **state)
{
    static struct drained d;
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;

    memset(&d, 0, sizeof(d));
    d.s = f->s;
    srv_signer_set_drain(f->s, drain_all, &d);
    for (int i = 0; i < SRV_SIGNER_INFLIGHT_MAX; i++)
        send_ok(f, i);
    assert_int_equal(d.calls, 0);
    assert_int_equal(srv_signer_inflight(f->s), SRV_SIGNER_INFLIGHT_MAX);
    leaf_req(&q, f->spki[NKEYS - 1], f->spki_len[NKEYS - 1]);
    assert_ok(srv_signer_issue_send(f->s, &q, &err), err); /* one past the limit */
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.inflight_at_call, SRV_SIGNER_INFLIGHT_MAX);
    assert_int_equal(d.n, SRV_SIGNER_INFLIGHT_MAX);
    check_drained(f, &d, 0);
    assert_int_equal(srv_signer_inflight(f->s), 1);
    recv_ok(f, NKEYS - 1, serial);
}

static void send_at_the_limit_without_drain_is_refused(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;
    char want[64];

    for (int i = 0; i < SRV_SIGNER_INFLIGHT_MAX; i++)
        send_ok(f, i);
    leaf_req(&q, f->spki[NKEYS - 1], f->spki_len[NKEYS - 1]);
    snprintf(want, sizeof(want), "%d leaf replies not yet read", SRV_SIGNER_INFLIGHT_MAX);
    assert_err(srv_signer_issue_send(f->s, &q, &err), err, PKI_ERR_USAGE, want);
    assert_int_equal(srv_signer_inflight(f->s), SRV_SIGNER_INFLIGHT_MAX);
    for (int i = 0; i < SRV_SIGNER_INFLIGHT_MAX; i++)
        recv_ok(f, i, serial);
    send_ok(f, NKEYS - 1);
    recv_ok(f, NKEYS - 1, serial);
}

/* ---- the signer dies ---------------------------------------------------------- */

/* Each request the signer never answered fails at once, naming the
 * signer, and stays counted as lost. */
/* The reply pipe readable with nothing asked: a signer that died (EOF)
 * leaves nothing to watch, and nothing there is nothing to do. */
static void idle_pipe_at_eof_is_the_end(void **state)
{
    struct fx *f = *state;
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;

    assert_int_equal(srv_signer_idle_readable(f->s), 0); /* nothing there */
    kill_signer(f);
    assert_int_equal(srv_signer_idle_readable(f->s), 1);
    leaf_req(&q, f->spki[0], f->spki_len[0]);
    assert_err(srv_signer_issue_send(f->s, &q, &err), err, PKI_ERR_INTERNAL,
               "signer process exited (status: killed by signal 9)");
}

/* Bytes on the reply pipe that nobody asked for: the frames cannot be
 * trusted from there on, so the signer is killed. They are written through
 * /proc/PID/fd/4 (the signer's end), which only root may open, as the
 * signer is not dumpable. */
static void idle_pipe_with_unasked_bytes_kills_the_signer(void **state)
{
    struct fx *f = *state;
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;
    siginfo_t si;
    char path[64];
    long start;
    int fd;

    if (geteuid() != 0)
        skip();
    snprintf(path, sizeof(path), "/proc/%d/fd/4", srv_signer_pid(f->s));
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    assert_int_equal(srv_signer_idle_readable(f->s), 1);
    /* Dead within WAIT_MS, by SIGKILL (not reaped: srv_signer does that). */
    memset(&si, 0, sizeof(si));
    start = now_ms();
    while (si.si_pid == 0 && now_ms() - start < WAIT_MS) {
        assert_int_equal(waitid(P_PID, (id_t)srv_signer_pid(f->s), &si,
                                WEXITED | WNOHANG | WNOWAIT), 0);
        if (si.si_pid == 0)
            usleep(1000);
    }
    assert_int_equal(si.si_code, CLD_KILLED);
    leaf_req(&q, f->spki[0], f->spki_len[0]);
    assert_err(srv_signer_issue_send(f->s, &q, &err), err, PKI_ERR_INTERNAL,
               "signer process exited (status: killed by signal 9)");
}

static void killed_signer_fails_each_outstanding_request(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_leaf_req q;
    long start;

    stop_signer(f);
    for (int i = 0; i < 3; i++)
        send_ok(f, i);
    kill_signer(f);
    start = now_ms();
    for (int i = 0; i < 3; i++) {
        err = (struct pki_err){0, ""};
        assert_err(srv_signer_issue_recv(f->s, i != 1, &der, serial, &err), err,
                   PKI_ERR_INTERNAL, "signer process exited (status: killed by signal 9)");
    }
    assert_true(now_ms() - start < WAIT_MS);
    assert_null(der.data);
    assert_int_equal(srv_signer_alive(f->s), 0);
    assert_int_equal(srv_signer_inflight(f->s), 3);
    leaf_req(&q, f->spki[3], f->spki_len[3]);
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue_send(f->s, &q, &err), err, PKI_ERR_INTERNAL,
               "signer process exited");
    err = (struct pki_err){0, ""};
    assert_err(srv_signer_issue(f->s, &q, &der, serial, &err), err, PKI_ERR_INTERNAL,
               "signer process exited");
}

/* A signer killed with requests unread resets the socket, and the kernel
 * reports the reset ahead of the replies already queued: the reply it sent
 * before dying must still be read, then the others fail. */
static void reply_sent_before_the_signer_died_is_read(void **state)
{
    struct fx *f = *state;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pollfd pfd = {srv_signer_fd(f->s), POLLIN, 0};

    send_ok(f, 0);
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1); /* answered, not yet read */
    stop_signer(f);
    send_ok(f, 1);
    send_ok(f, 2);
    kill_signer(f);
    recv_ok(f, 0, serial);
    for (int wait = 0; wait <= 1; wait++) {
        err = (struct pki_err){0, ""};
        assert_err(srv_signer_issue_recv(f->s, wait, &der, serial, &err), err,
                   PKI_ERR_INTERNAL, "killed by signal 9");
    }
    assert_int_equal(srv_signer_inflight(f->s), 2);
}

/* The signer dies under a drain: the synchronous call that asked for it
 * reports the signer's death, not a caller's mistake. */
static void killed_signer_during_drain_is_reported(void **state)
{
    static struct drained d;
    struct fx *f = *state;
    struct pki_err err = {0, ""};

    memset(&d, 0, sizeof(d));
    d.s = f->s;
    srv_signer_set_drain(f->s, drain_all, &d);
    stop_signer(f);
    send_ok(f, 0);
    send_ok(f, 1);
    kill_signer(f);
    assert_err(srv_signer_set_issuer(f->s, f->im.key_id, f->im.cert.data, f->im.cert.len, HOUR,
                                     TD, &err), err, PKI_ERR_INTERNAL, "signer process exited");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.n, 2);
    for (size_t j = 0; j < d.n; j++) {
        assert_err(d.rc[j], d.err[j], PKI_ERR_INTERNAL, "killed by signal 9");
        assert_null(d.der[j].data);
    }
}

/* Stopping with requests outstanding neither hangs nor leaks. */
static void stop_with_requests_outstanding(void **state)
{
    struct fx *f = *state;
    long start = now_ms();

    for (int i = 0; i < 5; i++)
        send_ok(f, i);
    srv_signer_stop(f->s);
    assert_true(now_ms() - start < WAIT_MS);
    f->s = start_ok(key_path); /* for the teardown */
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(replies_come_in_the_order_sent),
        T(pipeline_then_synchronous_issue),
        T(recv_with_nothing_outstanding_is_usage),
        T(recv_before_the_answer_is_none),
        T(refusal_mid_pipeline_keeps_the_order),
        T(synchronous_call_drains_first),
        T(synchronous_call_without_drain_is_refused),
        T(send_at_the_limit_drains_first),
        T(send_at_the_limit_without_drain_is_refused),
        T(killed_signer_fails_each_outstanding_request),
        T(reply_sent_before_the_signer_died_is_read),
        T(killed_signer_during_drain_is_reported),
        T(stop_with_requests_outstanding),
        T(idle_pipe_at_eof_is_the_end),
        T(idle_pipe_with_unasked_bytes_kills_the_signer),
    };

    signal(SIGPIPE, SIG_IGN); /* as pkictl server does: srv_signer_start */
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
