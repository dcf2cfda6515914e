/* cmd_cert.c - `pkictl cert SUBCOMMAND`: the certs-dir commands (create-ca,
 * create-node, create-client, list) and the table of every cert subcommand. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"

#define DEFAULT_CA_LIFETIME "87840h"   /* 10 years, as cockroach cert */
#define DEFAULT_LEAF_LIFETIME "43920h" /* 5 years */

#define LEAF_FLAGS (F_CERTS_DIR | F_CA_KEY | F_OVERWRITE | F_LIFETIME | F_KEY_TYPE | F_KEY_SIZE | \
                    F_PKCS8 | F_HELP)

#define KEY_FLAGS_HELP \
    "  --key-type=TYPE       rsa (default), ecdsa or ed25519\n" \
    "  --key-size=N          rsa: 2048 (default), 3072, 4096, 8192; ecdsa: 256 (default),\n" \
    "                        384, 521; not for ed25519\n"

#define LEAF_FLAGS_HELP \
    "Flags:\n" \
    "  --certs-dir=DIR       certs dir holding ca.crt (default $PKICTL_CERTS_DIR or\n" \
    "                        $HOME/.pkictl-certs); it must exist\n" \
    "  --ca-key=FILE         the CA key that signs (default $PKICTL_CA_KEY)\n" \
    "  --lifetime=DUR        validity, e.g. 720h, 90d, 43920h0m0s (default 43920h, 5 years);\n" \
    "                        it may not outlast the CA\n" \
    KEY_FLAGS_HELP \
    "  --also-generate-pkcs8-key  also write the key as PKCS#8 DER (NAME.key.pk8, for Java)\n" \
    "  --overwrite           replace existing files\n" \
    "  -h, --help            show this help\n"

/* Turns flags into library options; prints the error and returns an exit
 * code other than EXIT_OK on bad input. */
static int make_opts(struct args *a, const char *default_lifetime, struct certsdir_opts *o)
{
    struct pki_err err = {0, ""};
    int rc;

    memset(o, 0, sizeof(*o));
    rc = args_certs_dir(a);
    if (rc != EXIT_OK)
        return rc;
    if (a->ca_key == NULL)
        a->ca_key = getenv("PKICTL_CA_KEY");
    if (a->ca_key == NULL || a->ca_key[0] == '\0')
        return cli_usage_error("missing --ca-key=FILE (or set PKICTL_CA_KEY)");
    o->lifetime_is_default = a->lifetime == NULL;
    rc = args_lifetime(a, default_lifetime, &o->lifetime);
    if (rc != EXIT_OK)
        return rc;
    if (pki_key_spec_parse(a->key_type, a->key_size, &o->key_spec, &err) != 0)
        return cli_fail(&err);
    rc = args_clock(&o->now);
    o->certs_dir = a->certs_dir;
    o->ca_key_path = a->ca_key;
    o->overwrite = a->overwrite;
    o->allow_ca_key_reuse = a->reuse;
    o->pkcs8 = a->pkcs8;
    o->skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
    o->parent_cert_path = a->parent_cert;
    o->parent_key_path = a->parent_key;
    if (a->path_len != NULL) {
        char *end;
        long v = strtol(a->path_len, &end, 10);

        if (a->parent_cert == NULL)
            return cli_usage_error("--path-len goes with --parent-ca-cert/--parent-ca-key");
        if (a->path_len[0] < '0' || a->path_len[0] > '9' || *end != '\0' || v > 8) {
            pki_err_set(&err, PKI_ERR_INPUT, "--path-len must be a number from 0 to 8");
            return cli_fail(&err);
        }
        o->path_len = (int)v;
    }
    return rc;
}

/* Long work gets a word of progress, on a terminal only, so scripts see
 * nothing but results and errors. */
static void say_if_slow(const struct certsdir_opts *o, int reusing_key)
{
    if (reusing_key || o->key_spec.type != PKI_KEY_RSA || o->key_spec.bits < 4096 ||
        !isatty(STDERR_FILENO))
        return;
    fprintf(stderr, "generating a %d-bit RSA key (this can take %s)...\n", o->key_spec.bits,
            o->key_spec.bits >= 8192 ? "a minute" : "a few seconds");
}

/* ---- subcommands ------------------------------------------------------------ */

static int run_create_ca(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct certsdir_written w = {.n = 0};
    struct certsdir_opts o;
    int rc;

    rc = args_no_positional(sc, a);
    if (rc == EXIT_OK)
        rc = make_opts(a, DEFAULT_CA_LIFETIME, &o);
    if (rc != EXIT_OK)
        return rc;
    say_if_slow(&o, o.allow_ca_key_reuse && access(o.ca_key_path, F_OK) == 0);
    return args_finish_write(certsdir_create_ca(&o, &w, &err), &err, &w);
}

static int run_create_node(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct certsdir_written w = {.n = 0};
    struct certsdir_opts o;
    int rc;

    if (a->npos == 0)
        return cli_usage_error("%s needs at least one HOST (a DNS name or IP address)", sc->name);
    rc = make_opts(a, DEFAULT_LEAF_LIFETIME, &o);
    if (rc != EXIT_OK)
        return rc;
    say_if_slow(&o, 0);
    rc = certsdir_create_node(&o, (const char *const *)a->pos, (size_t)a->npos, &w, &err);
    return args_finish_write(rc, &err, &w);
}

static int run_create_client(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct certsdir_written w = {.n = 0};
    struct certsdir_opts o;
    int rc;

    if (a->npos != 1)
        return cli_usage_error("%s needs exactly one USER (got %d arguments)", sc->name, a->npos);
    rc = make_opts(a, DEFAULT_LEAF_LIFETIME, &o);
    if (rc != EXIT_OK)
        return rc;
    say_if_slow(&o, 0);
    return args_finish_write(certsdir_create_client(&o, a->pos[0], &w, &err), &err, &w);
}

static int listing_has_errors(const struct certsdir_listing *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (l->entries[i].error[0] != '\0')
            return 1;
    return 0;
}

static int run_list(const struct subcommand *sc, struct args *a)
{
    struct certsdir_listing l = {NULL, 0};
    struct pki_err err = {0, ""};
    int json, rc;
    time_t now;

    rc = args_no_positional(sc, a);
    if (rc != EXIT_OK)
        return rc;
    if (a->format != NULL && strcmp(a->format, "table") != 0 && strcmp(a->format, "json") != 0) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown --format \"%s\" (use table or json)", a->format);
        return cli_fail(&err);
    }
    json = a->format != NULL && strcmp(a->format, "json") == 0;
    rc = args_certs_dir(a);
    if (rc == EXIT_OK)
        rc = args_clock(&now);
    if (rc != EXIT_OK)
        return rc;
    if (certsdir_list(a->certs_dir, now, args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK"), &l,
                      &err) != PKI_OK)
        return cli_fail(&err);
    if (json)
        rc = cli_print_list_json(stdout, a->certs_dir, &l);
    else
        cli_print_list_table(stdout, a->certs_dir, &l);
    if (rc == EXIT_OK && listing_has_errors(&l))
        rc = EXIT_PROBLEMS;
    certsdir_listing_free(&l);
    return rc;
}

static const struct subcommand subcommands[] = {
    {"create-ca", F_CERTS_DIR | F_CA_KEY | F_OVERWRITE | F_LIFETIME | F_KEY_TYPE | F_KEY_SIZE |
                      F_REUSE | F_PARENT_CERT | F_PARENT_KEY | F_PATH_LEN | F_HELP,
     run_create_ca,
     "Usage: pkictl cert create-ca [--certs-dir=DIR] [--ca-key=FILE] [flags]\n"
     "\n"
     "Creates a CA: its certificate goes first in DIR/ca.crt, its key to the --ca-key\n"
     "file (mode 0600; keep it outside the certs dir). With --overwrite over an\n"
     "existing ca.crt, the old CA certificates stay after the new one, so peers keep\n"
     "trusting them while nodes move to the new CA. With --parent-ca-cert/-key the\n"
     "new CA is an intermediate (pathlen 0) signed by that CA, and ca.crt also holds\n"
     "the parent's certificates.\n"
     "\n"
     "Flags:\n"
     "  --certs-dir=DIR       certs dir (default $PKICTL_CERTS_DIR or $HOME/.pkictl-certs);\n"
     "                        it must exist\n"
     "  --ca-key=FILE         where the CA key goes (default $PKICTL_CA_KEY)\n"
     "  --allow-ca-key-reuse  if the --ca-key file exists, sign with that key\n"
     "  --overwrite           replace an existing ca.crt (keeping its old CAs after the new)\n"
     "  --lifetime=DUR        validity, e.g. 87840h (default, 10 years; an intermediate's\n"
     "                        default ends with its parent at the latest), 365d, 90m\n"
     KEY_FLAGS_HELP
     "  --parent-ca-cert=FILE make an intermediate CA signed by this CA ...\n"
     "  --parent-ca-key=FILE  ... with this key (both or neither)\n"
     "  --path-len=N          the intermediate's path length: how many CAs may follow it\n"
     "                        (default 0: it signs leaves only)\n"
     "  -h, --help            show this help\n"},
    {"create-node", LEAF_FLAGS, run_create_node,
     "Usage: pkictl cert create-node HOST... [--certs-dir=DIR] [--ca-key=FILE] [flags]\n"
     "\n"
     "Creates node.crt and node.key: CN=node, every HOST a Subject Alternative Name\n"
     "(IP literals as IP SANs, others as DNS names; a wildcard only as the whole\n"
     "leftmost label, as in *.dev.example.com), extended key usage serverAuth and\n"
     "clientAuth. Signed by the CA in ca.crt that matches --ca-key; under an\n"
     "intermediate, node.crt also holds the chain up to (not including) the root.\n"
     "\n" LEAF_FLAGS_HELP},
    {"create-client", LEAF_FLAGS, run_create_client,
     "Usage: pkictl cert create-client USER [--certs-dir=DIR] [--ca-key=FILE] [flags]\n"
     "\n"
     "Creates client.USER.crt and client.USER.key: CN=USER, extended key usage\n"
     "clientAuth. USER: 1-63 of A-Z a-z 0-9 _ . - @, starting with a letter, digit or _.\n"
     "\n" LEAF_FLAGS_HELP},
    {"list", F_CERTS_DIR | F_FORMAT | F_HELP, run_list,
     "Usage: pkictl cert list [--certs-dir=DIR] [--format=table|json]\n"
     "\n"
     "Lists ca.crt, node.crt, client.*.crt and ui.crt with their keys, expiry and notes,\n"
     "and checks each: readable, valid now, key present, private (no group/world bits)\n"
     "and matching, signed by a CA in ca.crt (not checked for ui.crt). Problems go in\n"
     "the Error column; the exit status is 3 when there is any.\n"
     "\n"
     "Flags:\n"
     "  --certs-dir=DIR       certs dir (default $PKICTL_CERTS_DIR or $HOME/.pkictl-certs)\n"
     "  --format=FORMAT       table (default) or json\n"
     "  -h, --help            show this help\n"},
    {"sign", F_CA_CERT | F_CA_KEY | F_PROFILE | F_LIFETIME | F_OUT | F_OVERWRITE | F_HELP,
     cli_run_sign,
     "Usage: pkictl cert sign CSR --ca-cert=FILE --ca-key=FILE --profile=PROFILE --out=FILE\n"
     "                        [--lifetime=DUR] [--overwrite]\n"
     "\n"
     "Verifies the request's signature and key, and issues a certificate under the\n"
     "profile's policy: the profile, not the request, decides the CA flag, key usage,\n"
     "extended key usage and path length. The subject and the requested DNS, IP, URI\n"
     "and email SANs are validated and kept. --out gets the certificate followed by\n"
     "the chain up to, not including, the root.\n"
     "\n"
     "Profiles: server (serverAuth), client (clientAuth), node (both), intermediate\n"
     "(CA:TRUE, pathlen 0). server and node need a DNS or IP SAN.\n"
     "\n"
     "Flags:\n"
     "  --ca-cert=FILE        the issuing CA certificate, optionally followed by its chain\n"
     "  --ca-key=FILE         its key (default $PKICTL_CA_KEY)\n"
     "  --profile=PROFILE     server, client, node or intermediate\n"
     "  --lifetime=DUR        default 8760h (365 days); 43920h for intermediate\n"
     "  --out=FILE            where the certificate and chain go\n"
     "  --overwrite           replace an existing --out file\n"
     "  -h, --help            show this help\n"},
    {"bundle", F_CERT | F_CHAIN_FROM | F_OUT | F_OVERWRITE | F_HELP, cli_run_bundle,
     "Usage: pkictl cert bundle --cert=FILE --chain-from=FILE... [--out=FILE] [--overwrite]\n"
     "\n"
     "Builds the full chain leaf, intermediates, root from the first certificate of\n"
     "--cert and the certificates of every --chain-from file, given in any order.\n"
     "Refuses a set that does not form one chain: a gap, a certificate that does\n"
     "not belong, no self-signed root at the top.\n"
     "\n"
     "Flags:\n"
     "  --cert=FILE           the leaf certificate\n"
     "  --chain-from=FILE     certificates to build the chain from (repeat it)\n"
     "  --out=FILE            write the chain there (default: standard output)\n"
     "  --overwrite           replace an existing --out file\n"
     "  -h, --help            show this help\n"},
    {"create-self-signed", F_DOMAINS | F_DAYS | F_TYPE | F_OUT_DIR | F_KEY_TYPE | F_KEY_SIZE |
                               F_OVERWRITE | F_HELP,
     cli_run_self_signed,
     "Usage: pkictl cert create-self-signed --domains=\"a.example.com b.example.com\"\n"
     "                  [--days=N] [--type=cm|api|proxy|syncer|metrics|all] [--out-dir=DIR]\n"
     "\n"
     "For each type, one self-signed certificate covering every domain and its\n"
     "wildcard (a.example.com, *.a.example.com, ...), written as DIR/<type>_cert.pem\n"
     "and DIR/<type>_key.pem (Redis Enterprise's certificate names).\n"
     "\n"
     "Flags:\n"
     "  --domains=LIST        domains, separated by spaces or commas (no wildcards)\n"
     "  --days=N              validity in days (default 365)\n"
     "  --type=TYPE           cm, api, proxy, syncer, metrics or all (default)\n"
     "  --out-dir=DIR         where the files go (default: the current directory)\n"
     KEY_FLAGS_HELP
     "  --overwrite           replace existing files\n"
     "  -h, --help            show this help\n"},
    {"install", F_CERT | F_KEY | F_CA | F_CERTS_DIR | F_MIN_VALIDITY | F_ROLLBACK | F_HELP,
     cli_run_install,
     "Usage: pkictl cert install NAME --cert=FILE --key=FILE [--ca=FILE] [--certs-dir=DIR]\n"
     "                           [--min-validity=DUR]\n"
     "       pkictl cert install --rollback NAME [--certs-dir=DIR]\n"
     "\n"
     "Installs a certificate (leaf, then its chain) and key into slot NAME of the\n"
     "certs dir (NAME.crt, NAME.key) after checking, in order: pem (both parse),\n"
     "key (matches), chain (in order, verifies to --ca or ca.crt), validity (valid\n"
     "now, and for longer than --min-validity), signature (SHA-256 or stronger),\n"
     "usage (the slot's extended key usage). Any failure names its check and\n"
     "changes nothing. The old pair is kept as NAME.crt.previous/NAME.key.previous;\n"
     "--rollback swaps it back.\n"
     "\n"
     "Slots: node (serverAuth+clientAuth), client.USER (clientAuth), ui, cm, api,\n"
     "proxy, syncer, metrics (serverAuth).\n"
     "\n"
     "Flags:\n"
     "  --cert=FILE           the certificate, followed by its chain\n"
     "  --key=FILE            its key\n"
     "  --ca=FILE             CA certificates to verify against (default: ca.crt)\n"
     "  --certs-dir=DIR       certs dir (default $PKICTL_CERTS_DIR or $HOME/.pkictl-certs)\n"
     "  --min-validity=DUR    refuse a certificate expiring sooner (default 720h)\n"
     "  --rollback            restore the previous pair of slot NAME\n"
     "  -h, --help            show this help\n"},
    {"show", F_FORMAT | F_HELP, cli_run_show,
     "Usage: pkictl cert show FILE [--format=text|json]\n"
     "\n"
     "Shows each certificate in FILE: subject, issuer, serial, validity and time left,\n"
     "SANs, key type and size, signature algorithm, key usage, extended key usage,\n"
     "basic constraints, SHA-256 and SHA-1 fingerprints.\n"
     "\n"
     "Flags:\n"
     "  --format=FORMAT       text (default) or json\n"
     "  -h, --help            show this help\n"},
};

static const char cert_usage[] =
    "Usage: pkictl cert SUBCOMMAND [ARGS...] [FLAGS...]\n"
    "\n"
    "Subcommands:\n"
    "  create-ca      create a CA (ca.crt and its key), self-signed or intermediate\n"
    "  create-node    create node.crt/node.key for the given hosts\n"
    "  create-client  create client.USER.crt/.key\n"
    "  list           list and check the certificates in the certs dir\n"
    "  sign           sign a certificate request under a profile\n"
    "  bundle         assemble a chain leaf, intermediates, root\n"
    "  show           show what a certificate (or bundle) holds\n"
    "  create-self-signed  self-signed certificates per type (Redis Enterprise names)\n"
    "  install        install a certificate and key into a slot, checked, with rollback\n"
    "\n"
    "Run 'pkictl cert SUBCOMMAND --help' for its flags.\n";

int cli_cert_main(int argc, char **argv)
{
    return args_dispatch("cert", cert_usage, subcommands,
                         sizeof(subcommands) / sizeof(subcommands[0]), argc, argv);
}
