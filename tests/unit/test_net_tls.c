/* test_net_tls.c - the server loop over TLS (the fixture is in
 * net_test_util.h): a verified handshake, close_notify, plain HTTP to the
 * TLS port, a TLS write that blocks inside a large answer, pipelining
 * (several requests in one record) behind a deferred answer, a body over
 * many records, refusals and the 408 deadline, a half-close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_test_util.h"

static atomic_int before_tls_calls;

static void count_before_tls(void *arg)
{
    assert_null(arg); /* the handler's arg */
    atomic_fetch_add(&before_tls_calls, 1);
}

/* A TLS server on a new self-signed pair t, with this request deadline. */
static struct server *tls_server(struct tls_pair *t, int request_ms)
{
    struct srv_net_opts opts = {.request_timeout_ms = request_ms, .idle_timeout_ms = WAIT_MS};

    tls_pair_new(t);
    opts.tls = t->sctx;
    return server_start(&opts);
}

/* TLS: a verified handshake, two requests, then close_notify on
 * "Connection: close". before_tls runs once per accepted connection. */
static void tls_request(void **state)
{
    struct srv_net_opts opts = {.request_timeout_ms = WAIT_MS, .idle_timeout_ms = WAIT_MS};
    struct tls_pair t;
    struct server *s;
    struct cli *c;
    struct resp r;
    char buf[16];
    int n;

    (void)state;
    tls_pair_new(&t);
    opts.tls = t.sctx;
    opts.before_tls = count_before_tls;
    atomic_store(&before_tls_calls, 0);
    s = server_start(&opts);

    c = tls_connect(&t, s->port, 0);
    cli_sends(c, "GET /echo?tls=1 HTTP/1.1\r\nHost: a\r\nX-Consul-Token: t\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET /echo?tls=1 token=t conflict=0 body=");
    resp_free(&r);
    cli_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "POST /echo? token= conflict=0 body=hi");
    resp_free(&r);
    n = SSL_read(c->ssl, buf, sizeof(buf));
    assert_int_equal(n, 0);
    assert_int_equal(SSL_get_error(c->ssl, n), SSL_ERROR_ZERO_RETURN); /* close_notify */
    cli_close(c);

    /* Plain HTTP to the TLS port gets no HTTP answer, only a close. */
    c = cli_connect(s->port);
    cli_sends(c, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    while (cli_more(c, WAIT_MS) == 1)
        ;
    assert_null(memmem(c->buf, c->len, "HTTP/1.1", 8));
    cli_close(c);

    server_stop(s);
    assert_int_equal(atomic_load(&before_tls_calls), 2);
    tls_pair_free(&t);
}

/* TLS answers are written at once (SSL_write) when nothing is queued. To a
 * client with a small receive window that write blocks inside a 300 KiB
 * answer: OpenSSL keeps part of a record, the rest of the answer is queued
 * and the next SSL_write passes the same bytes again from the queue.
 * Every byte arrives once, in order, and the connection goes on. */
static void tls_blocked_write_resumes(void **state)
{
    struct tls_pair t;
    struct server *s = tls_server(&t, WAIT_MS);
    struct cli *c = tls_connect(&t, s->port, 4096);
    struct resp r;
    size_t i;

    (void)state;
    for (i = 0; i < PARTIAL_N; i++)
        cli_sends(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_big_answers(c, PARTIAL_N, 1);
    cli_sends(c, "GET /echo?after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_str_has(r.body, "?after");
    resp_free(&r);
    cli_close(c);
    server_stop(s);
    tls_pair_free(&t);
}

/* Three requests in one record, the last deferred, and one more behind it
 * in a record of its own: nothing after the deferred one is answered until
 * it is released (from another connection), then all in order. OpenSSL
 * reads ahead, so the bytes behind the deferred request can sit in its
 * buffer with no event from the socket. */
static void tls_pipelined_behind_deferred(void **state)
{
    struct tls_pair t;
    struct server *s = tls_server(&t, WAIT_MS);
    struct cli *c = tls_connect(&t, s->port, 0), *other;
    int total = defer_total();

    (void)state;
    cli_sends(c, "GET /echo?a HTTP/1.1\r\nHost: a\r\n\r\n"
                 "HEAD /echo?b HTTP/1.1\r\nHost: a\r\n\r\n"
                 "GET /defer?c HTTP/1.1\r\nHost: a\r\n\r\n");
    cli_sends(c, "GET /echo?d HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_body(c, 0, "GET /echo?a token= conflict=0 body=");
    expect_body(c, 1, "");
    defer_wait(total + 1);
    assert_int_equal(cli_more(c, 50), -1); /* /echo?d waits behind /defer?c */
    other = tls_connect(&t, s->port, 0);
    cli_sends(other, "GET /release HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_body(other, 0, "released 1");
    cli_close(other);
    expect_body(c, 0, "deferred c");
    expect_body(c, 0, "GET /echo?d token= conflict=0 body=");
    cli_close(c);
    server_stop(s);
    tls_pair_free(&t);
}

/* A 60 KB body spans several records and grows the input buffer; a body
 * over the limit is refused 413 and the refusal arrives before the close;
 * a request trickled one record per byte gets 408 at its deadline. */
static void tls_large_body_refusals_and_deadline(void **state)
{
    struct tls_pair t;
    struct server *s = tls_server(&t, TIMEOUT_MS);
    struct cli *c = tls_connect(&t, s->port, 0);
    size_t big_len = 60000;
    char *big = malloc(big_len), head[128];
    struct resp r;
    long start;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', big_len);
    snprintf(head, sizeof(head), "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
             big_len);
    cli_sends(c, head);
    cli_send(c, big, big_len);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.body, "PUT /echo? token= conflict=0 body=xxxx", 38) == 0);
    resp_free(&r);
    cli_close(c);

    c = tls_connect(&t, s->port, 0);
    cli_sends(c, "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    cli_send(c, big, 20000);
    expect_refusal(c, 413, "65536");
    cli_close(c);

    c = tls_connect(&t, s->port, 0);
    start = now_ms();
    cli_send(c, "G", 1);
    cli_send(c, "E", 1);
    expect_refusal(c, 408, "in time");
    assert_true(now_ms() - start >= TIMEOUT_MS - 20);
    cli_close(c);
    free(big);
    server_stop(s);
    tls_pair_free(&t);
}

/* The client sends a request and closes its side (close_notify, then FIN):
 * the answer still comes, then the server closes. */
static void tls_half_close_still_answered(void **state)
{
    struct tls_pair t;
    struct server *s = tls_server(&t, WAIT_MS);
    struct cli *c = tls_connect(&t, s->port, 0);

    (void)state;
    cli_sends(c, "GET /echo?half HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(SSL_shutdown(c->ssl), 0); /* sent; the peer's not yet received */
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    expect_body(c, 0, "GET /echo?half token= conflict=0 body=");
    cli_expect_eof(c);
    cli_close(c);
    server_stop(s);
    tls_pair_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_request),
        cmocka_unit_test(tls_blocked_write_resumes),
        cmocka_unit_test(tls_pipelined_behind_deferred),
        cmocka_unit_test(tls_large_body_refusals_and_deadline),
        cmocka_unit_test(tls_half_close_still_answered),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
