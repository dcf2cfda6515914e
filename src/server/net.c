/*
 * net.c - the HTTP(S) server loop: an evconnlistener accepts; each
 * connection has its own input buffer, output queue and two events on the
 * socket (readable, writable), and does its own non-blocking I/O, with
 * OpenSSL's SSL_read/SSL_write on the socket for TLS. srv_http_parse reads
 * the input in place; one handler call per request; answers go out in order.
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
 * Why not libevent's bufferevents: with bufferevent_openssl every request
 * cost a second read() (it reads until EAGAIN), a copy through an evbuffer
 * each way, and OpenSSL's read-ahead could not be used (bytes left in
 * OpenSSL's buffer got no read event and the connection stalled). Here a
 * request is one read() with read-ahead, parsed where it lands, and an
 * answer is one write(); bytes OpenSSL holds are read before the loop
 * sleeps (SSL_has_pending).
 *
 * Single-threaded on the caller's event_base. Only the event callbacks
 * (readable, writable, timer) and srv_net_finish free a connection, as
 * their last act; what they call never does.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net_int.h"

#define NET_READ_MAX (SRV_HTTP_HEADER_MAX + SRV_HTTP_BODY_MAX)
#define NET_READ_FIRST 4096   /* the input buffer starts at this and doubles up to NET_READ_MAX */
#define NET_BACKPRESSURE (256 * 1024)
#define NET_LINGER_MS 2000
#define NET_ACCEPT_RETRY_MS 100
#define NET_BALANCE_MS 5      /* a declining worker re-checks the balance this often */
#define NET_BALANCE_MAX_MS 50 /* and accepts anyway once a connection waited this long */

/* CONN_WAITING: the handler deferred its answer (srv_net_finish sends it);
 * nothing is served meanwhile, and the connection is not freed under it. */
enum conn_state { CONN_IDLE, CONN_READING, CONN_WAITING, CONN_CLOSING, CONN_LINGER };

/* How the input ended: the peer closed (a TLS close_notify, or a TCP FIN
 * with or without one), or the connection failed (reset, TLS error). */
enum { END_NONE, END_EOF, END_ERROR };

struct srv_conn {
    struct srv_net *net;
    int fd;
    SSL *ssl;                 /* NULL: plain HTTP */
    struct event *rev, *wev;  /* readable, writable (persistent; added while wanted) */
    struct event *timer;
    int reading, writing;     /* rev, wev are added */
    enum conn_state state;
    int deadline_armed; /* the request deadline runs (for the first one: since accept) */
    int paused;         /* reading stopped until our output is flushed */
    int peer_eof;       /* the peer will send nothing more */
    int gone;           /* an error while CONN_WAITING: freed by srv_net_finish */
    int read_wants_write; /* SSL_read must write first (a handshake flight, a key update) */
    int head, keep_alive; /* of the request whose answer is deferred */
    unsigned char *in;  /* received, not yet served: in[0, in_len) of in_cap */
    size_t in_len, in_cap;
    struct pki_buf out; /* queued answers; out.data[out_off, out.len) not yet written */
    size_t out_off;
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

/* Wipes and frees a buffer: input can hold a private key (a PUT of the CA
 * configuration), output does (a leaf answer). */
static void wipe_free(unsigned char *p, size_t len)
{
    if (p != NULL)
        OPENSSL_cleanse(p, len);
    free(p);
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
    event_free(c->rev);
    event_free(c->wev);
    SSL_free(c->ssl); /* its socket BIO does not close the socket */
    close(c->fd);
    wipe_free(c->in, c->in_cap);
    pki_buf_free(&c->out);
    free(c);
}

static size_t out_pending(const struct srv_conn *c)
{
    return c->out.len - c->out_off;
}

static void set_event(struct event *ev, int *on, int want)
{
    if (want == *on)
        return;
    if (want)
        event_add(ev, NULL);
    else
        event_del(ev);
    *on = want;
}

/* Watches the socket for what the state needs: input unless paused,
 * finished or full; writability while output is queued, a TLS read waits to
 * write, or a closing connection waits to be flushed. */
static void update_events(struct srv_conn *c)
{
    int rd, was = c->reading;

    switch (c->state) {
    case CONN_IDLE:
    case CONN_READING:
        rd = !c->paused && c->in_len < NET_READ_MAX;
        break;
    case CONN_WAITING:
        rd = !c->peer_eof && !c->gone && c->in_len < NET_READ_MAX;
        break;
    default:
        rd = !c->peer_eof;
        break;
    }
    set_event(c->rev, &c->reading, rd);
    set_event(c->wev, &c->writing,
              !c->gone && (out_pending(c) > 0 || c->read_wants_write || c->state == CONN_CLOSING));
    /* Bytes OpenSSL read ahead get no event from the socket. */
    if (rd && !was && c->ssl != NULL && SSL_has_pending(c->ssl))
        event_active(c->rev, EV_READ, 1);
}

/* Room at the end of the input, growing it (never past NET_READ_MAX) by a
 * new allocation, so no unwiped copy is left behind. 0 when full. */
static size_t in_room(struct srv_conn *c)
{
    size_t cap;
    unsigned char *p;

    if (c->in_len < c->in_cap)
        return c->in_cap - c->in_len;
    if (c->in_cap >= NET_READ_MAX)
        return 0;
    cap = c->in_cap == 0 ? NET_READ_FIRST : 2 * c->in_cap;
    if (cap > NET_READ_MAX)
        cap = NET_READ_MAX;
    if ((p = malloc(cap)) == NULL)
        return 0;
    if (c->in_len > 0)
        memcpy(p, c->in, c->in_len);
    wipe_free(c->in, c->in_cap);
    c->in = p;
    c->in_cap = cap;
    return cap - c->in_len;
}

/* Drops the first n bytes of the input, wiping them and the tail the move
 * leaves behind. */
static void in_consume(struct srv_conn *c, size_t n)
{
    OPENSSL_cleanse(c->in, n);
    if (n < c->in_len)
        memmove(c->in, c->in + n, c->in_len - n);
    OPENSSL_cleanse(c->in + (c->in_len - n), n);
    c->in_len -= n;
}

/* Reads what the socket has (one read() in the usual case), and under TLS
 * everything OpenSSL then holds, while there is room; *end says if the
 * input ended. */
static void conn_recv(struct srv_conn *c, int *end)
{
    size_t room, n;
    ssize_t r;

    *end = END_NONE;
    while ((room = in_room(c)) > 0) {
        if (c->ssl != NULL) {
            ERR_clear_error();
            if (SSL_read_ex(c->ssl, c->in + c->in_len, room, &n) == 1) {
                c->in_len += n;
                if (!SSL_has_pending(c->ssl))
                    break;
                continue;
            }
            switch (SSL_get_error(c->ssl, 0)) {
            case SSL_ERROR_WANT_READ:
                break;
            case SSL_ERROR_WANT_WRITE:
                c->read_wants_write = 1;
                break;
            case SSL_ERROR_ZERO_RETURN: /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
                *end = END_EOF;
                break;
            default:
                *end = END_ERROR;
                break;
            }
            ERR_clear_error();
            break;
        }
        r = recv(c->fd, c->in + c->in_len, room, 0);
        if (r > 0) {
            c->in_len += (size_t)r;
            if ((size_t)r < room)
                break; /* drained: the event loop says when more comes */
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            *end = END_EOF;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            *end = END_ERROR;
        break;
    }
}

/* Writes the queued output. Returns 1 when all of it is written (the queue
 * is freed), 0 if the socket is full, -1 on an error. */
static int conn_flush(struct srv_conn *c)
{
    size_t n;
    ssize_t r;

    while (out_pending(c) > 0) {
        if (c->ssl != NULL) {
            /* Partial writes are on: a call returns after a record; one
             * that blocks is retried at the same offset, as OpenSSL needs
             * (the queue may have moved meanwhile: ACCEPT_MOVING). */
            ERR_clear_error();
            if (SSL_write_ex(c->ssl, c->out.data + c->out_off, out_pending(c), &n) == 1) {
                c->out_off += n;
                continue;
            }
            r = SSL_get_error(c->ssl, 0);
            ERR_clear_error();
            /* Renegotiation is off (tls_load): a write never needs a read. */
            return r == SSL_ERROR_WANT_WRITE ? 0 : -1;
        }
        r = send(c->fd, c->out.data + c->out_off, out_pending(c), MSG_NOSIGNAL);
        if (r >= 0)
            c->out_off += (size_t)r;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        else if (errno != EINTR)
            return -1;
    }
    pki_buf_free(&c->out);
    c->out_off = 0;
    return 1;
}

/* Queues all (taken) behind what is still unwritten. */
static int out_queue(struct srv_conn *c, struct pki_buf *all)
{
    struct pki_err err = {0, ""};
    struct pki_buf joined = {NULL, 0};
    int rc = 0;

    if (out_pending(c) == 0) {
        pki_buf_free(&c->out);
        c->out = *all;
        c->out_off = 0;
        all->data = NULL;
        all->len = 0;
        return 0;
    }
    if (pki_buf_set(&joined, c->out.data + c->out_off, out_pending(c), &err) != PKI_OK ||
        pki_buf_append(&joined, all->data, all->len, &err) != PKI_OK)
        rc = -1;
    pki_buf_free(all);
    if (rc < 0) {
        pki_buf_free(&joined);
        return rc;
    }
    pki_buf_free(&c->out);
    c->out = joined;
    c->out_off = 0;
    return 0;
}
/* Queues one answer, header block and body as one buffer (under TLS one
 * record, one write), and writes what the socket takes now; frees
 * resp->body. Returns -1 if it could not be queued whole or the write
 * failed (the caller closes the connection). */
static int send_response(struct srv_conn *c, int head, int keep_alive, struct srv_resp *resp)
{
    struct pki_err err = {0, ""};
    struct pki_buf all = {NULL, 0};
    char hdr[1024];
    int rc = -1, n;

    if (resp->status < 200 || resp->status > 599) {
        pki_buf_free(&resp->body);
        resp->status = 500;
    }
    n = srv__net_format_head(hdr, sizeof(hdr), resp->status, keep_alive, resp);
    if (head || resp->status == 204)
        pki_buf_free(&resp->body);
    if (n >= 0 && pki_buf_set(&all, hdr, (size_t)n, &err) == PKI_OK &&
        pki_buf_append(&all, resp->body.data, resp->body.len, &err) == PKI_OK &&
        out_queue(c, &all) == 0)
        rc = conn_flush(c) < 0 ? -1 : 0;
    pki_buf_free(&all);
    pki_buf_free(&resp->body);
    return rc;
}

/* The last answer is queued: keep reading (and discarding) so unread input
 * does not turn our close into an RST, and bound the flush. The writable
 * event says when it is flushed (at once if it already is). */
static void close_after_flush(struct srv_conn *c)
{
    c->state = CONN_CLOSING;
    c->paused = 0;
    arm(c->timer, c->net->request_ms);
    update_events(c);
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
    int ms = c->net->request_ms < NET_LINGER_MS ? c->net->request_ms : NET_LINGER_MS;

    if (c->ssl != NULL) {
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl); /* one try: a full socket only loses the close_notify */
        ERR_clear_error();
    }
    (void)shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    arm(c->timer, ms);
    update_events(c);
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
    if (out_pending(c) <= NET_BACKPRESSURE)
        return 1;
    /* A pipelining client that does not read: stop reading until it does. */
    c->paused = 1;
    return 0;
}

/* Parses and answers the request at the head of the input. Returns 1 if the
 * connection can go on to the next one, 0 otherwise (more bytes needed,
 * closing, deferred or paused). */
static int serve_one(struct srv_conn *c)
{
    struct srv_http_req req;
    struct srv_resp resp;
    struct pki_err err = {0, ""};
    size_t consumed = 0;
    int status = 0, rc = 0;

    rc = srv_http_parse(c->in, c->in_len, &req, &consumed, &status, &err);
    if (rc == SRV_HTTP_AGAIN)
        return 0;
    if (rc < 0) {
        answer_error(c, status, err.msg);
        return 0;
    }
    /* The peer half-closed while an earlier answer was deferred: this is
     * its last request if nothing follows it. */
    if (c->peer_eof && consumed == c->in_len)
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
    in_consume(c, consumed); /* wiped: a PUT of the CA configuration can carry a private key */
    if (resp.deferred) {
        /* Reading goes on (a close is noticed; what a pipelining client
         * sends waits in the input, up to NET_READ_MAX). */
        c->state = CONN_WAITING;
        evtimer_del(c->timer);
        return 0;
    }
    return answered(c, rc, req.keep_alive);
}

static void serve(struct srv_conn *c)
{
    while ((c->state == CONN_IDLE || c->state == CONN_READING) && !c->paused && c->in_len > 0) {
        if (c->state == CONN_IDLE) {
            c->state = CONN_READING;
            if (!c->deadline_armed)
                arm(c->timer, c->net->request_ms);
            c->deadline_armed = 1;
        }
        if (!serve_one(c))
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
    more = c->in_len > 0;
    keep_alive = c->keep_alive && (!c->peer_eof || more);
    rc = send_response(c, c->head, keep_alive, resp);
    /* Requests that came in meanwhile (pipelined) are served from the loop,
     * not from inside the caller's stack: an activation without EV_READ
     * serves without reading. */
    if (answered(c, rc, keep_alive) && more)
        event_active(c->rev, EV_TIMEOUT, 1);
    update_events(c);
}

/* The input ended. A request cut short is dropped without calling the
 * handler; answers already queued to a peer that only half-closed still go
 * out. */
static void on_end(struct srv_conn *c, int end)
{
    if (c->state == CONN_WAITING) { /* its handler holds it: srv_net_finish goes on */
        if (end == END_EOF)
            c->peer_eof = 1; /* a half-close: what was asked is answered, then we close */
        else
            c->gone = 1;
        update_events(c);
        return;
    }
    if (end == END_EOF && c->state != CONN_LINGER &&
        (out_pending(c) > 0 || c->state == CONN_CLOSING)) {
        c->peer_eof = 1;
        if (c->state != CONN_CLOSING)
            close_after_flush(c);
        else
            update_events(c);
        return;
    }
    conn_free(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct srv_conn *c = arg;
    int end = END_NONE;

    (void)fd;
    if (what & EV_READ)
        conn_recv(c, &end);
    if (c->state == CONN_CLOSING || c->state == CONN_LINGER)
        in_consume(c, c->in_len); /* discarded */
    else if (c->state != CONN_WAITING) /* the input waits for the answer */
        serve(c);
    if (end != END_NONE)
        on_end(c, end); /* may free c */
    else
        update_events(c);
}

/* The socket takes output again: write the queue; once it is empty, close
 * (CLOSING) or read again (paused). */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct srv_conn *c = arg;
    int rc;

    (void)fd;
    (void)what;
    if (c->read_wants_write) { /* a TLS read that had to write first goes on */
        c->read_wants_write = 0;
        event_active(c->rev, EV_READ, 1);
    }
    rc = conn_flush(c);
    if (rc < 0 && c->state == CONN_WAITING) {
        c->gone = 1;
        update_events(c);
        return;
    }
    if (rc < 0) {
        conn_free(c);
        return;
    }
    if (rc > 0 && c->state == CONN_CLOSING) {
        if (c->peer_eof)
            conn_free(c);
        else
            linger(c);
        return;
    }
    if (rc > 0 && c->paused) {
        c->paused = 0;
        serve(c);
    }
    update_events(c);
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

/* The TLS session of a new connection, server side, on its socket. */
static SSL *new_ssl(struct srv_net *net, int fd)
{
    SSL *ssl;

    if (net->before_tls != NULL)
        net->before_tls(net->arg);
    if ((ssl = SSL_new(net->tls)) == NULL)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    /* A request in one read(): OpenSSL reads what the socket has, not a
     * record header first and then its body. */
    SSL_set_read_ahead(ssl, 1);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* A peer that closes without close_notify is an EOF, not an error. */
    SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ssl;
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
    c->fd = fd;
    /* Answers go out at once: without this a TLS record split over two
     * segments waits for the client's delayed ACK (Nagle, RFC 896), ~40 ms. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if ((net->tls != NULL && (c->ssl = new_ssl(net, fd)) == NULL) ||
        (c->rev = event_new(net->base, fd, EV_READ | EV_PERSIST, on_readable, c)) == NULL ||
        (c->wev = event_new(net->base, fd, EV_WRITE | EV_PERSIST, on_writable, c)) == NULL ||
        (c->timer = evtimer_new(net->base, on_timer, c)) == NULL) {
        if (c->rev != NULL)
            event_free(c->rev);
        if (c->wev != NULL)
            event_free(c->wev);
        SSL_free(c->ssl);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = net->conns;
    if (net->conns != NULL)
        net->conns->prev = c;
    net->conns = c;
    net->nconns++;
    c->state = CONN_IDLE;
    c->deadline_armed = 1;
    arm(c->timer, net->request_ms);
    update_events(c);
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
    if (!opts->has_listen_fd && srv__net_parse_listen(opts->listen, &ss, &sslen, err) < 0)
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
            SRV_NET_BACKLOG, (struct sockaddr *)&ss, (int)sslen);
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
