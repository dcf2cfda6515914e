/*
 * caconfig.c - the CA configuration in Consul's shape (docs/server.md
 * "Configuration"): parse and validate a PUT body or the stored copy, render
 * it, and decide whether a change needs a new root.
 *
 * Every refusal is PKI_ERR_INPUT (the API answers 400 with the message),
 * except out of memory (PKI_ERR_INTERNAL).
 *
 * Decisions beyond Consul's rules:
 * - Ed25519 is stored as key.h's spec (bits 0) and rendered with
 *   PrivateKeyBits 256, the size Consul's tools expect to see; 0 and 256
 *   both read back as 0.
 * - An absent PrivateKeyBits takes the type's default (ec 256, rsa 2048), so
 *   {"PrivateKeyType": "rsa"} alone is a valid config.
 * - A supplied root and its key are stored re-encoded (the certificate as
 *   PEM, the key as PKCS#8 PEM), so the same root sent twice in another
 *   encoding is not a change and does not rotate.
 * - CSRMaxPerSecond is at most 1e9: beyond that the rate limiter's sums
 *   lose precision, and 0 already means unlimited.
 */
#include "caconfig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bodies.h"
#include "cert.h"
#include "duration.h"
#include "pem.h"

#define HOURS(n) ((int64_t)(n) * 3600)
#define LEAF_TTL_MIN HOURS(1)
#define LEAF_TTL_MAX HOURS(8760)
#define RATE_MAX 1e9
/* A supplied root or key, re-encoded: both fit in the stored config, which
 * is read back with the body limit (SRV_CONFIG_BODY_MAX) at start. */
#define SUPPLIED_PEM_MAX (16 * 1024)

/* What Config says about the root key, before the rules are applied. */
struct key_input {
    const char *type;  /* PrivateKeyType, or NULL */
    const json_t *bits; /* PrivateKeyBits, or NULL */
    const json_t *root; /* RootCert, or NULL when absent or "" */
    const json_t *key;  /* PrivateKey, or NULL when absent or "" */
};

void srv_ca_config_default(struct srv_ca_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->provider, sizeof(c->provider), "consul");
    c->leaf_ttl = HOURS(72);
    c->intermediate_ttl = HOURS(8760);
    c->root_ttl = HOURS(87600);
    c->spec.type = PKI_KEY_ECDSA;
    c->spec.bits = 256;
    c->csr_max_per_second = 50;
}

void srv_ca_config_clear(struct srv_ca_config *c)
{
    if (c == NULL)
        return;
    if (c->private_key_pem != NULL)
        OPENSSL_cleanse(c->private_key_pem, strlen(c->private_key_pem));
    free(c->private_key_pem);
    free(c->root_cert_pem);
    memset(c, 0, sizeof(*c));
}

/* ---- Config fields -------------------------------------------------------- */

static int parse_ttl(const json_t *cfg, const char *name, int64_t *out, struct pki_err *err)
{
    json_t *v = NULL;
    int rc;

    if ((rc = srv__json_get(cfg, name, JSON_STRING, "Config", &v, err)) != PKI_OK)
        return rc;
    if (v == NULL)
        return PKI_OK;
    if ((rc = pki_duration_parse(json_string_value(v), out, err)) != PKI_OK)
        pki_err_prefix(err, "Config.%s", name);
    return rc;
}

static int parse_rate(const json_t *cfg, double *out, struct pki_err *err)
{
    json_t *v = NULL;
    double r;
    int rc;

    if ((rc = srv__json_get(cfg, "CSRMaxPerSecond", JSON_REAL, "Config", &v, err)) != PKI_OK)
        return rc;
    if (v == NULL)
        return PKI_OK;
    r = json_number_value(v);
    if (!isfinite(r) || r < 0)
        return pki_err_set(err, PKI_ERR_INPUT, "Config.CSRMaxPerSecond is %g; it must be 0 "
                           "(unlimited) or more", r);
    if (r > RATE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "Config.CSRMaxPerSecond is %g; it must be at "
                           "most %g (0 means unlimited)", r, RATE_MAX);
    *out = r == 0 ? 0.0 : r; /* not -0.0 */
    return PKI_OK;
}

/* A PEM string, with "" read as absent (Consul's GET shows an unset RootCert
 * that way, and tools send back what they got). */
static int parse_pem_field(const json_t *cfg, const char *name, const json_t **out,
                           struct pki_err *err)
{
    json_t *v = NULL;
    int rc;

    if ((rc = srv__json_get(cfg, name, JSON_STRING, "Config", &v, err)) != PKI_OK)
        return rc;
    *out = v != NULL && json_string_length(v) > 0 ? v : NULL;
    return PKI_OK;
}

static int parse_key_input(const json_t *cfg, struct key_input *in, struct pki_err *err)
{
    json_t *type = NULL, *bits = NULL;
    int rc;

    if ((rc = srv__json_get(cfg, "PrivateKeyType", JSON_STRING, "Config", &type, err)) != 0 ||
        (rc = srv__json_get(cfg, "PrivateKeyBits", JSON_INTEGER, "Config", &bits, err)) != 0 ||
        (rc = parse_pem_field(cfg, "RootCert", &in->root, err)) != PKI_OK ||
        (rc = parse_pem_field(cfg, "PrivateKey", &in->key, err)) != PKI_OK)
        return rc;
    in->type = type != NULL ? json_string_value(type) : NULL;
    in->bits = bits;
    return PKI_OK;
}

/* ---- key type and size ------------------------------------------------------ */

static int type_from_name(const char *name, enum pki_key_type *type, struct pki_err *err)
{
    if (strcmp(name, "ec") == 0)
        *type = PKI_KEY_ECDSA;
    else if (strcmp(name, "rsa") == 0)
        *type = PKI_KEY_RSA;
    else if (strcmp(name, "ed25519") == 0)
        *type = PKI_KEY_ED25519;
    else
        return pki_err_set(err, PKI_ERR_INPUT, "Config.PrivateKeyType \"%.32s\" is not "
                           "supported (use ec, rsa or ed25519)", name);
    return PKI_OK;
}

static const char *type_to_name(enum pki_key_type type)
{
    return type == PKI_KEY_RSA ? "rsa" : type == PKI_KEY_ED25519 ? "ed25519" : "ec";
}

/* The sizes the signer generates (docs/server.md, GEN_ROOT); Ed25519's
 * 256 is accepted and stored as key.h's 0. */
static int check_bits(struct pki_key_spec *s, long long bits, const char *what,
                      struct pki_err *err)
{
    if (s->type == PKI_KEY_ECDSA && (bits == 256 || bits == 384 || bits == 521))
        s->bits = (int)bits;
    else if (s->type == PKI_KEY_RSA && (bits == 2048 || bits == 4096))
        s->bits = (int)bits;
    else if (s->type == PKI_KEY_ED25519 && (bits == 0 || bits == 256))
        s->bits = 0;
    else
        return pki_err_set(err, PKI_ERR_INPUT, "%s: %lld bits is not a size for %s keys (use "
                           "%s)", what, bits, type_to_name(s->type),
                           s->type == PKI_KEY_ECDSA ? "256, 384 or 521"
                           : s->type == PKI_KEY_RSA ? "2048 or 4096" : "256, or leave it out");
    return PKI_OK;
}

static int spec_from_input(const struct key_input *in, struct pki_key_spec *out,
                           struct pki_err *err)
{
    struct pki_key_spec s = {PKI_KEY_ECDSA, 256};
    int rc;

    if (in->type != NULL && (rc = type_from_name(in->type, &s.type, err)) != PKI_OK)
        return rc;
    if (in->bits == NULL)
        s.bits = s.type == PKI_KEY_RSA ? 2048 : s.type == PKI_KEY_ED25519 ? 0 : 256;
    else if ((rc = check_bits(&s, json_integer_value(in->bits), "Config.PrivateKeyBits",
                              err)) != PKI_OK)
        return rc;
    *out = s;
    return PKI_OK;
}

/* The spec of a supplied key: the sizes a generated root may have. */
static int spec_from_key(EVP_PKEY *key, struct pki_key_spec *out, struct pki_err *err)
{
    struct pki_key_spec s = {PKI_KEY_ECDSA, 0};

    if (EVP_PKEY_is_a(key, "RSA"))
        s.type = PKI_KEY_RSA;
    else if (EVP_PKEY_is_a(key, "ED25519"))
        s.type = PKI_KEY_ED25519;
    if (check_bits(&s, s.type == PKI_KEY_ED25519 ? 0 : EVP_PKEY_get_bits(key),
                   "Config.PrivateKey", err) != PKI_OK)
        return PKI_ERR_INPUT;
    *out = s;
    return PKI_OK;
}

/* With a supplied root, PrivateKeyType/Bits describe its key: absent, or
 * the same as the key. */
static int spec_agrees(const struct key_input *in, const struct pki_key_spec *key,
                       struct pki_err *err)
{
    struct pki_key_spec given = *key;
    enum pki_key_type type = key->type;

    if (in->type != NULL && (type_from_name(in->type, &type, err) != PKI_OK ||
                             type != key->type))
        return pki_err_set(err, PKI_ERR_INPUT, "Config.PrivateKeyType \"%.32s\" does not "
                           "match Config.PrivateKey (an %s key); leave it out or say \"%s\"",
                           in->type, type_to_name(key->type), type_to_name(key->type));
    if (in->bits != NULL && (check_bits(&given, json_integer_value(in->bits), "", err) != 0 ||
                             given.bits != key->bits))
        return pki_err_set(err, PKI_ERR_INPUT, "Config.PrivateKeyBits %lld does not match "
                           "Config.PrivateKey (%s %d); leave it out", json_integer_value(in->bits),
                           type_to_name(key->type), key->type == PKI_KEY_ED25519 ? 256 : key->bits);
    return PKI_OK;
}

/* ---- a supplied root ------------------------------------------------------ */

static int pem_dup(const struct pki_buf *b, char **out, struct pki_err *err)
{
    char *s = malloc(b->len + 1);

    if (s == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    *out = s;
    return PKI_OK;
}

static int read_root_cert(const json_t *v, X509 **out, struct pki_err *err)
{
    STACK_OF(X509) *certs;
    int n;

    certs = pki_pem_read_certs((const unsigned char *)json_string_value(v),
                               json_string_length(v), err);
    if (certs == NULL) {
        pki_err_prefix(err, "Config.RootCert");
        return err->code;
    }
    n = sk_X509_num(certs);
    if (n == 1 && pki_cert_is_ca(sk_X509_value(certs, 0)))
        *out = sk_X509_shift(certs);
    pki_certs_free(certs);
    if (n != 1)
        return pki_err_set(err, PKI_ERR_INPUT, "Config.RootCert holds %d certificates; give "
                           "exactly one (the root)", n);
    if (*out == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "Config.RootCert is not a CA certificate (it "
                           "lacks basicConstraints CA:TRUE)");
    return PKI_OK;
}

static int read_root_key(const json_t *v, X509 *cert, EVP_PKEY **out, struct pki_err *err)
{
    EVP_PKEY *keys[1] = {NULL};
    size_t n = 0;
    int rc;

    /* Exactly one key: pki_key_from_pem would take the first of several. On
     * failure keys[] holds freed pointers, so *out is set only on success. */
    rc = pki_keys_from_pem((const unsigned char *)json_string_value(v), json_string_length(v),
                           keys, 1, &n, err);
    if (rc != PKI_OK) {
        pki_err_prefix(err, "Config.PrivateKey");
        return rc;
    }
    *out = keys[0];
    if (!pki_key_matches_cert(*out, cert))
        return pki_err_set(err, PKI_ERR_INPUT, "Config.PrivateKey does not match the public "
                           "key of Config.RootCert");
    return PKI_OK;
}

/* RootCert and PrivateKey: one CA certificate and its key, which then fix
 * the key type and size. Stored re-encoded into c. */
static int supplied_root(const struct key_input *in, struct srv_ca_config *c,
                         struct pki_err *err)
{
    struct pki_buf cert_pem = {NULL, 0}, key_pem = {NULL, 0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc;

    if (in->root == NULL || in->key == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "Config.RootCert and Config.PrivateKey go "
                           "together: give both or neither");
    if ((rc = read_root_cert(in->root, &cert, err)) != PKI_OK ||
        (rc = read_root_key(in->key, cert, &key, err)) != PKI_OK ||
        (rc = spec_from_key(key, &c->spec, err)) != PKI_OK ||
        (rc = spec_agrees(in, &c->spec, err)) != PKI_OK)
        goto out;
    if ((rc = pki_pem_append_cert(cert, &cert_pem, err)) != PKI_OK ||
        (rc = pki_key_to_pem(key, &key_pem, err)) != PKI_OK)
        goto out;
    if (cert_pem.len > SUPPLIED_PEM_MAX || key_pem.len > SUPPLIED_PEM_MAX) {
        rc = pki_err_set(err, PKI_ERR_INPUT, "Config.%s is larger than %d bytes as PEM",
                         cert_pem.len > SUPPLIED_PEM_MAX ? "RootCert" : "PrivateKey",
                         SUPPLIED_PEM_MAX);
        goto out;
    }
    if ((rc = pem_dup(&cert_pem, &c->root_cert_pem, err)) != PKI_OK ||
        (rc = pem_dup(&key_pem, &c->private_key_pem, err)) != PKI_OK)
        goto out;
out:
    pki_buf_free(&key_pem);
    pki_buf_free(&cert_pem);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

/* ---- rules ----------------------------------------------------------------- */

static int ttl_refused(const char *field, int64_t v, const char *rule, int64_t bound,
                       struct pki_err *err)
{
    char a[32], b[32];

    pki_duration_format(v, a, sizeof(a));
    pki_duration_format(bound, b, sizeof(b));
    return pki_err_set(err, PKI_ERR_INPUT, "Config.%s is %s; it must be %s %s", field, a,
                       rule, b);
}

/* Consul's rules: a leaf lives 1h to a year; an intermediate outlives three
 * leaves, so one renewed at two thirds of its life never outlives its
 * issuer; the root outlives the intermediate it signs. */
static int check_ttls(const struct srv_ca_config *c, struct pki_err *err)
{
    if (c->leaf_ttl < LEAF_TTL_MIN)
        return ttl_refused("LeafCertTTL", c->leaf_ttl, "at least", LEAF_TTL_MIN, err);
    if (c->leaf_ttl > LEAF_TTL_MAX)
        return ttl_refused("LeafCertTTL", c->leaf_ttl, "at most", LEAF_TTL_MAX, err);
    if (c->intermediate_ttl < 3 * c->leaf_ttl)
        return ttl_refused("IntermediateCertTTL", c->intermediate_ttl,
                           "at least 3 times LeafCertTTL:", 3 * c->leaf_ttl, err);
    if (c->root_ttl < c->intermediate_ttl)
        return ttl_refused("RootCertTTL", c->root_ttl, "at least IntermediateCertTTL:",
                           c->intermediate_ttl, err);
    return PKI_OK;
}

static int parse_config(const json_t *cfg, struct srv_ca_config *c, struct pki_err *err)
{
    static const char *const known[] = {"LeafCertTTL", "IntermediateCertTTL", "RootCertTTL",
                                        "PrivateKeyType", "PrivateKeyBits", "CSRMaxPerSecond",
                                        "RootCert", "PrivateKey", NULL};
    struct key_input in = {NULL, NULL, NULL, NULL};
    int rc;

    if (cfg != NULL &&
        ((rc = srv__json_fields(cfg, known, "Config", err)) != PKI_OK ||
         (rc = parse_ttl(cfg, "LeafCertTTL", &c->leaf_ttl, err)) != PKI_OK ||
         (rc = parse_ttl(cfg, "IntermediateCertTTL", &c->intermediate_ttl, err)) != PKI_OK ||
         (rc = parse_ttl(cfg, "RootCertTTL", &c->root_ttl, err)) != PKI_OK ||
         (rc = parse_rate(cfg, &c->csr_max_per_second, err)) != PKI_OK ||
         (rc = parse_key_input(cfg, &in, err)) != PKI_OK))
        return rc;
    if ((rc = check_ttls(c, err)) != PKI_OK)
        return rc;
    if (in.root == NULL && in.key == NULL)
        return spec_from_input(&in, &c->spec, err);
    return supplied_root(&in, c, err);
}

static int parse_top(const json_t *root, struct srv_ca_config *c, json_t **cfg,
                     struct pki_err *err)
{
    static const char *const known[] = {"Provider", "Config", "ForceWithoutCrossSigning",
                                        "CreateIndex", "ModifyIndex", NULL};
    json_t *provider = NULL, *force = NULL, *index = NULL;
    int rc;

    if ((rc = srv__json_fields(root, known, "", err)) != PKI_OK ||
        (rc = srv__json_get(root, "Provider", JSON_STRING, "", &provider, err)) != PKI_OK ||
        (rc = srv__json_get(root, "Config", JSON_OBJECT, "", cfg, err)) != PKI_OK ||
        (rc = srv__json_get(root, "ForceWithoutCrossSigning", JSON_TRUE, "", &force, err)) != 0 ||
        (rc = srv__json_get(root, "CreateIndex", JSON_INTEGER, "", &index, err)) != PKI_OK ||
        (rc = srv__json_get(root, "ModifyIndex", JSON_INTEGER, "", &index, err)) != PKI_OK)
        return rc;
    if (provider == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "missing field \"Provider\" (this server has "
                           "\"consul\", the built-in CA)");
    if (strcmp(json_string_value(provider), "consul") != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "Provider \"%.32s\": unknown provider; this "
                           "server has \"consul\" (the built-in CA)", json_string_value(provider));
    c->force_without_cross_signing = force != NULL && json_is_true(force);
    return PKI_OK;
}

/* The body's copy of PrivateKey is wiped before jansson frees it. */
static void wipe_private_key(json_t *root)
{
    json_t *v = json_object_get(json_object_get(root, "Config"), "PrivateKey");

    if (json_is_string(v))
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

int srv_ca_config_parse(const char *json, size_t len, struct srv_ca_config *out,
                        struct pki_err *err)
{
    struct srv_ca_config c;
    struct pki_err local;
    json_t *root, *cfg = NULL;
    int rc;

    if (err == NULL)
        err = &local;
    srv_ca_config_default(&c);
    if ((root = srv__json_body(json, len, SRV_CONFIG_BODY_MAX, err)) == NULL) {
        rc = err->code;
    } else {
        if ((rc = parse_top(root, &c, &cfg, err)) == PKI_OK)
            rc = parse_config(cfg, &c, err);
        wipe_private_key(root);
        json_decref(root);
    }
    if (rc != PKI_OK) {
        srv_ca_config_clear(&c);
        return srv__err_finish(rc, err);
    }
    *out = c;
    return PKI_OK;
}

/* ---- rendering -------------------------------------------------------------- */

static json_t *duration_json(int64_t seconds)
{
    char buf[48];

    pki_duration_format(seconds, buf, sizeof(buf));
    return json_string(buf);
}

/* A whole rate as an integer, as Consul shows it ("CSRMaxPerSecond": 50). */
static json_t *rate_json(double r)
{
    if (r >= 0 && r <= RATE_MAX && r == (double)(json_int_t)r)
        return json_integer((json_int_t)r);
    return json_real(r);
}

static json_t *config_json(const struct srv_ca_config *c, int with_secrets)
{
    json_t *o = json_object();
    int bad = o == NULL;

    bad |= json_object_set_new(o, "LeafCertTTL", duration_json(c->leaf_ttl));
    bad |= json_object_set_new(o, "IntermediateCertTTL", duration_json(c->intermediate_ttl));
    bad |= json_object_set_new(o, "RootCertTTL", duration_json(c->root_ttl));
    bad |= json_object_set_new(o, "PrivateKeyType", json_string(type_to_name(c->spec.type)));
    bad |= json_object_set_new(o, "PrivateKeyBits",
                               json_integer(c->spec.type == PKI_KEY_ED25519 ? 256 : c->spec.bits));
    bad |= json_object_set_new(o, "CSRMaxPerSecond", rate_json(c->csr_max_per_second));
    if (c->root_cert_pem != NULL)
        bad |= json_object_set_new(o, "RootCert", json_string(c->root_cert_pem));
    if (c->private_key_pem != NULL && with_secrets)
        bad |= json_object_set_new(o, "PrivateKey", json_string(c->private_key_pem));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *index_json(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

json_t *srv_ca_config_to_json(const struct srv_ca_config *c, int with_secrets)
{
    json_t *o = json_object();
    int bad = o == NULL;

    bad |= json_object_set_new(o, "Provider", json_string(c->provider));
    bad |= json_object_set_new(o, "Config", config_json(c, with_secrets));
    bad |= json_object_set_new(o, "ForceWithoutCrossSigning",
                               json_boolean(c->force_without_cross_signing));
    bad |= json_object_set_new(o, "CreateIndex", index_json(c->create_index));
    bad |= json_object_set_new(o, "ModifyIndex", index_json(c->modify_index));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int srv_ca_config_needs_rotation(const struct srv_ca_config *old,
                                 const struct srv_ca_config *new_cfg)
{
    return strcmp(old->provider, new_cfg->provider) != 0 ||
           old->spec.type != new_cfg->spec.type || old->spec.bits != new_cfg->spec.bits ||
           !same_text(old->root_cert_pem, new_cfg->root_cert_pem);
}
