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

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "err.h"

struct srv_audit;

/* Opens path for appending (O_APPEND|O_CREAT, 0600), reading its last line
 * to continue seq and prev. A last line that does not parse or ends without
 * a newline (a torn write) is an error: the log is not extended blindly. */
PKI_MUST_CHECK struct srv_audit *srv_audit_open(const char *path, struct pki_err *err);
void srv_audit_close(struct srv_audit *a);

/* Appends one line: seq, time (RFC 3339 UTC from now), event, then the
 * fields of `fields` (an object; borrowed; must not use the reserved keys),
 * then prev. One write(2). */
PKI_MUST_CHECK int srv_audit_append(struct srv_audit *a, time_t now, const char *event,
                                    json_t *fields, struct pki_err *err);

/* fsync. */
PKI_MUST_CHECK int srv_audit_sync(struct srv_audit *a, struct pki_err *err);

/* The last line's seq and hash (seq 0 and 64 zeros when empty). */
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
