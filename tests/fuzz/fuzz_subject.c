/* fuzz_subject.c - pki_subject_parse on arbitrary text ("/C=US/O=Example/CN=db"). */
#include "fuzz_common.h"

#include <openssl/err.h>

#include "subject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int allowed[] = {NID_countryName, NID_stateOrProvinceName, NID_localityName,
                                  NID_organizationName, NID_organizationalUnitName,
                                  NID_commonName};
    struct pki_err err = {0};
    char *text = fuzz_strdup(data, size);
    X509_NAME *name = pki_subject_parse(text, &err), *again;
    unsigned char *der = NULL;
    const unsigned char *p;
    unsigned seen = 0;
    char shown[256];
    int i, j, n, nid, der_len;

    if (name != NULL) {
        FUZZ_CHECK(text[0] == '/' && strlen(text) <= PKI_SUBJECT_TEXT_MAX);
        /* What the CLI accepts passes the check a CSR's subject goes through. */
        FUZZ_CHECK(pki_subject_check(name, &err) == PKI_OK);
        n = X509_NAME_entry_count(name);
        FUZZ_CHECK(n >= 1 && n <= 6);
        /* Each of C, ST, L, O, OU, CN at most once, 1..64 characters. */
        for (i = 0; i < n; i++) {
            const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
            const ASN1_STRING *s = X509_NAME_ENTRY_get_data(e);

            nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
            for (j = 0; j < 6 && allowed[j] != nid; j++)
                ;
            FUZZ_CHECK(j < 6);
            FUZZ_CHECK(!(seen & (1u << j)));
            seen |= 1u << j;
            FUZZ_CHECK(ASN1_STRING_length(s) >= 1);
            if (nid == NID_countryName)
                FUZZ_CHECK(ASN1_STRING_length(s) == 2);
        }
        FUZZ_CHECK(pki_subject_has_cn(name) == ((seen & (1u << 5)) != 0));
        pki_subject_format(name, shown, sizeof(shown));
        FUZZ_CHECK(memchr(shown, '\0', sizeof(shown)) != NULL);
        /* As DER (in a request or certificate) it reads back and passes again. */
        der_len = i2d_X509_NAME(name, &der);
        FUZZ_CHECK(der_len > 0);
        p = der;
        again = d2i_X509_NAME(NULL, &p, der_len);
        FUZZ_CHECK(again != NULL && p == der + der_len);
        FUZZ_CHECK(X509_NAME_cmp(name, again) == 0);
        FUZZ_CHECK(pki_subject_check(again, &err) == PKI_OK);
        X509_NAME_free(again);
        OPENSSL_free(der);
        X509_NAME_free(name);
    } else {
        FUZZ_CHECK(err.code < 0);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(text);
    ERR_clear_error();
    return 0;
}
