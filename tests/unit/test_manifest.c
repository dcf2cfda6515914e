/* Unit tests for core/manifest: strict parsing, references, every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"

static int parse(const char *json, struct pki_manifest *m, struct pki_err *err)
{
    memset(m, 0, sizeof(*m));
    return pki_manifest_parse(json, strlen(json), m, err);
}

/* Parsing json fails with PKI_ERR_INPUT and a message holding every word. */
static void refused(const char *json, const char *const *words)
{
    struct pki_manifest m;
    struct pki_err err = {0, ""};
    size_t i;

    assert_int_equal(parse(json, &m, &err), PKI_ERR_INPUT);
    assert_null(m.cas);
    for (i = 0; words[i] != NULL; i++)
        if (strstr(err.msg, words[i]) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, words[i]);
}

#define REFUSED(json, ...) refused(json, (const char *const[]){__VA_ARGS__, NULL})

#define CA(n, extra) "{\"name\":\"" n "\",\"cert\":\"" n ".crt\",\"key\":\"" n ".key\",\"subject\":\"/CN=" n "\"" extra "}"
#define LEAF(n, ca, extra) "{\"name\":\"" n "\",\"ca\":\"" ca "\",\"cert\":\"" n ".crt\",\"key\":\"" n ".key\",\"subject\":\"/CN=" n "\",\"usage\":\"server\"" extra "}"

static void builtins_parse(void **state)
{
    const char *names[] = {"cockroach", "redis-enterprise"};
    struct pki_manifest m;
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        const char *json = pki_manifest_builtin(names[i]);

        assert_non_null(json);
        assert_int_equal(parse(json, &m, &err), PKI_OK);
        assert_int_equal(m.ncas, 1);
        assert_true(m.nleaves >= 2);
        pki_manifest_free(&m);
    }
    assert_null(pki_manifest_builtin("k8s"));
}

static void references_and_defaults(void **state)
{
    struct pki_manifest m;
    struct pki_err err = {0, ""};
    const char *json = "{\"version\":1,\"cas\":[" CA("sub", ",\"parent\":\"root\"") "," CA("root", "")
                       "],\"leaves\":[" LEAF("web", "sub", ",\"sans\":[\"dns:a.example.com\",\"ip:10.0.0.1\"],\"lifetime\":\"720h\"")
                       "],\"keys\":[{\"name\":\"sa\",\"key\":\"sa.key\"}]}";

    (void)state;
    assert_int_equal(parse(json, &m, &err), PKI_OK);
    assert_int_equal(m.cas[0].parent, 1);
    assert_int_equal(m.cas[0].depth, 1);
    assert_int_equal(m.cas[1].parent, -1);
    assert_int_equal(m.cas[1].signs_ca, 1);
    assert_int_equal(m.cas[0].signs_ca, 0);
    assert_int_equal(m.leaves[0].ca, 0);
    assert_int_equal(m.leaves[0].nsans, 2);
    assert_int_equal(m.leaves[0].lifetime, 720 * 3600);
    assert_int_equal(m.leaves[0].lifetime_is_default, 0);
    assert_int_equal(m.cas[1].lifetime, INT64_C(87840) * 3600);
    assert_int_equal(m.cas[1].lifetime_is_default, 1);
    assert_int_equal(m.cas[1].key_spec.type, PKI_KEY_ECDSA);
    assert_int_equal(m.keys[0].key_spec.type, PKI_KEY_RSA);
    assert_int_equal(m.keys[0].key_spec.bits, 2048);
    pki_manifest_free(&m);
}

static void refusals(void **state)
{
    (void)state;
    REFUSED("{", "not valid JSON");
    REFUSED("[]", "must be a JSON object");
    REFUSED("{\"version\":1,\"cas\":[],\"x\":1}", "unknown field \"x\"");
    REFUSED("{\"version\":2,\"cas\":[]}", "\"version\" must be 1");
    REFUSED("{\"version\":1}", "missing \"cas\"");
    REFUSED("{\"version\":1,\"cas\":{}}", "must be an array");
    REFUSED("{\"version\":1,\"cas\":[1]}", "cas[0]: must be an object");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"color\":1") "]}", "cas[0]: unknown field \"color\"");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":\"a\"}]}", "missing \"cert\"", "missing \"key\"",
            "missing \"subject\"");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":7,\"cert\":\"a\",\"key\":\"b\",\"subject\":\"/CN=a\"}]}",
            "name: must be a string");
    REFUSED("{\"version\":1,\"cas\":[" CA("A", "") "]}", "must be [a-z0-9]");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", "") "," CA("a", "") "]}", "used twice");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"parent\":\"zz\"") "]}", "no CA named \"zz\"");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"parent\":\"b\"") "," CA("b", ",\"parent\":\"a\"") "]}",
            "cycle");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", "") "],\"leaves\":[" LEAF("l", "nope", "") "]}",
            "no CA named \"nope\"");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":\"a\",\"cert\":\"../a.crt\",\"key\":\"/a.key\",\"subject\":\"/CN=a\"}]}",
            "\"..\" part", "must be relative");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":\"a\",\"cert\":\"x/\",\"key\":\"a//k\",\"subject\":\"/CN=a\"}]}",
            "names a folder", "empty");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":\"a\",\"cert\":\"a.crt\",\"key\":\"a.crt\",\"subject\":\"/CN=a\"}]}",
            "named twice");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":\"a\",\"cert\":\"pkictl-cluster.json\",\"key\":\"k\",\"subject\":\"/CN=a\"}]}",
            "reserved");
    REFUSED("{\"version\":1,\"cas\":[{\"name\":\"a\",\"cert\":\"a\",\"key\":\"k\",\"subject\":\"CN=a\"}]}",
            "subject");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"key_type\":\"dsa\"") "]}", "unsupported key type");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"key_size\":1024") "]}", "unsupported ECDSA key size");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"key_size\":\"256\"") "]}", "key_size: must be a positive integer");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", ",\"lifetime\":\"10y\"") "]}", "lifetime");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", "") "],\"leaves\":[" LEAF("l", "a", ",\"usage\":\"web\"") "]}",
            "duplicate");  /* JSON_REJECT_DUPLICATES: usage given twice */
    REFUSED("{\"version\":1,\"cas\":[" CA("a", "") "],\"leaves\":[{\"name\":\"l\",\"ca\":\"a\","
            "\"cert\":\"l.crt\",\"key\":\"l.key\",\"subject\":\"/CN=l\",\"usage\":\"web\"}]}",
            "unknown usage \"web\"");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", "") "],\"leaves\":[" LEAF("l", "a", ",\"sans\":[\"dns:a..b\"]") "]}",
            "sans[0]");
    REFUSED("{\"version\":1,\"cas\":[" CA("a", "") "],\"leaves\":[" LEAF("l", "a", ",\"sans\":\"dns:x\"") "]}",
            "sans: must be an array");
}

/* Every problem is counted and listed, not just the first. */
static void lists_every_problem(void **state)
{
    (void)state;
    REFUSED("{\"version\":3,\"cas\":[" CA("a", ",\"parent\":\"q\",\"extra\":1") "],\"more\":0}",
            "4 problems", "version", "unknown field \"extra\"", "no CA named \"q\"",
            "unknown field \"more\"");
}

static void depth_limit(void **state)
{
    char json[4096];
    size_t len;
    int i;

    (void)state;
    /* 9 levels (c0..c8) are refused; 8 levels are the most (manifest.md). */
    len = (size_t)snprintf(json, sizeof(json), "{\"version\":1,\"cas\":[" CA("c0", ""));
    for (i = 1; i <= 8; i++)
        len += (size_t)snprintf(json + len, sizeof(json) - len,
                                ",{\"name\":\"c%d\",\"cert\":\"c%d.crt\",\"key\":\"c%d.key\","
                                "\"subject\":\"/CN=c\",\"parent\":\"c%d\"}", i, i, i, i - 1);
    snprintf(json + len, sizeof(json) - len, "]}");
    REFUSED(json, "more than 8 levels of CAs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtins_parse),
        cmocka_unit_test(references_and_defaults),
        cmocka_unit_test(refusals),
        cmocka_unit_test(lists_every_problem),
        cmocka_unit_test(depth_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
