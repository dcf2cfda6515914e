/*
 * fuzz_cluster_state.c - DIR/pkictl-state.json (docs/rotation.md: written by
 * ca rotate and ca prune, read by every cluster command) through
 * cl_state_parse_text, for a fixed manifest of two roots and an
 * intermediate (the one the seeds were made with).
 *
 * Invariants: a refusal is PKI_ERR_INPUT (INTERNAL for out of memory) with a
 * message; an accepted state holds cross-signed certificates only at CA
 * indexes and retired records with NUL-terminated names, and encodes
 * (cl_state_encode, as ca rotate and prune write it) to a file that parses
 * back to the same state and the same bytes. cl_state_free releases it
 * either way (the leak check sees what it misses).
 */
#include "fuzz_common.h"

#include <openssl/err.h>

#include "cluster_int.h"

#include "fuzz_cluster_manifest.h"

static struct pki_manifest m;

static void setup(void)
{
    static int ready;
    struct pki_err err = {0, ""};

    if (ready)
        return;
    if (pki_manifest_parse(manifest_text, sizeof(manifest_text) - 1, &m, &err) != PKI_OK) {
        fprintf(stderr, "fuzz_cluster_state: the built-in manifest: %s\n", err.msg);
        abort();
    }
    ready = 1;
}

static void check_refusal(int rc, const struct pki_err *err)
{
    FUZZ_CHECK(rc == PKI_ERR_INPUT || rc == PKI_ERR_INTERNAL);
    FUZZ_CHECK(err->code == rc);
    FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
    FUZZ_CHECK(err->msg[0] != '\0');
}

static void check_state(const struct cl_state *s)
{
    size_t i;

    FUZZ_CHECK(s->cross != NULL);
    FUZZ_CHECK(s->retired != NULL || s->nretired == 0);
    for (i = 0; i < s->nretired; i++)
        FUZZ_CHECK(memchr(s->retired[i].ca, '\0', sizeof(s->retired[i].ca)) != NULL);
}

static int same_state(const struct cl_state *a, const struct cl_state *b)
{
    size_t i;

    if (a->nretired != b->nretired)
        return 0;
    for (i = 0; i < m.ncas; i++)
        if ((a->cross[i] == NULL) != (b->cross[i] == NULL) ||
            (a->cross[i] != NULL && X509_cmp(a->cross[i], b->cross[i]) != 0))
            return 0;
    for (i = 0; i < a->nretired; i++)
        if (strcmp(a->retired[i].ca, b->retired[i].ca) != 0 ||
            memcmp(a->retired[i].sha256, b->retired[i].sha256, 32) != 0 ||
            a->retired[i].rotated_at != b->retired[i].rotated_at ||
            a->retired[i].valid_until != b->retired[i].valid_until)
            return 0;
    return 1;
}

/* What ca rotate writes reads back as the same state, and writes the same. */
static void check_round_trip(const struct cl_state *s)
{
    struct pki_buf once = {NULL, 0}, twice = {NULL, 0};
    struct pki_err err = {0, ""};
    struct cl_state back;

    FUZZ_CHECK(cl_state_encode(s, &m, &once, &err) == PKI_OK);
    FUZZ_CHECK(cl_state_parse_text((const char *)once.data, once.len, &m, &back, &err) ==
               PKI_OK);
    FUZZ_CHECK(same_state(s, &back));
    FUZZ_CHECK(cl_state_encode(&back, &m, &twice, &err) == PKI_OK);
    FUZZ_CHECK(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
    cl_state_free(&back, m.ncas);
    pki_buf_free(&once);
    pki_buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0, ""};
    struct cl_state s;
    /* A copy exactly size bytes long, so ASan sees any read past the end. */
    char *copy = malloc(size ? size : 1);
    int rc;

    if (copy == NULL)
        abort();
    if (size > 0)
        memcpy(copy, data, size);
    setup();
    rc = cl_state_parse_text(copy, size, &m, &s, &err);
    if (rc == PKI_OK) {
        check_state(&s);
        check_round_trip(&s);
    } else {
        check_refusal(rc, &err);
    }
    cl_state_free(&s, m.ncas);
    FUZZ_CHECK(s.cross == NULL && s.retired == NULL && s.nretired == 0);
    free(copy);
    ERR_clear_error();
    return 0;
}
