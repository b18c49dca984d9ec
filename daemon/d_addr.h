/*
 * d_addr.h - listen addresses: "HOST:PORT", "[v6]:PORT" (and a bare HOST
 * with a default port) to socket addresses and back.
 */
#ifndef ZK_DAEMON_D_ADDR_H
#define ZK_DAEMON_D_ADDR_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

/* Parses spec into ss; a spec without a port gets default_port (0 = the
 * port is required). Numeric addresses only: no name lookup on the loop.
 * Returns 0 or -EINVAL. */
int zkd_addr_parse(const char *spec, int default_port, struct sockaddr_storage *ss);
/* Formats sa as "HOST:PORT" / "[v6]:PORT". */
int zkd_addr_format(const struct sockaddr *sa, char *out, size_t len);
/* The address a bound TCP or UDP handle, or a uv_poll handle on a socket,
 * has (to log a port picked by :0). */
int zkd_addr_local(const uv_handle_t *h, char *out, size_t len);
/* The port of a sockaddr. */
int zkd_addr_port(const struct sockaddr *sa);

#endif
