/* cmd_ca.c - `pkictl ca stage|rotate|prune`: zero-downtime CA rotation
 * (docs/rotation.md); `ca roots|get-config|set-config|sign|leaf` talk to a
 * running `pkictl server` (cmd_client.c). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "client.h"
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
     "hold the current key; trust-bundle.pem is the one staged, matching the token) and\n"
     "lists every failure, changing nothing. Then switches DIR in one atomic step: new\n"
     "CAs first in the trust bundles (old kept), every leaf re-issued under its new CA\n"
     "and served with the cross-signed certificate.\n"
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
    {"roots", F_CLIENT | F_PEM, cli_run_ca_roots,
     "Usage: pkictl ca roots [--pem] [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Shows the server's root certificates (GET /v1/connect/ca/roots; no token needed):\n"
     "the trust domain, then each root with its ID, name, state (active or rotated out\n"
     "at), validity, key, number of intermediates and signing key ID.\n"
     "\n"
     "Flags:\n"
     "  --pem                     print every root as PEM (active first), for trust stores\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (default) or json (the server's answer)\n"
     "  -h, --help                show this help\n"},
    {"get-config", F_CLIENT, cli_run_ca_get_config,
     "Usage: pkictl ca get-config [CONNECTION FLAGS]\n"
     "\n"
     "Prints the server's CA configuration as JSON (GET /v1/connect/ca/configuration):\n"
     "Provider, Config (LeafCertTTL, IntermediateCertTTL, RootCertTTL, PrivateKeyType,\n"
     "PrivateKeyBits, CSRMaxPerSecond, ...), ForceWithoutCrossSigning. Needs an operator\n"
     "token. The output is a valid input for 'pkictl ca set-config'.\n"
     "\n"
     "Flags:\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text or json: both print the JSON\n"
     "  -h, --help                show this help\n"},
    {"set-config", F_CLIENT, cli_run_ca_set_config,
     "Usage: pkictl ca set-config FILE [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Replaces the server's CA configuration with the JSON object in FILE ('-' reads\n"
     "standard input; at most 64 KiB) (PUT /v1/connect/ca/configuration). Fields left out\n"
     "take their defaults. A new key type or size, or a supplied RootCert and PrivateKey,\n"
     "rotate the root (cross-signed by the old one unless ForceWithoutCrossSigning).\n"
     "A warning from the server is printed on standard error. Needs an operator token.\n"
     "\n"
     "Flags:\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (default) or json (the server's answer)\n"
     "  -h, --help                show this help\n"},
    {"sign", F_CLIENT | F_OUT | F_OVERWRITE, cli_run_ca_sign,
     "Usage: pkictl ca sign CSR [--out=FILE [--overwrite]] [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Has the server sign the request in CSR (PEM or DER; POST /v1/connect/ca/sign). The\n"
     "request must carry one URI SAN, spiffe://TRUST-DOMAIN/ns/default/dc/DC/svc/SERVICE,\n"
     "and the token must allow SERVICE. Prints the certificate and its chain (PEM) on\n"
     "standard output and a summary on standard error, or with --out writes them to FILE.\n"
     "\n"
     "Flags:\n"
     "  --out=FILE                write the certificate and chain to FILE (mode 0644)\n"
     "  --overwrite               replace FILE if it exists\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (default) or json (the server's answer on stdout)\n"
     "  -h, --help                show this help\n"},
    {"leaf", F_CLIENT | F_OUT_DIR | F_OVERWRITE, cli_run_ca_leaf,
     "Usage: pkictl ca leaf SERVICE [--out-dir=DIR [--overwrite]] [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Gets a new key and leaf certificate for SERVICE from the server\n"
     "(GET /v1/agent/connect/ca/leaf/SERVICE). With --out-dir writes DIR/SERVICE.crt\n"
     "(certificate and chain, 0644) and DIR/SERVICE.key (0600), both or neither, after\n"
     "checking that the key matches the certificate. Without it prints a summary (text)\n"
     "or the server's answer, key included (json). Needs a token allowed SERVICE.\n"
     "\n"
     "Flags:\n"
     "  --out-dir=DIR             write SERVICE.crt and SERVICE.key into DIR (it must exist)\n"
     "  --overwrite               replace them if they exist\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (default) or json\n"
     "  -h, --help                show this help\n"},
};

static const char ca_usage[] =
    "Usage: pkictl ca SUBCOMMAND [FLAGS...]\n"
    "\n"
    "Zero-downtime CA rotation of a cluster made by 'pkictl cluster init':\n"
    "  stage     create new CAs, cross-signed by the current ones, in a staging folder\n"
    "  rotate    check the staged CAs and switch the cluster to them atomically\n"
    "  prune     drop old CAs from the trust bundles once nothing needs them\n"
    "\n"
    "The CA of a running 'pkictl server' (docs/server.md):\n"
    "  roots       show the server's root certificates (or print them as PEM)\n"
    "  get-config  print the CA configuration\n"
    "  set-config  replace the CA configuration (may rotate the root)\n"
    "  sign        have the server sign a certificate request\n"
    "  leaf        get a new key and leaf certificate for a service\n"
    "\n"
    "Run 'pkictl ca SUBCOMMAND --help' for its flags. See docs/rotation.md and docs/server.md.\n";

int cli_ca_main(int argc, char **argv)
{
    return args_dispatch("ca", ca_usage, subcommands, sizeof(subcommands) / sizeof(subcommands[0]),
                         argc, argv);
}
