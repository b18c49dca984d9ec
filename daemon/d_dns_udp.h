/*
 * d_dns_udp.h - DNS over UDP on the daemon's loop (d_dns_udp.c); the TCP
 * side and the pairing of both on one address are in d_dns.c.
 */
#ifndef ZK_DAEMON_D_DNS_UDP_H
#define ZK_DAEMON_D_DNS_UDP_H

#include <stddef.h>
#include <sys/socket.h>

#include "d_server.h"

/* Binds a UDP socket to sa and answers queries on it from d's zone. The
 * listener joins d->listeners (closed with them, its socket after its
 * handle). Writes the bound address into bound (blen bytes). Returns 0 or a
 * negative errno (-EADDRINUSE when the port is taken). */
int zkd_dns_udp_listen(zkd *d, const struct sockaddr *sa, char *bound, size_t blen);

#endif
