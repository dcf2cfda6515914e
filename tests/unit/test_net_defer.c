/* test_net_defer.c - deferred answers (net.h, srv_resp.deferred) over real
 * sockets: /defer?TAG holds its connection in the fixture's store
 * (net_test_util.h) and /release, sent on another connection, finishes
 * them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_test_util.h"

/* ---- deferred answers ---- */

/* Releases every held answer from another connection; asserts how many. */
static void release(int port, int want)
{
    struct resp r = roundtrip(port, "GET /release HTTP/1.1\r\nHost: a\r\n\r\n");
    char body[32];

    snprintf(body, sizeof(body), "released %d", want);
    assert_string_equal(r.body, body);
    resp_free(&r);
}

/* Nothing arrives on c for a moment: a quiet window, not a sleep, since
 * the request was already deferred when this runs. */
static void expect_quiet(struct cli *c)
{
    assert_int_equal(cli_more(c, 50), -1);
    assert_int_equal(c->len, 0);
}

static void deferred_answer_waits_for_release(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;
    int total = defer_total();

    (void)state;
    cli_sends(c, "GET /defer?one HTTP/1.1\r\nHost: a\r\n\r\n");
    defer_wait(total + 1);
    expect_quiet(c);
    release(s->port, 1);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_true(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_str_has(r.head, "Content-Type: text/plain\r\n");
    assert_str_has(r.head, "Content-Length: 12\r\n");
    assert_str_has(r.head, "Connection: keep-alive\r\n");
    assert_string_equal(r.body, "deferred one");
    resp_free(&r);
    /* Keep-alive: the connection serves the next request, immediate or not. */
    cli_sends(c, "GET /echo?again HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_body(c, 0, "GET /echo?again token= conflict=0 body=");
    cli_sends(c, "GET /defer?two HTTP/1.1\r\nHost: a\r\n\r\n");
    defer_wait(total + 2);
    release(s->port, 1);
    expect_body(c, 0, "deferred two");
    cli_close(c);
    server_stop(s);
}

/* Requests sent behind a deferred one wait for its answer, then are
 * answered in order, deferred or not. */
static void pipelined_behind_deferred_in_order(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    int total = defer_total(), before = atomic_load(&calls);

    (void)state;
    cli_sends(c, "GET /defer?first HTTP/1.1\r\nHost: a\r\n\r\n"
                 "GET /echo?second HTTP/1.1\r\nHost: a\r\n\r\n"
                 "GET /defer?third HTTP/1.1\r\nHost: a\r\n\r\n"
                 "GET /echo?fourth HTTP/1.1\r\nHost: a\r\n\r\n");
    defer_wait(total + 1);
    expect_quiet(c); /* /echo?second is not answered ahead of /defer?first */
    assert_int_equal(atomic_load(&calls) - before, 1);
    release(s->port, 1);
    expect_body(c, 0, "deferred first");
    expect_body(c, 0, "GET /echo?second token= conflict=0 body=");
    defer_wait(total + 2);
    expect_quiet(c);
    release(s->port, 1);
    expect_body(c, 0, "deferred third");
    expect_body(c, 0, "GET /echo?fourth token= conflict=0 body=");
    cli_close(c);
    server_stop(s);
}

/* Peers that leave while their answer is deferred: closed (FIN), reset
 * (RST), or half-closed, which still gets its answer and then the close.
 * Releasing them must not touch freed memory (ASan) and the server goes
 * on serving. */
static void client_gone_while_deferred(void **state)
{
    struct server *s = server_default();
    struct cli *fin = cli_connect(s->port), *rst = cli_connect(s->port);
    struct cli *half = cli_connect(s->port);
    struct linger lg = {1, 0};
    struct resp r;
    int total = defer_total();

    (void)state;
    cli_sends(fin, "GET /defer?fin HTTP/1.1\r\nHost: a\r\n\r\n");
    cli_sends(rst, "GET /defer?rst HTTP/1.1\r\nHost: a\r\n\r\n");
    cli_sends(half, "GET /defer?half HTTP/1.1\r\nHost: a\r\n\r\n");
    defer_wait(total + 3);
    cli_close(fin);
    assert_int_equal(setsockopt(rst->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    cli_close(rst);
    assert_int_equal(shutdown(half->fd, SHUT_WR), 0);
    release(s->port, 3);
    assert_int_equal(cli_response(half, &r, 0), 0);
    assert_string_equal(r.body, "deferred half");
    assert_str_has(r.head, "Connection: close\r\n");
    resp_free(&r);
    cli_expect_eof(half);
    cli_close(half);
    r = roundtrip(s->port, "GET /echo?after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_str_has(r.body, "?after");
    resp_free(&r);
    server_stop(s);
}

/* A request pipelined behind a deferred one, then a half-close: both are
 * answered, in order, the last with "Connection: close", then the close. */
static void half_close_after_pipelining_behind_deferred(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;
    int total = defer_total();

    (void)state;
    cli_sends(c, "GET /defer?first HTTP/1.1\r\nHost: a\r\n\r\n"
                 "GET /echo?second HTTP/1.1\r\nHost: a\r\n\r\n");
    defer_wait(total + 1);
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    release(s->port, 1);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "deferred first");
    resp_free(&r);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_str_has(r.body, "?second");
    assert_str_has(r.head, "Connection: close\r\n");
    resp_free(&r);
    cli_expect_eof(c);
    cli_close(c);
    server_stop(s);
}

/* HEAD and "Connection: close" are honoured as for an immediate answer:
 * the length a GET would have and no body; the close after the answer. */
static void deferred_head_and_close(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;
    int total = defer_total();

    (void)state;
    cli_sends(c, "HEAD /defer?h HTTP/1.1\r\nHost: a\r\n\r\n");
    defer_wait(total + 1);
    release(s->port, 1);
    assert_int_equal(cli_response(c, &r, 1), 0);
    assert_int_equal(r.status, 200);
    assert_str_has(r.head, "Content-Length: 10\r\n"); /* "deferred h" */
    assert_str_has(r.head, "Connection: keep-alive\r\n");
    resp_free(&r);
    /* No body bytes went out: the next answer starts right after the head. */
    cli_sends(c, "GET /echo?next HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_true(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_string_equal(r.body, "GET /echo?next token= conflict=0 body=");
    resp_free(&r);
    cli_sends(c, "GET /defer?c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    defer_wait(total + 2);
    expect_quiet(c);
    release(s->port, 1);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "deferred c");
    assert_str_has(r.head, "Connection: close\r\n");
    resp_free(&r);
    cli_expect_eof(c);
    cli_close(c);
    server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deferred_answer_waits_for_release),
        cmocka_unit_test(pipelined_behind_deferred_in_order),
        cmocka_unit_test(client_gone_while_deferred),
        cmocka_unit_test(half_close_after_pipelining_behind_deferred),
        cmocka_unit_test(deferred_head_and_close),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
