/*
 * cli_main.c - `zonekeeper`, the command-line client of zonekeeperd's line
 * protocol (SPEC section 3).
 *
 * The words after the options become one request line (cli_quote.c), sent
 * over a new connection; the reply line is printed and decides the exit
 * status: 0 for OK, 1 for ERR, 2 for usage and connection trouble. Two
 * verbs keep the connection, because a session ends with it: WATCH prints
 * events until interrupted, and REGISTER holds the registration until
 * SIGINT/SIGTERM, then says QUIT. Everything blocks; there is no loop
 * library, only poll() in cli_net.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli_net.h"
#include "cli_quote.h"

#ifndef ZK_VERSION
#define ZK_VERSION "unknown"
#endif

#define CLI_EXIT_OK 0
#define CLI_EXIT_ERR 1
#define CLI_EXIT_FAIL 2

#define CLI_DEV_SOCKET "build/run/zonekeeper.sock"
#define CLI_SYSTEM_SOCKET "/run/zonekeeper/zonekeeper.sock"

enum cli_mode { CLI_ONCE, CLI_WATCH, CLI_REGISTER };

typedef struct cli_opts {
    const char *socket;     /* "unix:PATH", "tcp:HOST:PORT" or a path */
    char tcp[300];          /* "tcp:" + the -t argument */
    int argc;               /* the request's words */
    char **argv;
} cli_opts;

static const char cli__usage[] =
    "Usage: zonekeeper [-s SOCKET] [-t HOST:PORT] COMMAND [ARGS...]\n"
    "\n"
    "Sends one request to zonekeeperd and prints the reply line.\n"
    "\n"
    "  -s, --socket SOCKET   socket path, or unix:PATH, or tcp:HOST:PORT (default:\n"
    "                        $ZONEKEEPER_SOCKET, else " CLI_DEV_SOCKET " if it\n"
    "                        exists, else " CLI_SYSTEM_SOCKET ")\n"
    "  -t, --tcp HOST:PORT   connect over TCP (client.listen = \"tcp:...\")\n"
    "  -h, --help            show this help\n"
    "  -V, --version         show the version\n"
    "\n"
    "Commands (case-insensitive; arguments are quoted for the protocol as needed):\n"
    "  register SERVICE ADDRESS PORT [id=ID] [weight=N] [priority=N] [tag=T]... [txt=K=V]...\n"
    "                        register, then stay connected until Ctrl-C or SIGTERM:\n"
    "                        the registration lives as long as this process\n"
    "  deregister SERVICE ID\n"
    "  create PATH [DATA] [ephemeral] [sequential] [container] [parents]\n"
    "  get PATH              set PATH DATA [version=N]      delete PATH [version=N]\n"
    "  exists PATH           children PATH                  ping\n"
    "  watch PATH [recursive]\n"
    "                        print OK, then one EVENT line per change until Ctrl-C\n"
    "Ephemeral nodes of other commands vanish when the command exits.\n"
    "\n"
    "Exit status: 0 OK, 1 ERR reply, 2 usage or connection error.\n";

static int cli__fail(const char *what, const char *detail)
{
    fprintf(stderr, "zonekeeper: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return CLI_EXIT_FAIL;
}

static const char *cli__default_socket(void)
{
    const char *env = getenv("ZONEKEEPER_SOCKET");

    if (env && *env)
        return env;
    return access(CLI_DEV_SOCKET, F_OK) == 0 ? CLI_DEV_SOCKET : CLI_SYSTEM_SOCKET;
}

/* Returns -1 to go on, or the exit status (help, version, usage error). */
static int cli__parse_args(int argc, char **argv, cli_opts *o)
{
    static const struct option longs[] = {
        { "socket", required_argument, NULL, 's' }, { "tcp", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "+s:t:hV", longs, NULL)) != -1) {
        if (c == 's') {
            o->socket = optarg;
        } else if (c == 't') {
            snprintf(o->tcp, sizeof(o->tcp), "tcp:%s", optarg);
            o->socket = o->tcp;
        } else if (c == 'h') {
            fputs(cli__usage, stdout);
            return CLI_EXIT_OK;
        } else if (c == 'V') {
            printf("zonekeeper %s\n", ZK_VERSION);
            return CLI_EXIT_OK;
        } else {
            fputs("Try 'zonekeeper --help'.\n", stderr);
            return CLI_EXIT_FAIL;
        }
    }
    o->argc = argc - optind;
    o->argv = argv + optind;
    if (o->argc < 1)
        return cli__fail("no command", "try 'zonekeeper --help'");
    if (!o->socket)
        o->socket = cli__default_socket();
    return -1;
}

static int cli__mode(const char *verb)
{
    if (strcasecmp(verb, "watch") == 0)
        return CLI_WATCH;
    if (strcasecmp(verb, "register") == 0)
        return CLI_REGISTER;
    return CLI_ONCE;
}

static bool cli__print(const char *line, size_t n)
{
    fwrite(line, 1, n, stdout);
    putchar('\n');
    return fflush(stdout) == 0;
}

static int cli__read_error(int rc)
{
    if (rc == 0)
        return cli__fail("connection closed by zonekeeperd", NULL);
    if (rc == -EINTR)
        return cli__fail("interrupted", NULL);
    if (rc == -EMSGSIZE)
        return cli__fail("reply line too long", NULL);
    return cli__fail("read", strerror(-rc));
}

/* Reads lines up to and including the reply, printing them (events before
 * it too) when print; returns the exit status the reply means. */
static int cli__reply(cli_reader *r, bool print)
{
    char *line;
    size_t n;
    int rc;

    while ((rc = cli_read_line(r, &line, &n)) == 1) {
        if (print)
            cli__print(line, n);
        if (strncmp(line, "EVENT ", 6) == 0)
            continue;
        if (strncmp(line, "OK", 2) == 0 && (line[2] == '\0' || line[2] == ' '))
            return CLI_EXIT_OK;
        if (strncmp(line, "ERR", 3) == 0 && (line[3] == '\0' || line[3] == ' '))
            return CLI_EXIT_ERR;
        return cli__fail("unexpected reply", NULL);
    }
    return cli__read_error(rc);
}

/* Prints every line until a signal (0) or the end of the connection. */
static int cli__follow(cli_reader *r)
{
    char *line;
    size_t n;
    int rc;

    while ((rc = cli_read_line(r, &line, &n)) == 1)
        if (!cli__print(line, n))
            return CLI_EXIT_FAIL;
    return rc == -EINTR ? CLI_EXIT_OK : cli__read_error(rc);
}

/* Ends a registration politely: QUIT, and its OK. */
static int cli__quit(int fd, cli_reader *r)
{
    cli_signals_clear();
    if (cli_send(fd, "QUIT\n", 5) < 0)
        return CLI_EXIT_OK; /* the daemon is gone: so is the registration */
    return cli__reply(r, false) == CLI_EXIT_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int cli__session(int fd, const cli_opts *o)
{
    cli_reader r = { .fd = fd };
    size_t len = 0;
    char *req = cli_request_line(o->argc, o->argv, &len);
    int mode = cli__mode(o->argv[0]);
    int rc;

    if (!req)
        return cli__fail("out of memory", NULL);
    rc = cli_send(fd, req, len);
    free(req);
    if (rc < 0)
        return cli__fail("send", strerror(-rc));
    rc = cli__reply(&r, true);
    if (rc == CLI_EXIT_OK && mode == CLI_WATCH)
        rc = cli__follow(&r);
    else if (rc == CLI_EXIT_OK && mode == CLI_REGISTER)
        rc = cli__follow(&r) == CLI_EXIT_OK ? cli__quit(fd, &r) : CLI_EXIT_FAIL;
    cli_reader_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
    cli_opts o = { 0 };
    char why[512];
    int rc = cli__parse_args(argc, argv, &o);
    int fd;

    if (rc >= 0)
        return rc;
    if (cli_signals_init() < 0)
        return cli__fail("signals", strerror(errno));
    fd = cli_connect(o.socket, why, sizeof(why));
    if (fd < 0) {
        fprintf(stderr, "zonekeeper: cannot connect to %s (is zonekeeperd running?)\n", why);
        return CLI_EXIT_FAIL;
    }
    rc = cli__session(fd, &o);
    close(fd);
    return rc;
}
