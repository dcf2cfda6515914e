/*
 * audit.c - the append-only, hash-chained audit log (docs/server.md,
 * "Audit log"). Each line's "prev" is the SHA-256 of the line before it, so
 * an edited, removed, inserted or reordered line breaks the chain at the
 * next line; a cut tail is caught by the store's checkpoint (verify's
 * want_seq/want_hash).
 */
#include "audit.h"

#include <errno.h>
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

struct srv_audit {
    int fd;
    int broken; /* a write went wrong: the tail is unknown until reopened */
    uint64_t seq;
    char hash[65];
    off_t size; /* the file's size after our last read or write */
    char path[4096];
};

static const char *const reserved[] = {"seq", "time", "event", "prev"};

static int hash_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    size_t i, mdlen = 0;

    if (EVP_Q_digest(NULL, "SHA256", NULL, data, len, md, &mdlen) != 1 || mdlen != 32)
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
    else if (!hash_hex(line, len, a->hash))
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "%s: cannot hash the last line", a->path);
    free(line);
    return rc;
}

struct srv_audit *srv_audit_open(const char *path, struct pki_err *err)
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
    if (st.st_size > 0 && read_tail(a, st.st_size, err) != PKI_OK)
        goto out;
    a->size = st.st_size;
    ret = a;
    a = NULL;
out:
    srv_audit_close(a);
    return ret;
}

void srv_audit_close(struct srv_audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a);
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

/* The record as one compact JSON text, keys in the order of docs/server.md:
 * seq, time, event, the fields (in their order), prev. */
static char *build_line(const struct srv_audit *a, time_t now, const char *event,
                        json_t *fields)
{
    json_t *o = json_object(), *v;
    const char *key;
    char when[32];
    struct tm tm;
    char *text = NULL;
    int bad = o == NULL;

    if (gmtime_r(&now, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        bad = 1;
    bad = bad || json_object_set_new(o, "seq", json_integer((json_int_t)(a->seq + 1))) != 0;
    bad = bad || json_object_set_new(o, "time", json_string(when)) != 0;
    bad = bad || json_object_set_new(o, "event", json_string(event)) != 0;
    if (fields != NULL)
        json_object_foreach(fields, key, v)
            bad = bad || json_object_set(o, key, v) != 0;
    bad = bad || json_object_set_new(o, "prev", json_string(a->hash)) != 0;
    if (!bad)
        text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    return text;
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
    text[len] = '\0';
    if (n == (ssize_t)(len + 1))
        return PKI_OK;
    if (n > 0)
        a->broken = 1;
    return pki_err_set(err, PKI_ERR_IO, "%s: %s; run pkictl audit verify", a->path,
                       n < 0 ? strerror(errno) : "short write");
}

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

int srv_audit_append(struct srv_audit *a, time_t now, const char *event, json_t *fields,
                     struct pki_err *err)
{
    char *text = NULL, *buf = NULL, hash[65];
    size_t len;
    int rc;

    if (a == NULL || event == NULL || event[0] == '\0')
        return pki_err_set(err, PKI_ERR_USAGE, "audit: no log or no event");
    if (a->broken)
        return pki_err_set(err, PKI_ERR_IO, "%s: an earlier write failed; reopen the log",
                           a->path);
    if ((rc = check_fields(fields, err)) != PKI_OK)
        return rc;
    if (a->seq >= (uint64_t)INT64_MAX)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: seq overflow", a->path);
    /* Several server processes append to one log: the lock makes "read
     * the last line, chain to it, write" one step, and a size that moved
     * since our last write means another process wrote: re-read its tail. */
    if (flock(a->fd, LOCK_EX) != 0)
        return pki_err_set(err, PKI_ERR_IO, "%s: cannot lock: %s", a->path, strerror(errno));
    if ((rc = sync_tail(a, err)) != PKI_OK)
        goto out;
    if ((text = build_line(a, now, event, fields)) == NULL) {
        rc = pki_err_set(err, PKI_ERR_USAGE, "audit: cannot encode the record (an event or "
                         "field that is not UTF-8?)");
        goto out;
    }
    len = strlen(text);
    if (len > AUDIT_LINE_MAX) {
        rc = pki_err_set(err, PKI_ERR_USAGE, "audit: a record of %zu bytes (at most %d)",
                         len, AUDIT_LINE_MAX);
        goto out;
    }
    if ((buf = malloc(len + 2)) == NULL) {
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        goto out;
    }
    memcpy(buf, text, len + 1);
    if (!hash_hex(buf, len, hash)) {
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "audit: cannot hash a record");
        goto out;
    }
    if ((rc = write_line(a, buf, len, err)) != PKI_OK)
        goto out;
    a->seq++;
    memcpy(a->hash, hash, sizeof(hash));
    a->size += (off_t)len + 1;
out:
    flock(a->fd, LOCK_UN);
    free(buf);
    free(text);
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
    if (seq != NULL)
        *seq = a != NULL ? a->seq : 0;
    if (hash != NULL)
        memcpy(hash, a != NULL ? a->hash : ZERO_HASH, 65);
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
static int verify_line(char *line, size_t len, uint64_t n, char prev[65], struct pki_err *err)
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
    if (!hash_hex(line, len, prev))
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
    if ((f = fopen(path, "re")) == NULL) {
        rc = pki_err_set(err, errno == ENOENT ? PKI_ERR_NOTFOUND : PKI_ERR_IO,
                         "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        memcpy(h, r.last_hash, sizeof(h));
        if ((rc = verify_line(line, (size_t)len, r.lines + 1, h, err)) != PKI_OK ||
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
    return rc;
}
