/* certsdir_list.c - listing and checking the certificates of a certs dir. */
#include "certsdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "chain.h"
#include "fsio.h"
#include "pem.h"

#define LIST_MAX_ENTRIES 4096

const char *certsdir_usage_name(enum certsdir_usage u)
{
    static const char *const names[] = {"Certificate Authority", "Node", "Client", "UI"};

    return names[u];
}

/* Adds one problem to a row; several are joined with "; ". */
static void add_error(struct certsdir_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_error(struct certsdir_entry *e, const char *fmt, ...)
{
    size_t len = strlen(e->error);
    va_list ap;

    if (len > 0 && len + 2 < sizeof(e->error)) {
        memcpy(e->error + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    vsnprintf(e->error + len, sizeof(e->error) - len, fmt, ap);
    va_end(ap);
}

/* ---- finding the rows ---------------------------------------------------- */

static struct certsdir_entry *find_or_add(struct certsdir_listing *l, enum certsdir_usage u,
                                          const char *user)
{
    struct certsdir_entry *e;
    size_t i;

    for (i = 0; i < l->n; i++)
        if (l->entries[i].usage == u && strcmp(l->entries[i].user, user) == 0)
            return &l->entries[i];
    if (l->n >= LIST_MAX_ENTRIES)
        return NULL;
    e = realloc(l->entries, (l->n + 1) * sizeof(*e));
    if (e == NULL)
        return NULL;
    l->entries = e;
    e = &l->entries[l->n++];
    memset(e, 0, sizeof(*e));
    e->usage = u;
    snprintf(e->user, sizeof(e->user), "%s", user);
    return e;
}

/* Recognises a file name; sets usage, user and whether it is a key. */
static int classify(const char *name, enum certsdir_usage *u, char *user, size_t ulen, int *is_key)
{
    size_t len = strlen(name);
    const char *ext;

    user[0] = '\0';
    if (strcmp(name, CERTSDIR_CA_CERT) == 0) {
        *u = CERTSDIR_CA;
        *is_key = 0;
        return 1;
    }
    ext = strrchr(name, '.');
    if (ext == NULL || (strcmp(ext, ".crt") != 0 && strcmp(ext, ".key") != 0))
        return 0;
    *is_key = strcmp(ext, ".key") == 0;
    if (strncmp(name, "node.", 5) == 0 && len == 8) {
        *u = CERTSDIR_NODE;
    } else if (strncmp(name, "ui.", 3) == 0 && len == 6) {
        *u = CERTSDIR_UI;
    } else if (strncmp(name, "client.", 7) == 0 && len > 11 &&
               (size_t)(ext - name) - 7 < ulen) {
        *u = CERTSDIR_CLIENT;
        memcpy(user, name + 7, (size_t)(ext - name) - 7);
        user[ext - name - 7] = '\0';
    } else {
        return 0;
    }
    return 1;
}

static int scan(const char *dir, struct certsdir_listing *l, struct pki_err *err)
{
    char user[PKI_NAME_USER_MAX + 1];
    struct certsdir_entry *e;
    enum certsdir_usage u;
    struct dirent *d;
    int is_key;
    DIR *dp = opendir(dir);

    if (dp == NULL)
        return pki_err_set(err, PKI_ERR_IO, "cannot read certs dir \"%s\": %s", dir,
                           strerror(errno));
    while ((d = readdir(dp)) != NULL) {
        if (!classify(d->d_name, &u, user, sizeof(user), &is_key))
            continue;
        e = find_or_add(l, u, user);
        if (e == NULL) {
            closedir(dp);
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory, or too many files");
        }
        snprintf(is_key ? e->key_file : e->cert_file, sizeof(e->cert_file), "%s", d->d_name);
    }
    closedir(dp);
    return PKI_OK;
}

static int entry_order(const void *a, const void *b)
{
    const struct certsdir_entry *x = a, *y = b;

    if (x->usage != y->usage)
        return (int)x->usage - (int)y->usage;
    return strcmp(x->user, y->user);
}

/* ---- checking one row ---------------------------------------------------- */

static void check_validity(struct certsdir_entry *e, X509 *cert, time_t now, const char *which,
                           int set_expiry)
{
    char when[40];
    time_t nb, na;

    if (pki_cert_validity(cert, &nb, &na, NULL) != PKI_OK) {
        add_error(e, "%smalformed validity dates", which);
        return;
    }
    if (set_expiry) {
        e->has_expiry = 1;
        e->expires = na;
    }
    if (now >= na) {
        pki_time_format(na, 0, when, sizeof(when));
        add_error(e, "%sexpired on %s", which, when);
    } else if (now < nb) {
        pki_time_format(nb, 0, when, sizeof(when));
        add_error(e, "%snot valid until %s", which, when);
    }
}

/* Loads a PEM certificate file; problems go in the row. */
static STACK_OF(X509) *load_certs(const char *dir, const char *file, struct certsdir_entry *e)
{
    struct pki_buf pem = {NULL, 0};
    STACK_OF(X509) *certs = NULL;
    struct pki_err err = {0, ""};
    char path[PATH_MAX];

    if (fs_join(dir, file, path, sizeof(path), &err) == PKI_OK &&
        fs_read_file(path, PKI_PEM_FILE_MAX, &pem, NULL, &err) == PKI_OK)
        certs = pki_pem_read_certs(pem.data, pem.len, &err);
    pki_buf_free(&pem);
    if (certs == NULL)
        add_error(e, "%s: %s", file, err.msg);
    return certs;
}

static void check_ca(struct certsdir_entry *e, STACK_OF(X509) *cas, const char *cas_error,
                     time_t now)
{
    char which[32] = "";
    int i;

    if (cas == NULL) {
        add_error(e, "%s", cas_error);
        return;
    }
    e->num_certs = (size_t)sk_X509_num(cas);
    snprintf(e->notes, sizeof(e->notes), "num certs: %zu", e->num_certs);
    for (i = 0; i < sk_X509_num(cas); i++) {
        if (i > 0)
            snprintf(which, sizeof(which), "certificate %d: ", i + 1);
        check_validity(e, sk_X509_value(cas, i), now, which, i == 0);
        if (!pki_cert_is_ca(sk_X509_value(cas, i)))
            add_error(e, "%snot a CA certificate", which);
    }
}

static void check_key(const char *dir, struct certsdir_entry *e, X509 *cert, int skip_mode)
{
    struct pki_err err = {0, ""};
    char path[PATH_MAX];
    EVP_PKEY *key;

    if (e->key_file[0] == '\0') {
        add_error(e, "key file is missing");
        return;
    }
    if (fs_join(dir, e->key_file, path, sizeof(path), &err) != PKI_OK) {
        add_error(e, "%s", err.msg);
        return;
    }
    key = certsdir_load_key(path, skip_mode, &err);
    if (key == NULL) {
        add_error(e, "%s", err.msg);
        return;
    }
    if (cert != NULL && !pki_key_matches_cert(key, cert))
        add_error(e, "%s does not match %s", e->key_file, e->cert_file);
    EVP_PKEY_free(key);
}

static void describe_leaf(struct certsdir_entry *e, X509 *cert)
{
    char cn[256];
    size_t i, len = 0;

    pki_cert_common_name(cert, cn, sizeof(cn));
    if (e->usage == CERTSDIR_CLIENT) {
        snprintf(e->notes, sizeof(e->notes), "user: %s", e->user);
        if (strcmp(cn, e->user) != 0)
            add_error(e, "CN is \"%s\", expected \"%s\"", cn, e->user);
        return;
    }
    e->addresses = calloc(PKI_NAME_HOSTS_MAX, sizeof(*e->addresses));
    if (e->addresses == NULL)
        return;
    e->naddresses = pki_cert_hosts(cert, e->addresses, PKI_NAME_HOSTS_MAX);
    len = (size_t)snprintf(e->notes, sizeof(e->notes), "addresses: ");
    for (i = 0; i < e->naddresses && len < sizeof(e->notes); i++)
        len += (size_t)snprintf(e->notes + len, sizeof(e->notes) - len, "%s%s", i ? "," : "",
                                e->addresses[i]);
}

static void check_leaf(const char *dir, struct certsdir_entry *e, STACK_OF(X509) *cas,
                       const char *cas_error, time_t now, int skip_mode)
{
    struct pki_err err = {0, ""};
    STACK_OF(X509) *certs = NULL;
    X509 *cert = NULL;

    if (e->cert_file[0] == '\0') {
        add_error(e, "no certificate for this key");
        return;
    }
    certs = load_certs(dir, e->cert_file, e);
    if (certs != NULL) {
        cert = sk_X509_value(certs, 0);
        describe_leaf(e, cert);
        check_validity(e, cert, now, "", 1);
    }
    check_key(dir, e, cert, skip_mode);
    if (cert != NULL && e->usage != CERTSDIR_UI) {
        if (cas == NULL)
            add_error(e, "cannot check the signature: %s", cas_error);
        /* The file's own intermediates may complete the chain to ca.crt. */
        else if (pki_chain_verify_with(cert, certs, cas, &err) != PKI_OK)
            add_error(e, "%s", err.msg);
    }
    pki_certs_free(certs);
}

int certsdir_list(const char *certs_dir, time_t now, int skip_key_mode_check,
                  struct certsdir_listing *out, struct pki_err *err)
{
    struct certsdir_listing l = {NULL, 0};
    struct pki_err ca_err = {0, ""};
    STACK_OF(X509) *cas;
    size_t i;
    int rc;

    rc = fs_check_dir(certs_dir, "certs dir", err);
    if (rc == PKI_OK)
        rc = scan(certs_dir, &l, err);
    if (rc != PKI_OK) {
        certsdir_listing_free(&l);
        return rc;
    }
    if (l.n > 1) /* qsort with a NULL base is undefined, even for 0 items */
        qsort(l.entries, l.n, sizeof(*l.entries), entry_order);
    cas = certsdir_load_ca_bundle(certs_dir, &ca_err);
    for (i = 0; i < l.n; i++) {
        if (l.entries[i].usage == CERTSDIR_CA)
            check_ca(&l.entries[i], cas, ca_err.msg, now);
        else
            check_leaf(certs_dir, &l.entries[i], cas, ca_err.msg, now, skip_key_mode_check);
    }
    pki_certs_free(cas);
    *out = l;
    return PKI_OK;
}

void certsdir_listing_free(struct certsdir_listing *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->entries[i].addresses);
    free(l->entries);
    l->entries = NULL;
    l->n = 0;
}
