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

/* k3s's server/tls folder (pkg/daemons/control/deps/deps.go in k3s-io/k3s): three roots for
 * the control plane, two for etcd in etcd/, client certificates under client-ca, the
 * apiserver's serving certificate under server-ca, the service-account signing key (RSA 2048)
 * and the kubelets' plain keys. Per-node SANs (host name, node IPs, --tls-san) are not known
 * here: add them to a copy of this manifest. */
#define K3S_CA(n, file, cn)                                                                   \
    "    {\"name\": \"" n "\", \"cert\": \"" file ".crt\", \"key\": \"" file ".key\",\n"      \
    "     \"subject\": \"/CN=" cn "\"}"
#define K3S_LEAF(n, ca, file, subject, usage)                                                 \
    "    {\"name\": \"" n "\", \"ca\": \"" ca "\", \"cert\": \"" file ".crt\",\n"              \
    "     \"key\": \"" file ".key\", \"subject\": \"" subject "\", \"usage\": \"" usage "\"}"
#define K3S_LEAF_SANS(n, ca, file, subject, sans, usage)                                      \
    "    {\"name\": \"" n "\", \"ca\": \"" ca "\", \"cert\": \"" file ".crt\",\n"              \
    "     \"key\": \"" file ".key\", \"subject\": \"" subject "\",\n"                          \
    "     \"sans\": [" sans "],\n"                                                             \
    "     \"usage\": \"" usage "\"}"
#define K3S_LOCAL_SANS "\"dns:localhost\", \"ip:127.0.0.1\", \"ip:::1\", \"ip:10.43.0.1\""
#define K3S_ETCD_SANS "\"dns:kine.sock\", " K3S_LOCAL_SANS

static const char k3s[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"cas\": [\n"
    K3S_CA("server-ca", "server-ca", "k3s-server-ca") ",\n"
    K3S_CA("client-ca", "client-ca", "k3s-client-ca") ",\n"
    K3S_CA("request-header-ca", "request-header-ca", "k3s-request-header-ca") ",\n"
    K3S_CA("etcd-peer-ca", "etcd/peer-ca", "etcd-peer-ca") ",\n"
    K3S_CA("etcd-server-ca", "etcd/server-ca", "etcd-server-ca") "\n"
    "  ],\n"
    "  \"leaves\": [\n"
    K3S_LEAF("client-admin", "client-ca", "client-admin",
             "/O=system:masters/CN=system:admin", "client") ",\n"
    K3S_LEAF("client-supervisor", "client-ca", "client-supervisor",
             "/O=system:masters/CN=system:k3s-supervisor", "client") ",\n"
    K3S_LEAF("client-controller", "client-ca", "client-controller",
             "/CN=system:kube-controller-manager", "client") ",\n"
    K3S_LEAF("client-scheduler", "client-ca", "client-scheduler",
             "/CN=system:kube-scheduler", "client") ",\n"
    K3S_LEAF("client-kube-apiserver", "client-ca", "client-kube-apiserver",
             "/O=system:masters/CN=system:apiserver", "client") ",\n"
    K3S_LEAF("client-kube-proxy", "client-ca", "client-kube-proxy",
             "/CN=system:kube-proxy", "client") ",\n"
    K3S_LEAF("client-k3s-controller", "client-ca", "client-k3s-controller",
             "/CN=system:k3s-controller", "client") ",\n"
    K3S_LEAF("client-k3s-cloud-controller", "client-ca", "client-k3s-cloud-controller",
             "/CN=k3s-cloud-controller-manager", "client") ",\n"
    K3S_LEAF("client-auth-proxy", "request-header-ca", "client-auth-proxy",
             "/CN=system:auth-proxy", "client") ",\n"
    K3S_LEAF_SANS("serving-kube-apiserver", "server-ca", "serving-kube-apiserver",
                  "/CN=kube-apiserver",
                  "\"dns:kubernetes\", \"dns:kubernetes.default\", \"dns:kubernetes.default.svc\",\n"
                  "               \"dns:kubernetes.default.svc.cluster.local\", " K3S_LOCAL_SANS,
                  "server") ",\n"
    K3S_LEAF("etcd-client", "etcd-server-ca", "etcd/client", "/CN=etcd-client", "client") ",\n"
    K3S_LEAF_SANS("etcd-server-client", "etcd-server-ca", "etcd/server-client", "/CN=etcd-server",
                  K3S_ETCD_SANS, "both") ",\n"
    K3S_LEAF_SANS("etcd-peer-server-client", "etcd-peer-ca", "etcd/peer-server-client",
                  "/CN=etcd-peer", K3S_ETCD_SANS, "both") "\n"
    "  ],\n"
    "  \"keys\": [\n"
    "    {\"name\": \"service\", \"key\": \"service.key\", \"key_type\": \"rsa\", \"key_size\": 2048},\n"
    "    {\"name\": \"client-kubelet\", \"key\": \"client-kubelet.key\", \"key_type\": \"ecdsa\"},\n"
    "    {\"name\": \"serving-kubelet\", \"key\": \"serving-kubelet.key\", \"key_type\": \"ecdsa\"}\n"
    "  ]\n"
    "}\n";

/* What `consul tls ca create` and `consul tls cert create -server|-client|-cli` write for
 * datacenter dc1, domain consul (command/tls in hashicorp/consul): server and client
 * certificates carry serverAuth and clientAuth, the cli one is for clients. */
#define CONSUL_LEAF(kind, sans, usage, last)                                                  \
    "    {\"name\": \"dc1-" kind "-consul-0\", \"ca\": \"consul-agent-ca\",\n"                 \
    "     \"cert\": \"dc1-" kind "-consul-0.pem\", \"key\": \"dc1-" kind "-consul-0-key.pem\",\n" \
    "     \"subject\": \"/CN=" kind ".dc1.consul\",\n"                                         \
    "     \"sans\": [\"dns:" kind ".dc1.consul\", " sans "], \"usage\": \"" usage "\"}" last "\n"

static const char consul[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"cas\": [\n"
    "    {\"name\": \"consul-agent-ca\", \"cert\": \"consul-agent-ca.pem\",\n"
    "     \"key\": \"consul-agent-ca-key.pem\", \"subject\": \"/O=pkictl/CN=Consul Agent CA\"}\n"
    "  ],\n"
    "  \"leaves\": [\n"
    CONSUL_LEAF("server", "\"dns:localhost\", \"ip:127.0.0.1\"", "both", ",")
    CONSUL_LEAF("client", "\"dns:localhost\", \"ip:127.0.0.1\"", "both", ",")
    CONSUL_LEAF("cli", "\"dns:localhost\"", "client", "")
    "  ]\n"
    "}\n";

static const struct {
    const char *name;
    const char *json;
} builtins[] = {
    {"cockroach", cockroach},
    {"redis-enterprise", redis_enterprise},
    {"k3s", k3s},
    {"consul", consul},
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
    return "cockroach, redis-enterprise, k3s, consul";
}
