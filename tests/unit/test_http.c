/* test_http.c - the HTTP/1.1 request parser: framing, limits, refusals with
 * their exact status, percent-decoding, tokens, keep-alive, query strings.
 *
 * Every parse is run on an exact-size heap copy, so ASan sees any read past
 * the bytes the parser was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http.h"
#include "unit_util.h"

#define H "Host: pki.example\r\n"

struct res {
    int rc, status;
    size_t consumed;
    struct srv_http_req req;
    struct pki_err err;
};

/* Parses the first n bytes of s from an exact-size copy. */
static struct res parse_n(const char *s, size_t n)
{
    struct res r;
    unsigned char *copy = malloc(n > 0 ? n : 1);

    assert_non_null(copy);
    memset(&r, 0, sizeof(r));
    r.status = -1;
    r.consumed = (size_t)-1;
    memcpy(copy, s, n);
    r.rc = srv_http_parse(copy, n, &r.req, &r.consumed, &r.status, &r.err);
    if (r.req.body != NULL) { /* point into s, not into the copy we free */
        assert_true(r.req.body >= copy && r.req.body + r.req.body_len <= copy + n);
        r.req.body = (const unsigned char *)s + (r.req.body - copy);
    }
    free(copy);
    return r;
}

static struct res parse_s(const char *s)
{
    return parse_n(s, strlen(s));
}

/* A good request: DONE with everything consumed. */
static struct srv_http_req ok_req(const char *s)
{
    struct res r = parse_s(s);

    if (r.rc != SRV_HTTP_DONE)
        fail_msg("\"%s\": rc %d status %d (%s)", s, r.rc, r.status, r.err.msg);
    assert_int_equal(r.consumed, strlen(s));
    return r.req;
}

struct bad_case {
    const char *raw;
    int status;
    const char *word;
};

/* Each refusal with its status and the key word of its message; every
 * prefix of the request is AGAIN or the same refusal (errors are found in
 * byte order, whatever the reads were). */
static void refusals(void **state)
{
    static const struct bad_case cases[] = {
        /* line endings: CRLF only (smuggling defence) */
        {"GET / HTTP/1.1\n" H "\r\n", 400, "bare LF"},
        {"GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF"},
        {"GET / HTTP/1.1\r\n" H "\n", 400, "bare LF"},
        {"\r\nGET / HTTP/1.1\r\n" H "\r\n", 400, "malformed request line"},
        /* request line */
        {"FOO / HTTP/1.1\r\n" H "\r\n", 501, "not implemented"},
        {"PATCH / HTTP/1.1\r\n" H "\r\n", 501, "not implemented"},
        {"OPTIONS * HTTP/1.1\r\n" H "\r\n", 501, "not implemented"},
        {"get / HTTP/1.1\r\n" H "\r\n", 501, "not implemented"},
        {"GETGETGETGETGETGETGET / HTTP/1.1\r\n" H "\r\n", 501, "not implemented"},
        {"G(T / HTTP/1.1\r\n" H "\r\n", 400, "malformed request line"},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "malformed request line"},
        {" / HTTP/1.1\r\n" H "\r\n", 400, "malformed request line"},
        {"GET\r\n" H "\r\n", 400, "malformed request line"},
        {"GET /\r\n" H "\r\n", 400, "malformed request line"},
        {"GET / HTTP/2.0\r\n" H "\r\n", 505, "not supported"},
        {"GET / HTTP/1.2\r\n" H "\r\n", 505, "not supported"},
        {"GET / HTTP/0.9\r\n" H "\r\n", 505, "not supported"},
        {"GET / HTTP/1.1 \r\n" H "\r\n", 400, "HTTP version"},
        {"GET / http/1.1\r\n" H "\r\n", 400, "HTTP version"},
        {"GET / HTTP/1.x\r\n" H "\r\n", 400, "HTTP version"},
        {"GET /a b HTTP/1.1\r\n" H "\r\n", 400, "HTTP version"},
        {"GET  / HTTP/1.1\r\n" H "\r\n", 400, "HTTP version"},
        /* request target: origin-form only */
        {"GET * HTTP/1.1\r\n" H "\r\n", 400, "origin-form"},
        {"GET http://pki.example/ HTTP/1.1\r\n" H "\r\n", 400, "origin-form"},
        {"GET pki.example:443 HTTP/1.1\r\n" H "\r\n", 400, "origin-form"},
        {"GET /a#frag HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the path"},
        {"GET /a\"b HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the path"},
        {"GET /a\\b HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the path"},
        {"GET /caf\xc3\xa9 HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the path"},
        {"GET /a\tb HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the path"},
        {"GET /a?x=<y> HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the query"},
        {"GET /a?x#y HTTP/1.1\r\n" H "\r\n", 400, "invalid character in the query"},
        /* percent-decoding of the path */
        {"GET /a%00b HTTP/1.1\r\n" H "\r\n", 400, "%00"},
        {"GET /a%zz HTTP/1.1\r\n" H "\r\n", 400, "percent-escape"},
        {"GET /a%4 HTTP/1.1\r\n" H "\r\n", 400, "percent-escape"},
        {"GET /a% HTTP/1.1\r\n" H "\r\n", 400, "percent-escape"},
        {"GET /a%%41 HTTP/1.1\r\n" H "\r\n", 400, "percent-escape"},
        {"GET /a%0a HTTP/1.1\r\n" H "\r\n", 400, "control character in the path"},
        {"GET /a%0D%0A HTTP/1.1\r\n" H "\r\n", 400, "control character in the path"},
        {"GET /a%7f HTTP/1.1\r\n" H "\r\n", 400, "control character in the path"},
        {"GET /./a HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        {"GET /a/.. HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        {"GET /a/../b HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        {"GET /a/. HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        {"GET /a/%2e%2E/b HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        {"GET /a/%2e HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        {"GET /a%2f..%2Fb HTTP/1.1\r\n" H "\r\n", 400, "segment"},
        /* header lines */
        {"GET / HTTP/1.1\r\n" H " folded\r\n\r\n", 400, "folding"},
        {"GET / HTTP/1.1\r\n" H "\tfolded\r\n\r\n", 400, "folding"},
        {"GET / HTTP/1.1\r\n X: 1\r\n" H "\r\n", 400, "folding"},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "header name"},
        {"GET / HTTP/1.1\r\n" H "X(y): 1\r\n\r\n", 400, "header name"},
        {"GET / HTTP/1.1\r\n" H "NoColon\r\n\r\n", 400, "malformed header"},
        {"GET / HTTP/1.1\r\n" H ": v\r\n\r\n", 400, "malformed header"},
        {"GET / HTTP/1.1\r\n" H "X-A: a\x01\r\n\r\n", 400, "control character in a header"},
        {"GET / HTTP/1.1\r\n" H "X-A: a\x7f\r\n\r\n", 400, "control character in a header"},
        {"GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n", 400, "control character in a header"},
        /* Host (RFC 9112 3.2) */
        {"GET / HTTP/1.1\r\n\r\n", 400, "Host header required"},
        {"GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", 400, "Host header required"},
        {"GET / HTTP/1.1\r\n" H H "\r\n", 400, "more than one Host"},
        {"GET / HTTP/1.0\r\n" H H "\r\n", 400, "more than one Host"},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host"},
        {"GET / HTTP/1.1\r\nHost: user@evil\r\n\r\n", 400, "invalid Host"},
        {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host"},
        /* framing (RFC 9112 6) */
        {"PUT / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n", 400, "decimal"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 400, "decimal"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", 400, "decimal"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", 400, "decimal"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n", 400, "decimal"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 400, "empty Content-Length"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400,
         "conflicting"},
        {"PUT / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", 411, "Content-Length"},
        {"PUT / HTTP/1.1\r\n" H "Transfer-Encoding: Chunked\r\n\r\n", 411, "Content-Length"},
        {"PUT / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", 501, "transfer coding"},
        {"PUT / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", 501,
         "transfer coding"},
        {"PUT / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n", 501, "transfer coding"},
        {"PUT / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
         400, "both"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         400, "both"},
        {"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0"},
        /* limits */
        {"PUT / HTTP/1.1\r\n" H "Content-Length: 65537\r\n\r\n", 413, "65536"},
        {"PUT / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999999999\r\n\r\n", 413,
         "65536"},
        /* tokens */
        {"GET / HTTP/1.1\r\n" H "X-Consul-Token: a\r\nX-Consul-Token: a\r\n\r\n", 400,
         "more than one X-Consul-Token"},
        {"GET / HTTP/1.1\r\n" H "Authorization: Bearer a\r\nAuthorization: Bearer a\r\n\r\n",
         400, "more than one Authorization"},
        {"GET / HTTP/1.1\r\n" H "Authorization: Bearer\r\n\r\n", 400, "empty bearer"},
        {"GET / HTTP/1.1\r\n" H "Authorization: bearer   \r\n\r\n", 400, "empty bearer"},
        {"GET / HTTP/1.1\r\n" H "Authorization: Bearer a b\r\n\r\n", 400, "space"},
        {"GET / HTTP/1.1\r\n" H "X-Consul-Token: a\tb\r\n\r\n", 400, "space"},
        {"GET / HTTP/1.1\r\n" H "X-Consul-Token: caf\xc3\xa9\r\n\r\n", 400, "non-ASCII"},
    };
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *s = cases[i].raw;
        struct res r = parse_s(s);

        if (r.rc != PKI_ERR_INPUT || r.status != cases[i].status || r.err.code != PKI_ERR_INPUT)
            fail_msg("case %zu \"%s\": rc %d status %d, want %d (%s)", i, s, r.rc, r.status,
                     cases[i].status, r.err.msg);
        assert_msg_has(r.err, cases[i].word);
        assert_int_equal(r.consumed, (size_t)-1); /* untouched on refusal */
        for (k = 0; k < strlen(s); k++) {
            struct res pr = parse_n(s, k);

            if (pr.rc != SRV_HTTP_AGAIN && (pr.rc != PKI_ERR_INPUT || pr.status != r.status))
                fail_msg("case %zu prefix %zu: rc %d status %d", i, k, pr.rc, pr.status);
        }
    }
}

static void request_line_and_path(void **state)
{
    static const struct {
        const char *line;
        enum srv_http_method method;
        const char *path, *query;
    } cases[] = {
        {"GET / HTTP/1.1", SRV_HTTP_GET, "/", ""},
        {"HEAD /v1/connect/ca/roots HTTP/1.1", SRV_HTTP_HEAD, "/v1/connect/ca/roots", ""},
        {"POST /v1/connect/ca/sign HTTP/1.1", SRV_HTTP_POST, "/v1/connect/ca/sign", ""},
        {"PUT /v1/acl/token HTTP/1.1", SRV_HTTP_PUT, "/v1/acl/token", ""},
        {"DELETE /v1/acl/token/ab-cd HTTP/1.1", SRV_HTTP_DELETE, "/v1/acl/token/ab-cd", ""},
        {"GET /v1/connect/ca/roots?pem=true HTTP/1.1", SRV_HTTP_GET, "/v1/connect/ca/roots",
         "pem=true"},
        {"GET /a?b=%2F&c=d+e?f/g HTTP/1.1", SRV_HTTP_GET, "/a", "b=%2F&c=d+e?f/g"},
        {"GET /a? HTTP/1.1", SRV_HTTP_GET, "/a", ""},
        {"GET /leaf/web%2Dapi HTTP/1.1", SRV_HTTP_GET, "/leaf/web-api", ""},
        {"GET /a%2Fb HTTP/1.1", SRV_HTTP_GET, "/a/b", ""},
        {"GET /a%20b%7E HTTP/1.1", SRV_HTTP_GET, "/a b~", ""},
        {"GET /%C3%A9 HTTP/1.1", SRV_HTTP_GET, "/\xc3\xa9", ""},
        {"GET //a// HTTP/1.1", SRV_HTTP_GET, "//a//", ""},
        {"GET /.a/a./.../..b HTTP/1.1", SRV_HTTP_GET, "/.a/a./.../..b", ""},
        {"GET /a+b:c@d;e=f!$&'()*,~_ HTTP/1.1", SRV_HTTP_GET, "/a+b:c@d;e=f!$&'()*,~_", ""},
    };
    char buf[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_http_req req;

        snprintf(buf, sizeof(buf), "%s\r\n" H "\r\n", cases[i].line);
        req = ok_req(buf);
        assert_int_equal(req.method, cases[i].method);
        assert_string_equal(req.path, cases[i].path);
        assert_string_equal(req.query, cases[i].query);
        assert_int_equal(req.minor, 1);
        assert_null(req.body);
        assert_int_equal(req.body_len, 0);
    }
}

/* Path and query at the 1024-byte limit pass; one more is 414. */
static void target_limits(void **state)
{
    char path[SRV_HTTP_PATH_MAX + 2], req[4096];
    struct res r;

    (void)state;
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[SRV_HTTP_PATH_MAX] = '\0';
    snprintf(req, sizeof(req), "GET %s?%s HTTP/1.1\r\n" H "\r\n", path, path + 1);
    r = parse_s(req);
    assert_int_equal(r.rc, SRV_HTTP_DONE);
    assert_int_equal(strlen(r.req.path), SRV_HTTP_PATH_MAX);
    assert_int_equal(strlen(r.req.query), SRV_HTTP_PATH_MAX - 1);

    snprintf(req, sizeof(req), "GET %sa HTTP/1.1\r\n" H "\r\n", path);
    r = parse_s(req);
    assert_int_equal(r.rc, PKI_ERR_INPUT);
    assert_int_equal(r.status, 414);
    assert_msg_has(r.err, "1024");

    snprintf(req, sizeof(req), "GET /?%saa HTTP/1.1\r\n" H "\r\n", path + 1);
    r = parse_s(req);
    assert_int_equal(r.status, 414);
}

/* Request line + headers: 8192 bytes with the final CRLF pass, 8193 are 431;
 * a header section still incomplete at 8192 bytes is 431 without waiting. */
static void header_size_limit(void **state)
{
    static const char head[] = "GET / HTTP/1.1\r\n" H "X-Pad: ";
    char *buf = malloc(SRV_HTTP_HEADER_MAX + 64);
    size_t pad = SRV_HTTP_HEADER_MAX - (sizeof(head) - 1) - 4;
    struct res r;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, head, sizeof(head) - 1);
    memset(buf + sizeof(head) - 1, 'x', pad);
    memcpy(buf + sizeof(head) - 1 + pad, "\r\n\r\n", 5);
    assert_int_equal(strlen(buf), SRV_HTTP_HEADER_MAX);
    r = parse_s(buf);
    assert_int_equal(r.rc, SRV_HTTP_DONE);
    assert_int_equal(r.consumed, SRV_HTTP_HEADER_MAX);

    memset(buf + sizeof(head) - 1, 'x', pad + 1);
    memcpy(buf + sizeof(head) - 1 + pad + 1, "\r\n\r\n", 5);
    r = parse_s(buf);
    assert_int_equal(r.rc, PKI_ERR_INPUT);
    assert_int_equal(r.status, 431);
    assert_msg_has(r.err, "8192");

    /* Incomplete: 8191 bytes are AGAIN, 8192 are 431. */
    memset(buf + sizeof(head) - 1, 'x', SRV_HTTP_HEADER_MAX + 40 - (sizeof(head) - 1));
    assert_int_equal(parse_n(buf, SRV_HTTP_HEADER_MAX - 1).rc, SRV_HTTP_AGAIN);
    r = parse_n(buf, SRV_HTTP_HEADER_MAX);
    assert_int_equal(r.status, 431);
    r = parse_n(buf, SRV_HTTP_HEADER_MAX + 40);
    assert_int_equal(r.status, 431);
    free(buf);
}

/* 64 header fields pass; the 65th is 431. */
static void header_count_limit(void **state)
{
    char buf[4096];
    size_t off;
    int i;
    struct res r;

    (void)state;
    off = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n" H);
    for (i = 1; i < SRV_HTTP_HEADERS_MAX; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "X-%d: v\r\n", i);
    snprintf(buf + off, sizeof(buf) - off, "\r\n");
    assert_int_equal(parse_s(buf).rc, SRV_HTTP_DONE);
    snprintf(buf + off, sizeof(buf) - off, "X-last: v\r\n\r\n");
    r = parse_s(buf);
    assert_int_equal(r.rc, PKI_ERR_INPUT);
    assert_int_equal(r.status, 431);
    assert_msg_has(r.err, "64 header");
}

/* 413 is decided from the headers alone, before any body byte arrives; a
 * body of exactly 64 KiB is accepted. */
static void body_limit(void **state)
{
    static const char head[] = "PUT /v1/acl/token HTTP/1.1\r\n" H "Content-Length: 65536\r\n\r\n";
    size_t n = sizeof(head) - 1 + SRV_HTTP_BODY_MAX;
    char *buf = malloc(n + 1);
    struct res r;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, head, sizeof(head) - 1);
    memset(buf + sizeof(head) - 1, 'b', SRV_HTTP_BODY_MAX);
    buf[n] = '\0';
    assert_int_equal(parse_n(buf, n - 1).rc, SRV_HTTP_AGAIN);
    r = parse_n(buf, n);
    assert_int_equal(r.rc, SRV_HTTP_DONE);
    assert_int_equal(r.consumed, n);
    assert_int_equal(r.req.body_len, SRV_HTTP_BODY_MAX);
    assert_ptr_equal(r.req.body, buf + sizeof(head) - 1);

    r = parse_s("PUT / HTTP/1.1\r\n" H "Content-Length: 65537\r\n\r\n");
    assert_int_equal(r.status, 413);
    free(buf);
}

/* A request split at every byte: AGAIN for each proper prefix, then DONE
 * with the same result as the whole (and the extra bytes left alone). */
static void split_at_every_byte(void **state)
{
    static const char *const reqs[] = {
        "GET /v1/agent/connect/ca/leaf/web?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8555\r\n"
        "User-Agent: curl/7.88.1\r\nAccept: */*\r\nX-Consul-Token: s3cr3t\r\n\r\n",
        "PUT /v1/connect/ca/configuration HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/json\r\nAuthorization: Bearer tok\r\n"
        "Content-Length: 26\r\n\r\n{\"Provider\": \"consul\"}\r\n  ",
        "POST /v1/connect/ca/sign HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
    };
    size_t i, k, n;

    (void)state;
    for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct res whole;

        n = strlen(reqs[i]);
        whole = parse_n(reqs[i], n);
        assert_int_equal(whole.rc, SRV_HTTP_DONE);
        assert_int_equal(whole.consumed, n);
        for (k = 0; k < n; k++) {
            struct res r = parse_n(reqs[i], k);

            if (r.rc != SRV_HTTP_AGAIN)
                fail_msg("request %zu, %zu bytes: rc %d (%s)", i, k, r.rc, r.err.msg);
            assert_int_equal(r.consumed, (size_t)-1);
        }
        /* More bytes after it (a pipelined request) change nothing. */
        {
            char *more = malloc(n + 8);
            struct res r;

            assert_non_null(more);
            memcpy(more, reqs[i], n);
            memcpy(more + n, "GET / HT", 8);
            r = parse_n(more, n + 8);
            assert_int_equal(r.rc, SRV_HTTP_DONE);
            assert_int_equal(r.consumed, n);
            assert_memory_equal(&r.req, &whole.req,
                                offsetof(struct srv_http_req, token_conflict) + sizeof(int));
            assert_int_equal(r.req.body_len, whole.req.body_len);
            free(more);
        }
    }
    assert_string_equal(parse_s(reqs[0]).req.token, "s3cr3t");
    assert_int_equal(parse_s(reqs[1]).req.body_len, 26);
    assert_memory_equal(parse_s(reqs[1]).req.body, "{\"Provider\": \"consul\"}\r\n  ", 26);
}

/* Two requests in one buffer, then the start of a third. */
static void pipelined(void **state)
{
    static const char two[] = "PUT /a HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc"
                              "DELETE /b?c=d HTTP/1.1\r\n" H "\r\n"
                              "GET /c HTTP/1.1\r\n";
    size_t first_len = strlen("PUT /a HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc");
    size_t second_len = strlen("DELETE /b?c=d HTTP/1.1\r\n" H "\r\n");
    struct res r;

    (void)state;
    r = parse_s(two);
    assert_int_equal(r.rc, SRV_HTTP_DONE);
    assert_int_equal(r.req.method, SRV_HTTP_PUT);
    assert_int_equal(r.consumed, first_len);
    assert_memory_equal(r.req.body, "abc", 3);
    r = parse_s(two + first_len);
    assert_int_equal(r.rc, SRV_HTTP_DONE);
    assert_int_equal(r.req.method, SRV_HTTP_DELETE);
    assert_string_equal(r.req.path, "/b");
    assert_string_equal(r.req.query, "c=d");
    assert_int_equal(r.consumed, second_len);
    assert_null(r.req.body);
    r = parse_s(two + first_len + second_len);
    assert_int_equal(r.rc, SRV_HTTP_AGAIN);
}

static void framing_accepted(void **state)
{
    struct srv_http_req req;
    struct res r;

    (void)state;
    req = ok_req("PUT / HTTP/1.1\r\n" H "content-LENGTH: 5\r\nContent-Length: 5\r\n\r\nhello");
    assert_int_equal(req.body_len, 5);
    req = ok_req("PUT / HTTP/1.1\r\n" H "Content-Length: 007\r\n\r\n1234567");
    assert_int_equal(req.body_len, 7);
    req = ok_req("PUT / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n");
    assert_null(req.body);
    assert_int_equal(req.body_len, 0);
    /* No Content-Length: no body (RFC 9112 6.3), the rest is the next request. */
    r = parse_s("POST / HTTP/1.1\r\n" H "\r\nxyz");
    assert_int_equal(r.rc, SRV_HTTP_DONE);
    assert_int_equal(r.consumed, strlen("POST / HTTP/1.1\r\n" H "\r\n"));
    /* HTTP/1.0 needs no Host; empty Host and IPv6 literals are fine. */
    req = ok_req("GET / HTTP/1.0\r\n\r\n");
    assert_int_equal(req.minor, 0);
    ok_req("GET / HTTP/1.1\r\nHost:\r\n\r\n");
    ok_req("GET / HTTP/1.1\r\nHost: [::1]:8555\r\n\r\n");
    /* HTAB and obs-text in values, trailing OWS on a line. */
    ok_req("GET / HTTP/1.1\r\n" H "User-Agent: a\tb \xe2\x9c\x93\r\nX-E:\r\nX-S: v \t\r\n\r\n");
}

static void tokens(void **state)
{
    static const struct {
        const char *headers;
        const char *token;
        int conflict;
    } cases[] = {
        {"", "", 0},
        {"X-Consul-Token: abc-123\r\n", "abc-123", 0},
        {"x-consul-token:  \t abc \t\r\n", "abc", 0},
        {"Authorization: Bearer abc\r\n", "abc", 0},
        {"authorization: bEaReR   abc\r\n", "abc", 0},
        {"Authorization: Basic dXNlcjpwYXNz\r\n", "", 0},
        {"Authorization: Bearerabc\r\n", "", 0},
        {"X-Consul-Token: same\r\nAuthorization: Bearer same\r\n", "same", 0},
        {"X-Consul-Token: one\r\nAuthorization: Bearer two\r\n", "one", 1},
        {"Authorization: Bearer two\r\nX-Consul-Token: one\r\n", "one", 1},
        {"X-Consul-Token:\r\nAuthorization: Bearer two\r\n", "two", 0},
        {"X-Consul-Token: one\r\nAuthorization: Basic two\r\n", "one", 0},
    };
    char buf[1024], tok[SRV_HTTP_TOKEN_MAX + 2];
    size_t i;
    struct res r;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_http_req req;

        snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n" H "%s\r\n", cases[i].headers);
        req = ok_req(buf);
        assert_string_equal(req.token, cases[i].token);
        assert_int_equal(req.token_conflict, cases[i].conflict);
    }
    /* 128 bytes pass, 129 are refused, from either header. */
    memset(tok, 'T', sizeof(tok));
    tok[SRV_HTTP_TOKEN_MAX] = '\0';
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n" H "X-Consul-Token: %s\r\n\r\n", tok);
    assert_int_equal(strlen(ok_req(buf).token), SRV_HTTP_TOKEN_MAX);
    tok[SRV_HTTP_TOKEN_MAX] = 'T';
    tok[SRV_HTTP_TOKEN_MAX + 1] = '\0';
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n" H "X-Consul-Token: %s\r\n\r\n", tok);
    r = parse_s(buf);
    assert_int_equal(r.status, 400);
    assert_msg_has(r.err, "longer than 128");
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n" H "Authorization: Bearer %s\r\n\r\n", tok);
    r = parse_s(buf);
    assert_int_equal(r.status, 400);
    assert_msg_has(r.err, "longer than 128");
}

/* RFC 9112 9.3. */
static void keep_alive(void **state)
{
    static const struct {
        const char *req;
        int keep_alive;
    } cases[] = {
        {"GET / HTTP/1.1\r\n" H "\r\n", 1},
        {"GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n" H "Connection: CLOSE\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n" H "Connection: keep-alive, close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n" H "Connection: foo\r\nConnection: close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n" H "Connection: ,, close ,\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n" H "Connection: closed\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\n" H "Connection: keep-alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\nConnection: foo,keep-alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (ok_req(cases[i].req).keep_alive != cases[i].keep_alive)
            fail_msg("\"%s\": keep_alive should be %d", cases[i].req, cases[i].keep_alive);
}

static void query_get(void **state)
{
    static const struct {
        const char *query, *key;
        int rc;
        const char *value;
    } cases[] = {
        {"pem=true", "pem", 1, "true"},
        {"a=1&pem=true&b", "pem", 1, "true"},
        {"pem", "pem", 1, ""},
        {"pem=", "pem", 1, ""},
        {"x=1", "pem", 0, NULL},
        {"", "pem", 0, NULL},
        {"pemx=1&xpem=2", "pem", 0, NULL},
        {"a=b%20c+d", "a", 1, "b c d"},
        {"a=%41%42%2f", "a", 1, "AB/"},
        {"a=x=y", "a", 1, "x=y"},
        {"p%65m=true", "pem", 1, "true"},
        {"my+key=v", "my key", 1, "v"},
        {"pem=1&pem=2", "pem", 1, "1"},
        {"&&pem=x&", "pem", 1, "x"},
        {"a=%zz", "a", -1, NULL},
        {"a=%00", "a", -1, NULL},
        {"a=%4", "a", -1, NULL},
        {"a=%", "a", -1, NULL},
        {"%zz=1&pem=2", "pem", -1, NULL},
        {"pem=2&%zz=1", "pem", 1, "2"},
    };
    char out[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = srv_http_query_get(cases[i].query, cases[i].key, out, sizeof(out));

        if (rc != cases[i].rc)
            fail_msg("\"%s\" [%s]: rc %d, want %d", cases[i].query, cases[i].key, rc,
                     cases[i].rc);
        if (rc == 1)
            assert_string_equal(out, cases[i].value);
    }
    /* out holds len - 1 characters and the NUL. */
    assert_int_equal(srv_http_query_get("a=abc", "a", out, 4), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(srv_http_query_get("a=abcd", "a", out, 4), -1);
    assert_int_equal(srv_http_query_get("a=%41%41%41%41", "a", out, 4), -1);
    assert_int_equal(srv_http_query_get("a", "a", out, 0), -1);
    assert_int_equal(srv_http_query_get(NULL, "a", out, sizeof(out)), -1);
}

static void reasons(void **state)
{
    static const int codes[] = {200, 201, 204, 400, 401, 403, 404, 405, 408, 411,
                                413, 414, 415, 429, 431, 500, 501, 503, 505};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_string_not_equal(srv_http_reason(codes[i]), "Unknown");
    assert_string_equal(srv_http_reason(200), "OK");
    assert_string_equal(srv_http_reason(404), "Not Found");
    assert_string_equal(srv_http_reason(408), "Request Timeout");
    assert_string_equal(srv_http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(srv_http_reason(0), "Unknown");
    assert_string_equal(srv_http_reason(302), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refusals),
        cmocka_unit_test(request_line_and_path),
        cmocka_unit_test(target_limits),
        cmocka_unit_test(header_size_limit),
        cmocka_unit_test(header_count_limit),
        cmocka_unit_test(body_limit),
        cmocka_unit_test(split_at_every_byte),
        cmocka_unit_test(pipelined),
        cmocka_unit_test(framing_accepted),
        cmocka_unit_test(tokens),
        cmocka_unit_test(keep_alive),
        cmocka_unit_test(query_get),
        cmocka_unit_test(reasons),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
