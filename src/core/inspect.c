/* inspect.c - reading a certificate's facts for display. */
#include "inspect.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "key.h"
#include "subject.h"

static void printable_copy(char *dst, size_t len, const unsigned char *src, int n)
{
    size_t i;

    for (i = 0; i + 1 < len && (int)i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[i] = '\0';
}

static void fingerprint(X509 *x, const EVP_MD *md, char *out, size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    size_t at = 0;

    out[0] = '\0';
    if (X509_digest(x, md, d, &n) != 1)
        return;
    for (i = 0; i < n && at + 4 <= len; i++)
        at += (size_t)snprintf(out + at, len - at, i ? ":%02X" : "%02X", d[i]);
}

static void key_facts(X509 *x, struct pki_cert_info *out)
{
    EVP_PKEY *pub = X509_get0_pubkey(x);

    if (pub == NULL) {
        snprintf(out->key_type, sizeof(out->key_type), "unknown");
        return;
    }
    snprintf(out->key_type, sizeof(out->key_type), "%s",
             EVP_PKEY_is_a(pub, "RSA") ? "RSA" : EVP_PKEY_is_a(pub, "EC") ? "ECDSA"
             : EVP_PKEY_is_a(pub, "ED25519") ? "Ed25519" : EVP_PKEY_get0_type_name(pub));
    out->key_bits = EVP_PKEY_get_bits(pub);
    pki_key_describe(pub, out->key_desc, sizeof(out->key_desc));
}

static void key_usages(X509 *x, struct pki_cert_info *out)
{
    static const struct { unsigned bit; const char *name; } ku[] = {
        {KU_DIGITAL_SIGNATURE, "digitalSignature"}, {KU_NON_REPUDIATION, "nonRepudiation"},
        {KU_KEY_ENCIPHERMENT, "keyEncipherment"}, {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {KU_KEY_AGREEMENT, "keyAgreement"}, {KU_KEY_CERT_SIGN, "keyCertSign"},
        {KU_CRL_SIGN, "cRLSign"}, {KU_ENCIPHER_ONLY, "encipherOnly"},
        {KU_DECIPHER_ONLY, "decipherOnly"},
    };
    uint32_t bits = X509_get_key_usage(x);
    size_t i;

    if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE))
        return;
    for (i = 0; i < sizeof(ku) / sizeof(ku[0]); i++)
        if (bits & ku[i].bit)
            out->key_usage[out->nkey_usage++] = ku[i].name;
}

static void ext_key_usages(X509 *x, struct pki_cert_info *out)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    ASN1_OBJECT *o;
    int i, nid;

    for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku) && out->neku < PKI_INSPECT_LIST_MAX;
         i++) {
        o = sk_ASN1_OBJECT_value(eku, i);
        nid = OBJ_obj2nid(o);
        if (nid != NID_undef)
            snprintf(out->eku[out->neku++], sizeof(out->eku[0]), "%s", OBJ_nid2sn(nid));
        else
            OBJ_obj2txt(out->eku[out->neku++], sizeof(out->eku[0]), o, 1);
    }
    EXTENDED_KEY_USAGE_free(eku);
}

static void san_text(const GENERAL_NAME *g, struct pki_san_text *t)
{
    static const char *const names[] = {"othername", "email", "dns", "x400", "dirname", "edi",
                                        "uri", "ip", "rid"};
    int type;
    const ASN1_STRING *s = GENERAL_NAME_get0_value(g, &type);

    snprintf(t->type, sizeof(t->type), "%s", type >= 0 && type <= GEN_RID ? names[type] : "?");
    t->value[0] = '\0';
    if (type == GEN_DNS || type == GEN_URI || type == GEN_EMAIL)
        printable_copy(t->value, sizeof(t->value), ASN1_STRING_get0_data(s),
                       ASN1_STRING_length(s));
    else if (type == GEN_IPADD && (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16))
        inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s),
                  t->value, sizeof(t->value));
    else if (type == GEN_DIRNAME)
        pki_subject_format(g->d.directoryName, t->value, sizeof(t->value));
}

static int sans(X509 *x, struct pki_cert_info *out, struct pki_err *err)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int i, n = gens ? sk_GENERAL_NAME_num(gens) : 0;

    if (n > 0) {
        out->sans = calloc((size_t)n, sizeof(*out->sans));
        if (out->sans == NULL) {
            GENERAL_NAMES_free(gens);
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        }
    }
    for (i = 0; i < n; i++)
        san_text(sk_GENERAL_NAME_value(gens, i), &out->sans[out->nsans++]);
    GENERAL_NAMES_free(gens);
    return PKI_OK;
}

static void serial_hex(X509 *x, char *out, size_t len)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    snprintf(out, len, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
}

int pki_cert_inspect(X509 *cert, struct pki_cert_info *out, struct pki_err *err)
{
    memset(out, 0, sizeof(*out));
    out->path_len = -1;
    if (pki_cert_validity(cert, &out->not_before, &out->not_after, err) != PKI_OK)
        return err ? err->code : PKI_ERR_INPUT;
    pki_subject_format(X509_get_subject_name(cert), out->subject, sizeof(out->subject));
    pki_subject_format(X509_get_issuer_name(cert), out->issuer, sizeof(out->issuer));
    serial_hex(cert, out->serial, sizeof(out->serial));
    key_facts(cert, out);
    snprintf(out->sig_alg, sizeof(out->sig_alg), "%s", OBJ_nid2ln(X509_get_signature_nid(cert)));
    key_usages(cert, out);
    ext_key_usages(cert, out);
    out->has_basic_constraints = (X509_get_extension_flags(cert) & EXFLAG_BCONS) != 0;
    out->is_ca = pki_cert_is_ca(cert);
    out->path_len = X509_get_pathlen(cert);
    fingerprint(cert, EVP_sha256(), out->sha256, sizeof(out->sha256));
    fingerprint(cert, EVP_sha1(), out->sha1, sizeof(out->sha1));
    return sans(cert, out, err);
}

void pki_cert_info_free(struct pki_cert_info *info)
{
    free(info->sans);
    info->sans = NULL;
    info->nsans = 0;
}
