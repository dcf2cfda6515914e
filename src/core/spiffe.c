/* spiffe.c - service names, trust domains, SPIFFE service URIs and UUIDs. */
#include "spiffe.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define SCHEME "spiffe://"
#define SCHEME_LEN (sizeof(SCHEME) - 1)
/* How much of a bad value a message shows: 80 bytes, at most 4 each. */
#define SHOW_MAX 80
#define SHOW_BUF (SHOW_MAX * 4 + 4)

static const char LABEL_RULE[] = "use 1-63 lower-case letters, digits and '-', starting and "
                                 "ending with a letter or digit";

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Copies s into out for a message between double quotes: a value from the
 * network must not be able to forge text or control characters in a log
 * line, so '"', '\\' and bytes outside printable ASCII are escaped, and
 * anything past SHOW_MAX bytes becomes "...". */
static const char *show(const char *s, char out[SHOW_BUF])
{
    size_t i, o = 0;
    unsigned char u;

    for (i = 0; s[i] != '\0' && i < SHOW_MAX; i++) {
        u = (unsigned char)s[i];
        if (u == '"' || u == '\\')
            o += (size_t)snprintf(out + o, SHOW_BUF - o, "\\%c", u);
        else if (u < 0x20 || u >= 0x7f)
            o += (size_t)snprintf(out + o, SHOW_BUF - o, "\\x%02x", u);
        else
            out[o++] = (char)u;
    }
    out[o] = '\0';
    if (s[i] != '\0')
        memcpy(out + o, "...", 4);
    return out;
}

/* 1 if the len bytes at s form one label: 1..63 of [a-z0-9-], no '-' at
 * either end (RFC 1123 section 2.1, lower case only, as Consul asks). */
static int label_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > PKI_SERVICE_MAX || s[0] == '-' || s[len - 1] == '-')
        return 0;
    for (i = 0; i < len; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

int pki_label_check(const char *what, const char *name, struct pki_err *err)
{
    char sb[SHOW_BUF];

    if (what == NULL)
        what = "name";
    if (name == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "%s: no value given", what);
    if (!label_ok(name, strnlen(name, PKI_SERVICE_MAX + 1)))
        return pki_err_set(err, PKI_ERR_INPUT, "%s \"%s\": %s", what, show(name, sb),
                           LABEL_RULE);
    return PKI_OK;
}

int pki_trust_domain_check(const char *td, struct pki_err *err)
{
    char sb[SHOW_BUF];
    size_t len, n;
    const char *p, *dot;

    if (td == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "trust domain: no value given");
    len = strnlen(td, PKI_TRUST_DOMAIN_MAX + 1);
    if (len == 0 || len > PKI_TRUST_DOMAIN_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "trust domain \"%s\": use 1-%d characters",
                           show(td, sb), PKI_TRUST_DOMAIN_MAX);
    for (p = td;; p = dot + 1) {
        dot = strchr(p, '.');
        n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, n))
            return pki_err_set(err, PKI_ERR_INPUT, "trust domain \"%s\": use dot-separated "
                               "labels of 1-63 lower-case letters, digits and '-', each "
                               "starting and ending with a letter or digit", show(td, sb));
        if (dot == NULL)
            return PKI_OK;
    }
}

int pki_spiffe_service_uri(const char *td, const char *dc, const char *service, char *out,
                           size_t len, struct pki_err *err)
{
    int rc, n;

    if (out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "no buffer for the SPIFFE URI");
    if ((rc = pki_trust_domain_check(td, err)) != PKI_OK ||
        (rc = pki_label_check("datacenter", dc, err)) != PKI_OK ||
        (rc = pki_label_check("service", service, err)) != PKI_OK)
        return rc;
    n = snprintf(out, len, SCHEME "%s/ns/default/dc/%s/svc/%s", td, dc, service);
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            out[0] = '\0';
        return pki_err_set(err, PKI_ERR_USAGE, "SPIFFE URI buffer too small (%zu bytes)", len);
    }
    return PKI_OK;
}

int pki_spiffe_domain_uri(const char *td, char *out, size_t len, struct pki_err *err)
{
    int rc, n;

    if (out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "no buffer for the SPIFFE URI");
    if ((rc = pki_trust_domain_check(td, err)) != PKI_OK)
        return rc;
    n = snprintf(out, len, SCHEME "%s", td);
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            out[0] = '\0';
        return pki_err_set(err, PKI_ERR_USAGE, "SPIFFE URI buffer too small (%zu bytes)", len);
    }
    return PKI_OK;
}

/* Refuses the URI features our layout never uses, with the reason: a query,
 * fragment, userinfo, port or percent-escape would let two spellings name
 * one identity (or a parser elsewhere read a different one). The SPIFFE ID
 * spec (sections 2.1 and 2.3) forbids all of them too. rest follows the
 * scheme; the authority ends at the first '/'. */
static int uri_chars(const char *uri, const char *rest, struct pki_err *err)
{
    static const struct { char c; int in_host; const char *why; } bad[] = {
        {'?', 0, "a query"}, {'#', 0, "a fragment"}, {'%', 0, "percent-escapes"},
        {'@', 1, "userinfo"}, {':', 1, "a port"},
    };
    size_t i, hostlen = strcspn(rest, "/");
    char sb[SHOW_BUF];
    const char *p, *hit;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hit = strchr(rest, bad[i].c);
        if (hit != NULL && (!bad[i].in_host || (size_t)(hit - rest) < hostlen))
            return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": %s is not allowed",
                               show(uri, sb), bad[i].why);
    }
    for (p = rest; *p != '\0'; p++)
        if (!is_lower_alnum(*p) && *p != '-' && *p != '.' && *p != '/')
            return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": only lower-case "
                               "letters, digits, '-', '.' and '/' are allowed", show(uri, sb));
    return PKI_OK;
}

/* Compares the segment [s, s+n) with want; 1 if equal. */
static int seg_is(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(s, want, n) == 0;
}

/* Splits path (after the authority, starting with '/') into exactly six
 * non-empty segments; 0 if it has another shape. */
static int split_path(const char *path, const char *seg[6], size_t len[6])
{
    const char *p = path, *slash;
    size_t i;

    for (i = 0; i < 6; i++) {
        if (*p != '/')
            return 0;
        p++;
        slash = strchr(p, '/');
        seg[i] = p;
        len[i] = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (len[i] == 0)
            return 0;
        p += len[i];
    }
    return *p == '\0';
}

static int check_path(const char *uri, const char *path, const char *dc, char *service,
                      struct pki_err *err)
{
    char sb[SHOW_BUF], sb2[SHOW_BUF], name[PKI_SERVICE_MAX + 1];
    const char *seg[6];
    size_t len[6];
    int rc;

    if (!split_path(path, seg, len) || !seg_is(seg[0], len[0], "ns") ||
        !seg_is(seg[2], len[2], "dc") || !seg_is(seg[4], len[4], "svc"))
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": expected spiffe://<trust "
                           "domain>/ns/default/dc/<datacenter>/svc/<service>", show(uri, sb));
    if (!seg_is(seg[1], len[1], "default"))
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": only the \"default\" "
                           "namespace is supported", show(uri, sb));
    if (!seg_is(seg[3], len[3], dc))
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": the datacenter is not "
                           "\"%s\"", show(uri, sb), show(dc, sb2));
    if (len[5] > PKI_SERVICE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": the service name is "
                           "longer than %d characters", show(uri, sb), PKI_SERVICE_MAX);
    memcpy(name, seg[5], len[5]);
    name[len[5]] = '\0';
    if ((rc = pki_label_check("service", name, err)) != PKI_OK)
        return rc;
    memcpy(service, name, len[5] + 1);
    return PKI_OK;
}

int pki_spiffe_parse_service(const char *uri, const char *td, const char *dc, char *service,
                             struct pki_err *err)
{
    char sb[SHOW_BUF], sb2[SHOW_BUF];
    const char *host, *slash;
    size_t tdlen;
    int rc;

    if (uri == NULL || td == NULL || dc == NULL || service == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "SPIFFE URI: missing argument");
    if (strnlen(uri, PKI_SPIFFE_URI_MAX + 1) > PKI_SPIFFE_URI_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": longer than %d characters",
                           show(uri, sb), PKI_SPIFFE_URI_MAX);
    if (strncmp(uri, SCHEME, SCHEME_LEN) != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": it must start with "
                           "spiffe:// (lower case)", show(uri, sb));
    host = uri + SCHEME_LEN;
    if ((rc = uri_chars(uri, host, err)) != PKI_OK)
        return rc;
    slash = strchr(host, '/');
    tdlen = strlen(td);
    if (slash == NULL || (size_t)(slash - host) != tdlen || memcmp(host, td, tdlen) != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "SPIFFE URI \"%s\": the trust domain is not "
                           "\"%s\"", show(uri, sb), show(td, sb2));
    return check_path(uri, slash, dc, service, err);
}

int pki_uuid_random(char out[PKI_UUID_LEN + 1], struct pki_err *err)
{
    unsigned char b[16];
    char tmp[PKI_UUID_LEN + 1];

    if (out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "no buffer for the UUID");
    if (RAND_bytes(b, sizeof(b)) != 1)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot get random bytes for a UUID");
    /* RFC 9562 section 5.4: version 4 in the high nibble of octet 6, the
     * variant 10xx in the high bits of octet 8; the other 122 bits random. */
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(tmp, sizeof(tmp),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    memcpy(out, tmp, sizeof(tmp));
    /* A UUID may be a token's SecretID. */
    OPENSSL_cleanse(b, sizeof(b));
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return PKI_OK;
}

int pki_uuid_check(const char *text)
{
    size_t i;

    if (text == NULL || strnlen(text, PKI_UUID_LEN + 1) != PKI_UUID_LEN)
        return 0;
    for (i = 0; i < PKI_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return 0;
        } else if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}
