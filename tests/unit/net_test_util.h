/*
 * net_test_util.h - the fixture shared by the server loop's unit tests
 * (test_net.c, test_net_defer.c, test_net_tls.c): a server on 127.0.0.1:0
 * running its event loop in a thread, a handler with fixed routes, a raw
 * socket client (OpenSSL for TLS) and a self-signed TLS pair. Deadlines are
 * short (300 ms) so the timeout tests are quick; the waits are bounded polls
 * for the server's answer, never sleeps.
 *
 * Header-only and static inline, as unit_util.h, so a test file that leaves
 * a helper unused stays warning-free.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h>, <stdint.h> and <cmocka.h>.
 */
#ifndef PKI_NET_TEST_UTIL_H
#define PKI_NET_TEST_UTIL_H

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

static inline void defer_hold(const struct srv_http_req *req, struct srv_resp *resp)
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
static inline int defer_release(void)
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
static inline void defer_wait(int total)
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

static inline int defer_total(void)
{
    int n;

    pthread_mutex_lock(&deferred.mu);
    n = deferred.total;
    pthread_mutex_unlock(&deferred.mu);
    return n;
}

/* /echo says what it was given (its first 511 bytes); /big is larger than
 * the backpressure mark; /limited is a 429 with Retry-After; /empty is a
 * 204; /nostatus sets none; /defer and /release as above. */
static inline void handler(void *arg, const struct srv_http_req *req, struct srv_resp *resp)
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
        if (n >= (int)sizeof(text)) /* a large body is echoed cut short */
            n = (int)sizeof(text) - 1;
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

static inline void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static inline void *loop(void *arg)
{
    event_base_dispatch(((struct server *)arg)->base);
    return NULL;
}

static inline struct server *server_start(struct srv_net_opts *opts)
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

static inline void server_stop(struct server *s)
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

static inline struct server *server_default(void)
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

static inline long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* rcvbuf > 0: a small receive window, so the server's writes come back
 * partial. */
static inline struct cli *cli_connect_rcvbuf(int port, int rcvbuf)
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

static inline struct cli *cli_connect(int port)
{
    return cli_connect_rcvbuf(port, 0);
}

static inline void cli_close(struct cli *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    close(c->fd);
    free(c->buf);
    free(c);
}

static inline void cli_send(struct cli *c, const void *data, size_t len)
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

static inline void cli_sends(struct cli *c, const char *s)
{
    cli_send(c, s, strlen(s));
}

/* Reads more bytes: 1, 0 at EOF (or reset), -1 if nothing came in ms. */
static inline int cli_more(struct cli *c, int ms)
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
static inline int cli_response(struct cli *c, struct resp *r, int head)
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
static inline void cli_expect_eof(struct cli *c)
{
    long deadline = now_ms() + WAIT_MS;
    int rc;

    while ((rc = cli_more(c, (int)(deadline - now_ms()))) == 1)
        ;
    if (rc < 0)
        fail_msg("connection not closed within %d ms", WAIT_MS);
    assert_int_equal(c->len, 0);
}

static inline void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* n answers of /big in a row, every byte checked (status 200 too if asked). */
static inline void expect_big_answers(struct cli *c, size_t n, int want_200)
{
    struct resp r;

    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cli_response(c, &r, 0), 0);
        if (want_200)
            assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, BIG);
        for (size_t j = 0; j < BIG; j++)
            if (r.body[j] != BIG_BYTE(j))
                fail_msg("answer %zu: byte %zu is %d", i, j, r.body[j]);
        resp_free(&r);
    }
}

/* One 200 answer with exactly this body (none for HEAD). */
static inline void expect_body(struct cli *c, int head, const char *want)
{
    struct resp r;

    assert_int_equal(cli_response(c, &r, head), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    resp_free(&r);
}

/* One request on a new connection; returns the response. */
static inline struct resp roundtrip(int port, const char *req)
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
static inline void expect_refusal(struct cli *c, int status, const char *word)
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

/* ---- TLS ---- */

struct tls_pair {
    EVP_PKEY *key;
    X509 *cert;
    SSL_CTX *sctx, *cctx; /* the server's, and a client's that trusts cert */
};

/* A self-signed server certificate for 127.0.0.1 made with the core. */
static inline void tls_pair_new(struct tls_pair *t)
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

static inline void tls_pair_free(struct tls_pair *t)
{
    SSL_CTX_free(t->cctx);
    SSL_CTX_free(t->sctx);
    X509_free(t->cert);
    EVP_PKEY_free(t->key);
}

/* A verified TLS connection (rcvbuf as for cli_connect_rcvbuf). */
static inline struct cli *tls_connect(const struct tls_pair *t, int port, int rcvbuf)
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

#endif
