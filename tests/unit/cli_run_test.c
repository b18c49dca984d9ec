/*
 * cli_run_test.c - the built `zonekeeper` binary against a scripted fake
 * daemon on a unix socket: the request bytes it sends, what it prints, its
 * exit status, and the long-lived verbs (WATCH until SIGINT, REGISTER until
 * SIGTERM and then QUIT).
 *
 * The test is the server: it listens, starts the client with -s, accepts,
 * checks the request line and writes the scripted reply. Signals go to the
 * client's pid only. ZK_CLI_BIN is the binary's path (from CMake).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef ZK_CLI_BIN
#error "ZK_CLI_BIN must name the zonekeeper binary"
#endif

typedef struct fake {
    char dir[64];
    char path[96];
    int listen_fd;
    int conn;       /* accepted connection of the client */
    int out;        /* read end of the client's stdout */
    pid_t pid;
    char got[4096]; /* what the client printed */
    size_t got_len;
} fake;

static int fake_setup(void **state)
{
    fake *f = calloc(1, sizeof(*f));
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/cli_run.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/zk.sock", f->dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(f->listen_fd >= 0);
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->listen_fd, 4), 0);
    *state = f;
    return 0;
}

static int fake_teardown(void **state)
{
    fake *f = *state;

    close(f->listen_fd);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Starts the client with argv (NULL-terminated, after "-s SOCKET"). */
static void start_cli(fake *f, const char *const *args)
{
    const char *argv[16] = { ZK_CLI_BIN, "-s", f->path };
    int pipefd[2];
    size_t n = 3;

    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    assert_int_equal(pipe(pipefd), 0);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        execv(ZK_CLI_BIN, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    f->out = pipefd[0];
    f->got_len = 0;
    f->conn = accept(f->listen_fd, NULL, NULL);
    assert_true(f->conn >= 0);
}

/* Reads the client's request up to its newline and compares it. */
static void expect_request(fake *f, const char *want)
{
    char buf[1024];
    size_t n = 0;

    while (n < sizeof(buf) - 1 && (n == 0 || buf[n - 1] != '\n')) {
        ssize_t r = read(f->conn, buf + n, 1);
        assert_true(r == 1);
        n++;
    }
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void reply(fake *f, const char *text)
{
    assert_int_equal(write(f->conn, text, strlen(text)), (ssize_t)strlen(text));
}

/* Reads the client's stdout until it holds want (or EOF). */
static void wait_output(fake *f, const char *want)
{
    while (!strstr(f->got, want)) {
        ssize_t r = read(f->out, f->got + f->got_len, sizeof(f->got) - 1 - f->got_len);
        if (r <= 0)
            break;
        f->got_len += (size_t)r;
        f->got[f->got_len] = '\0';
    }
    assert_non_null(strstr(f->got, want));
}

/* Reads the client's stdout to its end, waits for the client, and returns
 * its exit status. */
static int finish(fake *f)
{
    int status;
    ssize_t r;

    while ((r = read(f->out, f->got + f->got_len, sizeof(f->got) - 1 - f->got_len)) > 0) {
        f->got_len += (size_t)r;
        f->got[f->got_len] = '\0';
    }
    assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
    close(f->out);
    close(f->conn);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_ok(void **state)
{
    fake *f = *state;
    const char *args[] = { "create", "/a b", "say \"hi\"", "parents", NULL };

    start_cli(f, args);
    expect_request(f, "create \"/a b\" \"say \\\"hi\\\"\" parents\n");
    reply(f, "OK /a b\n");
    wait_output(f, "OK /a b\n");
    assert_int_equal(finish(f), 0);
}

static void test_err(void **state)
{
    fake *f = *state;
    const char *args[] = { "get", "/missing", NULL };

    start_cli(f, args);
    expect_request(f, "get /missing\n");
    reply(f, "ERR NONODE /missing does not exist\r\n");
    wait_output(f, "ERR NONODE /missing does not exist\n");
    assert_int_equal(finish(f), 1);
}

static void test_closed_without_reply(void **state)
{
    fake *f = *state;
    const char *args[] = { "ping", NULL };

    start_cli(f, args);
    expect_request(f, "ping\n");
    shutdown(f->conn, SHUT_RDWR);
    assert_int_equal(finish(f), 2);
}

static void test_watch_until_sigint(void **state)
{
    fake *f = *state;
    const char *args[] = { "watch", "/services", "recursive", NULL };

    start_cli(f, args);
    expect_request(f, "watch /services recursive\n");
    reply(f, "OK\nEVENT created /services/web zxid=7\n");
    wait_output(f, "EVENT created /services/web zxid=7\n");
    reply(f, "EVENT deleted /services/web zxid=8\n");
    wait_output(f, "EVENT deleted /services/web zxid=8\n");
    assert_string_equal(f->got, "OK\nEVENT created /services/web zxid=7\n"
                                "EVENT deleted /services/web zxid=8\n");
    kill(f->pid, SIGINT);
    assert_int_equal(finish(f), 0);
}

static void test_register_until_sigterm(void **state)
{
    fake *f = *state;
    const char *args[] = { "register", "web", "10.0.0.1", "8080", "tag=blue green", NULL };

    start_cli(f, args);
    expect_request(f, "register web 10.0.0.1 8080 \"tag=blue green\"\n");
    reply(f, "OK /services/web/10-0-0-1-8080\n");
    wait_output(f, "OK /services/web/10-0-0-1-8080\n");
    kill(f->pid, SIGTERM);
    expect_request(f, "QUIT\n");
    reply(f, "OK\n");
    assert_int_equal(finish(f), 0);
    assert_string_equal(f->got, "OK /services/web/10-0-0-1-8080\n");
}

static void test_register_daemon_gone(void **state)
{
    fake *f = *state;
    const char *args[] = { "register", "web", "10.0.0.1", "8080", NULL };

    start_cli(f, args);
    expect_request(f, "register web 10.0.0.1 8080\n");
    reply(f, "OK /services/web/10-0-0-1-8080\n");
    wait_output(f, "OK /services/web/10-0-0-1-8080\n");
    shutdown(f->conn, SHUT_RDWR);
    assert_int_equal(finish(f), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_err, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_closed_without_reply, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_watch_until_sigint, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_register_until_sigterm, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_register_daemon_gone, fake_setup, fake_teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
