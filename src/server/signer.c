/*
 * signer.c - the front end's side of the signer (signer.h): starting and
 * stopping the process, and one synchronous request/reply per call.
 */
#include "signer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "signer_proto.h"

struct srv_signer {
    int fd;  /* replies in: the reply pipe's read end, non-blocking */
    int wfd; /* requests out: the request pipe's write end */
    pid_t pid;
    int exited; /* reaped; status holds its wait status */
    int status;
    unsigned char *buf; /* SRV__MSG_MAX: requests out, replies in */
    struct srv__in in;  /* replies, read ahead (several pipelined ones at once) */
    size_t inflight;    /* issue requests sent, replies not yet read */
    size_t inflight_max; /* as many as the reply pipe holds, at most SRV_SIGNER_INFLIGHT_MAX */
    void (*drain)(void *arg);
    void *drain_arg;
};

/* The signer is gone (EOF or a broken pipe): reap it once, and say so on
 * this and every later call. */
static int signer_gone(struct srv_signer *s, struct pki_err *err)
{
    char how[64];

    if (!s->exited) {
        while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
            ;
        s->exited = 1;
    }
    if (WIFSIGNALED(s->status))
        snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(s->status));
    else
        snprintf(how, sizeof(how), "exit code %d", WEXITSTATUS(s->status));
    return pki_err_set(err, PKI_ERR_INTERNAL, "signer process exited (status: %s)", how);
}

/* srv__in_next gave n <= 0: EOF is the signer's end, and so is a broken
 * frame (the stream cannot be read on: the signer is killed); any other
 * error is reported as it is. */
static int recv_failed(struct srv_signer *s, long n, struct pki_err *err)
{
    int e = errno;

    if (n == 0 || e == EPROTO || e == EMSGSIZE) {
        if (n != 0)
            kill(s->pid, SIGKILL);
        return signer_gone(s, err);
    }
    return pki_err_set(err, PKI_ERR_INTERNAL, "signer: receive failed: %s", strerror(e));
}

/* Reads the reply's status; a failure's message becomes err. */
static int reply_status(struct srv__rd *r, long n, const unsigned char *buf,
                        struct pki_err *err)
{
    char msg[PKI_ERR_MSG_MAX];
    int32_t status;

    srv__rd_start(r, buf, (size_t)n, &status);
    if (status == PKI_OK && !r->bad)
        return PKI_OK;
    if (status >= 0 || status < PKI_ERR_INTERNAL || !srv__get_str(r, msg, sizeof(msg)))
        return pki_err_set(err, PKI_ERR_INTERNAL, "signer: malformed reply");
    return pki_err_set(err, status, "%s", msg);
}

/* Whether the request in m can go out: the drain runs first, and may find
 * the signer gone. */
static int call_ready(struct srv_signer *s, const struct srv__msg *m, struct pki_err *err)
{
    if (!s->exited && s->inflight > 0 && s->drain != NULL)
        s->drain(s->drain_arg);
    if (s->exited)
        return signer_gone(s, err);
    if (s->inflight > 0)
        return pki_err_set(err, PKI_ERR_USAGE, "signer: %zu leaf replies not yet read",
                           s->inflight);
    if (m->overflow)
        return pki_err_set(err, PKI_ERR_INPUT, "signer request larger than %d bytes",
                           SRV__MSG_MAX);
    return PKI_OK;
}

/* Sends the request in m, waits for the reply, reads its status into r.
 * The request buffer is wiped after sending, or when it is not sent: it may
 * hold a private key. */
static int call(struct srv_signer *s, struct srv__msg *m, struct srv__rd *r, struct pki_err *err)
{
    const unsigned char *reply;
    size_t len = m->len;
    long n;
    int rc;

    if ((rc = call_ready(s, m, err)) != PKI_OK) {
        OPENSSL_cleanse(s->buf, SRV__MSG_MAX);
        return rc;
    }
    rc = srv__send(s->wfd, s->buf, len);
    OPENSSL_cleanse(s->buf, len);
    if (rc != 0 && errno == EPIPE)
        return signer_gone(s, err);
    if (rc != 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "signer: send failed: %s", strerror(errno));
    n = srv__in_next(s->fd, &s->in, SRV__MSG_MAX, &reply, 1);
    if (n <= 0)
        return recv_failed(s, n, err);
    return reply_status(r, n, reply, err);
}

/* The reply pipe holds every reply in flight, so the signer never blocks
 * writing one while the front end blocks writing a request (pipelined
 * issuance): as large as Linux lets it be, and the in-flight bound follows
 * from its size (a reply may start on a new page: one page more each). */
static size_t size_reply_pipe(int fd)
{
    const int each = SRV__ISSUE_REPLY_MAX + 4096;
    int size;
    size_t n;

    (void)fcntl(fd, F_SETPIPE_SZ, SRV_SIGNER_INFLIGHT_MAX * each);
    size = fcntl(fd, F_GETPIPE_SZ);
    n = size > 0 ? (size_t)(size / each) : 0;
    if (n > SRV_SIGNER_INFLIGHT_MAX)
        n = SRV_SIGNER_INFLIGHT_MAX;
    return n > 0 ? n : 1; /* 1: the next is sent only after the last reply is read */
}

static void close_pair(int p[2])
{
    close(p[0]);
    close(p[1]);
}

static int fork_signer(struct srv_signer *s, const char *path, int flags, struct pki_err *err)
{
    int req[2], rep[2];

    if (pipe2(req, O_CLOEXEC) != 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "signer: pipe: %s", strerror(errno));
    if (pipe2(rep, O_CLOEXEC) != 0) {
        close_pair(req);
        return pki_err_set(err, PKI_ERR_INTERNAL, "signer: pipe: %s", strerror(errno));
    }
    /* Our read end only: the signer's write end stays blocking. */
    if (fcntl(rep[0], F_SETFL, fcntl(rep[0], F_GETFL) | O_NONBLOCK) != 0 ||
        (s->pid = fork()) < 0) {
        close_pair(req);
        close_pair(rep);
        return pki_err_set(err, PKI_ERR_INTERNAL, "signer: fork: %s", strerror(errno));
    }
    if (s->pid == 0)
        srv__signer_child(req[0], rep[1], path, flags); /* closes the rest */
    close(req[0]);
    close(rep[1]);
    s->wfd = req[1];
    s->fd = rep[0];
    s->inflight_max = size_reply_pipe(s->fd);
    return PKI_OK;
}

struct srv_signer *srv_signer_start(const char *store_key_path, int flags,
                                    struct pki_err *err)
{
    struct srv_signer *s = OPENSSL_zalloc(sizeof(*s));
    const unsigned char *msg;
    struct srv__rd r;
    long n;
    int rc;

    if (s == NULL || (s->buf = OPENSSL_malloc(SRV__MSG_MAX)) == NULL ||
        !srv__in_init(&s->in)) {
        if (s != NULL)
            OPENSSL_free(s->buf);
        OPENSSL_free(s);
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->fd = s->wfd = -1;
    if (fork_signer(s, store_key_path, flags, err) != PKI_OK) {
        srv__in_free(&s->in);
        OPENSSL_free(s->buf);
        OPENSSL_free(s);
        return NULL;
    }
    /* The first message: the store key was read, or why not. */
    n = srv__in_next(s->fd, &s->in, SRV__MSG_MAX, &msg, 1);
    if (n <= 0)
        rc = recv_failed(s, n, err);
    else if ((rc = reply_status(&r, n, msg, err)) == PKI_OK && !srv__rd_ok(&r))
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "signer: malformed start message");
    if (rc != PKI_OK) {
        srv_signer_stop(s);
        return NULL;
    }
    return s;
}

void srv_signer_stop(struct srv_signer *s)
{
    struct srv__msg m;

    if (s == NULL)
        return;
    if (!s->exited && s->fd >= 0) {
        srv__msg_start(&m, s->buf, SRV__OP_STOP);
        /* Closing the pipe after STOP ends the signer either way (EOF). */
        (void)srv__send(s->wfd, m.buf, m.len);
    }
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->fd >= 0)
        close(s->fd);
    if (!s->exited)
        while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
            ;
    OPENSSL_clear_free(s->buf, SRV__MSG_MAX);
    srv__in_free(&s->in);
    OPENSSL_free(s);
}

int srv_signer_pid(const struct srv_signer *s)
{
    return (int)s->pid;
}

void srv_ca_made_clear(struct srv_ca_made *m)
{
    pki_buf_free(&m->cert);
    pki_buf_free(&m->wrapped_key);
    m->key_id[0] = '\0';
}

static int malformed_reply(struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_INTERNAL, "signer: malformed reply");
}

static void put_ca_req(struct srv__msg *m, const struct srv_ca_req *req)
{
    srv__put_i64(m, (int64_t)req->spec.type);
    srv__put_i64(m, (int64_t)req->spec.bits);
    srv__put_str(m, req->common_name);
    srv__put_str(m, req->trust_domain);
    srv__put_i64(m, req->ttl);
    srv__put_i64(m, (int64_t)req->now);
}

/* cert DER, wrapped key, key id: out is set only when all three are read. */
static int read_made(struct srv__rd *r, struct srv_ca_made *out, struct pki_err *err)
{
    struct srv_ca_made m = {{NULL, 0}, {NULL, 0}, ""};
    const unsigned char *cert, *wrapped;
    size_t cn, wn;
    int rc;

    cert = srv__get_bytes(r, SRV__MSG_MAX, &cn);
    wrapped = srv__get_bytes(r, SRV__MSG_MAX, &wn);
    srv__get_str(r, m.key_id, sizeof(m.key_id));
    if (!srv__rd_ok(r) || cn == 0 || wn == 0 || m.key_id[0] == '\0')
        return malformed_reply(err);
    if ((rc = pki_buf_set(&m.cert, cert, cn, err)) != PKI_OK ||
        (rc = pki_buf_set(&m.wrapped_key, wrapped, wn, err)) != PKI_OK) {
        srv_ca_made_clear(&m);
        return rc;
    }
    srv_ca_made_clear(out);
    *out = m;
    return PKI_OK;
}

/* One DER field into out (set only on success). */
static int read_der(struct srv__rd *r, struct pki_buf *out, struct pki_err *err)
{
    const unsigned char *der;
    size_t n;

    der = srv__get_bytes(r, SRV__MSG_MAX, &n);
    if (!srv__rd_ok(r) || n == 0)
        return malformed_reply(err);
    return pki_buf_set(out, der, n, err);
}

int srv_signer_gen_root(struct srv_signer *s, const struct srv_ca_req *req,
                        struct srv_ca_made *out, struct pki_err *err)
{
    struct srv__msg m;
    struct srv__rd r;
    int rc;

    srv__msg_start(&m, s->buf, SRV__OP_GEN_ROOT);
    put_ca_req(&m, req);
    if ((rc = call(s, &m, &r, err)) != PKI_OK)
        return rc;
    return read_made(&r, out, err);
}

int srv_signer_gen_intermediate(struct srv_signer *s, const char *parent_key_id,
                                const unsigned char *parent_der, size_t parent_len,
                                const struct srv_ca_req *req, struct srv_ca_made *out,
                                struct pki_err *err)
{
    struct srv__msg m;
    struct srv__rd r;
    int rc;

    srv__msg_start(&m, s->buf, SRV__OP_GEN_INTERMEDIATE);
    srv__put_str(&m, parent_key_id);
    srv__put_bytes(&m, parent_der, parent_len);
    put_ca_req(&m, req);
    if ((rc = call(s, &m, &r, err)) != PKI_OK)
        return rc;
    return read_made(&r, out, err);
}

int srv_signer_cross_sign(struct srv_signer *s, const char *signing_key_id,
                          const unsigned char *signing_der, size_t signing_len,
                          const unsigned char *cert_der, size_t cert_len, time_t now,
                          struct pki_buf *out, struct pki_err *err)
{
    struct srv__msg m;
    struct srv__rd r;
    int rc;

    srv__msg_start(&m, s->buf, SRV__OP_CROSS_SIGN);
    srv__put_str(&m, signing_key_id);
    srv__put_bytes(&m, signing_der, signing_len);
    srv__put_bytes(&m, cert_der, cert_len);
    srv__put_i64(&m, (int64_t)now);
    if ((rc = call(s, &m, &r, err)) != PKI_OK)
        return rc;
    return read_der(&r, out, err);
}

int srv_signer_import_root(struct srv_signer *s, const unsigned char *key_der, size_t key_len,
                           const unsigned char *cert_der, size_t cert_len,
                           struct srv_ca_made *out, struct pki_err *err)
{
    struct srv__msg m;
    struct srv__rd r;
    int rc;

    srv__msg_start(&m, s->buf, SRV__OP_IMPORT_ROOT);
    srv__put_bytes(&m, key_der, key_len);
    srv__put_bytes(&m, cert_der, cert_len);
    if ((rc = call(s, &m, &r, err)) != PKI_OK)
        return rc;
    return read_made(&r, out, err);
}

/* A reply with nothing but its status. */
static int call_empty(struct srv_signer *s, struct srv__msg *m, struct pki_err *err)
{
    struct srv__rd r;
    int rc = call(s, m, &r, err);

    if (rc == PKI_OK && !srv__rd_ok(&r))
        rc = malformed_reply(err);
    return rc;
}

int srv_signer_load_key(struct srv_signer *s, const char *key_id, const unsigned char *wrapped,
                        size_t len, struct pki_err *err)
{
    struct srv__msg m;

    srv__msg_start(&m, s->buf, SRV__OP_LOAD_KEY);
    srv__put_str(&m, key_id);
    srv__put_bytes(&m, wrapped, len);
    return call_empty(s, &m, err);
}

int srv_signer_set_issuer(struct srv_signer *s, const char *key_id,
                          const unsigned char *cert_der, size_t cert_len, int64_t max_leaf_ttl,
                          const char *trust_domain, struct pki_err *err)
{
    struct srv__msg m;

    srv__msg_start(&m, s->buf, SRV__OP_SET_ISSUER);
    srv__put_str(&m, key_id);
    srv__put_bytes(&m, cert_der, cert_len);
    srv__put_i64(&m, max_leaf_ttl);
    srv__put_str(&m, trust_domain);
    return call_empty(s, &m, err);
}

/* What the message layout cannot carry is refused here, with leaf.h's
 * words; everything else the signer checks. */
static int check_issue(const struct pki_leaf_req *req, struct pki_err *err)
{
    size_t i;

    if (req->ndns > PKI_LEAF_DNS_MAX || req->nips > PKI_LEAF_DNS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "too many SANs: at most %d DNS names and %d IP "
                           "addresses", PKI_LEAF_DNS_MAX, PKI_LEAF_DNS_MAX);
    if (req->spki_len > PKI_LEAF_SPKI_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "SubjectPublicKeyInfo is empty or larger "
                           "than %d bytes", PKI_LEAF_SPKI_MAX);
    if ((req->ndns > 0 && req->dns == NULL) ||
        (req->nips > 0 && (req->ips == NULL || req->ip_lens == NULL)))
        return pki_err_set(err, PKI_ERR_USAGE, "leaf request: SAN counts without SANs");
    for (i = 0; i < req->ndns; i++)
        if (req->dns[i] == NULL)
            return pki_err_set(err, PKI_ERR_USAGE, "leaf request: DNS SAN %zu is NULL", i + 1);
    for (i = 0; i < req->nips; i++)
        if (req->ip_lens[i] != 4 && req->ip_lens[i] != 16)
            return pki_err_set(err, PKI_ERR_INPUT, "IP SAN %zu is %zu bytes (4 or 16)", i + 1,
                               req->ip_lens[i]);
    return PKI_OK;
}

static void put_issue(struct srv__msg *m, const struct pki_leaf_req *req)
{
    size_t i;

    srv__put_i64(m, (int64_t)req->profile);
    srv__put_bytes(m, req->spki, req->spki_len);
    srv__put_str(m, req->common_name);
    srv__put_str(m, req->uri);
    srv__put_i64(m, (int64_t)req->ndns);
    for (i = 0; i < req->ndns; i++)
        srv__put_str(m, req->dns[i]);
    srv__put_i64(m, (int64_t)req->nips);
    for (i = 0; i < req->nips; i++)
        srv__put_bytes(m, req->ips[i], req->ip_lens[i]);
    srv__put_i64(m, (int64_t)req->not_before);
    srv__put_i64(m, (int64_t)req->not_after);
}

/* The certificate and serial of an ISSUE reply whose status was read. */
static int issue_reply(struct srv__rd *r, struct pki_buf *der,
                       unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err)
{
    const unsigned char *cert, *sn;
    size_t cn, snl;
    int rc;

    cert = srv__get_bytes(r, SRV__MSG_MAX, &cn);
    sn = srv__get_bytes(r, PKI_LEAF_SERIAL_LEN, &snl);
    if (!srv__rd_ok(r) || cn == 0 || snl != PKI_LEAF_SERIAL_LEN)
        return malformed_reply(err);
    if ((rc = pki_buf_set(der, cert, cn, err)) != PKI_OK)
        return rc;
    memcpy(serial, sn, PKI_LEAF_SERIAL_LEN);
    return PKI_OK;
}

static int issue_msg(struct srv_signer *s, const struct pki_leaf_req *req, struct srv__msg *m,
                     struct pki_err *err)
{
    int rc;

    if (req == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "leaf request: none given");
    if ((rc = check_issue(req, err)) != PKI_OK)
        return rc;
    srv__msg_start(m, s->buf, SRV__OP_ISSUE);
    put_issue(m, req);
    return PKI_OK;
}

int srv_signer_issue(struct srv_signer *s, const struct pki_leaf_req *req, struct pki_buf *der,
                     unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err)
{
    struct srv__msg m;
    struct srv__rd r;
    int rc;

    if ((rc = issue_msg(s, req, &m, err)) != PKI_OK || (rc = call(s, &m, &r, err)) != PKI_OK)
        return rc;
    return issue_reply(&r, der, serial, err);
}

int srv_signer_issue_send(struct srv_signer *s, const struct pki_leaf_req *req,
                          struct pki_err *err)
{
    struct srv__msg m;
    int rc;

    if (s->exited)
        return signer_gone(s, err);
    /* Bounded, so the replies waiting for us always fit in the reply pipe
     * and the signer never blocks on a front end blocked on it. */
    if (s->inflight >= s->inflight_max && s->drain != NULL)
        s->drain(s->drain_arg);
    if (s->exited) /* found by the drain */
        return signer_gone(s, err);
    if (s->inflight >= s->inflight_max)
        return pki_err_set(err, PKI_ERR_USAGE, "signer: %zu leaf replies not yet read",
                           s->inflight);
    if ((rc = issue_msg(s, req, &m, err)) != PKI_OK)
        return rc;
    if (m.overflow) {
        OPENSSL_cleanse(s->buf, SRV__MSG_MAX);
        return pki_err_set(err, PKI_ERR_INPUT, "signer request larger than %d bytes",
                           SRV__MSG_MAX);
    }
    rc = srv__send(s->wfd, s->buf, m.len);
    if (rc != 0 && errno == EPIPE)
        return signer_gone(s, err);
    if (rc != 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "signer: send failed: %s", strerror(errno));
    s->inflight++;
    return PKI_OK;
}

int srv_signer_issue_recv(struct srv_signer *s, int wait, struct pki_buf *der,
                          unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err)
{
    const unsigned char *msg;
    struct srv__rd r;
    long n;
    int rc;

    if (s->exited)
        return signer_gone(s, err);
    if (s->inflight == 0)
        return pki_err_set(err, PKI_ERR_USAGE, "signer: no leaf request outstanding");
    /* A signer that dies leaves the replies it wrote ahead of the EOF. */
    n = srv__in_next(s->fd, &s->in, SRV__MSG_MAX, &msg, wait);
    if (n < 0 && !wait && errno == EAGAIN)
        return SRV_SIGNER_NONE;
    if (n <= 0)
        return recv_failed(s, n, err);
    s->inflight--;
    if ((rc = reply_status(&r, n, msg, err)) != PKI_OK)
        return rc;
    return issue_reply(&r, der, serial, err);
}

size_t srv_signer_inflight(const struct srv_signer *s)
{
    return s->inflight;
}

void srv_signer_set_drain(struct srv_signer *s, void (*drain)(void *arg), void *arg)
{
    s->drain = drain;
    s->drain_arg = arg;
}

int srv_signer_fd(const struct srv_signer *s)
{
    return s->fd;
}

int srv_signer_idle_readable(struct srv_signer *s)
{
    unsigned char b;
    ssize_t n;

    if (s->exited)
        return 1;
    do
        n = read(s->fd, &b, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n > 0) /* bytes nobody asked for: the frames cannot be trusted */
        kill(s->pid, SIGKILL);
    return 1;
}

int srv_signer_alive(const struct srv_signer *s)
{
    return s != NULL && !s->exited;
}
