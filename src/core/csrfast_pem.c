/*
 * csrfast_pem.c - the PEM text of a CSR (RFC 7468 section 7), read without
 * BIOs: one block, the label CERTIFICATE REQUEST (or NEW CERTIFICATE
 * REQUEST, RFC 7468 section 7's older form), no headers, and base64 that is
 * strict about its alphabet, padding and unused bits (RFC 4648 sections 3.3
 * and 3.5) so that one DER has one text. Line breaks and blanks inside the
 * body are skipped, as RFC 7468's lax parsers do.
 */
#include <stdlib.h>
#include <string.h>

#include "csrfast_int.h"

#define BEGIN "-----BEGIN "
#define END "-----END "
#define DASHES "-----"

static const char *const labels[] = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Base64 (RFC 4648 table 1) by table: value + 1, 0 for a character
 * outside the alphabet. The body is ~800 characters, so this loop is
 * most of the PEM's cost. */
#define B64_SPACE 100
#define B64_PAD 101
static const unsigned char b64_tab[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    [' '] = B64_SPACE, ['\t'] = B64_SPACE, ['\r'] = B64_SPACE, ['\n'] = B64_SPACE, ['='] = B64_PAD,
};

static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* The label of "-----BEGIN <label>-----" at p, which must be one of ours;
 * *body is set past the line's end. */
static int begin_line(const char *p, const char *end, const char **label, const char **body,
                      struct pki_err *err)
{
    const char *lab = p + strlen(BEGIN), *q;
    size_t n, i;

    q = memmem(lab, (size_t)(end - lab), DASHES, strlen(DASHES));
    if (q == NULL || memchr(lab, '\n', (size_t)(q - lab)) != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's PEM BEGIN line is malformed");
    n = (size_t)(q - lab);
    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strlen(labels[i]) == n && memcmp(lab, labels[i], n) == 0)
            break;
    if (i == sizeof(labels) / sizeof(labels[0]) && n <= 40 && printable(lab, n))
        return pki_err_set(err, PKI_ERR_INPUT, "the PEM block is a \"%.*s\", not a CERTIFICATE "
                           "REQUEST", (int)n, lab);
    if (i == sizeof(labels) / sizeof(labels[0]))
        return pki_err_set(err, PKI_ERR_INPUT, "the PEM block is not a CERTIFICATE REQUEST");
    *label = labels[i];
    q += strlen(DASHES);
    if (q < end && *q == '\r')
        q++;
    if (q >= end || *q != '\n')
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's PEM BEGIN line is malformed");
    *body = q + 1;
    return PKI_OK;
}

/* "-----END <label>-----" at p, then only blanks to the end of the text. */
static int end_line(const char *p, const char *end, const char *label, struct pki_err *err)
{
    size_t n = strlen(label);

    p += strlen(END);
    if ((size_t)(end - p) < n + strlen(DASHES) || memcmp(p, label, n) != 0 ||
        memcmp(p + n, DASHES, strlen(DASHES)) != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's PEM END line does not match its "
                           "BEGIN line (-----END %s-----)", label);
    for (p += n + strlen(DASHES); p < end && is_space(*p); p++)
        ;
    if (p == end)
        return PKI_OK;
    if (memmem(p, (size_t)(end - p), BEGIN, strlen(BEGIN)) != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR holds more than one PEM block: send "
                           "one request");
    return pki_err_set(err, PKI_ERR_INPUT, "the CSR has text after its PEM END line");
}

/* The base64 between the BEGIN and END lines of the only block. */
static int frame(const char *text, size_t len, const char **body, size_t *body_len,
                 struct pki_err *err)
{
    const char *p = text, *end = text + len, *label = NULL, *b = NULL, *e;

    while (p < end && is_space(*p))
        p++;
    if (p == end)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is empty");
    if ((size_t)(end - p) < strlen(BEGIN) || memcmp(p, BEGIN, strlen(BEGIN)) != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is not PEM: it must start with "
                           "\"-----BEGIN CERTIFICATE REQUEST-----\"");
    if (begin_line(p, end, &label, &b, err) != PKI_OK)
        return err->code;
    e = memmem(b, (size_t)(end - b), END, strlen(END));
    if (e == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's PEM block has no END line (is it "
                           "truncated?)");
    if (memmem(b, (size_t)(e - b), BEGIN, strlen(BEGIN)) != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR holds more than one PEM block: send "
                           "one request");
    if (end_line(e, end, label, err) != PKI_OK)
        return err->code;
    *body = b;
    *body_len = (size_t)(e - b);
    return PKI_OK;
}

static int b64_error(const char *what, size_t at, struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_INPUT, "the CSR's base64 %s at offset %zu of the PEM body",
                       what, at);
}

struct b64 {
    unsigned char *out;
    size_t cap, o;     /* room in out, bytes written */
    size_t nq, pad;    /* characters of the current quantum, '=' among them */
    unsigned long acc; /* its sextets */
    int done;          /* the padded quantum ended the data */
};

/* The last quantum's 4 - pad sextets; the bits past its last octet must
 * be zero (RFC 4648 3.5). */
static int emit_last(struct b64 *b)
{
    if (b->pad == 1) {
        if (b->acc & 0x3)
            return 0;
        b->out[b->o++] = (unsigned char)(b->acc >> 10);
        b->out[b->o++] = (unsigned char)(b->acc >> 2);
    } else {
        if (b->acc & 0xf)
            return 0;
        b->out[b->o++] = (unsigned char)(b->acc >> 4);
    }
    return 1;
}

/* '=' only as the third and fourth, or the fourth, character of the last
 * quantum (RFC 4648 4). */
static int b64_pad(struct b64 *b, size_t at, struct pki_err *err)
{
    if (b->nq < 2)
        return b64_error("has misplaced padding", at, err);
    b->pad++;
    if (++b->nq < 4)
        return PKI_OK;
    if (!emit_last(b))
        return b64_error("is not canonical (non-zero bits before the padding)", at, err);
    b->done = 1;
    return PKI_OK;
}

static int b64_sextet(struct b64 *b, unsigned v, size_t at, struct pki_err *err)
{
    if (b->pad > 0)
        return b64_error("has misplaced padding", at, err);
    b->acc = (b->acc << 6) | v;
    if (++b->nq < 4)
        return PKI_OK;
    /* cap is 3 * (len / 4) + 3, enough for the whole body, unless the body
     * is larger than any accepted CSR: then PKI_CSR_FAST_DER_MAX + 3. */
    if (b->o + 3 > b->cap)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is larger than %d bytes",
                           PKI_CSR_FAST_DER_MAX);
    b->out[b->o++] = (unsigned char)(b->acc >> 16);
    b->out[b->o++] = (unsigned char)(b->acc >> 8);
    b->out[b->o++] = (unsigned char)b->acc;
    b->nq = 0;
    b->acc = 0;
    return PKI_OK;
}

/* Whole quanta of four alphabet characters, the body's usual content, at
 * s[*i]: decoded without the per-character checks, which b64_decode's loop
 * then applies to whatever else comes (blanks, padding, errors). */
static void b64_quanta(const char *s, size_t len, size_t *i, struct b64 *b)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned t0, t1, t2, t3;

    while (*i + 4 <= len && b->o + 3 <= b->cap) {
        t0 = b64_tab[u[*i]];
        t1 = b64_tab[u[*i + 1]];
        t2 = b64_tab[u[*i + 2]];
        t3 = b64_tab[u[*i + 3]];
        /* 1..64 is the alphabet: 0 (invalid) and the blank / pad marks are not */
        if (t0 - 1u > 63 || t1 - 1u > 63 || t2 - 1u > 63 || t3 - 1u > 63)
            return;
        b->acc = (t0 - 1ul) << 18 | (t1 - 1ul) << 12 | (t2 - 1ul) << 6 | (t3 - 1ul);
        b->out[b->o++] = (unsigned char)(b->acc >> 16);
        b->out[b->o++] = (unsigned char)(b->acc >> 8);
        b->out[b->o++] = (unsigned char)b->acc;
        b->acc = 0;
        *i += 4;
    }
}

static int b64_decode(const char *s, size_t len, struct b64 *b, struct pki_err *err)
{
    unsigned char t;
    int rc = PKI_OK;

    for (size_t i = 0; i < len && rc == PKI_OK; i++) {
        if (b->nq == 0 && !b->done) {
            b64_quanta(s, len, &i, b);
            if (i == len)
                break;
        }
        t = b64_tab[(unsigned char)s[i]];
        if (t == B64_SPACE)
            continue;
        if (t == 0)
            rc = b64_error("has an invalid character", i, err);
        else if (b->done)
            rc = b64_error("goes on after its padding", i, err);
        else
            rc = t == B64_PAD ? b64_pad(b, i, err) : b64_sextet(b, t - 1u, i, err);
    }
    if (rc != PKI_OK)
        return rc;
    if (b->nq != 0 && !b->done)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's base64 is truncated (its length is "
                           "not a multiple of 4)");
    if (b->o > PKI_CSR_FAST_DER_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is larger than %d bytes",
                           PKI_CSR_FAST_DER_MAX);
    if (b->o == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's PEM block is empty");
    return PKI_OK;
}

int pki__csr_pem_decode(const char *text, size_t len, unsigned char **der, size_t *der_len,
                        struct pki_err *err)
{
    const char *body = NULL;
    struct b64 b;
    size_t body_len = 0;

    if (len > PKI_CSR_FAST_PEM_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is larger than %d bytes of PEM",
                           PKI_CSR_FAST_PEM_MAX);
    if (len == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is empty");
    if (frame(text, len, &body, &body_len, err) != PKI_OK)
        return err->code;
    /* RFC 1421 headers ("Proc-Type: 4,ENCRYPTED"): never in a CSR. */
    if (memchr(body, ':', body_len) != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's PEM block has headers; send the "
                           "request alone");
    memset(&b, 0, sizeof(b));
    b.cap = body_len / 4 * 3 + 3;
    if (b.cap > PKI_CSR_FAST_DER_MAX + 3)
        b.cap = PKI_CSR_FAST_DER_MAX + 3;
    if ((b.out = malloc(b.cap)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (b64_decode(body, body_len, &b, err) != PKI_OK) {
        free(b.out);
        return err->code;
    }
    *der = b.out;
    *der_len = b.o;
    return PKI_OK;
}
