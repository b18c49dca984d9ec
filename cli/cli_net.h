/*
 * cli_net.h - the client's side of one connection to zonekeeperd: connect
 * (unix or TCP), send a line, read reply lines, and wait for either the
 * daemon or a SIGINT/SIGTERM.
 *
 * Signals are caught (not fatal) once cli_signals_init has run; a wait
 * that a signal ends returns -EINTR, race-free through a self-pipe.
 */
#ifndef ZK_CLI_NET_H
#define ZK_CLI_NET_H

#include <stddef.h>

#define CLI_MAX_REPLY (16u << 20) /* longest reply line we accept */

/* Installs SIGINT/SIGTERM handlers and ignores SIGPIPE. 0 or -errno. */
int cli_signals_init(void);

/* Forgets the signals received so far (to send QUIT after one). */
void cli_signals_clear(void);

/* Connects to spec: "unix:PATH", "tcp:HOST:PORT" ("[V6]:PORT" too), or a
 * plain socket path. Returns the socket or -errno; on failure a message
 * goes to why. */
int cli_connect(const char *spec, char *why, size_t whylen);

/* Sends all n bytes. 0, -EINTR (a signal came), or -errno. */
int cli_send(int fd, const char *p, size_t n);

typedef struct cli_reader {
    int fd;
    char *buf;
    size_t len;     /* bytes in buf */
    size_t used;    /* bytes of the last returned line (consumed next call) */
    size_t cap;
} cli_reader;

/* Returns 1 with the next line (terminator stripped, NUL-terminated, valid
 * until the next call) in *line and *n; 0 at end of stream; -EINTR when a
 * signal came; -EMSGSIZE past CLI_MAX_REPLY; -ENOMEM or -errno. */
int cli_read_line(cli_reader *r, char **line, size_t *n);
void cli_reader_free(cli_reader *r);

#endif
