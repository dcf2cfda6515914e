/* fuzz_signer_frames.c - the reader of the signer's framed messages
 * (srv__in_next, signer_proto.c) on arbitrary bytes through a real pipe.
 * The signer reads what a front end that may be taken over writes: whatever
 * the bytes, every message it hands out is one that was written whole,
 * within the bound asked for, and the stream ends at EOF only when every
 * byte was taken; anything else ends in EPROTO or EMSGSIZE. The first input
 * byte picks the bound (SRV__MSG_MAX or 64 bytes). */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "signer_proto.h"

/* Up to what a default pipe (64 KiB) takes in one write. */
#define FRAMES_MAX 60000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct srv__in in;
    const unsigned char *m;
    size_t cap, taken = 0;
    int p[2];
    long n;

    if (size < 1 || size > FRAMES_MAX + 1)
        return 0;
    cap = data[0] & 1 ? SRV__MSG_MAX : 64;
    data++;
    size--;
    if (in.buf == NULL && !srv__in_init(&in))
        abort();
    if (pipe2(p, O_NONBLOCK) != 0)
        abort();
    if (size > 0 && write(p[1], data, size) != (ssize_t)size)
        abort();
    close(p[1]);
    while ((n = srv__in_next(p[0], &in, cap, &m, 0)) > 0) {
        FUZZ_CHECK(n >= 4 && (size_t)n <= cap);
        FUZZ_CHECK(m >= in.buf + 4 && m + n <= in.buf + in.cap);
        taken += 4 + (size_t)n;
        FUZZ_CHECK(taken <= size);
        FUZZ_CHECK(memcmp(m, data + taken - (size_t)n, (size_t)n) == 0);
    }
    if (n == 0)
        FUZZ_CHECK(taken == size);
    else
        FUZZ_CHECK(errno == EPROTO || errno == EMSGSIZE);
    close(p[0]);
    /* The next input starts from an empty reader, as a new signer would. */
    srv__in_free(&in);
    return 0;
}
