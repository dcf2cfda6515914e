/* args.c - flag parsing and environment defaults shared by all commands. */
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"

static const struct option long_options[] = {
    {"certs-dir", required_argument, NULL, FI_CERTS_DIR},
    {"ca-key", required_argument, NULL, FI_CA_KEY},
    {"overwrite", no_argument, NULL, FI_OVERWRITE},
    {"lifetime", required_argument, NULL, FI_LIFETIME},
    {"key-type", required_argument, NULL, FI_KEY_TYPE},
    {"key-size", required_argument, NULL, FI_KEY_SIZE},
    {"also-generate-pkcs8-key", no_argument, NULL, FI_PKCS8},
    {"allow-ca-key-reuse", no_argument, NULL, FI_REUSE},
    {"format", required_argument, NULL, FI_FORMAT},
    {"help", no_argument, NULL, FI_HELP},
    {"parent-ca-cert", required_argument, NULL, FI_PARENT_CERT},
    {"parent-ca-key", required_argument, NULL, FI_PARENT_KEY},
    {"ca-cert", required_argument, NULL, FI_CA_CERT},
    {"profile", required_argument, NULL, FI_PROFILE},
    {"out", required_argument, NULL, FI_OUT},
    {"cert", required_argument, NULL, FI_CERT},
    {"chain-from", required_argument, NULL, FI_CHAIN_FROM},
    {"key", required_argument, NULL, FI_KEY},
    {"new-key", no_argument, NULL, FI_NEW_KEY},
    {"key-out", required_argument, NULL, FI_KEY_OUT},
    {"subject", required_argument, NULL, FI_SUBJECT},
    {"san", required_argument, NULL, FI_SAN},
    {"cluster-fqdn", required_argument, NULL, FI_CLUSTER_FQDN},
    {"usage", required_argument, NULL, FI_USAGE},
    {"domains", required_argument, NULL, FI_DOMAINS},
    {"days", required_argument, NULL, FI_DAYS},
    {"type", required_argument, NULL, FI_TYPE},
    {"out-dir", required_argument, NULL, FI_OUT_DIR},
    {"ca", required_argument, NULL, FI_CA},
    {"min-validity", required_argument, NULL, FI_MIN_VALIDITY},
    {"rollback", no_argument, NULL, FI_ROLLBACK},
    {"path-len", required_argument, NULL, FI_PATH_LEN},
    {"manifest", required_argument, NULL, FI_MANIFEST},
    {"dir", required_argument, NULL, FI_DIR},
    {"root-ca", required_argument, NULL, FI_ROOT_CA},
    {"intermediate-ca", required_argument, NULL, FI_INTERMEDIATE_CA},
    {"within", required_argument, NULL, FI_WITHIN},
    {"service", required_argument, NULL, FI_SERVICE},
    {"name", required_argument, NULL, FI_NAME},
    {"keep", required_argument, NULL, FI_KEEP},
    {"path", required_argument, NULL, FI_PATH},
    {"dry-run", no_argument, NULL, FI_DRY_RUN},
    {"force", no_argument, NULL, FI_FORCE},
    {"addr", required_argument, NULL, FI_ADDR},
    {"ca-file", required_argument, NULL, FI_CA_FILE},
    {"token", required_argument, NULL, FI_TOKEN},
    {"token-file", required_argument, NULL, FI_TOKEN_FILE},
    {"timeout", required_argument, NULL, FI_TIMEOUT},
    {"pem", no_argument, NULL, FI_PEM},
    {"policy", required_argument, NULL, FI_POLICY},
    {"description", required_argument, NULL, FI_DESCRIPTION},
    {"data-dir", required_argument, NULL, FI_DATA_DIR},
    {NULL, 0, NULL, 0},
};

int args_env_true(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                         strcmp(v, "TRUE") == 0 || strcmp(v, "yes") == 0);
}

int args_clock(time_t *now)
{
    const char *v = PKICTL_TEST_HOOKS ? getenv("PKICTL_NOW") : NULL;
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

int args_certs_dir(struct args *a)
{
    static char home_certs_dir[4096];
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

int args_lifetime(const struct args *a, const char *def, int64_t *seconds)
{
    struct pki_err err = {0, ""};

    if (pki_duration_parse(a->lifetime ? a->lifetime : def, seconds, &err) != PKI_OK)
        return cli_fail(&err);
    return EXIT_OK;
}

int args_finish_write(int rc, struct pki_err *err, const struct certsdir_written *w)
{
    size_t i, len;

    if (rc != PKI_OK) {
        len = strlen(err->msg);
        if (err->code == PKI_ERR_EXISTS && strstr(err->msg, "--") == NULL)
            snprintf(err->msg + len, sizeof(err->msg) - len, " (pass --overwrite to replace it)");
        return cli_fail(err);
    }
    for (i = 0; w != NULL && i < w->n; i++)
        printf("wrote %s\n", w->paths[i]);
    if (w != NULL && w->note[0] != '\0')
        printf("%s\n", w->note);
    return EXIT_OK;
}

int args_no_positional(const struct subcommand *sc, const struct args *a)
{
    if (a->npos > 0)
        return cli_usage_error("%s takes no arguments (got \"%s\")", sc->name, a->pos[0]);
    return EXIT_OK;
}

static const char *flag_name(int id)
{
    const struct option *o;

    for (o = long_options; o->name != NULL; o++)
        if (o->val == id)
            return o->name;
    return "?";
}

static int append(const char **list, int *n, const char *value, int id)
{
    if (*n >= ARGS_LIST_MAX)
        return cli_usage_error("--%s is given more than %d times", flag_name(id), ARGS_LIST_MAX);
    list[(*n)++] = value;
    return EXIT_OK;
}

/* Stores one parsed flag; refuses one that this subcommand does not take. */
static int store_flag(const char *family, const struct subcommand *sc, int id, struct args *a)
{
    if (id < 0 || id >= FI_COUNT || !(sc->flags & FLAG(id)))
        return cli_usage_error("flag --%s does not apply to '%s %s' (see --help)", flag_name(id),
                               family, sc->name);
    switch (id) {
    case FI_CERTS_DIR: a->certs_dir = optarg; break;
    case FI_CA_KEY: a->ca_key = optarg; break;
    case FI_OVERWRITE: a->overwrite = 1; break;
    case FI_LIFETIME: a->lifetime = optarg; break;
    case FI_KEY_TYPE: a->key_type = optarg; break;
    case FI_KEY_SIZE: a->key_size = optarg; break;
    case FI_PKCS8: a->pkcs8 = 1; break;
    case FI_REUSE: a->reuse = 1; break;
    case FI_FORMAT: a->format = optarg; break;
    case FI_HELP: a->help = 1; break;
    case FI_PARENT_CERT: a->parent_cert = optarg; break;
    case FI_PARENT_KEY: a->parent_key = optarg; break;
    case FI_CA_CERT: a->ca_cert = optarg; break;
    case FI_PROFILE: a->profile = optarg; break;
    case FI_OUT: a->out = optarg; break;
    case FI_CERT: a->cert = optarg; break;
    case FI_CHAIN_FROM: return append(a->chain_from, &a->nchain_from, optarg, id);
    case FI_KEY: a->key = optarg; break;
    case FI_NEW_KEY: a->new_key = 1; break;
    case FI_KEY_OUT: a->key_out = optarg; break;
    case FI_SUBJECT: a->subject = optarg; break;
    case FI_SAN: return append(a->san, &a->nsan, optarg, id);
    case FI_CLUSTER_FQDN: a->cluster_fqdn = optarg; break;
    case FI_USAGE: a->usage = optarg; break;
    case FI_DOMAINS: a->domains = optarg; break;
    case FI_DAYS: a->days = optarg; break;
    case FI_TYPE: a->type = optarg; break;
    case FI_OUT_DIR: a->out_dir = optarg; break;
    case FI_CA: a->ca = optarg; break;
    case FI_MIN_VALIDITY: a->min_validity = optarg; break;
    case FI_ROLLBACK: a->rollback = 1; break;
    case FI_PATH_LEN: a->path_len = optarg; break;
    case FI_MANIFEST: a->manifest = optarg; break;
    case FI_DIR: a->dir = optarg; break;
    case FI_ROOT_CA: a->root_ca = optarg; break;
    case FI_INTERMEDIATE_CA: a->intermediate_ca = optarg; break;
    case FI_WITHIN: a->within = optarg; break;
    case FI_SERVICE: a->service = optarg; break;
    case FI_NAME: a->name = optarg; break;
    case FI_KEEP: a->keep = optarg; break;
    case FI_PATH: a->path = optarg; break;
    case FI_DRY_RUN: a->dry_run = 1; break;
    case FI_FORCE: a->force = 1; break;
    case FI_ADDR: a->addr = optarg; break;
    case FI_CA_FILE: a->ca_file = optarg; break;
    case FI_TOKEN: a->token = optarg; break;
    case FI_TOKEN_FILE: a->token_file = optarg; break;
    case FI_TIMEOUT: a->timeout = optarg; break;
    case FI_PEM: a->pem = 1; break;
    case FI_POLICY: a->policy = optarg; break;
    case FI_DESCRIPTION: a->description = optarg; break;
    case FI_DATA_DIR: a->data_dir = optarg; break;
    default: break;
    }
    return EXIT_OK;
}

static int parse_flags(const char *family, const struct subcommand *sc, int argc, char **argv,
                       struct args *a)
{
    int c, rc;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h')
            c = FI_HELP;
        if (c == ':')
            return cli_usage_error("flag %s needs a value", argv[optind - 1]);
        if (c == '?')
            return cli_usage_error("unknown flag \"%s\" for '%s %s' (see --help)",
                                   argv[optind - 1], family, sc->name);
        rc = store_flag(family, sc, c, a);
        if (rc != EXIT_OK)
            return rc;
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return EXIT_OK;
}

int args_dispatch(const char *family, const char *family_usage, const struct subcommand *table,
                  size_t n, int argc, char **argv)
{
    struct args a;
    size_t i;
    int rc;

    if (argc < 2)
        return cli_usage_error("missing subcommand (see pkictl %s --help)", family);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(family_usage, stdout);
        return EXIT_OK;
    }
    for (i = 0; i < n; i++)
        if (strcmp(argv[1], table[i].name) == 0)
            break;
    if (i == n)
        return cli_usage_error("unknown command \"%s %s\" (see pkictl %s --help)", family,
                               argv[1], family);
    memset(&a, 0, sizeof(a));
    rc = parse_flags(family, &table[i], argc - 1, argv + 1, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(table[i].help, stdout);
        return EXIT_OK;
    }
    return table[i].run(&table[i], &a);
}
