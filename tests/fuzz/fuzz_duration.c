/* fuzz_duration.c - pki_duration_parse on arbitrary text. */
#include "fuzz_common.h"

#include "duration.h"

#define MAX_SECONDS (INT64_MAX / INT64_C(1000000000))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    int64_t seconds = -42, again = -42;
    char fmt[64];
    char *text = fuzz_strdup(data, size);
    int rc = pki_duration_parse(text, &seconds, &err);

    if (rc == PKI_OK) {
        FUZZ_CHECK(seconds >= 1);
        FUZZ_CHECK(seconds <= MAX_SECONDS);
        /* What we format, we read back to the same value. */
        pki_duration_format(seconds, fmt, sizeof(fmt));
        FUZZ_CHECK(pki_duration_parse(fmt, &again, &err) == PKI_OK);
        FUZZ_CHECK(again == seconds);
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(seconds == -42); /* untouched on failure */
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(text);
    return 0;
}
