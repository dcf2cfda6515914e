/*
 * args.h - command-line flags shared by every command family: one table of
 * long options, parsing with getopt_long, and the defaults that come from
 * the environment (certs dir, CA key, clock, permission-check override).
 */
#ifndef PKICTL_ARGS_H
#define PKICTL_ARGS_H

#include <stdint.h>
#include <time.h>

#include "certsdir.h"
#include "err.h"

/* Flag indices (getopt values); a subcommand's flags are a 64-bit mask of them. */
enum flag_id {
    FI_CERTS_DIR,
    FI_CA_KEY,
    FI_OVERWRITE,
    FI_LIFETIME,
    FI_KEY_TYPE,
    FI_KEY_SIZE,
    FI_PKCS8,
    FI_REUSE,
    FI_FORMAT,
    FI_HELP,
    FI_PARENT_CERT,
    FI_PARENT_KEY,
    FI_CA_CERT,
    FI_PROFILE,
    FI_OUT,
    FI_CERT,
    FI_CHAIN_FROM,
    FI_KEY,
    FI_NEW_KEY,
    FI_KEY_OUT,
    FI_SUBJECT,
    FI_SAN,
    FI_CLUSTER_FQDN,
    FI_USAGE,
    FI_DOMAINS,
    FI_DAYS,
    FI_TYPE,
    FI_OUT_DIR,
    FI_CA,
    FI_MIN_VALIDITY,
    FI_ROLLBACK,
    FI_PATH_LEN,
    FI_MANIFEST,
    FI_DIR,
    FI_ROOT_CA,
    FI_INTERMEDIATE_CA,
    FI_WITHIN,
    FI_SERVICE,
    FI_NAME,
    FI_KEEP,
    FI_PATH,
    FI_DRY_RUN,
    FI_FORCE,
    FI_ADDR,
    FI_CA_FILE,
    FI_TOKEN,
    FI_TOKEN_FILE,
    FI_TIMEOUT,
    FI_PEM,
    FI_POLICY,
    FI_DESCRIPTION,
    FI_DATA_DIR,
    FI_COUNT,
};
_Static_assert(FI_COUNT <= 64, "a subcommand's flags are a 64-bit mask");

#define FLAG(i) (UINT64_C(1) << (i))
#define F_CERTS_DIR FLAG(FI_CERTS_DIR)
#define F_CA_KEY FLAG(FI_CA_KEY)
#define F_OVERWRITE FLAG(FI_OVERWRITE)
#define F_LIFETIME FLAG(FI_LIFETIME)
#define F_KEY_TYPE FLAG(FI_KEY_TYPE)
#define F_KEY_SIZE FLAG(FI_KEY_SIZE)
#define F_PKCS8 FLAG(FI_PKCS8)
#define F_REUSE FLAG(FI_REUSE)
#define F_FORMAT FLAG(FI_FORMAT)
#define F_HELP FLAG(FI_HELP)
#define F_PARENT_CERT FLAG(FI_PARENT_CERT)
#define F_PARENT_KEY FLAG(FI_PARENT_KEY)
#define F_CA_CERT FLAG(FI_CA_CERT)
#define F_PROFILE FLAG(FI_PROFILE)
#define F_OUT FLAG(FI_OUT)
#define F_CERT FLAG(FI_CERT)
#define F_CHAIN_FROM FLAG(FI_CHAIN_FROM)
#define F_KEY FLAG(FI_KEY)
#define F_NEW_KEY FLAG(FI_NEW_KEY)
#define F_KEY_OUT FLAG(FI_KEY_OUT)
#define F_SUBJECT FLAG(FI_SUBJECT)
#define F_SAN FLAG(FI_SAN)
#define F_CLUSTER_FQDN FLAG(FI_CLUSTER_FQDN)
#define F_USAGE FLAG(FI_USAGE)
#define F_DOMAINS FLAG(FI_DOMAINS)
#define F_DAYS FLAG(FI_DAYS)
#define F_TYPE FLAG(FI_TYPE)
#define F_OUT_DIR FLAG(FI_OUT_DIR)
#define F_CA FLAG(FI_CA)
#define F_MIN_VALIDITY FLAG(FI_MIN_VALIDITY)
#define F_ROLLBACK FLAG(FI_ROLLBACK)
#define F_PATH_LEN FLAG(FI_PATH_LEN)
#define F_MANIFEST FLAG(FI_MANIFEST)
#define F_DIR FLAG(FI_DIR)
#define F_ROOT_CA FLAG(FI_ROOT_CA)
#define F_INTERMEDIATE_CA FLAG(FI_INTERMEDIATE_CA)
#define F_WITHIN FLAG(FI_WITHIN)
#define F_SERVICE FLAG(FI_SERVICE)
#define F_NAME FLAG(FI_NAME)
#define F_KEEP FLAG(FI_KEEP)
#define F_PATH FLAG(FI_PATH)
#define F_DRY_RUN FLAG(FI_DRY_RUN)
#define F_FORCE FLAG(FI_FORCE)
#define F_ADDR FLAG(FI_ADDR)
#define F_CA_FILE FLAG(FI_CA_FILE)
#define F_TOKEN FLAG(FI_TOKEN)
#define F_TOKEN_FILE FLAG(FI_TOKEN_FILE)
#define F_TIMEOUT FLAG(FI_TIMEOUT)
#define F_PEM FLAG(FI_PEM)
#define F_POLICY FLAG(FI_POLICY)
#define F_DESCRIPTION FLAG(FI_DESCRIPTION)
#define F_DATA_DIR FLAG(FI_DATA_DIR)


#define ARGS_LIST_MAX 64 /* values of a repeatable flag */

struct args {
    const char *certs_dir, *ca_key, *lifetime, *key_type, *key_size, *format;
    const char *parent_cert, *parent_key, *ca_cert, *profile, *out, *cert, *key, *key_out;
    const char *subject, *cluster_fqdn, *usage;
    const char *domains, *days, *type, *out_dir, *ca, *min_validity, *path_len;
    const char *manifest, *dir, *root_ca, *intermediate_ca, *within;
    const char *service, *name, *keep, *path;
    const char *addr, *ca_file, *token, *token_file, *timeout, *policy, *description, *data_dir;
    const char *chain_from[ARGS_LIST_MAX], *san[ARGS_LIST_MAX];
    int nchain_from, nsan;
    int overwrite, pkcs8, reuse, help, new_key, rollback, dry_run, force, pem;
    char **pos; /* positional arguments */
    int npos;
};

struct subcommand {
    const char *name;
    uint64_t flags; /* the flags it takes */
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
