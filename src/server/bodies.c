/*
 * bodies.c - the JSON bodies of POST /v1/connect/ca/sign and PUT
 * /v1/acl/token (docs/server.md "Sign", "Tokens"), and the strict JSON
 * reading that caconfig.c shares.
 *
 * Every refusal is PKI_ERR_INPUT (the API answers 400 with the message),
 * except out of memory (PKI_ERR_INTERNAL).
 */
#include "bodies.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiffe.h"

#define NAME_SHOWN 64 /* bytes of a client's field name or value quoted back */

/* ---- strict JSON, shared with caconfig.c -------------------------------- */

json_t *srv__json_body(const char *json, size_t len, size_t max, struct pki_err *err)
{
    json_error_t jerr;
    json_t *root;

    if (len > max) {
        pki_err_set(err, PKI_ERR_INPUT, "request body is larger than %zu bytes", max);
        return NULL;
    }
    if (json == NULL || len == 0) {
        pki_err_set(err, PKI_ERR_INPUT, "empty request body (expected a JSON object)");
        return NULL;
    }
    /* Duplicate keys are refused because two parsers of one body could each
     * pick a different copy (what a proxy checked is not what we apply).
     * Without JSON_DECODE_ANY only an object or array is read, without
     * JSON_DISABLE_EOF_CHECK nothing may follow it, and without
     * JSON_ALLOW_NUL a "\u0000" cannot cut a C string short. */
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        pki_err_set(err, json_error_code(&jerr) == json_error_out_of_memory ? PKI_ERR_INTERNAL
                                                                              : PKI_ERR_INPUT,
                    "request body is not valid JSON: %s (line %d, column %d)",
                    json_error_code(&jerr) == json_error_null_character
                        ? "a string holds \\u0000" : jerr.text,
                    jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        pki_err_set(err, PKI_ERR_INPUT, "request body must be a JSON object");
        return NULL;
    }
    return root;
}

static int is_known(const char *key, const char *const known[])
{
    size_t i;

    for (i = 0; known[i] != NULL; i++)
        if (strcmp(key, known[i]) == 0)
            return 1;
    return 0;
}

int srv__json_fields(const json_t *obj, const char *const known[], const char *where,
                     struct pki_err *err)
{
    char list[256] = "";
    const char *key;
    json_t *value;
    size_t i, used = 0;

    json_object_foreach ((json_t *)obj, key, value) {
        if (is_known(key, known))
            continue;
        for (i = 0; known[i] != NULL && used < sizeof(list); i++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                     i ? ", " : "", known[i]);
        return pki_err_set(err, PKI_ERR_INPUT, "unknown field \"%.*s\"%s%s (known fields: %s)",
                           NAME_SHOWN, key, where[0] ? " in " : "", where, list);
    }
    (void)value;
    return PKI_OK;
}

static const char *type_word(json_type t)
{
    switch (t) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

static const char *type_name(const json_t *v)
{
    return type_word(json_typeof(v));
}

static int type_matches(const json_t *v, json_type type)
{
    if (type == JSON_TRUE)
        return json_is_boolean(v);
    if (type == JSON_REAL)
        return json_is_number(v);
    return json_typeof(v) == type;
}

int srv__json_get(const json_t *obj, const char *key, json_type type, const char *where,
                  json_t **out, struct pki_err *err)
{
    json_t *v = json_object_get(obj, key);

    if (v != NULL && !type_matches(v, type))
        return pki_err_set(err, PKI_ERR_INPUT, "%s%s%s must be %s, not %s", where,
                           where[0] ? "." : "", key, type_word(type), type_name(v));
    *out = v;
    return PKI_OK;
}

int srv__err_finish(int rc, struct pki_err *err)
{
    size_t i;

    /* The core's refusals (a weak key is PKI_ERR_POLICY there) are all a bad
     * request here; only running out of memory is the server's fault. */
    if (rc != PKI_ERR_INTERNAL)
        rc = PKI_ERR_INPUT;
    err->code = rc;
    for (i = 0; i < sizeof(err->msg) && err->msg[i] != '\0'; i++)
        if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] >= 0x7f)
            err->msg[i] = '?';
    return rc;
}

/* ---- POST /v1/connect/ca/sign ------------------------------------------- */

static int csr_text_check(const char *pem, size_t len, struct pki_err *err)
{
    if (len == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "CSR is empty (expected a PEM certificate "
                           "request)");
    if (len > SRV_CSR_PEM_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "CSR is larger than %d bytes", SRV_CSR_PEM_MAX);
    if (strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----") == NULL &&
        strstr(pem, "-----BEGIN NEW CERTIFICATE REQUEST-----") == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "CSR is not a PEM certificate request (no "
                           "\"-----BEGIN CERTIFICATE REQUEST-----\" line)");
    return PKI_OK;
}

static int sign_fields(json_t *root, char **csr_pem, struct pki_err *err)
{
    static const char *const known[] = {"CSR", NULL};
    json_t *csr = NULL;
    char *copy;
    int rc;

    if ((rc = srv__json_fields(root, known, "", err)) != PKI_OK ||
        (rc = srv__json_get(root, "CSR", JSON_STRING, "", &csr, err)) != PKI_OK)
        return rc;
    if (csr == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "missing field \"CSR\" (the PEM certificate "
                           "request)");
    if ((rc = csr_text_check(json_string_value(csr), json_string_length(csr), err)) != PKI_OK)
        return rc;
    if ((copy = strdup(json_string_value(csr))) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    *csr_pem = copy;
    return PKI_OK;
}

int srv__body_sign_slow(const char *json, size_t len, char **csr_pem, struct pki_err *err)
{
    json_t *root;
    int rc;

    if ((root = srv__json_body(json, len, SRV_BODY_MAX, err)) == NULL) {
        rc = err->code;
    } else {
        rc = sign_fields(root, csr_pem, err);
        json_decref(root);
    }
    return rc == PKI_OK ? PKI_OK : srv__err_finish(rc, err);
}

/* The fast path exists because jansson's lexer costs ~54,000 instructions
 * for a 365-byte P-256 request (a stream read per byte), several percent of
 * issuing a leaf; this path costs ~2,000. It reads one shape only, a subset
 * of what jansson accepts (so it can never widen the API), and leaves
 * everything else to jansson so every refusal keeps its message: RFC 8259
 * whitespace (section 2), the key "CSR" spelt without escapes, and a string
 * of printable ASCII with the escapes PEM in JSON needs. */
static const char *ws_skip(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *ws_skip_back(const char *begin, const char *p)
{
    while (p > begin && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
        p--;
    return p;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* 1 if all 8 bytes at p are copied as they are (0x20..0x7e, not '"' or '\'):
 * PEM is long runs of base64, so testing a word at a time (the "has a byte
 * less than n" and "has a zero byte" tests, exact for any byte order) is
 * what makes the fast path cheap. */
static int plain8(const char *p)
{
    uint64_t v, bad;

    memcpy(&v, p, 8);
    bad = ((v - ONES * 0x20) & ~v) |       /* a byte below 0x20 */
          ((v + ONES * 0x01) | v) |        /* a byte above 0x7e */
          (((v ^ (ONES * '"')) - ONES) & ~(v ^ (ONES * '"'))) |
          (((v ^ (ONES * '\\')) - ONES) & ~(v ^ (ONES * '\\')));
    return (bad & HIGHS) == 0;
}

/* Decodes the string body [p, q), q being its closing quote, into out (at
 * least q - p + 1 bytes: no escape here decodes longer than it is written).
 * Returns the decoded length, or -1 for anything the fast path leaves to
 * jansson: \u (surrogates, U+0000), \b, \f, raw bytes outside 0x20..0x7e, a
 * quote before q (a second member or trailing text), a backslash that
 * escapes q (the string would not end there). */
static long fast_unescape(const char *p, const char *q, char *out)
{
    char *o = out;
    unsigned char c;

    while (p < q) {
        if (q - p >= 8 && plain8(p)) {
            memcpy(o, p, 8);
            p += 8;
            o += 8;
            continue;
        }
        c = (unsigned char)*p++;
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (c != '\\' || p == q)
            return -1;
        c = (unsigned char)*p++;
        if (c == 'n')
            *o++ = '\n';
        else if (c == 'r')
            *o++ = '\r';
        else if (c == 't')
            *o++ = '\t';
        else if (c == '/' || c == '\\' || c == '"')
            *o++ = (char)c;
        else
            return -1;
    }
    *o = '\0';
    return (long)(o - out);
}

/* Finds the CSR string of the one shape: *s after its opening quote, *q at
 * its closing one (found from the end, so the body is read once). */
static int fast_frame(const char *json, size_t len, const char **s, const char **q)
{
    const char *end = json + len, *p;

    p = ws_skip(json, end);
    if (p == end || *p++ != '{')
        return 0;
    p = ws_skip(p, end);
    if ((size_t)(end - p) < 5 || memcmp(p, "\"CSR\"", 5) != 0)
        return 0;
    p = ws_skip(p + 5, end);
    if (p == end || *p++ != ':')
        return 0;
    p = ws_skip(p, end);
    if (p == end || *p++ != '"')
        return 0;
    *s = p;
    end = ws_skip_back(p, end);
    if (end == p || *--end != '}')
        return 0;
    end = ws_skip_back(p, end);
    if (end == p || end[-1] != '"')
        return 0;
    *q = end - 1;
    return 1;
}

int srv__body_sign_fast(const char *json, size_t len, char **csr_pem, struct pki_err *err)
{
    const char *s, *q;
    char *pem;
    long n;
    int rc;

    if (json == NULL || len == 0 || len > SRV_BODY_MAX || !fast_frame(json, len, &s, &q))
        return SRV__BODY_NOT_FAST;
    if ((pem = malloc((size_t)(q - s) + 1)) == NULL) {
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        return srv__err_finish(PKI_ERR_INTERNAL, err);
    }
    if ((n = fast_unescape(s, q, pem)) < 0) {
        free(pem);
        return SRV__BODY_NOT_FAST;
    }
    /* The same value checks as the jansson path, so they cannot drift. */
    if ((rc = csr_text_check(pem, (size_t)n, err)) != PKI_OK) {
        free(pem);
        return srv__err_finish(rc, err);
    }
    *csr_pem = pem;
    return PKI_OK;
}

int srv_body_sign_parse(const char *json, size_t len, char **csr_pem, struct pki_err *err)
{
    struct pki_err local;
    int rc;

    if (err == NULL)
        err = &local;
    rc = srv__body_sign_fast(json, len, csr_pem, err);
    return rc != SRV__BODY_NOT_FAST ? rc : srv__body_sign_slow(json, len, csr_pem, err);
}

/* ---- PUT /v1/acl/token --------------------------------------------------- */

/* The code point at s[*i] (UTF-8, which jansson has already validated;
 * checked again so this never reads past len), or -1. */
static long next_code_point(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                            : (c & 0xf8) == 0xf0 ? 4 : 0;
    long cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    size_t k;

    if (n == 0 || *i + n > len)
        return -1;
    for (k = 1; k < n; k++) {
        if ((s[*i + k] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    *i += n;
    return cp;
}

/* Control characters (C0, DEL, C1), line separators and the bidirectional
 * overrides: a description is shown in token lists and the audit log, where
 * these could forge lines or reorder what an operator reads (CVE-2021-42574). */
static int is_unprintable(long cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static int description_check(const json_t *v, char out[PKI_TOKEN_DESC_MAX + 1],
                              struct pki_err *err)
{
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t len = json_string_length(v), i = 0, at;
    long cp;

    if (len > PKI_TOKEN_DESC_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "Description is longer than %d bytes",
                           PKI_TOKEN_DESC_MAX);
    while (i < len) {
        at = i;
        if ((cp = next_code_point(s, len, &i)) < 0 || is_unprintable(cp))
            return pki_err_set(err, PKI_ERR_INPUT, "Description has a control or invisible "
                               "character (U+%04lX) at byte %zu", cp < 0 ? 0xfffdL : cp, at);
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return PKI_OK;
}

static int policy_entry(const json_t *item, size_t i, int *seen, struct pki_err *err)
{
    static const char *const known[] = {"Name", NULL};
    char where[32];
    json_t *name = NULL;
    int rc;

    snprintf(where, sizeof(where), "Policies[%zu]", i);
    if (!json_is_object(item))
        return pki_err_set(err, PKI_ERR_INPUT, "%s must be an object such as {\"Name\": "
                           "\"operator\"}, not %s", where, type_name(item));
    if ((rc = srv__json_fields(item, known, where, err)) != PKI_OK ||
        (rc = srv__json_get(item, "Name", JSON_STRING, where, &name, err)) != PKI_OK)
        return rc;
    if (name == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s has no \"Name\"", where);
    if (strcmp(json_string_value(name), "operator") != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "policy \"%.*s\" does not exist; policies are "
                           "\"operator\" (or use ServiceIdentities)", NAME_SHOWN,
                           json_string_value(name));
    if (*seen)
        return pki_err_set(err, PKI_ERR_INPUT, "Policies: \"operator\" is listed twice");
    *seen = 1;
    return PKI_OK;
}

static int policies_parse(const json_t *arr, struct pki_token_policy *p, struct pki_err *err)
{
    size_t i;
    int rc, seen = 0;

    if (json_array_size(arr) == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "Policies is empty (use [{\"Name\": "
                           "\"operator\"}])");
    for (i = 0; i < json_array_size(arr); i++)
        if ((rc = policy_entry(json_array_get(arr, i), i, &seen, err)) != PKI_OK)
            return rc;
    p->kind = PKI_TOKEN_OPERATOR;
    p->nservices = 0;
    return PKI_OK;
}

static int service_entry(const json_t *item, size_t i, struct pki_token_policy *p,
                         struct pki_err *err)
{
    static const char *const known[] = {"ServiceName", NULL};
    char where[40];
    const char *s;
    json_t *name = NULL;
    size_t k;
    int rc;

    snprintf(where, sizeof(where), "ServiceIdentities[%zu]", i);
    if (!json_is_object(item))
        return pki_err_set(err, PKI_ERR_INPUT, "%s must be an object such as {\"ServiceName\": "
                           "\"web\"}, not %s", where, type_name(item));
    /* Consul scopes a service identity to datacenters; our tokens are valid
     * wherever this CA is, so a scope we would silently drop is refused. */
    if (json_object_get(item, "Datacenters") != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s.Datacenters is not supported (a token is "
                           "valid in every datacenter of this CA)", where);
    if ((rc = srv__json_fields(item, known, where, err)) != PKI_OK ||
        (rc = srv__json_get(item, "ServiceName", JSON_STRING, where, &name, err)) != PKI_OK)
        return rc;
    if (name == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s has no \"ServiceName\"", where);
    s = json_string_value(name);
    if (json_string_length(name) > PKI_SERVICE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s.ServiceName is longer than %d bytes", where,
                           PKI_SERVICE_MAX);
    if ((rc = pki_label_check("service", s, err)) != PKI_OK) {
        pki_err_prefix(err, "%s.ServiceName", where);
        return rc;
    }
    for (k = 0; k < p->nservices; k++)
        if (strcmp(p->services[k], s) == 0)
            return pki_err_set(err, PKI_ERR_INPUT, "ServiceIdentities: \"%s\" is listed twice",
                               s);
    memcpy(p->services[p->nservices++], s, json_string_length(name) + 1);
    return PKI_OK;
}

static int services_parse(const json_t *arr, struct pki_token_policy *p, struct pki_err *err)
{
    size_t i, n = json_array_size(arr);
    int rc;

    if (n == 0 || n > PKI_TOKEN_SERVICES_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "ServiceIdentities must list 1 to %d services, "
                           "not %zu", PKI_TOKEN_SERVICES_MAX, n);
    p->kind = PKI_TOKEN_SERVICE;
    p->nservices = 0;
    for (i = 0; i < n; i++)
        if ((rc = service_entry(json_array_get(arr, i), i, p, err)) != PKI_OK)
            return rc;
    return PKI_OK;
}

static int token_fields(json_t *root, struct pki_token_policy *p,
                        char desc[PKI_TOKEN_DESC_MAX + 1], struct pki_err *err)
{
    static const char *const known[] = {"Description", "Policies", "ServiceIdentities", NULL};
    json_t *d = NULL, *pol = NULL, *svc = NULL;
    int rc;

    if ((rc = srv__json_fields(root, known, "", err)) != PKI_OK ||
        (rc = srv__json_get(root, "Description", JSON_STRING, "", &d, err)) != PKI_OK ||
        (rc = srv__json_get(root, "Policies", JSON_ARRAY, "", &pol, err)) != PKI_OK ||
        (rc = srv__json_get(root, "ServiceIdentities", JSON_ARRAY, "", &svc, err)) != PKI_OK)
        return rc;
    if (pol != NULL && svc != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "give Policies or ServiceIdentities, not both");
    if (pol == NULL && svc == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "a token needs Policies ([{\"Name\": "
                           "\"operator\"}]) or ServiceIdentities ([{\"ServiceName\": \"web\"}])");
    if (d != NULL && (rc = description_check(d, desc, err)) != PKI_OK)
        return rc;
    if (d == NULL)
        desc[0] = '\0';
    return pol != NULL ? policies_parse(pol, p, err) : services_parse(svc, p, err);
}

int srv_body_token_parse(const char *json, size_t len, struct pki_token_policy *policy,
                         char description[PKI_TOKEN_DESC_MAX + 1], struct pki_err *err)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1];
    struct pki_err local;
    json_t *root;
    int rc;

    if (err == NULL)
        err = &local;
    memset(&p, 0, sizeof(p));
    if ((root = srv__json_body(json, len, SRV_BODY_MAX, err)) == NULL) {
        rc = err->code;
    } else {
        rc = token_fields(root, &p, desc, err);
        json_decref(root);
    }
    if (rc != PKI_OK)
        return srv__err_finish(rc, err);
    *policy = p;
    memcpy(description, desc, sizeof(desc));
    return PKI_OK;
}
