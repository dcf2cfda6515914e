/* cmd_cluster.c - `pkictl cluster init|status|profile` (docs/manifest.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "buf.h"
#include "cert.h"
#include "cli.h"
#include "cluster.h"
#include "duration.h"
#include "fsio.h"

int cli_split_pair(const char *flag, const char *value, char *buf, size_t len,
                      const char **cert, const char **key)
{
    char *comma;

    struct pki_err err = {0, ""};

    if (snprintf(buf, len, "%s", value) >= (int)len || (comma = strchr(buf, ',')) == NULL ||
        comma == buf || comma[1] == '\0' || strchr(comma + 1, ',') != NULL) {
        pki_err_set(&err, PKI_ERR_INPUT, "%s takes CERT,KEY (two paths and one comma)", flag);
        return cli_fail(&err);
    }
    *comma = '\0';
    *cert = buf;
    *key = comma + 1;
    return EXIT_OK;
}

static int run_init(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct pki_buf text = {NULL, 0};
    struct cluster_init_opts o;
    char root[2 * 4096], inter[2 * 4096];
    const char *builtin = NULL;
    struct cluster_written w = {NULL, 0};
    size_t i;
    int rc = args_no_positional(sc, a);

    if (rc != EXIT_OK)
        return rc;
    if ((a->profile == NULL) == (a->manifest == NULL))
        return cli_usage_error("cluster init needs exactly one of --profile=NAME and "
                               "--manifest=FILE");
    if (a->dir == NULL)
        return cli_usage_error("cluster init needs --dir=DIR");
    if (a->intermediate_ca != NULL && a->root_ca == NULL)
        return cli_usage_error("--intermediate-ca needs --root-ca");
    memset(&o, 0, sizeof(o));
    if (a->root_ca != NULL &&
        (rc = cli_split_pair("--root-ca", a->root_ca, root, sizeof(root), &o.custom.root_cert, &o.custom.root_key)))
        return rc;
    if (a->intermediate_ca != NULL &&
        (rc = cli_split_pair("--intermediate-ca", a->intermediate_ca, inter, sizeof(inter),
                         &o.custom.inter_cert, &o.custom.inter_key)))
        return rc;
    if (a->profile != NULL && (builtin = pki_manifest_builtin(a->profile)) == NULL) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown profile \"%.40s\" (built in: %s)", a->profile,
                    pki_manifest_builtin_names());
        return cli_fail(&err);
    }
    if (builtin == NULL && fs_read_file(a->manifest, PKI_MANIFEST_MAX, &text, NULL, &err) != PKI_OK)
        return cli_fail(&err);
    rc = args_clock(&o.now);
    if (rc != EXIT_OK) {
        pki_buf_free(&text);
        return rc;
    }
    o.dir = a->dir;
    o.manifest_json = builtin ? builtin : (const char *)text.data;
    o.manifest_len = builtin ? strlen(builtin) : text.len;
    o.custom.skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
    rc = cluster_init(&o, &w, &err);
    pki_buf_free(&text);
    if (rc != PKI_OK)
        return cli_fail(&err);
    for (i = 0; i < w.n; i++) {
        fputs("wrote ", stdout);
        cli_put_shown(stdout, w.paths[i]);
        fputc('\n', stdout);
    }
    printf("created %zu files in ", w.n);
    cli_put_shown(stdout, a->dir);
    printf(" (the manifest is kept as %s)\n", CLUSTER_MANIFEST_FILE);
    cluster_written_free(&w);
    return EXIT_OK;
}

static void print_table(const char *dir, const struct cluster_status *s, time_t now)
{
    char when[32], left[32], line[1024 + PKI_ERR_MSG_MAX];
    size_t i;

    /* Paths, names and details come from files and the command line: each line
     * is shown with cli_put_shown, so none can drive the terminal. */
    fputs("Cluster: ", stdout);
    cli_put_shown(stdout, dir);
    fputc('\n', stdout);
    printf("%-28s %-4s %-36s %-18s %-10s %-9s %-13s %s\n", "Name", "Kind", "File", "Signed by",
           "Expires", "Left", "Verdict", "Detail");
    for (i = 0; i < s->n; i++) {
        const struct cluster_row *r = &s->rows[i];

        when[0] = left[0] = '\0';
        if (r->has_expiry) {
            pki_time_format(r->expires, 1, when, sizeof(when));
            if (r->expires > now)
                snprintf(left, sizeof(left), "%lldd", (long long)((r->expires - now) / 86400));
            else
                snprintf(left, sizeof(left), "-");
        }
        snprintf(line, sizeof(line), "%-28s %-4s %-36s %-18s %-10s %-9s %-13s %s", r->name,
                 r->is_ca ? "ca" : "leaf", r->file, r->signer[0] ? r->signer : "-", when, left,
                 r->verdict, r->detail);
        cli_put_shown(stdout, line);
        fputc('\n', stdout);
    }
}

static int print_json(const char *dir, const struct cluster_status *s, time_t now)
{
    json_t *root = json_object(), *arr = json_array();
    char when[32];
    size_t i;
    int rc = EXIT_OK;

    json_object_set_new(root, "dir", json_string(dir));
    for (i = 0; i < s->n; i++) {
        const struct cluster_row *r = &s->rows[i];
        json_t *o = json_object();

        pki_time_format(r->expires, 2, when, sizeof(when));
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "kind", json_string(r->is_ca ? "ca" : "leaf"));
        json_object_set_new(o, "file", json_string(r->file));
        json_object_set_new(o, "ca", r->signer[0] ? json_string(r->signer) : json_null());
        json_object_set_new(o, "expires", r->has_expiry ? json_string(when) : json_null());
        json_object_set_new(o, "seconds_left", r->has_expiry
                                                   ? json_integer((json_int_t)(r->expires - now))
                                                   : json_null());
        json_object_set_new(o, "verdict", json_string(r->verdict));
        json_object_set_new(o, "detail", json_string(r->detail));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "certificates", arr);
    if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        rc = EXIT_FAILED;
    putchar('\n');
    json_decref(root);
    return rc;
}

static int run_status(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_status s = {NULL, 0};
    int64_t within = CLUSTER_WITHIN_DEFAULT;
    time_t now;
    size_t i;
    int rc = args_no_positional(sc, a), json;

    if (rc != EXIT_OK)
        return rc;
    if (a->dir == NULL)
        return cli_usage_error("cluster status needs --dir=DIR");
    if (a->format != NULL && strcmp(a->format, "table") != 0 && strcmp(a->format, "json") != 0) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown --format \"%s\" (use table or json)", a->format);
        return cli_fail(&err);
    }
    json = a->format != NULL && strcmp(a->format, "json") == 0;
    if (a->within != NULL && pki_duration_parse(a->within, &within, &err) != PKI_OK)
        return cli_fail(&err);
    rc = args_clock(&now);
    if (rc != EXIT_OK)
        return rc;
    if (cluster_status(a->dir, now, within, &s, &err) != PKI_OK)
        return cli_fail(&err);
    if (json)
        rc = print_json(a->dir, &s, now);
    else
        print_table(a->dir, &s, now);
    for (i = 0; rc == EXIT_OK && i < s.n; i++)
        if (strcmp(s.rows[i].verdict, "ok") != 0)
            rc = EXIT_PROBLEMS;
    cluster_status_free(&s);
    return rc;
}

static int run_profile(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    const char *json;

    if (a->npos != 1)
        return cli_usage_error("%s needs one profile NAME (%s)", sc->name,
                               pki_manifest_builtin_names());
    json = pki_manifest_builtin(a->pos[0]);
    if (json == NULL) {
        pki_err_set(&err, PKI_ERR_INPUT, "unknown profile \"%.40s\" (built in: %s)", a->pos[0],
                    pki_manifest_builtin_names());
        return cli_fail(&err);
    }
    fputs(json, stdout);
    return EXIT_OK;
}

static const struct subcommand subcommands[] = {
    {"init", F_PROFILE | F_MANIFEST | F_DIR | F_ROOT_CA | F_INTERMEDIATE_CA | F_HELP, run_init,
     "Usage: pkictl cluster init (--profile=NAME | --manifest=FILE) --dir=DIR\n"
     "                           [--root-ca=CERT,KEY [--intermediate-ca=CERT,KEY]]\n"
     "\n"
     "Creates every CA, leaf certificate and key a manifest declares (docs/manifest.md)\n"
     "under DIR, as one change, and keeps the manifest as DIR/pkictl-cluster.json.\n"
     "Nothing is written if the manifest has a problem (all are listed) or a file exists.\n"
     "\n"
     "Flags:\n"
     "  --profile=NAME        a built-in manifest: cockroach, redis-enterprise, k3s,\n"
     "                        consul\n"
     "  --manifest=FILE       your own manifest (JSON)\n"
     "  --dir=DIR             the cluster folder; it must exist\n"
     "  --root-ca=CERT,KEY    sign the cluster's top CAs with this root ...\n"
     "  --intermediate-ca=CERT,KEY  ... or with this intermediate under it\n"
     "  -h, --help            show this help\n"},
    {"status", F_DIR | F_WITHIN | F_FORMAT | F_HELP, run_status,
     "Usage: pkictl cluster status --dir=DIR [--within=DUR] [--format=table|json]\n"
     "\n"
     "Checks every declared certificate: ok, renew soon, expired, not yet valid, missing,\n"
     "unreadable, key mismatch, broken chain, or drift (SANs differ from the manifest).\n"
     "Exit status 3 when any is not ok.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  --within=DUR          'renew soon' window (default 90d)\n"
     "  --format=FORMAT       table (default) or json\n"
     "  -h, --help            show this help\n"},
    {"renew", F_DIR | F_WITHIN | F_NEW_KEY | F_HELP, cli_run_renew,
     "Usage: pkictl cluster renew --dir=DIR [--within=DUR] [--new-key]\n"
     "\n"
     "Renews every leaf that is missing, expired, expires within DUR, whose SANs differ\n"
     "from the manifest (drift), or that its CA's current certificate did not sign.\n"
     "Names, usages and keys are kept. Idempotent: run it at every service start.\n"
     "CA certificates are never renewed: a CA that expires soon gets a warning.\n"
     "All files change in one atomic step (docs/rotation.md).\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  --within=DUR          renew what expires within DUR (default 90d)\n"
     "  --new-key             give renewed leaves new keys (also replaces bad key files)\n"
     "  -h, --help            show this help\n"},
    {"recover", F_DIR | F_ROOT_CA | F_INTERMEDIATE_CA | F_HELP, cli_run_recover,
     "Usage: pkictl cluster recover --dir=DIR [--root-ca=CERT,KEY [--intermediate-ca=CERT,KEY]]\n"
     "\n"
     "For the day everything has expired: re-issues every CA with its existing key and\n"
     "subject (so trust anchors peers hold keep working by key), then every leaf.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  --root-ca=CERT,KEY    re-sign CAs that sit under a custom root with it ...\n"
     "  --intermediate-ca=CERT,KEY  ... or with this intermediate under it\n"
     "  -h, --help            show this help\n"},
    {"rotate", F_DIR | F_SERVICE | F_HELP, cli_run_rotate,
     "Usage: pkictl cluster rotate --dir=DIR [--service=NAME[,NAME...]]\n"
     "\n"
     "Re-issues the named leaves (every leaf if none is named) with new keys.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  --service=NAMES       leaf names from the manifest, separated by commas\n"
     "  -h, --help            show this help\n"},
    {"rotate-key", F_DIR | F_NAME | F_KEEP | F_HELP, cli_run_rotate_key,
     "Usage: pkictl cluster rotate-key --dir=DIR --name=NAME [--keep=N]\n"
     "\n"
     "Writes a new key first in a plain key's PEM file (a service-account key) and keeps\n"
     "the previous keys after it, so tokens they signed stay valid.\n"
     "\n"
     "Flags:\n"
     "  --dir=DIR             the cluster folder\n"
     "  --name=NAME           the key's name in the manifest's \"keys\"\n"
     "  --keep=N              keep at most N previous keys (default: all; 64 keys at most)\n"
     "  -h, --help            show this help\n"},
    {"profile", F_HELP, run_profile,
     "Usage: pkictl cluster profile NAME\n"
     "\n"
     "Prints a built-in manifest (cockroach, redis-enterprise, k3s, consul), a start\n"
     "for your own.\n"},
};

static const char cluster_usage[] =
    "Usage: pkictl cluster SUBCOMMAND [FLAGS...]\n"
    "\n"
    "Subcommands:\n"
    "  init      create a declared cluster PKI from a profile or manifest\n"
    "  status    check every declared certificate\n"
    "  renew     renew leaves that expire soon or drifted (run it at start-up)\n"
    "  recover   re-issue expired CAs with their keys, then every leaf\n"
    "  rotate    re-issue leaves with new keys\n"
    "  rotate-key  rotate a plain signing key, keeping the previous ones\n"
    "  profile   print a built-in manifest\n"
    "\n"
    "Run 'pkictl cluster SUBCOMMAND --help' for its flags.\n";

int cli_cluster_main(int argc, char **argv)
{
    return args_dispatch("cluster", cluster_usage, subcommands,
                         sizeof(subcommands) / sizeof(subcommands[0]), argc, argv);
}
