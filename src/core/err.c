/* err.c - building the one-line error messages of the core. */
#include "err.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 0)))
static void vset(struct pki_err *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int pki_err_set(struct pki_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int pki_err_set_ssl(struct pki_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    unsigned long e = ERR_peek_last_error();
    char reason[256];
    size_t len;

    if (err != NULL) {
        va_start(ap, fmt);
        vset(err, code, fmt, ap);
        va_end(ap);
        if (e != 0) {
            ERR_error_string_n(e, reason, sizeof(reason));
            len = strlen(err->msg);
            snprintf(err->msg + len, sizeof(err->msg) - len, " (%s)", reason);
        }
    }
    ERR_clear_error();
    return code;
}

void pki_err_prefix(struct pki_err *err, const char *fmt, ...)
{
    char prefix[256];
    size_t plen, mlen;
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    plen = strlen(prefix);
    mlen = strlen(err->msg);
    if (mlen > sizeof(err->msg) - plen - 3)
        mlen = sizeof(err->msg) - plen - 3; /* keep the prefix; cut the tail */
    memmove(err->msg + plen + 2, err->msg, mlen);
    err->msg[plen + 2 + mlen] = '\0';
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
}

void pki_err_clear(struct pki_err *err)
{
    if (err == NULL)
        return;
    err->code = PKI_OK;
    err->msg[0] = '\0';
}
