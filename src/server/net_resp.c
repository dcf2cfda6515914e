/* net_resp.c - the bytes of an answer: its header block, and JSON error
 * bodies. */
#include "net_int.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"

/* The header block, written without snprintf (three calls of it were a
 * fifth of the answer's cost outside the cryptography). */
struct head {
    char *p;
    size_t len, cap;
    int over;
};

static void hput(struct head *h, const char *s, size_t n)
{
    if (h->over || n > h->cap - h->len) {
        h->over = 1;
        return;
    }
    memcpy(h->p + h->len, s, n);
    h->len += n;
}

static void hputs(struct head *h, const char *s)
{
    hput(h, s, strlen(s));
}

static void hputu(struct head *h, uint64_t v)
{
    char num[PKI_FMT_U64_MAX];

    hput(h, num, pki_fmt_u64(v, num));
}

int srv__net_format_head(char *hdr, size_t len, int status, int keep_alive,
                       const struct srv_resp *resp)
{
    struct head h = {hdr, 0, len, 0};

    hputs(&h, "HTTP/1.1 ");
    hputu(&h, (uint64_t)status);
    hputs(&h, " ");
    hputs(&h, srv_http_reason(status));
    if (status != 204) {
        hputs(&h, "\r\nContent-Type: ");
        hputs(&h, resp->content_type != NULL ? resp->content_type : "application/json");
        hputs(&h, "\r\nContent-Length: ");
        hputu(&h, resp->body.len);
    }
    hputs(&h, "\r\nCache-Control: no-store\r\nConnection: ");
    hputs(&h, keep_alive ? "keep-alive\r\n" : "close\r\n");
    hput(&h, resp->headers, strnlen(resp->headers, sizeof(resp->headers)));
    hputs(&h, "\r\n");
    return h.over || h.len > INT_MAX ? -1 : (int)h.len;
}


void srv_resp_error(struct srv_resp *resp, int status, const char *msg)
{
    struct pki_err err = {0, ""};
    json_t *obj = json_pack("{s:s}", "error", msg != NULL ? msg : srv_http_reason(status));
    char *text;

    if (obj == NULL) /* msg was not UTF-8 */
        obj = json_pack("{s:s}", "error", srv_http_reason(status));
    text = obj != NULL ? json_dumps(obj, 0) : NULL;
    pki_buf_free(&resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    if (text != NULL && pki_buf_set(&resp->body, text, strlen(text), &err) < 0)
        pki_buf_free(&resp->body);
    free(text);
    json_decref(obj);
}
