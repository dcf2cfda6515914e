/*
 * csrfast.c - reading a PKCS#10 request (RFC 2986) by walking its DER in
 * place. Decoding it into an X509_REQ cost ~1.2M instructions (most in the
 * provider decoder for the key), its signature check ~0.9M and re-encoding
 * the key for the leaf ~0.75M more, against ~0.83M for the P-256 verify
 * itself. The PEM text is read by csrfast_pem.c, the signature checked by
 * csrfast_verify.c; the walk here fills struct pki_csr_fast and points the
 * signature check at the bytes it needs.
 */
#include "csrfast.h"

#include <stdlib.h>
#include <string.h>

#include "csrfast_int.h"
#include "leaf_der.h"

#define DER_GENERAL_NAMES 0x30
#define DER_PRINTABLE 0x13
#define DER_IA5 0x16
#define DER_ATTRS 0xa0 /* [0] IMPLICIT SET OF Attribute, constructed */
#define GN_DNS 0x82    /* [2] IMPLICIT IA5String */
#define GN_URI 0x86    /* [6] IMPLICIT IA5String */

/* Bounds beyond the 16 KiB of DER: no honest CSR comes near them. */
#define NAME_ATTRS_MAX 64
#define ATTRS_MAX 16
#define EXTS_MAX 32

#define TRY(x)                        \
    do {                              \
        int rc_ = (x);                \
        if (rc_ != PKI_OK)            \
            return rc_;               \
    } while (0)

/* 1.2.840.113549.1.9.14 (PKCS #9 extensionRequest) and Microsoft's
 * 1.3.6.1.4.1.311.2.1.14, which OpenSSL also reads as one. */
static const unsigned char oid_ext_req[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
static const unsigned char oid_ms_ext_req[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02,
                                               0x01, 0x0e};
static const unsigned char oid_san[] = {0x55, 0x1d, 0x11};

struct walk {
    const unsigned char *base; /* the DER's first byte, for offsets in messages */
    struct pki_csr_fast *out;
    struct pki__csr_sig *sig;
    struct pki_err *err;
};

struct cur {
    const unsigned char *p;
    size_t n;
};

static int same(const struct cur *c, const unsigned char *oid, size_t len)
{
    return c->n == len && memcmp(c->p, oid, len) == 0;
}

static size_t off(const struct walk *w, const unsigned char *at)
{
    return (size_t)(at - w->base);
}

static int not_der(const struct walk *w, const unsigned char *at, const char *what)
{
    return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR is not DER: %s expected at offset %zu",
                       what, off(w, at));
}

/* The next TLV of c, which must carry tag; its contents in *in. */
static int take(const struct walk *w, struct cur *c, unsigned char tag, struct cur *in,
                const char *what)
{
    const unsigned char *at = c->p;
    unsigned char t;

    if (pki__der_next(&c->p, &c->n, &t, &in->p, &in->n) != PKI_OK || t != tag)
        return not_der(w, at, what);
    return PKI_OK;
}

/* X.690 8.1.1.3: a definite length covers the contents exactly, so nothing
 * may follow a value's last field. */
static int end_of(const struct walk *w, const struct cur *c, const char *what)
{
    if (c->n != 0)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR is not DER: unexpected bytes at "
                           "the end of the %s at offset %zu", what, off(w, c->p));
    return PKI_OK;
}

/* X.690 8.19.2: each subidentifier in as few base-128 digits as possible
 * (no leading 0x80), the last octet of the value ending one. */
static int take_oid(const struct walk *w, struct cur *c, struct cur *oid, const char *what)
{
    const unsigned char *at = c->p;
    size_t i;

    TRY(take(w, c, PKI__DER_OID, oid, what));
    if (oid->n == 0 || (oid->p[oid->n - 1] & 0x80))
        return not_der(w, at, what);
    for (i = 0; i < oid->n; i++)
        if (oid->p[i] == 0x80 && (i == 0 || !(oid->p[i - 1] & 0x80)))
            return not_der(w, at, what);
    return PKI_OK;
}

/* RFC 3629 4: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0, k, j;
    unsigned long cp;

    while (i < n) {
        k = p[i] < 0x80 ? 0 : (p[i] & 0xe0) == 0xc0 ? 1 : (p[i] & 0xf0) == 0xe0 ? 2
          : (p[i] & 0xf8) == 0xf0 ? 3 : 4;
        if (k == 4 || k >= n - i)
            return 0;
        cp = k == 0 ? p[i] : (unsigned long)(p[i] & (0x3f >> k));
        for (j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += k + 1;
    }
    return 1;
}

static int ascii_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    return 1;
}

/* A value nobody here reads (a subject attribute, challengePassword...).
 * OpenSSL still converts name strings when it decodes a request, so only
 * string types it reads without fail are let through; attribute values
 * may also be SEQUENCEs or SETs, which it keeps as bytes. */
static int take_opaque(const struct walk *w, struct cur *c, int constructed_ok, const char *what)
{
    const unsigned char *at = c->p;
    struct cur v;
    unsigned char t;
    int ok;

    if (pki__der_next(&c->p, &c->n, &t, &v.p, &v.n) != PKI_OK)
        return not_der(w, at, what);
    if (t == PKI__DER_UTF8STRING)
        ok = utf8_ok(v.p, v.n);
    else if (t == DER_PRINTABLE || t == DER_IA5)
        ok = ascii_ok(v.p, v.n);
    else if (constructed_ok && (t == PKI__DER_SEQUENCE || t == PKI__DER_SET))
        ok = 1;
    else
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's %s at offset %zu is not a "
                           "UTF8String, PrintableString or IA5String", what, off(w, at));
    if (!ok)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's %s at offset %zu holds invalid "
                           "characters", what, off(w, at));
    return PKI_OK;
}

/* Name ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { type OID, value }:
 * walked for well-formedness only; the leaf's subject is the server's. */
static int walk_name(const struct walk *w, struct cur *name)
{
    struct cur rdn, atv, oid;
    unsigned count = 0;

    while (name->n > 0) {
        const unsigned char *at = name->p;

        TRY(take(w, name, PKI__DER_SET, &rdn, "RelativeDistinguishedName SET"));
        if (rdn.n == 0)
            return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's subject has an empty RDN at "
                               "offset %zu", off(w, at));
        while (rdn.n > 0) {
            if (++count > NAME_ATTRS_MAX)
                return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's subject has more than %d "
                                   "attributes", NAME_ATTRS_MAX);
            TRY(take(w, &rdn, PKI__DER_SEQUENCE, &atv, "AttributeTypeAndValue SEQUENCE"));
            TRY(take_oid(w, &atv, &oid, "attribute type OBJECT IDENTIFIER"));
            TRY(take_opaque(w, &atv, 0, "subject attribute value"));
            TRY(end_of(w, &atv, "AttributeTypeAndValue"));
        }
    }
    return PKI_OK;
}

/* The URI SAN, which names the service; the caller checks its form. */
static int add_uri(const struct walk *w, const struct cur *v)
{
    struct pki_csr_fast *out = w->out;

    if (out->has_uri)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR holds more than one URI SAN");
    if (v->n == 0 || v->n > PKI_SPIFFE_URI_MAX)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's URI SAN is empty or longer than %d "
                           "bytes", PKI_SPIFFE_URI_MAX);
    for (size_t i = 0; i < v->n; i++)
        if (v->p[i] <= 0x20 || v->p[i] > 0x7e)
            return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's URI SAN holds a character that "
                               "is not printable ASCII (at offset %zu)", off(w, v->p + i));
    memcpy(out->uri, v->p, v->n);
    out->uri[v->n] = '\0';
    out->has_uri = 1;
    return PKI_OK;
}

static int add_dns(const struct walk *w, const struct cur *v)
{
    struct pki_csr_fast *out = w->out;
    struct pki_host h;
    char *name;

    if (out->ndns == PKI_LEAF_DNS_MAX)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR holds more than %d DNS SANs",
                           PKI_LEAF_DNS_MAX);
    name = out->dns[out->ndns];
    if (v->n == 0 || v->n > PKI_NAME_DNS_MAX || memchr(v->p, '\0', v->n) != NULL)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's DNS SAN at offset %zu is empty, "
                           "longer than %d bytes or holds a NUL", off(w, v->p), PKI_NAME_DNS_MAX);
    memcpy(name, v->p, v->n);
    name[v->n] = '\0';
    if (pki_san_check(PKI_HOST_DNS, name, &h, w->err) != PKI_OK) {
        name[0] = '\0';
        pki_err_prefix(w->err, "the CSR");
        return w->err->code;
    }
    out->ndns++;
    return PKI_OK;
}

/* RFC 5280 4.2.1.6 GeneralName: the context tag says the type. */
static int refuse_name(const struct walk *w, unsigned char tag, const unsigned char *at)
{
    static const char *const types[] = {"an otherName", "an email (rfc822Name)", "a dNSName",
                                        "an x400Address", "a directoryName", "an ediPartyName",
                                        "a URI", "an IP address", "a registeredID"};
    unsigned n = tag & 0x1f;

    if ((tag & 0xc0) != 0x80 || n >= sizeof(types) / sizeof(types[0]) || tag == (GN_DNS | 0x20) ||
        tag == (GN_URI | 0x20))
        return not_der(w, at, "GeneralName");
    return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR requests %s SAN: only one URI SAN (the "
                       "service identity) and up to %d DNS SANs are allowed", types[n],
                       PKI_LEAF_DNS_MAX);
}

/* subjectAltName's extnValue: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
static int walk_san(const struct walk *w, struct cur *val)
{
    struct cur names, v;
    unsigned char tag;

    TRY(take(w, val, DER_GENERAL_NAMES, &names, "GeneralNames SEQUENCE"));
    TRY(end_of(w, val, "subjectAltName"));
    if (names.n == 0)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's subjectAltName is empty");
    while (names.n > 0) {
        const unsigned char *at = names.p;

        if (pki__der_next(&names.p, &names.n, &tag, &v.p, &v.n) != PKI_OK)
            return not_der(w, at, "GeneralName");
        if (tag == GN_URI)
            TRY(add_uri(w, &v));
        else if (tag == GN_DNS)
            TRY(add_dns(w, &v));
        else
            return refuse_name(w, tag, at);
    }
    return PKI_OK;
}

/* Extensions ::= SEQUENCE OF Extension. Only subjectAltName is read: the
 * rest are requests the server's policy answers, critical or not. */
static int walk_exts(const struct walk *w, struct cur *exts)
{
    struct cur ext, id, crit, val;
    unsigned count = 0;
    int san = 0;

    while (exts->n > 0) {
        if (++count > EXTS_MAX)
            return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR requests more than %d "
                               "extensions", EXTS_MAX);
        TRY(take(w, exts, PKI__DER_SEQUENCE, &ext, "Extension SEQUENCE"));
        TRY(take_oid(w, &ext, &id, "extnID OBJECT IDENTIFIER"));
        /* X.690 11.1: TRUE is 0xFF; 11.5: FALSE, the DEFAULT, is left out. */
        if (ext.n > 0 && ext.p[0] == PKI__DER_BOOLEAN) {
            const unsigned char *at = ext.p;

            TRY(take(w, &ext, PKI__DER_BOOLEAN, &crit, "critical BOOLEAN"));
            if (crit.n != 1 || crit.p[0] != 0xff)
                return not_der(w, at, "critical BOOLEAN TRUE (FALSE is left out)");
        }
        TRY(take(w, &ext, PKI__DER_OCTET_STRING, &val, "extnValue OCTET STRING"));
        TRY(end_of(w, &ext, "Extension"));
        if (!same(&id, oid_san, sizeof(oid_san)))
            continue;
        /* RFC 5280 4.2: no extension appears twice. */
        if (san++)
            return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR requests subjectAltName twice");
        TRY(walk_san(w, &val));
    }
    return PKI_OK;
}

static int walk_attr(const struct walk *w, struct cur *attr, int *ext_req)
{
    const unsigned char *at = attr->p;
    struct cur type, vals, exts;

    TRY(take_oid(w, attr, &type, "attribute type OBJECT IDENTIFIER"));
    TRY(take(w, attr, PKI__DER_SET, &vals, "attribute values SET"));
    TRY(end_of(w, attr, "Attribute"));
    if (vals.n == 0)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR has an attribute without a value "
                           "at offset %zu", off(w, at));
    if (!same(&type, oid_ext_req, sizeof(oid_ext_req)) &&
        !same(&type, oid_ms_ext_req, sizeof(oid_ms_ext_req))) {
        while (vals.n > 0)
            TRY(take_opaque(w, &vals, 1, "attribute value"));
        return PKI_OK;
    }
    if ((*ext_req)++)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR has more than one extension request");
    TRY(take(w, &vals, PKI__DER_SEQUENCE, &exts, "Extensions SEQUENCE"));
    if (vals.n != 0)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's extension request has more than "
                           "one value");
    return walk_exts(w, &exts);
}

/* Attributes ::= SET OF Attribute, Attribute ::= SEQUENCE { type, values SET }. */
static int walk_attrs(const struct walk *w, struct cur *attrs)
{
    struct cur attr;
    unsigned count = 0;
    int ext_req = 0;

    while (attrs->n > 0) {
        if (++count > ATTRS_MAX)
            return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR has more than %d attributes",
                               ATTRS_MAX);
        TRY(take(w, attrs, PKI__DER_SEQUENCE, &attr, "Attribute SEQUENCE"));
        TRY(walk_attr(w, &attr, &ext_req));
    }
    return PKI_OK;
}

/* CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) },
 * subject Name, subjectPKInfo, attributes [0] Attributes }. */
static int walk_info(const struct walk *w, struct cur *cri)
{
    const unsigned char *spki = NULL;
    struct cur v, name, attrs;
    int rc;

    TRY(take(w, cri, PKI__DER_INTEGER, &v, "version INTEGER"));
    if (v.n != 1 || v.p[0] != 0)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's version is not v1 (0)");
    TRY(take(w, cri, PKI__DER_SEQUENCE, &name, "subject Name SEQUENCE"));
    TRY(walk_name(w, &name));
    spki = cri->p;
    TRY(take(w, cri, PKI__DER_SEQUENCE, &v, "subjectPKInfo SEQUENCE"));
    w->out->spki = spki;
    w->out->spki_len = (size_t)(cri->p - spki);
    rc = pki__spki_walk(spki, w->out->spki_len, &w->sig->kind, &w->sig->key, &w->sig->key_len,
                        w->err);
    if (rc != PKI_OK) {
        pki_err_prefix(w->err, "the CSR");
        return rc;
    }
    /* Some encoders leave out empty attributes; OpenSSL reads that too. */
    if (cri->n == 0)
        return PKI_OK;
    TRY(take(w, cri, DER_ATTRS, &attrs, "attributes [0]"));
    TRY(walk_attrs(w, &attrs));
    return end_of(w, cri, "certificationRequestInfo");
}

/* CertificationRequest ::= SEQUENCE { certificationRequestInfo,
 * signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }. */
static int walk_request(const struct walk *w, const unsigned char *der, size_t len)
{
    struct cur top = {der, len}, req, cri, alg, bits;
    struct pki__csr_sig *s = w->sig;
    const unsigned char *tbs;

    TRY(take(w, &top, PKI__DER_SEQUENCE, &req, "CertificationRequest SEQUENCE"));
    TRY(end_of(w, &top, "CSR"));
    tbs = req.p;
    TRY(take(w, &req, PKI__DER_SEQUENCE, &cri, "certificationRequestInfo SEQUENCE"));
    s->tbs = tbs;
    s->tbs_len = (size_t)(req.p - tbs);
    TRY(take(w, &req, PKI__DER_SEQUENCE, &alg, "signatureAlgorithm SEQUENCE"));
    TRY(take(w, &req, PKI__DER_BIT_STRING, &bits, "signature BIT STRING"));
    TRY(end_of(w, &req, "CertificationRequest"));
    TRY(walk_info(w, &cri));
    if (bits.n < 1 || bits.p[0] != 0)
        return pki_err_set(w->err, PKI_ERR_INPUT, "the CSR's signature BIT STRING has unused "
                           "bits");
    s->sig = bits.p + 1;
    s->sig_len = bits.n - 1;
    return pki__csr_sig_alg(alg.p, alg.n, s, w->err);
}

static void reset(struct pki_csr_fast *c)
{
    c->der = NULL;
    c->der_len = 0;
    c->spki = NULL;
    c->spki_len = 0;
    c->uri[0] = '\0';
    c->has_uri = 0;
    c->ndns = 0;
}

void pki_csr_fast_clear(struct pki_csr_fast *c)
{
    if (c != NULL) {
        free(c->der);
        reset(c);
    }
}

int pki_csr_fast_read(struct pki_csr_verifier *v, const char *pem, size_t len,
                      struct pki_csr_fast *out, struct pki_err *err)
{
    struct pki__csr_sig sig;
    struct walk w;
    int rc;

    if (out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "pki_csr_fast_read: no output");
    reset(out);
    if (v == NULL || (pem == NULL && len > 0))
        return pki_err_set(err, PKI_ERR_USAGE, "pki_csr_fast_read: no verifier or text");
    memset(&sig, 0, sizeof(sig));
    rc = pki__csr_pem_decode(pem, len, &out->der, &out->der_len, err);
    if (rc == PKI_OK) {
        w.base = out->der;
        w.out = out;
        w.sig = &sig;
        w.err = err;
        rc = walk_request(&w, out->der, out->der_len);
    }
    if (rc == PKI_OK)
        rc = pki__csr_sig_verify(v, &sig, out->spki, out->spki_len, err);
    if (rc != PKI_OK)
        pki_csr_fast_clear(out);
    return rc;
}
