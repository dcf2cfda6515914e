/* cmd_sign.c - `pkictl cert sign` and `pkictl cert bundle`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "fsio.h"
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
