/*
 * audit.c - the append-only, hash-chained audit log (docs/server.md,
 * "Audit log"). Each line's "prev" is the SHA-256 of the line before it, so
 * an edited, removed, inserted or reordered line breaks the chain at the
 * next line; a cut tail is caught by the store's checkpoint (verify's
 * want_seq/want_hash).
 */
#include "audit.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Longest line appended or read back; our events are a few hundred bytes. */
#define AUDIT_LINE_MAX 65536
#define TAIL_CHUNK 4096
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct sha256 {
    EVP_MD *md; /* fetched once: a fetch per line costs more than the hash */
    EVP_MD_CTX *ctx;
};

struct srv_audit {
    int fd;
    int broken; /* a write went wrong: the tail is unknown until reopened */
    uint64_t seq;
    char hash[65];
    off_t size; /* the file's size after our last read or write */
    struct sha256 sha;
    struct srv_audit_shared *sh; /* NULL: flock mode */
    char path[4096];
};

static const char *const reserved[] = {"seq", "time", "event", "prev"};

static int sha256_init(struct sha256 *h)
{
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->ctx = EVP_MD_CTX_new();
    return h->md != NULL && h->ctx != NULL;
}

static void sha256_free(struct sha256 *h)
{
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
}

static int hash_hex(struct sha256 *h, const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int i, mdlen = 0;

    if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
        EVP_DigestUpdate(h->ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32)
        return 0;
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[64] = '\0';
    return 1;
}

static int is_hash(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The line's seq, if it is a JSON object with an integer seq >= 1 and a
 * hex prev; 0 otherwise. */
static uint64_t line_seq(const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *seq = json_object_get(o, "seq");
    uint64_t v = 0;

    if (json_is_integer(seq) && json_integer_value(seq) > 0 &&
        is_hash(json_string_value(json_object_get(o, "prev"))))
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
        if (size - 1 - end > AUDIT_LINE_MAX)
            return pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is longer than %d "
                               "bytes; run pkictl audit verify", a->path, AUDIT_LINE_MAX);
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
    if (len > AUDIT_LINE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is longer than %d bytes; "
                           "run pkictl audit verify", a->path, AUDIT_LINE_MAX);
    if ((line = malloc(len + 1)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = PKI_OK;
    if (pread(a->fd, line, len, start) != (ssize_t)len)
        rc = pki_err_set(err, PKI_ERR_IO, "%s: cannot read the last line", a->path);
    else if ((a->seq = line_seq(line, len)) == 0)
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: the last line is not an audit record "
                         "(JSON with seq and prev); run pkictl audit verify", a->path);
    else if (!hash_hex(&a->sha, line, len, a->hash))
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
    memcpy(a->hash, ZERO_HASH, sizeof(a->hash));
    if (!sha256_init(&a->sha)) {
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
    sha256_free(&a->sha);
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
    memcpy(sh->hash, ZERO_HASH, sizeof(sh->hash));
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

/* ---- building a line --------------------------------------------------- */

/* A record is built as its body ("time":...,"event":...,fields) with room
 * before it for {"seq":N, and after it for ,"prev":"<hash>"}\n: the head
 * is only known under the lock, and the line must be one write(2). */
#define LINE_HEAD 32
#define LINE_TAIL 80
#define LINE_STACK 1024

struct line {
    char *mem; /* stack or heap: LINE_HEAD bytes, the body, LINE_TAIL bytes */
    size_t len; /* of the body */
    char *heap;
    char stack[LINE_STACK];
};

/* The body starts at l->mem + LINE_HEAD. len is at most AUDIT_LINE_MAX. */
static int line_reserve(struct line *l, size_t len, struct pki_err *err)
{
    l->len = len;
    l->heap = NULL;
    l->mem = l->stack;
    if (LINE_HEAD + len + LINE_TAIL <= sizeof(l->stack))
        return PKI_OK;
    if ((l->heap = l->mem = malloc(LINE_HEAD + len + LINE_TAIL)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    return PKI_OK;
}

static int too_long(size_t len, struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_USAGE, "audit: a record of %zu bytes (at most %d)", len,
                       AUDIT_LINE_MAX);
}

static char *put_num(char *p, unsigned v, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* What strftime("%Y-%m-%dT%H:%M:%SZ") writes for gmtime_r(now) (20
 * characters). Years 1970-9999 are computed here, since gmtime_r takes a
 * lock and strftime parses its format on every line; the rest go to libc.
 * Days count from 0000-03-01 so that a leap day ends its year; a 400-year
 * era has 146097 days, a 4-year cycle 1461, a century 36524. */
static int fmt_time(time_t now, char out[32])
{
    int64_t day, era, doe, yoe, doy, mp, m, s;
    struct tm tm;
    char *p = out;

    if (now < 0 || now > (time_t)253402300799LL)
        return gmtime_r(&now, &tm) != NULL &&
               strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) != 0;
    day = (int64_t)now / 86400 + 719468;
    s = (int64_t)now % 86400;
    era = day / 146097;
    doe = day - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153; /* 0 = March */
    m = mp < 10 ? mp + 3 : mp - 9;
    p = put_num(p, (unsigned)(era * 400 + yoe + (m <= 2)), 4);
    *p++ = '-';
    p = put_num(p, (unsigned)m, 2);
    *p++ = '-';
    p = put_num(p, (unsigned)(doy - (153 * mp + 2) / 5 + 1), 2);
    *p++ = 'T';
    p = put_num(p, (unsigned)(s / 3600), 2);
    *p++ = ':';
    p = put_num(p, (unsigned)(s / 60 % 60), 2);
    *p++ = ':';
    p = put_num(p, (unsigned)(s % 60), 2);
    memcpy(p, "Z", 2);
    return 1;
}

/* The length of the UTF-8 sequence at s, or 0 if it is not one RFC 3629
 * allows (no overlong forms, surrogates, or code points past U+10FFFF):
 * jansson refuses exactly these, and the two paths must agree. */
static size_t utf8_len(const unsigned char *s)
{
    uint32_t cp;
    size_t n, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* How json_dumps writes each byte of a string: 0 as is; U starts a UTF-8
 * sequence (checked, then as is); u as \u00XX; anything else as a
 * backslash and that letter. A table, not tests: it is the hot loop. */
static const char esc_class[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
    'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U', 'U',
};

/* The length of s as a JSON string's content, escaped as jansson does;
 * *raw is strlen(s). SIZE_MAX if s is not UTF-8. */
static size_t esc_len(const char *s, size_t *raw)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t extra = 0, n;

    for (;; p++) {
        while (esc_class[*p] == 0)
            p++;
        if (*p == '\0')
            break;
        if (esc_class[*p] == 'U') {
            if ((n = utf8_len(p)) == 0)
                return SIZE_MAX;
            p += n - 1;
        } else {
            extra += esc_class[*p] == 'u' ? 5 : 1;
        }
    }
    *raw = (size_t)(p - (const unsigned char *)s);
    return *raw + extra;
}

/* Writes s escaped as jansson does: \" \\ \b \f \n \r \t, other control
 * characters as \u00XX (upper-case hex), the rest ("/", UTF-8) as is. */
static char *esc_put(char *out, const char *s, size_t raw, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    char c;

    if (raw == len)
        return (char *)memcpy(out, s, raw) + raw;
    for (; *p != '\0'; p++) {
        if ((c = esc_class[*p]) == 0 || c == 'U') {
            *out++ = (char)*p;
        } else if (c != 'u') {
            *out++ = '\\';
            *out++ = c;
        } else {
            memcpy(out, "\\u00", 4);
            out[4] = hex[*p >> 4];
            out[5] = hex[*p & 0x0f];
            out += 6;
        }
    }
    return out;
}

static int is_reserved(const char *key)
{
    switch (key[0]) { /* one strcmp at most: this runs for every field */
    case 's':
        return strcmp(key, "seq") == 0;
    case 't':
        return strcmp(key, "time") == 0;
    case 'e':
        return strcmp(key, "event") == 0;
    case 'p':
        return strcmp(key, "prev") == 0;
    default:
        return 0;
    }
}

static int check_fields(const json_t *fields, struct pki_err *err)
{
    size_t i;

    if (fields == NULL)
        return PKI_OK;
    if (!json_is_object(fields))
        return pki_err_set(err, PKI_ERR_USAGE, "audit: the fields are not a JSON object");
    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (json_object_get(fields, reserved[i]) != NULL)
            return pki_err_set(err, PKI_ERR_USAGE, "audit: the field \"%s\" is reserved",
                               reserved[i]);
    return PKI_OK;
}

/* A key given twice would make a line verify refuses (duplicate keys). */
static int check_pairs(const char *const *kv, size_t npairs, struct pki_err *err)
{
    size_t i, j;

    if (npairs > SRV_AUDIT_PAIRS_MAX || (npairs > 0 && kv == NULL))
        return pki_err_set(err, PKI_ERR_USAGE, "audit: no fields, or more than %d",
                           SRV_AUDIT_PAIRS_MAX);
    for (i = 0; i < npairs; i++) {
        if (kv[2 * i] == NULL || kv[2 * i + 1] == NULL)
            return pki_err_set(err, PKI_ERR_USAGE, "audit: field %zu has no key or no value",
                               i + 1);
        if (is_reserved(kv[2 * i]))
            return pki_err_set(err, PKI_ERR_USAGE, "audit: the field \"%s\" is reserved",
                               kv[2 * i]);
        for (j = 0; j < i; j++)
            if (strcmp(kv[2 * j], kv[2 * i]) == 0)
                return pki_err_set(err, PKI_ERR_USAGE, "audit: the field \"%s\" is given "
                                   "twice", kv[2 * i]);
    }
    return PKI_OK;
}

/* "time":"T","event":"E" then ,"k":"v" for each pair: the body json_dumps
 * writes (compact, in order) for the same strings. */
static int body_strs(struct line *l, time_t now, const char *event, const char *const *kv,
                     size_t npairs, struct pki_err *err)
{
    size_t raw[2 * SRV_AUDIT_PAIRS_MAX + 1], len[2 * SRV_AUDIT_PAIRS_MAX + 1], i, wl, total;
    char when[32], *p;

    if (!fmt_time(now, when))
        return pki_err_set(err, PKI_ERR_USAGE, "audit: cannot write the time %lld",
                           (long long)now);
    wl = strlen(when);
    total = strlen("\"time\":\"\",\"event\":\"\"") + wl + 6 * npairs; /* ,"k":"v" */
    for (i = 0; i < 2 * npairs + 1; i++) {
        if ((len[i] = esc_len(i == 0 ? event : kv[i - 1], &raw[i])) == SIZE_MAX)
            return i == 0 ? pki_err_set(err, PKI_ERR_USAGE, "audit: the event is not UTF-8")
                          : pki_err_set(err, PKI_ERR_USAGE, "audit: the %s of field %zu is "
                                        "not UTF-8", i % 2 ? "key" : "value", (i + 1) / 2);
        if ((total += len[i]) > AUDIT_LINE_MAX)
            return too_long(total, err);
    }
    if (line_reserve(l, total, err) != PKI_OK)
        return err->code;
    p = l->mem + LINE_HEAD;
    memcpy(p, "\"time\":\"", 8);
    p = (char *)memcpy(p + 8, when, wl) + wl;
    memcpy(p, "\",\"event\":\"", 11);
    p = esc_put(p + 11, event, raw[0], len[0]);
    for (i = 1; i < 2 * npairs + 1; i++) {
        memcpy(p, i % 2 ? "\",\"" : "\":\"", 3);
        p = esc_put(p + 3, kv[i - 1], raw[i], len[i]);
    }
    *p = '"';
    return PKI_OK;
}

/* The same body through jansson: the record without seq and prev, minus
 * its braces. */
static int body_json(struct line *l, time_t now, const char *event, json_t *fields,
                     struct pki_err *err)
{
    json_t *o = json_object(), *v;
    const char *key;
    char when[32], *text = NULL;
    size_t len;
    int rc = PKI_OK, bad = o == NULL || !fmt_time(now, when);

    bad = bad || json_object_set_new(o, "time", json_string(when)) != 0;
    bad = bad || json_object_set_new(o, "event", json_string(event)) != 0;
    if (fields != NULL)
        json_object_foreach(fields, key, v)
            bad = bad || json_object_set(o, key, v) != 0;
    if (bad || (text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT)) == NULL)
        rc = pki_err_set(err, PKI_ERR_USAGE, "audit: cannot encode the record (an event or "
                         "field that is not UTF-8, or a time out of range?)");
    else if ((len = strlen(text) - 2) > AUDIT_LINE_MAX)
        rc = too_long(len, err);
    else if ((rc = line_reserve(l, len, err)) == PKI_OK)
        memcpy(l->mem + LINE_HEAD, text + 1, len);
    free(text);
    json_decref(o);
    return rc;
}

/* ---- appending --------------------------------------------------------- */

/* Under the head lock: {"seq":N, before the body and ,"prev":"H"} after
 * it; *start and *len delimit the line (without its newline). */
static int seal(const struct srv_audit *a, struct line *l, char **start, size_t *len,
                struct pki_err *err)
{
    char num[24], *p = num + sizeof(num), *body = l->mem + LINE_HEAD;
    uint64_t v;
    size_t n;

    if (a->seq >= (uint64_t)INT64_MAX)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: seq overflow", a->path);
    for (v = a->seq + 1; v > 0; v /= 10)
        *--p = (char)('0' + v % 10);
    n = (size_t)(num + sizeof(num) - p);
    *start = body - 8 - n;
    memcpy(*start, "{\"seq\":", 7);
    memcpy(*start + 7, p, n);
    body[-1] = ',';
    memcpy(body + l->len, ",\"prev\":\"", 9);
    memcpy(body + l->len + 9, a->hash, 64);
    memcpy(body + l->len + 73, "\"}", 2);
    *len = 8 + n + l->len + 75;
    if (*len > AUDIT_LINE_MAX)
        return too_long(*len, err);
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
static int commit(struct srv_audit *a, struct line *l, struct pki_err *err)
{
    char hash[65], *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = head_lock(a, err)) != PKI_OK)
        return rc;
    if ((rc = seal(a, l, &text, &len, err)) == PKI_OK && !hash_hex(&a->sha, text, len, hash))
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
    struct line l;
    int rc;

    l.heap = NULL;
    if ((rc = check_append(a, event, err)) == PKI_OK &&
        (rc = check_fields(fields, err)) == PKI_OK &&
        (rc = body_json(&l, now, event, fields, err)) == PKI_OK)
        rc = commit(a, &l, err);
    free(l.heap);
    return rc;
}

int srv_audit_append_strs(struct srv_audit *a, time_t now, const char *event,
                          const char *const *kv, size_t npairs, struct pki_err *err)
{
    struct line l;
    int rc;

    l.heap = NULL;
    if ((rc = check_append(a, event, err)) == PKI_OK &&
        (rc = check_pairs(kv, npairs, err)) == PKI_OK &&
        (rc = body_strs(&l, now, event, kv, npairs, err)) == PKI_OK)
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

    memcpy(h, a != NULL ? a->hash : ZERO_HASH, sizeof(h));
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

/* ---- verification ------------------------------------------------------ */

/* Checks one record (line number n, newline removed) against the chain:
 * seq counts up from 1 and prev is the previous line's hash. */
static int verify_record(const char *line, size_t len, uint64_t n, const char *prev,
                         struct pki_err *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr), *seq;
    const char *p;
    int rc = PKI_OK;

    seq = json_object_get(o, "seq");
    p = json_string_value(json_object_get(o, "prev"));
    if (o == NULL)
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: not valid JSON (column %d)",
                         (unsigned long long)n, jerr.column);
    else if (!json_is_object(o))
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: not a JSON object",
                         (unsigned long long)n);
    else if (!json_is_integer(seq))
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: no integer \"seq\"",
                         (unsigned long long)n);
    else if (json_integer_value(seq) <= 0 || (uint64_t)json_integer_value(seq) != n)
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: seq is %lld, expected %llu (lines "
                         "were removed, inserted or reordered)", (unsigned long long)n,
                         (long long)json_integer_value(seq), (unsigned long long)n);
    else if (!json_is_string(json_object_get(o, "time")) ||
             json_string_length(json_object_get(o, "event")) == 0)
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: no \"time\" or \"event\"",
                         (unsigned long long)n);
    else if (p == NULL || strcmp(p, prev) != 0)
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: prev is not the hash of %s (it was "
                         "edited, or lines were removed, inserted or reordered)",
                         (unsigned long long)n, n == 1 ? "an empty log (64 zeros)"
                                                      : "the line before");
    json_decref(o);
    return rc;
}

/* One line as getline read it (with its newline, unless the file ends
 * without one); updates prev to this line's hash. */
static int verify_line(struct sha256 *sha, char *line, size_t len, uint64_t n, char prev[65],
                       struct pki_err *err)
{
    int rc;

    if (len == 0 || line[len - 1] != '\n')
        return pki_err_set(err, PKI_ERR_INPUT, "line %llu: incomplete, no newline at the end "
                           "(a torn write or a truncated file)", (unsigned long long)n);
    line[--len] = '\0';
    if (len > AUDIT_LINE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "line %llu: longer than %d bytes",
                           (unsigned long long)n, AUDIT_LINE_MAX);
    if ((rc = verify_record(line, len, n, prev, err)) != PKI_OK)
        return rc;
    if (!hash_hex(sha, line, len, prev))
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "line %llu: cannot hash",
                               (unsigned long long)n);
    return PKI_OK;
}

/* The checkpoint rule: the line with seq want_seq exists and has its hash. */
static int check_checkpoint(uint64_t lines, uint64_t want_seq, const char *want_hash,
                            const char *hash, struct pki_err *err)
{
    if (lines == want_seq && strcmp(hash, want_hash) != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "line %llu: does not match the store's "
                           "checkpoint (hash %.16s...): the log was rewritten",
                           (unsigned long long)lines, want_hash);
    return PKI_OK;
}

int srv_audit_verify(const char *path, uint64_t want_seq, const char *want_hash,
                     struct srv_audit_report *rep, struct pki_err *err)
{
    struct srv_audit_report r = {0, 0, ZERO_HASH};
    struct sha256 sha = {NULL, NULL};
    FILE *f = NULL;
    char *line = NULL, h[65];
    size_t cap = 0;
    ssize_t len;
    int rc = PKI_OK;

    if (path == NULL || (want_seq > 0 && !is_hash(want_hash))) {
        rc = pki_err_set(err, PKI_ERR_USAGE, "audit verify: no path, or a checkpoint "
                         "without a 64-digit lower-case hex hash");
        goto out;
    }
    if (!sha256_init(&sha)) {
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "audit verify: SHA-256 is not available");
        goto out;
    }
    if ((f = fopen(path, "re")) == NULL) {
        rc = pki_err_set(err, errno == ENOENT ? PKI_ERR_NOTFOUND : PKI_ERR_IO,
                         "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        memcpy(h, r.last_hash, sizeof(h));
        if ((rc = verify_line(&sha, line, (size_t)len, r.lines + 1, h, err)) != PKI_OK ||
            (rc = check_checkpoint(r.lines + 1, want_seq, want_hash, h, err)) != PKI_OK)
            break;
        memcpy(r.last_hash, h, sizeof(h));
        r.lines++;
    }
    if (rc == PKI_OK && ferror(f))
        rc = pki_err_set(err, PKI_ERR_IO, "%s: read error after line %llu", path,
                         (unsigned long long)r.lines);
    else if (rc == PKI_OK && want_seq > r.lines)
        rc = pki_err_set(err, PKI_ERR_INPUT, "line %llu: missing; the log ends at seq %llu "
                         "but the store's checkpoint is seq %llu (the newest lines were cut)",
                         (unsigned long long)r.lines + 1, (unsigned long long)r.lines,
                         (unsigned long long)want_seq);
    if (rc == PKI_ERR_INPUT)
        r.bad_line = r.lines + 1;
out:
    if (rep != NULL)
        *rep = r;
    free(line);
    if (f != NULL)
        fclose(f);
    sha256_free(&sha);
    return rc;
}
