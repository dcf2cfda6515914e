/* client_http.c - the client's connection to `pkictl server`: where it is,
 * the token, and one HTTP/1.1 exchange over libcurl (docs/server.md "API"). */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "client.h"
#include "fsio.h"
#include "pkictl_config.h"

/* jansson's allocations get a size header so that free can wipe them: a
 * parsed leaf answer holds PrivateKeyPEM, a token answer the SecretID, and
 * the parser's own buffers copies of both. */
#define WIPE_HDR sizeof(max_align_t)

static void *wipe_malloc(size_t n)
{
    unsigned char *p;

    if (n > SIZE_MAX - WIPE_HDR)
        return NULL;
    p = malloc(WIPE_HDR + n);
    if (p == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + WIPE_HDR;
}

static void wipe_free(void *ptr)
{
    unsigned char *p;
    size_t n;

    if (ptr == NULL)
        return;
    p = (unsigned char *)ptr - WIPE_HDR;
    memcpy(&n, p, sizeof(n));
    OPENSSL_cleanse(p, WIPE_HDR + n);
    free(p);
}

/* Must run before the process's first jansson allocation. */
static void wipe_json_on_free(void)
{
    static int done;

    if (!done)
        json_set_alloc_funcs(wipe_malloc, wipe_free);
    done = 1;
}

static int is_loopback(const char *host)
{
    unsigned char a[16];
    char h[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (n < 2 || n - 2 >= sizeof(h) || host[0] != '[' || host[n - 1] != ']')
        return 0;
    memcpy(h, host + 1, n - 2);
    h[n - 2] = '\0';
    return inet_pton(AF_INET6, h, a) == 1 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
}

/* 1 if URL part `what` of u is present (and not just "/" for the path). */
static int has_part(CURLU *u, CURLUPart what)
{
    char *v = NULL;
    int has = curl_url_get(u, what, &v, 0) == CURLUE_OK && v != NULL &&
              !(what == CURLUPART_PATH && strcmp(v, "/") == 0);

    curl_free(v);
    return has;
}

/* Splits --addr into c->base and c->host. Only scheme, host and port: a path,
 * query or user name would change which server gets the token. */
static int parse_addr(struct cli_client *c, const char *addr, struct pki_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = PKI_OK;

    if (u == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (strlen(addr) >= CLI_ADDR_MAX || curl_url_set(u, CURLUPART_URL, addr, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = pki_err_set(err, PKI_ERR_INPUT, "--addr \"%s\" is not a URL like %s", addr,
                         CLI_ADDR_DEFAULT);
        goto out;
    }
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
        rc = pki_err_set(err, PKI_ERR_INPUT, "--addr \"%s\": the scheme must be https or http",
                         addr);
        goto out;
    }
    if (has_part(u, CURLUPART_PATH) || has_part(u, CURLUPART_QUERY) ||
        has_part(u, CURLUPART_FRAGMENT) || has_part(u, CURLUPART_USER)) {
        rc = pki_err_set(err, PKI_ERR_INPUT,
                         "--addr \"%s\" must be scheme://host[:port] only, like %s", addr,
                         CLI_ADDR_DEFAULT);
        goto out;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    snprintf(c->host, sizeof(c->host), "%s", host);
    snprintf(c->base, sizeof(c->base), "%s://%s%s%s", scheme, host, port ? ":" : "",
             port ? port : "");
    c->plain_http = strcmp(scheme, "http") == 0;
    c->loopback = is_loopback(host);
out:
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static int parse_timeout(const char *v, long *out, struct pki_err *err)
{
    char *end;
    long t;

    if (v == NULL) {
        *out = CLI_TIMEOUT_DEFAULT;
        return PKI_OK;
    }
    t = strtol(v, &end, 10);
    if (end == v || *end != '\0' || t < 1 || t > 3600)
        return pki_err_set(err, PKI_ERR_INPUT,
                           "--timeout \"%s\" is not a number of seconds from 1 to 3600", v);
    *out = t;
    return PKI_OK;
}

/* A token goes into a header: visible ASCII only, so it cannot add a
 * header line, and never echoed in a message. */
static int check_token(const char *tok, size_t len, const char *from, struct pki_err *err)
{
    size_t i;

    if (len == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the token from %s is empty", from);
    if (len > CLI_TOKEN_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the token from %s is longer than %d bytes",
                           from, CLI_TOKEN_MAX);
    for (i = 0; i < len; i++)
        if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f)
            return pki_err_set(err, PKI_ERR_INPUT,
                               "the token from %s holds a byte a token cannot have (only "
                               "visible ASCII; one trailing newline is allowed)", from);
    return PKI_OK;
}

static int read_token_file(struct cli_client *c, const char *path, struct pki_err *err)
{
    struct pki_buf b = {NULL, 0};
    char from[64 + PATH_MAX];
    mode_t mode;
    size_t len;
    int rc = fs_read_file(path, 4096, &b, &mode, err);

    if (rc != PKI_OK) {
        pki_err_prefix(err, "--token-file");
        return rc;
    }
    snprintf(from, sizeof(from), "--token-file %s", path);
    len = b.len;
    if (len > 0 && b.data[len - 1] == '\n')
        len--;
    if (len > 0 && b.data[len - 1] == '\r')
        len--;
    rc = check_token((const char *)b.data, len, from, err);
    if (rc == PKI_OK && !args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK"))
        rc = fs_check_key_mode(path, mode, err);
    if (rc == PKI_OK)
        memcpy(c->token, b.data, len);
    pki_buf_free(&b);
    return rc;
}

static int load_token(struct cli_client *c, const struct args *a, struct pki_err *err)
{
    const char *tok = a->token, *from = "--token";
    int rc;

    if (a->token != NULL && a->token_file != NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "give --token or --token-file, not both");
    if (a->token_file != NULL)
        return read_token_file(c, a->token_file, err);
    if (tok == NULL) {
        tok = getenv("PKICTL_TOKEN");
        from = "PKICTL_TOKEN";
    }
    if (tok == NULL || (tok[0] == '\0' && tok != a->token))
        return pki_err_set(err, PKI_ERR_USAGE,
                           "this command needs a token: --token-file=FILE (such as the "
                           "server's DATA_DIR/operator.token), --token or PKICTL_TOKEN");
    rc = check_token(tok, strlen(tok), from, err);
    if (rc == PKI_OK)
        memcpy(c->token, tok, strlen(tok));
    return rc;
}

int cli_client_setup(struct cli_client *c, const struct args *a, int need_token,
                     struct pki_err *err)
{
    const char *addr = a->addr ? a->addr : getenv("PKICTL_ADDR");
    int rc;

    memset(c, 0, sizeof(*c));
    wipe_json_on_free();
    if (a->format != NULL && strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "unknown --format \"%s\" (use text or json)",
                           a->format);
    c->json = a->format != NULL && strcmp(a->format, "json") == 0;
    rc = parse_addr(c, addr != NULL && addr[0] != '\0' ? addr : CLI_ADDR_DEFAULT, err);
    if (rc == PKI_OK)
        rc = parse_timeout(a->timeout, &c->timeout, err);
    if (rc != PKI_OK)
        return rc;
    c->ca_file = a->ca_file ? a->ca_file : getenv("PKICTL_CA_FILE");
    if (c->ca_file != NULL && c->ca_file[0] == '\0')
        c->ca_file = NULL;
    if (c->ca_file != NULL && !fs_exists(c->ca_file))
        return pki_err_set(err, PKI_ERR_NOTFOUND, "--ca-file \"%s\" does not exist",
                           c->ca_file);
    return need_token ? load_token(c, a, err) : PKI_OK;
}

void cli_client_clear(struct cli_client *c)
{
    OPENSSL_cleanse(c->token, sizeof(c->token));
}

/* ---- one exchange ---- */

struct sink {
    unsigned char *data; /* OPENSSL_malloc'ed, cap bytes, wiped when replaced */
    size_t len, cap;
    int too_large;
    long retry_after;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb, cap;
    unsigned char *p;

    if (n > CLI_RESPONSE_MAX - s->len) {
        s->too_large = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        cap = s->cap ? s->cap : 16384;
        while (cap < s->len + n + 1)
            cap *= 2;
        if ((p = OPENSSL_malloc(cap)) == NULL)
            return 0;
        if (s->len > 0)
            memcpy(p, s->data, s->len);
        OPENSSL_clear_free(s->data, s->cap);
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    char line[64];

    if (n < sizeof(line) && n > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
        memcpy(line, ptr + 12, n - 12);
        line[n - 12] = '\0';
        s->retry_after = strtol(line, NULL, 10);
    }
    return n;
}

static int transport_error(const struct cli_client *c, CURLcode cc, const struct sink *s,
                           long os_errno, const char *detail, struct pki_err *err)
{
    const char *d = detail[0] ? detail : curl_easy_strerror(cc);

    if (s->too_large || cc == CURLE_FILESIZE_EXCEEDED)
        return pki_err_set(err, PKI_ERR_INPUT, "the answer from %s is larger than %d MiB; refused",
                           c->base, CLI_RESPONSE_MAX >> 20);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return pki_err_set(err, PKI_ERR_IO, "cannot connect to %s: %s (is pkictl server running "
                           "there? check --addr or PKICTL_ADDR)", c->base,
                           os_errno > 0 ? strerror((int)os_errno) : d);
    case CURLE_COULDNT_RESOLVE_HOST:
        return pki_err_set(err, PKI_ERR_IO, "cannot resolve the host of %s (check --addr or "
                           "PKICTL_ADDR)", c->base);
    case CURLE_OPERATION_TIMEDOUT:
        return pki_err_set(err, PKI_ERR_IO, "%s did not answer within %ld s (check --addr, or "
                           "give more --timeout)", c->base, c->timeout);
    case CURLE_PEER_FAILED_VERIFICATION:
        return pki_err_set(err, PKI_ERR_IO, "%s: the server's TLS certificate did not verify "
                           "(%s); pass the server's CA with --ca-file (the server writes "
                           "DATA_DIR/ca.pem)", c->base, d);
    case CURLE_SSL_CACERT_BADFILE:
        return pki_err_set(err, PKI_ERR_INPUT, "--ca-file \"%s\": no CA certificates could be "
                           "loaded from it (%s)", c->ca_file ? c->ca_file : "", d);
    case CURLE_SSL_CONNECT_ERROR:
        return pki_err_set(err, PKI_ERR_IO, "TLS handshake with %s failed (%s); for a server "
                           "run with --insecure-http use an http:// address", c->base, d);
    case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
        return pki_err_set(err, PKI_ERR_IO, "%s closed the connection without a valid answer "
                           "(%s); if the server uses TLS, use an https:// address", c->base, d);
    default:
        return pki_err_set(err, PKI_ERR_IO, "request to %s failed: %s", c->base, d);
    }
}

/* curl_slist_free_all frees without wiping; the token line is wiped first. */
static void free_headers(struct curl_slist *h)
{
    struct curl_slist *t;

    for (t = h; t != NULL; t = t->next)
        OPENSSL_cleanse(t->data, strlen(t->data));
    curl_slist_free_all(h);
}

/* The request's headers; the token header is built in a buffer wiped here
 * (curl keeps its own copy until the list is freed). */
static struct curl_slist *headers(const struct cli_client *c, int has_body)
{
    struct curl_slist *h = NULL, *t;
    char auth[32 + CLI_TOKEN_MAX];

    /* curl would send "Expect: 100-continue" for larger bodies; the server
     * expects the body at once. */
    h = curl_slist_append(h, "Expect:");
    if (h != NULL && has_body && (t = curl_slist_append(h, "Content-Type: application/json")))
        h = t;
    if (h != NULL && c->token[0] != '\0') {
        snprintf(auth, sizeof(auth), "X-Consul-Token: %s", c->token);
        t = curl_slist_append(h, auth);
        OPENSSL_cleanse(auth, sizeof(auth));
        if (t == NULL) {
            free_headers(h);
            return NULL;
        }
    }
    return h;
}

static void warn_clear_text(const struct cli_client *c)
{
    static int warned;

    if (warned || c->token[0] == '\0' || !c->plain_http || c->loopback)
        return;
    warned = 1;
    fprintf(stderr, "pkictl: warning: the token goes in clear text over http:// to %s; anyone "
            "on the network path can read it (use https)\n", c->host);
}

static int set_options(CURL *h, const struct cli_client *c, const char *method, const char *url,
                       const char *body, size_t body_len)
{
    int bad = 0;

    bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
           CURLE_OK;
#endif
    bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    if (c->ca_file != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_RESPONSE_MAX) !=
           CURLE_OK;
    /* As Go's ProxyFromEnvironment (Consul's client): a loopback server is
     * never reached through http_proxy/https_proxy. */
    if (c->loopback)
        bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "pkictl/" PKICTL_VERSION) != CURLE_OK;
    if (strcmp(method, "GET") != 0)
        bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    if (body != NULL) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) !=
               CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK;
    }
    return bad ? -1 : 0;
}

int cli_http(struct cli_client *c, const char *method, const char *path, const char *body,
             size_t body_len, struct cli_resp *r, struct pki_err *err)
{
    struct sink s = {NULL, 0, 0, 0, 0};
    struct curl_slist *hdr = NULL;
    char url[CLI_ADDR_MAX + 512], detail[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    CURLcode cc;
    long os_errno = 0;
    int rc = PKI_OK;

    if (h == NULL || (hdr = headers(c, body != NULL)) == NULL) {
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (snprintf(url, sizeof(url), "%s%s", c->base, path) >= (int)sizeof(url) ||
        set_options(h, c, method, url, body, body_len) != 0 ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &s) != CURLE_OK) {
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "cannot set up the request to %s", c->base);
        goto out;
    }
    warn_clear_text(c);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        (void)curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        rc = transport_error(c, cc, &s, os_errno, detail, err);
        goto out;
    }
    memset(r, 0, sizeof(*r));
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->retry_after = s.retry_after;
    r->body.data = s.data; /* pki_buf_free wipes len + 1 bytes: all that was written */
    r->body.len = s.len;
    s.data = NULL;
out:
    OPENSSL_clear_free(s.data, s.cap);
    curl_easy_cleanup(h);
    free_headers(hdr);
    return rc;
}

void cli_resp_free(struct cli_resp *r)
{
    pki_buf_free(&r->body);
}

/* ---- answers ---- */

static const char *reason(long status)
{
    static const struct { long code; const char *text; } t[] = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"},
        {411, "Length Required"}, {413, "Content Too Large"}, {415, "Unsupported Media Type"},
        {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
        {503, "Service Unavailable"}, {504, "Gateway Timeout"},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].code == status)
            return t[i].text;
    return "";
}

/* What to check next, for the answers a user can fix on this side. */
static void hint(const struct cli_resp *r, const char *msg, char *out, size_t len)
{
    out[0] = '\0';
    if (r->status == 401)
        snprintf(out, len, " (give --token-file, --token or PKICTL_TOKEN)");
    else if (r->status == 403 && strcmp(msg, "ACL not found") == 0)
        snprintf(out, len, " (the server does not know this token: check --token-file, --token "
                 "or PKICTL_TOKEN)");
    else if (r->status == 429 && r->retry_after > 0)
        snprintf(out, len, " (retry after %ld s)", r->retry_after);
}

int cli_resp_check(const struct cli_resp *r, struct pki_err *err)
{
    char shown[256] = "", extra[160];
    json_t *v = NULL;
    size_t n;

    if (r->status >= 200 && r->status < 300)
        return PKI_OK;
    if (r->body.len > 0)
        v = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    if (v != NULL) {
        cli_printable(shown, sizeof(shown), cli_json_str(v, "error"));
    } else if (r->body.len > 0) { /* not ours (a proxy?): its first line */
        n = strcspn((const char *)r->body.data, "\r\n");
        if (n >= sizeof(shown))
            n = sizeof(shown) - 1;
        memcpy(shown, r->body.data, n);
        shown[n] = '\0';
        cli_printable(shown, sizeof(shown), shown);
    }
    hint(r, shown, extra, sizeof(extra));
    json_decref(v);
    return pki_err_set(err, r->status >= 500 ? PKI_ERR_IO : PKI_ERR_POLICY,
                       "server said %ld%s%s%s%s%s", r->status, reason(r->status)[0] ? " " : "",
                       reason(r->status), shown[0] ? ": " : "", shown, extra);
}

json_t *cli_call_json(struct cli_client *c, const char *method, const char *path,
                      const char *body, size_t body_len, int any, struct pki_err *err)
{
    struct cli_resp r = {0, 0, {NULL, 0}};
    json_error_t jerr;
    json_t *v = NULL;

    if (cli_http(c, method, path, body, body_len, &r, err) != PKI_OK)
        return NULL;
    if (cli_resp_check(&r, err) != PKI_OK)
        goto out;
    if (any && r.body.len == 0) {
        v = json_null();
        goto out;
    }
    v = json_loadb((const char *)r.body.data, r.body.len, any ? JSON_DECODE_ANY : 0, &jerr);
    if (v == NULL)
        pki_err_set(err, PKI_ERR_INPUT, "the answer from %s is not JSON (%s)", c->base,
                    jerr.text);
    else if (!any && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
        pki_err_set(err, PKI_ERR_INPUT, "the answer from %s is not a JSON object", c->base);
    }
out:
    cli_resp_free(&r);
    return v;
}

int cli_print_json(const json_t *v)
{
    int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

    putchar('\n');
    return rc == 0 && fflush(stdout) == 0 ? 0 : -1;
}

const char *cli_json_str(const json_t *v, const char *key)
{
    const char *s = json_string_value(json_object_get(v, key));

    return s != NULL ? s : "";
}

void cli_printable(char *dst, size_t len, const char *s)
{
    size_t i;

    for (i = 0; i + 1 < len && s[i] != '\0'; i++)
        dst[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
    dst[i] = '\0';
}

void cli_json_wipe(json_t *v, const char *key)
{
    json_t *s = json_object_get(v, key);

    if (json_is_string(s))
        OPENSSL_cleanse((char *)json_string_value(s), json_string_length(s));
    json_object_del(v, key);
}

void cli_json_free(void *p)
{
    json_malloc_t m;
    json_free_t f;

    json_get_alloc_funcs(&m, &f);
    if (f != NULL)
        f(p);
    else
        free(p);
}
