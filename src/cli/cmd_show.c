/* cmd_show.c - `pkictl cert show FILE [--format=text|json]`. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cert.h"
#include "cli.h"
#include "inspect.h"
#include "pem.h"

/* "expires in 364 days", "expired 3 days ago", with hours below two days. */
static void time_left(time_t left, char *buf, size_t len)
{
    long long a = (long long)(left < 0 ? -left : left);
    long long n = a >= 172800 ? a / 86400 : a / 3600;
    const char *unit = a >= 172800 ? "days" : "hours";

    if (left >= 0)
        snprintf(buf, len, "expires in %lld %s", n, unit);
    else
        snprintf(buf, len, "expired %lld %s ago", n, unit);
}

static void print_list(const char *label, const char *const *items, size_t n, size_t stride)
{
    size_t i;

    printf("  %-21s", label);
    for (i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", *(const char *const *)((const char *)items + i * stride));
    printf("%s\n", n ? "" : "(none)");
}

static void print_text(const struct pki_cert_info *c, size_t index, size_t total, time_t now)
{
    char nb[40], na[40], left[64];
    const char *eku[PKI_INSPECT_LIST_MAX];
    size_t i;

    pki_time_format(c->not_before, 0, nb, sizeof(nb));
    pki_time_format(c->not_after, 0, na, sizeof(na));
    time_left(c->not_after - now, left, sizeof(left));
    for (i = 0; i < c->neku; i++)
        eku[i] = c->eku[i];
    printf("Certificate %zu of %zu\n", index, total);
    printf("  %-21s%s\n  %-21s%s\n  %-21s%s\n", "Subject:", c->subject, "Issuer:", c->issuer,
           "Serial:", c->serial);
    printf("  %-21s%s\n  %-21s%s (%s)\n", "Not before:", nb, "Not after:", na, left);
    printf("  %-21s", "SANs:");
    for (i = 0; i < c->nsans; i++)
        printf("%s%s:%s", i ? ", " : "", c->sans[i].type, c->sans[i].value);
    printf("%s\n", c->nsans ? "" : "(none)");
    printf("  %-21s%s\n  %-21s%s\n", "Public key:", c->key_desc, "Signature:", c->sig_alg);
    print_list("Key usage:", c->key_usage, c->nkey_usage, sizeof(c->key_usage[0]));
    print_list("Extended key usage:", eku, c->neku, sizeof(eku[0]));
    if (!c->has_basic_constraints)
        printf("  %-21s(none)\n", "Basic constraints:");
    else if (c->is_ca && c->path_len >= 0)
        printf("  %-21sCA:TRUE, pathlen:%ld\n", "Basic constraints:", c->path_len);
    else
        printf("  %-21sCA:%s\n", "Basic constraints:", c->is_ca ? "TRUE" : "FALSE");
    printf("  %-21s%s\n  %-21s%s\n", "SHA-256 fingerprint:", c->sha256, "SHA-1 fingerprint:",
           c->sha1);
}

static json_t *to_json(const struct pki_cert_info *c, size_t index, time_t now)
{
    json_t *o = json_object(), *sans = json_array(), *ku = json_array(), *eku = json_array();
    char nb[32], na[32];
    size_t i;

    pki_time_format(c->not_before, 2, nb, sizeof(nb));
    pki_time_format(c->not_after, 2, na, sizeof(na));
    for (i = 0; i < c->nsans; i++)
        json_array_append_new(sans, json_pack("{s:s, s:s}", "type", c->sans[i].type, "value",
                                              c->sans[i].value));
    for (i = 0; i < c->nkey_usage; i++)
        json_array_append_new(ku, json_string(c->key_usage[i]));
    for (i = 0; i < c->neku; i++)
        json_array_append_new(eku, json_string(c->eku[i]));
    json_object_set_new(o, "index", json_integer((json_int_t)index));
    json_object_set_new(o, "subject", json_string(c->subject));
    json_object_set_new(o, "issuer", json_string(c->issuer));
    json_object_set_new(o, "serial", json_string(c->serial));
    json_object_set_new(o, "not_before", json_string(nb));
    json_object_set_new(o, "not_after", json_string(na));
    json_object_set_new(o, "seconds_left", json_integer((json_int_t)(c->not_after - now)));
    json_object_set_new(o, "sans", sans);
    json_object_set_new(o, "key", json_pack("{s:s, s:i, s:s}", "type", c->key_type, "bits",
                                            c->key_bits, "description", c->key_desc));
    json_object_set_new(o, "signature_algorithm", json_string(c->sig_alg));
    json_object_set_new(o, "key_usage", ku);
    json_object_set_new(o, "extended_key_usage", eku);
    json_object_set_new(o, "basic_constraints",
                        c->has_basic_constraints
                            ? json_pack("{s:b, s:o}", "ca", c->is_ca, "path_len",
                                        c->path_len >= 0 ? json_integer(c->path_len) : json_null())
                            : json_null());
    json_object_set_new(o, "fingerprints", json_pack("{s:s, s:s}", "sha256", c->sha256, "sha1",
                                                     c->sha1));
    return o;
}

static int show(const char *path, STACK_OF(X509) *certs, int json, time_t now)
{
    struct pki_err err = {0, ""};
    json_t *root = NULL, *arr = NULL;
    struct pki_cert_info info;
    char shown[1024];
    int i, n = sk_X509_num(certs), rc = EXIT_OK;

    if (json) {
        root = json_object();
        arr = json_array();
        for (i = 0; path[i] != '\0' && i < (int)sizeof(shown) - 1; i++)
            shown[i] = ((unsigned char)path[i] >= 0x20 && (unsigned char)path[i] < 0x7f)
                           ? path[i] : '?'; /* json_string needs valid UTF-8 */
        shown[i] = '\0';
        json_object_set_new(root, "file", json_string(shown));
    }
    for (i = 0; i < n && rc == EXIT_OK; i++) {
        if (pki_cert_inspect(sk_X509_value(certs, i), &info, &err) != PKI_OK)
            rc = cli_fail(&err);
        else if (json)
            json_array_append_new(arr, to_json(&info, (size_t)i + 1, now));
        else
            print_text(&info, (size_t)i + 1, (size_t)n, now);
        pki_cert_info_free(&info);
    }
    if (json && rc == EXIT_OK) {
        json_object_set_new(root, "certificates", arr);
        arr = NULL;
        if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
            rc = EXIT_FAILED;
        putchar('\n');
    }
    json_decref(arr);
    json_decref(root);
    return rc;
}

int cli_run_show(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    STACK_OF(X509) *certs;
    time_t now;
    int rc, json;

    if (a->npos != 1)
        return cli_usage_error("%s needs exactly one FILE (got %d arguments)", sc->name, a->npos);
    if (a->format != NULL && strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown --format \"%s\" (use text or json)", a->format);
        return cli_fail(&err);
    }
    json = a->format != NULL && strcmp(a->format, "json") == 0;
    rc = args_clock(&now);
    if (rc != EXIT_OK)
        return rc;
    certs = certsdir_load_certs(a->pos[0], &err);
    if (certs == NULL)
        return cli_fail(&err);
    rc = show(a->pos[0], certs, json, now);
    pki_certs_free(certs);
    return rc;
}
