/* cmd_audit.c - `pkictl audit verify`: checks the server's hash-chained audit
 * log offline (docs/server.md "Audit log"); no HTTP. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "audit.h"
#include "cli.h"
#include "fsio.h"
#include "store.h"

/* The store's checkpoint (seq, hash), read before the log: the server
 * appends a line before it records it, so a checkpoint read first is always
 * in the file unless the file lost its tail. */
static int read_checkpoint(const char *data_dir, uint64_t *seq, char hash[65],
                           struct pki_err *err)
{
    char path[PATH_MAX];
    struct store *s;
    int rc = fs_check_dir(data_dir, "--data-dir", err);

    if (rc == PKI_OK)
        rc = fs_join(data_dir, "pkictl.db", path, sizeof(path), err);
    if (rc != PKI_OK)
        return rc;
    /* store_open_sqlite would create a missing store. */
    if (!fs_exists(path))
        return pki_err_set(err, PKI_ERR_NOTFOUND, "%s does not exist (is --data-dir the "
                           "server's data dir?)", path);
    if ((s = store_open_sqlite(path, err)) == NULL)
        return err->code;
    rc = store_audit_checkpoint_get(s, seq, hash, err);
    store_close(s);
    return rc;
}

static int print_json(const char *file, const struct srv_audit_report *rep, uint64_t seq)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:b}", "file", file, "lines", (json_int_t)rep->lines,
                          "last_hash", rep->last_hash, "chain_intact", 1);
    int rc;

    if (o == NULL) /* a file name that is not UTF-8 */
        o = json_pack("{s:I, s:s, s:b}", "lines", (json_int_t)rep->lines, "last_hash",
                      rep->last_hash, "chain_intact", 1);
    if (o != NULL && seq > 0)
        json_object_set_new(o, "checkpoint_seq", json_integer((json_int_t)seq));
    rc = o != NULL && json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
    putchar('\n');
    json_decref(o);
    return rc ? EXIT_OK : EXIT_FAILED;
}

static int run_verify(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct srv_audit_report rep;
    char hash[65] = "";
    uint64_t seq = 0;
    int json;

    if (a->npos != 1)
        return cli_usage_error("%s needs exactly one FILE (got %d arguments)", sc->name, a->npos);
    if (a->format != NULL && strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown --format \"%s\" (use text or json)", a->format);
        return cli_fail(&err);
    }
    json = a->format != NULL && strcmp(a->format, "json") == 0;
    if (a->data_dir != NULL && read_checkpoint(a->data_dir, &seq, hash, &err) != PKI_OK)
        return cli_fail(&err);
    memset(&rep, 0, sizeof(rep));
    if (srv_audit_verify(a->pos[0], seq, seq > 0 ? hash : NULL, &rep, &err) != PKI_OK) {
        if (strstr(err.msg, a->pos[0]) == NULL)
            pki_err_prefix(&err, "%s", a->pos[0]);
        return cli_fail(&err);
    }
    if (json)
        return print_json(a->pos[0], &rep, seq);
    printf("%s: %" PRIu64 " lines verified, chain intact", a->pos[0], rep.lines);
    if (seq > 0)
        printf(", checkpoint at line %" PRIu64 " found", seq);
    putchar('\n');
    return EXIT_OK;
}

static const struct subcommand subcommands[] = {
    {"verify", F_DATA_DIR | F_FORMAT | F_HELP, run_verify,
     "Usage: pkictl audit verify FILE [--data-dir=DIR] [--format=text|json]\n"
     "\n"
     "Checks the audit log FILE that 'pkictl server' writes (DATA_DIR/audit.log): every\n"
     "line is a JSON object, seq counts up from 1, and each line's prev is the SHA-256 of\n"
     "the line before (64 zeros on the first). Names the first line that breaks the\n"
     "chain (exit status 1). Reads files only; the server may be running.\n"
     "\n"
     "Flags:\n"
     "  --data-dir=DIR        also check the checkpoint in DIR/pkictl.db: the log must hold\n"
     "                        the line the store last recorded, so a cut tail is caught\n"
     "  --format=FORMAT       text (default) or json\n"
     "  -h, --help            show this help\n"},
};

static const char audit_usage[] =
    "Usage: pkictl audit SUBCOMMAND [FLAGS...]\n"
    "\n"
    "The audit log of 'pkictl server':\n"
    "  verify    check the hash chain of an audit log (and the store's checkpoint)\n"
    "\n"
    "Run 'pkictl audit SUBCOMMAND --help' for its flags. See docs/server.md.\n";

int cli_audit_main(int argc, char **argv)
{
    return args_dispatch("audit", audit_usage, subcommands,
                         sizeof(subcommands) / sizeof(subcommands[0]), argc, argv);
}
