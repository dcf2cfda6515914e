/* api.c - routing, authentication and the JSON answers of the API
 * (docs/server.md, "API"). Default deny: every route but reading the roots
 * needs a token, and a token does only what its policy names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "spiffe.h"

#define LEAF_PREFIX "/v1/agent/connect/ca/leaf/"
#define TOKEN_PREFIX "/v1/acl/token/"

void srv_resp_json(struct srv_resp *resp, int status, json_t *json)
{
    char *text = json != NULL ? json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    struct pki_err err = {0};

    json_decref(json);
    if (text == NULL) {
        srv_resp_error(resp, 500, "out of memory");
        return;
    }
    pki_buf_free(&resp->body);
    if (pki_buf_set(&resp->body, text, strlen(text), &err) != 0) {
        free(text);
        srv_resp_error(resp, 500, "out of memory");
        return;
    }
    free(text);
    resp->status = status;
    resp->content_type = "application/json";
}

void srv_resp_fail(struct srv *s, struct srv_resp *resp, const struct pki_err *err)
{
    int status;

    (void)s;
    switch (err->code) {
    case PKI_ERR_INPUT:
    case PKI_ERR_USAGE:
    case PKI_ERR_POLICY:
    case PKI_ERR_EXISTS:
        status = 400;
        break;
    case PKI_ERR_NOTFOUND:
        status = 404;
        break;
    default:
        status = 500;
        break;
    }
    srv_resp_error(resp, status, err->msg);
}

static void method_not_allowed(struct srv_resp *resp, const char *allow)
{
    srv_resp_error(resp, 405, "method not allowed");
    snprintf(resp->headers, sizeof(resp->headers), "Allow: %s\r\n", allow);
}

/* Tokens seen since the store last changed, by the hash of their secret
 * (never the secret): a known token is then checked without a store query.
 * Unknown ones are not kept, so guessing cannot fill the table. Every
 * change to the store empties it (srv_state_load). */
#define TOKEN_CACHE_SLOTS 64

struct srv_token_cache {
    struct {
        char hash[PKI_TOKEN_HASH_HEX + 1]; /* "" when the slot is free */
        char accessor[STORE_ID_MAX];
        struct pki_token_policy pol;
    } slot[TOKEN_CACHE_SLOTS];
};

void srv_token_cache_clear(struct srv *s)
{
    size_t i;

    if (s->tokens != NULL)
        for (i = 0; i < TOKEN_CACHE_SLOTS; i++)
            s->tokens->slot[i].hash[0] = '\0';
}

/* The hash is uniform: its first two hex digits pick the slot. */
static size_t token_slot(const char *hash)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 2; i++)
        v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return v % TOKEN_CACHE_SLOTS;
}

static int token_lookup(struct srv *s, const char *hash, struct pki_token_policy *pol,
                        char accessor[STORE_ID_MAX], struct pki_err *err)
{
    struct store_token tok = {0};
    size_t i = token_slot(hash);
    int rc;

    if (s->tokens != NULL && strcmp(s->tokens->slot[i].hash, hash) == 0) {
        *pol = s->tokens->slot[i].pol;
        memcpy(accessor, s->tokens->slot[i].accessor, STORE_ID_MAX);
        return 0;
    }
    rc = store_token_find(s->store, hash, &tok, err);
    if (rc == 0)
        rc = pki_token_policy_parse(tok.policy, pol, err);
    if (rc == 0)
        snprintf(accessor, STORE_ID_MAX, "%s", tok.accessor);
    store_token_clear(&tok);
    if (rc == 0 && s->tokens == NULL)
        s->tokens = calloc(1, sizeof(*s->tokens)); /* none: no cache, still correct */
    if (rc == 0 && s->tokens != NULL) {
        memcpy(s->tokens->slot[i].hash, hash, sizeof(s->tokens->slot[i].hash));
        memcpy(s->tokens->slot[i].accessor, accessor, STORE_ID_MAX);
        s->tokens->slot[i].pol = *pol;
    }
    return rc;
}

/* Fills pol and accessor from the request's token, or answers 400/401/403. */
static int authenticate(struct srv *s, const struct srv_http_req *req,
                        struct pki_token_policy *pol, char accessor[STORE_ID_MAX],
                        struct srv_resp *resp)
{
    struct pki_err err = {0};
    char hash[PKI_TOKEN_HASH_HEX + 1];
    int rc;

    if (req->token_conflict) {
        srv_resp_error(resp, 400, "X-Consul-Token and Authorization name different tokens");
        return -1;
    }
    if (req->token[0] == '\0') {
        srv_resp_error(resp, 401, "missing token: send X-Consul-Token or Authorization: Bearer");
        return -1;
    }
    if (s->sha256 == NULL) /* fetched once per process; NULL still works, fetching per call */
        s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    pki_token_hash(s->sha256, req->token, hash);
    rc = token_lookup(s, hash, pol, accessor, &err);
    if (rc == PKI_ERR_NOTFOUND) {
        srv_resp_error(resp, 403, "ACL not found");
        return -1;
    }
    if (rc != 0) {
        srv_resp_error(resp, 500, err.msg);
        return -1;
    }
    return 0;
}

static int require_operator(const struct pki_token_policy *pol, struct srv_resp *resp)
{
    if (pol->kind == PKI_TOKEN_OPERATOR)
        return 0;
    srv_resp_error(resp, 403, "Permission denied: this needs an operator token");
    return -1;
}

static void api_metrics(struct srv *s, struct srv_resp *resp)
{
    struct pki_err err = {0};
    struct srv_metrics sum;
    time_t now = srv_now();

    srv_shared_metrics_sum(s->shared, &sum);
    pki_buf_free(&resp->body);
    if (srv_metrics_render(&sum, (int64_t)(s->root_not_after - now),
                           (int64_t)(s->signing_not_after - now), s->roots.n, &resp->body,
                           &err) != 0) {
        srv_resp_error(resp, 500, err.msg);
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
}

static int is_get(const struct srv_http_req *req)
{
    return req->method == SRV_HTTP_GET || req->method == SRV_HTTP_HEAD;
}

/* Routes that need a token; pol and accessor are the caller's. */
static void route_authed(struct srv *s, const struct srv_http_req *req,
                         const struct pki_token_policy *pol, const char *accessor,
                         struct srv_resp *resp)
{
    const char *p = req->path;

    if (strncmp(p, LEAF_PREFIX, strlen(LEAF_PREFIX)) == 0) {
        if (req->method != SRV_HTTP_GET)
            method_not_allowed(resp, "GET");
        else
            srv_api_leaf(s, req, p + strlen(LEAF_PREFIX), pol, accessor, resp);
    } else if (strcmp(p, "/v1/connect/ca/sign") == 0) {
        if (req->method != SRV_HTTP_POST && req->method != SRV_HTTP_PUT)
            method_not_allowed(resp, "POST, PUT");
        else
            srv_api_sign(s, req, pol, accessor, resp);
    } else if (require_operator(pol, resp) != 0) {
        return;
    } else if (strcmp(p, "/v1/connect/ca/configuration") == 0) {
        if (!is_get(req) && req->method != SRV_HTTP_PUT)
            method_not_allowed(resp, "GET, PUT");
        else
            srv_api_config(s, req, accessor, resp);
    } else if (strcmp(p, "/v1/acl/token") == 0) {
        if (req->method != SRV_HTTP_PUT && req->method != SRV_HTTP_POST)
            method_not_allowed(resp, "PUT");
        else
            srv_api_token_create(s, req, accessor, resp);
    } else if (strcmp(p, "/v1/acl/tokens") == 0) {
        if (!is_get(req))
            method_not_allowed(resp, "GET");
        else
            srv_api_tokens_list(s, resp);
    } else if (strncmp(p, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0) {
        if (req->method != SRV_HTTP_DELETE)
            method_not_allowed(resp, "DELETE");
        else
            srv_api_token_delete(s, p + strlen(TOKEN_PREFIX), accessor, resp);
    } else if (strcmp(p, "/v1/metrics") == 0) {
        if (!is_get(req))
            method_not_allowed(resp, "GET");
        else
            api_metrics(s, resp);
    } else {
        srv_resp_error(resp, 404, "no such API path");
    }
}

static int known_path(const char *p)
{
    return strncmp(p, LEAF_PREFIX, strlen(LEAF_PREFIX)) == 0 ||
           strncmp(p, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0 ||
           strcmp(p, "/v1/connect/ca/sign") == 0 ||
           strcmp(p, "/v1/connect/ca/configuration") == 0 || strcmp(p, "/v1/acl/token") == 0 ||
           strcmp(p, "/v1/acl/tokens") == 0 || strcmp(p, "/v1/metrics") == 0;
}

void srv_api_count(struct srv *s, int status)
{
    srv_metrics_status(s->metrics, status);
    if (status == 400 || status == 404 || status == 405 || status == 413)
        srv_metrics_error(s->metrics, SRV_ERRK_BAD_REQUEST);
    else if (status == 401)
        srv_metrics_error(s->metrics, SRV_ERRK_UNAUTHORIZED);
    else if (status == 403)
        srv_metrics_error(s->metrics, SRV_ERRK_FORBIDDEN);
    else if (status == 429)
        srv_metrics_error(s->metrics, SRV_ERRK_RATE_LIMITED);
    else if (status == 503)
        srv_metrics_error(s->metrics, SRV_ERRK_SIGNER);
    else if (status >= 500)
        srv_metrics_error(s->metrics, SRV_ERRK_INTERNAL);
}

/* Another worker may have changed the store (a rotation, a config, a
 * token): every write bumps the shared counter, so one memory read tells
 * whether the cache is current. Writers outside the server's processes
 * are caught by the tick (srv_state_follow). */
static void refresh_cache(struct srv *s)
{
    struct pki_err err = {0};
    uint64_t gen;

    if (s->shared == NULL) {
        srv_state_follow(s);
        return;
    }
    gen = srv_shared_gen(s->shared);
    if (gen == s->gen_seen)
        return;
    if (srv_state_load(s, &err) != 0)
        fprintf(stderr, "pkictl server: reloading the store: %s\n", err.msg);
    else
        s->gen_seen = gen;
}

void srv_handle(void *arg, const struct srv_http_req *req, struct srv_resp *resp)
{
    struct srv *s = arg;
    struct pki_token_policy pol;
    char accessor[STORE_ID_MAX] = "";

    refresh_cache(s);
    if (strcmp(req->path, "/v1/connect/ca/roots") == 0) {
        if (!is_get(req))
            method_not_allowed(resp, "GET");
        else
            srv_api_roots(s, req, resp);
    } else if (!known_path(req->path)) {
        srv_resp_error(resp, 404, "no such API path");
    } else if (authenticate(s, req, &pol, accessor, resp) == 0) {
        route_authed(s, req, &pol, accessor, resp);
    }
    if (!resp->deferred) /* counted when it is answered (srv_leaf_complete) */
        srv_api_count(s, resp->status);
}
