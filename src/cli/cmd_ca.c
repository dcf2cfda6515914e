/* cmd_ca.c - `pkictl ca stage|rotate|prune`: zero-downtime CA rotation
 * (docs/rotation.md). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cluster.h"
#include "lifecycle.h"

static int run_stage(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    struct cluster_custom c;
    char root[2 * 4096], inter[2 * 4096], token[CA_TOKEN_MAX] = "";
    int rc = cli_change_opts(sc, a, &o);

    if (rc == EXIT_OK)
        rc = cli_custom(a, &c, root, inter, sizeof(root));
    if (rc != EXIT_OK)
        return rc;
    if (a->out == NULL)
        return cli_usage_error("ca stage needs --out=STAGING (a new folder)");
    rc = cli_finish_report(ca_stage(&o, a->out, &c, &r, token, &err), &err, &r);
    if (rc == EXIT_OK)
        printf("token: %s\n", token);
    return rc;
}

static int run_rotate(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    int rc = cli_change_opts(sc, a, &o), would_fail;

    if (rc != EXIT_OK)
        return rc;
    if (a->path == NULL)
        return cli_usage_error("ca rotate needs --path=STAGING (made by 'pkictl ca stage')");
    rc = ca_rotate(&o, a->path, a->dry_run, a->force, &r, &err);
    would_fail = r.would_fail;
    rc = cli_finish_report(rc, &err, &r);
    return rc == EXIT_OK && a->dry_run && would_fail ? EXIT_PROBLEMS : rc;
}

static int run_prune(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    int rc = cli_change_opts(sc, a, &o);

    if (rc != EXIT_OK)
        return rc;
    return cli_finish_report(ca_prune(&o, &r, &err), &err, &r);
}

static const struct subcommand subcommands[] = {
    {"stage", F_DIR | F_OUT | F_ROOT_CA | F_INTERMEDIATE_CA | F_HELP, run_stage,
     "Usage: pkictl ca stage --dir=DIR --out=STAGING [--root-ca=CERT,KEY [--intermediate-ca=CERT,KEY]]\n"
     "\n"
     "Creates the new folder STAGING with a new key and certificate for every CA of the\n"
     "cluster in DIR: each new root cross-signed by the root it replaces, each new\n"
     "intermediate under its parent's new certificate, plain keys with a new key first,\n"
     "and trust-bundle.pem (new and old roots) to distribute. Prints the trust-pinning\n"
     "token, pkictl1:sha256:HEX, the SHA-256 of trust-bundle.pem. Nothing in DIR changes.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder (made by 'pkictl cluster init')\n"
     "  --out=STAGING         the staging folder to create; it must not exist\n"
     "  --root-ca=CERT,KEY    for CAs under a custom root: sign them with this root ...\n"
     "  --intermediate-ca=CERT,KEY  ... or with this intermediate under it\n"
     "  -h, --help            show this help\n"},
    {"rotate", F_DIR | F_PATH | F_DRY_RUN | F_FORCE | F_HELP, run_rotate,
     "Usage: pkictl ca rotate --dir=DIR --path=STAGING [--dry-run] [--force]\n"
     "\n"
     "Checks the staged CAs (each matches its key, is a valid CA, chains to the current CA\n"
     "through its cross-signed certificate; every file present; plain key lists still\n"
     "hold the current key) and lists every failure, changing nothing. Then switches DIR\n"
     "in one atomic step: new CAs first in the trust bundles (old kept), every leaf\n"
     "re-issued under its new CA and served with the cross-signed certificate.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  --path=STAGING        the folder made by 'pkictl ca stage'\n"
     "  --dry-run             report what would and would not verify; change nothing\n"
     "                        (exit status 3 if anything would not)\n"
     "  --force               accept new roots without a cross-signature, and say what breaks\n"
     "  -h, --help            show this help\n"},
    {"prune", F_DIR | F_HELP, run_prune,
     "Usage: pkictl ca prune --dir=DIR\n"
     "\n"
     "Removes old CAs from the trust bundles once nothing they signed can still be valid\n"
     "(the time recorded at the rotation has passed and no leaf chains to them, or they\n"
     "have expired), never before; says for each old CA what it did and why.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  -h, --help            show this help\n"},
};

static const char ca_usage[] =
    "Usage: pkictl ca SUBCOMMAND [FLAGS...]\n"
    "\n"
    "Zero-downtime CA rotation of a cluster made by 'pkictl cluster init':\n"
    "  stage     create new CAs, cross-signed by the current ones, in a staging folder\n"
    "  rotate    check the staged CAs and switch the cluster to them atomically\n"
    "  prune     drop old CAs from the trust bundles once nothing needs them\n"
    "\n"
    "Run 'pkictl ca SUBCOMMAND --help' for its flags. See docs/rotation.md.\n";

int cli_ca_main(int argc, char **argv)
{
    return args_dispatch("ca", ca_usage, subcommands, sizeof(subcommands) / sizeof(subcommands[0]),
                         argc, argv);
}
