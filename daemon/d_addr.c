/*
 * d_addr.c - parse and print listen addresses; see d_addr.h.
 */
#include "d_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int addr__port(const char *s, int *port)
{
    char *end;
    if (*s == '\0')
        return -EINVAL;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > 65535)
        return -EINVAL;
    *port = (int)v;
    return 0;
}

int zkd_addr_parse(const char *spec, int default_port, struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN + 1];
    int port = default_port;
    const char *p;
    memset(ss, 0, sizeof(*ss));
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || (size_t)(close - spec - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        p = close + 1;
        if (*p == ':' && addr__port(p + 1, &port) < 0)
            return -EINVAL;
        if (*p != ':' && *p != '\0')
            return -EINVAL;
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0 && (port || default_port)
                   ? 0 : -EINVAL;
    }
    p = strrchr(spec, ':');
    size_t hl = p ? (size_t)(p - spec) : strlen(spec);
    if (hl >= sizeof(host))
        return -EINVAL;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    if (p && addr__port(p + 1, &port) < 0)
        return -EINVAL;
    if (p == NULL && default_port == 0)
        return -EINVAL;
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0 ? 0 : -EINVAL;
}

int zkd_addr_format(const struct sockaddr *sa, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(out, len, "[%s]:%d", ip, ntohs(s6->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(out, len, "%s:%d", ip, ntohs(s4->sin_port));
    } else {
        return -EAFNOSUPPORT;
    }
    return 0;
}

int zkd_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

int zkd_addr_local(const uv_handle_t *h, char *out, size_t len)
{
    struct sockaddr_storage ss;
    int n = sizeof(ss), rc;
    uv_os_fd_t fd;
    if (h->type == UV_UDP) {
        rc = uv_udp_getsockname((const uv_udp_t *)h, (struct sockaddr *)&ss, &n);
    } else if (h->type == UV_POLL) {
        socklen_t sl = sizeof(ss);
        rc = uv_fileno(h, &fd);
        if (rc == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
            rc = -errno;
    } else {
        rc = uv_tcp_getsockname((const uv_tcp_t *)h, (struct sockaddr *)&ss, &n);
    }
    if (rc < 0)
        return rc;
    return zkd_addr_format((struct sockaddr *)&ss, out, len);
}
