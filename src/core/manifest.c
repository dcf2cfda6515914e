/* manifest.c - strict parsing and checking of cluster manifests. */
#include "manifest.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "subject.h"

/* Every problem found, joined into one message. */
struct problems {
    char text[PKI_ERR_MSG_MAX];
    int n;
};

static void problem(struct problems *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct problems *pr, const char *fmt, ...)
{
    size_t len = strlen(pr->text);
    va_list ap;

    pr->n++;
    if (len + 8 >= sizeof(pr->text))
        return;
    if (len > 0) {
        memcpy(pr->text + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    vsnprintf(pr->text + len, sizeof(pr->text) - len, fmt, ap);
    va_end(ap);
}

/* ---- fields --------------------------------------------------------------- */

/* Refuses keys of obj that are not in allowed (NULL-terminated). */
static void check_keys(json_t *obj, const char *where, const char *const *allowed,
                       struct problems *pr)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach(obj, key, v) {
        for (i = 0; allowed[i] != NULL && strcmp(allowed[i], key) != 0; i++)
            ;
        if (allowed[i] == NULL)
            problem(pr, "%s: unknown field \"%.40s\"", where, key);
    }
}

/* Copies a required (or optional) string field into out; reports problems. */
static int get_string(json_t *obj, const char *where, const char *field, int required, char *out,
                      size_t len, struct problems *pr)
{
    json_t *v = json_object_get(obj, field);

    out[0] = '\0';
    if (v == NULL) {
        if (required)
            problem(pr, "%s: missing \"%s\"", where, field);
        return 0;
    }
    if (!json_is_string(v)) {
        problem(pr, "%s.%s: must be a string", where, field);
        return 0;
    }
    if (json_string_length(v) == 0 || json_string_length(v) >= len) {
        problem(pr, "%s.%s: empty or longer than %zu characters", where, field, len - 1);
        return 0;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 1;
}

static void check_name(const char *where, const char *name, struct problems *pr)
{
    size_t i;

    for (i = 0; name[i] != '\0'; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '.' || c == '_' || c == '-')))) {
            problem(pr, "%s.name: \"%.40s\" must be [a-z0-9][a-z0-9._-]*", where, name);
            return;
        }
    }
}

/* A path inside the cluster folder: relative, no "..", no empty parts. */
static void check_path(const char *where, const char *field, const char *path, struct problems *pr)
{
    const char *p = path;
    size_t i;

    for (i = 0; path[i] != '\0'; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f || path[i] == '\\') {
            problem(pr, "%s.%s: control character or backslash in \"%.40s\"", where, field, path);
            return;
        }
    if (path[0] == '/') {
        problem(pr, "%s.%s: \"%.80s\" must be relative to the cluster folder", where, field, path);
        return;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, "/");

        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            problem(pr, "%s.%s: \"%.80s\" has an empty, \".\" or \"..\" part", where, field,
                    path);
            return;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    if (path[strlen(path) - 1] == '/')
        problem(pr, "%s.%s: \"%.80s\" names a folder", where, field, path);
}

static void check_subject(const char *where, const char *subject, struct problems *pr)
{
    struct pki_err err = {0, ""};
    X509_NAME *name = pki_subject_parse(subject, &err);

    if (name == NULL)
        problem(pr, "%s.subject: %s", where, err.msg);
    X509_NAME_free(name);
}

static void get_key_spec(json_t *obj, const char *where, const char *def_type,
                         struct pki_key_spec *out, struct problems *pr)
{
    char type[16] = "", size[16];
    json_t *v = json_object_get(obj, "key_size");
    struct pki_err err = {0, ""};

    if (!get_string(obj, where, "key_type", 0, type, sizeof(type), pr) &&
        json_object_get(obj, "key_type") != NULL)
        return;
    if (v != NULL && (!json_is_integer(v) || json_integer_value(v) <= 0 ||
                      json_integer_value(v) > 65536)) {
        problem(pr, "%s.key_size: must be a positive integer", where);
        return;
    }
    if (v != NULL)
        snprintf(size, sizeof(size), "%lld", (long long)json_integer_value(v));
    if (pki_key_spec_parse(type[0] ? type : def_type, v ? size : NULL, out, &err) != PKI_OK)
        problem(pr, "%s: %s", where, err.msg);
}

static void get_lifetime(json_t *obj, const char *where, const char *def, int64_t *out,
                         int *is_default, struct problems *pr)
{
    char text[64];
    struct pki_err err = {0, ""};

    *is_default = !get_string(obj, where, "lifetime", 0, text, sizeof(text), pr);
    if (*is_default && json_object_get(obj, "lifetime") != NULL)
        return;
    if (pki_duration_parse(*is_default ? def : text, out, &err) != PKI_OK)
        problem(pr, "%s.lifetime: %s", where, err.msg);
}

/* ---- entries ---------------------------------------------------------------- */

static const char *const ca_fields[] = {"name", "cert", "key", "subject", "parent", "key_type",
                                        "key_size", "lifetime", NULL};
static const char *const leaf_fields[] = {"name", "ca", "cert", "key", "subject", "sans",
                                          "usage", "key_type", "key_size", "lifetime", NULL};
static const char *const key_fields[] = {"name", "key", "key_type", "key_size", NULL};

static void parse_ca(json_t *o, const char *where, struct pki_manifest_ca *ca, char *parent,
                     struct problems *pr)
{
    check_keys(o, where, ca_fields, pr);
    if (get_string(o, where, "name", 1, ca->name, sizeof(ca->name), pr))
        check_name(where, ca->name, pr);
    if (get_string(o, where, "cert", 1, ca->cert, sizeof(ca->cert), pr))
        check_path(where, "cert", ca->cert, pr);
    if (get_string(o, where, "key", 1, ca->key, sizeof(ca->key), pr))
        check_path(where, "key", ca->key, pr);
    if (get_string(o, where, "subject", 1, ca->subject, sizeof(ca->subject), pr))
        check_subject(where, ca->subject, pr);
    get_string(o, where, "parent", 0, parent, PKI_MANIFEST_NAME_MAX + 1, pr);
    get_key_spec(o, where, "ecdsa", &ca->key_spec, pr);
    get_lifetime(o, where, "87840h", &ca->lifetime, &ca->lifetime_is_default, pr);
}

static void parse_sans(json_t *o, const char *where, struct pki_manifest_leaf *leaf,
                       struct problems *pr)
{
    json_t *arr = json_object_get(o, "sans"), *v;
    struct pki_err err = {0, ""};
    size_t i;

    if (arr == NULL)
        return;
    if (!json_is_array(arr) || json_array_size(arr) > PKI_NAME_HOSTS_MAX) {
        problem(pr, "%s.sans: must be an array of at most %d strings", where, PKI_NAME_HOSTS_MAX);
        return;
    }
    leaf->sans = calloc(json_array_size(arr) + 1, sizeof(*leaf->sans));
    if (leaf->sans == NULL) {
        problem(pr, "out of memory");
        return;
    }
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            problem(pr, "%s.sans[%zu]: must be a string", where, i);
        else if (pki_san_parse(json_string_value(v), &leaf->sans[leaf->nsans], &err) != PKI_OK)
            problem(pr, "%s.sans[%zu]: %s", where, i, err.msg);
        else
            leaf->nsans++;
    }
}

static void parse_leaf(json_t *o, const char *where, struct pki_manifest_leaf *leaf, char *ca,
                       struct problems *pr)
{
    char usage[16];
    struct pki_err err = {0, ""};

    check_keys(o, where, leaf_fields, pr);
    if (get_string(o, where, "name", 1, leaf->name, sizeof(leaf->name), pr))
        check_name(where, leaf->name, pr);
    get_string(o, where, "ca", 1, ca, PKI_MANIFEST_NAME_MAX + 1, pr);
    if (get_string(o, where, "cert", 1, leaf->cert, sizeof(leaf->cert), pr))
        check_path(where, "cert", leaf->cert, pr);
    if (get_string(o, where, "key", 1, leaf->key, sizeof(leaf->key), pr))
        check_path(where, "key", leaf->key, pr);
    if (get_string(o, where, "subject", 1, leaf->subject, sizeof(leaf->subject), pr))
        check_subject(where, leaf->subject, pr);
    parse_sans(o, where, leaf, pr);
    if (get_string(o, where, "usage", 1, usage, sizeof(usage), pr) &&
        pki_usage_parse(usage, &leaf->usage, &err) != PKI_OK)
        problem(pr, "%s.usage: %s", where, err.msg);
    get_key_spec(o, where, "ecdsa", &leaf->key_spec, pr);
    get_lifetime(o, where, "8760h", &leaf->lifetime, &leaf->lifetime_is_default, pr);
}

static void parse_key(json_t *o, const char *where, struct pki_manifest_key *k,
                      struct problems *pr)
{
    check_keys(o, where, key_fields, pr);
    if (get_string(o, where, "name", 1, k->name, sizeof(k->name), pr))
        check_name(where, k->name, pr);
    if (get_string(o, where, "key", 1, k->key, sizeof(k->key), pr))
        check_path(where, "key", k->key, pr);
    get_key_spec(o, where, "rsa", &k->key_spec, pr);
}

/* ---- the whole manifest ------------------------------------------------------ */

static json_t *get_array(json_t *root, const char *field, int required, struct problems *pr)
{
    json_t *a = json_object_get(root, field);
    size_t max = strcmp(field, "leaves") == 0 ? PKI_MANIFEST_LEAVES_MAX : PKI_MANIFEST_ENTRIES_MAX;

    if (a == NULL) {
        if (required)
            problem(pr, "missing \"%s\"", field);
        return NULL;
    }
    if (!json_is_array(a) || json_array_size(a) > max) {
        problem(pr, "\"%s\" must be an array of at most %zu objects", field, max);
        return NULL;
    }
    return a;
}

static int find_ca(const struct pki_manifest *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->ncas; i++)
        if (strcmp(m->cas[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Resolves parent and ca references, depths, cycles. */
static void link_cas(struct pki_manifest *m, char (*parents)[PKI_MANIFEST_NAME_MAX + 1],
                     char (*leaf_cas)[PKI_MANIFEST_NAME_MAX + 1], struct problems *pr)
{
    size_t i;
    int j, depth;

    for (i = 0; i < m->ncas; i++) {
        m->cas[i].parent = parents[i][0] ? find_ca(m, parents[i]) : -1;
        if (parents[i][0] && m->cas[i].parent < 0)
            problem(pr, "cas[%zu].parent: no CA named \"%s\"", i, parents[i]);
        else if (m->cas[i].parent >= 0)
            m->cas[m->cas[i].parent].signs_ca = 1;
    }
    /* depth counts the CAs above; a chain of PKI_MANIFEST_DEPTH_MAX levels has
     * depths 0..PKI_MANIFEST_DEPTH_MAX - 1, and a cycle never ends. */
    for (i = 0; i < m->ncas; i++) {
        for (j = m->cas[i].parent, depth = 0; j >= 0 && depth < PKI_MANIFEST_DEPTH_MAX;
             j = m->cas[j].parent)
            depth++;
        m->cas[i].depth = depth;
        if (depth >= PKI_MANIFEST_DEPTH_MAX)
            problem(pr, "cas[%zu] (\"%s\"): its parents form a cycle, or there are more than "
                    "%d levels of CAs", i, m->cas[i].name, PKI_MANIFEST_DEPTH_MAX);
    }
    for (i = 0; i < m->nleaves; i++) {
        m->leaves[i].ca = leaf_cas[i][0] ? find_ca(m, leaf_cas[i]) : -1;
        if (leaf_cas[i][0] && m->leaves[i].ca < 0)
            problem(pr, "leaves[%zu].ca: no CA named \"%s\"", i, leaf_cas[i]);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names are unique across everything, and so are file paths. */
static void check_unique(const struct pki_manifest *m, struct problems *pr)
{
    static const char *const reserved[] = {"pkictl-cluster.json", "pkictl-state.json",
                                           "pkictl-trust-bundle.pem"};
    static const size_t most = 2 * PKI_MANIFEST_ENTRIES_MAX + PKI_MANIFEST_LEAVES_MAX;
    const char **names = calloc(most, sizeof(*names)), **paths = calloc(2 * most, sizeof(*paths));
    size_t nn = 0, np = 0, i, j;

    for (i = 0; i < m->ncas; i++) {
        names[nn++] = m->cas[i].name;
        paths[np++] = m->cas[i].cert;
        paths[np++] = m->cas[i].key;
    }
    for (i = 0; i < m->nleaves; i++) {
        names[nn++] = m->leaves[i].name;
        paths[np++] = m->leaves[i].cert;
        paths[np++] = m->leaves[i].key;
    }
    for (i = 0; i < m->nkeys; i++) {
        names[nn++] = m->keys[i].name;
        paths[np++] = m->keys[i].key;
    }
    if (names == NULL || paths == NULL) {
        problem(pr, "out of memory");
        free(names);
        free(paths);
        return;
    }
    qsort(names, nn, sizeof(*names), cmp_str);
    qsort(paths, np, sizeof(*paths), cmp_str);
    for (i = 1; i < nn; i++)
        if (names[i][0] && strcmp(names[i], names[i - 1]) == 0 &&
            (i + 1 == nn || strcmp(names[i], names[i + 1]) != 0))
            problem(pr, "the name \"%s\" is used twice", names[i]);
    for (i = 1; i < np; i++)
        if (paths[i][0] && strcmp(paths[i], paths[i - 1]) == 0 &&
            (i + 1 == np || strcmp(paths[i], paths[i + 1]) != 0))
            problem(pr, "the file \"%.80s\" is named twice", paths[i]);
    for (i = 0; i < np; i++)
        for (j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++)
            if (strcmp(paths[i], reserved[j]) == 0)
                problem(pr, "the file name %s is reserved", reserved[j]);
    free(names);
    free(paths);
}

static int alloc_entries(struct pki_manifest *m, json_t *cas, json_t *leaves, json_t *keys)
{
    m->cas = calloc(json_array_size(cas) + 1, sizeof(*m->cas));
    m->leaves = calloc(json_array_size(leaves) + 1, sizeof(*m->leaves));
    m->keys = calloc(json_array_size(keys) + 1, sizeof(*m->keys));
    return m->cas && m->leaves && m->keys;
}

static void parse_entries(struct pki_manifest *m, json_t *cas, json_t *leaves, json_t *keys,
                          struct problems *pr)
{
    char (*parents)[PKI_MANIFEST_NAME_MAX + 1] = calloc(json_array_size(cas) + 1, sizeof(*parents));
    char (*leaf_cas)[PKI_MANIFEST_NAME_MAX + 1] =
        calloc(json_array_size(leaves) + 1, sizeof(*leaf_cas));
    char where[32];
    json_t *v;
    size_t i;

    if (parents == NULL || leaf_cas == NULL) {
        problem(pr, "out of memory");
        goto out;
    }
    json_array_foreach(cas, i, v) {
        snprintf(where, sizeof(where), "cas[%zu]", i);
        if (!json_is_object(v))
            problem(pr, "%s: must be an object", where);
        else
            parse_ca(v, where, &m->cas[m->ncas], parents[m->ncas], pr);
        m->ncas++;
    }
    json_array_foreach(leaves, i, v) {
        snprintf(where, sizeof(where), "leaves[%zu]", i);
        if (!json_is_object(v))
            problem(pr, "%s: must be an object", where);
        else
            parse_leaf(v, where, &m->leaves[m->nleaves], leaf_cas[m->nleaves], pr);
        m->nleaves++;
    }
    json_array_foreach(keys, i, v) {
        snprintf(where, sizeof(where), "keys[%zu]", i);
        if (!json_is_object(v))
            problem(pr, "%s: must be an object", where);
        else
            parse_key(v, where, &m->keys[m->nkeys], pr);
        m->nkeys++;
    }
    link_cas(m, parents, leaf_cas, pr);
    check_unique(m, pr);
out:
    free(parents);
    free(leaf_cas);
}

int pki_manifest_parse(const char *json, size_t len, struct pki_manifest *out, struct pki_err *err)
{
    static const char *const top_fields[] = {"version", "cas", "leaves", "keys", NULL};
    struct pki_manifest m;
    struct problems pr = {"", 0};
    json_error_t jerr;
    json_t *root, *version, *cas, *leaves, *keys;

    memset(&m, 0, sizeof(m));
    if (len > PKI_MANIFEST_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the manifest is larger than %d bytes",
                           PKI_MANIFEST_MAX);
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "the manifest is not valid JSON: %s (line %d)",
                           jerr.text, jerr.line);
    if (!json_is_object(root)) {
        json_decref(root);
        return pki_err_set(err, PKI_ERR_INPUT, "the manifest must be a JSON object");
    }
    check_keys(root, "manifest", top_fields, &pr);
    version = json_object_get(root, "version");
    if (version == NULL || !json_is_integer(version) || json_integer_value(version) != 1)
        problem(&pr, "\"version\" must be 1");
    cas = get_array(root, "cas", 1, &pr);
    leaves = get_array(root, "leaves", 0, &pr);
    keys = get_array(root, "keys", 0, &pr);
    if (!alloc_entries(&m, cas, leaves, keys))
        problem(&pr, "out of memory");
    else
        parse_entries(&m, cas, leaves, keys, &pr);
    json_decref(root);
    if (pr.n > 0) {
        pki_manifest_free(&m);
        return pki_err_set(err, PKI_ERR_INPUT, "invalid manifest, %d problem%s: %s", pr.n,
                           pr.n == 1 ? "" : "s", pr.text);
    }
    *out = m;
    return PKI_OK;
}

void pki_manifest_free(struct pki_manifest *m)
{
    size_t i;

    for (i = 0; m->leaves != NULL && i < m->nleaves; i++)
        free(m->leaves[i].sans);
    free(m->cas);
    free(m->leaves);
    free(m->keys);
    memset(m, 0, sizeof(*m));
}
