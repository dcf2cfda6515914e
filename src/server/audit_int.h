/*
 * audit_int.h - what the files of the audit log share (audit.c: open,
 * the chain head and appending; audit_line.c: building a line and hashing
 * it; audit_verify.c: srv_audit_verify). Not for callers outside the audit
 * log: they use audit.h.
 */
#ifndef SRV_AUDIT_INT_H
#define SRV_AUDIT_INT_H

#include <stddef.h>
#include <time.h>

#include <openssl/types.h>

#include "audit.h"

/* Longest line appended or read back; our events are a few hundred bytes. */
#define SRV__AUDIT_LINE_MAX 65536
#define SRV__AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- hashing a line (audit_line.c) ------------------------------------- */

struct srv__audit_sha {
    EVP_MD *md; /* fetched once: a fetch per line costs more than the hash */
    EVP_MD_CTX *ctx;
};

/* 1 if SHA-256 is available (h ready); 0 if not. Free h either way. */
PKI_MUST_CHECK int srv__audit_sha_init(struct srv__audit_sha *h);
void srv__audit_sha_free(struct srv__audit_sha *h);
/* out = the lower-case hex SHA-256 of data[len]; 1 on success, 0 if
 * OpenSSL failed. */
PKI_MUST_CHECK int srv__audit_hash_hex(struct srv__audit_sha *h, const void *data, size_t len,
                                       char out[65]);
/* 1 if s is 64 lower-case hex digits (a hash as we write it). */
PKI_MUST_CHECK int srv__audit_is_hash(const char *s);

/* ---- building a line (audit_line.c) ------------------------------------ */

/* A record is built as its body ("time":...,"event":...,fields) with room
 * before it for {"seq":N, and after it for ,"prev":"<hash>"}\n: the head
 * is only known under the lock, and the line must be one write(2). */
#define SRV__AUDIT_LINE_HEAD 32
#define SRV__AUDIT_LINE_TAIL 80
#define SRV__AUDIT_LINE_STACK 1024

struct srv__audit_line {
    char *mem; /* stack or heap: LINE_HEAD bytes, the body, LINE_TAIL bytes */
    size_t len; /* of the body */
    char *heap; /* the caller sets it NULL before building and frees it after */
    char stack[SRV__AUDIT_LINE_STACK];
};

/* PKI_ERR_USAGE "a record of len bytes (at most 65536)"; returns it. */
PKI_MUST_CHECK int srv__audit_too_long(size_t len, struct pki_err *err);

/* The arguments of srv_audit_append and srv_audit_append_strs, checked as
 * audit.h says (reserved keys, the pair count, a key given twice). */
PKI_MUST_CHECK int srv__audit_check_fields(const json_t *fields, struct pki_err *err);
PKI_MUST_CHECK int srv__audit_check_pairs(const char *const *kv, size_t npairs,
                                          struct pki_err *err);

/* The body of a record into l (from l->mem + SRV__AUDIT_LINE_HEAD, l->len
 * bytes): through jansson, or from strings with the same bytes. */
PKI_MUST_CHECK int srv__audit_body_json(struct srv__audit_line *l, time_t now,
                                        const char *event, json_t *fields,
                                        struct pki_err *err);
PKI_MUST_CHECK int srv__audit_body_strs(struct srv__audit_line *l, time_t now,
                                        const char *event, const char *const *kv,
                                        size_t npairs, struct pki_err *err);

#endif
