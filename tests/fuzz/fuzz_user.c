/* fuzz_user.c - pki_user_check on arbitrary text. */
#include "fuzz_common.h"

#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    char *user = fuzz_strdup(data, size);
    int rc = pki_user_check(user, &err);

    if (rc == PKI_OK) {
        size_t n = strlen(user), i;

        /* It becomes part of a file name: hold it to the documented rules. */
        FUZZ_CHECK(n >= 1 && n <= PKI_NAME_USER_MAX);
        FUZZ_CHECK(strstr(user, "..") == NULL);
        FUZZ_CHECK(user[0] != '.' && user[0] != '-' && user[0] != '@');
        for (i = 0; i < n; i++)
            FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789_.@-", user[i]) != NULL);
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(user);
    return 0;
}
