/* fuzz_signer_msg.c - the signer process's request handler on arbitrary
 * messages (fuzz_signer_frames covers the framing around them). The front end parses network input and may be taken over, so
 * the signer treats every message from it as hostile: whatever arrives, it
 * answers with a well-formed reply (or refuses) and never reads or writes
 * out of bounds. Key generation (GEN_ROOT, GEN_INTERMEDIATE) is skipped:
 * an RSA-4096 key per input would only measure keygen. State (loaded keys,
 * the issuer) carries over between inputs, as in the real process. */
#include "fuzz_common.h"

#include <stdlib.h>

#include "signer_child.h"

static struct srv__child child;

static void setup(void)
{
    static unsigned char out[SRV__MSG_MAX];

    child.rfd = child.wfd = -1;
    memset(child.store_key, 0x5a, sizeof(child.store_key));
    child.out = out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0, ""};
    struct srv__msg reply;
    struct srv__rd rd;
    int32_t op = 0, head = 0;

    if (child.out == NULL)
        setup();
    if (size > SRV__MSG_MAX)
        return 0;
    if (size >= 4) {
        int32_t first = (int32_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                                  (uint32_t)data[2] << 8 | data[3]);
        if (first == SRV__OP_GEN_ROOT || first == SRV__OP_GEN_INTERMEDIATE ||
            first == SRV__OP_STOP)
            return 0;
    }
    memset(&reply, 0, sizeof(reply));
    if (srv__child_handle(&child, data, size, &reply, &op, &err) == PKI_OK) {
        /* A reply the front end will read: within bounds, well framed. */
        FUZZ_CHECK(!reply.overflow && reply.len >= 4 && reply.len <= SRV__MSG_MAX);
        srv__rd_start(&rd, reply.buf, reply.len, &head);
    } else {
        FUZZ_CHECK(err.code != 0 && err.msg[0] != '\0');
    }
    return 0;
}
