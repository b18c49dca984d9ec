/*
 * cli_net.c - sockets for the zonekeeper client, with plain POSIX calls.
 *
 * The client blocks: every wait is one poll() on the socket and on the
 * read end of a self-pipe that the SIGINT/SIGTERM handler writes to, so a
 * signal never slips in between "check the flag" and "sleep". Handlers are
 * installed without SA_RESTART, so a blocking send() returns EINTR too.
 * Replies are read into a growing buffer capped at CLI_MAX_REPLY.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_net.h"

static int cli__sigpipe[2] = { -1, -1 };

static void cli__on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (write(cli__sigpipe[1], &c, 1) < 0) {
        /* full pipe: a signal is pending already */
    }
    errno = saved;
}

int cli_signals_init(void)
{
    struct sigaction sa;

    if (pipe(cli__sigpipe) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl(cli__sigpipe[i], F_SETFL, O_NONBLOCK);
        fcntl(cli__sigpipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cli__on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void cli_signals_clear(void)
{
    char drain[16];

    while (cli__sigpipe[0] >= 0 && read(cli__sigpipe[0], drain, sizeof(drain)) > 0)
        continue;
}

static bool cli__signalled(void)
{
    struct pollfd p = { .fd = cli__sigpipe[0], .events = POLLIN };
    return cli__sigpipe[0] >= 0 && poll(&p, 1, 0) == 1;
}

/* Waits until fd has the events, or a signal came (-EINTR). */
static int cli__wait(int fd, short events)
{
    struct pollfd p[2] = { { .fd = fd, .events = events },
                           { .fd = cli__sigpipe[0], .events = POLLIN } };

    for (;;) {
        int rc = poll(p, cli__sigpipe[0] >= 0 ? 2 : 1, -1);
        if (rc < 0 && errno != EINTR)
            return -errno;
        if (rc > 0 && p[1].revents)
            return -EINTR;
        if (rc > 0 && p[0].revents)
            return 0;
    }
}

static int cli__connect_unix(const char *path, char *why, size_t whylen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(why, whylen, "%s: socket path too long", path);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = errno;
        snprintf(why, whylen, "%s: %s", path, strerror(err));
        if (fd >= 0)
            close(fd);
        return -err;
    }
    return fd;
}

/* Tries each address of host:port in turn. */
static int cli__connect_addrs(const char *host, const char *port, char *why, size_t whylen)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res, *ai;
    int fd = -1, err = ECONNREFUSED, gai = getaddrinfo(host, port, &hints, &res);

    if (gai != 0) {
        snprintf(why, whylen, "%s: %s", host, gai_strerror(gai));
        return -EHOSTUNREACH;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(why, whylen, "%s:%s: %s", host, port, strerror(err));
    return fd < 0 ? -err : fd;
}

static int cli__connect_tcp(const char *hostport, char *why, size_t whylen)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    const char *h = hostport;
    size_t n;

    if (!colon || colon[1] == '\0') {
        snprintf(why, whylen, "%s: expected HOST:PORT", hostport);
        return -EINVAL;
    }
    n = (size_t)(colon - hostport);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(host)) {
        snprintf(why, whylen, "%s: bad host", hostport);
        return -EINVAL;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    return cli__connect_addrs(host, colon + 1, why, whylen);
}

int cli_connect(const char *spec, char *why, size_t whylen)
{
    if (strncmp(spec, "tcp:", 4) == 0)
        return cli__connect_tcp(spec + 4, why, whylen);
    if (strncmp(spec, "unix:", 5) == 0)
        spec += 5;
    return cli__connect_unix(spec, why, whylen);
}

int cli_send(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w;
        if (cli__signalled())
            return -EINTR;
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EINTR)
            return -errno;
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
    return 0;
}

/* Makes room for at least one more read into r->buf; the buffer never
 * exceeds a longest line plus its CR LF. */
static int cli__grow(cli_reader *r)
{
    size_t most = CLI_MAX_REPLY + 2;
    size_t cap = r->cap ? r->cap * 2 : 4096;
    char *p;

    if (r->len + 1 < r->cap)
        return 0;
    if (r->cap >= most + 1)
        return -EMSGSIZE;
    cap = cap < most + 1 ? cap : most + 1;
    p = realloc(r->buf, cap);
    if (!p)
        return -ENOMEM;
    r->buf = p;
    r->cap = cap;
    return 0;
}

/* Reads once more into the buffer: 1 data, 0 EOF, or a negative error. */
static int cli__fill(cli_reader *r)
{
    ssize_t got;
    int rc = cli__grow(r);

    if (rc == 0)
        rc = cli__wait(r->fd, POLLIN);
    if (rc < 0)
        return rc;
    got = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -errno;
    r->len += (size_t)got;
    return got > 0;
}

int cli_read_line(cli_reader *r, char **line, size_t *n)
{
    size_t scanned = 0;

    if (r->used) {
        memmove(r->buf, r->buf + r->used, r->len - r->used);
        r->len -= r->used;
        r->used = 0;
    }
    for (;;) {
        char *nl = r->len ? memchr(r->buf + scanned, '\n', r->len - scanned) : NULL;
        int rc;
        if (nl) {
            *n = (size_t)(nl - r->buf);
            r->used = *n + 1;
            *n -= *n > 0 && r->buf[*n - 1] == '\r';
            if (*n > CLI_MAX_REPLY)
                return -EMSGSIZE;
            r->buf[*n] = '\0';
            *line = r->buf;
            return 1;
        }
        scanned = r->len;
        rc = cli__fill(r);
        if (rc <= 0)
            return rc;
    }
}

void cli_reader_free(cli_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}
