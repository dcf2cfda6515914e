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
#include "fmt.h"
#include "leaf.h"
#include "ncons.h"
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

/* The intermediates follow every leaf's PEM: escaped once per state load
 * (srv_state_load) rather than twice per answer. */
char *srv_leaf_json_escape(const char *pem)
{
    size_t n = strlen(pem);
    struct jw w = {0};

    jw_esc(&w, pem, n);
    if ((w.p = malloc(w.len + 1)) == NULL)
        return NULL;
    w.len = 0;
    jw_esc(&w, pem, n);
    w.p[w.len] = '\0';
    return (char *)w.p;
}

/* The certificate as PEM inside a JSON string: its line ends are the only
 * characters to escape, so they are written escaped ("\\n") in the first
 * place. */
static void jw_pem_cert(struct jw *w, const unsigned char *der, size_t len)
{
    if (w->p != NULL)
        w->len += pki_pem_text("CERTIFICATE", der, len, "\\n", (char *)w->p + w->len);
    else
        w->len += pki_pem_text_len("CERTIFICATE", len, 2);
}

static void jw_u64(struct jw *w, uint64_t v)
{
    char num[PKI_FMT_U64_MAX];

    jw_raw(w, num, pki_fmt_u64(v, num));
}

struct leaf_answer {
    const char *serial, *chain_json, *key_pem, *service, *uri;
    const unsigned char *cert_der;
    size_t cert_der_len, chain_json_len, key_pem_len;
    char valid_after[32], valid_before[32];
    unsigned long long index;
};

static void leaf_json(struct jw *w, const struct leaf_answer *a)
{
    jw_raw(w, "{", 1);
    jw_str(w, "SerialNumber", a->serial);
    jw_key(w, "CertPEM"); /* the leaf, then the intermediates */
    jw_pem_cert(w, a->cert_der, a->cert_der_len);
    jw_raw(w, a->chain_json, a->chain_json_len);
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
    jw_raw(w, "\"CreateIndex\":", 14);
    jw_u64(w, a->index);
    jw_raw(w, ",\"ModifyIndex\":", 15);
    jw_u64(w, a->index);
    jw_raw(w, "}", 1);
}

/* A leaf between the request and the signer's answer: what the answer
 * needs, copied (the request's buffers are gone by then). */
struct pending {
    struct srv_conn *conn;     /* NULL: answered synchronously */
    char service[PKI_SERVICE_MAX + 1];
    char uri[PKI_SPIFFE_URI_MAX + 1];
    char accessor[STORE_ID_MAX];
    enum srv_metric_endpoint ep;
    EVP_PKEY *key;             /* owned: the leaf endpoint's new key */
    time_t not_before, not_after;
    int64_t t0;
};

struct srv_leaf_queue {
    struct pending v[SRV_SIGNER_INFLIGHT_MAX];
    size_t head, n;
    struct event *ready; /* the signer's reply pipe, watched while n > 0 */
};

static int leaf_body(struct srv *s, const struct pending *p, const struct pki_buf *der,
                     const char *sn, struct pki_buf *b, struct pki_err *err)
{
    struct pki_buf key_pem = {0};
    struct leaf_answer a = {.serial = sn, .cert_der = der->data, .cert_der_len = der->len,
                            .chain_json = s->leaf_chain_json,
                            .chain_json_len = strlen(s->leaf_chain_json),
                            .service = p->service, .uri = p->uri,
                            .index = (unsigned long long)s->roots.v[0].modify_index};
    struct jw w = {0};

    if (p->key != NULL) {
        if (pki_key_to_pem(p->key, &key_pem, err) != 0)
            return err->code;
        a.key_pem = (const char *)key_pem.data;
        a.key_pem_len = key_pem.len;
    }
    srv_time_rfc3339(p->not_before, a.valid_after);
    srv_time_rfc3339(p->not_after, a.valid_before);
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

/* The answer to one leaf request, from the signer's reply (rc, der, serial). */
static void answer(struct srv *s, const struct pending *p, int rc, const struct pki_buf *der,
                   const unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err,
                   struct srv_resp *resp)
{
    char sn[PKI_LEAF_SERIAL_LEN * 3];

    if (rc != 0) {
        srv_resp_error(resp, err->code == PKI_ERR_INTERNAL ? 503 : 400, err->msg);
        if (!srv_signer_alive(s->signer))
            srv_worker_fail(s, err->msg);
        return;
    }
    pki_hex_colon(serial, PKI_LEAF_SERIAL_LEN, sn);
    if (leaf_body(s, p, der, sn, &resp->body, err) != 0) {
        srv_resp_error(resp, 500, err->msg);
    } else {
        const char *kv[10] = {"serial", sn, "service", p->service, "uri", p->uri, "accessor",
                              p->accessor, "endpoint", p->ep == SRV_EP_LEAF ? "leaf" : "sign"};

        resp->status = 200;
        resp->content_type = "application/json";
        srv_metrics_issued(s->metrics, p->ep, (double)(srv_monotonic_ms() - p->t0) / 1000.0);
        srv_audit_issue(s, kv);
    }
}

static void on_signer(evutil_socket_t fd, short what, void *arg)
{
    struct srv *s = arg;

    (void)fd;
    (void)what;
    if (s->leaves->n > 0) {
        srv_leaf_complete(s, 0);
        return;
    }
    /* Readable with nothing asked: the signer closed its end. Stop watching
     * (the next request finds it gone and answers 503). */
    if (srv_signer_idle_readable(s->signer))
        event_del(s->leaves->ready);
}

/* Before any other signer request, and before the state the answers are
 * built from changes (srv_state_load): answer every leaf in flight. */
static void drain(void *arg)
{
    srv_leaf_complete(arg, 1);
}

int srv_leaf_queue_new(struct srv *s, struct pki_err *err)
{
    if (s->prov.ops->issue_send == NULL || s->prov.ops->issue_recv == NULL)
        return PKI_OK; /* this provider signs synchronously */
    if ((s->leaves = calloc(1, sizeof(*s->leaves))) == NULL ||
        (s->leaves->ready = event_new(s->base, srv_signer_fd(s->signer), EV_READ | EV_PERSIST,
                                      on_signer, s)) == NULL) {
        free(s->leaves);
        s->leaves = NULL;
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    srv_signer_set_drain(s->signer, drain, s);
    /* Watched all the time: adding and removing it around every batch
     * would cost two epoll_ctl per leaf. */
    if (event_add(s->leaves->ready, NULL) != 0) {
        srv_leaf_queue_free(s);
        return pki_err_set(err, PKI_ERR_INTERNAL, "cannot watch the signer's reply pipe");
    }
    return PKI_OK;
}

void srv_leaf_complete(struct srv *s, int wait)
{
    struct srv_leaf_queue *q = s->leaves;

    while (q != NULL && q->n > 0) {
        struct pending *p = &q->v[q->head];
        struct srv_resp resp = {0};
        struct pki_buf der = {0};
        struct pki_err err = {0};
        unsigned char serial[PKI_LEAF_SERIAL_LEN];
        struct srv_conn *conn = p->conn;
        int rc = s->prov.ops->issue_recv(s->prov.ctx, wait, &der, serial, &err);

        if (rc == SRV_SIGNER_NONE)
            return;
        answer(s, p, rc, &der, serial, &err, &resp);
        pki_buf_free(&der);
        EVP_PKEY_free(p->key);
        memset(p, 0, sizeof(*p));
        q->head = (q->head + 1) % SRV_SIGNER_INFLIGHT_MAX;
        q->n--;
        srv_api_count(s, resp.status);
        srv_net_finish(conn, &resp);
    }
}

void srv_leaf_queue_free(struct srv *s)
{
    if (s->leaves == NULL)
        return;
    srv_leaf_complete(s, 1);
    srv_signer_set_drain(s->signer, NULL, NULL);
    event_free(s->leaves->ready);
    free(s->leaves);
    s->leaves = NULL;
}

/* Sends the request to the signer and defers the answer (srv_leaf_complete
 * gives it), or, without a queue, waits for the signature here. Takes
 * p->key either way. */
static void sign(struct srv *s, const struct pki_leaf_req *req, struct pending *p,
                 struct srv_resp *resp)
{
    struct srv_leaf_queue *q = s->leaves;
    struct pki_buf der = {0};
    struct pki_err err = {0};
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    int rc;

    if (q != NULL && resp->conn != NULL) {
        if (q->n == SRV_SIGNER_INFLIGHT_MAX)
            srv_leaf_complete(s, 1);
        if ((rc = s->prov.ops->issue_send(s->prov.ctx, req, &err)) == 0) {
            p->conn = resp->conn;
            q->v[(q->head + q->n) % SRV_SIGNER_INFLIGHT_MAX] = *p;
            q->n++;
            resp->deferred = 1;
            return;
        }
    } else {
        rc = s->prov.ops->issue(s->prov.ctx, req, &der, serial, &err);
    }
    answer(s, p, rc, &der, serial, &err, resp);
    pki_buf_free(&der);
    EVP_PKEY_free(p->key);
}

/* Takes in->key. */
static void issue(struct srv *s, struct issue_in *in, struct srv_resp *resp)
{
    struct pki_leaf_req req = {0};
    struct pending p = {.ep = in->ep, .key = in->key, .t0 = srv_monotonic_ms()};
    struct pki_err err = {0};
    time_t now = srv_now();

    in->key = NULL;
    snprintf(p.service, sizeof(p.service), "%s", in->service);
    snprintf(p.accessor, sizeof(p.accessor), "%s", in->accessor);
    if (pki_spiffe_service_uri(s->meta.trust_domain, s->meta.datacenter, in->service, p.uri,
                               sizeof(p.uri), &err) != 0) {
        srv_resp_error(resp, 400, err.msg);
        EVP_PKEY_free(p.key);
        return;
    }
    req.profile = PKI_LEAF_SERVICE;
    req.spki = in->spki;
    req.spki_len = in->spki_len;
    req.common_name = in->service;
    req.uri = p.uri;
    req.dns = in->dns;
    req.ndns = in->ndns;
    req.not_before = now - 60; /* a minute of clock skew, as Consul */
    req.not_after = now + s->config.leaf_ttl;
    if (req.not_after > s->signing_not_after)
        req.not_after = s->signing_not_after;
    /* Never before the issuer's own start (a clock stepped back). */
    if (req.not_before < s->signing_not_before)
        req.not_before = s->signing_not_before;
    p.not_before = req.not_before;
    p.not_after = req.not_after;
    sign(s, &req, &p, resp);
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

/* Under a root with name constraints, the CSR's DNS names must pass them:
 * a leaf its peers refuse is no use. (The trust domain's URI was checked
 * when the root was supplied.) */
static int csr_names_permitted(const struct srv *s, const struct pki_csr_fast *csr,
                               struct pki_err *err)
{
    struct pki_nc_cert c = {"the CSR", NULL, 1, NULL, csr->ndns};
    struct pki_host *hosts;
    size_t i;
    int rc = PKI_OK;

    if (s->root_nc == NULL || csr->ndns == 0)
        return PKI_OK;
    if ((hosts = calloc(csr->ndns, sizeof(*hosts))) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    for (i = 0; i < csr->ndns && rc == PKI_OK; i++)
        rc = pki_san_check(PKI_HOST_DNS, csr->dns[i], &hosts[i], err);
    c.sans = hosts;
    if (rc == PKI_OK)
        rc = pki_nc_permits(s->root_nc, "the active root", &c, err);
    free(hosts);
    return rc;
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
        csr_identity(s, csr, service, &err) != 0 || csr_names_permitted(s, csr, &err) != 0) {
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
