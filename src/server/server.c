/* server.c - pkictl server: start-up, the event loop, signals, timers and
 * shut-down (docs/server.md). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "fsio.h"
#include "server.h"

#define SRV_TICK_SECONDS 60

time_t srv_now(void)
{
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
}

int64_t srv_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void srv_test_kill_at(const char *step)
{
    const char *at = getenv("PKICTL_TEST_KILL_AT");

    if (at != NULL && strcmp(at, step) == 0)
        raise(SIGKILL);
}

int srv_path(const struct srv *s, const char *name, char *out, size_t len, struct pki_err *err)
{
    return fs_join(s->dir, name, out, len, err);
}

void srv_time_rfc3339(time_t t, char buf[32])
{
    struct tm tm;

    if (t <= 0 || gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, 32, "0001-01-01T00:00:00Z");
        return;
    }
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void checkpoint(struct srv *s)
{
    struct pki_err err = {0};
    uint64_t seq;
    char hash[65];

    if (s->audit == NULL)
        return;
    srv_audit_head(s->audit, &seq, hash);
    if (srv_audit_sync(s->audit, &err) != 0 ||
        store_audit_checkpoint_set(s->store, seq, hash, &err) != 0)
        fprintf(stderr, "pkictl server: audit checkpoint: %s\n", err.msg);
    s->audit_unsynced = 0;
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
        checkpoint(s);
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

static int open_state(struct srv *s, struct pki_err *err)
{
    char path[SRV_PATH_MAX], keypath[SRV_PATH_MAX];
    int fresh;

    if (srv_path(s, "pkictl.db", path, sizeof(path), err) != 0)
        return err->code;
    s->store = store_open_sqlite(path, err);
    if (s->store == NULL)
        return err->code;
    fresh = store_meta_get(s->store, &s->meta, err) == PKI_ERR_NOTFOUND;
    if (!fresh && err->code != 0)
        return err->code;
    pki_err_clear(err);
    if (s->opt->store_key_file != NULL)
        snprintf(keypath, sizeof(keypath), "%s", s->opt->store_key_file);
    else if (srv_path(s, "store.key", keypath, sizeof(keypath), err) != 0)
        return err->code;
    /* The signer is forked before any network input is read, and it alone
     * reads the store key. */
    s->signer = srv_signer_start(keypath, fresh, err);
    if (s->signer == NULL || srv_provider_get("consul", s->signer, &s->prov, err) != 0)
        return err->code;
    if (srv_path(s, "audit.log", path, sizeof(path), err) != 0)
        return err->code;
    s->audit = srv_audit_open(path, err);
    if (s->audit == NULL)
        return err->code;
    if (fresh && srv_bootstrap(s, err) != 0)
        return err->code;
    return srv_state_load(s, err);
}

static int tls_load(struct srv *s, struct pki_err *err)
{
    char crt[SRV_PATH_MAX], key[SRV_PATH_MAX];

    if (srv_path(s, "server.crt", crt, sizeof(crt), err) != 0 ||
        srv_path(s, "server.key", key, sizeof(key), err) != 0)
        return err->code;
    if (s->tls == NULL) {
        s->tls = SSL_CTX_new(TLS_server_method());
        if (s->tls == NULL || !SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION))
            return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "TLS context");
        SSL_CTX_set_options(s->tls, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    }
    if (SSL_CTX_use_certificate_chain_file(s->tls, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(s->tls, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(s->tls) != 1)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "%s: cannot load the API certificate", crt);
    return 0;
}

/* New connections get the reloaded certificate, open ones keep theirs. */
int srv_tls_reload(struct srv *s, struct pki_err *err)
{
    if (s->opt->insecure_http)
        return 0;
    return tls_load(s, err);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct srv *s = arg;

    (void)what;
    fprintf(stderr, "pkictl server: %s, shutting down\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopexit(s->base, NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct srv *s = arg;
    struct pki_err err = {0};
    static int ticks;

    (void)fd, (void)what;
    if (s->audit_unsynced > 0)
        checkpoint(s);
    if (++ticks % SRV_TICK_SECONDS != 0)
        return;
    srv_state_prune(s);
    if (!s->opt->insecure_http &&
        (srv_tls_refresh(s, 0, &err) != 0 || srv_tls_reload(s, &err) != 0))
        fprintf(stderr, "pkictl server: API certificate: %s\n", err.msg);
}

static int write_addr(struct srv *s, const char *url, struct pki_err *err)
{
    char path[SRV_PATH_MAX], line[310];
    struct pki_buf b = {0};
    struct fs_file f = {0};
    int rc;

    if (srv_path(s, "server.addr", path, sizeof(path), err) != 0)
        return err->code;
    snprintf(line, sizeof(line), "%s\n", url);
    if (pki_buf_set(&b, line, strlen(line), err) != 0)
        return err->code;
    f.path = path;
    f.data = &b;
    f.replace = 1;
    rc = fs_write_atomic(&f, err);
    pki_buf_free(&b);
    return rc;
}

static int serve(struct srv *s, struct pki_err *err)
{
    struct srv_net_opts no = {0};
    struct event *sigterm = NULL, *sigint = NULL, *tick = NULL;
    struct timeval one = {1, 0};
    char url[300];
    int rc = PKI_ERR_INTERNAL;

    s->base = event_base_new();
    if (s->base == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "cannot create the event loop");
    no.listen = s->opt->listen != NULL ? s->opt->listen : "127.0.0.1:8555";
    no.tls = s->opt->insecure_http ? NULL : s->tls;
    no.request_timeout_ms = s->opt->request_timeout_ms > 0 ? s->opt->request_timeout_ms : 10000;
    no.idle_timeout_ms = 60000;
    no.max_conns = 1024;
    s->net = srv_net_new(s->base, &no, srv_handle, s, err);
    if (s->net == NULL)
        return err->code;
    snprintf(url, sizeof(url), "%s://%s", s->opt->insecure_http ? "http" : "https",
             srv_net_address(s->net));
    if (write_addr(s, url, err) != 0)
        return err->code;
    sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
    sigint = evsignal_new(s->base, SIGINT, on_signal, s);
    tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
    if (sigterm == NULL || sigint == NULL || tick == NULL || evsignal_add(sigterm, NULL) != 0 ||
        evsignal_add(sigint, NULL) != 0 || event_add(tick, &one) != 0) {
        pki_err_set(err, PKI_ERR_INTERNAL, "cannot set up signals and timers");
        goto out;
    }
    srv_audit(s, "server.start", json_pack("{s:s}", "listen", srv_net_address(s->net)));
    if (s->opt->on_listening != NULL)
        s->opt->on_listening(s->opt->arg, url);
    rc = event_base_dispatch(s->base) < 0 ? pki_err_set(err, PKI_ERR_INTERNAL, "event loop failed") : 0;
    srv_audit(s, "server.stop", NULL);
out:
    if (tick != NULL)
        event_free(tick);
    if (sigint != NULL)
        event_free(sigint);
    if (sigterm != NULL)
        event_free(sigterm);
    return rc;
}

static void teardown(struct srv *s)
{
    char path[SRV_PATH_MAX];
    struct pki_err err = {0};

    if (s->net != NULL) {
        srv_net_free(s->net);
        if (srv_path(s, "server.addr", path, sizeof(path), &err) == 0)
            unlink(path);
    }
    if (s->base != NULL)
        event_base_free(s->base);
    SSL_CTX_free(s->tls);
    if (s->audit != NULL) {
        checkpoint(s);
        srv_audit_close(s->audit);
    }
    if (s->signer != NULL)
        srv_signer_stop(s->signer);
    srv_ca_config_clear(&s->config);
    store_roots_clear(&s->roots);
    X509_free(s->signing_cert);
    free(s->leaf_chain_pem);
    if (s->store != NULL)
        store_close(s->store);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
}

int srv_run(const struct srv_options *opt, struct pki_err *err)
{
    struct srv s;
    int rc;

    memset(&s, 0, sizeof(s));
    s.opt = opt;
    s.lock_fd = -1;
    srv_ca_config_default(&s.config);
    umask(077);
    signal(SIGPIPE, SIG_IGN);
    rc = srv_options_check(opt, &s.config.spec, err);
    if (rc == 0)
        rc = data_dir_ready(&s, err);
    if (rc == 0)
        rc = take_lock(&s, err);
    if (rc == 0)
        rc = open_state(&s, err);
    if (rc == 0 && !opt->insecure_http) {
        rc = srv_tls_refresh(&s, 0, err);
        if (rc == 0)
            rc = tls_load(&s, err);
    }
    if (rc == 0)
        rc = srv_state_write_ca_pem(&s, err);
    if (rc == 0)
        rc = serve(&s, err);
    teardown(&s);
    return rc;
}
