/* name.c - validation of host names, IP literals and user names. */
#include "name.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Writes c into buf so a control character is visible in a message. */
static const char *show_char(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;

    if (u < 0x20 || u >= 0x7f)
        snprintf(buf, 8, "\\x%02x", u);
    else
        snprintf(buf, 8, "'%c'", c);
    return buf;
}

/* Checks one DNS label of length len at s (RFC 1123 section 2.1: letters,
 * digits and hyphens, not starting or ending with a hyphen). */
static int check_label(const char *name, const char *s, size_t len, struct pki_err *err)
{
    char cb[8];
    size_t i;

    if (len == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid host name \"%s\": empty label", name);
    if (len > PKI_NAME_LABEL_MAX)
        return pki_err_set(err, PKI_ERR_INPUT,
                           "invalid host name \"%s\": a label is longer than %d characters",
                           name, PKI_NAME_LABEL_MAX);
    for (i = 0; i < len; i++) {
        if (s[i] == '*')
            return pki_err_set(err, PKI_ERR_INPUT,
                               "invalid host name \"%s\": a wildcard is allowed only as the "
                               "whole leftmost label (as in *.example.com)", name);
        if (!is_alnum(s[i]) && s[i] != '-')
            return pki_err_set(err, PKI_ERR_INPUT,
                               "invalid host name \"%s\": character %s is not allowed "
                               "(letters, digits and '-' only)", name, show_char(s[i], cb));
    }
    if (s[0] == '-' || s[len - 1] == '-')
        return pki_err_set(err, PKI_ERR_INPUT,
                           "invalid host name \"%s\": a label starts or ends with '-'", name);
    return PKI_OK;
}

static int all_digits(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

static int parse_dns(const char *name, struct pki_host *out, struct pki_err *err)
{
    size_t len = strlen(name), labels = 0;
    const char *p = name, *dot, *last = name;
    int rc;

    if (len > PKI_NAME_DNS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid host name \"%.40s...\": longer than %d "
                           "characters", name, PKI_NAME_DNS_MAX);
    if (name[len - 1] == '.')
        return pki_err_set(err, PKI_ERR_INPUT,
                           "invalid host name \"%s\": remove the trailing dot", name);
    if (strncmp(name, "*.", 2) == 0)
        p += 2;
    else if (strcmp(name, "*") == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid host name \"*\": a wildcard needs a "
                           "domain after it (as in *.example.com)");
    for (;;) {
        dot = strchr(p, '.');
        last = p;
        rc = check_label(name, p, dot ? (size_t)(dot - p) : strlen(p), err);
        if (rc != PKI_OK)
            return rc;
        labels++;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    /* RFC 3696 section 2: a top-level domain is never all-numeric, so
     * "1.2.3.256" is a bad IP address rather than a name. */
    if (all_digits(last, strlen(last)))
        return pki_err_set(err, PKI_ERR_INPUT,
                           "invalid host \"%s\": not a valid IP address, and a name's last "
                           "label cannot be all digits", name);
    if (name[0] == '*' && labels < 2)
        return pki_err_set(err, PKI_ERR_INPUT,
                           "invalid host name \"%s\": a wildcard must cover a name of at least "
                           "two labels (as in *.example.com)", name);
    out->kind = PKI_HOST_DNS;
    memcpy(out->text, name, len + 1);
    out->ip_len = 0;
    return PKI_OK;
}

static int parse_ip(const char *text, struct pki_host *out)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t len = strlen(text);

    if (inet_pton(AF_INET, text, out->ip) == 1) {
        out->kind = PKI_HOST_IPV4;
        out->ip_len = 4;
    } else {
        if (text[0] == '[' && len >= 2 && len < sizeof(buf) && text[len - 1] == ']') {
            memcpy(buf, text + 1, len - 2);
            buf[len - 2] = '\0';
            text = buf;
        }
        if (inet_pton(AF_INET6, text, out->ip) != 1)
            return 0;
        out->kind = PKI_HOST_IPV6;
        out->ip_len = 16;
    }
    inet_ntop(out->kind == PKI_HOST_IPV4 ? AF_INET : AF_INET6, out->ip, out->text,
              sizeof(out->text));
    return 1;
}

int pki_host_parse(const char *text, struct pki_host *out, struct pki_err *err)
{
    struct pki_host h;

    if (text == NULL || text[0] == '\0')
        return pki_err_set(err, PKI_ERR_INPUT, "empty host name");
    memset(&h, 0, sizeof(h));
    if (parse_ip(text, &h)) {
        *out = h;
        return PKI_OK;
    }
    if (strchr(text, ':') != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid IP address \"%s\"%s", text,
                           strchr(text, '%') ? ": zone ids are not allowed" : "");
    if (parse_dns(text, &h, err) != PKI_OK)
        return err ? err->code : PKI_ERR_INPUT;
    *out = h;
    return PKI_OK;
}

/* RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static int parse_uri(const char *v, struct pki_host *out, struct pki_err *err)
{
    char cb[8];
    size_t i, len = strlen(v);

    if (len > PKI_NAME_SAN_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "URI SAN is longer than %d characters",
                           PKI_NAME_SAN_MAX);
    for (i = 0; i < len && v[i] != ':'; i++)
        if (!(is_alnum(v[i]) || (i > 0 && (v[i] == '+' || v[i] == '-' || v[i] == '.'))) ||
            (i == 0 && is_digit(v[i])))
            return pki_err_set(err, PKI_ERR_INPUT, "invalid URI SAN \"%.80s\": it must start "
                               "with a scheme such as spiffe: or https:", v);
    if (i == 0 || i == len || i + 1 == len)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid URI SAN \"%.80s\": expected "
                           "SCHEME:REST, as in spiffe://cluster.local/ns/db", v);
    for (; i < len; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return pki_err_set(err, PKI_ERR_INPUT, "invalid URI SAN: character %s is not "
                               "allowed (no spaces or control characters)", show_char(v[i], cb));
    out->kind = PKI_HOST_URI;
    memcpy(out->text, v, len + 1);
    return PKI_OK;
}

/* RFC 5322 section 3.2.3 atext, for a dot-atom local part. */
static int is_atext(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int parse_email(const char *v, struct pki_host *out, struct pki_err *err)
{
    const char *at = strchr(v, '@');
    struct pki_host domain;
    size_t i, local;

    if (strlen(v) > PKI_NAME_EMAIL_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "email SAN is longer than %d characters",
                           PKI_NAME_EMAIL_MAX);
    if (at == NULL || at == v || strchr(at + 1, '@') != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid email SAN \"%.80s\": expected "
                           "LOCAL@DOMAIN", v);
    local = (size_t)(at - v);
    for (i = 0; i < local; i++)
        if (!(is_atext(v[i]) || (v[i] == '.' && i > 0 && i + 1 < local && v[i + 1] != '.')))
            return pki_err_set(err, PKI_ERR_INPUT, "invalid email SAN \"%.80s\": bad "
                               "character in the part before '@'", v);
    if (local > 64 || at[1] == '*' || at[1] == '\0' ||
        parse_dns(at + 1, &domain, err) != PKI_OK)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid email SAN \"%.80s\": bad %s", v,
                           local > 64 ? "local part (over 64 characters)" : "domain");
    out->kind = PKI_HOST_EMAIL;
    memcpy(out->text, v, strlen(v) + 1);
    return PKI_OK;
}

int pki_san_check(enum pki_host_kind kind, const char *value, struct pki_host *out,
                  struct pki_err *err)
{
    struct pki_host h;
    int rc;

    memset(&h, 0, sizeof(h));
    switch (kind) {
    case PKI_HOST_DNS:
        if (value[0] == '\0' || strchr(value, ':') != NULL || parse_ip(value, &h))
            return pki_err_set(err, PKI_ERR_INPUT, "invalid DNS SAN \"%.80s\"", value);
        rc = parse_dns(value, &h, err);
        break;
    case PKI_HOST_IPV4:
    case PKI_HOST_IPV6:
        rc = pki_host_parse(value, &h, err);
        if (rc == PKI_OK && h.kind == PKI_HOST_DNS)
            rc = pki_err_set(err, PKI_ERR_INPUT, "invalid IP SAN \"%.80s\"", value);
        break;
    case PKI_HOST_URI:
        rc = parse_uri(value, &h, err);
        break;
    case PKI_HOST_EMAIL:
        rc = parse_email(value, &h, err);
        break;
    default:
        rc = pki_err_set(err, PKI_ERR_INPUT, "unsupported SAN type");
    }
    if (rc == PKI_OK)
        *out = h;
    return rc;
}

int pki_san_parse(const char *typed, struct pki_host *out, struct pki_err *err)
{
    static const struct {
        const char *prefix;
        enum pki_host_kind kind;
    } types[] = {{"dns:", PKI_HOST_DNS}, {"ip:", PKI_HOST_IPV4},
                 {"uri:", PKI_HOST_URI}, {"email:", PKI_HOST_EMAIL}};
    size_t i, n;

    if (typed == NULL || strlen(typed) > PKI_NAME_SAN_MAX + 8)
        return pki_err_set(err, PKI_ERR_INPUT, "SAN is missing or too long");
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        n = strlen(types[i].prefix);
        if (strncasecmp(typed, types[i].prefix, n) == 0)
            return pki_san_check(types[i].kind, typed + n, out, err);
    }
    return pki_err_set(err, PKI_ERR_INPUT, "invalid SAN \"%.80s\": expected dns:NAME, ip:ADDR, "
                       "uri:URI or email:ADDR", typed);
}

const char *pki_san_type_name(enum pki_host_kind kind)
{
    switch (kind) {
    case PKI_HOST_DNS: return "dns";
    case PKI_HOST_IPV4:
    case PKI_HOST_IPV6: return "ip";
    case PKI_HOST_URI: return "uri";
    case PKI_HOST_EMAIL: return "email";
    }
    return "?";
}

int pki_user_check(const char *user, struct pki_err *err)
{
    char cb[8];
    size_t i, len;

    if (user == NULL || user[0] == '\0')
        return pki_err_set(err, PKI_ERR_INPUT, "empty user name");
    len = strlen(user);
    if (len > PKI_NAME_USER_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "user name is longer than %d characters",
                           PKI_NAME_USER_MAX);
    for (i = 0; i < len; i++) {
        char c = user[i];

        if (c == '/' || c == '\\')
            return pki_err_set(err, PKI_ERR_INPUT,
                               "invalid user name \"%s\": path separators are not allowed", user);
        if (!is_alnum(c) && c != '_' && c != '.' && c != '-' && c != '@')
            return pki_err_set(err, PKI_ERR_INPUT,
                               "invalid user name: character %s is not allowed "
                               "(letters, digits, '_', '.', '-', '@')", show_char(c, cb));
    }
    if (strstr(user, "..") != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid user name \"%s\": \"..\" is not allowed",
                           user);
    if (!is_alnum(user[0]) && user[0] != '_')
        return pki_err_set(err, PKI_ERR_INPUT,
                           "invalid user name \"%s\": it must start with a letter, digit or '_'",
                           user);
    return PKI_OK;
}
