/*
 * fmt.h - number formatting for hot paths that cannot afford snprintf
 * (about 1,000 instructions a call in glibc; an answer's header and body
 * took five).
 */
#ifndef PKI_FMT_H
#define PKI_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKI_FMT_U64_MAX 20 /* digits of UINT64_MAX */

/* v in decimal at out (no NUL); returns the number of digits. */
static inline size_t pki_fmt_u64(uint64_t v, char out[PKI_FMT_U64_MAX])
{
    char tmp[PKI_FMT_U64_MAX], *p = tmp + sizeof(tmp);
    size_t n;

    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(out, p, n);
    return n;
}

#endif
