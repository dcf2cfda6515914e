/*
 * audit.c - the append-only, hash-chained audit log (docs/server.md,
 * "Audit log"): opening it, its chain head (flock, or a mutex shared
 * between processes) and appending. Each line's "prev" is the SHA-256 of
 * the line before it, so an edited, removed, inserted or reordered line
 * breaks the chain at the next line; a cut tail is caught by the store's
 * checkpoint (verify's want_seq/want_hash, audit_verify.c). Lines are built
 * in audit_line.c.
 */
#include "audit_int.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"

#define TAIL_CHUNK 4096

struct srv_audit {
    int fd;
    int broken; /* a write went wrong: the tail is unknown until reopened */
    uint64_t seq;
    char hash[65];
    off_t size; /* the file's size after our last read or write */
    struct srv__audit_sha sha;
    struct srv_audit_shared *sh; /* NULL: flock mode */
    char path[4096];
};

/* The line's seq, if it is a JSON object with an integer seq >= 1 and a
 * hex prev; 0 otherwise. */
static uint64_t line_seq(const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *seq = json_object_get(o, "seq");
    uint64_t v = 0;

    if (json_is_integer(seq) && json_integer_value(seq) > 0 &&
        srv__audit_is_hash(json_string_value(json_object_get(o, "prev"))))
        v = (uint64_t)json_integer_value(seq);
    json_decref(o);
    return v;
}

/* Finds where the last line of a file of size bytes (ending in '\n')
 * starts, reading backwards in chunks: the log may be large. */
static int find_last_line(struct srv_audit *a, off_t size, off_t *start, struct pki_err *err)
{
    char buf[TAIL_CHUNK];
    off_t end = size - 1, from; /* the byte at size - 1 is the final '\n' */
    ssize_t n, i;

    while (end > 0) {
        if (size - 1 - end > SRV__AUDIT_LINE_MAX)
            return pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is longer than %d "
                               "bytes; run pkictl audit verify", a->path, SRV__AUDIT_LINE_MAX);
        from = end > TAIL_CHUNK ? end - TAIL_CHUNK : 0;
        n = pread(a->fd, buf, (size_t)(end - from), from);
        if (n != end - from)
            return pki_err_set(err, PKI_ERR_IO, "%s: cannot read: %s", a->path,
                               n < 0 ? strerror(errno) : "short read");
        for (i = n - 1; i >= 0; i--)
            if (buf[i] == '\n') {
                *start = from + i + 1;
                return PKI_OK;
            }
        end = from;
    }
    *start = 0;
    return PKI_OK;
}

/* Reads the last line to continue seq and prev from it. */
static int read_tail(struct srv_audit *a, off_t size, struct pki_err *err)
{
    char *line = NULL, last;
    off_t start = 0;
    size_t len;
    int rc;

    if (pread(a->fd, &last, 1, size - 1) != 1)
        return pki_err_set(err, PKI_ERR_IO, "%s: cannot read: %s", a->path, strerror(errno));
    if (last != '\n')
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is incomplete (a torn "
                           "write?); run pkictl audit verify", a->path);
    if ((rc = find_last_line(a, size, &start, err)) != PKI_OK)
        return rc;
    len = (size_t)(size - 1 - start);
    if (len > SRV__AUDIT_LINE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is longer than %d bytes; "
                           "run pkictl audit verify", a->path, SRV__AUDIT_LINE_MAX);
    if ((line = malloc(len + 1)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = PKI_OK;
    if (pread(a->fd, line, len, start) != (ssize_t)len)
        rc = pki_err_set(err, PKI_ERR_IO, "%s: cannot read the last line", a->path);
    else if ((a->seq = line_seq(line, len)) == 0)
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is not an audit record "
                         "(JSON with seq and prev); run pkictl audit verify", a->path);
    else if (!srv__audit_hash_hex(&a->sha, line, len, a->hash))
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "%s: cannot hash the last line", a->path);
    free(line);
    return rc;
}

/* A size that moved since our last read or write means another process
 * wrote: re-read its tail. */
static int sync_tail(struct srv_audit *a, struct pki_err *err)
{
    struct stat st;

    if (fstat(a->fd, &st) != 0)
        return pki_err_set(err, PKI_ERR_IO, "%s: %s", a->path, strerror(errno));
    if (st.st_size == a->size)
        return PKI_OK;
    if (st.st_size < a->size)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the log shrank while open (cut?); run "
                           "pkictl audit verify", a->path);
    if (read_tail(a, st.st_size, err) != PKI_OK)
        return err->code;
    a->size = st.st_size;
    return PKI_OK;
}

/* The handle with its file open and checked; its head not read yet. */
static struct srv_audit *open_file(const char *path, struct pki_err *err)
{
    struct srv_audit *a = NULL, *ret = NULL;
    struct stat st;

    if (path == NULL || strlen(path) >= sizeof(a->path)) {
        pki_err_set(err, PKI_ERR_USAGE, "audit log: no path, or a path too long");
        goto out;
    }
    if ((a = calloc(1, sizeof(*a))) == NULL) {
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        goto out;
    }
    a->fd = -1;
    strcpy(a->path, path);
    memcpy(a->hash, SRV__AUDIT_ZERO_HASH, sizeof(a->hash));
    if (!srv__audit_sha_init(&a->sha)) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "audit: SHA-256 is not available");
        goto out;
    }
    /* O_NOFOLLOW: a symlink planted in the data dir must not make us
     * append to (or create) a file elsewhere. */
    a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        pki_err_set(err, PKI_ERR_IO, "%s: cannot open: %s", path,
                    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        goto out;
    }
    if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        pki_err_set(err, PKI_ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    ret = a;
    a = NULL;
out:
    srv_audit_close(a);
    return ret;
}

struct srv_audit *srv_audit_open(const char *path, struct pki_err *err)
{
    struct srv_audit *a = open_file(path, err);
    int rc;

    if (a == NULL)
        return NULL;
    /* Writers in flock mode hold LOCK_EX across their write: a line they
     * are writing must not look like a torn one. */
    if (flock(a->fd, LOCK_SH) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
    else
        rc = sync_tail(a, err);
    flock(a->fd, LOCK_UN);
    if (rc == PKI_OK)
        return a;
    srv_audit_close(a);
    return NULL;
}

void srv_audit_close(struct srv_audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    srv__audit_sha_free(&a->sha);
    free(a);
}

/* ---- the chain head: flock, or a mutex shared between processes --------- */

int srv_audit_shared_init(struct srv_audit_shared *sh, struct pki_err *err)
{
    pthread_mutexattr_t at;
    int rc;

    if (sh == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "audit: no shared head");
    if ((rc = pthread_mutexattr_init(&at)) != 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "audit: shared lock: %s", strerror(rc));
    rc = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    /* Robust: a worker killed while holding the lock must not stop every
     * other worker's issuance (the lock would otherwise stay held). */
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(&sh->mu, &at);
    pthread_mutexattr_destroy(&at);
    if (rc != 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "audit: shared lock: %s", strerror(rc));
    sh->ready = 0;
    sh->seq = 0;
    sh->size = 0;
    memcpy(sh->hash, SRV__AUDIT_ZERO_HASH, sizeof(sh->hash));
    return PKI_OK;
}

static int shared_lock(struct srv_audit_shared *sh, const char *path, struct pki_err *err)
{
    int rc = pthread_mutex_lock(&sh->mu);

    if (rc == EOWNERDEAD) {
        /* Its holder died, perhaps after its write and before publishing
         * it: only the file knows the head now. */
        sh->ready = 0;
        if ((rc = pthread_mutex_consistent(&sh->mu)) != 0)
            pthread_mutex_unlock(&sh->mu);
    }
    if (rc != 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: cannot take the shared audit lock: %s",
                           path, strerror(rc));
    return PKI_OK;
}

static void publish(struct srv_audit *a)
{
    a->sh->seq = a->seq;
    memcpy(a->sh->hash, a->hash, sizeof(a->hash));
    a->sh->size = (int64_t)a->size;
    a->sh->ready = 1;
}

/* Under the shared lock: the newer of the shared head and this handle's.
 * The file only grows (O_APPEND), so its size orders heads. */
static int take_head(struct srv_audit *a, struct pki_err *err)
{
    struct srv_audit_shared *sh = a->sh;
    int rc;

    if (sh->size > (int64_t)a->size) {
        a->seq = sh->seq;
        memcpy(a->hash, sh->hash, sizeof(a->hash));
        a->size = (off_t)sh->size;
    }
    if (sh->ready && sh->size == (int64_t)a->size)
        return PKI_OK;
    /* Unset, left by a dead holder or a torn write, or behind this handle:
     * read the tail as flock mode does (a torn one is refused). */
    if ((rc = sync_tail(a, err)) == PKI_OK)
        publish(a);
    return rc;
}

void srv_audit_attach(struct srv_audit *a, struct srv_audit_shared *sh)
{
    struct pki_err err = {0, ""};

    if (a == NULL || sh == NULL)
        return;
    a->sh = sh;
    if (shared_lock(sh, a->path, &err) != PKI_OK)
        return;
    if (take_head(a, &err) != PKI_OK)
        sh->ready = 0;
    pthread_mutex_unlock(&sh->mu);
}

struct srv_audit *srv_audit_open_attached(const char *path, struct srv_audit_shared *sh,
                                          struct pki_err *err)
{
    struct srv_audit *a;
    int rc;

    if (sh == NULL) {
        pki_err_set(err, PKI_ERR_USAGE, "audit: no shared head");
        return NULL;
    }
    if ((a = open_file(path, err)) == NULL)
        return NULL;
    a->sh = sh;
    /* Under the lock no attached writer is mid-line, and a set shared
     * head means the tail need not be read at all. */
    if ((rc = shared_lock(sh, a->path, err)) == PKI_OK) {
        rc = take_head(a, err);
        pthread_mutex_unlock(&sh->mu);
    }
    if (rc == PKI_OK)
        return a;
    srv_audit_close(a);
    return NULL;
}

/* Makes "read the head, chain to it, write" one step among processes. */
static int head_lock(struct srv_audit *a, struct pki_err *err)
{
    int rc;

    if (a->sh != NULL) {
        if ((rc = shared_lock(a->sh, a->path, err)) == PKI_OK &&
            (rc = take_head(a, err)) != PKI_OK)
            pthread_mutex_unlock(&a->sh->mu);
        return rc;
    }
    if (flock(a->fd, LOCK_EX) != 0)
        return pki_err_set(err, PKI_ERR_IO, "%s: cannot lock: %s", a->path, strerror(errno));
    if ((rc = sync_tail(a, err)) != PKI_OK)
        flock(a->fd, LOCK_UN);
    return rc;
}

static void head_unlock(struct srv_audit *a)
{
    if (a->sh == NULL) {
        flock(a->fd, LOCK_UN);
        return;
    }
    /* After a torn write the next writer re-reads the file, and refuses
     * its tail as srv_audit_open does. */
    if (a->broken)
        a->sh->ready = 0;
    else
        publish(a);
    pthread_mutex_unlock(&a->sh->mu);
}

/* ---- appending --------------------------------------------------------- */

/* Under the head lock: {"seq":N, before the body and ,"prev":"H"} after
 * it; *start and *len delimit the line (without its newline). */
static int seal(const struct srv_audit *a, struct srv__audit_line *l, char **start,
                size_t *len, struct pki_err *err)
{
    char num[PKI_FMT_U64_MAX], *body = l->mem + SRV__AUDIT_LINE_HEAD;
    size_t n;

    if (a->seq >= (uint64_t)INT64_MAX)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: seq overflow", a->path);
    n = pki_fmt_u64(a->seq + 1, num);
    *start = body - 8 - n;
    memcpy(*start, "{\"seq\":", 7);
    memcpy(*start + 7, num, n);
    body[-1] = ',';
    memcpy(body + l->len, ",\"prev\":\"", 9);
    memcpy(body + l->len + 9, a->hash, 64);
    memcpy(body + l->len + 73, "\"}", 2);
    *len = 8 + n + l->len + 75;
    if (*len > SRV__AUDIT_LINE_MAX)
        return srv__audit_too_long(*len, err);
    return PKI_OK;
}

/* One write(2): with O_APPEND, concurrent writers cannot interleave inside
 * a line, and a crash leaves at most one torn line, which open refuses. */
static int write_line(struct srv_audit *a, char *text, size_t len, struct pki_err *err)
{
    ssize_t n;

    text[len] = '\n';
    do
        n = write(a->fd, text, len + 1);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)(len + 1))
        return PKI_OK;
    if (n > 0)
        a->broken = 1;
    return pki_err_set(err, PKI_ERR_IO, "%s: %s; run pkictl audit verify", a->path,
                       n < 0 ? strerror(errno) : "short write");
}

/* Everything after the body, for both kinds of append. */
static int commit(struct srv_audit *a, struct srv__audit_line *l, struct pki_err *err)
{
    char hash[65], *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = head_lock(a, err)) != PKI_OK)
        return rc;
    if ((rc = seal(a, l, &text, &len, err)) == PKI_OK &&
        !srv__audit_hash_hex(&a->sha, text, len, hash))
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "audit: cannot hash a record");
    if (rc == PKI_OK && (rc = write_line(a, text, len, err)) == PKI_OK) {
        a->seq++;
        memcpy(a->hash, hash, sizeof(hash));
        a->size += (off_t)len + 1;
    }
    head_unlock(a);
    return rc;
}

static int check_append(const struct srv_audit *a, const char *event, struct pki_err *err)
{
    if (a == NULL || event == NULL || event[0] == '\0')
        return pki_err_set(err, PKI_ERR_USAGE, "audit: no log or no event");
    if (a->broken)
        return pki_err_set(err, PKI_ERR_IO, "%s: an earlier write failed; reopen the log",
                           a->path);
    return PKI_OK;
}

int srv_audit_append(struct srv_audit *a, time_t now, const char *event, json_t *fields,
                     struct pki_err *err)
{
    struct srv__audit_line l;
    int rc;

    l.heap = NULL;
    if ((rc = check_append(a, event, err)) == PKI_OK &&
        (rc = srv__audit_check_fields(fields, err)) == PKI_OK &&
        (rc = srv__audit_body_json(&l, now, event, fields, err)) == PKI_OK)
        rc = commit(a, &l, err);
    free(l.heap);
    return rc;
}

int srv_audit_append_strs(struct srv_audit *a, time_t now, const char *event,
                          const char *const *kv, size_t npairs, struct pki_err *err)
{
    struct srv__audit_line l;
    int rc;

    l.heap = NULL;
    if ((rc = check_append(a, event, err)) == PKI_OK &&
        (rc = srv__audit_check_pairs(kv, npairs, err)) == PKI_OK &&
        (rc = srv__audit_body_strs(&l, now, event, kv, npairs, err)) == PKI_OK)
        rc = commit(a, &l, err);
    free(l.heap);
    return rc;
}

int srv_audit_sync(struct srv_audit *a, struct pki_err *err)
{
    if (a == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "audit: no log");
    if (fsync(a->fd) != 0)
        return pki_err_set(err, PKI_ERR_IO, "%s: fsync: %s", a->path, strerror(errno));
    return PKI_OK;
}

void srv_audit_head(const struct srv_audit *a, uint64_t *seq, char hash[65])
{
    struct pki_err err = {0, ""};
    struct srv_audit_shared *sh = a != NULL ? a->sh : NULL;
    uint64_t s = a != NULL ? a->seq : 0;
    char h[65];

    memcpy(h, a != NULL ? a->hash : SRV__AUDIT_ZERO_HASH, sizeof(h));
    if (sh != NULL && shared_lock(sh, a->path, &err) == PKI_OK) {
        if (sh->ready && sh->size >= (int64_t)a->size) {
            s = sh->seq;
            memcpy(h, sh->hash, sizeof(h));
        }
        pthread_mutex_unlock(&sh->mu);
    }
    if (seq != NULL)
        *seq = s;
    if (hash != NULL)
        memcpy(hash, h, sizeof(h));
}
