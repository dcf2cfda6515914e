/*
 * fuzz_cluster_stage.c - STAGING/pkictl-stage.json (docs/rotation.md:
 * written by ca stage, checked by ca rotate) through cl_stage_parse_text,
 * against a fixed cluster: the manifest and current CA certificates the seeds
 * were staged from.
 *
 * Invariants: text that is not a JSON object is PKI_ERR_INPUT with a message
 * and no problem listed; otherwise every problem is one report line and
 * w->problems counts them, and every cross path is NUL-terminated. A file
 * with no problem is exactly what ca stage writes for this cluster, checked
 * here independently: version 1, only known fields, this manifest's SHA-256,
 * every CA staged with its current certificate's SHA-256, and each cross
 * path inside STAGING (no "..", not absolute).
 */
#include "fuzz_common.h"

#include <jansson.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cluster_int.h"
#include "fuzz_cluster_manifest.h"
#include "pem.h"

#define STAGING "staging"

/* The current certificate of each CA, in the manifest's order. */
static const char *const ca_pem[] = {
    /* root.crt */
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnTCCAUOgAwIBAgIQU0KPz0dAMSnOYcK2y4y4HjAKBggqhkjOPQQDAjAeMQow\n"
    "CAYDVQQKDAF0MRAwDgYDVQQDDAdyb290IENBMB4XDTI2MTEyNDE2MzAxNloXDTM2\n"
    "MTIwMTE3MzAxNlowHjEKMAgGA1UECgwBdDEQMA4GA1UEAwwHcm9vdCBDQTBZMBMG\n"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABNf90x3euZAc4UqAU52Vw1qI/TrIxyf837mK\n"
    "/9p6Jg3MBqqLJuch0cLsSoHet12uidx6vkTmnvH+zEFaEhsfrGejYzBhMA8GA1Ud\n"
    "EwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgGGMB0GA1UdDgQWBBRvLY0E2WErKmR5\n"
    "5qirGmGeIOgXTDAfBgNVHSMEGDAWgBRvLY0E2WErKmR55qirGmGeIOgXTDAKBggq\n"
    "hkjOPQQDAgNIADBFAiEA0Ei6K31nZrIpIx4DFnnL+eMVLtD0r+cmnz+AljdCAZ4C\n"
    "IBf9Ky8Zon3DHNRasgD1OYp1Z31mc1JWD9cQT/jnjZEE\n"
    "-----END CERTIFICATE-----\n",
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBojCCAUegAwIBAgIQYBbQiAYlZ8uPW+EEMvJsQzAKBggqhkjOPQQDAjAeMQow\n"
    "CAYDVQQKDAF0MRAwDgYDVQQDDAdyb290IENBMB4XDTI2MTEyNDE2MzAxNloXDTM2\n"
    "MTIwMTE3MzAxNlowHzEKMAgGA1UECgwBdDERMA8GA1UEAwwIaW50ZXIgQ0EwWTAT\n"
    "BgcqhkjOPQIBBggqhkjOPQMBBwNCAASvbNzEN3ompVeQsk2vVipdslwYBvM4hExu\n"
    "lON4hnHD9XQr+nRNxBOrEDjg/FltCmgzSM56FzL9CsGAdVEn0v4ro2YwZDASBgNV\n"
    "HRMBAf8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBhjAdBgNVHQ4EFgQUm8VkdQti\n"
    "3WEEeD6OOQZOEvAsKhkwHwYDVR0jBBgwFoAUby2NBNlhKypkeeaoqxphniDoF0ww\n"
    "CgYIKoZIzj0EAwIDSQAwRgIhANf1fzB2P2boKbKMwv7yXzI6kqhPpk+jia81rsV7\n"
    "9RmGAiEA/tl+Q7hUqmzpWrHAJP+Zv0F10gxj0Ds/1c0sG1ZDrMU=\n"
    "-----END CERTIFICATE-----\n",
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhTCCASugAwIBAgIQQ28UI2HPYbxij5bTj7+xMzAKBggqhkjOPQQDAjASMRAw\n"
    "DgYDVQQDDAdlZGdlIENBMB4XDTI2MTEyNDE2MzAxNloXDTM2MTIwMTE3MzAxNlow\n"
    "EjEQMA4GA1UEAwwHZWRnZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJPE\n"
    "1aoSQf5QiW/a4/NUkAlDftyreB9iLBcr/wo2EgjubL6d5sFDCIh+vjDZpPv8ms6C\n"
    "f28pJzZ4QPAJLlv5YlyjYzBhMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD\n"
    "AgGGMB0GA1UdDgQWBBTAqz+T/BqnDi4fihJLoLS9ykYGpDAfBgNVHSMEGDAWgBTA\n"
    "qz+T/BqnDi4fihJLoLS9ykYGpDAKBggqhkjOPQQDAgNIADBFAiEAvXbFFE1Hal9a\n"
    "tuS5zXshIWexmwdzo7dkVsySk5VM+6ICIAC0g7IywXVggpAwOK2hpOGc6dT4NypQ\n"
    "VYR9zxxtzZuF\n"
    "-----END CERTIFICATE-----\n",
};

static const char *const known_fields[] = {"version", "staged_at", "manifest_sha256", "cas",
                                           "keys", "trust_bundle", "token"};

static struct cl_work w;
static char manifest_hex[65];
static char ca_hex[sizeof(ca_pem) / sizeof(ca_pem[0])][65];

static void setup_fail(const char *what, const struct pki_err *err)
{
    fprintf(stderr, "fuzz_cluster_stage: %s: %s\n", what, err->msg);
    abort();
}

/* The cluster folder as cl_open would load it: manifest, its text, CA files. */
static void setup(void)
{
    static int ready;
    struct pki_err err = {0, ""};
    unsigned char md[32];
    unsigned int mdlen = sizeof(md);
    size_t i;

    if (ready)
        return;
    memset(&w, 0, sizeof(w));
    if (pki_manifest_parse(manifest_text, sizeof(manifest_text) - 1, &w.c.m, &err) != PKI_OK)
        setup_fail("the built-in manifest", &err);
    FUZZ_CHECK(w.c.m.ncas == sizeof(ca_pem) / sizeof(ca_pem[0]));
    if (pki_buf_set(&w.c.manifest_text, manifest_text, sizeof(manifest_text) - 1, &err) != PKI_OK)
        setup_fail("the manifest text", &err);
    FUZZ_CHECK(EVP_Digest(manifest_text, sizeof(manifest_text) - 1, md, &mdlen, EVP_sha256(),
                          NULL) == 1);
    cl_hex(md, sizeof(md), manifest_hex);
    w.c.cas = calloc(w.c.m.ncas + 1, sizeof(*w.c.cas));
    FUZZ_CHECK(w.c.cas != NULL);
    for (i = 0; i < w.c.m.ncas; i++) {
        w.c.cas[i].certs = pki_pem_read_certs((const unsigned char *)ca_pem[i],
                                              strlen(ca_pem[i]), &err);
        if (w.c.cas[i].certs == NULL)
            setup_fail(w.c.m.cas[i].name, &err);
        FUZZ_CHECK(cl_cert_sha256(cl_first_cert(&w.c.cas[i]), md) == PKI_OK);
        cl_hex(md, sizeof(md), ca_hex[i]);
    }
    ready = 1;
}

static int known_field(const char *k)
{
    size_t i;

    for (i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++)
        if (strcmp(k, known_fields[i]) == 0)
            return 1;
    return 0;
}

static int is_str(json_t *v, const char *want)
{
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* CA i's entry of "cas" (the first one that names it), or NULL. */
static json_t *staged_entry(json_t *root, size_t i)
{
    json_t *cas = json_object_get(root, "cas"), *v;
    size_t j;

    json_array_foreach(cas, j, v)
        if (is_str(json_object_get(v, "name"), w.c.m.cas[i].name))
            return v;
    return NULL;
}

/* A file with no problem, checked without the parser's code. */
static void check_clean(const char *text, size_t len, char (*cross)[PATH_MAX])
{
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *v, *x;
    const char *k;
    size_t i;

    FUZZ_CHECK(json_is_object(root));
    json_object_foreach(root, k, v)
        FUZZ_CHECK(known_field(k));
    v = json_object_get(root, "version");
    FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == 1);
    FUZZ_CHECK(is_str(json_object_get(root, "manifest_sha256"), manifest_hex));
    for (i = 0; i < w.c.m.ncas; i++) {
        FUZZ_CHECK((v = staged_entry(root, i)) != NULL);
        FUZZ_CHECK(is_str(json_object_get(v, "current_sha256"), ca_hex[i]));
        x = json_object_get(v, "cross");
        if (!json_is_string(x)) {
            FUZZ_CHECK(cross[i][0] == '\0');
            continue;
        }
        /* ca rotate reads cross[i]: it must stay inside STAGING */
        FUZZ_CHECK(strncmp(cross[i], STAGING "/", sizeof(STAGING)) == 0);
        FUZZ_CHECK(strcmp(cross[i] + sizeof(STAGING), json_string_value(x)) == 0);
        FUZZ_CHECK(strstr(cross[i], "..") == NULL);
    }
    json_decref(root);
}

static void check_report(const struct cluster_report *r, int problems)
{
    size_t i;
    int n = 0;

    for (i = 0; i < r->n; i++) {
        const char *t = r->lines[i].text;

        FUZZ_CHECK(memchr(t, '\0', sizeof(r->lines[i].text)) != NULL && t[0] != '\0');
        /* the CLI prints report lines as they are: one line of printable ASCII */
        for (; *t != '\0'; t++)
            FUZZ_CHECK((unsigned char)*t >= 0x20 && (unsigned char)*t < 0x7f);
        n += r->lines[i].kind == 2;
    }
    FUZZ_CHECK(n == problems);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0, ""};
    struct cluster_report r;
    /* A copy exactly size bytes long, so ASan sees any read past the end. */
    char *copy = malloc(size ? size : 1), (*cross)[PATH_MAX], token[65];
    size_t i;
    int rc;

    setup();
    cross = calloc(w.c.m.ncas + 1, sizeof(*cross)); /* as ca_rotate does */
    if (copy == NULL || cross == NULL)
        abort();
    if (size > 0)
        memcpy(copy, data, size);
    memset(&r, 0, sizeof(r));
    w.problems = 0;
    memset(token, 'x', sizeof(token));
    rc = cl_stage_parse_text(&w, STAGING, copy, size, cross, token, &r, &err);
    if (rc != PKI_OK) {
        FUZZ_CHECK(rc == PKI_ERR_INPUT && err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL && err.msg[0] != '\0');
        FUZZ_CHECK(w.problems == 0 && r.n == 0);
    } else {
        check_report(&r, w.problems);
        /* "" or the token's 64 lowercase hex digits */
        FUZZ_CHECK(token[0] == '\0' ||
                   (strlen(token) == 64 && strspn(token, "0123456789abcdef") == 64));
        for (i = 0; i < w.c.m.ncas; i++)
            FUZZ_CHECK(memchr(cross[i], '\0', PATH_MAX) != NULL);
        if (w.problems == 0)
            check_clean(copy, size, cross);
    }
    cluster_report_free(&r);
    free(cross);
    free(copy);
    ERR_clear_error();
    return 0;
}
