/* test_net_tls.c - the server loop over TLS (the fixture is in
 * net_test_util.h): a verified handshake, close_notify, plain HTTP to the
 * TLS port, and a TLS write that blocks inside a large answer. */
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
 * answer: OpenSSL keeps part of a record, the whole answer is queued and
 * libevent's SSL_write passes the same bytes again from the output buffer.
 * Every byte arrives once, in order, and the connection goes on. */
static void tls_blocked_write_resumes(void **state)
{
    struct srv_net_opts opts = {.request_timeout_ms = WAIT_MS, .idle_timeout_ms = WAIT_MS};
    struct tls_pair t;
    struct server *s;
    struct cli *c;
    struct resp r;
    size_t i;

    (void)state;
    tls_pair_new(&t);
    opts.tls = t.sctx;
    s = server_start(&opts);
    c = tls_connect(&t, s->port, 4096);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_request),
        cmocka_unit_test(tls_blocked_write_resumes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
