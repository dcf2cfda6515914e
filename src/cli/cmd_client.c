/* cmd_client.c - `pkictl ca roots|get-config|set-config|sign|leaf`: the CA
 * endpoints of a running `pkictl server` (docs/server.md "API"). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "client.h"
#include "csr.h"
#include "fsio.h"
#include "key.h"
#include "pem.h"
#include "spiffe.h"

#define CSR_FILE_MAX (32 * 1024) /* leaves room for JSON escaping under the body limit */

int cli_client_begin(const struct subcommand *sc, const struct args *a, int npos,
                     int need_token, struct cli_client *c)
{
    struct pki_err err = {0, ""};

    if (npos == 0 && a->npos > 0)
        return args_no_positional(sc, a);
    if (npos > 0 && a->npos != npos)
        return cli_usage_error("%s needs exactly one argument (got %d; see --help)", sc->name,
                               a->npos);
    if (cli_client_setup(c, a, need_token, &err) != PKI_OK) {
        cli_client_clear(c);
        return cli_fail(&err);
    }
    return EXIT_OK;
}

int cli_client_end(struct cli_client *c, json_t *v, int rc, struct pki_err *err)
{
    json_decref(v);
    cli_client_clear(c);
    if (rc == PKI_OK)
        return EXIT_OK;
    return err->msg[0] ? cli_fail(err) : EXIT_FAILED;
}

/* A member of v shown for people: a string or an integer, "-" if absent. */
static const char *field(const json_t *v, const char *key, char *buf, size_t len)
{
    const json_t *m = json_object_get(v, key);

    if (json_is_integer(m))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(m));
    else if (json_is_string(m) && json_string_length(m) > 0)
        cli_printable(buf, len, json_string_value(m));
    else
        snprintf(buf, len, "-");
    return buf;
}

static void print_root(const json_t *r, size_t i, size_t n)
{
    char a[512], b[512];
    const json_t *inter = json_object_get(r, "IntermediateCerts");

    if (json_is_true(json_object_get(r, "Active")))
        printf("\nRoot %zu of %zu (active)\n", i, n);
    else
        printf("\nRoot %zu of %zu (rotated out at %s)\n", i, n,
               field(r, "RotatedOutAt", a, sizeof(a)));
    printf("  Name:           %s\n", field(r, "Name", a, sizeof(a)));
    printf("  ID:             %s\n", field(r, "ID", a, sizeof(a)));
    printf("  Serial:         %s\n", field(r, "SerialNumber", a, sizeof(a)));
    printf("  Valid:          %s to %s\n", field(r, "NotBefore", a, sizeof(a)),
           field(r, "NotAfter", b, sizeof(b)));
    printf("  Key:            %s %s\n", field(r, "PrivateKeyType", a, sizeof(a)),
           field(r, "PrivateKeyBits", b, sizeof(b)));
    printf("  Intermediates:  %zu\n", json_is_array(inter) ? json_array_size(inter) : 0);
    printf("  Signing key ID: %s\n", field(r, "SigningKeyID", a, sizeof(a)));
}

static void print_roots(const json_t *v)
{
    const json_t *roots = json_object_get(v, "Roots");
    char a[512];
    size_t i, n = json_is_array(roots) ? json_array_size(roots) : 0;

    printf("Trust domain: %s\n", field(v, "TrustDomain", a, sizeof(a)));
    printf("Active root:  %s\n", field(v, "ActiveRootID", a, sizeof(a)));
    for (i = 0; i < n; i++)
        print_root(json_array_get(roots, i), i + 1, n);
}

/* The PEM bundle goes to a terminal or a file as is: only PEM's bytes. */
static int print_pem_answer(const struct cli_resp *r, struct pki_err *err)
{
    size_t i;

    for (i = 0; i < r->body.len; i++)
        if ((r->body.data[i] < 0x20 || r->body.data[i] >= 0x7f) && r->body.data[i] != '\n' &&
            r->body.data[i] != '\r')
            return pki_err_set(err, PKI_ERR_INPUT, "the server's PEM answer holds a byte "
                               "that PEM cannot (0x%02x)", r->body.data[i]);
    if (fwrite(r->body.data, 1, r->body.len, stdout) != r->body.len ||
        (r->body.len > 0 && r->body.data[r->body.len - 1] != '\n' && putchar('\n') == EOF))
        return pki_err_set(err, PKI_ERR_IO, "cannot write to standard output");
    return PKI_OK;
}

int cli_run_ca_roots(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_resp r = {0, 0, {NULL, 0}};
    struct cli_client c;
    json_t *v = NULL;
    int rc = cli_client_begin(sc, a, 0, 0, &c);

    if (rc != EXIT_OK)
        return rc;
    if (a->pem && c.json) {
        cli_client_clear(&c);
        return cli_usage_error("--pem and --format=json do not go together");
    }
    if (a->pem) {
        rc = cli_http(&c, "GET", "/v1/connect/ca/roots?pem=true", NULL, 0, &r, &err);
        if (rc == PKI_OK && (rc = cli_resp_check(&r, &err)) == PKI_OK)
            rc = print_pem_answer(&r, &err);
        cli_resp_free(&r);
        return cli_client_end(&c, NULL, rc, &err);
    }
    v = cli_call_json(&c, "GET", "/v1/connect/ca/roots", NULL, 0, 0, &err);
    rc = v != NULL ? PKI_OK : err.code;
    if (v != NULL && c.json)
        rc = cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    else if (v != NULL)
        print_roots(v);
    return cli_client_end(&c, v, rc, &err);
}

int cli_run_ca_get_config(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_client c;
    json_t *v;
    int rc = cli_client_begin(sc, a, 0, 1, &c);

    if (rc != EXIT_OK)
        return rc;
    v = cli_call_json(&c, "GET", "/v1/connect/ca/configuration", NULL, 0, 0, &err);
    rc = v != NULL ? PKI_OK : err.code;
    if (v != NULL && cli_print_json(v) != 0)
        rc = PKI_ERR_IO;
    return cli_client_end(&c, v, rc, &err);
}

/* Reads standard input, at most max bytes. */
static int read_stdin(size_t max, struct pki_buf *out, struct pki_err *err)
{
    unsigned char chunk[4096];
    ssize_t n;
    int rc = PKI_OK;

    while (rc == PKI_OK && (n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
        if (n < 0)
            rc = pki_err_set(err, PKI_ERR_IO, "cannot read standard input");
        else if (out->len + (size_t)n > max)
            rc = pki_err_set(err, PKI_ERR_INPUT, "standard input is larger than %zu bytes", max);
        else
            rc = pki_buf_append(out, chunk, (size_t)n, err);
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    return rc;
}

/* The config file, checked to be a JSON object (it may hold a root's
 * PrivateKey, so both copies are wiped when freed). */
static int read_config(const char *path, struct pki_buf *out, struct pki_err *err)
{
    json_error_t jerr;
    json_t *v;
    int rc = strcmp(path, "-") == 0 ? read_stdin(CLI_UPLOAD_MAX, out, err)
                                    : fs_read_file(path, CLI_UPLOAD_MAX, out, NULL, err);

    if (rc != PKI_OK)
        return rc;
    v = json_loadb((const char *)out->data, out->len, 0, &jerr);
    if (v == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s is not a JSON object: line %d: %s",
                           strcmp(path, "-") == 0 ? "standard input" : path, jerr.line,
                           jerr.text);
    json_decref(v);
    return PKI_OK;
}

int cli_run_ca_set_config(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct pki_buf body = {NULL, 0};
    struct cli_client c;
    char warning[512];
    json_t *v = NULL;
    int rc = cli_client_begin(sc, a, 1, 1, &c);

    if (rc != EXIT_OK)
        return rc;
    rc = read_config(a->pos[0], &body, &err);
    if (rc == PKI_OK) {
        v = cli_call_json(&c, "PUT", "/v1/connect/ca/configuration", (const char *)body.data,
                          body.len, 1, &err);
        rc = v != NULL ? PKI_OK : err.code;
    }
    pki_buf_free(&body);
    if (rc == PKI_OK && cli_json_str(v, "Warning")[0] != '\0') {
        cli_printable(warning, sizeof(warning), cli_json_str(v, "Warning"));
        fprintf(stderr, "pkictl: warning: %s\n", warning);
    }
    if (rc == PKI_OK && c.json && !json_is_null(v))
        rc = cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    else if (rc == PKI_OK && !c.json)
        printf("configuration updated\n");
    return cli_client_end(&c, v, rc, &err);
}

/* "web (spiffe://...), serial 3a:..., valid until T" for a leaf answer. */
static void summary(const json_t *v, char *out, size_t len)
{
    char s[128], u[600], n[128], t[64];

    snprintf(out, len, "%s (%s), serial %s, valid until %s", field(v, "Service", s, sizeof(s)),
             field(v, "ServiceURI", u, sizeof(u)), field(v, "SerialNumber", n, sizeof(n)),
             field(v, "ValidBefore", t, sizeof(t)));
}

/* CertPEM must be certificates (leaf first) before it is printed or saved. */
static STACK_OF(X509) *answer_certs(const json_t *v, struct pki_err *err)
{
    const char *pem = cli_json_str(v, "CertPEM");
    STACK_OF(X509) *certs = pki_pem_read_certs((const unsigned char *)pem, strlen(pem), err);

    if (certs == NULL)
        pki_err_prefix(err, "the server's CertPEM");
    return certs;
}

/* The request body {"CSR": PEM} from a CSR file (PEM or DER), checked here
 * first so a bad file is named before anything is sent. */
static char *sign_body(const char *path, struct pki_err *err)
{
    struct pki_buf raw = {NULL, 0}, pem = {NULL, 0};
    X509_REQ *req = NULL;
    json_t *o = NULL;
    char *body = NULL;

    if (fs_read_file(path, CSR_FILE_MAX, &raw, NULL, err) != PKI_OK)
        goto out;
    if ((req = pki_csr_read(raw.data, raw.len, err)) == NULL) {
        pki_err_prefix(err, "%s", path);
        goto out;
    }
    if (pki_csr_to_pem(req, &pem, err) != PKI_OK)
        goto out;
    o = json_pack("{s:s}", "CSR", (const char *)pem.data);
    body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL)
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
out:
    X509_REQ_free(req);
    pki_buf_free(&pem);
    pki_buf_free(&raw);
    return body;
}

/* Writes CertPEM to path (0644, replaced only with --overwrite). */
static int save_cert(const json_t *v, const char *path, int overwrite, FILE *report,
                     struct pki_err *err)
{
    const char *pem = cli_json_str(v, "CertPEM");
    const struct pki_buf data = {(unsigned char *)pem, strlen(pem)};
    const struct fs_file f = {path, &data, 0, overwrite};
    int rc = fs_write_atomic(&f, err);

    if (rc == PKI_OK)
        fprintf(report, "wrote %s\n", path);
    return rc;
}

static int print_signed(const struct cli_client *c, const struct args *a, const json_t *v,
                        struct pki_err *err)
{
    char line[1024];
    const char *pem = cli_json_str(v, "CertPEM");
    STACK_OF(X509) *certs = answer_certs(v, err);
    int rc = certs != NULL ? PKI_OK : err->code;

    pki_certs_free(certs);
    summary(v, line, sizeof(line));
    if (rc == PKI_OK && a->out != NULL)
        rc = save_cert(v, a->out, a->overwrite, c->json ? stderr : stdout, err);
    if (rc != PKI_OK)
        return rc;
    if (c->json)
        return cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    if (a->out != NULL) {
        printf("signed %s\n", line);
        return PKI_OK;
    }
    fputs(pem, stdout);
    fprintf(stderr, "signed %s\n", line);
    return PKI_OK;
}

int cli_run_ca_sign(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_client c;
    const struct fs_file target = {a->out, NULL, 0, a->overwrite};
    json_t *v = NULL;
    char *body = NULL;
    int rc = cli_client_begin(sc, a, 1, 1, &c);

    if (rc != EXIT_OK)
        return rc;
    if (a->overwrite && a->out == NULL) {
        cli_client_clear(&c);
        return cli_usage_error("--overwrite needs --out=FILE");
    }
    rc = a->out != NULL ? fs_check_absent(&target, 1, &err) : PKI_OK;
    if (rc == PKI_OK && (body = sign_body(a->pos[0], &err)) == NULL)
        rc = err.code;
    if (rc == PKI_OK) {
        v = cli_call_json(&c, "POST", "/v1/connect/ca/sign", body, strlen(body), 0, &err);
        rc = v != NULL ? PKI_OK : err.code;
    }
    cli_json_free(body);
    if (rc == PKI_OK)
        rc = print_signed(&c, a, v, &err);
    if (rc == PKI_ERR_EXISTS)
        snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg),
                 " (pass --overwrite to replace it)");
    return cli_client_end(&c, v, rc, &err);
}

/* DIR/SERVICE.crt and DIR/SERVICE.key; refused before anything is asked of
 * the server if one exists without --overwrite. */
static int leaf_paths(const struct args *a, const char *svc, char *crt, char *key, size_t len,
                      struct pki_err *err)
{
    char name[PKI_SERVICE_MAX + 8];
    struct fs_file files[2] = {{crt, NULL, 0, a->overwrite}, {key, NULL, 1, a->overwrite}};
    int rc = fs_check_dir(a->out_dir, "--out-dir", err);

    snprintf(name, sizeof(name), "%s.crt", svc);
    if (rc == PKI_OK)
        rc = fs_join(a->out_dir, name, crt, len, err);
    snprintf(name, sizeof(name), "%s.key", svc);
    if (rc == PKI_OK)
        rc = fs_join(a->out_dir, name, key, len, err);
    return rc == PKI_OK ? fs_check_absent(files, 2, err) : rc;
}

/* Checks that the key is the certificate's, then writes both as one change
 * (the key 0600 from its first byte). */
static int save_leaf(const struct cli_client *c, const struct args *a, const json_t *v,
                     const char *crt, const char *key, struct pki_err *err)
{
    const char *cert_pem = cli_json_str(v, "CertPEM"), *key_pem = cli_json_str(v, "PrivateKeyPEM");
    const struct pki_buf cb = {(unsigned char *)cert_pem, strlen(cert_pem)};
    const struct pki_buf kb = {(unsigned char *)key_pem, strlen(key_pem)};
    const struct fs_file files[2] = {{crt, &cb, 0, a->overwrite}, {key, &kb, 1, a->overwrite}};
    STACK_OF(X509) *certs = answer_certs(v, err);
    EVP_PKEY *k = NULL;
    int rc = certs != NULL ? PKI_OK : err->code;

    if (rc == PKI_OK && (k = pki_key_from_pem(kb.data, kb.len, err)) == NULL) {
        pki_err_prefix(err, "the server's PrivateKeyPEM");
        rc = err->code;
    }
    if (rc == PKI_OK && !pki_key_matches_cert(k, sk_X509_value(certs, 0)))
        rc = pki_err_set(err, PKI_ERR_INPUT, "the server's PrivateKeyPEM does not match its "
                         "certificate; nothing written");
    if (rc == PKI_OK)
        rc = fs_write_all(files, 2, err);
    if (rc == PKI_OK)
        fprintf(c->json ? stderr : stdout, "wrote %s\nwrote %s\n", crt, key);
    EVP_PKEY_free(k);
    pki_certs_free(certs);
    return rc;
}

static void print_leaf_text(const json_t *v)
{
    char b[600];

    printf("Service:      %s\n", field(v, "Service", b, sizeof(b)));
    printf("URI:          %s\n", field(v, "ServiceURI", b, sizeof(b)));
    printf("Serial:       %s\n", field(v, "SerialNumber", b, sizeof(b)));
    printf("Valid after:  %s\n", field(v, "ValidAfter", b, sizeof(b)));
    printf("Valid before: %s\n", field(v, "ValidBefore", b, sizeof(b)));
}

static int print_leaf(const struct cli_client *c, const struct args *a, json_t *v,
                      const char *crt, const char *key, struct pki_err *err)
{
    STACK_OF(X509) *certs = NULL;
    char line[1024];
    int rc;

    if (a->out_dir != NULL) {
        rc = save_leaf(c, a, v, crt, key, err);
    } else {
        certs = answer_certs(v, err);
        rc = certs != NULL ? PKI_OK : err->code;
        pki_certs_free(certs);
    }

    /* Printed only when asked for as JSON on standard output. */
    if (a->out_dir != NULL || !c->json)
        cli_json_wipe(v, "PrivateKeyPEM");
    if (rc != PKI_OK)
        return rc;
    if (c->json)
        return cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    if (a->out_dir != NULL) {
        summary(v, line, sizeof(line));
        printf("leaf for %s\n", line);
        return PKI_OK;
    }
    print_leaf_text(v);
    fprintf(stderr, "note: the certificate and key were not saved; pass --out-dir=DIR to write "
            "SERVICE.crt and SERVICE.key\n");
    return PKI_OK;
}

int cli_run_ca_leaf(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_client c;
    char crt[PATH_MAX] = "", key[PATH_MAX] = "", path[128];
    json_t *v = NULL;
    int rc = cli_client_begin(sc, a, 1, 1, &c);

    if (rc != EXIT_OK)
        return rc;
    if (a->overwrite && a->out_dir == NULL) {
        cli_client_clear(&c);
        return cli_usage_error("--overwrite needs --out-dir=DIR");
    }
    /* The name goes into the URL path: a DNS label cannot add a segment. */
    rc = pki_label_check("service", a->pos[0], &err);
    if (rc == PKI_OK && a->out_dir != NULL)
        rc = leaf_paths(a, a->pos[0], crt, key, sizeof(crt), &err);
    if (rc == PKI_OK) {
        snprintf(path, sizeof(path), "/v1/agent/connect/ca/leaf/%s", a->pos[0]);
        v = cli_call_json(&c, "GET", path, NULL, 0, 0, &err);
        rc = v != NULL ? PKI_OK : err.code;
    }
    if (rc == PKI_OK)
        rc = print_leaf(&c, a, v, crt, key, &err);
    if (rc == PKI_ERR_EXISTS)
        snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg),
                 " (pass --overwrite to replace it)");
    return cli_client_end(&c, v, rc, &err);
}
