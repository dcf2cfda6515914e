/* api_acl.c - tokens: PUT /v1/acl/token, GET /v1/acl/tokens, DELETE
 * /v1/acl/token/<accessor> (docs/server.md, "Tokens"). Only the SHA-256 of
 * a SecretID is stored; the SecretID is shown once, in the create answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bodies.h"
#include "server.h"
#include "spiffe.h"

/* Consul's shape of a policy: Policies [{Name}] or ServiceIdentities. */
static void policy_json(json_t *doc, const struct pki_token_policy *pol)
{
    json_t *list = json_array();
    size_t i;

    if (pol->kind == PKI_TOKEN_OPERATOR) {
        json_array_append_new(list, json_pack("{s:s}", "Name", "operator"));
        json_object_set_new(doc, "Policies", list);
        return;
    }
    for (i = 0; i < pol->nservices; i++)
        json_array_append_new(list, json_pack("{s:s}", "ServiceName", pol->services[i]));
    json_object_set_new(doc, "ServiceIdentities", list);
}

static json_t *token_json(const struct store_token *t, const struct pki_token_policy *pol)
{
    char created[32];
    json_t *doc;

    srv_time_rfc3339(t->created, created);
    doc = json_pack("{s:s,s:s,s:s,s:I,s:I}", "AccessorID", t->accessor, "Description",
                    t->description != NULL ? t->description : "", "CreateTime", created,
                    "CreateIndex", (json_int_t)t->create_index, "ModifyIndex",
                    (json_int_t)t->modify_index);
    if (doc != NULL)
        policy_json(doc, pol);
    return doc;
}

static int new_token(const struct pki_token_policy *pol, const char *desc,
                     struct store_token *tok, char secret[PKI_UUID_LEN + 1],
                     struct pki_err *err)
{
    char policy[PKI_TOKEN_SERVICES_MAX * (PKI_SERVICE_MAX + 1) + 16];

    memset(tok, 0, sizeof(*tok));
    if (pki_token_policy_format(pol, policy, sizeof(policy), err) != 0 ||
        pki_uuid_random(secret, err) != 0 || pki_uuid_random(tok->accessor, err) != 0)
        return err->code;
    pki_token_hash(NULL, secret, tok->secret_hash);
    tok->policy = strdup(policy);
    tok->description = strdup(desc);
    tok->created = srv_now();
    if (tok->policy == NULL || tok->description == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    return 0;
}

void srv_api_token_create(struct srv *s, const struct srv_http_req *req,
                          const char *accessor, struct srv_resp *resp)
{
    struct pki_token_policy pol;
    char desc[PKI_TOKEN_DESC_MAX + 1], secret[PKI_UUID_LEN + 1];
    struct store_token tok = {0};
    struct pki_err err = {0};
    json_t *doc;

    if (req->body == NULL ||
        srv_body_token_parse((const char *)req->body, req->body_len, &pol, desc, &err) != 0) {
        srv_resp_error(resp, 400, req->body == NULL ? "the request has no body" : err.msg);
        return;
    }
    if (new_token(&pol, desc, &tok, secret, &err) != 0 ||
        store_token_insert(s->store, &tok, &err) != 0) {
        srv_resp_fail(s, resp, &err);
        store_token_clear(&tok);
        OPENSSL_cleanse(secret, sizeof(secret));
        return;
    }
    doc = token_json(&tok, &pol);
    if (doc != NULL)
        json_object_set_new(doc, "SecretID", json_string(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    srv_resp_json(resp, 200, doc);
    srv_audit(s, "token.create", json_pack("{s:s,s:s,s:s}", "accessor", tok.accessor, "policy",
                                           tok.policy, "by", accessor));
    store_token_clear(&tok);
}

void srv_api_tokens_list(struct srv *s, struct srv_resp *resp)
{
    struct store_tokens ts = {0};
    struct pki_token_policy pol;
    struct pki_err err = {0};
    json_t *list;
    size_t i;

    if (store_tokens_list(s->store, &ts, &err) != 0) {
        srv_resp_fail(s, resp, &err);
        return;
    }
    list = json_array();
    for (i = 0; list != NULL && i < ts.n; i++) {
        if (pki_token_policy_parse(ts.v[i].policy, &pol, &err) != 0)
            continue; /* listed by the store, unreadable here: skip, never guess */
        json_array_append_new(list, token_json(&ts.v[i], &pol));
    }
    store_tokens_clear(&ts);
    srv_resp_json(resp, 200, list);
}

void srv_api_token_delete(struct srv *s, const char *target, const char *accessor,
                          struct srv_resp *resp)
{
    struct pki_err err = {0};

    if (!pki_uuid_check(target)) {
        srv_resp_error(resp, 400, "the accessor must be a UUID");
        return;
    }
    if (strcmp(target, accessor) == 0) {
        srv_resp_error(resp, 400, "a token cannot delete itself; use another operator token");
        return;
    }
    if (store_token_delete(s->store, target, &err) != 0) {
        srv_resp_fail(s, resp, &err);
        return;
    }
    srv_audit(s, "token.delete", json_pack("{s:s,s:s}", "accessor", target, "by", accessor));
    srv_resp_json(resp, 200, json_true());
}
