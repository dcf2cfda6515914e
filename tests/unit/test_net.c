/* test_net.c - the server loop over real sockets (the fixture is in
 * net_test_util.h): answers and keep-alive, refusals, timeouts, the
 * connection cap, backpressure and partial writes, the balance hook,
 * listen addresses and srv_resp_error. Deferred answers are in
 * test_net_defer.c, TLS in test_net_tls.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_test_util.h"

/* ---- tests ---- */

static void get_200_with_length(void **state)
{
    struct server *s = server_default();
    static const char want[] = "GET /echo?x=1 token=tok conflict=0 body=";
    struct resp r;
    char cl[64];

    (void)state;
    r = roundtrip(s->port, "GET /echo?x=1 HTTP/1.1\r\nHost: a\r\nX-Consul-Token: tok\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(want));
    assert_str_has(r.head, cl);
    assert_str_has(r.head, "Content-Type: text/plain\r\n");
    assert_str_has(r.head, "Cache-Control: no-store\r\n");
    assert_str_has(r.head, "Connection: keep-alive\r\n");
    assert_string_equal(r.body, want);
    resp_free(&r);
    server_stop(s);
}

static void keep_alive_and_pipelining(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;
    int before = atomic_load(&calls);

    (void)state;
    /* Two requests one after the other on one connection. */
    cli_sends(c, "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "PUT /echo? token= conflict=0 body=hello");
    resp_free(&r);
    cli_sends(c, "GET /echo?n=2 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer b\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "GET /echo?n=2 token=b conflict=0 body=");
    resp_free(&r);
    /* Three in one write (the HEAD answer has a length and no body), then
     * a last one that closes. */
    cli_sends(c, "GET /echo?n=3 HTTP/1.1\r\nHost: a\r\n\r\n"
                 "HEAD /echo?n=4 HTTP/1.1\r\nHost: a\r\n\r\n"
                 "DELETE /echo?n=5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "GET /echo?n=3 token= conflict=0 body=");
    resp_free(&r);
    assert_int_equal(cli_response(c, &r, 1), 0);
    assert_int_equal(r.status, 200);
    assert_str_has(r.head, "Content-Length: 38\r\n"); /* "HEAD /echo?n=4 token= conflict=0 body=" */
    resp_free(&r);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_string_equal(r.body, "DELETE /echo?n=5 token= conflict=0 body=");
    assert_str_has(r.head, "Connection: close\r\n");
    resp_free(&r);
    cli_expect_eof(c);
    cli_close(c);
    assert_int_equal(atomic_load(&calls) - before, 5);
    server_stop(s);
}

/* HTTP/1.0 closes unless asked; 204 has no length; extra headers pass; a
 * handler that sets no status answers 500. */
static void response_shapes(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;

    (void)state;
    cli_sends(c, "GET /echo HTTP/1.0\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_str_has(r.head, "Connection: close\r\n");
    resp_free(&r);
    cli_expect_eof(c);
    cli_close(c);

    r = roundtrip(s->port, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_str_has(r.head, "Connection: keep-alive\r\n");
    resp_free(&r);

    r = roundtrip(s->port, "DELETE /empty HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(r.head, "HTTP/1.1 204 No Content\r\n", 25) == 0);
    assert_null(strstr(r.head, "Content-Length"));
    resp_free(&r);

    r = roundtrip(s->port, "GET /limited HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(strncmp(r.head, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0);
    assert_str_has(r.head, "\r\nRetry-After: 1\r\n");
    assert_string_equal(r.body, "{\"error\": \"rate limit exceeded, retry later\"}");
    resp_free(&r);

    r = roundtrip(s->port, "GET /nostatus HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(r.status, 500);
    resp_free(&r);
    server_stop(s);
}

/* Parser refusals are JSON errors with their status, then the connection
 * is closed; the handler is never called. */
static void refusals_as_json(void **state)
{
    struct server *s = server_default();
    struct cli *c;
    char *big = malloc(20000);
    int before = atomic_load(&calls);

    (void)state;
    assert_non_null(big);
    memset(big, 'b', 20000);
    c = cli_connect(s->port);
    cli_sends(c, "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    cli_send(c, big, 20000);
    expect_refusal(c, 413, "65536");
    cli_close(c);

    c = cli_connect(s->port);
    cli_sends(c, "GET /echo HTTP/1.1\r\nHost: a\r\nX-Pad: ");
    memset(big, 'p', 9000);
    cli_send(c, big, 9000);
    expect_refusal(c, 431, "8192");
    cli_close(c);

    c = cli_connect(s->port);
    cli_sends(c, "GET /echo HTTP/1.1\nHost: a\n\n");
    expect_refusal(c, 400, "bare LF");
    cli_close(c);

    c = cli_connect(s->port);
    cli_sends(c, "PUT /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello");
    expect_refusal(c, 411, "Content-Length");
    cli_close(c);

    /* A TLS ClientHello on the plain port is refused at its first byte. */
    c = cli_connect(s->port);
    cli_send(c, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    expect_refusal(c, 400, "malformed request line");
    cli_close(c);
    assert_int_equal(atomic_load(&calls), before);
    free(big);
    server_stop(s);
}

/* One byte per 100 ms: the deadline runs from the first byte, so the
 * client is answered 408 and cut off after ~300 ms, not kept alive by its
 * trickle; another client is served in the meantime. */
static void slow_client_gets_408(void **state)
{
    static const char req[] = "GET /echo HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    struct server *s = server_default();
    struct cli *slow = cli_connect(s->port);
    struct resp r;
    size_t sent = 0;
    long start = now_ms(), took;
    int before = atomic_load(&calls), rc;
    struct pollfd pfd = {slow->fd, POLLIN, 0};

    (void)state;
    cli_send(slow, req, 1);
    sent = 1;
    r = roundtrip(s->port, "GET /echo?other HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* Trickle until the server answers (bounded by the request length). */
    while ((rc = poll(&pfd, 1, 100)) == 0 && sent < sizeof(req) - 1)
        cli_send(slow, req + sent++, 1);
    assert_int_equal(rc, 1);
    took = now_ms() - start;
    assert_true(sent >= 3);            /* bytes kept coming ... */
    assert_true(sent < sizeof(req) - 1); /* ... and the request never completed */
    assert_true(took >= TIMEOUT_MS - 20 && took < WAIT_MS);
    expect_refusal(slow, 408, "in time");
    cli_close(slow);
    assert_int_equal(atomic_load(&calls) - before, 1);
    server_stop(s);
}

/* A connection that sends nothing is closed at the request deadline
 * without an answer; one idle after a request at the idle timeout. */
static void silent_and_idle_connections_closed(void **state)
{
    struct srv_net_opts opts = {.request_timeout_ms = TIMEOUT_MS,
                                 .idle_timeout_ms = 2 * TIMEOUT_MS};
    struct server *s = server_start(&opts);
    struct cli *c = cli_connect(s->port);
    struct resp r;
    long start = now_ms();

    (void)state;
    cli_expect_eof(c);
    assert_true(now_ms() - start >= TIMEOUT_MS - 20);
    cli_close(c);

    c = cli_connect(s->port);
    cli_sends(c, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    resp_free(&r);
    start = now_ms();
    cli_expect_eof(c);
    assert_true(now_ms() - start >= 2 * TIMEOUT_MS - 20);
    cli_close(c);
    server_stop(s);
}

/* Peers that go away mid-request (FIN or RST, in the headers or the body)
 * are dropped without a handler call, and the server goes on serving. */
static void disconnect_mid_request(void **state)
{
    static const char *const partial[] = {
        "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789",
        "GET /echo HTTP/1.1\r\nHost: a\r\nX-Pa",
    };
    struct server *s = server_default();
    struct linger lg = {1, 0};
    struct resp r;
    int before = atomic_load(&calls);
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        struct cli *c = cli_connect(s->port);

        cli_sends(c, partial[i % 2]);
        if (i >= 2) /* close with RST */
            assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        cli_close(c);
    }
    r = roundtrip(s->port, "GET /echo?after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_str_has(r.body, "?after");
    resp_free(&r);
    assert_int_equal(atomic_load(&calls) - before, 1);
    server_stop(s);
}

/* The answer is written to a client that half-closed after its request. */
static void half_close_still_answered(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;

    (void)state;
    cli_sends(c, "GET /echo?half HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_str_has(r.body, "?half");
    resp_free(&r);
    cli_expect_eof(c);
    cli_close(c);
    server_stop(s);
}

/* Past max_conns a connection is accepted and closed at once; a freed slot
 * is usable again. */
static void connection_cap(void **state)
{
    struct srv_net_opts opts = {.request_timeout_ms = 4 * WAIT_MS,
                                 .idle_timeout_ms = 4 * WAIT_MS, .max_conns = 2};
    struct server *s = server_start(&opts);
    struct cli *a = cli_connect(s->port), *b = cli_connect(s->port), *c;
    struct resp r;
    int i, served = 0;

    (void)state;
    cli_sends(a, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(cli_response(a, &r, 0), 0);
    resp_free(&r);
    cli_sends(b, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(cli_response(b, &r, 0), 0);
    resp_free(&r);
    c = cli_connect(s->port);
    cli_expect_eof(c);
    cli_close(c);
    cli_close(a);
    /* The server frees a's slot when it sees the EOF, which may come after
     * our next connect: retry until it has (each try is answered at once). */
    for (i = 0; i < 200 && !served; i++) {
        static const char get[] = "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n";

        c = cli_connect(s->port);
        /* may fail: the server can close before we write */
        if (send(c->fd, get, sizeof(get) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(get) - 1) &&
            cli_response(c, &r, 0) == 0) {
            served = r.status == 200;
            resp_free(&r);
        }
        cli_close(c);
    }
    assert_true(served);
    cli_close(b);
    server_stop(s);
}

/* Four pipelined 300 KiB answers to a client that reads only after sending
 * them all: the server stops reading while its output is large, and every
 * answer still arrives whole and in order. */
static void backpressure_keeps_order(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect(s->port);
    struct resp r;
    size_t i;
    int before = atomic_load(&calls);

    (void)state;
    for (i = 0; i < 4; i++)
        cli_sends(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    cli_sends(c, "GET /echo?last HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_big_answers(c, 4, 0);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_str_has(r.body, "?last");
    resp_free(&r);
    assert_int_equal(atomic_load(&calls) - before, 5);
    cli_close(c);
    server_stop(s);
}

/* Pipelined 300 KiB answers to a client with a small receive window: a
 * write ends inside a body and the rest is queued; every byte still
 * arrives once, in order, and the next answer follows. */
static void partial_write_queues_the_rest(void **state)
{
    struct server *s = server_default();
    struct cli *c = cli_connect_rcvbuf(s->port, 4096);
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
}

static atomic_int balance_calls, balance_last, balance_answer;

static int fake_balance(void *arg, size_t nconns)
{
    assert_null(arg);
    atomic_fetch_add(&balance_calls, 1);
    atomic_store(&balance_last, (int)nconns);
    return atomic_load(&balance_answer);
}

/* A shared listening socket with a balance hook: told the count at each
 * accept and close; a worker that keeps declining still takes a
 * connection nobody else takes (after NET_BALANCE_MAX_MS), and one that
 * may accept takes it at once. */
static void balance_declines_then_takes_waiting(void **state)
{
    struct pki_err err = {0, ""};
    struct srv_net_opts opts = {.request_timeout_ms = WAIT_MS, .idle_timeout_ms = WAIT_MS,
                                .has_listen_fd = 1, .balance = fake_balance};
    struct server *s;
    struct resp r;
    int fd = -1, i, j;

    (void)state;
    atomic_store(&balance_calls, 0);
    for (i = 0; i < 2; i++) {
        assert_ok(srv_net_bind("127.0.0.1:0", &fd, &err), err); /* srv_net_free closes it */
        opts.listen_fd = fd;
        atomic_store(&balance_answer, i); /* 0: declines every time; 1: accepts */
        s = server_start(&opts);
        for (j = 0; j < 2; j++) { /* the second comes after an accept: balance decides */
            r = roundtrip(s->port,
                          "GET /echo?bal HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assert_int_equal(r.status, 200);
            assert_str_has(r.body, "?bal");
            resp_free(&r);
        }
        server_stop(s);
    }
    assert_true(atomic_load(&balance_calls) >= 8); /* each accept and close, and re-checks */
    assert_int_equal(atomic_load(&balance_last), 0);
}

static void listen_addresses(void **state)
{
    static const char *const bad[] = {
        "localhost:8555", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
        "127.0.0.1:-1", "1.2.3:80", "[::1]", "::1:80", "[::1:80", "[]:80", ":80",
        "127.0.0.1:123456", "[127.0.0.1]:80",
    };
    struct event_base *base = event_base_new();
    struct srv_net_opts opts = {0};
    struct pki_err err = {0, ""};
    struct srv_net *net, *again;
    size_t i;
    char addr[64];

    (void)state;
    assert_non_null(base);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        opts.listen = bad[i];
        net = srv_net_new(base, &opts, handler, NULL, &err);
        if (net != NULL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(err.code, PKI_ERR_USAGE);
        assert_msg_has(err, "IPv4:PORT or [IPv6]:PORT");
    }
    opts.listen = "127.0.0.1:0";
    net = srv_net_new(base, &opts, handler, NULL, &err);
    assert_non_null(net);
    /* The same port twice: the second is refused, naming the address. */
    snprintf(addr, sizeof(addr), "%s", srv_net_address(net));
    opts.listen = addr;
    again = srv_net_new(base, &opts, handler, NULL, &err);
    assert_null(again);
    assert_int_equal(err.code, PKI_ERR_IO);
    assert_msg_has(err, "cannot listen");
    assert_msg_has(err, addr);
    srv_net_free(net);
    /* IPv6 where the host has it. */
    opts.listen = "[::1]:0";
    net = srv_net_new(base, &opts, handler, NULL, &err);
    if (net != NULL) {
        assert_true(strncmp(srv_net_address(net), "[::1]:", 6) == 0);
        assert_true(atoi(srv_net_address(net) + 6) > 0);
        srv_net_free(net);
    }
    srv_net_free(NULL);
    event_base_free(base);
}

static void resp_error_json(void **state)
{
    struct srv_resp resp;
    struct pki_err err = {0, ""};

    (void)state;
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(pki_buf_set(&resp.body, "old", 3, &err), 0); /* freed, not leaked */
    snprintf(resp.headers, sizeof(resp.headers), "Retry-After: 3\r\n");
    srv_resp_error(&resp, 400, "bad \"CSR\"\n\\");
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal((char *)resp.body.data, "{\"error\": \"bad \\\"CSR\\\"\\n\\\\\"}");
    assert_string_equal(resp.headers, "Retry-After: 3\r\n");
    /* Not UTF-8: the reason phrase instead of a broken document. */
    srv_resp_error(&resp, 403, "token \xff\xfe");
    assert_string_equal((char *)resp.body.data, "{\"error\": \"Forbidden\"}");
    srv_resp_error(&resp, 404, NULL);
    assert_string_equal((char *)resp.body.data, "{\"error\": \"Not Found\"}");
    pki_buf_free(&resp.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_200_with_length),
        cmocka_unit_test(keep_alive_and_pipelining),
        cmocka_unit_test(response_shapes),
        cmocka_unit_test(refusals_as_json),
        cmocka_unit_test(slow_client_gets_408),
        cmocka_unit_test(silent_and_idle_connections_closed),
        cmocka_unit_test(disconnect_mid_request),
        cmocka_unit_test(half_close_still_answered),
        cmocka_unit_test(connection_cap),
        cmocka_unit_test(backpressure_keeps_order),
        cmocka_unit_test(partial_write_queues_the_rest),
        cmocka_unit_test(balance_declines_then_takes_waiting),
        cmocka_unit_test(listen_addresses),
        cmocka_unit_test(resp_error_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
