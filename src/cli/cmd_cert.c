/* cmd_cert.c - `pkictl cert SUBCOMMAND`: flags, defaults and help. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "duration.h"

#define DEFAULT_CA_LIFETIME "87840h"   /* 10 years, as cockroach cert */
#define DEFAULT_LEAF_LIFETIME "43920h" /* 5 years */

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
};

#define LEAF_FLAGS (F_CERTS_DIR | F_CA_KEY | F_OVERWRITE | F_LIFETIME | F_KEY_TYPE | F_KEY_SIZE | \
                    F_PKCS8 | F_HELP)

static const struct option long_options[] = {
    {"certs-dir", required_argument, NULL, F_CERTS_DIR},
    {"ca-key", required_argument, NULL, F_CA_KEY},
    {"overwrite", no_argument, NULL, F_OVERWRITE},
    {"lifetime", required_argument, NULL, F_LIFETIME},
    {"key-type", required_argument, NULL, F_KEY_TYPE},
    {"key-size", required_argument, NULL, F_KEY_SIZE},
    {"also-generate-pkcs8-key", no_argument, NULL, F_PKCS8},
    {"allow-ca-key-reuse", no_argument, NULL, F_REUSE},
    {"format", required_argument, NULL, F_FORMAT},
    {"help", no_argument, NULL, F_HELP},
    {NULL, 0, NULL, 0},
};

struct args {
    const char *certs_dir, *ca_key, *lifetime, *key_type, *key_size, *format;
    int overwrite, pkcs8, reuse, help;
    char **pos; /* positional arguments */
    int npos;
};

struct subcommand {
    const char *name;
    unsigned flags;
    int (*run)(const struct subcommand *sc, struct args *a);
    const char *help;
};

static const char leaf_flags_help[] =
    "  --certs-dir=DIR       certs dir holding ca.crt (default $PKICTL_CERTS_DIR or\n"
    "                        $HOME/.pkictl-certs); it must exist\n"
    "  --ca-key=FILE         the CA key that signs (default $PKICTL_CA_KEY)\n"
    "  --lifetime=DUR        validity, e.g. 720h, 90d, 43920h0m0s (default 43920h, 5 years);\n"
    "                        it may not outlast the CA\n"
    "  --key-type=TYPE       rsa (default), ecdsa or ed25519\n"
    "  --key-size=N          rsa: 2048 (default), 3072, 4096, 8192; ecdsa: 256 (default),\n"
    "                        384, 521; not for ed25519\n"
    "  --also-generate-pkcs8-key  also write the key as PKCS#8 DER (NAME.key.pk8, for Java)\n"
    "  --overwrite           replace existing files\n"
    "  -h, --help            show this help\n";

/* ---- shared steps ---------------------------------------------------------- */

static int env_true(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                         strcmp(v, "TRUE") == 0 || strcmp(v, "yes") == 0);
}

/* The clock: PKICTL_NOW (seconds since the epoch) lets tests pin time. */
static int clock_now(time_t *now)
{
    const char *v = getenv("PKICTL_NOW");
    char *end;
    long long t;

    if (v == NULL || v[0] == '\0') {
        *now = time(NULL);
        return EXIT_OK;
    }
    errno = 0;
    t = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || t < 0)
        return cli_usage_error("PKICTL_NOW=\"%s\" is not a number of seconds since 1970", v);
    *now = (time_t)t;
    return EXIT_OK;
}

static char home_certs_dir[4096];

static int resolve_certs_dir(struct args *a)
{
    const char *home;

    if (a->certs_dir == NULL)
        a->certs_dir = getenv("PKICTL_CERTS_DIR");
    if (a->certs_dir != NULL && a->certs_dir[0] != '\0')
        return EXIT_OK;
    home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return cli_usage_error("no --certs-dir given and HOME is not set");
    if (snprintf(home_certs_dir, sizeof(home_certs_dir), "%s/.pkictl-certs", home) >=
        (int)sizeof(home_certs_dir))
        return cli_usage_error("HOME is too long");
    a->certs_dir = home_certs_dir;
    return EXIT_OK;
}

/* Turns flags into library options; prints the error and returns an exit
 * code other than EXIT_OK on bad input. */
static int make_opts(struct args *a, const char *default_lifetime, struct certsdir_opts *o)
{
    struct pki_err err = {0, ""};
    int rc;

    memset(o, 0, sizeof(*o));
    rc = resolve_certs_dir(a);
    if (rc != EXIT_OK)
        return rc;
    if (a->ca_key == NULL)
        a->ca_key = getenv("PKICTL_CA_KEY");
    if (a->ca_key == NULL || a->ca_key[0] == '\0')
        return cli_usage_error("missing --ca-key=FILE (or set PKICTL_CA_KEY)");
    if (pki_duration_parse(a->lifetime ? a->lifetime : default_lifetime, &o->lifetime, &err) != 0 ||
        pki_key_spec_parse(a->key_type, a->key_size, &o->key_spec, &err) != 0)
        return cli_fail(&err);
    rc = clock_now(&o->now);
    o->certs_dir = a->certs_dir;
    o->ca_key_path = a->ca_key;
    o->overwrite = a->overwrite;
    o->allow_ca_key_reuse = a->reuse;
    o->pkcs8 = a->pkcs8;
    o->skip_key_mode_check = env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
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

/* Reports what a create command did, or why it did not. */
static int finish_create(int rc, struct pki_err *err, const struct certsdir_written *w)
{
    size_t i, len;

    if (rc != PKI_OK) {
        len = strlen(err->msg);
        if (err->code == PKI_ERR_EXISTS && strstr(err->msg, "--") == NULL)
            snprintf(err->msg + len, sizeof(err->msg) - len, " (pass --overwrite to replace it)");
        return cli_fail(err);
    }
    for (i = 0; i < w->n; i++)
        printf("wrote %s\n", w->paths[i]);
    return EXIT_OK;
}

/* ---- subcommands ------------------------------------------------------------ */

static int run_create_ca(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct certsdir_written w = {.n = 0};
    struct certsdir_opts o;
    int rc;

    if (a->npos > 0)
        return cli_usage_error("%s takes no arguments (got \"%s\")", sc->name, a->pos[0]);
    rc = make_opts(a, DEFAULT_CA_LIFETIME, &o);
    if (rc != EXIT_OK)
        return rc;
    say_if_slow(&o, o.allow_ca_key_reuse && access(o.ca_key_path, F_OK) == 0);
    return finish_create(certsdir_create_ca(&o, &w, &err), &err, &w);
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
    return finish_create(rc, &err, &w);
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
    return finish_create(certsdir_create_client(&o, a->pos[0], &w, &err), &err, &w);
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

    if (a->npos > 0)
        return cli_usage_error("%s takes no arguments (got \"%s\")", sc->name, a->pos[0]);
    if (a->format != NULL && strcmp(a->format, "table") != 0 && strcmp(a->format, "json") != 0) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown --format \"%s\" (use table or json)", a->format);
        return cli_fail(&err);
    }
    json = a->format != NULL && strcmp(a->format, "json") == 0;
    rc = resolve_certs_dir(a);
    if (rc == EXIT_OK)
        rc = clock_now(&now);
    if (rc != EXIT_OK)
        return rc;
    if (certsdir_list(a->certs_dir, now, env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK"), &l,
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
                      F_REUSE | F_HELP,
     run_create_ca,
     "Usage: pkictl cert create-ca [--certs-dir=DIR] [--ca-key=FILE] [flags]\n"
     "\n"
     "Creates a self-signed CA: its certificate goes first in DIR/ca.crt, its key to\n"
     "the --ca-key file (mode 0600; keep it outside the certs dir). With --overwrite\n"
     "over an existing ca.crt, the old CA certificates stay after the new one, so\n"
     "peers keep trusting them while nodes move to the new CA.\n"
     "\n"
     "Flags:\n"
     "  --certs-dir=DIR       certs dir (default $PKICTL_CERTS_DIR or $HOME/.pkictl-certs);\n"
     "                        it must exist\n"
     "  --ca-key=FILE         where the CA key goes (default $PKICTL_CA_KEY)\n"
     "  --allow-ca-key-reuse  if the --ca-key file exists, sign with that key\n"
     "  --overwrite           replace an existing ca.crt (keeping its old CAs after the new)\n"
     "  --lifetime=DUR        validity, e.g. 87840h (default, 10 years), 365d, 90m\n"
     "  --key-type=TYPE       rsa (default), ecdsa or ed25519\n"
     "  --key-size=N          rsa: 2048 (default), 3072, 4096, 8192; ecdsa: 256 (default),\n"
     "                        384, 521; not for ed25519\n"
     "  -h, --help            show this help\n"},
    {"create-node", LEAF_FLAGS, run_create_node,
     "Usage: pkictl cert create-node HOST... [--certs-dir=DIR] [--ca-key=FILE] [flags]\n"
     "\n"
     "Creates node.crt and node.key: CN=node, every HOST a Subject Alternative Name\n"
     "(IP literals as IP SANs, others as DNS names; a wildcard only as the whole\n"
     "leftmost label, as in *.dev.example.com), extended key usage serverAuth and\n"
     "clientAuth. Signed by the CA in ca.crt that matches --ca-key.\n"
     "\n"
     "Flags:\n"},
    {"create-client", LEAF_FLAGS, run_create_client,
     "Usage: pkictl cert create-client USER [--certs-dir=DIR] [--ca-key=FILE] [flags]\n"
     "\n"
     "Creates client.USER.crt and client.USER.key: CN=USER, extended key usage\n"
     "clientAuth. USER: 1-63 of A-Z a-z 0-9 _ . - @, starting with a letter, digit or _.\n"
     "\n"
     "Flags:\n"},
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
};

#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static const char cert_usage[] =
    "Usage: pkictl cert SUBCOMMAND [ARGS...] [FLAGS...]\n"
    "\n"
    "Subcommands:\n"
    "  create-ca      create the CA certificate (ca.crt) and key\n"
    "  create-node    create node.crt/node.key for the given hosts\n"
    "  create-client  create client.USER.crt/.key\n"
    "  list           list and check the certificates in the certs dir\n"
    "\n"
    "Run 'pkictl cert SUBCOMMAND --help' for its flags.\n";

static void print_help(const struct subcommand *sc)
{
    fputs(sc->help, stdout);
    if (sc->flags == LEAF_FLAGS)
        fputs(leaf_flags_help, stdout);
}

static const char *flag_name(int id)
{
    const struct option *o;

    for (o = long_options; o->name != NULL; o++)
        if (o->val == id)
            return o->name;
    return "?";
}

/* Stores one parsed flag; refuses one that this subcommand does not take. */
static int store_flag(const struct subcommand *sc, int id, struct args *a)
{
    if (!(sc->flags & (unsigned)id))
        return cli_usage_error("flag --%s does not apply to 'cert %s' (see --help)", flag_name(id),
                               sc->name);
    switch (id) {
    case F_CERTS_DIR: a->certs_dir = optarg; break;
    case F_CA_KEY: a->ca_key = optarg; break;
    case F_OVERWRITE: a->overwrite = 1; break;
    case F_LIFETIME: a->lifetime = optarg; break;
    case F_KEY_TYPE: a->key_type = optarg; break;
    case F_KEY_SIZE: a->key_size = optarg; break;
    case F_PKCS8: a->pkcs8 = 1; break;
    case F_REUSE: a->reuse = 1; break;
    case F_FORMAT: a->format = optarg; break;
    case F_HELP: a->help = 1; break;
    default: break;
    }
    return EXIT_OK;
}

static int parse_flags(const struct subcommand *sc, int argc, char **argv, struct args *a)
{
    int c, rc;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h')
            c = F_HELP;
        if (c == ':')
            return cli_usage_error("flag %s needs a value", argv[optind - 1]);
        if (c == '?')
            return cli_usage_error("unknown flag \"%s\" for 'cert %s' (see --help)",
                                   argv[optind - 1], sc->name);
        rc = store_flag(sc, c, a);
        if (rc != EXIT_OK)
            return rc;
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return EXIT_OK;
}

int cli_cert_main(int argc, char **argv)
{
    struct args a;
    size_t i;
    int rc;

    if (argc < 2)
        return cli_usage_error("missing subcommand: create-ca, create-node, create-client or "
                               "list (see pkictl cert --help)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(cert_usage, stdout);
        return EXIT_OK;
    }
    for (i = 0; i < NSUB; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            break;
    if (i == NSUB)
        return cli_usage_error("unknown command \"cert %s\" (see pkictl cert --help)", argv[1]);
    memset(&a, 0, sizeof(a));
    rc = parse_flags(&subcommands[i], argc - 1, argv + 1, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        print_help(&subcommands[i]);
        return EXIT_OK;
    }
    return subcommands[i].run(&subcommands[i], &a);
}
