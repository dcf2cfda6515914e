/* server.c - pkictl server: start-up, the event loop, signals, timers and
 * shut-down (docs/server.md). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "fsio.h"
#include "server.h"


time_t srv_now(void)
{
#if PKICTL_TEST_HOOKS
    const char *v = getenv("PKICTL_NOW");
    char text[32] = "";
    long long t;
    char *end;
    FILE *f;

    if (v == NULL || v[0] == '\0')
        return time(NULL);
    /* PKICTL_NOW=@FILE: the tests move a running server's clock by
     * rewriting FILE, so that nothing sleeps to let time pass. */
    if (v[0] == '@') {
        f = fopen(v + 1, "re");
        if (f == NULL || fgets(text, sizeof(text), f) == NULL) {
            if (f != NULL)
                fclose(f);
            return time(NULL);
        }
        fclose(f);
        v = text;
    }
    errno = 0;
    t = strtoll(v, &end, 10);
    if (errno != 0 || end == v || (*end != '\0' && *end != '\n') || t < 0)
        return time(NULL);
    return (time_t)t;
#else
    return time(NULL);
#endif
}

int64_t srv_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void srv_test_kill_at(const char *step)
{
#if PKICTL_TEST_HOOKS
    const char *at = getenv("PKICTL_TEST_KILL_AT");
    size_t n = strlen(step);

    if (at != NULL && strcmp(at, step) == 0)
        raise(SIGKILL);
    if (at != NULL && strncmp(at, step, n) == 0 && strcmp(at + n, ":stop") == 0)
        raise(SIGSTOP); /* hangs, as a process stuck in a call would: SIGTERM waits */
#else
    (void)step;
#endif
}

int srv_path(const struct srv *s, const char *name, char *out, size_t len, struct pki_err *err)
{
    return fs_join(s->dir, name, out, len, err);
}

static char *digits2(char *p, int v, char after)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    p[2] = after;
    return p + 3;
}

/* By hand rather than strftime: every leaf answer carries two. */
void srv_time_rfc3339(time_t t, char buf[32])
{
    struct tm tm;
    char *p = buf;

    if (t <= 0 || gmtime_r(&t, &tm) == NULL) {
        memcpy(buf, "0001-01-01T00:00:00Z", 21);
        return;
    }
    if (tm.tm_year + 1900 > 9999) { /* past RFC 3339's four digits: as strftime writes it */
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return;
    }
    p = digits2(p, (tm.tm_year + 1900) / 100, '\0') - 1;
    p = digits2(p, (tm.tm_year + 1900) % 100, '-');
    p = digits2(p, tm.tm_mon + 1, '-');
    p = digits2(p, tm.tm_mday, 'T');
    p = digits2(p, tm.tm_hour, ':');
    p = digits2(p, tm.tm_min, ':');
    p = digits2(p, tm.tm_sec, 'Z');
    *p = '\0';
}

void srv_checkpoint(struct srv *s)
{
    struct pki_err err = {0};
    uint64_t seq;
    char hash[65];

    if (s->audit == NULL || s->store == NULL)
        return;
    srv_audit_head(s->audit, &seq, hash);
    if (srv_audit_sync(s->audit, &err) != 0 ||
        store_audit_checkpoint_set(s->store, seq, hash, &err) != 0)
        fprintf(stderr, "pkictl server: audit checkpoint: %s\n", err.msg);
    s->audit_unsynced = 0;
}

void srv_audit_issue(struct srv *s, const char *const kv[10])
{
    struct pki_err err = {0};

    if (s->audit != NULL && srv_audit_append_strs(s->audit, srv_now(), "leaf.issue", kv, 5,
                                                  &err) != 0)
        fprintf(stderr, "pkictl server: audit log: %s\n", err.msg);
    s->audit_unsynced++; /* checkpointed by the timer, at most once a second */
}

void srv_audit(struct srv *s, const char *event, json_t *fields)
{
    struct pki_err err = {0};
    json_t *f = fields != NULL ? fields : json_object();

    if (s->audit != NULL && f != NULL && srv_audit_append(s->audit, srv_now(), event, f, &err) != 0)
        fprintf(stderr, "pkictl server: audit log: %s\n", err.msg);
    if (f != NULL)
        json_decref(f);
    /* Issuance is the hot path: its lines are checkpointed by the timer (at
     * most once a second); every other event is checkpointed at once. */
    if (strcmp(event, "leaf.issue") == 0)
        s->audit_unsynced++;
    else
        srv_checkpoint(s);
}

/* The data dir: created 0700; an existing one must not be writable by
 * others, since it holds the store and the wrapped keys. */
static int data_dir_ready(struct srv *s, struct pki_err *err)
{
    struct stat st;

    if (strlen(s->opt->data_dir) >= sizeof(s->dir))
        return pki_err_set(err, PKI_ERR_USAGE, "--data-dir: path is too long");
    snprintf(s->dir, sizeof(s->dir), "%s", s->opt->data_dir);
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
        return pki_err_set(err, PKI_ERR_IO, "%s: cannot create the data dir: %s", s->dir,
                           strerror(errno));
    if (lstat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return pki_err_set(err, PKI_ERR_INPUT, "%s: not a directory", s->dir);
    if ((st.st_mode & 0022) != 0)
        return pki_err_set(err, PKI_ERR_POLICY,
                           "%s: the data dir is writable by group or others (mode %04o); "
                           "chmod 700 it", s->dir, (unsigned)(st.st_mode & 07777));
    return 0;
}

/* DIR/tls, 0700, for the API certificate and key. Data dirs from before
 * keep them at the top: moved there once, each by rename. */
static int tls_dir_ready(struct srv *s, struct pki_err *err)
{
    static const char *const names[] = {"server.key", "server.crt"};
    char dir[SRV_PATH_MAX], from[SRV_PATH_MAX], to[SRV_PATH_MAX];
    struct stat st;
    int moved = 0;

    if (srv_path(s, SRV_TLS_DIR, dir, sizeof(dir), err) != 0)
        return err->code;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return pki_err_set(err, PKI_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return pki_err_set(err, PKI_ERR_INPUT, "%s: not a directory", dir);
    if ((st.st_mode & 0022) != 0)
        return pki_err_set(err, PKI_ERR_POLICY, "%s: writable by group or others (mode %04o); "
                           "chmod 700 it", dir, (unsigned)(st.st_mode & 07777));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (srv_path(s, names[i], from, sizeof(from), err) != 0 ||
            fs_join(dir, names[i], to, sizeof(to), err) != 0)
            return err->code;
        if (!fs_exists(from) || fs_exists(to))
            continue;
        if (rename(from, to) != 0)
            return pki_err_set(err, PKI_ERR_IO, "cannot move %s to %s: %s", from, to,
                               strerror(errno));
        moved = 1;
    }
    if (moved && (fs_sync_dir(dir, err) != 0 || fs_sync_dir(s->dir, err) != 0))
        return err->code;
    return 0;
}

static int take_lock(struct srv *s, struct pki_err *err)
{
    char path[SRV_PATH_MAX];

    if (srv_path(s, "server.lock", path, sizeof(path), err) != 0)
        return err->code;
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0)
        return pki_err_set(err, PKI_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return pki_err_set(err, PKI_ERR_POLICY,
                           "%s: another pkictl server is using this data dir", s->dir);
    return 0;
}

/* Every process of the server appends to one log: through the shared
 * chain head when there is one (a flock handle next to attached ones could
 * fork the chain). */
static struct srv_audit *audit_open(struct srv *s, const char *path, struct pki_err *err)
{
    return s->shared != NULL ? srv_audit_open_attached(path, &s->shared->audit, err)
                             : srv_audit_open(path, err);
}

/* Every process's cache is checked against this counter before each
 * request (api.c): a write by one worker is seen by all at their next. */
static void store_written(void *arg)
{
    struct srv *s = arg;

    if (s->shared != NULL)
        srv_shared_gen_bump(s->shared);
}

/* Opens the store, forks this process's signer (before any network input
 * is read; it alone reads the store key), opens the audit log, bootstraps
 * when allowed and the store is new, and loads the CA state. */
int srv_state_open(struct srv *s, int may_bootstrap, struct pki_err *err)
{
    char path[SRV_PATH_MAX], keypath[SRV_PATH_MAX];
    int fresh;

    if (srv_path(s, "pkictl.db", path, sizeof(path), err) != 0)
        return err->code;
    s->store = store_open_sqlite(path, err);
    if (s->store == NULL)
        return err->code;
    store_on_write(s->store, store_written, s);
    fresh = store_meta_get(s->store, &s->meta, err) == PKI_ERR_NOTFOUND;
    if (!fresh && err->code != 0)
        return err->code;
    if (fresh && !may_bootstrap)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: the store is not bootstrapped", path);
    pki_err_clear(err);
    if (s->opt->store_key_file != NULL)
        snprintf(keypath, sizeof(keypath), "%s", s->opt->store_key_file);
    else if (srv_path(s, "store.key", keypath, sizeof(keypath), err) != 0)
        return err->code;
    if (!fresh && !fs_exists(keypath))
        return pki_err_set(err, PKI_ERR_NOTFOUND, "store key %s is missing: the CA keys in the store "
                           "cannot be decrypted without it; restore it, or give its place "
                           "with --store-key-file", keypath);
    s->signer = srv_signer_start(keypath, (fresh ? SRV_SIGNER_CREATE : 0) |
                                              (s->opt->no_sandbox ? 0 : SRV_SIGNER_CONFINE),
                                 err);
    if (s->signer == NULL || srv_provider_get("consul", s->signer, &s->prov, err) != 0)
        return err->code;
    if (srv_path(s, "audit.log", path, sizeof(path), err) != 0)
        return err->code;
    s->audit = audit_open(s, path, err);
    if (s->audit == NULL)
        return err->code;
    if (fresh && srv_bootstrap(s, err) != 0)
        return err->code;
    return srv_state_load(s, err);
}

/* Closes what srv_state_open opened (and any TLS context). */
void srv_state_close(struct srv *s)
{
    SSL_CTX_free(s->tls);
    s->tls = NULL;
    if (s->audit != NULL) {
        srv_checkpoint(s);
        srv_audit_close(s->audit);
        s->audit = NULL;
    }
    if (s->signer != NULL)
        srv_signer_stop(s->signer);
    s->signer = NULL;
    srv_ca_config_clear(&s->config);
    srv_ca_config_default(&s->config);
    store_roots_clear(&s->roots);
    X509_free(s->signing_cert);
    s->signing_cert = NULL;
    X509_free(s->root_nc);
    s->root_nc = NULL;
    EVP_MD_free(s->sha256);
    s->sha256 = NULL;
    free(s->leaf_chain_pem);
    s->leaf_chain_pem = NULL;
    free(s->leaf_chain_json);
    s->leaf_chain_json = NULL;
    srv_token_cache_clear(s);
    free(s->tokens);
    s->tokens = NULL;
    if (s->store != NULL)
        store_close(s->store);
    s->store = NULL;
}

/* The supervisor's share of the start: bootstrap if needed, check that the
 * state loads and the keys decrypt, issue the API certificate and ca.pem;
 * then close it all, so the workers fork with no store handle or signer. */
static int prepare(struct srv *s, struct pki_err *err)
{
    int rc = srv_state_open(s, 1, err);

    if (rc == 0 && !s->opt->insecure_http)
        rc = srv_tls_refresh(s, 0, err);
    if (rc == 0)
        rc = srv_state_write_ca_pem(s, err);
    srv_state_close(s);
    return rc;
}

int srv_write_file(const struct srv *s, const char *name, const struct pki_buf *data,
                   struct pki_err *err)
{
    char path[SRV_PATH_MAX];
    struct fs_file f = {0};

    if (srv_path(s, name, path, sizeof(path), err) != 0)
        return err->code;
    f.path = path;
    f.data = data;
    f.replace = 1;
    return fs_write_atomic(&f, err);
}

static int write_addr(struct srv *s, const char *url, struct pki_err *err)
{
    struct pki_buf b = {0};
    int rc;

    if (pki_buf_set(&b, url, strlen(url), err) != 0 || pki_buf_append(&b, "\n", 1, err) != 0) {
        pki_buf_free(&b);
        return err->code;
    }
    rc = srv_write_file(s, "server.addr", &b, err);
    pki_buf_free(&b);
    return rc;
}

static int worker_count(const struct srv_options *o)
{
    long n = o->workers > 0 ? o->workers : sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    if (n > (o->workers > 0 ? SRV_WORKERS_MAX : 8))
        n = o->workers > 0 ? SRV_WORKERS_MAX : 8;
    return (int)n;
}

/* The workers still running, for a supervisor that stops: sig to those
 * that announced they serve, SIGKILL to any that did not (one hung at start
 * would not act on SIGTERM), noted in killed[] as asked for. */
static void stop_all(const pid_t *pids, const unsigned char *ready, unsigned char *killed, int n,
                     int sig)
{
    int i;

    for (i = 0; i < n; i++) {
        if (pids[i] <= 0)
            continue;
        if (!ready[i])
            killed[i] = 1;
        kill(pids[i], ready[i] ? sig : SIGKILL);
    }
}

/* Waits for SIGTERM/SIGINT (stop every worker, exit 0) or a worker's death
 * (a crash or a kill: stop the others and fail, for a supervisor such as
 * systemd to restart the whole server from the store). ready[i]: worker i
 * announced it serves (wait_ready). */
static int supervise(pid_t *pids, const unsigned char *ready, int n, struct pki_err *err)
{
    unsigned char killed[SRV_WORKERS_MAX] = {0};
    sigset_t set;
    siginfo_t si;
    int i, status, rc = 0, left = n, stopping = 0, sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    while (left > 0) {
        if (sigwaitinfo(&set, &si) < 0)
            continue;
        if (si.si_signo != SIGCHLD) {
            stopping = 1;
            fprintf(stderr, "pkictl server: %s, shutting down\n",
                    si.si_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            stop_all(pids, ready, killed, n, SIGTERM);
            continue;
        }
        for (i = 0; i < n; i++) {
            if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) != pids[i])
                continue;
            pids[i] = 0;
            left--;
            sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                (stopping && sig == SIGTERM) || (killed[i] && sig == SIGKILL))
                continue;
            if (rc == 0)
                rc = pki_err_set(err, PKI_ERR_INTERNAL, "worker %d %s %d; stopping the server",
                                 i, sig != 0 ? "was killed by signal" : "exited with",
                                 sig != 0 ? sig : WEXITSTATUS(status));
            stop_all(pids, ready, killed, n, sig == SIGKILL ? SIGKILL : SIGTERM);
        }
    }
    return rc;
}

static void audit_event(struct srv *s, const char *event, json_t *fields)
{
    char path[SRV_PATH_MAX];
    struct pki_err err = {0};

    if (srv_path(s, "audit.log", path, sizeof(path), &err) == 0 &&
        (s->audit = audit_open(s, path, &err)) != NULL) {
        srv_audit(s, event, fields);
        if (srv_audit_sync(s->audit, &err) != 0)
            fprintf(stderr, "pkictl server: audit log: %s\n", err.msg);
        srv_audit_close(s->audit);
        s->audit = NULL;
    } else {
        json_decref(fields);
        fprintf(stderr, "pkictl server: audit log: %s\n", err.msg);
    }
}

/* Forks the workers; each closes the readiness pipe's read end (rd). */
static int start_workers(struct srv *s, int fd, int rd, pid_t *pids, int n, struct pki_err *err)
{
    int i;

    for (i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            return pki_err_set(err, PKI_ERR_INTERNAL, "fork: %s", strerror(errno));
        if (pids[i] == 0) {
            close(rd);
            _exit(srv_worker_main(s, i, fd));
        }
    }
    return 0;
}

/* A SIGTERM or SIGINT waits for supervise() (they are blocked). */
static int stop_pending(void)
{
    sigset_t p;

    return sigpending(&p) == 0 && (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1);
}

#define START_NOTE_MS 5000 /* how often a slow start is reported */

/* Says which workers have not said they serve yet, and how to give up. */
static void note_waiting(const unsigned char *ready, int n, int64_t waited_ms)
{
    char list[SRV_WORKERS_MAX * 6] = "";
    size_t len = 0;
    int i, w;

    for (i = 0; i < n && len < sizeof(list); i++) {
        if (ready[i])
            continue;
        w = snprintf(list + len, sizeof(list) - len, "%s%d", len > 0 ? ", " : "", i);
        len = w > 0 ? len + (size_t)w : len;
    }
    fprintf(stderr,
            "pkictl server: still waiting for worker %s to start after %ld s "
            "(SIGTERM stops the server)\n",
            list, (long)(waited_ms / 1000));
}

/* Reads the readiness pipe until every worker has closed its end: each
 * writes its index once it serves (signer forked, TLS loaded, confined), and
 * one that fails at start dies without it. Marks ready[i]; returns how many
 * are ready. Returns early, leaving the signal pending, when the server is
 * asked to stop: a worker that hangs at start must not hold the server.
 * Every START_NOTE_MS meanwhile it says which workers it waits for. */
static int wait_ready(int fd, unsigned char *ready, int n)
{
    unsigned char buf[SRV_WORKERS_MAX];
    struct pollfd p = {fd, POLLIN, 0};
    int64_t start = srv_monotonic_ms(), next = start + START_NOTE_MS, now;
    int count = 0;
    ssize_t r, i;

    while (!stop_pending()) {
        if ((now = srv_monotonic_ms()) >= next) {
            note_waiting(ready, n, now - start);
            next = now + START_NOTE_MS;
        }
        if (poll(&p, 1, 200) <= 0)
            continue;
        if ((r = read(fd, buf, sizeof(buf))) == 0)
            break;
        if (r < 0 && errno != EINTR)
            break;
        for (i = 0; i < r; i++)
            if (buf[i] < n && !ready[buf[i]]) {
                ready[buf[i]] = 1;
                count++;
            }
    }
    return count;
}

static int run_workers(struct srv *s, struct pki_err *err)
{
    pid_t pids[SRV_WORKERS_MAX] = {0};
    unsigned char ready[SRV_WORKERS_MAX] = {0};
    char url[300], addr[80], path[SRV_PATH_MAX];
    int n = worker_count(s->opt), fd = -1, rp[2], all_ready = 0, rc;
    sigset_t set, old;

    rc = srv_net_bind(s->opt->listen != NULL ? s->opt->listen : "127.0.0.1:8555", &fd, err);
    if (rc == 0)
        rc = srv_net_fd_address(fd, addr, sizeof(addr), err);
    if (rc != 0)
        return rc;
    snprintf(url, sizeof(url), "%s://%s", s->opt->insecure_http ? "http" : "https", addr);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    s->shared->nworkers = n;
    if (pipe2(rp, O_CLOEXEC) != 0) {
        close(fd);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return pki_err_set(err, PKI_ERR_INTERNAL, "pipe: %s", strerror(errno));
    }
    s->ready_fd = rp[1];
    rc = start_workers(s, fd, rp[0], pids, n, err);
    s->ready_fd = -1;
    close(fd);
    close(rp[1]);
    /* The address is announced only once every worker serves; if one failed
     * at start, nothing is announced and supervise() reports its exit; if
     * the server is stopped meanwhile, supervise() stops it. */
    if (rc == 0)
        all_ready = wait_ready(rp[0], ready, n) == n;
    if (all_ready)
        rc = write_addr(s, url, err);
    close(rp[0]);
    if (rc == 0) {
        if (all_ready) {
            audit_event(s, "server.start", json_pack("{s:s,s:i}", "listen", addr, "workers", n));
            if (s->opt->on_listening != NULL)
                s->opt->on_listening(s->opt->arg, url);
        }
        rc = supervise(pids, ready, n, err);
    } else {
        for (int i = 0; i < n; i++)
            if (pids[i] > 0)
                kill(pids[i], SIGKILL);
        while (wait(NULL) > 0)
            ;
    }
    if (srv_path(s, "server.addr", path, sizeof(path), err) == 0)
        unlink(path);
    audit_event(s, "server.stop", NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int srv_run(const struct srv_options *opt, struct pki_err *err)
{
    struct srv s;
    int rc;

    memset(&s, 0, sizeof(s));
    s.opt = opt;
    s.lock_fd = -1;
    s.ready_fd = -1;
    s.worker = -1;
    srv_ca_config_default(&s.config);
    umask(077);
    signal(SIGPIPE, SIG_IGN);
    rc = srv_options_check(opt, &s.config.spec, err);
    if (rc == 0)
        rc = data_dir_ready(&s, err);
    if (rc == 0)
        rc = take_lock(&s, err);
    if (rc == 0)
        rc = tls_dir_ready(&s, err);
    if (rc == 0 && (s.shared = srv_shared_new(err)) == NULL)
        rc = err->code;
    if (rc == 0) {
        s.metrics = &s.shared->metrics[0];
        rc = prepare(&s, err);
    }
    if (rc == 0)
        rc = run_workers(&s, err);
    srv_state_close(&s);
    srv_shared_free(s.shared);
    if (s.lock_fd >= 0)
        close(s.lock_fd);
    return rc;
}
