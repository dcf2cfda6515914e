/* test_net.c - the server loop over real sockets: a server on 127.0.0.1:0
 * runs its event loop in a thread, the test talks to it with raw sockets
 * (and OpenSSL for TLS). Deadlines are short (300 ms) so the timeout tests
 * are quick; the waits in the test are bounded polls for the server's
 * answer, never sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "net.h"
#include "unit_util.h"

#define TIMEOUT_MS 300
#define WAIT_MS 5000 /* the longest the test waits for any answer */
#define BIG (300 * 1024)
#define PARTIAL_N 16 /* 4.8 MiB: more than a loopback socket takes at once */
#define BIG_BYTE(j) ((char)('a' + (j) % 23))

static atomic_int calls;

/* Deferred answers (net.h, srv_resp.deferred): /defer?TAG holds its
 * connection here, and /release finishes every one held, with the body
 * "deferred TAG". Both run on the loop's thread, as srv_net_finish must;
 * the mutex is for the test's thread, which waits on `total`. */
#define DEFER_MAX 8
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct srv_conn *conn[DEFER_MAX];
    char tag[DEFER_MAX][64];
    int n;     /* held, not yet released */
    int total; /* ever deferred */
} deferred = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {NULL}, {""}, 0, 0};

static void defer_hold(const struct srv_http_req *req, struct srv_resp *resp)
{
    pthread_mutex_lock(&deferred.mu);
    assert_true(deferred.n < DEFER_MAX);
    deferred.conn[deferred.n] = resp->conn;
    snprintf(deferred.tag[deferred.n], sizeof(deferred.tag[0]), "%.63s", req->query);
    deferred.n++;
    deferred.total++;
    pthread_cond_broadcast(&deferred.cv);
    pthread_mutex_unlock(&deferred.mu);
    resp->deferred = 1;
}

/* Finishes every held connection; returns how many. */
static int defer_release(void)
{
    struct pki_err err = {0, ""};
    struct srv_conn *conn[DEFER_MAX];
    char tag[DEFER_MAX][64], text[96];
    int n, i, len;

    pthread_mutex_lock(&deferred.mu);
    n = deferred.n;
    memcpy(conn, deferred.conn, sizeof(conn));
    memcpy(tag, deferred.tag, sizeof(tag));
    deferred.n = 0;
    pthread_mutex_unlock(&deferred.mu);
    for (i = 0; i < n; i++) {
        struct srv_resp r;

        memset(&r, 0, sizeof(r));
        r.status = 200;
        r.content_type = "text/plain";
        len = snprintf(text, sizeof(text), "deferred %s", tag[i]);
        assert_int_equal(pki_buf_set(&r.body, text, (size_t)len, &err), 0);
        srv_net_finish(conn[i], &r);
        assert_null(r.body.data); /* taken */
    }
    return n;
}

/* Waits until `total` requests were deferred since the program began. */
static void defer_wait(int total)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&deferred.mu);
    while (deferred.total < total)
        if (pthread_cond_timedwait(&deferred.cv, &deferred.mu, &until) != 0)
            break;
    if (deferred.total < total) {
        pthread_mutex_unlock(&deferred.mu);
        fail_msg("%d requests deferred, want %d", deferred.total, total);
    }
    pthread_mutex_unlock(&deferred.mu);
}

static int defer_total(void)
{
    int n;

    pthread_mutex_lock(&deferred.mu);
    n = deferred.total;
    pthread_mutex_unlock(&deferred.mu);
    return n;
}

/* /echo says what it was given; /big is larger than the backpressure mark;
 * /limited is a 429 with Retry-After; /empty is a 204; /nostatus sets none;
 * /defer and /release as above. */
static void handler(void *arg, const struct srv_http_req *req, struct srv_resp *resp)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};
    struct pki_err err = {0, ""};
    char text[512];
    int n;

    (void)arg;
    atomic_fetch_add(&calls, 1);
    resp->status = 200;
    resp->content_type = "text/plain";
    if (strcmp(req->path, "/big") == 0) {
        char *big = malloc(BIG);

        assert_non_null(big);
        for (n = 0; n < BIG; n++) /* a pattern: a piece sent twice or skipped shows */
            big[n] = BIG_BYTE(n);
        assert_int_equal(pki_buf_set(&resp->body, big, BIG, &err), 0);
        free(big);
    } else if (strcmp(req->path, "/limited") == 0) {
        snprintf(resp->headers, sizeof(resp->headers), "Retry-After: 1\r\n");
        srv_resp_error(resp, 429, "rate limit exceeded, retry later");
    } else if (strcmp(req->path, "/empty") == 0) {
        resp->status = 204;
    } else if (strcmp(req->path, "/nostatus") == 0) {
        resp->status = 0;
    } else if (strcmp(req->path, "/defer") == 0) {
        defer_hold(req, resp);
    } else if (strcmp(req->path, "/release") == 0) {
        n = snprintf(text, sizeof(text), "released %d", defer_release());
        assert_int_equal(pki_buf_set(&resp->body, text, (size_t)n, &err), 0);
    } else {
        n = snprintf(text, sizeof(text), "%s %s?%s token=%s conflict=%d body=%.*s",
                     methods[req->method], req->path, req->query, req->token,
                     req->token_conflict, (int)req->body_len,
                     req->body != NULL ? (const char *)req->body : "");
        assert_int_equal(pki_buf_set(&resp->body, text, (size_t)n, &err), 0);
    }
}

/* ---- the server, in its own thread ---- */

struct server {
    struct event_base *base;
    struct srv_net *net;
    struct event *stop;
    int pipe[2];
    pthread_t thread;
    int port;
};

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *loop(void *arg)
{
    event_base_dispatch(((struct server *)arg)->base);
    return NULL;
}

static struct server *server_start(struct srv_net_opts *opts)
{
    struct server *s = calloc(1, sizeof(*s));
    struct pki_err err = {0, ""};
    const char *addr;

    assert_non_null(s);
    s->base = event_base_new();
    assert_non_null(s->base);
    if (opts->listen == NULL)
        opts->listen = "127.0.0.1:0";
    s->net = srv_net_new(s->base, opts, handler, NULL, &err);
    if (s->net == NULL)
        fail_msg("srv_net_new: %s", err.msg);
    addr = srv_net_address(s->net);
    assert_true(strncmp(addr, "127.0.0.1:", 10) == 0);
    s->port = atoi(addr + 10);
    assert_true(s->port > 0 && s->port < 65536);
    assert_int_equal(pipe(s->pipe), 0);
    s->stop = event_new(s->base, s->pipe[0], EV_READ, on_stop, s->base);
    assert_non_null(s->stop);
    assert_int_equal(event_add(s->stop, NULL), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, loop, s), 0);
    return s;
}

static void server_stop(struct server *s)
{
    assert_int_equal(write(s->pipe[1], "x", 1), 1);
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    srv_net_free(s->net);
    event_free(s->stop);
    event_base_free(s->base);
    close(s->pipe[0]);
    close(s->pipe[1]);
    free(s);
}

static struct server *server_default(void)
{
    struct srv_net_opts opts = {.request_timeout_ms = TIMEOUT_MS,
                                 .idle_timeout_ms = TIMEOUT_MS};

    return server_start(&opts);
}

/* ---- the client ---- */

struct cli {
    int fd;
    SSL *ssl;
    unsigned char *buf; /* received, not yet consumed */
    size_t len, cap;
};

struct resp {
    int status;
    char head[4096];
    char *body;
    size_t body_len;
};

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* rcvbuf > 0: a small receive window, so the server's writes come back
 * partial. */
static struct cli *cli_connect_rcvbuf(int port, int rcvbuf)
{
    struct cli *c = calloc(1, sizeof(*c));
    struct sockaddr_in sa;

    assert_non_null(c);
    c->cap = 4 * BIG + 65536;
    c->buf = malloc(c->cap);
    assert_non_null(c->buf);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return c;
}

static struct cli *cli_connect(int port)
{
    return cli_connect_rcvbuf(port, 0);
}

static void cli_close(struct cli *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    close(c->fd);
    free(c->buf);
    free(c);
}

static void cli_send(struct cli *c, const void *data, size_t len)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = c->ssl != NULL ? SSL_write(c->ssl, p, (int)len)
                           : send(c->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            fail_msg("send failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static void cli_sends(struct cli *c, const char *s)
{
    cli_send(c, s, strlen(s));
}

/* Reads more bytes: 1, 0 at EOF (or reset), -1 if nothing came in ms. */
static int cli_more(struct cli *c, int ms)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    ssize_t n;

    assert_true(c->len < c->cap);
    if ((c->ssl == NULL || SSL_pending(c->ssl) == 0) && poll(&pfd, 1, ms) == 0)
        return -1;
    if (c->ssl != NULL)
        n = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len));
    else
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n <= 0)
        return 0;
    c->len += (size_t)n;
    return 1;
}

/* Reads one response (no body for HEAD or 204); 0, or -1 on EOF first. */
static int cli_response(struct cli *c, struct resp *r, int head)
{
    unsigned char *end = NULL;
    size_t hlen, need;
    const char *cl;
    long deadline = now_ms() + WAIT_MS;
    int rc;

    memset(r, 0, sizeof(*r));
    for (;;) {
        if (c->len >= 4 && (end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL) {
            hlen = (size_t)(end - c->buf) + 4;
            assert_true(hlen < sizeof(r->head));
            memcpy(r->head, c->buf, hlen);
            r->head[hlen] = '\0';
            cl = strstr(r->head, "\r\nContent-Length: ");
            r->body_len = cl != NULL ? strtoul(cl + 18, NULL, 10) : 0;
            r->status = atoi(r->head + 9);
            need = hlen + (head || r->status == 204 ? 0 : r->body_len);
            if (c->len >= need)
                break;
        }
        rc = cli_more(c, (int)(deadline - now_ms()));
        if (rc == 0)
            return -1;
        if (rc < 0)
            fail_msg("no response within %d ms", WAIT_MS);
    }
    if (head || r->status == 204)
        r->body_len = 0;
    r->body = malloc(r->body_len + 1);
    assert_non_null(r->body);
    memcpy(r->body, c->buf + hlen, r->body_len);
    r->body[r->body_len] = '\0';
    memmove(c->buf, c->buf + need, c->len - need);
    c->len -= need;
    return 0;
}

/* Asserts the peer closes (after nothing more than what is buffered). */
static void cli_expect_eof(struct cli *c)
{
    long deadline = now_ms() + WAIT_MS;
    int rc;

    while ((rc = cli_more(c, (int)(deadline - now_ms()))) == 1)
        ;
    if (rc < 0)
        fail_msg("connection not closed within %d ms", WAIT_MS);
    assert_int_equal(c->len, 0);
}

static void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* One request on a new connection; returns the response. */
static struct resp roundtrip(int port, const char *req)
{
    struct cli *c = cli_connect(port);
    struct resp r;

    cli_sends(c, req);
    if (cli_response(c, &r, 0) != 0)
        fail_msg("connection closed before a response to \"%s\"", req);
    cli_close(c);
    return r;
}

/* A refusal: the status, a JSON body naming the reason, then close. */
static void expect_refusal(struct cli *c, int status, const char *word)
{
    struct resp r;

    assert_int_equal(cli_response(c, &r, 0), 0);
    if (r.status != status)
        fail_msg("status %d, want %d: %s", r.status, status, r.body);
    assert_str_has(r.head, "Content-Type: application/json\r\n");
    assert_str_has(r.head, "Connection: close\r\n");
    assert_str_has(r.head, "Cache-Control: no-store\r\n");
    assert_true(strncmp(r.body, "{\"error\": \"", 11) == 0);
    assert_str_has(r.body, word);
    resp_free(&r);
    cli_expect_eof(c);
}

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
    size_t i, j;
    int before = atomic_load(&calls);

    (void)state;
    for (i = 0; i < 4; i++)
        cli_sends(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    cli_sends(c, "GET /echo?last HTTP/1.1\r\nHost: a\r\n\r\n");
    for (i = 0; i < 4; i++) {
        assert_int_equal(cli_response(c, &r, 0), 0);
        assert_int_equal(r.body_len, BIG);
        for (j = 0; j < BIG; j++)
            if (r.body[j] != BIG_BYTE(j))
                fail_msg("answer %zu: byte %zu is %d", i, j, r.body[j]);
        resp_free(&r);
    }
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
    size_t i, j;

    (void)state;
    for (i = 0; i < PARTIAL_N; i++)
        cli_sends(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    for (i = 0; i < PARTIAL_N; i++) {
        assert_int_equal(cli_response(c, &r, 0), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, BIG);
        for (j = 0; j < BIG; j++)
            if (r.body[j] != BIG_BYTE(j))
                fail_msg("answer %zu: byte %zu is %d", i, j, r.body[j]);
        resp_free(&r);
    }
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

static atomic_int before_tls_calls;

static void count_before_tls(void *arg)
{
    assert_null(arg); /* the handler's arg */
    atomic_fetch_add(&before_tls_calls, 1);
}

struct tls_pair {
    EVP_PKEY *key;
    X509 *cert;
    SSL_CTX *sctx, *cctx; /* the server's, and a client's that trusts cert */
};

/* A self-signed server certificate for 127.0.0.1 made with the core. */
static void tls_pair_new(struct tls_pair *t)
{
    struct pki_err err = {0, ""};
    struct pki_host host;
    struct pki_cert_params p = {.role = PKI_ROLE_SERVER, .common_name = "pkictl test",
                                .hosts = &host, .nhosts = 1, .lifetime = DAY,
                                .now = time(NULL)};

    t->key = ut_ec();
    p.subject_key = p.issuer_key = t->key;
    assert_ok(pki_host_parse("127.0.0.1", &host, &err), err);
    t->cert = pki_cert_issue(&p, &err);
    assert_non_null(t->cert);
    t->sctx = SSL_CTX_new(TLS_server_method());
    t->cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(t->sctx);
    assert_non_null(t->cctx);
    assert_int_equal(SSL_CTX_use_certificate(t->sctx, t->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(t->sctx, t->key), 1);
    assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(t->cctx), t->cert), 1);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(t->cctx), X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(t->cctx, SSL_VERIFY_PEER, NULL);
}

static void tls_pair_free(struct tls_pair *t)
{
    SSL_CTX_free(t->cctx);
    SSL_CTX_free(t->sctx);
    X509_free(t->cert);
    EVP_PKEY_free(t->key);
}

/* A verified TLS connection (rcvbuf as for cli_connect_rcvbuf). */
static struct cli *tls_connect(const struct tls_pair *t, int port, int rcvbuf)
{
    struct cli *c = cli_connect_rcvbuf(port, rcvbuf);

    c->ssl = SSL_new(t->cctx);
    assert_non_null(c->ssl);
    assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1"), 1);
    assert_int_equal(SSL_set_fd(c->ssl, c->fd), 1);
    assert_int_equal(SSL_connect(c->ssl), 1);
    assert_int_equal(SSL_get_verify_result(c->ssl), X509_V_OK);
    return c;
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
    size_t i, j;

    (void)state;
    tls_pair_new(&t);
    opts.tls = t.sctx;
    s = server_start(&opts);
    c = tls_connect(&t, s->port, 4096);
    for (i = 0; i < PARTIAL_N; i++)
        cli_sends(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    for (i = 0; i < PARTIAL_N; i++) {
        assert_int_equal(cli_response(c, &r, 0), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, BIG);
        for (j = 0; j < BIG; j++)
            if (r.body[j] != BIG_BYTE(j))
                fail_msg("answer %zu: byte %zu is %d", i, j, r.body[j]);
        resp_free(&r);
    }
    cli_sends(c, "GET /echo?after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_str_has(r.body, "?after");
    resp_free(&r);
    cli_close(c);
    server_stop(s);
    tls_pair_free(&t);
}

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

static void expect_body(struct cli *c, int head, const char *want)
{
    struct resp r;

    assert_int_equal(cli_response(c, &r, head), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    resp_free(&r);
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
        cmocka_unit_test(tls_request),
        cmocka_unit_test(tls_blocked_write_resumes),
        cmocka_unit_test(deferred_answer_waits_for_release),
        cmocka_unit_test(pipelined_behind_deferred_in_order),
        cmocka_unit_test(client_gone_while_deferred),
        cmocka_unit_test(half_close_after_pipelining_behind_deferred),
        cmocka_unit_test(deferred_head_and_close),
        cmocka_unit_test(listen_addresses),
        cmocka_unit_test(resp_error_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
