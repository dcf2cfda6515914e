/*
 * signer_proto.h - internals shared by signer.c (the front end's side) and
 * signer_child.c (the signer process): the message format and transport.
 *
 * The front end and the signer talk over two pipes, one each way (cheaper
 * than a socket: docs/server.md, "The signer's pipes"). A message is its
 * length (u32, big-endian; at most SRV__MSG_MAX) and then the message:
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

/* An ISSUE reply, framed, is at most this long (the signer refuses a larger
 * leaf), so the front end knows how many its reply pipe holds. */
#define SRV__ISSUE_REPLY_MAX (28 * 1024)

/* One message out, retrying on EINTR; all of it (blocking fd). The process
 * must ignore SIGPIPE (a closed reader is EPIPE). */
int srv__send(int fd, const unsigned char *buf, size_t len);
/* A frame's head: the length of the message behind it. */
void srv__frame_head(unsigned char head[4], size_t len);

/* Messages in, read ahead: one read(2) takes what is there, so several
 * pipelined messages cost one system call. Bytes read are wiped as they
 * are moved and by srv__in_done (requests may hold keys). */
#define SRV__IN_CAP (2 * (4 + SRV__MSG_MAX))
struct srv__in {
    unsigned char *buf; /* SRV__IN_CAP bytes; unread: [start, end) */
    size_t cap, start, end;
    size_t clean; /* [0, clean) is wiped */
};
int srv__in_init(struct srv__in *in); /* 0: out of memory */
void srv__in_free(struct srv__in *in);
/* The next message, of at most cap bytes: its length, with *msg pointing at
 * it in in->buf until the next call (which wipes it); 0 at EOF (the peer is
 * gone); -1 with errno: EAGAIN (fd non-blocking, wait 0, no message begun:
 * a begun one is waited for), EMSGSIZE (longer than cap), EPROTO (a broken
 * frame). The stream cannot be read on after EMSGSIZE or EPROTO. */
long srv__in_next(int fd, struct srv__in *in, size_t cap, const unsigned char **msg, int wait);
/* Wipes the messages already taken, at once rather than at the next call. */
void srv__in_done(struct srv__in *in);

/* The signer process: reads requests from rfd and writes replies to wfd
 * until EOF or STOP, then _exit. flags: SRV_SIGNER_* (signer.h). */
__attribute__((noreturn)) void srv__signer_child(int rfd, int wfd, const char *store_key_path,
                                                 int flags);

#endif
