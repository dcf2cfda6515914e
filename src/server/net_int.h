/*
 * net_int.h - what the server loop's files share (net.c, net_addr.c,
 * net_resp.c); not for the rest of the server, which uses net.h.
 */
#ifndef SRV_NET_INT_H
#define SRV_NET_INT_H

#include <stddef.h>
#include <sys/socket.h>

#include "err.h"
#include "net.h"

#define SRV_NET_BACKLOG 128

/* "a.b.c.d:port" or "[v6]:port" into ss; names are not resolved. */
PKI_MUST_CHECK int srv__net_parse_listen(const char *s, struct sockaddr_storage *ss,
                                         socklen_t *sslen, struct pki_err *err);

/* The header block of one answer into hdr (len bytes at most): its length,
 * or -1 if it does not fit. RFC 9110 8.6: a 204 carries no Content-Length;
 * a HEAD answer carries the length a GET would have. */
int srv__net_format_head(char *hdr, size_t len, int status, int keep_alive,
                         const struct srv_resp *resp);

#endif
