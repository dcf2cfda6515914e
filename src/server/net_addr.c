/* net_addr.c - listen addresses: parsed (IPv4:PORT, [IPv6]:PORT), bound,
 * and read back from a socket (the port picked for port 0). */
#include "net_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "a.b.c.d:port" or "[v6]:port"; names are not resolved. */
int srv__net_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
                        struct pki_err *err)
{
    const char *colon = s != NULL ? strrchr(s, ':') : NULL, *h = s;
    char host[INET6_ADDRSTRLEN + 1], *end = NULL;
    size_t hlen = colon != NULL ? (size_t)(colon - s) : 0;
    unsigned long port = 0;
    int v6 = s != NULL && s[0] == '[';

    if (v6 && hlen >= 2 && s[hlen - 1] == ']') {
        h = s + 1;
        hlen -= 2;
    } else if (v6) {
        hlen = 0;
    }
    if (colon != NULL && colon[1] >= '0' && colon[1] <= '9' && strlen(colon + 1) <= 5)
        port = strtoul(colon + 1, &end, 10);
    if (hlen == 0 || hlen >= sizeof(host) || end == NULL || *end != '\0' || port > 65535)
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*a6);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1)
            return PKI_OK;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sslen = sizeof(*a4);
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1)
            return PKI_OK;
    }
bad:
    return pki_err_set(err, PKI_ERR_USAGE,
                       "listen address \"%s\": expected IPv4:PORT or [IPv6]:PORT "
                       "(e.g. 127.0.0.1:8555; port 0 picks a free one)",
                       s != NULL ? s : "");
}

/* The address actually bound (the port, when 0 was asked for). */
int srv_net_fd_address(int fd, char *out, size_t outlen, struct pki_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN];
    const void *a;
    unsigned port;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return pki_err_set(err, PKI_ERR_IO, "getsockname: %s", strerror(errno));
    if (ss.ss_family == AF_INET6) {
        a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        a = &((struct sockaddr_in *)&ss)->sin_addr;
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    if (inet_ntop(ss.ss_family, a, ip, sizeof(ip)) == NULL)
        return pki_err_set(err, PKI_ERR_IO, "inet_ntop: %s", strerror(errno));
    snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
    return PKI_OK;
}

int srv_net_bind(const char *addr, int *fd, struct pki_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int one = 1, s;

    if (srv__net_parse_listen(addr, &ss, &sslen, err) < 0)
        return err->code;
    s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pki_err_set(err, PKI_ERR_IO, "socket: %s", strerror(errno));
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s, (struct sockaddr *)&ss, sslen) != 0 || listen(s, SRV_NET_BACKLOG) != 0) {
        pki_err_set(err, PKI_ERR_IO, "cannot listen on %s: %s", addr, strerror(errno));
        close(s);
        return err->code;
    }
    *fd = s;
    return PKI_OK;
}

