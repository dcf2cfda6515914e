/*
 * ncons.c - a CA's name constraints against the names it will certify.
 *
 * Each name is checked on its own in a throw-away, unsigned certificate that
 * carries only that name, with OpenSSL's NAME_CONSTRAINTS_check (what
 * X509_verify_cert runs for every certificate below a constrained CA), so
 * the message can say which name is refused.
 */
#include "ncons.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include "san.h"

#define NC_TEXT_MAX 160

/* NULL with crit == -1: no extension. */
static int read_constraints(X509 *ca, const char *ca_what, NAME_CONSTRAINTS **nc,
                            struct pki_err *err)
{
    int crit = -1;

    *nc = X509_get_ext_d2i(ca, NID_name_constraints, &crit, NULL);
    if (*nc == NULL && crit != -1)
        return pki_err_set_ssl(err, PKI_ERR_INPUT, "%s: its nameConstraints extension cannot "
                               "be read", ca_what);
    return PKI_OK;
}

static void gen_text(const GENERAL_NAME *gen, char out[NC_TEXT_MAX])
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    out[0] = '\0';
    if (b != NULL && GENERAL_NAME_print(b, (GENERAL_NAME *)gen) > 0)
        n = BIO_read(b, out, NC_TEXT_MAX - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
    /* A supplied root's own names go into the message: printable only. */
    for (; n > 0; n--)
        if ((unsigned char)out[n - 1] < 0x20 || (unsigned char)out[n - 1] >= 0x7f)
            out[n - 1] = '?';
}

static int verdict(int rv, const char *ca_what, const char *what, const char *name,
                   struct pki_err *err)
{
    switch (rv) {
    case X509_V_OK:
        return PKI_OK;
    case X509_V_ERR_EXCLUDED_VIOLATION:
        return pki_err_set(err, PKI_ERR_POLICY, "%s's name constraints exclude %s, a name of "
                           "%s: peers would refuse it", ca_what, name, what);
    case X509_V_ERR_PERMITTED_VIOLATION:
        return pki_err_set(err, PKI_ERR_POLICY, "%s's name constraints do not permit %s, a "
                           "name of %s: peers would refuse it", ca_what, name, what);
    default:
        return pki_err_set(err, PKI_ERR_POLICY, "%s's name constraints cannot be checked "
                           "against %s, a name of %s (%s)", ca_what, name, what,
                           X509_verify_cert_error_string(rv));
    }
}

static int has_dns(const GENERAL_NAMES *gens)
{
    int i;

    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++)
        if (sk_GENERAL_NAME_value(gens, i)->type == GEN_DNS)
            return 1;
    return 0;
}

/* A certificate holding one SAN; OpenSSL reads it through the extension
 * cache, which X509_get_extension_flags fills. */
static X509 *probe_san(const GENERAL_NAME *gen)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *copy = GENERAL_NAME_dup(gen);
    X509 *x = X509_new();

    if (gens == NULL || copy == NULL || x == NULL || !sk_GENERAL_NAME_push(gens, copy)) {
        GENERAL_NAME_free(copy);
        goto fail;
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
        goto fail;
    GENERAL_NAMES_free(gens);
    (void)X509_get_extension_flags(x);
    return x;
fail:
    GENERAL_NAMES_free(gens);
    X509_free(x);
    return NULL;
}

static int check_names(NAME_CONSTRAINTS *nc, const char *ca_what, const char *what,
                       const X509_NAME *subject, const GENERAL_NAMES *gens, int end_entity,
                       struct pki_err *err)
{
    char text[NC_TEXT_MAX];
    X509 *x = X509_new();
    int rv, i;

    if (x == NULL || X509_set_subject_name(x, subject) != 1) {
        X509_free(x);
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    (void)X509_get_extension_flags(x);
    rv = NAME_CONSTRAINTS_check(x, nc);
    if (rv == X509_V_OK && end_entity && !has_dns(gens))
        rv = NAME_CONSTRAINTS_check_CN(x, nc);
    if (rv != X509_V_OK) {
        if (X509_NAME_oneline(subject, text, sizeof(text)) == NULL)
            text[0] = '\0';
        X509_free(x);
        return verdict(rv, ca_what, what, text, err);
    }
    X509_free(x);
    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);

        if ((x = probe_san(gen)) == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        rv = NAME_CONSTRAINTS_check(x, nc);
        X509_free(x);
        if (rv != X509_V_OK) {
            gen_text(gen, text);
            return verdict(rv, ca_what, what, text, err);
        }
    }
    return PKI_OK;
}

int pki_nc_permits(X509 *ca, const char *ca_what, const struct pki_nc_cert *c,
                   struct pki_err *err)
{
    NAME_CONSTRAINTS *nc = NULL;
    GENERAL_NAMES *gens = NULL;
    X509_NAME *subject = NULL;
    int rc = read_constraints(ca, ca_what, &nc, err);

    if (rc != PKI_OK || nc == NULL)
        return rc;
    if ((subject = X509_NAME_new()) == NULL ||
        (c->common_name != NULL &&
         X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)c->common_name, -1, -1, 0) != 1)) {
        rc = pki_err_set_ssl(err, PKI_ERR_INPUT, "%s: cannot hold the name %s", c->what,
                             c->common_name != NULL ? c->common_name : "");
        goto out;
    }
    if (c->nsans > 0 && (gens = pki_san_to_general_names(c->sans, c->nsans, err)) == NULL) {
        rc = err->code;
        goto out;
    }
    rc = check_names(nc, ca_what, c->what, subject, gens, c->end_entity, err);
out:
    GENERAL_NAMES_free(gens);
    X509_NAME_free(subject);
    NAME_CONSTRAINTS_free(nc);
    return rc;
}

int pki_nc_permits_x509(X509 *ca, const char *ca_what, X509 *x, const char *what,
                        struct pki_err *err)
{
    NAME_CONSTRAINTS *nc = NULL;
    GENERAL_NAMES *gens = NULL;
    int rc = read_constraints(ca, ca_what, &nc, err), crit = -1;

    if (rc != PKI_OK || nc == NULL)
        return rc;
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    if (gens == NULL && crit != -1)
        rc = pki_err_set_ssl(err, PKI_ERR_INPUT, "%s: its subjectAltName cannot be read", what);
    else
        rc = check_names(nc, ca_what, what, X509_get_subject_name(x), gens,
                         !(X509_get_extension_flags(x) & EXFLAG_CA), err);
    GENERAL_NAMES_free(gens);
    NAME_CONSTRAINTS_free(nc);
    return rc;
}
