/* worker.c - one worker process of pkictl server: its own store handle,
 * signer and audit handle, an event loop on the shared listening socket,
 * and the timers (docs/server.md, "Processes"). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#include "sandbox.h"
#include "server.h"

#define SRV_TICK_SECONDS 60

static int tls_load(struct srv *s, struct pki_err *err)
{
    char crt[SRV_PATH_MAX], key[SRV_PATH_MAX];
    struct stat st;
    SSL_CTX *ctx;

    if (srv_path(s, SRV_TLS_CRT, crt, sizeof(crt), err) != 0 ||
        srv_path(s, SRV_TLS_KEY, key, sizeof(key), err) != 0)
        return err->code;
    /* Noted before reading: a file replaced meanwhile is loaded again. */
    if (stat(crt, &st) != 0)
        return pki_err_set(err, PKI_ERR_IO, "%s: %s", crt, strerror(errno));
    /* A new context each time: a half-written pair (another worker is
     * renewing it) fails the key check and the old context stays. */
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        SSL_CTX_free(ctx);
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "TLS context");
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* TLS 1.3: AES-128-GCM first (as Go, BoringSSL and Mozilla's "modern"
     * profile order it): 10 AES rounds a block instead of 14, and every
     * leaf answer is a record of a kilobyte and a half. */
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                      "TLS_CHACHA20_POLY1305_SHA256") != 1) {
        SSL_CTX_free(ctx);
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "TLS 1.3 cipher suites");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "%s: cannot load the API certificate", crt);
    }
    if (s->tls == NULL) {
        s->tls = ctx;
        s->tls_mtime = st.st_mtim;
        s->tls_ino = st.st_ino;
        return 0;
    }
    /* The listener keeps its SSL_CTX pointer: move the new certificate and
     * key into it (new connections get them; open ones keep theirs). */
    if (SSL_CTX_use_certificate_chain_file(s->tls, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(s->tls, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(s->tls) != 1) {
        SSL_CTX_free(ctx);
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "%s: cannot reload the API certificate", crt);
    }
    SSL_CTX_free(ctx);
    s->tls_mtime = st.st_mtim;
    s->tls_ino = st.st_ino;
    return 0;
}

int srv_tls_reload(struct srv *s, struct pki_err *err)
{
    if (s->opt->insecure_http)
        return 0;
    return tls_load(s, err);
}

/* Another worker may have renewed server.crt (at a rotation; it is
 * replaced by rename): reload when the file changed. Called before every
 * TLS session, so a client that saw a rotation answered is never handed
 * the old certificate by another worker, and by the tick. */
static void tls_follow(void *arg)
{
    struct srv *s = arg;
    char crt[SRV_PATH_MAX];
    struct pki_err err = {0};
    struct stat st;

    if (s->opt->insecure_http || s->tls == NULL ||
        srv_path(s, SRV_TLS_CRT, crt, sizeof(crt), &err) != 0 || stat(crt, &st) != 0)
        return;
    if (st.st_ino == s->tls_ino && st.st_mtim.tv_sec == s->tls_mtime.tv_sec &&
        st.st_mtim.tv_nsec == s->tls_mtime.tv_nsec)
        return;
    if (srv_tls_reload(s, &err) != 0)
        fprintf(stderr, "pkictl server: worker %d: API certificate: %s\n", s->worker, err.msg);
}

static int balance(void *arg, size_t nconns)
{
    struct srv *s = arg;

    return srv_shared_conns_balance(s->shared, s->worker, nconns);
}

struct worker_loop {
    struct srv *s;
    int ticks;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct worker_loop *w = arg;

    (void)sig, (void)what;
    event_base_loopexit(w->s->base, NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct worker_loop *w = arg;
    struct srv *s = w->s;
    struct pki_err err = {0};

    (void)fd, (void)what;
    if (s->audit_unsynced > 0)
        srv_checkpoint(s);
    srv_state_follow(s);
    tls_follow(s);
    /* Pruning and renewing the API certificate are one worker's job. */
    if (++w->ticks % SRV_TICK_SECONDS != 0 || s->worker != 0)
        return;
    srv_state_prune(s);
    if (!s->opt->insecure_http &&
        (srv_tls_refresh(s, 0, &err) != 0 || srv_tls_reload(s, &err) != 0))
        fprintf(stderr, "pkictl server: API certificate: %s\n", err.msg);
}

static int serve(struct srv *s, int fd, struct pki_err *err)
{
    struct srv_net_opts no = {0};
    struct event *sigterm = NULL, *sigint = NULL, *tick = NULL;
    struct worker_loop w = {0};
    struct timeval one = {1, 0};
    int rc = PKI_ERR_INTERNAL;

    w.s = s;
    s->base = event_base_new();
    if (s->base == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "cannot create the event loop");
    no.tls = s->opt->insecure_http ? NULL : s->tls;
    no.request_timeout_ms = s->opt->request_timeout_ms > 0 ? s->opt->request_timeout_ms : 10000;
    no.idle_timeout_ms = 60000;
    no.max_conns = 1024;
    no.listen_fd = fd;
    no.has_listen_fd = 1;
    no.before_tls = tls_follow;
    no.balance = balance;
    s->net = srv_net_new(s->base, &no, srv_handle, s, err);
    if (s->net == NULL || srv_leaf_queue_new(s, err) != 0)
        return err->code;
    sigterm = evsignal_new(s->base, SIGTERM, on_signal, &w);
    sigint = evsignal_new(s->base, SIGINT, on_signal, &w);
    tick = event_new(s->base, -1, EV_PERSIST, on_tick, &w);
    if (sigterm == NULL || sigint == NULL || tick == NULL || evsignal_add(sigterm, NULL) != 0 ||
        evsignal_add(sigint, NULL) != 0 || event_add(tick, &one) != 0) {
        pki_err_set(err, PKI_ERR_INTERNAL, "cannot set up signals and timers");
    } else {
        /* The supervisor forked us with SIGTERM/SIGINT blocked; one that
         * came early is delivered now, to the handler, as a clean stop. */
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        rc = event_base_dispatch(s->base) < 0
                 ? pki_err_set(err, PKI_ERR_INTERNAL, "event loop failed") : 0;
    }
    if (tick != NULL)
        event_free(tick);
    if (sigint != NULL)
        event_free(sigint);
    if (sigterm != NULL)
        event_free(sigterm);
    return rc;
}

void srv_worker_fail(struct srv *s, const char *why)
{
    struct timeval flush = {0, 200000};

    if (s->fatal)
        return;
    s->fatal = 1;
    fprintf(stderr, "pkictl server: worker %d stops: %s\n", s->worker, why);
    /* A moment for the 503 to reach the client before the loop ends. */
    if (s->base != NULL)
        event_base_loopexit(s->base, &flush);
}

/* --pin-cpus: this worker, and the signer it forks next, on the index-th
 * CPU of those the server may use (round robin). A leaf wakes the signer
 * and then the worker again; on one CPU neither wakeup has to interrupt
 * another CPU, which costs most on virtual machines. */
static int pin_cpu(int index, struct pki_err *err)
{
    cpu_set_t allowed, one;
    int n, cpu = -1;

    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return pki_err_set(err, PKI_ERR_IO, "--pin-cpus: sched_getaffinity: %s", strerror(errno));
    n = CPU_COUNT(&allowed);
    for (int i = 0, seen = 0; n > 0 && i < CPU_SETSIZE && cpu < 0; i++)
        if (CPU_ISSET(i, &allowed) && seen++ == index % n)
            cpu = i;
    if (cpu < 0)
        return pki_err_set(err, PKI_ERR_IO, "--pin-cpus: no CPU is allowed to this process");
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0)
        return pki_err_set(err, PKI_ERR_IO, "--pin-cpus: cannot keep worker %d on CPU %d: %s",
                           index, cpu, strerror(errno));
    return PKI_OK;
}

/* Before the first request: from now on this worker reads only DATA/tls
 * (sandbox.h). Worker 0 says what the kernel allowed. */
static int confine(struct srv *s, struct pki_err *err)
{
    const char *now = PKICTL_TEST_HOOKS ? getenv("PKICTL_NOW") : NULL;
    char clock_dir[SRV_PATH_MAX] = "";
    int abi;

    /* The tests' clock file (srv_now): its folder stays readable. */
    if (now != NULL && now[0] == '@' && strlen(now + 1) < sizeof(clock_dir)) {
        char *slash;

        snprintf(clock_dir, sizeof(clock_dir), "%s", now + 1);
        slash = strrchr(clock_dir, '/');
        if (slash == NULL)
            snprintf(clock_dir, sizeof(clock_dir), ".");
        else if (slash == clock_dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    abi = srv_sandbox_apply_ex(SRV_SANDBOX_WORKER, s->dir, clock_dir[0] ? clock_dir : NULL, err);

    if (abi < 0)
        return abi;
    if (s->worker == 0 && abi == 0)
        fprintf(stderr, "pkictl server: this kernel has no Landlock: workers and signers are not "
                        "confined, a worker taken over could read the store key "
                        "(docs/server.md, \"Confinement\")\n");
    else if (s->worker == 0)
        fprintf(stderr, "pkictl server: workers and signers confined with Landlock (ABI %d)\n",
                abi);
    return 0;
}

/* Tells the supervisor this worker serves (server.c, wait_ready): one byte,
 * its index, then the end is closed. A worker that fails before never
 * writes it. */
static void announce_ready(struct srv *s)
{
    unsigned char b = (unsigned char)s->worker;
    ssize_t r;

    do
        r = write(s->ready_fd, &b, 1);
    while (r < 0 && errno == EINTR);
    close(s->ready_fd);
    s->ready_fd = -1;
}

int srv_worker_main(struct srv *s, int index, int fd)
{
    pid_t parent = getppid();
    struct pki_err err = {0};
    int rc;

    /* A worker never outlives the supervisor: a kill -9 of the server
     * stops every process, as a crash would. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return 1;
    s->worker = index;
    s->metrics = &s->shared->metrics[index];
    rc = s->opt->pin_cpus ? pin_cpu(index, &err) : 0;
    if (rc == 0 && (s->csrv = pki_csr_verifier_new(&err)) == NULL)
        rc = err.code;
    if (rc == 0) /* forks the signer, which stays on this worker's CPU */
        rc = srv_state_open(s, 0, &err);
    if (rc == 0 && !s->opt->insecure_http)
        rc = tls_load(s, &err);
    if (rc == 0 && !s->opt->no_sandbox)
        rc = confine(s, &err);
    if (rc == 0) {
        srv_test_kill_at("worker:ready");
        announce_ready(s);
    }
    if (rc == 0)
        rc = serve(s, fd, &err);
    if (rc != 0)
        fprintf(stderr, "pkictl server: worker %d: %s\n", index, err.msg);
    if (s->fatal)
        rc = PKI_ERR_INTERNAL;
    srv_leaf_queue_free(s); /* answers (and logs) every leaf already signed */
    if (s->net != NULL)
        srv_net_free(s->net);
    if (s->base != NULL)
        event_base_free(s->base);
    srv_state_close(s);
    pki_csr_verifier_free(s->csrv);
    return rc == 0 ? 0 : 1;
}
