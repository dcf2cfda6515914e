/* signfile.c - csr create, cert sign and cert bundle over user-named files. */
#include "signfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "chain.h"
#include "fsio.h"
#include "name.h"
#include "pem.h"
#include "subject.h"

/* ---- csr create -------------------------------------------------------- */

/* The SANs: each --san value may hold several, comma-separated; then the
 * four names a cluster FQDN implies. */
static int collect_sans(const struct csrfile_opts *o, struct pki_host *out, size_t *n,
                        struct pki_err *err)
{
    static const char *const fqdn_prefix[] = {"", "*.", "internal.", "*.internal."};
    char item[PKI_NAME_SAN_MAX + 16], *save = NULL, *tok, *copy;
    size_t i;
    int rc = PKI_OK;

    *n = 0;
    for (i = 0; i < o->nsans && rc == PKI_OK; i++) {
        size_t len = strlen(o->sans[i]);

        if (len == 0 || o->sans[i][0] == ',' || o->sans[i][len - 1] == ',' ||
            strstr(o->sans[i], ",,") != NULL)
            return pki_err_set(err, PKI_ERR_INPUT, "--san has an empty item (\"%.80s\")",
                               o->sans[i]);
        copy = strdup(o->sans[i]);
        if (copy == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        for (tok = strtok_r(copy, ",", &save); tok != NULL && rc == PKI_OK;
             tok = strtok_r(NULL, ",", &save)) {
            if (*n >= PKI_NAME_HOSTS_MAX)
                rc = pki_err_set(err, PKI_ERR_INPUT, "more than %d SANs", PKI_NAME_HOSTS_MAX);
            else if ((rc = pki_san_parse(tok, &out[*n], err)) == PKI_OK)
                (*n)++;
        }
        free(copy);
    }
    for (i = 0; o->cluster_fqdn != NULL && i < 4 && rc == PKI_OK; i++) {
        snprintf(item, sizeof(item), "dns:%s%.*s", fqdn_prefix[i], PKI_NAME_DNS_MAX,
                 o->cluster_fqdn);
        if ((rc = pki_san_parse(item, &out[*n], err)) == PKI_OK)
            (*n)++;
        else
            pki_err_prefix(err, "--cluster-fqdn");
    }
    return rc;
}

/* The subject: --subject, with CN=FQDN added for --cluster-fqdn if it has none. */
static X509_NAME *make_subject(const struct csrfile_opts *o, struct pki_err *err)
{
    X509_NAME *name = o->subject ? pki_subject_parse(o->subject, err) : X509_NAME_new();

    if (name == NULL)
        return NULL;
    if (o->cluster_fqdn != NULL && !pki_subject_has_cn(name) &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)o->cluster_fqdn, -1, -1, 0) != 1) {
        pki_err_set_ssl(err, PKI_ERR_INPUT, "--cluster-fqdn is not a valid CN");
        X509_NAME_free(name);
        return NULL;
    }
    return name;
}

static void default_key_out(const char *out, char *buf, size_t len)
{
    size_t n = strlen(out);

    if (n > 4 && strcmp(out + n - 4, ".csr") == 0)
        snprintf(buf, len, "%.*s.key", (int)(n - 4), out);
    else
        snprintf(buf, len, "%s.key", out);
}

int csrfile_create(const struct csrfile_opts *o, struct certsdir_written *w, struct pki_err *err)
{
    struct pki_buf key_pem = {NULL, 0}, csr_pem = {NULL, 0};
    struct pki_host *sans = calloc(PKI_NAME_HOSTS_MAX, sizeof(*sans));
    struct pki_csr_params p = {NULL, NULL, NULL, 0, PKI_USAGE_SERVER};
    struct fs_file files[2];
    char key_out[PATH_MAX];
    X509_NAME *subject = NULL;
    X509_REQ *req = NULL;
    size_t n = 0, nfiles = 0;
    int rc = sans ? PKI_OK : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");

    default_key_out(o->out, key_out, sizeof(key_out));
    if (rc == PKI_OK && o->usage != NULL)
        rc = pki_usage_parse(o->usage, &p.usage, err);
    else if (rc == PKI_OK && o->cluster_fqdn != NULL)
        p.usage = PKI_USAGE_BOTH;
    if (rc == PKI_OK)
        rc = collect_sans(o, sans, &n, err);
    if (rc == PKI_OK && (subject = make_subject(o, err)) == NULL)
        rc = err ? err->code : PKI_ERR_INPUT;
    if (rc == PKI_OK) {
        files[nfiles++] = (struct fs_file){o->out, &csr_pem, 0, o->overwrite};
        if (o->key_path == NULL)
            files[nfiles++] = (struct fs_file){o->key_out ? o->key_out : key_out, &key_pem, 1,
                                               o->overwrite};
        rc = fs_check_absent(files, nfiles, err);
    }
    if (rc == PKI_OK) {
        p.key = o->key_path ? certsdir_load_key(o->key_path, o->skip_key_mode_check, err)
                            : pki_key_generate(&o->key_spec, err);
        if (p.key == NULL)
            rc = err ? err->code : PKI_ERR_INTERNAL;
    }
    if (rc == PKI_OK) {
        p.subject = subject;
        p.sans = sans;
        p.nsans = n;
        req = pki_csr_create(&p, err);
        rc = req ? pki_csr_to_pem(req, &csr_pem, err) : (err ? err->code : PKI_ERR_INTERNAL);
    }
    if (rc == PKI_OK && o->key_path == NULL)
        rc = pki_key_to_pem(p.key, &key_pem, err);
    if (rc == PKI_OK)
        rc = fs_write_all(files, nfiles, err);
    if (rc == PKI_OK) {
        for (w->n = 0; w->n < nfiles; w->n++)
            snprintf(w->paths[w->n], sizeof(w->paths[0]), "%s", files[w->n].path);
    }
    X509_REQ_free(req);
    X509_NAME_free(subject);
    EVP_PKEY_free(p.key);
    pki_buf_free(&key_pem);
    pki_buf_free(&csr_pem);
    free(sans);
    return rc;
}

/* ---- cert sign --------------------------------------------------------- */

static X509_REQ *load_csr(const char *path, struct pki_err *err)
{
    struct pki_buf data = {NULL, 0};
    X509_REQ *req = NULL;

    if (fs_read_file(path, PKI_CSR_MAX, &data, NULL, err) == PKI_OK) {
        req = pki_csr_read(data.data, data.len, err);
        if (req == NULL)
            pki_err_prefix(err, "%s", path);
    }
    pki_buf_free(&data);
    return req;
}

/* The certificate, then the CA file's certificates that are not roots. */
static int chain_pem(X509 *cert, STACK_OF(X509) *ca_certs, struct pki_buf *out,
                     struct pki_err *err)
{
    int i, rc = pki_pem_append_cert(cert, out, err);

    for (i = 0; rc == PKI_OK && i < sk_X509_num(ca_certs); i++)
        if (!pki_chain_is_root(sk_X509_value(ca_certs, i)))
            rc = pki_pem_append_cert(sk_X509_value(ca_certs, i), out, err);
    return rc;
}

int signfile_sign(const struct signfile_opts *o, struct certsdir_written *w, struct pki_err *err)
{
    const struct fs_file target = {o->out, NULL, 0, o->overwrite};
    struct pki_buf pem = {NULL, 0};
    STACK_OF(X509) *ca_certs = NULL;
    EVP_PKEY *ca_key = NULL;
    X509_REQ *req = NULL;
    X509 *cert = NULL;
    int rc = fs_check_absent(&target, 1, err);

    w->n = 0;
    w->note[0] = '\0';

    if (rc == PKI_OK && (req = load_csr(o->csr_path, err)) == NULL)
        rc = err ? err->code : PKI_ERR_INPUT;
    if (rc == PKI_OK && (ca_certs = certsdir_load_certs(o->ca_cert_path, err)) == NULL)
        rc = err ? err->code : PKI_ERR_INPUT;
    if (rc == PKI_OK &&
        (ca_key = certsdir_load_key(o->ca_key_path, o->skip_key_mode_check, err)) == NULL)
        rc = err ? err->code : PKI_ERR_INPUT;
    if (rc == PKI_OK && !pki_key_matches_cert(ca_key, sk_X509_value(ca_certs, 0)))
        rc = pki_err_set(err, PKI_ERR_POLICY, "CA key %s does not match the first certificate "
                         "of %s", o->ca_key_path, o->ca_cert_path);
    if (rc == PKI_OK) {
        int64_t lifetime = o->lifetime;
        int capped = 0;

        if (lifetime == 0) /* the default ends with the CA at the latest */
            lifetime = pki_cert_cap_lifetime(sk_X509_value(ca_certs, 0), o->now,
                                             pki_profile_default_lifetime(o->profile), &capped);
        if (capped)
            snprintf(w->note, sizeof(w->note), "note: the default lifetime was shortened to end "
                     "with the CA certificate");
        cert = pki_profile_sign(req, o->profile, sk_X509_value(ca_certs, 0), ca_key, lifetime,
                                o->now, err);
        rc = cert ? chain_pem(cert, ca_certs, &pem, err) : (err ? err->code : PKI_ERR_INTERNAL);
    }
    if (rc == PKI_OK) {
        const struct fs_file f = {o->out, &pem, 0, o->overwrite};

        rc = fs_write_all(&f, 1, err);
    }
    if (rc == PKI_OK) {
        snprintf(w->paths[0], sizeof(w->paths[0]), "%s", o->out);
        w->n = 1;
    }
    X509_free(cert);
    X509_REQ_free(req);
    EVP_PKEY_free(ca_key);
    pki_certs_free(ca_certs);
    pki_buf_free(&pem);
    return rc;
}

/* ---- cert bundle ------------------------------------------------------- */

/* Every distinct certificate of every file, except copies of leaf; at most
 * PKI_PEM_CERTS_MAX of them. */
static STACK_OF(X509) *load_pool(X509 *leaf, const char *const *paths, size_t n,
                                 struct pki_err *err)
{
    STACK_OF(X509) *pool = sk_X509_new_null(), *certs;
    X509 *x;
    size_t i;

    for (i = 0; pool != NULL && i < n; i++) {
        certs = certsdir_load_certs(paths[i], err);
        if (certs == NULL) {
            pki_certs_free(pool);
            return NULL;
        }
        while ((x = sk_X509_shift(certs)) != NULL) {
            if (X509_cmp(x, leaf) == 0 || pki_certs_contain(pool, x)) { /* a copy adds nothing */
                X509_free(x);
            } else if (sk_X509_num(pool) >= PKI_PEM_CERTS_MAX || sk_X509_push(pool, x) <= 0) {
                X509_free(x);
                pki_certs_free(certs);
                pki_certs_free(pool);
                pki_err_set(err, PKI_ERR_INPUT, "more than %d certificates in the --chain-from "
                            "files", PKI_PEM_CERTS_MAX);
                return NULL;
            }
        }
        pki_certs_free(certs);
    }
    if (pool == NULL)
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    return pool;
}

int signfile_bundle(const char *cert_path, const char *const *chain_paths, size_t nchain,
                    struct pki_buf *out, struct pki_err *err)
{
    STACK_OF(X509) *leafs = certsdir_load_certs(cert_path, err), *pool = NULL, *chain = NULL;
    int i, rc = leafs ? PKI_OK : (err ? err->code : PKI_ERR_INPUT);

    if (rc == PKI_OK && (pool = load_pool(sk_X509_value(leafs, 0), chain_paths, nchain, err)) == NULL)
        rc = err ? err->code : PKI_ERR_INPUT;
    if (rc == PKI_OK)
        rc = pki_chain_build(sk_X509_value(leafs, 0), pool, 1, &chain, err);
    for (i = 0; rc == PKI_OK && i < sk_X509_num(chain); i++)
        rc = pki_pem_append_cert(sk_X509_value(chain, i), out, err);
    pki_certs_free(chain);
    pki_certs_free(pool);
    pki_certs_free(leafs);
    return rc;
}

/* ---- cert create-self-signed ---------------------------------------------- */

static const char *const selfsigned_types[] = {"cm", "api", "proxy", "syncer", "metrics"};
#define NTYPES (sizeof(selfsigned_types) / sizeof(selfsigned_types[0]))

/* Each domain and its wildcard, as SANs; the domains themselves in *list. */
static int selfsigned_sans(const char *domains, struct pki_host *sans, size_t *n, char *list,
                           size_t list_len, struct pki_err *err)
{
    char *copy = strdup(domains), *save = NULL, *tok, wild[PKI_NAME_DNS_MAX + 3];
    size_t count = 0;
    int rc = copy ? PKI_OK : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");

    list[0] = '\0';
    for (tok = copy ? strtok_r(copy, " ,\t", &save) : NULL; tok != NULL && rc == PKI_OK;
         tok = strtok_r(NULL, " ,\t", &save)) {
        if (count / 2 >= SELFSIGNED_DOMAINS_MAX)
            rc = pki_err_set(err, PKI_ERR_INPUT, "more than %d domains", SELFSIGNED_DOMAINS_MAX);
        else if (strchr(tok, '*') != NULL)
            rc = pki_err_set(err, PKI_ERR_INPUT, "domain \"%.80s\": give it without a wildcard "
                             "(*.DOMAIN is added for each domain)", tok);
        else if ((rc = pki_san_check(PKI_HOST_DNS, tok, &sans[count], err)) == PKI_OK) {
            snprintf(wild, sizeof(wild), "*.%s", tok);
            rc = pki_san_check(PKI_HOST_DNS, wild, &sans[count + 1], err);
            if (rc == PKI_OK)
                snprintf(list + strlen(list), list_len - strlen(list), "%s%s", count ? ", " : "",
                         tok);
            count += 2;
        }
    }
    free(copy);
    if (rc == PKI_OK && count == 0)
        rc = pki_err_set(err, PKI_ERR_INPUT, "--domains names no domain");
    *n = count;
    return rc;
}

/* Which types: a bit per entry of selfsigned_types. */
static int selfsigned_type_mask(const char *types, unsigned *mask, struct pki_err *err)
{
    size_t i;

    if (types == NULL || strcmp(types, "all") == 0) {
        *mask = (1u << NTYPES) - 1;
        return PKI_OK;
    }
    for (i = 0; i < NTYPES; i++) {
        if (strcmp(types, selfsigned_types[i]) == 0) {
            *mask = 1u << i;
            return PKI_OK;
        }
    }
    return pki_err_set(err, PKI_ERR_INPUT, "unknown --type \"%.40s\" (use cm, api, proxy, "
                       "syncer, metrics or all)", types);
}

/* One type's pair, encoded into key_pem and crt_pem. */
static int selfsigned_one(const struct selfsigned_opts *o, const struct pki_host *sans, size_t n,
                          struct pki_buf *key_pem, struct pki_buf *crt_pem, struct pki_err *err)
{
    struct pki_cert_params p;
    EVP_PKEY *key = pki_key_generate(&o->key_spec, err);
    X509 *cert = NULL;
    int rc = PKI_ERR_CRYPTO;

    if (key != NULL) {
        memset(&p, 0, sizeof(p));
        p.role = PKI_ROLE_NODE;
        p.common_name = sans[0].text;
        p.hosts = sans;
        p.nhosts = n;
        p.lifetime = (int64_t)o->days * 86400;
        p.now = o->now;
        p.subject_key = key;
        p.issuer_key = key;
        cert = pki_cert_issue(&p, err);
    }
    if (cert != NULL) {
        rc = pki_pem_append_cert(cert, crt_pem, err);
        if (rc == PKI_OK)
            rc = pki_key_to_pem(key, key_pem, err);
    } else if (err != NULL) {
        rc = err->code;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int selfsigned_create(const struct selfsigned_opts *o, char *summary, size_t len,
                      struct pki_err *err)
{
    struct pki_buf pems[2 * NTYPES];
    struct fs_file files[2 * NTYPES];
    char paths[2 * NTYPES][PATH_MAX], name[64], list[2048], done[64] = "";
    struct pki_host *sans = calloc(2 * SELFSIGNED_DOMAINS_MAX, sizeof(*sans));
    size_t i, n = 0, nfiles = 0;
    unsigned mask = 0;
    int rc = sans ? PKI_OK : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");

    memset(pems, 0, sizeof(pems));
    if (rc == PKI_OK && (o->days <= 0 || o->days > SELFSIGNED_DAYS_MAX))
        rc = pki_err_set(err, PKI_ERR_INPUT, "--days must be between 1 and %d",
                         SELFSIGNED_DAYS_MAX);
    if (rc == PKI_OK)
        rc = selfsigned_type_mask(o->types, &mask, err);
    if (rc == PKI_OK)
        rc = selfsigned_sans(o->domains, sans, &n, list, sizeof(list), err);
    if (rc == PKI_OK)
        rc = fs_check_dir(o->out_dir, "--out-dir", err);
    for (i = 0; rc == PKI_OK && i < NTYPES; i++) {
        if (!(mask & (1u << i)))
            continue;
        snprintf(name, sizeof(name), "%s_key.pem", selfsigned_types[i]);
        rc = fs_join(o->out_dir, name, paths[nfiles], sizeof(paths[0]), err);
        files[nfiles] = (struct fs_file){paths[nfiles], &pems[nfiles], 1, o->overwrite};
        snprintf(name, sizeof(name), "%s_cert.pem", selfsigned_types[i]);
        if (rc == PKI_OK)
            rc = fs_join(o->out_dir, name, paths[nfiles + 1], sizeof(paths[0]), err);
        files[nfiles + 1] = (struct fs_file){paths[nfiles + 1], &pems[nfiles + 1], 0, o->overwrite};
        snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s", nfiles ? ", " : "",
                 selfsigned_types[i]);
        nfiles += 2;
    }
    if (rc == PKI_OK)
        rc = fs_check_absent(files, nfiles, err);
    for (i = 0; rc == PKI_OK && i < nfiles; i += 2)
        rc = selfsigned_one(o, sans, n, &pems[i], &pems[i + 1], err);
    if (rc == PKI_OK)
        rc = fs_write_all(files, nfiles, err);
    if (rc == PKI_OK)
        snprintf(summary, len, "created %zu self-signed certificate%s (%s) in %s for %s, valid %d "
                 "days", nfiles / 2, nfiles > 2 ? "s" : "", done, o->out_dir, list, o->days);
    for (i = 0; i < 2 * NTYPES; i++)
        pki_buf_free(&pems[i]);
    free(sans);
    return rc;
}
