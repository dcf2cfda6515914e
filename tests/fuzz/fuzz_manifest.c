/* fuzz_manifest: pki_manifest_parse on arbitrary bytes. Invariants: an
 * accepted manifest's references all resolve and its CA depths are bounded;
 * a refusal carries a negative code and a message. */
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>

#include "fuzz_common.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0, ""};
    struct pki_manifest m;
    size_t i;

    memset(&m, 0, sizeof(m));
    if (pki_manifest_parse((const char *)data, size, &m, &err) == PKI_OK) {
        for (i = 0; i < m.ncas; i++) {
            FUZZ_CHECK(m.cas[i].parent >= -1 && m.cas[i].parent < (int)m.ncas);
            FUZZ_CHECK(m.cas[i].depth >= 0 && m.cas[i].depth <= PKI_MANIFEST_DEPTH_MAX);
            FUZZ_CHECK(m.cas[i].name[0] != '\0' && m.cas[i].cert[0] != '/');
        }
        for (i = 0; i < m.nleaves; i++) {
            FUZZ_CHECK(m.leaves[i].ca >= 0 && m.leaves[i].ca < (int)m.ncas);
            FUZZ_CHECK(m.leaves[i].nsans <= PKI_NAME_HOSTS_MAX);
        }
        pki_manifest_free(&m);
    } else {
        FUZZ_CHECK(err.code < 0);
        FUZZ_CHECK(err.msg[0] != '\0');
        FUZZ_CHECK(m.cas == NULL);
    }
    ERR_clear_error();
    return 0;
}
