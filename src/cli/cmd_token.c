/* cmd_token.c - `pkictl token create|list|delete`: API tokens of a running
 * `pkictl server` (docs/server.md "Tokens"), in Consul's shapes. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "spiffe.h"
#include "token.h"

/* A policy as --policy writes it, from a token's Policies or
 * ServiceIdentities: "operator" or "service:web,db". */
static void policy_text(const json_t *t, char *out, size_t len)
{
    const json_t *p = json_object_get(t, "Policies");
    const json_t *ids = json_object_get(t, "ServiceIdentities");
    size_t i, used;
    char name[PKI_SERVICE_MAX + 1];

    snprintf(out, len, "-");
    for (i = 0; json_is_array(p) && i < json_array_size(p); i++)
        if (strcmp(cli_json_str(json_array_get(p, i), "Name"), "operator") == 0) {
            snprintf(out, len, "operator");
            return;
        }
    if (!json_is_array(ids) || json_array_size(ids) == 0)
        return;
    used = (size_t)snprintf(out, len, "service:");
    for (i = 0; i < json_array_size(ids) && used < len; i++) {
        cli_printable(name, sizeof(name), cli_json_str(json_array_get(ids, i), "ServiceName"));
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", name);
    }
}

/* {"Description": ..., "Policies": [{"Name": "operator"}]} or
 * {"Description": ..., "ServiceIdentities": [{"ServiceName": "web"}, ...]}. */
static json_t *create_body(const struct args *a, struct pki_err *err)
{
    struct pki_token_policy pol;
    json_t *o = NULL, *list = NULL;
    size_t i;

    if (pki_token_policy_parse(a->policy, &pol, err) != PKI_OK)
        return NULL;
    if (a->description != NULL && strlen(a->description) > PKI_TOKEN_DESC_MAX) {
        pki_err_set(err, PKI_ERR_INPUT, "--description is longer than %d bytes",
                    PKI_TOKEN_DESC_MAX);
        return NULL;
    }
    o = json_object();
    list = json_array();
    if (pol.kind == PKI_TOKEN_OPERATOR)
        json_array_append_new(list, json_pack("{s:s}", "Name", "operator"));
    for (i = 0; pol.kind == PKI_TOKEN_SERVICE && i < pol.nservices; i++)
        json_array_append_new(list, json_pack("{s:s}", "ServiceName", pol.services[i]));
    if (a->description != NULL &&
        json_object_set_new(o, "Description", json_string(a->description)) != 0) {
        pki_err_set(err, PKI_ERR_INPUT, "--description is not valid UTF-8");
        json_decref(list);
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, pol.kind == PKI_TOKEN_OPERATOR ? "Policies" : "ServiceIdentities",
                        list);
    return o;
}

static int run_create(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_client c;
    json_t *req = NULL, *v = NULL;
    char *body = NULL, pol[1024], b[512], secret[CLI_TOKEN_MAX + 1];
    int rc;

    if (a->policy == NULL)
        return cli_usage_error("token create needs --policy=operator or "
                               "--policy=service:NAME[,NAME...]");
    if ((rc = cli_client_begin(sc, a, 0, 1, &c)) != EXIT_OK)
        return rc;
    req = create_body(a, &err);
    if ((body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL) != NULL)
        v = cli_call_json(&c, "PUT", "/v1/acl/token", body, strlen(body), 0, &err);
    else if (err.msg[0] == '\0')
        pki_err_set(&err, PKI_ERR_INTERNAL, "out of memory");
    rc = v != NULL ? PKI_OK : err.code;
    if (rc == PKI_OK && c.json) {
        rc = cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    } else if (rc == PKI_OK) {
        policy_text(v, pol, sizeof(pol));
        cli_printable(secret, sizeof(secret), cli_json_str(v, "SecretID"));
        cli_printable(b, sizeof(b), cli_json_str(v, "AccessorID"));
        printf("AccessorID:  %s\n", b);
        printf("SecretID:    %s\n", secret);
        printf("Policy:      %s\n", pol);
        cli_printable(b, sizeof(b), cli_json_str(v, "Description"));
        printf("Description: %s\n", b);
        OPENSSL_cleanse(secret, sizeof(secret));
    }
    cli_json_wipe(v, "SecretID");
    cli_json_free(body);
    json_decref(req);
    return cli_client_end(&c, v, rc, &err);
}

static void print_tokens(const json_t *list)
{
    static const char *const head[4] = {"Accessor", "Policy", "Description", "Created"};
    char cell[4][512];
    int width[4], k;
    size_t i, pass;

    for (k = 0; k < 4; k++)
        width[k] = (int)strlen(head[k]);
    /* Two passes: measure, then print aligned. */
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            printf("%-*s | %-*s | %-*s | %s\n", width[0], head[0], width[1], head[1], width[2],
                   head[2], head[3]);
        for (i = 0; i < json_array_size(list); i++) {
            const json_t *t = json_array_get(list, i);

            cli_printable(cell[0], sizeof(cell[0]), cli_json_str(t, "AccessorID"));
            policy_text(t, cell[1], sizeof(cell[1]));
            cli_printable(cell[2], sizeof(cell[2]), cli_json_str(t, "Description"));
            cli_printable(cell[3], sizeof(cell[3]), cli_json_str(t, "CreateTime"));
            for (k = 0; k < 4 && pass == 0; k++)
                if ((int)strlen(cell[k]) > width[k])
                    width[k] = (int)strlen(cell[k]);
            if (pass == 1)
                printf("%-*s | %-*s | %-*s | %s\n", width[0], cell[0], width[1], cell[1],
                       width[2], cell[2], cell[3][0] ? cell[3] : "-");
        }
    }
}

static int run_list(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_client c;
    json_t *v;
    int rc = cli_client_begin(sc, a, 0, 1, &c);

    if (rc != EXIT_OK)
        return rc;
    v = cli_call_json(&c, "GET", "/v1/acl/tokens", NULL, 0, 1, &err);
    rc = v != NULL ? PKI_OK : err.code;
    if (rc == PKI_OK && !json_is_array(v))
        rc = pki_err_set(&err, PKI_ERR_INPUT, "the answer from %s is not a list of tokens",
                         c.base);
    if (rc == PKI_OK && c.json)
        rc = cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    else if (rc == PKI_OK)
        print_tokens(v);
    return cli_client_end(&c, v, rc, &err);
}

static int run_delete(const struct subcommand *sc, struct args *a)
{
    struct pki_err err = {0, ""};
    struct cli_client c;
    char path[128];
    json_t *v = NULL;
    int rc = cli_client_begin(sc, a, 1, 1, &c);

    if (rc != EXIT_OK)
        return rc;
    /* The accessor goes into the URL path: only a UUID may. */
    if (!pki_uuid_check(a->pos[0])) {
        rc = pki_err_set(&err, PKI_ERR_INPUT, "\"%s\" is not a token accessor (a lower-case "
                         "UUID, as 'pkictl token list' shows)", a->pos[0]);
        return cli_client_end(&c, NULL, rc, &err);
    }
    snprintf(path, sizeof(path), "/v1/acl/token/%s", a->pos[0]);
    v = cli_call_json(&c, "DELETE", path, NULL, 0, 1, &err);
    rc = v != NULL ? PKI_OK : err.code;
    if (rc == PKI_OK && c.json && !json_is_null(v))
        rc = cli_print_json(v) == 0 ? PKI_OK : PKI_ERR_IO;
    else if (rc == PKI_OK && !c.json)
        printf("deleted token %s\n", a->pos[0]);
    return cli_client_end(&c, v, rc, &err);
}

static const struct subcommand subcommands[] = {
    {"create", F_CLIENT | F_POLICY | F_DESCRIPTION, run_create,
     "Usage: pkictl token create --policy=operator|service:NAME[,NAME...] [--description=TEXT]\n"
     "                           [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Creates an API token on the server (PUT /v1/acl/token) and prints its AccessorID\n"
     "and SecretID. The SecretID is shown only now: it is the secret to hand to the\n"
     "service; the server keeps only its hash. Needs an operator token.\n"
     "\n"
     "Flags:\n"
     "  --policy=operator         everything: configuration, tokens, leaves for any service\n"
     "  --policy=service:web,db   leaves (and CSR signing) for these services only (1-64)\n"
     "  --description=TEXT        what the token is for (at most 256 bytes)\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (default) or json (the server's answer)\n"
     "  -h, --help                show this help\n"},
    {"list", F_CLIENT, run_list,
     "Usage: pkictl token list [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Lists the server's tokens (GET /v1/acl/tokens): accessor, policy, description and\n"
     "creation time. Secrets are never shown. Needs an operator token.\n"
     "\n"
     "Flags:\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (a table, default) or json (the server's answer)\n"
     "  -h, --help                show this help\n"},
    {"delete", F_CLIENT, run_delete,
     "Usage: pkictl token delete ACCESSOR [CONNECTION FLAGS] [--format=text|json]\n"
     "\n"
     "Deletes the token with this AccessorID (DELETE /v1/acl/token/ACCESSOR); requests\n"
     "made with its secret are refused from then on. Needs an operator token.\n"
     "\n"
     "Flags:\n"
     CLI_CONNECTION_FLAGS
     "  --format=FORMAT           text (default) or json (the server's answer)\n"
     "  -h, --help                show this help\n"},
};

static const char token_usage[] =
    "Usage: pkictl token SUBCOMMAND [FLAGS...]\n"
    "\n"
    "API tokens of a running 'pkictl server' (an operator token is needed):\n"
    "  create    create a token for an operator or for services, and print its secret\n"
    "  list      list the tokens (no secrets)\n"
    "  delete    delete a token by its AccessorID\n"
    "\n"
    "Run 'pkictl token SUBCOMMAND --help' for its flags. See docs/server.md.\n";

int cli_token_main(int argc, char **argv)
{
    return args_dispatch("token", token_usage, subcommands,
                         sizeof(subcommands) / sizeof(subcommands[0]), argc, argv);
}
