/*
 * http.h - a bounded HTTP/1.1 request parser (pure: no I/O, no allocation).
 *
 * srv_http_parse looks at the bytes received so far on a connection and
 * either says it needs more, or fills a request whose pointers point into
 * those bytes, or refuses with the status to answer. Limits (docs/server.md):
 * request line + headers 8 KiB and 64 headers (431), body 64 KiB (413),
 * Content-Length only (Transfer-Encoding: 411 if chunked, 501 otherwise).
 */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stddef.h>

#include "err.h"

#define SRV_HTTP_HEADER_MAX 8192
#define SRV_HTTP_HEADERS_MAX 64
#define SRV_HTTP_BODY_MAX (64 * 1024)
#define SRV_HTTP_PATH_MAX 1024
#define SRV_HTTP_TOKEN_MAX 128

enum srv_http_method {
    SRV_HTTP_GET, SRV_HTTP_HEAD, SRV_HTTP_POST, SRV_HTTP_PUT, SRV_HTTP_DELETE,
};

struct srv_http_req {
    enum srv_http_method method;
    int minor;                        /* HTTP/1.<minor>: 0 or 1 */
    int keep_alive;                   /* 1.1 unless "Connection: close"; 1.0 only with keep-alive */
    char path[SRV_HTTP_PATH_MAX + 1]; /* percent-decoded; no NUL, no "..", starts with '/' */
    char query[SRV_HTTP_PATH_MAX + 1];/* raw, without '?'; "" if none */
    char token[SRV_HTTP_TOKEN_MAX + 1]; /* X-Consul-Token, or Authorization: Bearer; "" if none */
    int token_conflict;               /* both headers given with different values */
    const unsigned char *body;        /* into the caller's bytes; NULL if no body */
    size_t body_len;
};

enum {
    SRV_HTTP_DONE = 0,      /* *req is filled, *consumed bytes make the request */
    SRV_HTTP_AGAIN = 1,     /* need more bytes (none were refused yet) */
};

/* Parses one request from data[0..len). Returns SRV_HTTP_DONE, SRV_HTTP_AGAIN,
 * or PKI_ERR_INPUT with *status set (400, 405?, 411, 413, 414, 431, 501, 505)
 * and err saying why. req and *consumed are set only on SRV_HTTP_DONE. */
PKI_MUST_CHECK int srv_http_parse(const unsigned char *data, size_t len,
                                  struct srv_http_req *req, size_t *consumed, int *status,
                                  struct pki_err *err);

/* Finds key in a query string ("a=1&pem=true") and copies its decoded value
 * into out. Returns 1 if found, 0 if not, -1 if malformed or too long. */
int srv_http_query_get(const char *query, const char *key, char *out, size_t len);

/* "OK", "Not Found", ... for a status code ("Unknown" if not known). */
const char *srv_http_reason(int status);

#endif
