/* leaf_der.c - the allocation-free DER writer and TLV reader of the leaf path. */
#include "leaf_der.h"

#include <string.h>

void pki__der_init(struct pki__der *d, unsigned char *buf, size_t cap)
{
    d->buf = buf;
    d->cap = cap;
    d->len = 0;
    d->overflow = 0;
}

size_t pki__der_begin(const struct pki__der *d)
{
    return d->len;
}

static size_t len_octets(size_t n)
{
    return n < 0x80 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 4;
}

static void put_header(unsigned char *p, unsigned char tag, size_t n)
{
    size_t i, k = len_octets(n);

    p[0] = tag;
    if (k == 1) {
        p[1] = (unsigned char)n;
        return;
    }
    p[1] = (unsigned char)(0x80 | (k - 1));
    for (i = 0; i < k - 1; i++)
        p[2 + i] = (unsigned char)(n >> (8 * (k - 2 - i)));
}

static int room(struct pki__der *d, size_t n)
{
    if (d->overflow || n > d->cap - d->len) {
        d->overflow = 1;
        return 0;
    }
    return 1;
}

void pki__der_end(struct pki__der *d, size_t mark, unsigned char tag)
{
    size_t n, h;

    if (d->overflow || mark > d->len)
        return;
    n = d->len - mark;
    /* Values stay below 16 MiB: a 4-octet length field is the most needed. */
    if (n > 0xffffff) {
        d->overflow = 1;
        return;
    }
    h = 1 + len_octets(n);
    if (!room(d, h))
        return;
    memmove(d->buf + mark + h, d->buf + mark, n);
    put_header(d->buf + mark, tag, n);
    d->len += h;
}

void pki__der_raw(struct pki__der *d, const void *p, size_t n)
{
    if (n == 0 || !room(d, n))
        return;
    memcpy(d->buf + d->len, p, n);
    d->len += n;
}

void pki__der_tlv(struct pki__der *d, unsigned char tag, const void *p, size_t n)
{
    size_t h = 1 + len_octets(n);

    if (n > 0xffffff || !room(d, h + n)) {
        d->overflow = 1;
        return;
    }
    put_header(d->buf + d->len, tag, n);
    d->len += h;
    pki__der_raw(d, p, n);
}

void pki__der_uint(struct pki__der *d, const unsigned char *be, size_t n)
{
    size_t mark = pki__der_begin(d);
    static const unsigned char zero = 0;

    while (n > 1 && be[0] == 0) {
        be++;
        n--;
    }
    if (n == 0 || be[0] & 0x80)
        pki__der_raw(d, &zero, 1);
    pki__der_raw(d, be, n);
    pki__der_end(d, mark, PKI__DER_INTEGER);
}

void pki__der_bits(struct pki__der *d, const void *p, size_t n)
{
    size_t mark = pki__der_begin(d);
    static const unsigned char unused = 0;

    pki__der_raw(d, &unused, 1);
    pki__der_raw(d, p, n);
    pki__der_end(d, mark, PKI__DER_BIT_STRING);
}

static void two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void pki__der_time(struct pki__der *d, time_t t)
{
    char s[16];
    struct tm tm;
    int year, i = 0;

    if (t < 0 || t > PKI__DER_TIME_MAX || gmtime_r(&t, &tm) == NULL) {
        d->overflow = 1;
        return;
    }
    year = tm.tm_year + 1900;
    /* Dates before 1950 would also need GeneralizedTime; t >= 0 rules them out. */
    if (year >= 2050) {
        two_digits(s, year / 100);
        i = 2;
    }
    two_digits(s + i, year % 100);
    two_digits(s + i + 2, tm.tm_mon + 1);
    two_digits(s + i + 4, tm.tm_mday);
    two_digits(s + i + 6, tm.tm_hour);
    two_digits(s + i + 8, tm.tm_min);
    two_digits(s + i + 10, tm.tm_sec);
    s[i + 12] = 'Z';
    pki__der_tlv(d, year >= 2050 ? 0x18 : 0x17, s, (size_t)i + 13);
}

/* X.690 10.1: definite lengths in the fewest octets; a long form is used
 * only past 127. High tag numbers never appear in what we read. */
int pki__der_next(const unsigned char **p, size_t *left, unsigned char *tag,
                  const unsigned char **val, size_t *len)
{
    const unsigned char *q = *p;
    size_t n = *left, l, k, i;

    if (n < 2 || (q[0] & 0x1f) == 0x1f)
        return PKI_ERR_INPUT;
    *tag = q[0];
    l = q[1];
    q += 2;
    n -= 2;
    if (l & 0x80) {
        k = l & 0x7f;
        if (k == 0 || k > 3 || k > n || q[0] == 0)
            return PKI_ERR_INPUT;
        for (l = 0, i = 0; i < k; i++)
            l = (l << 8) | q[i];
        if (l < 0x80 || (k == 2 && l < 0x100) || (k == 3 && l < 0x10000))
            return PKI_ERR_INPUT;
        q += k;
        n -= k;
    }
    if (l > n)
        return PKI_ERR_INPUT;
    *val = q;
    *len = l;
    *p = q + l;
    *left = n - l;
    return PKI_OK;
}
