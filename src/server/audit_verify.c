/*
 * audit_verify.c - srv_audit_verify: reads a whole audit log and names the
 * first line where the chain breaks (seq, prev) or the store's checkpoint
 * does not match, which is how an edit, a removal, an insertion, a
 * reordering or a cut tail shows (docs/server.md, "Audit log").
 */
#include "audit_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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
static int verify_line(struct srv__audit_sha *sha, char *line, size_t len, uint64_t n,
                       char prev[65], struct pki_err *err)
{
    int rc;

    if (len == 0 || line[len - 1] != '\n')
        return pki_err_set(err, PKI_ERR_INPUT, "line %llu: incomplete, no newline at the end "
                           "(a torn write or a truncated file)", (unsigned long long)n);
    line[--len] = '\0';
    if (len > SRV__AUDIT_LINE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "line %llu: longer than %d bytes",
                           (unsigned long long)n, SRV__AUDIT_LINE_MAX);
    if ((rc = verify_record(line, len, n, prev, err)) != PKI_OK)
        return rc;
    if (!srv__audit_hash_hex(sha, line, len, prev))
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
    struct srv_audit_report r = {0, 0, SRV__AUDIT_ZERO_HASH};
    struct srv__audit_sha sha = {NULL, NULL};
    FILE *f = NULL;
    char *line = NULL, h[65];
    size_t cap = 0;
    ssize_t len;
    int rc = PKI_OK;

    if (path == NULL || (want_seq > 0 && !srv__audit_is_hash(want_hash))) {
        rc = pki_err_set(err, PKI_ERR_USAGE, "audit verify: no path, or a checkpoint "
                         "without a 64-digit lower-case hex hash");
        goto out;
    }
    if (!srv__audit_sha_init(&sha)) {
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
    srv__audit_sha_free(&sha);
    return rc;
}
