/* signer_proto.c - the signer's message format and its datagram transport. */
#include "signer_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define ABSENT 0xffffffffu

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void srv__msg_start(struct srv__msg *m, unsigned char *buf, int32_t head)
{
    m->buf = buf;
    m->len = 4;
    m->overflow = 0;
    put_u32(buf, (uint32_t)head);
}

static void put_field(struct srv__msg *m, uint32_t len, const void *p, size_t n)
{
    if (m->overflow || n > SRV__MSG_MAX || 4 + n > SRV__MSG_MAX - m->len) {
        m->overflow = 1;
        return;
    }
    put_u32(m->buf + m->len, len);
    if (n > 0)
        memcpy(m->buf + m->len + 4, p, n);
    m->len += 4 + n;
}

void srv__put_bytes(struct srv__msg *m, const void *p, size_t n)
{
    put_field(m, (uint32_t)n, p, n);
}

void srv__put_str(struct srv__msg *m, const char *s)
{
    if (s == NULL)
        put_field(m, ABSENT, NULL, 0);
    else
        srv__put_bytes(m, s, strlen(s));
}

void srv__put_i64(struct srv__msg *m, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--, u >>= 8)
        b[i] = (unsigned char)u;
    srv__put_bytes(m, b, sizeof(b));
}

void srv__rd_start(struct srv__rd *r, const unsigned char *buf, size_t len, int32_t *head)
{
    r->bad = len < 4;
    r->p = r->bad ? buf : buf + 4;
    r->left = r->bad ? 0 : len - 4;
    *head = r->bad ? 0 : (int32_t)get_u32(buf);
}

/* The next field's length word; ABSENT passes through for strings. */
static int next_len(struct srv__rd *r, uint32_t *len)
{
    if (r->bad || r->left < 4) {
        r->bad = 1;
        return 0;
    }
    *len = get_u32(r->p);
    r->p += 4;
    r->left -= 4;
    return 1;
}

const unsigned char *srv__get_bytes(struct srv__rd *r, size_t max, size_t *len)
{
    const unsigned char *v;
    uint32_t n;

    *len = 0;
    if (!next_len(r, &n))
        return NULL;
    if (n == ABSENT || n > max || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    v = r->p;
    r->p += n;
    r->left -= n;
    *len = n;
    return v;
}

int srv__get_str(struct srv__rd *r, char *out, size_t cap)
{
    const unsigned char *v;
    uint32_t n;

    out[0] = '\0';
    if (!next_len(r, &n))
        return 0;
    if (n == ABSENT)
        return 0;
    if (n >= cap || n > r->left || memchr(r->p, '\0', n) != NULL) {
        r->bad = 1;
        return 0;
    }
    v = r->p;
    memcpy(out, v, n);
    out[n] = '\0';
    r->p += n;
    r->left -= n;
    return 1;
}

int64_t srv__get_i64(struct srv__rd *r)
{
    const unsigned char *v;
    uint64_t u = 0;
    size_t n;

    v = srv__get_bytes(r, 8, &n);
    if (v == NULL || n != 8) {
        r->bad = 1;
        return 0;
    }
    for (size_t i = 0; i < 8; i++)
        u = u << 8 | v[i];
    return (int64_t)u;
}

int srv__rd_ok(const struct srv__rd *r)
{
    return !r->bad && r->left == 0;
}

int srv__send(int fd, const unsigned char *buf, size_t len)
{
    ssize_t n;

    do {
        n = send(fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && (size_t)n != len) {
        errno = EMSGSIZE;
        return -1;
    }
    return n < 0 ? -1 : 0;
}

long srv__recv(int fd, unsigned char *buf, size_t cap)
{
    return srv__recv_flags(fd, buf, cap, 0);
}

long srv__recv_flags(int fd, unsigned char *buf, size_t cap, int flags)
{
    struct iovec iov = {buf, cap};
    struct msghdr mh;
    ssize_t n;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    do {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | flags);
    } while (n < 0 && errno == EINTR);
    if (n > 0 && (mh.msg_flags & MSG_TRUNC)) {
        errno = EMSGSIZE;
        return -1;
    }
    return (long)n;
}
