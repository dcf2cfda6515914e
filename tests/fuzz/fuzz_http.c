/* fuzz_http.c - srv_http_parse on arbitrary bytes, as a connection would
 * feed it (pipelined requests one after the other), and srv_http_query_get
 * on each parsed query. */
#include "fuzz_common.h"

#include "http.h"

static const int statuses[] = {400, 411, 413, 414, 431, 501, 505};

/* No NUL before the end of the array, no control byte, no dot segment. */
static void check_path(const char *path)
{
    const char *seg = path + 1, *end = memchr(path, '\0', SRV_HTTP_PATH_MAX + 1);
    size_t n;

    FUZZ_CHECK(end != NULL);
    FUZZ_CHECK(path[0] == '/');
    for (const char *c = path; c < end; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
    for (;;) {
        const char *slash = strchr(seg, '/');

        n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        FUZZ_CHECK(!(n == 1 && seg[0] == '.') && !(n == 2 && seg[0] == '.' && seg[1] == '.'));
        if (slash == NULL)
            break;
        seg = slash + 1;
    }
}

static void check_query(const char *query)
{
    static const char *const keys[] = {"pem", "a", "", "pem=true"};
    char out[64];
    size_t i;
    int rc;

    FUZZ_CHECK(memchr(query, '\0', SRV_HTTP_PATH_MAX + 1) != NULL);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        memset(out, 'Z', sizeof(out));
        rc = srv_http_query_get(query, keys[i], out, sizeof(out));
        FUZZ_CHECK(rc >= -1 && rc <= 1);
        if (rc == 1)
            FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
    }
}

static void check_done(const uint8_t *data, size_t len, const struct srv_http_req *req,
                       size_t consumed)
{
    struct srv_http_req again;
    struct pki_err err = {0, ""};
    size_t c2 = 0;
    int status = 0;

    FUZZ_CHECK(consumed > 0 && consumed <= len);
    FUZZ_CHECK(req->method >= SRV_HTTP_GET && req->method <= SRV_HTTP_DELETE);
    FUZZ_CHECK(req->minor == 0 || req->minor == 1);
    FUZZ_CHECK(req->keep_alive == 0 || req->keep_alive == 1);
    FUZZ_CHECK(req->token_conflict == 0 || req->token_conflict == 1);
    FUZZ_CHECK(memchr(req->token, '\0', SRV_HTTP_TOKEN_MAX + 1) != NULL);
    check_path(req->path);
    check_query(req->query);
    FUZZ_CHECK(req->body_len <= SRV_HTTP_BODY_MAX);
    FUZZ_CHECK(consumed - req->body_len <= SRV_HTTP_HEADER_MAX);
    if (req->body_len == 0) {
        FUZZ_CHECK(req->body == NULL);
    } else { /* the body is the tail of the request, inside the caller's bytes */
        FUZZ_CHECK(req->body == data + consumed - req->body_len);
    }
    /* One byte short of the request is still "need more". */
    FUZZ_CHECK(srv_http_parse(data, consumed - 1, &again, &c2, &status, &err) == SRV_HTTP_AGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct srv_http_req req;
    struct pki_err err = {0, ""};
    size_t off = 0, consumed, i;
    int rc = SRV_HTTP_DONE, status, known;
    char *text;

    while (rc == SRV_HTTP_DONE && off < size) {
        consumed = (size_t)-1;
        status = -1;
        rc = srv_http_parse(data + off, size - off, &req, &consumed, &status, &err);
        if (rc == SRV_HTTP_DONE) {
            check_done(data + off, size - off, &req, consumed);
            off += consumed;
        } else if (rc == SRV_HTTP_AGAIN) {
            /* The parser decides within header max + body max bytes. */
            FUZZ_CHECK(size - off < SRV_HTTP_HEADER_MAX + SRV_HTTP_BODY_MAX);
            FUZZ_CHECK(consumed == (size_t)-1 && status == -1);
        } else {
            FUZZ_CHECK(rc == PKI_ERR_INPUT && err.code == rc && err.msg[0] != '\0');
            FUZZ_CHECK(consumed == (size_t)-1);
            for (i = 0, known = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
                known |= statuses[i] == status;
            FUZZ_CHECK(known);
        }
    }
    /* The whole input as a query string. */
    text = fuzz_strdup(data, size);
    if (strlen(text) <= SRV_HTTP_PATH_MAX)
        check_query(text);
    free(text);
    return 0;
}
