/*
 * client.h - the client side of `pkictl server`: where the server is, how to
 * authenticate to it (client_opts in cmd_client.c), and one HTTP exchange
 * over libcurl (client_http.c).
 *
 * The token lives only in struct cli_client and is wiped by
 * cli_client_clear; response bodies may hold a private key (a leaf's
 * PrivateKeyPEM) or a SecretID and are wiped when freed.
 */
#ifndef PKICTL_CLIENT_H
#define PKICTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "args.h"
#include "buf.h"
#include "err.h"

#define CLI_ADDR_DEFAULT "https://127.0.0.1:8555"
#define CLI_ADDR_MAX 1024
#define CLI_TOKEN_MAX 128                 /* the server accepts no longer secret */
#define CLI_RESPONSE_MAX (4 * 1024 * 1024) /* a roots list with many PEMs fits */
#define CLI_UPLOAD_MAX (64 * 1024)          /* the server's body limit */
#define CLI_TIMEOUT_DEFAULT 10

/* The flags every client command takes. */
#define F_CLIENT (F_ADDR | F_CA_FILE | F_TOKEN | F_TOKEN_FILE | F_TIMEOUT | F_FORMAT | F_HELP)

/* The connection flags' lines in every client command's --help. */
#define CLI_CONNECTION_FLAGS \
    "  --addr=URL                the server: https://HOST:PORT (http:// for a server run with\n" \
    "                            --insecure-http); default $PKICTL_ADDR, else\n" \
    "                            " CLI_ADDR_DEFAULT "\n" \
    "  --ca-file=FILE            CA certificates that verify the server (default\n" \
    "                            $PKICTL_CA_FILE; the server writes DATA_DIR/ca.pem)\n" \
    "  --token-file=FILE         read the token's secret from FILE (mode 0600), such as the\n" \
    "                            server's DATA_DIR/operator.token\n" \
    "  --token=SECRET            the token's secret (default $PKICTL_TOKEN; other users can\n" \
    "                            see command lines: prefer --token-file)\n" \
    "  --timeout=SECONDS         give up after this long (default 10)\n"

struct cli_client {
    char base[CLI_ADDR_MAX];     /* scheme://host[:port], no trailing slash */
    char host[256];              /* as curl's URL parser reports it, for messages */
    const char *ca_file;         /* NULL: the system's CA store */
    char token[CLI_TOKEN_MAX + 1]; /* "" when none is sent */
    long timeout;                /* seconds, for connect and the whole exchange */
    int plain_http;              /* the address is http:// */
    int loopback;                /* the host is localhost, 127.0.0.0/8 or ::1 */
    int json;                    /* --format=json */
};

struct cli_resp {
    long status;            /* the HTTP status code */
    long retry_after;       /* Retry-After in seconds (429), 0 if absent */
    struct pki_buf body;    /* at most CLI_RESPONSE_MAX bytes; wiped when freed */
};

/* Fills c from --addr/PKICTL_ADDR, --ca-file/PKICTL_CA_FILE, --timeout,
 * --format and, if need_token, --token/--token-file/PKICTL_TOKEN (a missing
 * token is PKI_ERR_USAGE). Also makes jansson wipe what it frees, so parsed
 * answers holding keys or secrets do not linger on the heap. */
PKI_MUST_CHECK int cli_client_setup(struct cli_client *c, const struct args *a, int need_token,
                                    struct pki_err *err);

/* A client command's start: checks it got npos arguments (exit 2 if not),
 * then cli_client_setup; prints why it failed. Returns an exit code. */
int cli_client_begin(const struct subcommand *sc, const struct args *a, int npos,
                     int need_token, struct cli_client *c);

/* A client command's end: frees v, wipes the token, prints err unless rc is
 * PKI_OK. Returns the exit code. */
int cli_client_end(struct cli_client *c, json_t *v, int rc, struct pki_err *err);

/* Wipes the token. */
void cli_client_clear(struct cli_client *c);

/* One request: method and path (starting with '/'), an optional body
 * (sent as application/json). A transport failure (refused, TLS, timeout,
 * too large) is an error naming the address and what to check; any HTTP
 * status fills r (which the caller frees with cli_resp_free). */
PKI_MUST_CHECK int cli_http(struct cli_client *c, const char *method, const char *path,
                            const char *body, size_t body_len, struct cli_resp *r,
                            struct pki_err *err);

void cli_resp_free(struct cli_resp *r);

/* PKI_OK for 2xx; otherwise "server said 403 Forbidden: MESSAGE" from the
 * body's {"error": ...}. */
PKI_MUST_CHECK int cli_resp_check(const struct cli_resp *r, struct pki_err *err);

/* cli_http then cli_resp_check then the body parsed as JSON (any value when
 * any != 0, else an object). Returns a new reference or NULL with err set. */
PKI_MUST_CHECK json_t *cli_call_json(struct cli_client *c, const char *method, const char *path,
                                     const char *body, size_t body_len, int any,
                                     struct pki_err *err);

/* Prints v as indented JSON on stdout, then a newline. */
int cli_print_json(const json_t *v);

/* v's member key as a string, "" if absent or not a string. */
const char *cli_json_str(const json_t *v, const char *key);

/* Copies s into dst (len bytes) with every byte that is not printable ASCII
 * shown as '?': text from the server must not drive the terminal. */
void cli_printable(char *dst, size_t len, const char *s);

/* Frees what json_dumps returned (jansson's allocator is not plain malloc
 * once cli_client_setup ran). */
void cli_json_free(void *p);

/* Wipes a string member of v in place (a key or a secret), then removes it. */
void cli_json_wipe(json_t *v, const char *key);

#endif
