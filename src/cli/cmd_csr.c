/* cmd_csr.c - `pkictl csr create`. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "signfile.h"

static int run_csr_create(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct certsdir_written w = {.n = 0};
    struct csrfile_opts o;
    int rc = args_no_positional(sc, a);

    if (rc != EXIT_OK)
        return rc;
    if ((a->key != NULL) == (a->new_key != 0))
        return cli_usage_error("csr create needs exactly one of --key=FILE and --new-key");
    if (a->out == NULL)
        return cli_usage_error("csr create needs --out=FILE");
    if (a->key != NULL && (a->key_out || a->key_type || a->key_size))
        return cli_usage_error("--key-out, --key-type and --key-size go with --new-key, not --key");
    if (a->subject == NULL && a->nsan == 0 && a->cluster_fqdn == NULL)
        return cli_usage_error("csr create needs --subject, --san or --cluster-fqdn");
    memset(&o, 0, sizeof(o));
    if (a->new_key && pki_key_spec_parse(a->key_type, a->key_size, &o.key_spec, &err) != PKI_OK)
        return cli_fail(&err);
    o.key_path = a->key;
    o.key_out = a->key_out;
    o.subject = a->subject;
    o.sans = a->san;
    o.nsans = (size_t)a->nsan;
    o.cluster_fqdn = a->cluster_fqdn;
    o.usage = a->usage;
    o.out = a->out;
    o.overwrite = a->overwrite;
    o.skip_key_mode_check = args_env_true("PKICTL_SKIP_KEY_PERMISSION_CHECK");
    return args_finish_write(csrfile_create(&o, &w, &err), &err, &w);
}

static const struct subcommand subcommands[] = {
    {"create", F_KEY | F_NEW_KEY | F_KEY_OUT | F_KEY_TYPE | F_KEY_SIZE | F_SUBJECT | F_SAN |
                   F_CLUSTER_FQDN | F_USAGE | F_OUT | F_OVERWRITE | F_HELP,
     run_csr_create,
     "Usage: pkictl csr create (--key=FILE | --new-key [--key-out=FILE]) [--subject=DN]\n"
     "                         [--san=TYPE:VALUE,...]... [--cluster-fqdn=FQDN]\n"
     "                         [--usage=server|client|both] --out=FILE [--overwrite]\n"
     "\n"
     "Writes a PKCS#10 certificate request (PEM) for your CA, or anyone's, to sign.\n"
     "\n"
     "Flags:\n"
     "  --key=FILE            sign the request with this existing key\n"
     "  --new-key             make a new key (written to --key-out, mode 0600)\n"
     "  --key-out=FILE        default: --out with .csr replaced by .key\n"
     "  --key-type=TYPE       with --new-key: rsa (default), ecdsa or ed25519\n"
     "  --key-size=N          with --new-key: rsa 2048 (default)/3072/4096/8192,\n"
     "                        ecdsa 256 (default)/384/521\n"
     "  --subject=DN          e.g. /C=US/ST=CA/L=SF/O=Example/OU=Ops/CN=db.example.com\n"
     "                        (C, ST, L, O, OU, CN; write a / inside a value as \\/)\n"
     "  --san=TYPE:VALUE      dns:NAME, ip:ADDR, uri:URI, email:ADDR; comma-separated\n"
     "                        and repeatable\n"
     "  --cluster-fqdn=FQDN   CN=FQDN and SANs FQDN, *.FQDN, internal.FQDN,\n"
     "                        *.internal.FQDN; usage both\n"
     "  --usage=USAGE         server (default), client or both: the EKU asked for\n"
     "  --out=FILE            where the request goes\n"
     "  --overwrite           replace existing files\n"
     "  -h, --help            show this help\n"},
};

static const char csr_usage[] =
    "Usage: pkictl csr SUBCOMMAND [FLAGS...]\n"
    "\n"
    "Subcommands:\n"
    "  create   write a certificate request (PKCS#10) for a CA to sign\n"
    "\n"
    "Run 'pkictl csr create --help' for its flags.\n";

int cli_csr_main(int argc, char **argv)
{
    return args_dispatch("csr", csr_usage, subcommands,
                         sizeof(subcommands) / sizeof(subcommands[0]), argc, argv);
}
