/* print_list.c - `cert list` output: an aligned table, or JSON for scripts;
 * and cli_put_shown, for any printer of text read from files. */
#include <jansson.h>
#include <string.h>

#include "cert.h"
#include "cli.h"

#define NCOLS 6

/* Copies s with every byte that is not printable ASCII replaced by '?', so
 * a file name or certificate field cannot drive the terminal, and JSON
 * strings are always valid UTF-8. */
static void printable(char *dst, size_t len, const char *s)
{
    size_t i;

    for (i = 0; i + 1 < len && s[i] != '\0'; i++)
        dst[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
    dst[i] = '\0';
}

/* The length (2 to 4) of the valid UTF-8 sequence at s, or 0 for a byte that
 * does not start one, an overlong form, a surrogate, or a C1 control (an
 * 8-bit CSI, U+009B, is an escape on some terminals). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned long cp;
    size_t n, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    cp = s[0] & (0x7fu >> n);
    for (i = 1; i < n; i++) { /* a NUL is not a continuation byte: no read past the end */
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_put_shown(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    while (*p != '\0') {
        if (*p >= 0x20 && *p < 0x7f) {
            fputc(*p++, out);
        } else if ((n = utf8_len(p)) > 0) {
            fwrite(p, 1, n, out);
            p += n;
        } else {
            fprintf(out, "\\x%02x", *p++);
        }
    }
}

static void row_cells(const struct certsdir_entry *e, char cells[NCOLS][CERTSDIR_TEXT_MAX])
{
    char when[32] = "";

    if (e->has_expiry)
        pki_time_format(e->expires, 1, when, sizeof(when));
    printable(cells[0], CERTSDIR_TEXT_MAX, certsdir_usage_name(e->usage));
    printable(cells[1], CERTSDIR_TEXT_MAX, e->cert_file);
    printable(cells[2], CERTSDIR_TEXT_MAX, e->key_file);
    printable(cells[3], CERTSDIR_TEXT_MAX, when);
    printable(cells[4], CERTSDIR_TEXT_MAX, e->notes);
    printable(cells[5], CERTSDIR_TEXT_MAX, e->error);
}

static void print_row(FILE *out, char cells[NCOLS][CERTSDIR_TEXT_MAX], const int *width)
{
    int c;

    for (c = 0; c < NCOLS - 1; c++)
        fprintf(out, "%s%-*s |", c ? " " : "", width[c], cells[c]);
    /* No trailing blank when the last cell (Error) is empty. */
    fprintf(out, "%s%s\n", cells[NCOLS - 1][0] ? " " : "", cells[NCOLS - 1]);
}

void cli_print_list_table(FILE *out, const char *dir, const struct certsdir_listing *l)
{
    static char cells[NCOLS][CERTSDIR_TEXT_MAX];
    static const char *const head[NCOLS] = {"Usage", "Certificate File", "Key File", "Expires",
                                            "Notes", "Error"};
    int width[NCOLS], c, w;
    char shown[CERTSDIR_TEXT_MAX];
    size_t i;

    for (c = 0; c < NCOLS; c++)
        width[c] = (int)strlen(head[c]);
    for (i = 0; i < l->n; i++) {
        row_cells(&l->entries[i], cells);
        for (c = 0; c < NCOLS; c++)
            if ((w = (int)strlen(cells[c])) > width[c])
                width[c] = w;
    }
    printable(shown, sizeof(shown), dir);
    fprintf(out, "Certificate directory: %s\n", shown);
    for (c = 0; c < NCOLS; c++)
        snprintf(cells[c], CERTSDIR_TEXT_MAX, "%s", head[c]);
    print_row(out, cells, width);
    for (c = 0; c < NCOLS; c++) {
        for (w = 0; w < width[c] + (c ? 2 : 1); w++)
            fputc('-', out);
        fputs(c == NCOLS - 1 ? "\n" : "+", out);
    }
    for (i = 0; i < l->n; i++) {
        row_cells(&l->entries[i], cells);
        print_row(out, cells, width);
    }
}

static json_t *str(const char *s)
{
    char buf[CERTSDIR_TEXT_MAX];

    printable(buf, sizeof(buf), s);
    return json_string(buf);
}

static json_t *entry_json(const struct certsdir_entry *e)
{
    json_t *o = json_object(), *addrs;
    char when[32];
    size_t i;

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "usage", str(certsdir_usage_name(e->usage)));
    json_object_set_new(o, "certificate_file", str(e->cert_file));
    json_object_set_new(o, "key_file", str(e->key_file));
    if (e->has_expiry) {
        pki_time_format(e->expires, 2, when, sizeof(when));
        json_object_set_new(o, "expires", str(when));
    } else {
        json_object_set_new(o, "expires", json_null());
    }
    json_object_set_new(o, "notes", str(e->notes));
    json_object_set_new(o, "error", str(e->error));
    if (e->usage == CERTSDIR_CA)
        json_object_set_new(o, "num_certs", json_integer((json_int_t)e->num_certs));
    if (e->usage == CERTSDIR_CLIENT)
        json_object_set_new(o, "user", str(e->user));
    if (e->usage == CERTSDIR_NODE || e->usage == CERTSDIR_UI) {
        addrs = json_array();
        for (i = 0; addrs != NULL && i < e->naddresses; i++)
            json_array_append_new(addrs, str(e->addresses[i]));
        json_object_set_new(o, "addresses", addrs);
    }
    return o;
}

int cli_print_list_json(FILE *out, const char *dir, const struct certsdir_listing *l)
{
    json_t *root = json_object(), *arr = json_array();
    size_t i;
    int rc = EXIT_OK;

    if (root == NULL || arr == NULL) {
        json_decref(root);
        json_decref(arr);
        fputs("pkictl: out of memory\n", stderr);
        return EXIT_FAILED;
    }
    json_object_set_new(root, "certs_dir", str(dir));
    for (i = 0; i < l->n; i++)
        json_array_append_new(arr, entry_json(&l->entries[i]));
    json_object_set_new(root, "certificates", arr);
    if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', out) == EOF) {
        fputs("pkictl: cannot write the JSON output\n", stderr);
        rc = EXIT_FAILED;
    }
    json_decref(root);
    return rc;
}
