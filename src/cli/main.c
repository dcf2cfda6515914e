/* main.c - pkictl's entry point: top-level help, version and dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "cmd_server.h"
#include "pkictl_config.h"

static const char usage_text[] =
    "Usage: pkictl COMMAND [ARGS...]\n"
    "\n"
    "Certificates for clusters: a CA, node and client certificates, and checks.\n"
    "\n"
    "Commands:\n"
    "  cert create-ca      create the CA certificate and key\n"
    "  cert create-node    create a node certificate and key (server and client auth)\n"
    "  cert create-client  create a client certificate and key for a user\n"
    "  cert list           list and check the certificates in a certs dir\n"
    "  cert sign           sign a certificate request under a profile\n"
    "  cert bundle         assemble a chain: leaf, intermediates, root\n"
    "  cert show           show what a certificate or bundle holds\n"
    "  csr create          write a certificate request for a CA to sign\n"
    "  cluster init        create a declared cluster PKI (k3s, cockroach, consul, ...)\n"
    "  cluster status      check every certificate of a cluster\n"
    "  cluster profile     print a built-in manifest\n"
    "  cluster renew       renew leaves that expire soon or drifted (run at start-up)\n"
    "  cluster recover     re-issue expired CAs with their keys, then every leaf\n"
    "  cluster rotate      re-issue leaves with new keys\n"
    "  cluster rotate-key  rotate a plain signing key, keeping the previous ones\n"
    "  ca stage            stage new CAs, cross-signed by the current ones\n"
    "  ca rotate           check the staged CAs and switch to them atomically\n"
    "  ca prune            drop old CAs from trust bundles once nothing needs them\n"
    "  ca roots            show a running server's root certificates\n"
    "  ca get-config       print a running server's CA configuration\n"
    "  ca set-config       replace the CA configuration (may rotate the root)\n"
    "  ca sign             have the server sign a certificate request\n"
    "  ca leaf             get a new key and leaf certificate for a service\n"
    "  token create        create an API token (operator or services)\n"
    "  token list          list the server's API tokens\n"
    "  token delete        delete an API token\n"
    "  audit verify        check the hash chain of a server's audit log\n"
    "  server              run the online CA (HTTP API, Consul Connect's shapes)\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (also: pkictl cert COMMAND --help)\n"
    "  --version      show the version\n"
    "\n"
    "Exit status: 0 success, 1 failed or refused, 2 bad command line,\n"
    "3 'cert list'/'cluster status' found problems or 'ca rotate --dry-run' found\n"
    "something that would not verify. See man pkictl.\n";

/* Prints "pkictl: " and msg as one line, with control characters and other
 * bytes that are not printable ASCII shown as \xNN: a message may quote a
 * host name or path the user typed, and must stay one line on a terminal. */
static void print_error_line(const char *msg)
{
    const unsigned char *p;

    fputs("pkictl: ", stderr);
    for (p = (const unsigned char *)msg; *p != '\0'; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            fputc(*p, stderr);
        else
            fprintf(stderr, "\\x%02x", *p);
    }
    fputc('\n', stderr);
}

int cli_fail(const struct pki_err *err)
{
    print_error_line(err->msg[0] ? err->msg : "failed");
    return err->code == PKI_ERR_USAGE ? EXIT_USAGE : EXIT_FAILED;
}

int cli_usage_error(const char *fmt, ...)
{
    char msg[PKI_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error_line(msg);
    return EXIT_USAGE;
}

/* 1 for the commands that talk HTTP to a server (cmd_client.c, cmd_token.c). */
static int uses_http(int argc, char **argv)
{
    static const char *const ca_client[] = {"roots", "get-config", "set-config", "sign", "leaf"};
    size_t i;

    if (strcmp(argv[1], "token") == 0)
        return 1;
    for (i = 0; strcmp(argv[1], "ca") == 0 && argc > 2 && i < 5; i++)
        if (strcmp(argv[2], ca_client[i]) == 0)
            return 1;
    return 0;
}

/* curl_global_init is not thread-safe before 7.84 and must run once, before
 * any other curl call: here, before the command. */
static int run_http_command(int argc, char **argv)
{
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        print_error_line("cannot initialise libcurl");
        return EXIT_FAILED;
    }
    rc = strcmp(argv[1], "token") == 0 ? cli_token_main(argc - 1, argv + 1)
                                        : cli_ca_main(argc - 1, argv + 1);
    curl_global_cleanup();
    return rc;
}

/* A build without test hooks (meson -Dtest_hooks, off in release builds)
 * would ignore these; a clock or a kill the caller asked for and did not
 * get is refused rather than silently not done. */
static int refuse_test_hooks(void)
{
    static const char *const hooks[] = {"PKICTL_NOW", "PKICTL_TEST_KILL_AT"};

    for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
        const char *v = getenv(hooks[i]);

        if (v != NULL && v[0] != '\0')
            return cli_usage_error("%s is set, but this pkictl is built without test hooks "
                                   "(a release build, or meson -Dtest_hooks=disabled); unset it",
                                   hooks[i]);
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    int rc;

    /* pkictl needs no openssl.cnf: skipping it saves start-up time and keeps
     * a system-wide config from changing what we generate. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    if (argc < 2)
        return cli_usage_error("missing command (see pkictl --help)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("pkictl %s (%s)%s\n", PKICTL_VERSION, OpenSSL_version(OPENSSL_VERSION),
               PKICTL_TEST_HOOKS ? ", with test hooks" : "");
        return EXIT_OK;
    }
    if (!PKICTL_TEST_HOOKS && (rc = refuse_test_hooks()) != EXIT_OK)
        return rc;
    if (uses_http(argc, argv))
        return run_http_command(argc, argv);
    if (strcmp(argv[1], "cert") == 0)
        return cli_cert_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "csr") == 0)
        return cli_csr_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "cluster") == 0)
        return cli_cluster_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "ca") == 0)
        return cli_ca_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "audit") == 0)
        return cli_audit_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "server") == 0)
        return cli_server_main(argc - 1, argv + 1);
    return cli_usage_error("unknown command \"%s\" (see pkictl --help)", argv[1]);
}
