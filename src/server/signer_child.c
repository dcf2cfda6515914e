/*
 * signer_child.c - the signer process. It alone holds the store key and CA
 * private keys in plaintext; it reads fixed-layout requests from one pipe,
 * checks every field against the policy it was given, and answers on the
 * other.
 *
 * What it keeps: its two pipes and stderr (for a fatal message), nothing
 * else.
 * PR_SET_DUMPABLE 0 keeps its memory out of core files and ptrace by other
 * processes of the same user; PR_SET_NO_NEW_PRIVS because it never needs
 * more privilege than it starts with.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sandbox.h"
#include "signer.h"
#include "signer_child.h"
#include "signer_keyfile.h"
#include "signer_proto.h"

/* Fixed descriptors: stderr stays, the request pipe moves to 3 and the
 * reply pipe to 4 (by way of descriptors above both, as either may be 3
 * or 4 already). */
static int isolate(int rfd, int wfd)
{
    int r = fcntl(rfd, F_DUPFD, 5), w = fcntl(wfd, F_DUPFD, 5);
    sigset_t none;

    if (r < 0 || w < 0 || dup2(r, 3) != 3 || dup2(w, 4) != 4)
        return -1;
    if (close_range(5, ~0U, 0) != 0) {
        for (int i = 5; i < 65536; i++)
            (void)close(i); /* kernels before 5.9 */
    }
    (void)close(0);
    (void)close(1);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    /* Handlers the front end may have set belong to it. Ctrl-C reaches the
     * whole process group: the front end stops us in order, and a closed
     * pipe (its death) ends us anyway. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* SCHED_BATCH: a request arriving does not preempt the front end, which
     * goes on reading and verifying the next ones; the signer then signs
     * them in one run (docs/server.md, "Pipelined signing"). */
    (void)sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){0});
    return 0;
}

static void reply_error(struct srv__msg *m, unsigned char *buf, const struct pki_err *err)
{
    srv__msg_start(m, buf, err->code < 0 ? err->code : PKI_ERR_INTERNAL);
    srv__put_str(m, err->msg[0] ? err->msg : "signer: unknown error");
}

static void child_free(struct srv__child *c)
{
    for (size_t i = 0; i < SRV__KEYS_MAX; i++)
        EVP_PKEY_free(c->keys[i].key);
    pki_leaf_issuer_free(c->issuer);
    OPENSSL_cleanse(c->store_key, sizeof(c->store_key));
    srv__in_free(&c->in);
    if (c->out != NULL)
        OPENSSL_clear_free(c->out, SRV__MSG_MAX);
    OPENSSL_cleanse(c, sizeof(*c));
}

/* Serves until EOF or STOP (PKI_OK), or a broken frame: the stream cannot
 * be read on, so it stops (PKI_ERR_INTERNAL). The request bytes may hold
 * wrapped or PKCS#8 keys: they are wiped after each request. */
static int serve(struct srv__child *c)
{
    struct pki_err err;
    const unsigned char *req;
    struct srv__msg reply;
    int32_t op;
    long n;
    int rc;

    for (;;) {
        n = srv__in_next(c->rfd, &c->in, SRV__MSG_MAX, &req, 1);
        if (n == 0)
            return PKI_OK; /* EOF: the front end is gone */
        if (n < 0) {
            fprintf(stderr, "pkictl signer: reading a request: %s\n", strerror(errno));
            return PKI_ERR_INTERNAL;
        }
        pki_err_clear(&err);
        rc = srv__child_handle(c, req, (size_t)n, &reply, &op, &err);
        if (rc != PKI_OK)
            reply_error(&reply, c->out, &err);
        srv__in_done(&c->in);
        if (srv__send(c->wfd, reply.buf, reply.len) != 0 || (op == SRV__OP_STOP && rc == PKI_OK))
            return PKI_OK;
    }
}

void srv__signer_child(int rfd, int wfd, const char *store_key_path, int flags)
{
    static struct srv__child c; /* static: not in a stack frame another call reuses */
    struct pki_err err;
    struct srv__msg m;
    unsigned char start[512];
    int rc;

    pki_err_clear(&err);
    memset(&c, 0, sizeof(c));
    c.rfd = 3;
    c.wfd = 4;
    if (isolate(rfd, wfd) < 0) {
        fprintf(stderr, "pkictl signer: cannot isolate itself: %s\n", strerror(errno));
        _exit(1);
    }
    c.out = OPENSSL_malloc(SRV__MSG_MAX);
    if (!srv__in_init(&c.in) || c.out == NULL)
        rc = pki_err_set(&err, PKI_ERR_INTERNAL, "signer: out of memory");
    else
        rc = srv__store_key_load(store_key_path, flags & SRV_SIGNER_CREATE, c.store_key, &err);
    /* It never opens a file again: keys come and go over its pipes. */
    if (rc == PKI_OK && (flags & SRV_SIGNER_CONFINE) &&
        (rc = srv_sandbox_apply(SRV_SANDBOX_SIGNER, NULL, &err)) > 0)
        rc = PKI_OK;
    /* The first message tells the front end whether we are ready. */
    if (rc != PKI_OK)
        reply_error(&m, start, &err);
    else
        srv__msg_start(&m, start, PKI_OK);
    if (srv__send(c.wfd, m.buf, m.len) == 0 && rc == PKI_OK)
        rc = serve(&c);
    child_free(&c);
    _exit(rc == PKI_OK ? 0 : 1);
}
