/* certsdir.c - loading the CA bundle and keys from a certs dir. */
#include "certsdir.h"

#include "buf.h"
#include "fsio.h"
#include "pem.h"

EVP_PKEY *certsdir_load_key(const char *path, int skip_mode_check, struct pki_err *err)
{
    struct pki_buf pem = {NULL, 0};
    EVP_PKEY *key = NULL;
    mode_t mode;

    if (fs_read_file(path, CERTSDIR_KEY_FILE_MAX, &pem, &mode, err) != PKI_OK)
        return NULL;
    if (!skip_mode_check && fs_check_key_mode(path, mode, err) != PKI_OK)
        goto out;
    key = pki_key_from_pem(pem.data, pem.len, err);
    if (key == NULL)
        pki_err_prefix(err, "%s", path);
out:
    pki_buf_free(&pem);
    return key;
}

STACK_OF(X509) *certsdir_load_certs(const char *path, struct pki_err *err)
{
    struct pki_buf pem = {NULL, 0};
    STACK_OF(X509) *certs = NULL;

    if (fs_read_file(path, PKI_PEM_FILE_MAX, &pem, NULL, err) == PKI_OK) {
        certs = pki_pem_read_certs(pem.data, pem.len, err);
        if (certs == NULL)
            pki_err_prefix(err, "%s", path);
    }
    pki_buf_free(&pem);
    return certs;
}

STACK_OF(X509) *certsdir_load_ca_bundle(const char *certs_dir, struct pki_err *err)
{
    char path[PATH_MAX];

    if (fs_join(certs_dir, CERTSDIR_CA_CERT, path, sizeof(path), err) != PKI_OK)
        return NULL;
    return certsdir_load_certs(path, err);
}
