/*
 * manifest.h - a declared cluster PKI (docs/manifest.md): its CAs, leaves
 * and plain keys, parsed strictly from JSON with every problem reported at
 * once. Built-in manifests for known layouts live here too.
 */
#ifndef PKI_MANIFEST_H
#define PKI_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "csr.h"
#include "err.h"
#include "key.h"
#include "name.h"

#define PKI_MANIFEST_MAX 1024 * 1024 /* bytes of JSON */
#define PKI_MANIFEST_ENTRIES_MAX 256 /* CAs, and plain keys */
#define PKI_MANIFEST_LEAVES_MAX 2000 /* leaves */
#define PKI_MANIFEST_DEPTH_MAX 8     /* levels of CAs */
#define PKI_MANIFEST_NAME_MAX 63
#define PKI_MANIFEST_PATH_MAX 255
#define PKI_MANIFEST_SUBJECT_MAX 1024

struct pki_manifest_ca {
    char name[PKI_MANIFEST_NAME_MAX + 1];
    char cert[PKI_MANIFEST_PATH_MAX + 1], key[PKI_MANIFEST_PATH_MAX + 1];
    char subject[PKI_MANIFEST_SUBJECT_MAX + 1];
    int parent;                    /* index in cas, or -1 */
    int depth;                     /* 0 for a CA without parent */
    int signs_ca;                  /* some CA names it as parent */
    struct pki_key_spec key_spec;
    int64_t lifetime;              /* seconds */
    int lifetime_is_default;
};

struct pki_manifest_leaf {
    char name[PKI_MANIFEST_NAME_MAX + 1];
    char cert[PKI_MANIFEST_PATH_MAX + 1], key[PKI_MANIFEST_PATH_MAX + 1];
    char subject[PKI_MANIFEST_SUBJECT_MAX + 1];
    int ca;                        /* index in cas */
    struct pki_host *sans;         /* owned */
    size_t nsans;
    enum pki_usage usage;
    struct pki_key_spec key_spec;
    int64_t lifetime;
    int lifetime_is_default;
};

struct pki_manifest_key {
    char name[PKI_MANIFEST_NAME_MAX + 1];
    char key[PKI_MANIFEST_PATH_MAX + 1];
    struct pki_key_spec key_spec;
};

struct pki_manifest {
    struct pki_manifest_ca *cas;
    size_t ncas;
    struct pki_manifest_leaf *leaves;
    size_t nleaves;
    struct pki_manifest_key *keys;
    size_t nkeys;
};

/* Parses and checks json. On failure err lists every problem found
 * ("3 problems: cas[1].name: ...; ...") and out is left empty. Free a
 * parsed manifest with pki_manifest_free. */
PKI_MUST_CHECK int pki_manifest_parse(const char *json, size_t len, struct pki_manifest *out,
                                      struct pki_err *err);

void pki_manifest_free(struct pki_manifest *m);

/* The JSON of a built-in manifest ("cockroach", "redis-enterprise", "k3s", "consul"), or NULL. */
const char *pki_manifest_builtin(const char *name);

/* The built-in names, comma-separated, for messages and help. */
const char *pki_manifest_builtin_names(void);

#endif
