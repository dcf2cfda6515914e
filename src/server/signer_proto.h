/*
 * signer_proto.h - internals shared by signer.c (the front end's side) and
 * signer_child.c (the signer process): the message format and transport.
 *
 * One message is one SOCK_SEQPACKET datagram of at most SRV__MSG_MAX bytes:
 *
 *     head (u32, big-endian): a request's op, or a reply's status (0 or a
 *                              negative PKI_ERR_* as two's complement)
 *     fields, each:            length (u32, big-endian) || bytes
 *
 * A length of 0xffffffff is an absent optional string. Numbers are 8-byte
 * big-endian fields. A failed reply carries one field: the error message.
 * The reader checks every length against what is left and against the
 * caller's bound, and a message must be consumed exactly.
 */
#ifndef SRV_SIGNER_PROTO_H
#define SRV_SIGNER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SRV__MSG_MAX (64 * 1024)

enum srv__op {
    SRV__OP_GEN_ROOT = 1,
    SRV__OP_GEN_INTERMEDIATE,
    SRV__OP_CROSS_SIGN,
    SRV__OP_IMPORT_ROOT,
    SRV__OP_LOAD_KEY,
    SRV__OP_SET_ISSUER,
    SRV__OP_ISSUE,
    SRV__OP_STOP,
};

struct srv__msg {
    unsigned char *buf; /* SRV__MSG_MAX bytes */
    size_t len;
    int overflow;
};

void srv__msg_start(struct srv__msg *m, unsigned char *buf, int32_t head);
void srv__put_bytes(struct srv__msg *m, const void *p, size_t n);
void srv__put_str(struct srv__msg *m, const char *s); /* NULL: absent */
void srv__put_i64(struct srv__msg *m, int64_t v);

struct srv__rd {
    const unsigned char *p;
    size_t left;
    int bad;
};

/* Starts reading a message; *head is its op or status. */
void srv__rd_start(struct srv__rd *r, const unsigned char *buf, size_t len, int32_t *head);
/* A field of at most max bytes (NULL and bad set otherwise). */
const unsigned char *srv__get_bytes(struct srv__rd *r, size_t max, size_t *len);
/* A string field copied into out (cap bytes, NUL-terminated): no NUL inside,
 * shorter than cap. Returns 1 if present, 0 if absent (out = ""). */
int srv__get_str(struct srv__rd *r, char *out, size_t cap);
int64_t srv__get_i64(struct srv__rd *r);
/* 1 if every field read was well formed and nothing is left. */
int srv__rd_ok(const struct srv__rd *r);

/* One datagram out / in, retrying on EINTR; send never raises SIGPIPE.
 * srv__recv returns the length, 0 at EOF (the peer is gone), or -1 (errno;
 * EMSGSIZE for a datagram longer than cap). */
int srv__send(int fd, const unsigned char *buf, size_t len);
long srv__recv(int fd, unsigned char *buf, size_t cap);
/* srv__recv with recvmsg flags (MSG_DONTWAIT: -1 with EAGAIN when empty). */
long srv__recv_flags(int fd, unsigned char *buf, size_t cap, int flags);

/* The signer process: serves fd until EOF or STOP, then _exit. flags:
 * SRV_SIGNER_* (signer.h). */
__attribute__((noreturn)) void srv__signer_child(int fd, const char *store_key_path,
                                                 int flags);

#endif
