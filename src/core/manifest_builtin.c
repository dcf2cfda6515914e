/* manifest_builtin.c - manifests for layouts users already know. */
#include "manifest.h"

#include <string.h>

/* cockroach cert's layout: ca.crt, node.crt (CN=node), client.root.crt. The
 * CA key sits in the folder: move it out for production (docs/manifest.md). */
static const char cockroach[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"cas\": [\n"
    "    {\"name\": \"ca\", \"cert\": \"ca.crt\", \"key\": \"ca.key\",\n"
    "     \"subject\": \"/O=pkictl/CN=pkictl CA\"}\n"
    "  ],\n"
    "  \"leaves\": [\n"
    "    {\"name\": \"node\", \"ca\": \"ca\", \"cert\": \"node.crt\", \"key\": \"node.key\",\n"
    "     \"subject\": \"/O=pkictl/CN=node\",\n"
    "     \"sans\": [\"dns:localhost\", \"ip:127.0.0.1\", \"ip:::1\"], \"usage\": \"both\"},\n"
    "    {\"name\": \"client.root\", \"ca\": \"ca\", \"cert\": \"client.root.crt\",\n"
    "     \"key\": \"client.root.key\", \"subject\": \"/O=pkictl/CN=root\", \"usage\": \"client\"}\n"
    "  ]\n"
    "}\n";

/* Redis Enterprise's certificate names: proxy, cm, api, syncer, metrics. */
#define RE_LEAF(n, last)                                                                      \
    "    {\"name\": \"" n "\", \"ca\": \"ca\", \"cert\": \"" n "_cert.pem\", \"key\": \"" n  \
    "_key.pem\",\n"                                                                           \
    "     \"subject\": \"/O=pkictl/CN=" n "\", \"sans\": [\"dns:localhost\", "                \
    "\"ip:127.0.0.1\"],\n"                                                                    \
    "     \"usage\": \"server\"}" last "\n"

static const char redis_enterprise[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"cas\": [\n"
    "    {\"name\": \"ca\", \"cert\": \"ca.pem\", \"key\": \"ca_key.pem\",\n"
    "     \"subject\": \"/O=pkictl/CN=redis-enterprise CA\"}\n"
    "  ],\n"
    "  \"leaves\": [\n"
    RE_LEAF("proxy", ",") RE_LEAF("cm", ",") RE_LEAF("api", ",") RE_LEAF("syncer", ",")
    RE_LEAF("metrics", "")
    "  ]\n"
    "}\n";

static const struct {
    const char *name;
    const char *json;
} builtins[] = {
    {"cockroach", cockroach},
    {"redis-enterprise", redis_enterprise},
};

const char *pki_manifest_builtin(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(name, builtins[i].name) == 0)
            return builtins[i].json;
    return NULL;
}

const char *pki_manifest_builtin_names(void)
{
    return "cockroach, redis-enterprise";
}
