/*
 * http.c - a bounded HTTP/1.1 request parser (RFC 9112 message syntax,
 * RFC 9110 semantics). Pure: it reads the caller's bytes, never allocates,
 * and keeps no state between calls, so the caller simply calls it again on
 * the longer buffer when more bytes arrive.
 *
 * Deliberately strict, because every leniency is a request-smuggling seam
 * between us and a proxy in front of us:
 *  - lines end in CRLF only; a bare LF is refused (400). RFC 9112 2.2 lets a
 *    recipient accept bare LF, but a proxy that does not would frame the
 *    message differently from us.
 *  - no obs-fold (RFC 9112 5.2: "a server that receives an obs-fold ... MUST
 *    either reject the message by sending a 400"), no whitespace between a
 *    field name and its colon (RFC 9112 5.1: "MUST reject ... with 400").
 *  - no empty lines before the request line (the SHOULD-ignore of RFC 9112
 *    2.2 is not taken: our client never sends them).
 *  - Content-Length only; Transfer-Encoding is refused (chunked 411, others
 *    501), and with Content-Length it is 400 (RFC 9112 6.1).
 * Methods we never serve are 501; a method not allowed on one path (405,
 * with Allow) is the router's answer, not the parser's.
 *
 * Lines are checked as soon as they are complete, so garbage (say a TLS
 * ClientHello on the plain port) is refused at once instead of waiting for
 * the deadline; errors are found in byte order, so the answer for a request
 * does not depend on how it was split into reads.
 */
#include "http.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define HTTP_LONGEST_METHOD 16

/* State of one srv_http_parse call. */
struct hp {
    const unsigned char *data;
    size_t win;                 /* bytes looked at for the header section */
    struct srv_http_req req;
    int nheaders;
    int have_cl;
    unsigned long long cl;
    int have_te, te_other;      /* te_other: a coding other than "chunked" */
    int hosts;
    int conn_close, conn_keep;
    int have_xtok, have_auth;
    char xtok[SRV_HTTP_TOKEN_MAX + 1];
    char btok[SRV_HTTP_TOKEN_MAX + 1];
    int *status;
    struct pki_err *err;
};

static int refuse(struct hp *p, int status, const char *msg)
{
    *p->status = status;
    return pki_err_set(p->err, PKI_ERR_INPUT, "%s", msg);
}

/* RFC 9110 5.6.2: tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 3986 pchar, with '%' (escapes are checked when decoding). */
static int is_pchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@%", c) != NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Is [s, s+n) equal to lit, ignoring ASCII case? */
static int ci_eq(const unsigned char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp((const char *)s, lit, n) == 0;
}

/* The line starting at pos: 1 and *cr at its CR when it is complete inside
 * the window, 0 when more bytes are needed, or a refusal for a bare LF. */
static int next_line(struct hp *p, size_t pos, size_t *cr)
{
    const unsigned char *lf = memchr(p->data + pos, '\n', p->win - pos);
    size_t i;

    if (lf == NULL)
        return 0;
    i = (size_t)(lf - p->data);
    if (i == pos || p->data[i - 1] != '\r')
        return refuse(p, 400, "bare LF line ending: lines must end in CRLF");
    *cr = i - 1;
    return 1;
}

static int parse_method(struct hp *p, const unsigned char *m, size_t n)
{
    static const struct {
        const char *name;
        enum srv_http_method method;
    } methods[] = {
        {"GET", SRV_HTTP_GET},   {"HEAD", SRV_HTTP_HEAD},     {"POST", SRV_HTTP_POST},
        {"PUT", SRV_HTTP_PUT},   {"DELETE", SRV_HTTP_DELETE},
    };
    size_t i;

    /* RFC 9110 9.1: the method token is case-sensitive. */
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strlen(methods[i].name) == n && memcmp(m, methods[i].name, n) == 0) {
            p->req.method = methods[i].method;
            return PKI_OK;
        }
    }
    return refuse(p, 501, "method not implemented (GET, HEAD, POST, PUT, DELETE)");
}

/* The method, scanned byte by byte up to the first SP or end: 1 when it is
 * complete and ours, 0 when the SP has not come yet, or a refusal. Used on
 * an incomplete request line too, so that garbage is refused at once. */
static int scan_method(struct hp *p, size_t end)
{
    size_t i;
    int rc;

    for (i = 0; i < end && p->data[i] != ' '; i++) {
        if (!is_tchar(p->data[i]))
            return refuse(p, 400, "malformed request line");
        if (i >= HTTP_LONGEST_METHOD)
            return refuse(p, 501, "method not implemented (GET, HEAD, POST, PUT, DELETE)");
    }
    if (i == end)
        return 0;
    if (i == 0)
        return refuse(p, 400, "malformed request line");
    rc = parse_method(p, p->data, i);
    return rc < 0 ? rc : 1;
}

/* More bytes needed: AGAIN, unless the window is full (431, RFC 6585 5). */
static int need_more(struct hp *p, size_t len, size_t pos)
{
    int rc;

    if (pos == 0 && (rc = scan_method(p, p->win)) < 0)
        return rc;
    if (len >= SRV_HTTP_HEADER_MAX)
        return refuse(p, 431, "request line and headers exceed 8192 bytes");
    return SRV_HTTP_AGAIN;
}

/* RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. */
static int parse_version(struct hp *p, const unsigned char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return refuse(p, 400, "malformed HTTP version in the request line");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return refuse(p, 505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 only)");
    p->req.minor = v[7] - '0';
    return PKI_OK;
}

/* Percent-decodes the path into req.path; no NUL and no control bytes may
 * come out, so a handler can use it as a C string and log it. */
static int decode_path(struct hp *p, const unsigned char *s, size_t n)
{
    size_t i, o = 0;
    int hi, lo;
    unsigned char c;

    for (i = 0; i < n; i++) {
        c = s[i];
        if (c == '%') {
            if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
                return refuse(p, 400, "invalid percent-escape in the path");
            c = (unsigned char)(hi * 16 + lo);
            if (c == '\0')
                return refuse(p, 400, "%00 in the path");
            if (c < 0x20 || c == 0x7f)
                return refuse(p, 400, "control character in the path");
            i += 2;
        }
        p->req.path[o++] = (char)c;
    }
    p->req.path[o] = '\0';
    return PKI_OK;
}

/* Dot segments are refused after decoding ("/%2e%2e/" too): a handler that
 * maps a path onto names must never be walked upwards (RFC 3986 5.2.4). */
static int check_segments(struct hp *p)
{
    const char *seg = p->req.path + 1, *slash;
    size_t n;

    for (;;) {
        slash = strchr(seg, '/');
        n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return refuse(p, 400, "\".\" or \"..\" segment in the path");
        if (slash == NULL)
            return PKI_OK;
        seg = slash + 1;
    }
}

/* RFC 9112 3.2.1: origin-form only (absolute-form is for proxies, asterisk
 * for OPTIONS, authority for CONNECT: none of them ours). */
static int parse_target(struct hp *p, const unsigned char *t, size_t n)
{
    const unsigned char *q = memchr(t, '?', n);
    size_t plen = q != NULL ? (size_t)(q - t) : n, qlen = q != NULL ? n - plen - 1 : 0, i;
    int rc;

    if (n == 0 || t[0] != '/')
        return refuse(p, 400, "request target must be a path (origin-form)");
    if (plen > SRV_HTTP_PATH_MAX || qlen > SRV_HTTP_PATH_MAX)
        return refuse(p, 414, "request path or query longer than 1024 bytes");
    for (i = 0; i < plen; i++)
        if (t[i] != '/' && !is_pchar(t[i]))
            return refuse(p, 400, "invalid character in the path");
    for (i = 0; i < qlen; i++)
        if (q[1 + i] != '/' && q[1 + i] != '?' && !is_pchar(q[1 + i]))
            return refuse(p, 400, "invalid character in the query");
    if ((rc = decode_path(p, t, plen)) < 0 || (rc = check_segments(p)) < 0)
        return rc;
    if (qlen > 0)
        memcpy(p->req.query, q + 1, qlen);
    p->req.query[qlen] = '\0';
    return PKI_OK;
}

/* RFC 9112 3: method SP request-target SP HTTP-version, single spaces. */
static int parse_request_line(struct hp *p, size_t cr)
{
    const unsigned char *l = p->data, *sp1, *sp2;
    int rc;

    if ((rc = scan_method(p, cr)) < 0)
        return rc;
    if (rc == 0)
        return refuse(p, 400, "malformed request line");
    sp1 = memchr(l, ' ', cr);
    sp2 = memchr(sp1 + 1, ' ', cr - (size_t)(sp1 + 1 - l));
    if (sp2 == NULL)
        return refuse(p, 400, "malformed request line");
    if ((rc = parse_version(p, sp2 + 1, cr - (size_t)(sp2 + 1 - l))) < 0)
        return rc;
    return parse_target(p, sp1 + 1, (size_t)(sp2 - sp1 - 1));
}

static int on_content_length(struct hp *p, const unsigned char *v, size_t n)
{
    unsigned long long x = 0;
    size_t i;

    if (n == 0)
        return refuse(p, 400, "empty Content-Length");
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return refuse(p, 400, "Content-Length is not a decimal number");
        if (x < 1000000000000000000ULL) /* saturates: anything this big is 413 */
            x = x * 10 + (unsigned)(v[i] - '0');
    }
    /* RFC 9112 6.3: differing Content-Length values make the framing unknown. */
    if (p->have_cl && x != p->cl)
        return refuse(p, 400, "conflicting Content-Length headers");
    p->have_cl = 1;
    p->cl = x;
    return PKI_OK;
}

/* Calls fn on each trimmed, non-empty element of a comma list (RFC 9110 5.6.1). */
static void each_element(struct hp *p, const unsigned char *v, size_t n,
                         void (*fn)(struct hp *, const unsigned char *, size_t))
{
    size_t i = 0, s, e;

    while (i < n) {
        for (s = i; s < n && (v[s] == ' ' || v[s] == '\t'); s++)
            ;
        for (e = s; e < n && v[e] != ','; e++)
            ;
        i = e + 1;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s)
            fn(p, v + s, e - s);
    }
}

static void te_element(struct hp *p, const unsigned char *v, size_t n)
{
    if (!ci_eq(v, n, "chunked"))
        p->te_other = 1;
}

static void conn_element(struct hp *p, const unsigned char *v, size_t n)
{
    if (ci_eq(v, n, "close"))
        p->conn_close = 1;
    else if (ci_eq(v, n, "keep-alive"))
        p->conn_keep = 1;
}

/* RFC 9110 7.2: Host = uri-host [ ":" port ]; reg-name, IPv4 or [IPv6]. */
static int on_host(struct hp *p, const unsigned char *v, size_t n)
{
    size_t i;

    if (++p->hosts > 1)
        return refuse(p, 400, "more than one Host header");
    for (i = 0; i < n; i++)
        if (v[i] == '%' || v[i] == '@' || (!is_pchar(v[i]) && v[i] != '[' && v[i] != ']'))
            return refuse(p, 400, "invalid Host header");
    return PKI_OK;
}

/* A token is printable ASCII without spaces; "" stays "no token". */
static int copy_token(struct hp *p, const unsigned char *v, size_t n, char *out)
{
    size_t i;

    if (n > SRV_HTTP_TOKEN_MAX)
        return refuse(p, 400, "token longer than 128 bytes");
    for (i = 0; i < n; i++)
        if (v[i] <= 0x20 || v[i] >= 0x7f)
            return refuse(p, 400, "token holds a space or a non-ASCII byte");
    memcpy(out, v, n);
    out[n] = '\0';
    return PKI_OK;
}

static int on_x_token(struct hp *p, const unsigned char *v, size_t n)
{
    if (p->have_xtok++)
        return refuse(p, 400, "more than one X-Consul-Token header");
    return copy_token(p, v, n, p->xtok);
}

/* RFC 6750 2.1: "Bearer" 1*SP b64token; the scheme is case-insensitive
 * (RFC 9110 11.1). Other schemes are not ours and are ignored. */
static int on_authorization(struct hp *p, const unsigned char *v, size_t n)
{
    size_t i = 6;

    if (p->have_auth++)
        return refuse(p, 400, "more than one Authorization header");
    if (n < 6 || strncasecmp((const char *)v, "bearer", 6) != 0 || (n > 6 && v[6] != ' '))
        return PKI_OK;
    while (i < n && v[i] == ' ')
        i++;
    if (i == n)
        return refuse(p, 400, "empty bearer token");
    return copy_token(p, v + i, n - i, p->btok);
}

static int on_field(struct hp *p, const unsigned char *name, size_t nlen,
                    const unsigned char *v, size_t n)
{
    if (ci_eq(name, nlen, "content-length"))
        return on_content_length(p, v, n);
    if (ci_eq(name, nlen, "transfer-encoding")) {
        p->have_te = 1;
        each_element(p, v, n, te_element);
        if (n == 0)
            p->te_other = 1;
    } else if (ci_eq(name, nlen, "connection")) {
        each_element(p, v, n, conn_element);
    } else if (ci_eq(name, nlen, "host")) {
        return on_host(p, v, n);
    } else if (ci_eq(name, nlen, "x-consul-token")) {
        return on_x_token(p, v, n);
    } else if (ci_eq(name, nlen, "authorization")) {
        return on_authorization(p, v, n);
    }
    return PKI_OK;
}

/* RFC 9112 5: field-name ":" OWS field-value OWS. */
static int parse_header(struct hp *p, size_t pos, size_t cr)
{
    const unsigned char *l = p->data + pos, *colon, *v;
    size_t n = cr - pos, nlen, i, vlen;

    if (l[0] == ' ' || l[0] == '\t')
        return refuse(p, 400, "obsolete line folding in a header");
    if (++p->nheaders > SRV_HTTP_HEADERS_MAX)
        return refuse(p, 431, "more than 64 header fields");
    colon = memchr(l, ':', n);
    if (colon == NULL || colon == l)
        return refuse(p, 400, "malformed header line");
    nlen = (size_t)(colon - l);
    for (i = 0; i < nlen; i++)
        if (!is_tchar(l[i]))
            return refuse(p, 400, "invalid header name (whitespace before ':'?)");
    /* RFC 9110 5.5: CR, LF and NUL in a value are refused, as are other CTLs. */
    for (i = nlen + 1; i < n; i++)
        if (l[i] != '\t' && (l[i] < 0x20 || l[i] == 0x7f))
            return refuse(p, 400, "control character in a header value");
    v = colon + 1;
    vlen = n - nlen - 1;
    while (vlen > 0 && (v[0] == ' ' || v[0] == '\t'))
        v++, vlen--;
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    return on_field(p, l, nlen, v, vlen);
}

/* The checks that need every header: framing, Host, token, keep-alive. */
static int finish_headers(struct hp *p)
{
    struct srv_http_req *r = &p->req;

    /* RFC 9112 3.2: "MUST respond with a 400 ... to any HTTP/1.1 request
     * message that lacks a Host header field". */
    if (r->minor == 1 && p->hosts == 0)
        return refuse(p, 400, "Host header required in HTTP/1.1");
    if (p->have_te && p->have_cl)
        return refuse(p, 400, "both Transfer-Encoding and Content-Length");
    if (p->have_te && r->minor == 0) /* RFC 9112 6.1: faulty framing */
        return refuse(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (p->have_te)
        return p->te_other ? refuse(p, 501, "transfer coding not implemented")
                           : refuse(p, 411, "chunked bodies are not accepted: send Content-Length");
    if (p->cl > SRV_HTTP_BODY_MAX)
        return refuse(p, 413, "request body larger than 65536 bytes");
    if (p->xtok[0] != '\0' && p->btok[0] != '\0')
        r->token_conflict = CRYPTO_memcmp(p->xtok, p->btok, SRV_HTTP_TOKEN_MAX + 1) != 0;
    memcpy(r->token, p->xtok[0] != '\0' ? p->xtok : p->btok, SRV_HTTP_TOKEN_MAX + 1);
    /* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
    r->keep_alive = !p->conn_close && (r->minor == 1 || p->conn_keep);
    return PKI_OK;
}

int srv_http_parse(const unsigned char *data, size_t len, struct srv_http_req *req,
                   size_t *consumed, int *status, struct pki_err *err)
{
    struct hp p;
    size_t pos = 0, cr = 0;
    int rc;

    if (len == 0)
        return SRV_HTTP_AGAIN;
    memset(&p, 0, sizeof(p));
    p.data = data;
    p.win = len < SRV_HTTP_HEADER_MAX ? len : SRV_HTTP_HEADER_MAX;
    p.status = status;
    p.err = err;
    for (;;) {
        if ((rc = next_line(&p, pos, &cr)) < 0)
            return rc;
        if (rc == 0)
            return need_more(&p, len, pos);
        if (pos == 0)
            rc = parse_request_line(&p, cr);
        else if (cr == pos)
            break;
        else
            rc = parse_header(&p, pos, cr);
        if (rc < 0)
            return rc;
        pos = cr + 2;
    }
    pos = cr + 2;
    if ((rc = finish_headers(&p)) < 0)
        return rc;
    if (len - pos < p.cl)
        return SRV_HTTP_AGAIN;
    p.req.body = p.cl > 0 ? data + pos : NULL;
    p.req.body_len = (size_t)p.cl;
    *req = p.req;
    *consumed = pos + (size_t)p.cl;
    return SRV_HTTP_DONE;
}

/* Decodes a query component (application/x-www-form-urlencoded: '+' is a
 * space) into out; -1 on a bad escape, %00, or when out is too small. */
static int decode_component(const char *s, size_t n, char *out, size_t outlen)
{
    size_t i, o = 0;
    int hi, lo;
    char c;

    for (i = 0; i < n; i++) {
        c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
                (lo = hexval((unsigned char)s[i + 2])) < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    if (o >= outlen)
        return -1;
    out[o] = '\0';
    return 0;
}

/* The first pair whose key matches wins (later duplicates are ignored). */
int srv_http_query_get(const char *query, const char *key, char *out, size_t len)
{
    char k[SRV_HTTP_PATH_MAX + 1];
    const char *p = query, *amp, *eq;
    size_t plen;

    if (query == NULL || key == NULL || out == NULL || len == 0)
        return -1;
    while (*p != '\0') {
        amp = strchr(p, '&');
        plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
        eq = memchr(p, '=', plen);
        if (plen > 0) {
            if (decode_component(p, eq != NULL ? (size_t)(eq - p) : plen, k, sizeof(k)) < 0)
                return -1;
            if (strcmp(k, key) == 0) {
                if (eq == NULL)
                    return decode_component("", 0, out, len) < 0 ? -1 : 1;
                return decode_component(eq + 1, plen - (size_t)(eq + 1 - p), out, len) < 0
                           ? -1 : 1;
            }
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    return 0;
}

const char *srv_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
