/*
 * audit.h - the append-only, hash-chained audit log (docs/server.md).
 *
 * Each line is one JSON object with "seq" (1, 2, ...), "time", "event",
 * the event's fields, and "prev": the hex SHA-256 of the previous line's
 * bytes (without its newline); 64 zeros on the first line. Never a key or
 * a SecretID.
 */
#ifndef SRV_AUDIT_H
#define SRV_AUDIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "err.h"

struct srv_audit;

/* Opens path for appending (O_APPEND|O_CREAT, 0600), reading its last line
 * to continue seq and prev. A last line that does not parse or ends without
 * a newline (a torn write) is an error: the log is not extended blindly.
 * The tail is read under flock(LOCK_SH), which flock-mode writers respect
 * but attached ones do not (see srv_audit_open_attached). */
PKI_MUST_CHECK struct srv_audit *srv_audit_open(const char *path, struct pki_err *err);
void srv_audit_close(struct srv_audit *a);

/* Appends one line: seq, time (RFC 3339 UTC from now), event, then the
 * fields of `fields` (an object; borrowed; must not use the reserved keys),
 * then prev. One write(2). PKI_ERR_USAGE for a reserved key, an event or
 * field that is not UTF-8, or a record over 65536 bytes; PKI_ERR_IO when
 * the write fails (a partial write leaves the handle refusing until
 * reopened); PKI_ERR_INPUT when another writer left a tail open refuses. */
PKI_MUST_CHECK int srv_audit_append(struct srv_audit *a, time_t now, const char *event,
                                    json_t *fields, struct pki_err *err);

/* The same line srv_audit_append writes for an object of string fields in
 * this order, byte for byte, without building JSON values: kv is key0,
 * value0, key1, value1, ... (2 * npairs strings, borrowed; at most
 * SRV_AUDIT_PAIRS_MAX pairs). Strings must be valid UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points above U+10FFFF), which is what
 * jansson accepts; anything else is PKI_ERR_USAGE "not UTF-8", as are a
 * NULL key or value, a reserved key and a key given twice. */
#define SRV_AUDIT_PAIRS_MAX 32
PKI_MUST_CHECK int srv_audit_append_strs(struct srv_audit *a, time_t now, const char *event,
                                         const char *const *kv, size_t npairs,
                                         struct pki_err *err);

/* ---- one chain head for several processes ----------------------------------
 * Worker processes that append to one log share its head in a MAP_SHARED
 * mapping, so an append is one write(2) under a process-shared mutex
 * instead of flock + fstat (+ re-reading the tail another process wrote).
 * The mutex is robust: if its holder dies (maybe after its write, before
 * publishing), the next append re-reads the tail from the file.
 * Every handle that appends to the file while any handle is attached must
 * be attached to the same srv_audit_shared: an unattached handle (flock)
 * writing beside attached ones is not supported and can fork the chain. */
struct srv_audit_shared {
    pthread_mutex_t mu; /* PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST; guards the rest */
    int ready;          /* 1: the head matches the file; 0: re-read the file's tail */
    uint64_t seq;       /* the last line's seq, hash, and the file's size after it */
    char hash[65];
    int64_t size;
};

/* Initialises sh in memory that is already MAP_SHARED and zeroed, before
 * the processes that share it fork. PKI_ERR_INTERNAL if pthread refuses. */
PKI_MUST_CHECK int srv_audit_shared_init(struct srv_audit_shared *sh, struct pki_err *err);

/* srv_audit_open, attached to sh (borrowed; it must outlive the handle).
 * Use it wherever other processes may be appending: srv_audit_open reads
 * the tail without the shared lock, so a line another process is writing
 * at that moment looks torn and open fails; this reads the tail (under the
 * lock) only if sh has no head yet, and publishes it. */
PKI_MUST_CHECK struct srv_audit *srv_audit_open_attached(const char *path,
                                                         struct srv_audit_shared *sh,
                                                         struct pki_err *err);

/* Attaches a handle already open: from now on a appends under sh's mutex.
 * Publishes the file's head if sh has none yet (an error reading it is the
 * next append's to report). Safe only if no other process was appending
 * while a was opened (e.g. before the fork); else srv_audit_open_attached. */
void srv_audit_attach(struct srv_audit *a, struct srv_audit_shared *sh);

/* fsync. */
PKI_MUST_CHECK int srv_audit_sync(struct srv_audit *a, struct pki_err *err);

/* The last line's seq and hash (seq 0 and 64 zeros when empty); when
 * attached, the shared head (the newest line any process wrote). */
void srv_audit_head(const struct srv_audit *a, uint64_t *seq, char hash[65]);

struct srv_audit_report {
    uint64_t lines;          /* lines that verified */
    uint64_t bad_line;       /* first bad line number (1-based), 0 if none */
    char last_hash[65];
};

/* Verifies a whole log. If want_seq > 0, the line with that seq must exist
 * and hash to want_hash (the store's checkpoint: catches a cut tail).
 * PKI_ERR_INPUT with "line N: ..." for the first problem. */
PKI_MUST_CHECK int srv_audit_verify(const char *path, uint64_t want_seq, const char *want_hash,
                                    struct srv_audit_report *rep, struct pki_err *err);

#endif
