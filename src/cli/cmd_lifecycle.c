/* cmd_lifecycle.c - `pkictl cluster renew|recover|rotate|rotate-key` and the
 * pieces `pkictl ca` shares with them: options, progress, reports
 * (docs/rotation.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "cluster.h"
#include "duration.h"
#include "lifecycle.h"

/* Progress on a terminal, and the crash tests' hook: PKICTL_TEST_KILL_AT=STEP
 * (or leaves:N) kills the process with SIGKILL when it reaches that step. */
static void on_step(void *ctx, const char *step, size_t done, size_t total)
{
    const char *kill_at = PKICTL_TEST_HOOKS ? getenv("PKICTL_TEST_KILL_AT") : NULL;
    char here[64];

    (void)ctx;
    snprintf(here, sizeof(here), "%s:%zu", step, done);
    if (kill_at != NULL && (strcmp(kill_at, step) == 0 || strcmp(kill_at, here) == 0)) {
        fflush(NULL);
        raise(SIGKILL);
    }
    if (strcmp(step, "leaves") == 0 && isatty(STDERR_FILENO)) {
        fprintf(stderr, "\rre-issuing leaves: %zu/%zu", done, total);
        if (done == total)
            fputc('\n', stderr);
    }
}

int cli_change_opts(const struct subcommand *sc, struct args *a,
                    struct cluster_change_opts *o)
{
    int rc = args_no_positional(sc, a);

    if (rc != EXIT_OK)
        return rc;
    if (a->dir == NULL)
        return cli_usage_error("%s needs --dir=DIR (the cluster folder)", sc->name);
    memset(o, 0, sizeof(*o));
    o->dir = a->dir;
    o->skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
    o->step = on_step;
    return args_clock(&o->now);
}

int cli_custom(struct args *a, struct cluster_custom *c, char *root, char *inter, size_t len)
{
    int rc = EXIT_OK;

    memset(c, 0, sizeof(*c));
    c->skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
    if (a->intermediate_ca != NULL && a->root_ca == NULL)
        return cli_usage_error("--intermediate-ca needs --root-ca");
    if (a->root_ca != NULL)
        rc = cli_split_pair("--root-ca", a->root_ca, root, len, &c->root_cert, &c->root_key);
    if (rc == EXIT_OK && a->intermediate_ca != NULL)
        rc = cli_split_pair("--intermediate-ca", a->intermediate_ca, inter, len, &c->inter_cert,
                            &c->inter_key);
    return rc;
}

/* One report line, escaped: it may quote a path, a name or a field of a file. */
static void report_line(FILE *out, const char *prefix, const char *text)
{
    fputs(prefix, out);
    cli_put_shown(out, text);
    fputc('\n', out);
}

int cli_finish_report(int rc, struct pki_err *err, struct cluster_report *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (r->lines[i].kind == 2)
            report_line(stderr, "  - ", r->lines[i].text);
        else if (r->lines[i].kind == 1)
            report_line(stderr, "warning: ", r->lines[i].text);
        else if (rc == PKI_OK) /* what was done: nothing, when it failed */
            report_line(stdout, "", r->lines[i].text);
    }
    cluster_report_free(r);
    fflush(stdout);
    /* cli_fail escapes the message too (every byte that is not printable ASCII) */
    return rc == PKI_OK ? EXIT_OK : cli_fail(err);
}

int cli_run_renew(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    int64_t within = CLUSTER_WITHIN_DEFAULT;
    int rc = cli_change_opts(sc, a, &o);

    if (rc != EXIT_OK)
        return rc;
    if (a->within != NULL && pki_duration_parse(a->within, &within, &err) != PKI_OK)
        return cli_fail(&err);
    return cli_finish_report(cluster_renew(&o, within, a->new_key, &r, &err), &err, &r);
}

int cli_run_recover(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    struct cluster_custom c;
    char root[2 * 4096], inter[2 * 4096];
    int rc = cli_change_opts(sc, a, &o);

    if (rc == EXIT_OK)
        rc = cli_custom(a, &c, root, inter, sizeof(root));
    if (rc != EXIT_OK)
        return rc;
    return cli_finish_report(cluster_recover(&o, &c, &r, &err), &err, &r);
}

int cli_run_rotate(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    const char *names[ARGS_LIST_MAX];
    char buf[4096], *p, *save = NULL;
    size_t n = 0;
    int rc = cli_change_opts(sc, a, &o);

    if (rc != EXIT_OK)
        return rc;
    if (a->service != NULL) {
        if (snprintf(buf, sizeof(buf), "%s", a->service) >= (int)sizeof(buf))
            return cli_usage_error("--service is too long");
        for (p = strtok_r(buf, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
            if (n == ARGS_LIST_MAX)
                return cli_usage_error("--service names more than %d leaves", ARGS_LIST_MAX);
            names[n++] = p;
        }
        if (n == 0)
            return cli_usage_error("--service needs at least one leaf name");
    }
    return cli_finish_report(cluster_rotate(&o, names, n, &r, &err), &err, &r);
}

int cli_run_rotate_key(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cluster_report r = {NULL, 0, 0, 0};
    struct cluster_change_opts o;
    long keep = -1;
    char *end;
    int rc = cli_change_opts(sc, a, &o);

    if (rc != EXIT_OK)
        return rc;
    if (a->name == NULL)
        return cli_usage_error("rotate-key needs --name=NAME (a plain key of the manifest)");
    if (a->keep != NULL) {
        errno = 0;
        keep = strtol(a->keep, &end, 10);
        if (errno != 0 || end == a->keep || *end != '\0' || keep < 0 || keep > 63)
            return cli_usage_error("--keep takes a number of previous keys from 0 to 63");
    }
    return cli_finish_report(cluster_rotate_key(&o, a->name, (int)keep, &r, &err), &err, &r);
}
