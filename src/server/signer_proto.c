/* signer_proto.c - the signer's message format and its transport (framed, on pipes). */
#include "signer_proto.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/crypto.h>

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

void srv__frame_head(unsigned char head[4], size_t len)
{
    put_u32(head, (uint32_t)len);
}

int srv__send(int fd, const unsigned char *buf, size_t len)
{
    unsigned char head[4];
    struct iovec iov[2] = {{head, sizeof(head)}, {(void *)buf, len}};
    struct iovec *v = iov;
    int nv = 2;
    ssize_t n;

    if (len < 4 || len > SRV__MSG_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    srv__frame_head(head, len);
    /* A blocking pipe takes all of it unless a signal interrupts it. */
    while (nv > 0) {
        n = writev(fd, v, nv);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        for (; nv > 0 && (size_t)n >= v->iov_len; v++, nv--)
            n -= (ssize_t)v->iov_len;
        if (nv > 0) {
            v->iov_base = (unsigned char *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
    return 0;
}

int srv__in_init(struct srv__in *in)
{
    in->cap = SRV__IN_CAP;
    in->start = in->end = in->clean = 0;
    in->buf = OPENSSL_malloc(in->cap);
    return in->buf != NULL;
}

void srv__in_free(struct srv__in *in)
{
    if (in->buf != NULL)
        OPENSSL_clear_free(in->buf, in->cap);
    in->buf = NULL;
}

void srv__in_done(struct srv__in *in)
{
    OPENSSL_cleanse(in->buf + in->clean, in->start - in->clean);
    in->clean = in->start;
    if (in->start == in->end)
        in->start = in->end = in->clean = 0;
}

/* The whole message at in->start, if there is one: its length, 0 if not
 * yet, -1 (EPROTO, EMSGSIZE) for a length no message has. */
static long whole(const struct srv__in *in, size_t cap)
{
    size_t have = in->end - in->start;
    uint32_t len;

    if (have < 4)
        return 0;
    len = get_u32(in->buf + in->start);
    if (len < 4 || len > SRV__MSG_MAX || len > cap) {
        errno = len > cap && len <= SRV__MSG_MAX ? EMSGSIZE : EPROTO;
        return -1;
    }
    return have - 4 >= len ? (long)len : 0;
}

/* Moves the unread bytes to the front when the rest of a message might not
 * fit behind them, wiping the copies they leave. */
static void make_room(struct srv__in *in)
{
    size_t have = in->end - in->start, stale;

    if (in->start == 0 || in->cap - in->start >= 4 + SRV__MSG_MAX)
        return;
    memmove(in->buf, in->buf + in->start, have);
    /* What was taken is wiped already; the old copy's tail is not. */
    stale = have > in->start ? have : in->start;
    OPENSSL_cleanse(in->buf + stale, in->end - stale);
    in->start = in->clean = 0;
    in->end = have;
}

long srv__in_next(int fd, struct srv__in *in, size_t cap, const unsigned char **msg, int wait)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    long len;
    ssize_t r;

    srv__in_done(in); /* the last message taken is the caller's no more */
    while ((len = whole(in, cap)) == 0) {
        make_room(in);
        r = read(fd, in->buf + in->end, in->cap - in->end);
        if (r > 0) {
            in->end += (size_t)r;
        } else if (r == 0) {
            if (in->start == in->end)
                return 0;
            errno = EPROTO; /* EOF inside a message */
            return -1;
        } else if (errno == EAGAIN && (wait || in->start != in->end)) {
            /* Mid-message, the writer is writing the rest. */
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    if (len < 0)
        return -1;
    *msg = in->buf + in->start + 4;
    in->start += 4 + (size_t)len;
    return len;
}
