/* nodelay.c - diagnostic preload of bench/server_load.sh, not part of pkictl.
 *
 *   cc -shared -fPIC -o nodelay.so nodelay.c -ldl
 *   LD_PRELOAD=./nodelay.so pkictl server ...
 *
 * Sets TCP_NODELAY on every socket the server accepts, to show what the
 * HTTPS figures would be if the server set it: without it, a response the
 * TLS layer writes as more than one segment waits for the client's delayed
 * ACK (Nagle's algorithm, RFC 896 / RFC 1122 4.2.3.4), about 40 ms on Linux. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
    int one = 1, s;

    if (real_accept4 == NULL)
        real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT,
                                                                                "accept4");
    if (real_accept4 == NULL)
        return -1;
    s = real_accept4(fd, addr, len, flags);
    if (s >= 0)
        (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return accept4(fd, addr, len, 0);
}
