/* duration.c - parsing Go-style durations into whole seconds. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_S INT64_C(1000000000)
#define MAX_TEXT 64

struct unit {
    const char *name;
    uint64_t ns;
};

/* Longest names first, so "ms" is not read as "m" followed by junk. */
static const struct unit units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", UINT64_C(60) * 1000000000},
    {"h", UINT64_C(3600) * 1000000000},
    {"d", UINT64_C(86400) * 1000000000},
};

static const struct unit *match_unit(const char *p, size_t *len)
{
    size_t i, n;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        n = strlen(units[i].name);
        if (strncmp(p, units[i].name, n) == 0) {
            *len = n;
            return &units[i];
        }
    }
    return NULL;
}

/* Reads decimal digits into *v. For a fraction (scale != NULL) digits past
 * 18 places are dropped and *scale becomes 10^(digits kept); for a whole
 * number overflow fails. Returns the count of digits read, or -1. */
static int read_digits(const char **p, uint64_t *v, uint64_t *scale)
{
    int n = 0;

    *v = 0;
    if (scale != NULL)
        *scale = 1;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
        if (scale != NULL && *scale >= UINT64_C(1000000000000000000))
            continue;
        if (scale == NULL && *v > (UINT64_MAX - 9) / 10)
            return -1;
        *v = *v * 10 + (uint64_t)(**p - '0');
        if (scale != NULL)
            *scale *= 10;
    }
    return n;
}

static int too_big(const char *text, struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_INPUT,
                       "duration \"%s\" is too large (the maximum is 2562047h)", text);
}

int pki_duration_parse(const char *text, int64_t *seconds, struct pki_err *err)
{
    const char *p = text;
    uint64_t total = 0, whole, frac, scale, add;
    const struct unit *u;
    size_t ulen;
    int nw, nf;

    if (text == NULL || *text == '\0')
        return pki_err_set(err, PKI_ERR_INPUT, "empty duration (use e.g. 720h or 90m)");
    if (strlen(text) > MAX_TEXT)
        return pki_err_set(err, PKI_ERR_INPUT, "duration is longer than %d characters", MAX_TEXT);
    if (*p == '-')
        return pki_err_set(err, PKI_ERR_INPUT, "duration \"%s\" is negative", text);
    if (*p == '+')
        p++;
    if (*p == '\0')
        return pki_err_set(err, PKI_ERR_INPUT, "invalid duration \"%s\"", text);
    while (*p != '\0') {
        nw = read_digits(&p, &whole, NULL);
        if (nw < 0)
            return too_big(text, err);
        nf = 0;
        frac = 0;
        scale = 1;
        if (*p == '.') {
            p++;
            nf = read_digits(&p, &frac, &scale);
        }
        if (nw == 0 && nf == 0)
            return pki_err_set(err, PKI_ERR_INPUT,
                               "invalid duration \"%s\": expected a number at \"%s\"", text, p);
        u = match_unit(p, &ulen);
        if (u == NULL)
            return pki_err_set(err, PKI_ERR_INPUT,
                               "invalid duration \"%s\": missing or unknown unit "
                               "(use ns, us, ms, s, m, h or d)", text);
        p += ulen;
        if (whole > (uint64_t)INT64_MAX / u->ns)
            return too_big(text, err);
        add = whole * u->ns;
        /* frac/scale of a unit, exactly: frac < 10^18 and ns < 10^14, so the
         * product needs 128 bits; it is truncated like Go's parser does. */
        if (frac > 0)
            add += (uint64_t)((unsigned __int128)frac * u->ns / scale);
        if (add > (uint64_t)INT64_MAX - total)
            return too_big(text, err);
        total += add;
    }
    if (total == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "duration \"%s\" is zero", text);
    if (total < (uint64_t)NS_PER_S)
        return pki_err_set(err, PKI_ERR_INPUT,
                           "duration \"%s\" is shorter than one second", text);
    *seconds = (int64_t)(total / (uint64_t)NS_PER_S);
    return PKI_OK;
}

void pki_duration_format(int64_t seconds, char *buf, size_t len)
{
    long long h = (long long)(seconds / 3600), m = (long long)((seconds / 60) % 60),
              s = (long long)(seconds % 60);

    /* As Go's time.Duration.String: leading zero units are left out. */
    if (h > 0)
        snprintf(buf, len, "%lldh%lldm%llds", h, m, s);
    else if (m > 0)
        snprintf(buf, len, "%lldm%llds", m, s);
    else
        snprintf(buf, len, "%llds", s);
}
