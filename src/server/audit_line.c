/*
 * audit_line.c - building an audit line's body (the time, JSON string
 * escaping checked as UTF-8, through jansson or from strings with the same
 * bytes) and hashing a line, for appending (audit.c) and for verifying
 * (audit_verify.c).
 */
#include "audit_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* ---- hashing a line ---------------------------------------------------- */

int srv__audit_sha_init(struct srv__audit_sha *h)
{
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->ctx = EVP_MD_CTX_new();
    return h->md != NULL && h->ctx != NULL;
}

void srv__audit_sha_free(struct srv__audit_sha *h)
{
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
}

int srv__audit_hash_hex(struct srv__audit_sha *h, const void *data, size_t len,
                        char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int i, mdlen = 0;

    if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
        EVP_DigestUpdate(h->ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32)
        return 0;
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[64] = '\0';
    return 1;
}

int srv__audit_is_hash(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* ---- building a line --------------------------------------------------- */

/* The body starts at l->mem + SRV__AUDIT_LINE_HEAD. len is at most
 * SRV__AUDIT_LINE_MAX. */
static int line_reserve(struct srv__audit_line *l, size_t len, struct pki_err *err)
{
    l->len = len;
    l->heap = NULL;
    l->mem = l->stack;
    if (SRV__AUDIT_LINE_HEAD + len + SRV__AUDIT_LINE_TAIL <= sizeof(l->stack))
        return PKI_OK;
    l->heap = l->mem = malloc(SRV__AUDIT_LINE_HEAD + len + SRV__AUDIT_LINE_TAIL);
    if (l->mem == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    return PKI_OK;
}

int srv__audit_too_long(size_t len, struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_USAGE, "audit: a record of %zu bytes (at most %d)", len,
                       SRV__AUDIT_LINE_MAX);
}

static char *put_num(char *p, unsigned v, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* What strftime("%Y-%m-%dT%H:%M:%SZ") writes for gmtime_r(now) (20
 * characters). Years 1970-9999 are computed here, since gmtime_r takes a
 * lock and strftime parses its format on every line; the rest go to libc.
 * Days count from 0000-03-01 so that a leap day ends its year; a 400-year
 * era has 146097 days, a 4-year cycle 1461, a century 36524. */
static int fmt_time(time_t now, char out[32])
{
    int64_t day, era, doe, yoe, doy, mp, m, s;
    struct tm tm;
    char *p = out;

    if (now < 0 || now > (time_t)253402300799LL)
        return gmtime_r(&now, &tm) != NULL &&
               strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) != 0;
    day = (int64_t)now / 86400 + 719468;
    s = (int64_t)now % 86400;
    era = day / 146097;
    doe = day - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153; /* 0 = March */
    m = mp < 10 ? mp + 3 : mp - 9;
    p = put_num(p, (unsigned)(era * 400 + yoe + (m <= 2)), 4);
    *p++ = '-';
    p = put_num(p, (unsigned)m, 2);
    *p++ = '-';
    p = put_num(p, (unsigned)(doy - (153 * mp + 2) / 5 + 1), 2);
    *p++ = 'T';
    p = put_num(p, (unsigned)(s / 3600), 2);
    *p++ = ':';
    p = put_num(p, (unsigned)(s / 60 % 60), 2);
    *p++ = ':';
    p = put_num(p, (unsigned)(s % 60), 2);
    memcpy(p, "Z", 2);
    return 1;
}

/* The length of the UTF-8 sequence at s, or 0 if it is not one RFC 3629
 * allows (no overlong forms, surrogates, or code points past U+10FFFF):
 * jansson refuses exactly these, and the two paths must agree. */
static size_t utf8_len(const unsigned char *s)
{
    uint32_t cp;
    size_t n, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* How json_dumps writes each byte of a string: 0 as is; U starts a UTF-8
 * sequence (checked, then as is); u as \u00XX; anything else as a
 * backslash and that letter. A table, not tests: it is the hot loop. */
static const char esc_class[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
};

/* The length of s as a JSON string's content, escaped as jansson does;
 * *raw is strlen(s). SIZE_MAX if s is not UTF-8. */
static size_t esc_len(const char *s, size_t *raw)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t extra = 0, n;

    for (;; p++) {
        while (esc_class[*p] == 0)
            p++;
        if (*p == '\0')
            break;
        if (esc_class[*p] == 'U') {
            if ((n = utf8_len(p)) == 0)
                return SIZE_MAX;
            p += n - 1;
        } else {
            extra += esc_class[*p] == 'u' ? 5 : 1;
        }
    }
    *raw = (size_t)(p - (const unsigned char *)s);
    return *raw + extra;
}

/* Writes s escaped as jansson does: \" \\ \b \f \n \r \t, other control
 * characters as \u00XX (upper-case hex), the rest ("/", UTF-8) as is. */
static char *esc_put(char *out, const char *s, size_t raw, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    char c;

    if (raw == len)
        return (char *)memcpy(out, s, raw) + raw;
    for (; *p != '\0'; p++) {
        if ((c = esc_class[*p]) == 0 || c == 'U') {
            *out++ = (char)*p;
        } else if (c != 'u') {
            *out++ = '\\';
            *out++ = c;
        } else {
            memcpy(out, "\\u00", 4);
            out[4] = hex[*p >> 4];
            out[5] = hex[*p & 0x0f];
            out += 6;
        }
    }
    return out;
}

static int is_reserved(const char *key)
{
    switch (key[0]) { /* one strcmp at most: this runs for every field */
    case 's':
        return strcmp(key, "seq") == 0;
    case 't':
        return strcmp(key, "time") == 0;
    case 'e':
        return strcmp(key, "event") == 0;
    case 'p':
        return strcmp(key, "prev") == 0;
    default:
        return 0;
    }
}

static const char *const reserved[] = {"seq", "time", "event", "prev"};

int srv__audit_check_fields(const json_t *fields, struct pki_err *err)
{
    size_t i;

    if (fields == NULL)
        return PKI_OK;
    if (!json_is_object(fields))
        return pki_err_set(err, PKI_ERR_USAGE, "audit: the fields are not a JSON object");
    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (json_object_get(fields, reserved[i]) != NULL)
            return pki_err_set(err, PKI_ERR_USAGE, "audit: the field \"%s\" is reserved",
                               reserved[i]);
    return PKI_OK;
}

/* A key given twice would make a line verify refuses (duplicate keys). */
int srv__audit_check_pairs(const char *const *kv, size_t npairs, struct pki_err *err)
{
    size_t i, j;

    if (npairs > SRV_AUDIT_PAIRS_MAX || (npairs > 0 && kv == NULL))
        return pki_err_set(err, PKI_ERR_USAGE, "audit: no fields, or more than %d",
                           SRV_AUDIT_PAIRS_MAX);
    for (i = 0; i < npairs; i++) {
        if (kv[2 * i] == NULL || kv[2 * i + 1] == NULL)
            return pki_err_set(err, PKI_ERR_USAGE, "audit: field %zu has no key or no value",
                               i + 1);
        if (is_reserved(kv[2 * i]))
            return pki_err_set(err, PKI_ERR_USAGE, "audit: the field \"%s\" is reserved",
                               kv[2 * i]);
        for (j = 0; j < i; j++)
            if (strcmp(kv[2 * j], kv[2 * i]) == 0)
                return pki_err_set(err, PKI_ERR_USAGE, "audit: the field \"%s\" is given "
                                   "twice", kv[2 * i]);
    }
    return PKI_OK;
}

/* "time":"T","event":"E" then ,"k":"v" for each pair: the body json_dumps
 * writes (compact, in order) for the same strings. */
int srv__audit_body_strs(struct srv__audit_line *l, time_t now, const char *event,
                         const char *const *kv, size_t npairs, struct pki_err *err)
{
    size_t raw[2 * SRV_AUDIT_PAIRS_MAX + 1], len[2 * SRV_AUDIT_PAIRS_MAX + 1], i, wl, total;
    char when[32], *p;

    if (!fmt_time(now, when))
        return pki_err_set(err, PKI_ERR_USAGE, "audit: cannot write the time %lld",
                           (long long)now);
    wl = strlen(when);
    total = strlen("\"time\":\"\",\"event\":\"\"") + wl + 6 * npairs; /* ,"k":"v" */
    for (i = 0; i < 2 * npairs + 1; i++) {
        if ((len[i] = esc_len(i == 0 ? event : kv[i - 1], &raw[i])) == SIZE_MAX)
            return i == 0 ? pki_err_set(err, PKI_ERR_USAGE, "audit: the event is not UTF-8")
                          : pki_err_set(err, PKI_ERR_USAGE, "audit: the %s of field %zu is "
                                        "not UTF-8", i % 2 ? "key" : "value", (i + 1) / 2);
        if ((total += len[i]) > SRV__AUDIT_LINE_MAX)
            return srv__audit_too_long(total, err);
    }
    if (line_reserve(l, total, err) != PKI_OK)
        return err->code;
    p = l->mem + SRV__AUDIT_LINE_HEAD;
    memcpy(p, "\"time\":\"", 8);
    p = (char *)memcpy(p + 8, when, wl) + wl;
    memcpy(p, "\",\"event\":\"", 11);
    p = esc_put(p + 11, event, raw[0], len[0]);
    for (i = 1; i < 2 * npairs + 1; i++) {
        memcpy(p, i % 2 ? "\",\"" : "\":\"", 3);
        p = esc_put(p + 3, kv[i - 1], raw[i], len[i]);
    }
    *p = '"';
    return PKI_OK;
}

/* The same body through jansson: the record without seq and prev, minus
 * its braces. */
int srv__audit_body_json(struct srv__audit_line *l, time_t now, const char *event,
                         json_t *fields, struct pki_err *err)
{
    json_t *o = json_object(), *v;
    const char *key;
    char when[32], *text = NULL;
    size_t len;
    int rc = PKI_OK, bad = o == NULL || !fmt_time(now, when);

    bad = bad || json_object_set_new(o, "time", json_string(when)) != 0;
    bad = bad || json_object_set_new(o, "event", json_string(event)) != 0;
    if (fields != NULL)
        json_object_foreach(fields, key, v)
            bad = bad || json_object_set(o, key, v) != 0;
    if (bad || (text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT)) == NULL)
        rc = pki_err_set(err, PKI_ERR_USAGE, "audit: cannot encode the record (an event or "
                         "field that is not UTF-8, or a time out of range?)");
    else if ((len = strlen(text) - 2) > SRV__AUDIT_LINE_MAX)
        rc = srv__audit_too_long(len, err);
    else if ((rc = line_reserve(l, len, err)) == PKI_OK)
        memcpy(l->mem + SRV__AUDIT_LINE_HEAD, text + 1, len);
    free(text);
    json_decref(o);
    return rc;
}
