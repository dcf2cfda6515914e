/* api_leaf.c - leaf certificates for services: GET
 * /v1/agent/connect/ca/leaf/<service> (the server makes the key) and POST
 * /v1/connect/ca/sign (the client keeps its key and sends a CSR). The
 * signer builds and signs; this file decides who may ask for what. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bodies.h"
#include "csrfast.h"
#include "leaf.h"
#include "pem.h"
#include "server.h"
#include "spiffe.h"

struct issue_in {
    const char *service;
    const unsigned char *spki;
    size_t spki_len;
    const char *const *dns;
    size_t ndns;
    EVP_PKEY *key;            /* the leaf endpoint's new key; NULL for sign */
    const char *accessor;
    enum srv_metric_endpoint ep;
};

static int allowed(const struct pki_token_policy *pol, const char *service,
                   struct srv_resp *resp)
{
    char msg[200];

    if (pki_token_allows_service(pol, service))
        return 1;
    snprintf(msg, sizeof(msg), "Permission denied: this token may not get certificates for "
             "service \"%s\"", service);
    srv_resp_error(resp, 403, msg);
    return 0;
}

/* Leaves share the signer with everything else: a stampede after a
 * rotation is held at CSRMaxPerSecond and told when to come back. */
static int rate_ok(struct srv *s, struct srv_resp *resp)
{
    int retry = 1;

    if (srv_shared_rate_take(s->shared, srv_monotonic_ms(), &retry))
        return 1;
    srv_resp_error(resp, 429, "rate limit exceeded, retry later");
    snprintf(resp->headers, sizeof(resp->headers), "Retry-After: %d\r\n", retry);
    return 0;
}

/* The answer is written directly, not through jansson: it is the hot
 * path's only JSON (~150k instructions per leaf through json_dumps), and
 * every value is ours: PEM, hex, RFC 3339 times, a checked name and URI.
 * Two passes over the same code: the first counts, the second fills one
 * allocation of exactly that size (appending piece by piece copied and
 * wiped the growing body once per piece). */
struct jw {
    unsigned char *p; /* NULL: count only */
    size_t len;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->p != NULL)
        memcpy(w->p + w->len, s, n);
    w->len += n;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* 1 if none of the 8 bytes at p needs escaping: no byte below 0x20, no
 * '"', no '\\' (the "has a byte less than n" and "has a zero byte" word
 * tests; a false alarm only sends the word through the byte loop). PEM is
 * long runs of base64, and a leaf answer carries ~3 KB of it. */
static int plain8(const char *p)
{
    uint64_t v, q, b;

    memcpy(&v, p, 8);
    q = v ^ (ONES * '"');
    b = v ^ (ONES * '\\');
    return ((((v - ONES * 0x20) & ~v) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS) == 0;
}

/* s as the inside of a JSON string (RFC 8259 section 7). */
static void jw_esc(struct jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, from = 0;

    while (i < n) {
        unsigned char c;

        if (n - i >= 8 && plain8(s + i)) {
            i += 8;
            continue;
        }
        c = (unsigned char)s[i++];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jw_raw(w, s + from, i - 1 - from);
        if (c == '\n') {
            jw_raw(w, "\\n", 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            jw_raw(w, esc, sizeof(esc));
        }
        from = i;
    }
    jw_raw(w, s + from, n - from);
}

static void jw_key(struct jw *w, const char *key)
{
    jw_raw(w, "\"", 1);
    jw_raw(w, key, strlen(key));
    jw_raw(w, "\":\"", 3);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
    jw_key(w, key);
    jw_esc(w, v, strlen(v));
    jw_raw(w, "\",", 2);
}

struct leaf_answer {
    const char *serial, *cert_pem, *chain_pem, *key_pem, *service, *uri;
    size_t cert_pem_len, key_pem_len;
    char valid_after[32], valid_before[32];
    unsigned long long index;
};

static void leaf_json(struct jw *w, const struct leaf_answer *a)
{
    char tail[96];
    int n;

    jw_raw(w, "{", 1);
    jw_str(w, "SerialNumber", a->serial);
    jw_key(w, "CertPEM"); /* the leaf, then the intermediates */
    jw_esc(w, a->cert_pem, a->cert_pem_len);
    jw_esc(w, a->chain_pem, strlen(a->chain_pem));
    jw_raw(w, "\",", 2);
    if (a->key_pem != NULL) {
        jw_key(w, "PrivateKeyPEM");
        jw_esc(w, a->key_pem, a->key_pem_len);
        jw_raw(w, "\",", 2);
    }
    jw_str(w, "Service", a->service);
    jw_str(w, "ServiceURI", a->uri);
    jw_str(w, "ValidAfter", a->valid_after);
    jw_str(w, "ValidBefore", a->valid_before);
    n = snprintf(tail, sizeof(tail), "\"CreateIndex\":%llu,\"ModifyIndex\":%llu}", a->index,
                 a->index);
    jw_raw(w, tail, (size_t)n);
}

static int leaf_body(struct srv *s, const struct issue_in *in, const char *uri,
                     const struct pki_buf *cert_pem, const char *sn,
                     const struct pki_leaf_req *req, struct pki_buf *b, struct pki_err *err)
{
    struct pki_buf key_pem = {0};
    struct leaf_answer a = {.serial = sn, .cert_pem = (const char *)cert_pem->data,
                            .cert_pem_len = cert_pem->len, .chain_pem = s->leaf_chain_pem,
                            .service = in->service, .uri = uri,
                            .index = (unsigned long long)s->roots.v[0].modify_index};
    struct jw w = {0};

    if (in->key != NULL) {
        if (pki_key_to_pem(in->key, &key_pem, err) != 0)
            return err->code;
        a.key_pem = (const char *)key_pem.data;
        a.key_pem_len = key_pem.len;
    }
    srv_time_rfc3339(req->not_before, a.valid_after);
    srv_time_rfc3339(req->not_after, a.valid_before);
    leaf_json(&w, &a);
    pki_buf_free(b);
    if ((b->data = OPENSSL_malloc(w.len + 1)) == NULL) {
        pki_buf_free(&key_pem);
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    b->len = w.len;
    w.p = b->data;
    w.len = 0;
    leaf_json(&w, &a);
    b->data[b->len] = '\0';
    pki_buf_free(&key_pem);
    return PKI_OK;
}

static void issue(struct srv *s, const struct issue_in *in, struct srv_resp *resp)
{
    struct pki_leaf_req req = {0};
    struct pki_buf der = {0}, pem = {0};
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    char uri[PKI_SPIFFE_URI_MAX + 1], sn[PKI_LEAF_SERIAL_LEN * 3];
    struct pki_err err = {0};
    int64_t t0 = srv_monotonic_ms();
    time_t now = srv_now();

    if (pki_spiffe_service_uri(s->meta.trust_domain, s->meta.datacenter, in->service, uri,
                               sizeof(uri), &err) != 0) {
        srv_resp_error(resp, 400, err.msg);
        return;
    }
    req.profile = PKI_LEAF_SERVICE;
    req.spki = in->spki;
    req.spki_len = in->spki_len;
    req.common_name = in->service;
    req.uri = uri;
    req.dns = in->dns;
    req.ndns = in->ndns;
    req.not_before = now - 60; /* a minute of clock skew, as Consul */
    req.not_after = now + s->config.leaf_ttl;
    if (req.not_after > s->signing_not_after)
        req.not_after = s->signing_not_after;
    /* Never before the issuer's own start (a clock stepped back). */
    if (req.not_before < s->signing_not_before)
        req.not_before = s->signing_not_before;
    if (s->prov.ops->issue(s->prov.ctx, &req, &der, serial, &err) != 0) {
        srv_resp_error(resp, err.code == PKI_ERR_INTERNAL ? 503 : 400, err.msg);
        if (!srv_signer_alive(s->signer))
            srv_worker_fail(s, err.msg);
        return;
    }
    pki_hex_colon(serial, PKI_LEAF_SERIAL_LEN, sn);
    if (pki_pem_encode("CERTIFICATE", der.data, der.len, &pem, &err) != 0 ||
        leaf_body(s, in, uri, &pem, sn, &req, &resp->body, &err) != 0) {
        srv_resp_error(resp, 500, err.msg);
    } else {
        const char *kv[10] = {"serial", sn, "service", in->service, "uri", uri, "accessor",
                              in->accessor, "endpoint", in->ep == SRV_EP_LEAF ? "leaf" : "sign"};

        resp->status = 200;
        resp->content_type = "application/json";
        srv_metrics_issued(s->metrics, in->ep, (double)(srv_monotonic_ms() - t0) / 1000.0);
        srv_audit_issue(s, kv);
    }
    pki_buf_free(&der);
    pki_buf_free(&pem);
}

void srv_api_leaf(struct srv *s, const struct srv_http_req *req, const char *service,
                  const struct pki_token_policy *pol, const char *accessor,
                  struct srv_resp *resp)
{
    struct issue_in in = {0};
    struct pki_err err = {0};
    unsigned char *spki = NULL;
    int len;

    (void)req;
    if (pki_label_check("service", service, &err) != 0) {
        srv_resp_error(resp, 400, err.msg);
        return;
    }
    if (!allowed(pol, service, resp) || !rate_ok(s, resp))
        return;
    in.key = pki_key_generate(&s->config.spec, &err);
    len = in.key != NULL ? i2d_PUBKEY(in.key, &spki) : 0;
    if (len <= 0) {
        srv_resp_error(resp, 500, in.key == NULL ? err.msg : "cannot encode the new key");
    } else {
        in.service = service;
        in.spki = spki;
        in.spki_len = (size_t)len;
        in.accessor = accessor;
        in.ep = SRV_EP_LEAF;
        issue(s, &in, resp);
    }
    OPENSSL_free(spki);
    EVP_PKEY_free(in.key);
}

/* The CSR names its service in exactly one URI SAN, in our trust domain
 * and datacenter; DNS SANs (at most 16) are copied; nothing else (the
 * fast reader refuses other name types). */
static int csr_identity(struct srv *s, const struct pki_csr_fast *csr,
                        char service[PKI_SERVICE_MAX + 1], struct pki_err *err)
{
    if (!csr->has_uri)
        return pki_err_set(err, PKI_ERR_POLICY, "the CSR has no URI SAN: it must name its "
                           "service as spiffe://%s/ns/default/dc/%s/svc/NAME",
                           s->meta.trust_domain, s->meta.datacenter);
    return pki_spiffe_parse_service(csr->uri, s->meta.trust_domain, s->meta.datacenter,
                                    service, err);
}

void srv_api_sign(struct srv *s, const struct srv_http_req *req,
                  const struct pki_token_policy *pol, const char *accessor,
                  struct srv_resp *resp)
{
    struct pki_csr_fast *csr = calloc(1, sizeof(*csr));
    const char *dns[PKI_LEAF_DNS_MAX];
    char service[PKI_SERVICE_MAX + 1];
    struct issue_in in = {0};
    struct pki_err err = {0};
    char *pem = NULL;
    size_t i;

    if (csr == NULL) {
        srv_resp_error(resp, 500, "out of memory");
        return;
    }
    if (req->body == NULL || srv_body_sign_parse((const char *)req->body, req->body_len, &pem,
                                                 &err) != 0) {
        srv_resp_error(resp, 400, req->body == NULL ? "the request has no body: send "
                       "{\"CSR\": \"PEM\"}" : err.msg);
        goto out;
    }
    if (pki_csr_fast_read(s->csrv, pem, strlen(pem), csr, &err) != 0 ||
        csr_identity(s, csr, service, &err) != 0) {
        srv_resp_error(resp, err.code == PKI_ERR_INTERNAL ? 500 : 400, err.msg);
        goto out;
    }
    if (!allowed(pol, service, resp) || !rate_ok(s, resp))
        goto out;
    for (i = 0; i < csr->ndns; i++)
        dns[i] = csr->dns[i];
    in.service = service;
    in.spki = csr->spki;
    in.spki_len = csr->spki_len;
    in.dns = dns;
    in.ndns = csr->ndns;
    in.accessor = accessor;
    in.ep = SRV_EP_SIGN;
    issue(s, &in, resp);
out:
    pki_csr_fast_clear(csr);
    free(csr);
    free(pem);
}
