/*
 * net.h - the HTTP(S) server loop on libevent: accepts connections, reads
 * requests with srv_http_parse, calls one handler per request, writes its
 * response (keep-alive, pipelining in order), and enforces the limits of
 * docs/server.md: whole-request deadline (408 then close), idle keep-alive
 * timeout, connection cap. A client that disconnects mid-request is freed
 * without calling the handler.
 */
#ifndef SRV_NET_H
#define SRV_NET_H

#include <stddef.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "err.h"
#include "http.h"

struct srv_conn;

struct srv_resp {
    int status;
    const char *content_type;  /* static string; "application/json" if NULL */
    struct pki_buf body;       /* owned by the response; net frees it */
    char headers[256];         /* extra header lines, each ending "\r\n" (e.g. Retry-After) */
    struct srv_conn *conn;     /* set by net for the handler */
    int deferred;              /* set by the handler: the answer comes later, through
                                * srv_net_finish(conn, ...); nothing else is read from
                                * the connection until then */
};

/* Fills resp for one complete request. Runs on the loop thread; may block
 * briefly (signer calls). Must set resp->status. */
typedef void (*srv_handler_fn)(void *arg, const struct srv_http_req *req,
                               struct srv_resp *resp);

struct srv_net_opts {
    const char *listen;          /* "127.0.0.1:8555", "[::1]:8555"; port 0 picks one */
    SSL_CTX *tls;                /* NULL: plain HTTP (--insecure-http) */
    int request_timeout_ms;      /* first byte of a request to its last; default 10000 */
    int idle_timeout_ms;         /* between keep-alive requests; default 60000 */
    size_t max_conns;            /* default 1024 */
    int listen_fd;               /* with has_listen_fd: an already listening socket
                                  * (from srv_net_bind; worker processes share it),
                                  * used instead of binding `listen` */
    int has_listen_fd;
    int (*balance)(void *arg, size_t nconns); /* with a shared listen_fd: told this
                                  * process's connection count at each change, returns 1
                                  * if it should accept more now (no other process has
                                  * fewer); a declined connection is taken anyway after
                                  * NET_BALANCE_MAX_MS in the backlog */
    void (*before_tls)(void *arg); /* called with the handler's arg before each
                                  * accepted connection gets its TLS session:
                                  * where a renewed certificate is picked up */
};

/* Binds and listens on addr ("127.0.0.1:8555", port 0 picks one) and returns
 * the socket (close-on-exec, nonblocking) for several srv_net_new in
 * worker processes. */
PKI_MUST_CHECK int srv_net_bind(const char *addr, int *fd, struct pki_err *err);

struct srv_net;

/* Binds and listens (SO_REUSEADDR); does not run the loop. */
PKI_MUST_CHECK struct srv_net *srv_net_new(struct event_base *base,
                                           const struct srv_net_opts *opts,
                                           srv_handler_fn handler, void *arg,
                                           struct pki_err *err);

/* The address a socket is bound to, as srv_net_address writes it. */
PKI_MUST_CHECK int srv_net_fd_address(int fd, char *out, size_t len, struct pki_err *err);

/* The bound address as "127.0.0.1:PORT" (or "[::1]:PORT"). */
const char *srv_net_address(const struct srv_net *net);

/* Sends the deferred answer of conn (resp as a handler fills it; its body
 * is taken) and goes on with the connection: the next request, or the
 * close. A connection that failed meanwhile is freed here. Call it once per
 * deferral, from the loop's thread, never after srv_net_free. */
void srv_net_finish(struct srv_conn *conn, struct srv_resp *resp);

/* Stops accepting, closes every connection (deferred ones too: finish
 * them first, or forget them) and frees. */
void srv_net_free(struct srv_net *net);

/* Sets resp to a JSON error {"error": msg} with status. */
void srv_resp_error(struct srv_resp *resp, int status, const char *msg);

#endif
