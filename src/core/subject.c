/* subject.c - parsing, checking and printing distinguished names. */
#include "subject.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <string.h>

#define SUBJECT_ATTRS_MAX 16

static const char *const allowed_attrs[] = {"C", "ST", "L", "O", "OU", "CN"};

/* Characters (not bytes) in UTF-8 text, or -1 if it holds a C0 or C1
 * control character (U+0000-U+001F, U+007F-U+009F). */
static int utf8_chars(const unsigned char *s, size_t len)
{
    size_t i;
    int chars = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f ||
            (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
            return -1;
        chars += (s[i] & 0xc0) != 0x80;
    }
    return chars;
}

static int attr_index(const char *key)
{
    size_t i;

    for (i = 0; i < sizeof(allowed_attrs) / sizeof(allowed_attrs[0]); i++)
        if (strcmp(key, allowed_attrs[i]) == 0)
            return (int)i;
    return -1;
}

/* Copies one "ATTR=VALUE" segment starting at *p (after a '/') into key and
 * value, undoing "\/" escapes; leaves *p at the next '/' or the end. */
static int next_segment(const char **p, char *key, size_t klen, char *value, size_t vlen,
                        struct pki_err *err)
{
    size_t k = 0, v = 0;
    const char *s = *p;

    while (*s != '\0' && *s != '=' && *s != '/' && k + 1 < klen)
        key[k++] = *s++;
    key[k] = '\0';
    if (*s != '=')
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: expected ATTR=VALUE after "
                           "'/' (as in /O=Example/CN=db.example.com)");
    for (s++; *s != '\0' && *s != '/'; s++) {
        if (*s == '\\' && s[1] == '/')
            s++;
        if (v + 1 >= vlen)
            return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: the value of %s is longer "
                               "than %d characters", key, PKI_SUBJECT_VALUE_MAX);
        value[v++] = *s;
    }
    value[v] = '\0';
    *p = s;
    return PKI_OK;
}

static int check_attr(const char *key, const char *value, unsigned *seen, struct pki_err *err)
{
    int i = attr_index(key);

    if (i < 0)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: unknown attribute \"%.20s\" "
                           "(use C, ST, L, O, OU, CN)", key);
    if (*seen & (1u << i))
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: %s is given twice", key);
    *seen |= 1u << i;
    int chars = utf8_chars((const unsigned char *)value, strlen(value));

    if (value[0] == '\0')
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: %s is empty", key);
    if (chars < 0)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: %s has a control character", key);
    if (chars > PKI_SUBJECT_VALUE_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: the value of %s is longer "
                           "than %d characters", key, PKI_SUBJECT_VALUE_MAX);
    /* RFC 5280 appendix A.1: countryName is a two-letter PrintableString. */
    if (strcmp(key, "C") == 0 &&
        (strlen(value) != 2 || !((value[0] | 0x20) >= 'a' && (value[0] | 0x20) <= 'z') ||
         !((value[1] | 0x20) >= 'a' && (value[1] | 0x20) <= 'z')))
        return pki_err_set(err, PKI_ERR_INPUT, "invalid subject: C must be a two-letter "
                           "country code, not \"%s\"", value);
    return PKI_OK;
}

X509_NAME *pki_subject_parse(const char *text, struct pki_err *err)
{
    char key[16], value[PKI_SUBJECT_VALUE_MAX * 4 + 2]; /* UTF-8: up to 4 bytes a character */
    const char *p = text;
    X509_NAME *name = NULL;
    unsigned seen = 0;

    if (text == NULL || text[0] != '/' || strlen(text) > PKI_SUBJECT_TEXT_MAX) {
        pki_err_set(err, PKI_ERR_INPUT, "invalid subject: it must start with '/' and be at most "
                    "%d characters (as in /O=Example/CN=db.example.com)", PKI_SUBJECT_TEXT_MAX);
        return NULL;
    }
    name = X509_NAME_new();
    if (name == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    while (*p == '/') {
        p++;
        if (next_segment(&p, key, sizeof(key), value, sizeof(value), err) != PKI_OK ||
            check_attr(key, value, &seen, err) != PKI_OK)
            goto fail;
        if (X509_NAME_add_entry_by_txt(name, key, strcmp(key, "C") == 0 ? V_ASN1_PRINTABLESTRING
                                                                        : MBSTRING_UTF8,
                                       (const unsigned char *)value, -1, -1, 0) != 1) {
            pki_err_set_ssl(err, PKI_ERR_INPUT, "invalid subject: cannot encode %s", key);
            goto fail;
        }
    }
    if (*p != '\0') {
        pki_err_set(err, PKI_ERR_INPUT, "invalid subject: unexpected text after the last "
                    "attribute");
        goto fail;
    }
    return name;
fail:
    X509_NAME_free(name);
    return NULL;
}

int pki_subject_check(const X509_NAME *name, struct pki_err *err)
{
    unsigned char *utf8 = NULL;
    int i, len, chars, n = X509_NAME_entry_count(name);

    if (n > SUBJECT_ATTRS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the subject has %d attributes (at most %d)", n,
                           SUBJECT_ATTRS_MAX);
    for (i = 0; i < n; i++) {
        const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));

        len = ASN1_STRING_to_UTF8(&utf8, s);
        if (len < 0)
            return pki_err_set_ssl(err, PKI_ERR_INPUT, "subject attribute %d is not valid text",
                                   i + 1);
        chars = utf8_chars(utf8, (size_t)len);
        OPENSSL_free(utf8);
        utf8 = NULL;
        if (chars < 0)
            return pki_err_set(err, PKI_ERR_INPUT, "subject attribute %d has a control "
                               "character", i + 1);
        if (chars == 0 || chars > PKI_SUBJECT_VALUE_MAX)
            return pki_err_set(err, PKI_ERR_INPUT, "subject attribute %d is empty or longer "
                               "than %d characters", i + 1, PKI_SUBJECT_VALUE_MAX);
    }
    return PKI_OK;
}

int pki_subject_has_cn(const X509_NAME *name)
{
    return X509_NAME_get_index_by_NID(name, NID_commonName, -1) >= 0;
}

void pki_subject_format(const X509_NAME *name, char *buf, size_t len)
{
    BIO *bio;
    char *data;
    long n = 0;
    size_t i;

    if (len == 0)
        return;
    buf[0] = '\0';
    if ((bio = BIO_new(BIO_s_mem())) == NULL)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        n = BIO_get_mem_data(bio, &data);
    for (i = 0; n > 0 && i + 1 < len && (long)i < n; i++)
        buf[i] = ((unsigned char)data[i] >= 0x20 && (unsigned char)data[i] < 0x7f) ? data[i] : '?';
    buf[i] = '\0';
    BIO_free(bio);
}
