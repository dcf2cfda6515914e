/* cmd_server.c - `pkictl server`: parses the flags and runs the online CA
 * (src/server, docs/server.md) in the foreground until SIGTERM or SIGINT. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_server.h"
#include "server.h"

static const char server_usage[] =
    "Usage: pkictl server --data-dir=DIR [OPTIONS]\n"
    "\n"
    "Runs the online CA: an HTTP API in Consul Connect's shapes that hands out\n"
    "short-lived leaf certificates for services and rotates its root by\n"
    "cross-signing. On first start it bootstraps DIR: a cluster id, the trust\n"
    "domain <cluster-id>.<domain>, a root and an intermediate CA, the API's TLS\n"
    "certificate and an operator token in DIR/operator.token (0600). Later\n"
    "starts load the same CA. Stops cleanly on SIGTERM or SIGINT.\n"
    "\n"
    "Options:\n"
    "  --data-dir=DIR        state: SQLite store, wrapped CA keys, audit log (required)\n"
    "  --listen=ADDR:PORT    where to listen (default 127.0.0.1:8555; port 0 picks one,\n"
    "                        written to DIR/server.addr)\n"
    "  --advertise=NAMES     comma-separated DNS names and IPs for the API certificate\n"
    "                        (default localhost,127.0.0.1,::1)\n"
    "  --domain=D            trust domain suffix at bootstrap (default consul)\n"
    "  --datacenter=DC       datacenter in service URIs at bootstrap (default dc1)\n"
    "  --key-type=TYPE       root and leaf keys at bootstrap: ec (default), rsa, ed25519\n"
    "  --key-bits=N          ec 256/384/521, rsa 2048/4096\n"
    "  --store-key-file=F    the key that encrypts CA keys in the store\n"
    "                        (default DIR/store.key, created 0600 at bootstrap)\n"
    "  --request-timeout=S   seconds a client has to send a whole request (default 10)\n"
    "  --workers=N           worker processes, each with its own signer process\n"
    "                        (default: one per CPU, at most 8; at most 16)\n"
    "  --pin-cpus            keep worker i and its signer on the i-th CPU this process\n"
    "                        may use (round robin): their messages then wake no other\n"
    "                        CPU. For a machine that runs mainly this server\n"
    "  --no-sandbox          do not confine workers and signers with Landlock (by\n"
    "                        default a worker cannot read the store key, nor a\n"
    "                        signer any file; see docs/server.md, \"Confinement\")\n"
    "  --insecure-http       plain HTTP instead of HTTPS (local tests only)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Then, for example:\n"
    "  curl --cacert DIR/ca.pem https://127.0.0.1:8555/v1/connect/ca/roots\n"
    "  curl --cacert DIR/ca.pem -H \"X-Consul-Token: $(cat DIR/operator.token)\" \\\n"
    "       https://127.0.0.1:8555/v1/agent/connect/ca/leaf/web\n"
    "\n"
    "Exit status: 0 after a clean stop, 1 if the server could not start or\n"
    "failed, 2 for a bad command line. See docs/server.md.\n";

static void on_listening(void *arg, const char *url)
{
    (void)arg;
    fprintf(stderr, "pkictl server: listening on %s\n", url);
}

static int parse_int(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);

    if (*v == '\0' || *end != '\0' || n < lo || n > hi)
        return cli_usage_error("%s=\"%s\": expected a number from %d to %d", flag, v, lo, hi);
    *out = (int)n;
    return EXIT_OK;
}

enum { OPT_DATA_DIR = 256, OPT_LISTEN, OPT_ADVERTISE, OPT_DOMAIN, OPT_DC, OPT_KEY_TYPE,
       OPT_KEY_BITS, OPT_STORE_KEY, OPT_TIMEOUT, OPT_INSECURE, OPT_WORKERS, OPT_PIN,
       OPT_NO_SANDBOX };

static const struct option server_opts[] = {
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"advertise", required_argument, NULL, OPT_ADVERTISE},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"datacenter", required_argument, NULL, OPT_DC},
    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
    {"key-bits", required_argument, NULL, OPT_KEY_BITS},
    {"store-key-file", required_argument, NULL, OPT_STORE_KEY},
    {"request-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"insecure-http", no_argument, NULL, OPT_INSECURE},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"pin-cpus", no_argument, NULL, OPT_PIN},
    {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_flags(int argc, char **argv, struct srv_options *o)
{
    int c, secs = 0, rc = EXIT_OK;

    opterr = 0;
    optind = 1;
    while (rc == EXIT_OK && (c = getopt_long(argc, argv, "h", server_opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA_DIR: o->data_dir = optarg; break;
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_ADVERTISE: o->advertise = optarg; break;
        case OPT_DOMAIN: o->domain = optarg; break;
        case OPT_DC: o->datacenter = optarg; break;
        case OPT_KEY_TYPE: o->key_type = optarg; break;
        case OPT_KEY_BITS: rc = parse_int("--key-bits", optarg, 1, 16384, &o->key_bits); break;
        case OPT_STORE_KEY: o->store_key_file = optarg; break;
        case OPT_TIMEOUT:
            rc = parse_int("--request-timeout", optarg, 1, 3600, &secs);
            o->request_timeout_ms = secs * 1000;
            break;
        case OPT_INSECURE: o->insecure_http = 1; break;
        case OPT_WORKERS: rc = parse_int("--workers", optarg, 1, 16, &o->workers); break;
        case OPT_PIN: o->pin_cpus = 1; break;
        case OPT_NO_SANDBOX: o->no_sandbox = 1; break;
        case 'h': fputs(server_usage, stdout); return -1;
        default:
            return cli_usage_error("server: unknown or incomplete option \"%s\" (see pkictl "
                                   "server --help)", argv[optind - 1]);
        }
    }
    if (rc == EXIT_OK && optind < argc)
        return cli_usage_error("server: unexpected argument \"%s\"", argv[optind]);
    if (rc == EXIT_OK && o->data_dir == NULL)
        return cli_usage_error("server: --data-dir is required");
    return rc;
}

int cli_server_main(int argc, char **argv)
{
    struct srv_options o = {0};
    struct pki_err err = {0};
    int rc = parse_flags(argc, argv, &o);

    if (rc == -1)
        return EXIT_OK;
    if (rc != EXIT_OK)
        return rc;
    if (o.key_bits != 0 && o.key_type == NULL)
        return cli_usage_error("server: --key-bits needs --key-type");
    o.on_listening = on_listening;
    if (srv_run(&o, &err) != 0)
        return cli_fail(&err);
    return EXIT_OK;
}
