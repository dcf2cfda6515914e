/*
 * net.c - the HTTP(S) server loop: an evconnlistener, one bufferevent per
 * connection (bufferevent_openssl for TLS), srv_http_parse on the bytes
 * received, one handler call per request, answers written in order.
 *
 * A connection moves IDLE -> READING -> (answer) -> IDLE ... and ends with
 * CLOSING (last answer queued) -> LINGER (flushed, write side shut, unread
 * input discarded) -> freed. One timer per connection bounds every state:
 *  - IDLE: the keep-alive idle timeout; before the first request, the
 *    request deadline instead, counted from accept, so a TLS handshake or a
 *    silent connection cannot hold a slot longer than a request may take.
 *  - READING: the whole-request deadline from the request's first byte, not
 *    reset by later bytes: a client sending a byte a second (slowloris) is
 *    answered 408 and closed.
 *  - CLOSING: a peer that does not take our answer is dropped after the
 *    request deadline.  LINGER: at most NET_LINGER_MS.
 * Lingering is why a 413 or 431 reaches the client: closing a socket that
 * still has unread input makes the kernel send RST, which can destroy the
 * answer before the client reads it.
 *
 * Single-threaded on the caller's event_base. Callbacks never free their
 * connection except from the timer, event and write callbacks, after which
 * they touch nothing.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fmt.h"

#define NET_READ_MAX (SRV_HTTP_HEADER_MAX + SRV_HTTP_BODY_MAX)
#define NET_BACKPRESSURE (256 * 1024)
#define NET_LINGER_MS 2000
#define NET_ACCEPT_RETRY_MS 100
#define NET_BACKLOG 128
#define NET_BALANCE_MS 5      /* a declining worker re-checks the balance this often */
#define NET_BALANCE_MAX_MS 50 /* and accepts anyway once a connection waited this long */

/* CONN_WAITING: the handler deferred its answer (srv_net_finish sends it);
 * nothing is read meanwhile, and the connection is not freed under it. */
enum conn_state { CONN_IDLE, CONN_READING, CONN_WAITING, CONN_CLOSING, CONN_LINGER };

struct srv_conn {
    struct srv_net *net;
    struct bufferevent *bev;
    struct event *timer;
    enum conn_state state;
    int deadline_armed; /* the request deadline runs (for the first one: since accept) */
    int paused;         /* reading stopped until our output is flushed */
    int peer_eof;       /* the peer will send nothing more */
    int gone;           /* an error while CONN_WAITING: freed by srv_net_finish */
    int head, keep_alive; /* of the request whose answer is deferred */
    struct srv_conn *prev, *next;
};

struct srv_net {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *retry;
    int shared_listener;  /* the socket is shared with other worker processes */
    int (*balance)(void *arg, size_t nconns);
    int declined_ms;      /* how long a connection has waited while we declined */
    SSL_CTX *tls;
    srv_handler_fn handler;
    void (*before_tls)(void *arg);
    void *arg;
    int request_ms, idle_ms;
    size_t max_conns, nconns;
    struct srv_conn *conns;
    char addr[INET6_ADDRSTRLEN + 16];
};

static void arm(struct event *ev, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(ev, &tv);
}

static void conn_free(struct srv_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->net->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->net->nconns--;
    if (c->net->balance != NULL)
        (void)c->net->balance(c->net->arg, c->net->nconns);
    event_free(c->timer);
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: the SSL and the socket too */
    free(c);
}

/* The body goes out by reference and is wiped when written: a leaf answer
 * holds the new private key. */
static void body_cleanup(const void *data, size_t len, void *extra)
{
    struct pki_buf b = {extra, len};

    (void)data;
    pki_buf_free(&b);
}

/* The header block of one answer. RFC 9110 8.6: a 204 carries no
 * Content-Length; a HEAD answer carries the length a GET would have. */
/* The header block, written without snprintf (three calls of it were a
 * fifth of the answer's cost outside the cryptography). */
struct head {
    char *p;
    size_t len, cap;
    int over;
};

static void hput(struct head *h, const char *s, size_t n)
{
    if (h->over || n > h->cap - h->len) {
        h->over = 1;
        return;
    }
    memcpy(h->p + h->len, s, n);
    h->len += n;
}

static void hputs(struct head *h, const char *s)
{
    hput(h, s, strlen(s));
}

static void hputu(struct head *h, uint64_t v)
{
    char num[PKI_FMT_U64_MAX];

    hput(h, num, pki_fmt_u64(v, num));
}

static int format_head(char *hdr, size_t len, int status, int keep_alive,
                       const struct srv_resp *resp)
{
    struct head h = {hdr, 0, len, 0};

    hputs(&h, "HTTP/1.1 ");
    hputu(&h, (uint64_t)status);
    hputs(&h, " ");
    hputs(&h, srv_http_reason(status));
    if (status != 204) {
        hputs(&h, "\r\nContent-Type: ");
        hputs(&h, resp->content_type != NULL ? resp->content_type : "application/json");
        hputs(&h, "\r\nContent-Length: ");
        hputu(&h, resp->body.len);
    }
    hputs(&h, "\r\nCache-Control: no-store\r\nConnection: ");
    hputs(&h, keep_alive ? "keep-alive\r\n" : "close\r\n");
    hput(&h, resp->headers, strnlen(resp->headers, sizeof(resp->headers)));
    hputs(&h, "\r\n");
    return h.over || h.len > INT_MAX ? -1 : (int)h.len;
}

/* Plain HTTP, nothing queued, the connection stays open: one writev now
 * instead of queueing, which costs the loop an epoll_ctl to watch for
 * writability, a wakeup, and an epoll_ctl to stop. Returns the bytes
 * written (0 if none could be); the caller queues the rest. */
static size_t write_now(struct srv_conn *c, const char *hdr, size_t hlen, const struct pki_buf *body)
{
    struct iovec iov[2] = {{(void *)hdr, hlen}, {body->data, body->len}};
    ssize_t n;

    do
        n = writev(bufferevent_getfd(c->bev), iov, body->len > 0 ? 2 : 1);
    while (n < 0 && errno == EINTR);
    return n > 0 ? (size_t)n : 0;
}

/* TLS: the header block and the body as one buffer, so the answer is one
 * record (queued as two chunks, libevent would make two records, two
 * writes). The body is wiped: a leaf answer holds a private key. */
static int tls_join(const char *hdr, size_t hlen, struct pki_buf *body, struct pki_buf *all)
{
    struct pki_err err = {0, ""};
    int rc = pki_buf_set(all, hdr, hlen, &err) == PKI_OK &&
                     pki_buf_append(all, body->data, body->len, &err) == PKI_OK
                 ? 0
                 : -1;

    pki_buf_free(body);
    return rc;
}

/* TLS, nothing queued: the record written now (SSL_write) instead of
 * queued for libevent's write callback, which costs the same epoll_ctl,
 * wakeup and epoll_ctl as plain HTTP's. Returns 1 if it went out whole,
 * else 0 and the caller queues all of it: OpenSSL may then hold part of
 * the record and wants the same bytes again, which is what libevent's
 * next SSL_write passes from the output buffer (new_bev allows the bytes
 * to move, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). Not with partial writes
 * on, where a retry would have to start after what was written. */
static int tls_write_now(struct srv_conn *c, const struct pki_buf *all)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    int n;

    if (ssl == NULL || all->len == 0 || all->len > INT_MAX ||
        (SSL_get_mode(ssl) & SSL_MODE_ENABLE_PARTIAL_WRITE))
        return 0;
    ERR_clear_error();
    n = SSL_write(ssl, all->data, (int)all->len);
    ERR_clear_error(); /* a failure shows again, to libevent, when it writes */
    return n == (int)all->len;
}

/* Queues one answer and frees resp->body. Returns -1 if it could not be
 * queued whole (the caller closes the connection). */
static int send_response(struct srv_conn *c, int head, int keep_alive, struct srv_resp *resp)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char hdr[1024];
    size_t done = 0, hlen;
    int rc = -1, n;

    if (resp->status < 200 || resp->status > 599) {
        pki_buf_free(&resp->body);
        resp->status = 500;
    }
    n = format_head(hdr, sizeof(hdr), resp->status, keep_alive, resp);
    if (n < 0)
        goto out;
    hlen = (size_t)n;
    if (head || resp->status == 204)
        pki_buf_free(&resp->body);
    if (c->net->tls != NULL) {
        struct pki_buf all = {NULL, 0};

        if (tls_join(hdr, hlen, &resp->body, &all) < 0)
            goto out;
        resp->body = all;
        hlen = 0;
        if (keep_alive && evbuffer_get_length(out) == 0 && tls_write_now(c, &resp->body)) {
            rc = 0;
            goto out;
        }
    } else if (keep_alive && evbuffer_get_length(out) == 0) {
        done = write_now(c, hdr, hlen, &resp->body);
        if (done == hlen + resp->body.len) {
            rc = 0;
            goto out;
        }
    }
    if (done < hlen && evbuffer_add(out, hdr + done, hlen - done) != 0)
        goto out;
    done = done > hlen ? done - hlen : 0;
    if (resp->body.len > done) {
        if (done > 0) { /* rare: the write ended inside the body; queue the rest, wiped too */
            memmove(resp->body.data, resp->body.data + done, resp->body.len - done);
            resp->body.len -= done;
            OPENSSL_cleanse(resp->body.data + resp->body.len, done);
        }
        if (evbuffer_add_reference(out, resp->body.data, resp->body.len, body_cleanup,
                                   resp->body.data) != 0)
            goto out;
        resp->body.data = NULL; /* evbuffer owns it now */
        resp->body.len = 0;
    }
    rc = 0;
out:
    pki_buf_free(&resp->body);
    return rc;
}

/* The last answer is queued: keep reading (and discarding) so unread input
 * does not turn our close into an RST, and bound the flush. */
static void close_after_flush(struct srv_conn *c)
{
    c->state = CONN_CLOSING;
    c->paused = 0;
    if (!c->peer_eof)
        bufferevent_enable(c->bev, EV_READ);
    arm(c->timer, c->net->request_ms);
}

static void answer_error(struct srv_conn *c, int status, const char *msg)
{
    struct srv_resp resp;

    memset(&resp, 0, sizeof(resp));
    srv_resp_error(&resp, status, msg);
    (void)send_response(c, 0, 0, &resp);
    close_after_flush(c);
}

/* Everything is flushed: half-close (close_notify first under TLS), then
 * wait briefly for the peer's EOF. */
static void linger(struct srv_conn *c)
{
    SSL *ssl = c->net->tls != NULL ? bufferevent_openssl_get_ssl(c->bev) : NULL;
    int ms = c->net->request_ms < NET_LINGER_MS ? c->net->request_ms : NET_LINGER_MS;

    if (ssl != NULL)
        (void)SSL_shutdown(ssl);
    (void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    c->state = CONN_LINGER;
    bufferevent_enable(c->bev, EV_READ);
    arm(c->timer, ms);
}

/* An answer was queued (rc < 0: it could not be): close, or wait for the
 * next request. Returns 1 if the caller may serve the next one now. */
static int answered(struct srv_conn *c, int rc, int keep_alive)
{
    if (rc < 0 || !keep_alive) {
        close_after_flush(c);
        return 0;
    }
    c->state = CONN_IDLE;
    c->deadline_armed = 0;
    arm(c->timer, c->net->idle_ms);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) <= NET_BACKPRESSURE)
        return 1;
    /* A pipelining client that does not read: stop reading until it does. */
    c->paused = 1;
    bufferevent_disable(c->bev, EV_READ);
    return 0;
}

/* Parses and answers the request at the head of the input. Returns 1 if the
 * connection can go on to the next one, 0 otherwise (more bytes needed,
 * closing, or paused). */
static int serve_one(struct srv_conn *c, struct evbuffer *in, size_t avail)
{
    struct srv_http_req req;
    struct srv_resp resp;
    struct pki_err err = {0, ""};
    size_t want = avail < NET_READ_MAX ? avail : NET_READ_MAX, consumed = 0;
    unsigned char *data = evbuffer_pullup(in, (ev_ssize_t)want);
    int status = 0, rc;

    if (data == NULL) {
        answer_error(c, 500, "out of memory");
        return 0;
    }
    rc = srv_http_parse(data, want, &req, &consumed, &status, &err);
    if (rc == SRV_HTTP_AGAIN)
        return 0;
    if (rc < 0) {
        answer_error(c, status, err.msg);
        return 0;
    }
    /* The peer half-closed while an earlier answer was deferred: this is
     * its last request if nothing follows it. */
    if (c->peer_eof && consumed == evbuffer_get_length(in))
        req.keep_alive = 0;
    memset(&resp, 0, sizeof(resp));
    resp.conn = c;
    c->net->handler(c->net->arg, &req, &resp);
    if (resp.deferred) {
        c->head = req.method == SRV_HTTP_HEAD;
        c->keep_alive = req.keep_alive;
    } else {
        rc = send_response(c, req.method == SRV_HTTP_HEAD, req.keep_alive, &resp);
    }
    /* A PUT of the CA configuration can carry a private key: wipe it. */
    OPENSSL_cleanse(data, consumed);
    evbuffer_drain(in, consumed);
    if (resp.deferred) {
        /* Reading goes on (a close is noticed; what a pipelining client
         * sends waits in the input, bounded by the watermark) without an
         * epoll_ctl to stop and restart it for every deferred answer. */
        c->state = CONN_WAITING;
        evtimer_del(c->timer);
        return 0;
    }
    return answered(c, rc, req.keep_alive);
}

static void serve(struct srv_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t avail;

    while ((c->state == CONN_IDLE || c->state == CONN_READING) && !c->paused &&
           (avail = evbuffer_get_length(in)) > 0) {
        if (c->state == CONN_IDLE) {
            c->state = CONN_READING;
            if (!c->deadline_armed)
                arm(c->timer, c->net->request_ms);
            c->deadline_armed = 1;
        }
        if (!serve_one(c, in, avail))
            break;
    }
}

void srv_net_finish(struct srv_conn *c, struct srv_resp *resp)
{
    int rc, more, keep_alive;

    if (c->gone) {
        pki_buf_free(&resp->body);
        conn_free(c);
        return;
    }
    more = evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
    keep_alive = c->keep_alive && (!c->peer_eof || more);
    rc = send_response(c, c->head, keep_alive, resp);
    /* Requests that came in meanwhile (pipelined) are served from the loop,
     * not from inside the caller's stack. */
    if (answered(c, rc, keep_alive) && more)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct srv_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    if (c->state == CONN_CLOSING || c->state == CONN_LINGER)
        evbuffer_drain(in, evbuffer_get_length(in));
    else if (c->state != CONN_WAITING) /* the input waits for the answer */
        serve(c);
}

/* The output buffer is empty. */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct srv_conn *c = arg;

    if (c->state == CONN_CLOSING) {
        if (c->peer_eof)
            conn_free(c);
        else
            linger(c);
        return;
    }
    if (c->paused) {
        c->paused = 0;
        bufferevent_enable(bev, EV_READ);
        serve(c);
    }
}

/* EOF or error. A request cut short is dropped without calling the
 * handler; answers already queued to a peer that only half-closed still go
 * out. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct srv_conn *c = arg;

    if (what & BEV_EVENT_CONNECTED)
        return;
    if (c->state == CONN_WAITING) { /* its handler holds it: srv_net_finish goes on */
        if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
            c->peer_eof = 1; /* a half-close: what was asked is answered, then we close */
            bufferevent_disable(bev, EV_READ);
        } else {
            c->gone = 1;
            bufferevent_disable(bev, EV_READ | EV_WRITE);
        }
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->state != CONN_LINGER &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        c->peer_eof = 1;
        if (c->state != CONN_CLOSING)
            close_after_flush(c);
        return;
    }
    conn_free(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct srv_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->state == CONN_READING)
        answer_error(c, 408, "request not complete in time");
    else
        conn_free(c);
}

static struct bufferevent *new_bev(struct srv_net *net, evutil_socket_t fd)
{
    struct bufferevent *bev;
    SSL *ssl;

    if (net->tls == NULL)
        return bufferevent_socket_new(net->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (net->before_tls != NULL)
        net->before_tls(net->arg);
    if ((ssl = SSL_new(net->tls)) == NULL)
        return NULL;
    /* send_response may leave a record half written and queue its bytes,
     * which libevent then passes to SSL_write from another address. */
    SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* On failure libevent frees ssl (BEV_OPT_CLOSE_ON_FREE) but not fd. */
    bev = bufferevent_openssl_socket_new(net->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev != NULL) /* a peer that closes without close_notify is an EOF, not an error */
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct srv_net *net = arg;
    struct srv_conn *c = NULL;
    int one = 1;

    (void)l;
    (void)sa;
    (void)salen;
    if (net->nconns >= net->max_conns || (c = calloc(1, sizeof(*c))) == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->net = net;
    /* Answers go out at once: without this a TLS record split over two
     * segments waits for the client's delayed ACK (Nagle, RFC 896), ~40 ms. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if ((c->bev = new_bev(net, fd)) == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    if ((c->timer = evtimer_new(net->base, on_timer, c)) == NULL) {
        bufferevent_free(c->bev);
        free(c);
        return;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    /* The parser decides within NET_READ_MAX bytes: never buffer more. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, NET_READ_MAX);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = net->conns;
    if (net->conns != NULL)
        net->conns->prev = c;
    net->conns = c;
    net->nconns++;
    c->state = CONN_IDLE;
    c->deadline_armed = 1;
    arm(c->timer, net->request_ms);
    /* libevent accepts until the backlog is empty, so on a shared socket
     * the first worker to wake would take a burst of connections (wrk's 2
     * all landed on one worker). Stepping back for a millisecond after each
     * accept lets the other workers take the next ones. */
    if (net->shared_listener) {
        if (net->balance != NULL)
            (void)net->balance(net->arg, net->nconns);
        evconnlistener_disable(net->listener);
        arm(net->retry, 1);
    }
}

/* EMFILE and the like: the connection stays in the backlog and the listener
 * would spin on it; stop accepting for a moment instead. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct srv_net *net = arg;

    evconnlistener_disable(l);
    arm(net->retry, NET_ACCEPT_RETRY_MS);
}

/* A connection waiting in the shared backlog. */
static int backlog_waiting(struct srv_net *net)
{
    struct pollfd p = {evconnlistener_get_fd(net->listener), POLLIN, 0};

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Accept again, unless another worker has fewer connections: then stay
 * out and look again shortly; a connection that none of them takes (they
 * are all busy) is taken after NET_BALANCE_MAX_MS anyway. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct srv_net *net = arg;

    (void)fd;
    (void)what;
    if (net->balance != NULL && !net->balance(net->arg, net->nconns)) {
        net->declined_ms = backlog_waiting(net) ? net->declined_ms + NET_BALANCE_MS : 0;
        if (net->declined_ms < NET_BALANCE_MAX_MS) {
            arm(net->retry, NET_BALANCE_MS);
            return;
        }
    }
    net->declined_ms = 0;
    evconnlistener_enable(net->listener);
}

/* "a.b.c.d:port" or "[v6]:port"; names are not resolved. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
                        struct pki_err *err)
{
    const char *colon = s != NULL ? strrchr(s, ':') : NULL, *h = s;
    char host[INET6_ADDRSTRLEN + 1], *end = NULL;
    size_t hlen = colon != NULL ? (size_t)(colon - s) : 0;
    unsigned long port = 0;
    int v6 = s != NULL && s[0] == '[';

    if (v6 && hlen >= 2 && s[hlen - 1] == ']') {
        h = s + 1;
        hlen -= 2;
    } else if (v6) {
        hlen = 0;
    }
    if (colon != NULL && colon[1] >= '0' && colon[1] <= '9' && strlen(colon + 1) <= 5)
        port = strtoul(colon + 1, &end, 10);
    if (hlen == 0 || hlen >= sizeof(host) || end == NULL || *end != '\0' || port > 65535)
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*a6);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1)
            return PKI_OK;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sslen = sizeof(*a4);
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1)
            return PKI_OK;
    }
bad:
    return pki_err_set(err, PKI_ERR_USAGE,
                       "listen address \"%s\": expected IPv4:PORT or [IPv6]:PORT "
                       "(e.g. 127.0.0.1:8555; port 0 picks a free one)",
                       s != NULL ? s : "");
}

/* The address actually bound (the port, when 0 was asked for). */
int srv_net_fd_address(int fd, char *out, size_t outlen, struct pki_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN];
    const void *a;
    unsigned port;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return pki_err_set(err, PKI_ERR_IO, "getsockname: %s", strerror(errno));
    if (ss.ss_family == AF_INET6) {
        a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        a = &((struct sockaddr_in *)&ss)->sin_addr;
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    if (inet_ntop(ss.ss_family, a, ip, sizeof(ip)) == NULL)
        return pki_err_set(err, PKI_ERR_IO, "inet_ntop: %s", strerror(errno));
    snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
    return PKI_OK;
}

static int format_bound(struct srv_net *net, struct pki_err *err)
{
    return srv_net_fd_address(evconnlistener_get_fd(net->listener), net->addr,
                              sizeof(net->addr), err);
}

struct srv_net *srv_net_new(struct event_base *base, const struct srv_net_opts *opts,
                            srv_handler_fn handler, void *arg, struct pki_err *err)
{
    struct srv_net *net = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;

    if (base == NULL || opts == NULL || handler == NULL) {
        pki_err_set(err, PKI_ERR_USAGE, "srv_net_new: missing base, options or handler");
        return NULL;
    }
    if (!opts->has_listen_fd && parse_listen(opts->listen, &ss, &sslen, err) < 0)
        return NULL;
    if ((net = calloc(1, sizeof(*net))) == NULL ||
        (net->retry = evtimer_new(base, on_retry, net)) == NULL) {
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    net->base = base;
    net->tls = opts->tls;
    net->handler = handler;
    net->before_tls = opts->before_tls;
    net->arg = arg;
    net->request_ms = opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 10000;
    net->idle_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 60000;
    net->max_conns = opts->max_conns > 0 ? opts->max_conns : 1024;
    /* A peer that closes while we write must not kill the server: libevent
     * writes with writev and OpenSSL with write, neither with MSG_NOSIGNAL. */
    signal(SIGPIPE, SIG_IGN);
    net->shared_listener = opts->has_listen_fd;
    net->balance = opts->has_listen_fd ? opts->balance : NULL;
    if (opts->has_listen_fd)
        net->listener = evconnlistener_new(base, on_accept, net,
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
                                           opts->listen_fd);
    else
        net->listener = evconnlistener_new_bind(
            base, on_accept, net, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
            NET_BACKLOG, (struct sockaddr *)&ss, (int)sslen);
    if (net->listener == NULL) {
        pki_err_set(err, PKI_ERR_IO, "cannot listen on %s: %s", opts->listen, strerror(errno));
        goto fail;
    }
    evconnlistener_set_error_cb(net->listener, on_accept_error);
    if (format_bound(net, err) < 0)
        goto fail;
    return net;
fail:
    srv_net_free(net);
    return NULL;
}

int srv_net_bind(const char *addr, int *fd, struct pki_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int one = 1, s;

    if (parse_listen(addr, &ss, &sslen, err) < 0)
        return err->code;
    s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pki_err_set(err, PKI_ERR_IO, "socket: %s", strerror(errno));
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s, (struct sockaddr *)&ss, sslen) != 0 || listen(s, NET_BACKLOG) != 0) {
        pki_err_set(err, PKI_ERR_IO, "cannot listen on %s: %s", addr, strerror(errno));
        close(s);
        return err->code;
    }
    *fd = s;
    return PKI_OK;
}

const char *srv_net_address(const struct srv_net *net)
{
    return net->addr;
}

void srv_net_free(struct srv_net *net)
{
    if (net == NULL)
        return;
    while (net->conns != NULL)
        conn_free(net->conns);
    if (net->listener != NULL)
        evconnlistener_free(net->listener);
    if (net->retry != NULL)
        event_free(net->retry);
    free(net);
}

void srv_resp_error(struct srv_resp *resp, int status, const char *msg)
{
    struct pki_err err = {0, ""};
    json_t *obj = json_pack("{s:s}", "error", msg != NULL ? msg : srv_http_reason(status));
    char *text;

    if (obj == NULL) /* msg was not UTF-8 */
        obj = json_pack("{s:s}", "error", srv_http_reason(status));
    text = obj != NULL ? json_dumps(obj, 0) : NULL;
    pki_buf_free(&resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    if (text != NULL && pki_buf_set(&resp->body, text, strlen(text), &err) < 0)
        pki_buf_free(&resp->body);
    free(text);
    json_decref(obj);
}
