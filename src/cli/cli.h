/*
 * cli.h - the command-line front end: parses flags, calls the library,
 * prints results and errors, and turns them into exit codes.
 */
#ifndef PKICTL_CLI_H
#define PKICTL_CLI_H

#include <stdio.h>

#include "certsdir.h"
#include "err.h"

/* Exit codes (documented in docs/cli.md and the man page). */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,   /* the operation failed or was refused */
    EXIT_USAGE = 2,    /* the command line is wrong */
    EXIT_PROBLEMS = 3, /* cert list, cluster status: a problem; ca rotate --dry-run: would break */
};

struct args;
struct subcommand;

/* `pkictl cert ...` and `pkictl csr ...`; argv[0] is "cert" or "csr". */
int cli_cert_main(int argc, char **argv);
int cli_csr_main(int argc, char **argv);
int cli_cluster_main(int argc, char **argv);
int cli_ca_main(int argc, char **argv);
int cli_token_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);

/* ca roots, get-config, set-config, sign, leaf: a running server (cmd_client.c). */
int cli_run_ca_roots(const struct subcommand *sc, struct args *a);
int cli_run_ca_get_config(const struct subcommand *sc, struct args *a);
int cli_run_ca_set_config(const struct subcommand *sc, struct args *a);
int cli_run_ca_sign(const struct subcommand *sc, struct args *a);
int cli_run_ca_leaf(const struct subcommand *sc, struct args *a);

/* cluster renew, recover, rotate, rotate-key (cmd_lifecycle.c). */
int cli_run_renew(const struct subcommand *sc, struct args *a);
int cli_run_recover(const struct subcommand *sc, struct args *a);
int cli_run_rotate(const struct subcommand *sc, struct args *a);
int cli_run_rotate_key(const struct subcommand *sc, struct args *a);

/* Splits "CERT,KEY" (the value of flag) into two paths pointing into buf. */
int cli_split_pair(const char *flag, const char *value, char *buf, size_t len,
                   const char **cert, const char **key);

/* cert sign, cert bundle, cert show. */
int cli_run_sign(const struct subcommand *sc, struct args *a);
int cli_run_bundle(const struct subcommand *sc, struct args *a);
int cli_run_show(const struct subcommand *sc, struct args *a);
int cli_run_self_signed(const struct subcommand *sc, struct args *a);
int cli_run_install(const struct subcommand *sc, struct args *a);

/* Prints "pkictl: MESSAGE" on stderr as one line and returns the exit code
 * that fits err's code. */
int cli_fail(const struct pki_err *err);

/* Prints a usage error on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s to out with C0 controls, DEL, C1 controls (U+0080-U+009F) and
 * bytes that are not valid UTF-8 shown as \xNN, and valid UTF-8 kept: text
 * read from files (names, paths, field names) must not move the cursor or
 * forge a line on a terminal. */
void cli_put_shown(FILE *out, const char *s);

/* Prints a listing as a table or as JSON on out. */
void cli_print_list_table(FILE *out, const char *dir, const struct certsdir_listing *l);
int cli_print_list_json(FILE *out, const char *dir, const struct certsdir_listing *l);

#endif
