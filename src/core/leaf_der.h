/*
 * leaf_der.h - internals of the leaf fast path (leaf.c, leaf_der.c,
 * leaf_spki.c): a small DER writer into a fixed buffer, a TLV reader, and
 * the SubjectPublicKeyInfo walk.
 *
 * The writer never allocates: a constructed value is opened with
 * pki__der_begin, its contents written, and pki__der_end slides them up to
 * make room for the tag and length. Running out of room sets `overflow`
 * and every later call does nothing, so callers check once at the end.
 */
#ifndef PKI_LEAF_DER_H
#define PKI_LEAF_DER_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define PKI__DER_SEQUENCE 0x30
#define PKI__DER_SET 0x31
#define PKI__DER_INTEGER 0x02
#define PKI__DER_BIT_STRING 0x03
#define PKI__DER_OCTET_STRING 0x04
#define PKI__DER_NULL 0x05
#define PKI__DER_OID 0x06
#define PKI__DER_UTF8STRING 0x0c
#define PKI__DER_BOOLEAN 0x01

/* Seconds of 9999-12-31 23:59:59 UTC, GeneralizedTime's last instant. */
#define PKI__DER_TIME_MAX ((time_t)253402300799)

struct pki__der {
    unsigned char *buf;
    size_t cap, len;
    int overflow;
};

void pki__der_init(struct pki__der *d, unsigned char *buf, size_t cap);
/* Starts a constructed value; returns the mark pki__der_end takes. */
size_t pki__der_begin(const struct pki__der *d);
void pki__der_end(struct pki__der *d, size_t mark, unsigned char tag);
void pki__der_raw(struct pki__der *d, const void *p, size_t n);
void pki__der_tlv(struct pki__der *d, unsigned char tag, const void *p, size_t n);
/* INTEGER from an unsigned big-endian magnitude (leading zeros dropped, a
 * 0x00 added when the top bit is set, RFC 5280 wants positive serials). */
void pki__der_uint(struct pki__der *d, const unsigned char *be, size_t n);
/* BIT STRING with no unused bits. */
void pki__der_bits(struct pki__der *d, const void *p, size_t n);
/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
 * t must be in 0..PKI__DER_TIME_MAX (the caller checks). */
void pki__der_time(struct pki__der *d, time_t t);

/* Reads one TLV (single-byte tag, definite minimal length) from p and left, advancing both. */
PKI_MUST_CHECK int pki__der_next(const unsigned char **p, size_t *left, unsigned char *tag,
                                 const unsigned char **val, size_t *len);

enum pki__spki_kind {
    PKI__SPKI_EC,
    PKI__SPKI_RSA,
    PKI__SPKI_ED25519,
};

/* pki_leaf_spki_check, also returning the key's kind and the
 * subjectPublicKey bits (without the unused-bits byte) for the SKI. */
PKI_MUST_CHECK int pki__spki_walk(const unsigned char *der, size_t len,
                                  enum pki__spki_kind *kind, const unsigned char **bits,
                                  size_t *bits_len, struct pki_err *err);

#endif
