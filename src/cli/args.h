/*
 * args.h - command-line flags shared by every command family: one table of
 * long options, parsing with getopt_long, and the defaults that come from
 * the environment (certs dir, CA key, clock, permission-check override).
 */
#ifndef PKICTL_ARGS_H
#define PKICTL_ARGS_H

#include <time.h>

#include "certsdir.h"
#include "err.h"

enum flag {
    F_CERTS_DIR = 1 << 0,
    F_CA_KEY = 1 << 1,
    F_OVERWRITE = 1 << 2,
    F_LIFETIME = 1 << 3,
    F_KEY_TYPE = 1 << 4,
    F_KEY_SIZE = 1 << 5,
    F_PKCS8 = 1 << 6,
    F_REUSE = 1 << 7,
    F_FORMAT = 1 << 8,
    F_HELP = 1 << 9,
    F_PARENT_CERT = 1 << 10,
    F_PARENT_KEY = 1 << 11,
    F_CA_CERT = 1 << 12,
    F_PROFILE = 1 << 13,
    F_OUT = 1 << 14,
    F_CERT = 1 << 15,
    F_CHAIN_FROM = 1 << 16,
    F_KEY = 1 << 17,
    F_NEW_KEY = 1 << 18,
    F_KEY_OUT = 1 << 19,
    F_SUBJECT = 1 << 20,
    F_SAN = 1 << 21,
    F_CLUSTER_FQDN = 1 << 22,
    F_USAGE = 1 << 23,
    F_DOMAINS = 1 << 24,
    F_DAYS = 1 << 25,
    F_TYPE = 1 << 26,
    F_OUT_DIR = 1 << 27,
    F_CA = 1 << 28,
    F_MIN_VALIDITY = 1 << 29,
    F_ROLLBACK = 1 << 30,
};

#define ARGS_LIST_MAX 64 /* values of a repeatable flag */

struct args {
    const char *certs_dir, *ca_key, *lifetime, *key_type, *key_size, *format;
    const char *parent_cert, *parent_key, *ca_cert, *profile, *out, *cert, *key, *key_out;
    const char *subject, *cluster_fqdn, *usage;
    const char *domains, *days, *type, *out_dir, *ca, *min_validity;
    const char *chain_from[ARGS_LIST_MAX], *san[ARGS_LIST_MAX];
    int nchain_from, nsan;
    int overwrite, pkcs8, reuse, help, new_key, rollback;
    char **pos; /* positional arguments */
    int npos;
};

struct subcommand {
    const char *name;
    unsigned flags; /* the flags it takes */
    int (*run)(const struct subcommand *sc, struct args *a);
    const char *help;
};

/* Dispatches argv[1] to a subcommand of table (family is "cert", "csr"),
 * parsing its flags; handles --help and usage errors. argv[0] is the family. */
int args_dispatch(const char *family, const char *family_usage, const struct subcommand *table,
                  size_t n, int argc, char **argv);

/* 1 if the environment variable is "true", "TRUE", "1" or "yes". */
int args_env_true(const char *name);

/* The clock: PKICTL_NOW (seconds since 1970) if set, else time(NULL).
 * Returns EXIT_OK or an exit code after printing the error. */
int args_clock(time_t *now);

/* --certs-dir, else $PKICTL_CERTS_DIR, else $HOME/.pkictl-certs. */
int args_certs_dir(struct args *a);

/* --lifetime or def, as seconds. */
int args_lifetime(const struct args *a, const char *def, int64_t *seconds);

/* Prints "wrote PATH" per file, or the error (with the --overwrite hint for
 * an existing file) and returns the exit code. */
int args_finish_write(int rc, struct pki_err *err, const struct certsdir_written *w);

/* Refuses positional arguments for commands that take none. */
int args_no_positional(const struct subcommand *sc, const struct args *a);

#endif
