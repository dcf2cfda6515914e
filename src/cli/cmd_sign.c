/* cmd_sign.c - `pkictl cert sign`, `bundle`, `create-self-signed` and `install`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "fsio.h"
#include "duration.h"
#include "install.h"
#include "signfile.h"

int cli_run_sign(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct certsdir_written w = {.n = 0};
    struct signfile_opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    if (a->npos != 1)
        return cli_usage_error("%s needs exactly one CSR file (got %d arguments)", sc->name,
                               a->npos);
    if (a->ca_key == NULL)
        a->ca_key = getenv("PKICTL_CA_KEY");
    if (a->ca_cert == NULL || a->ca_key == NULL || a->profile == NULL || a->out == NULL)
        return cli_usage_error("%s needs --ca-cert, --ca-key, --profile and --out", sc->name);
    if (pki_profile_parse(a->profile, &o.profile, &err) != PKI_OK)
        return cli_fail(&err);
    if (a->lifetime != NULL && (rc = args_lifetime(a, NULL, &o.lifetime)) != EXIT_OK)
        return rc;
    rc = args_clock(&o.now);
    if (rc != EXIT_OK)
        return rc;
    o.csr_path = a->pos[0];
    o.ca_cert_path = a->ca_cert;
    o.ca_key_path = a->ca_key;
    o.out = a->out;
    o.overwrite = a->overwrite;
    o.skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
    return args_finish_write(signfile_sign(&o, &w, &err), &err, &w);
}

int cli_run_bundle(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct pki_buf pem = {NULL, 0};
    struct certsdir_written w = {.n = 0};
    int rc = args_no_positional(sc, a);

    if (rc != EXIT_OK)
        return rc;
    if (a->cert == NULL || a->nchain_from == 0)
        return cli_usage_error("%s needs --cert and at least one --chain-from", sc->name);
    if (a->out != NULL) {
        const struct fs_file target = {a->out, NULL, 0, a->overwrite};

        if (fs_check_absent(&target, 1, &err) != PKI_OK)
            return args_finish_write(err.code, &err, &w);
    }
    rc = signfile_bundle(a->cert, a->chain_from, (size_t)a->nchain_from, &pem, &err);
    if (rc == PKI_OK && a->out != NULL) {
        const struct fs_file f = {a->out, &pem, 0, a->overwrite};

        rc = fs_write_all(&f, 1, &err);
        w.n = 1;
        snprintf(w.paths[0], sizeof(w.paths[0]), "%s", a->out);
    } else if (rc == PKI_OK && fwrite(pem.data, 1, pem.len, stdout) != pem.len) {
        rc = pki_err_set(&err, PKI_ERR_IO, "cannot write to standard output");
    }
    pki_buf_free(&pem);
    return args_finish_write(rc, &err, &w);
}

int cli_run_self_signed(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct selfsigned_opts o;
    char summary[2600], *end;
    long days = 365;
    int rc = args_no_positional(sc, a);

    if (rc != EXIT_OK)
        return rc;
    if (a->domains == NULL)
        return cli_usage_error("%s needs --domains=\"a.example.com b.example.com\"", sc->name);
    if (a->days != NULL) {
        days = strtol(a->days, &end, 10);
        if (a->days[0] < '0' || a->days[0] > '9' || *end != '\0' || days <= 0 ||
            days > SELFSIGNED_DAYS_MAX) {
            pki_err_set(&err, PKI_ERR_INPUT, "--days must be a whole number from 1 to %d, not "
                        "\"%.20s\"", SELFSIGNED_DAYS_MAX, a->days);
            return cli_fail(&err);
        }
    }
    memset(&o, 0, sizeof(o));
    if (pki_key_spec_parse(a->key_type, a->key_size, &o.key_spec, &err) != PKI_OK)
        return cli_fail(&err);
    rc = args_clock(&o.now);
    if (rc != EXIT_OK)
        return rc;
    o.domains = a->domains;
    o.types = a->type;
    o.out_dir = a->out_dir ? a->out_dir : ".";
    o.days = (int)days;
    o.overwrite = a->overwrite;
    rc = selfsigned_create(&o, summary, sizeof(summary), &err);
    if (rc != PKI_OK)
        return args_finish_write(rc, &err, NULL);
    puts(summary);
    return EXIT_OK;
}

int cli_run_install(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct install_opts o;
    char summary[512];
    int rc;

    if (a->npos != 1)
        return cli_usage_error("%s needs exactly one slot NAME (got %d arguments)", sc->name,
                               a->npos);
    rc = args_certs_dir(a);
    if (rc != EXIT_OK)
        return rc;
    if (a->rollback) {
        if (a->cert || a->key || a->ca || a->min_validity)
            return cli_usage_error("--rollback takes only the slot NAME and --certs-dir");
        rc = install_rollback(a->certs_dir, a->pos[0], summary, sizeof(summary), &err);
    } else {
        if (a->cert == NULL || a->key == NULL)
            return cli_usage_error("%s needs --cert=FILE and --key=FILE (or --rollback)",
                                   sc->name);
        memset(&o, 0, sizeof(o));
        o.min_validity = INSTALL_MIN_VALIDITY_DEFAULT;
        if (a->min_validity != NULL) {
            if (strcmp(a->min_validity, "0") == 0)
                o.min_validity = 0;
            else if (pki_duration_parse(a->min_validity, &o.min_validity, &err) != PKI_OK)
                return cli_fail(&err);
        }
        rc = args_clock(&o.now);
        if (rc != EXIT_OK)
            return rc;
        o.certs_dir = a->certs_dir;
        o.name = a->pos[0];
        o.cert_path = a->cert;
        o.key_path = a->key;
        o.ca_path = a->ca;
        o.skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
        rc = install_cert(&o, summary, sizeof(summary), &err);
    }
    if (rc != PKI_OK)
        return cli_fail(&err);
    puts(summary);
    return EXIT_OK;
}
