/* ca_rotate.c - ca stage, rotate and prune (docs/rotation.md). */
#include "cluster_int.h"

int ca_stage(const struct cluster_change_opts *o, const char *out,
             const struct cluster_custom *custom, struct cluster_report *r,
             char token[CA_TOKEN_MAX], struct pki_err *err)
{
    (void)o; (void)out; (void)custom; (void)r; (void)token;
    return pki_err_set(err, PKI_ERR_INTERNAL, "not yet");
}

int ca_rotate(const struct cluster_change_opts *o, const char *staging, int dry_run, int force,
              struct cluster_report *r, struct pki_err *err)
{
    (void)o; (void)staging; (void)dry_run; (void)force; (void)r;
    return pki_err_set(err, PKI_ERR_INTERNAL, "not yet");
}

int ca_prune(const struct cluster_change_opts *o, struct cluster_report *r, struct pki_err *err)
{
    (void)o; (void)r;
    return pki_err_set(err, PKI_ERR_INTERNAL, "not yet");
}
