/*
 * text_fuzz.c - fuzz target of the socket protocol (daemon/text_session.c)
 * over a real registry, coverage-guided where test_text_fuzz draws lines
 * from a fixed grammar.
 *
 * One input is a conversation: its lines (split at LF, at most
 * FZ_MAX_LINES) go to two sessions in turn, writes are committed as the
 * daemon would commit them, and watch events go to their session's event
 * buffer. Checked with abort(): every non-blank line gets exactly one reply
 * line, "OK..." or "ERR <NAME> ...", in printable ASCII; every event line
 * is "EVENT ..."; once both sessions are closed, no ephemeral node is left.
 *
 * With libFuzzer (-DZK_FUZZ=ON with clang, binary text_fuzz_lf): seed it
 * from `text_fuzz --write-seeds DIR`. Without it (the ctest test), main()
 * runs its seeds, then seeded mutations of them (TEXT_FUZZ_ITERS, default
 * 20000, for at most TEXT_FUZZ_SECONDS, default 5; TEXT_FUZZ_SEED).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                             \
    do {                                                                     \
        if (!(x)) {                                                          \
            fprintf(stderr, "text_fuzz: %s:%d: check failed: %s\n", __FILE__, \
                    __LINE__, #x);                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)

#define FZ_NOW 1700000000000
#define FZ_MAX_LINES 64
#define FZ_CLIENTS 2

typedef struct fz_client {
    int64_t session;
    txt_sess *s;
    zk_buf out, events;
} fz_client;

typedef struct fz_world {
    reg_t *reg;
    fz_client c[FZ_CLIENTS];
} fz_world;

static void fz_on_watch(void *ctx, uint64_t watcher, int type, const char *path, int64_t zxid)
{
    fz_world *w = ctx;
    if (watcher >= 1 && watcher <= FZ_CLIENTS) {
        fz_client *c = &w->c[watcher - 1];
        txt_sess_event(c->s, type, path, zxid, &c->events);
    }
}

static int64_t fz_session(reg_t *reg)
{
    static const uint8_t pw[17] = "0123456789abcdef";
    reg_op op = {.type = REG_OP_CREATE_SESSION, .session_flags = REG_SESSION_LOCAL,
                 .passwd = pw};
    reg_txn *t = NULL;
    reg_result res = {0};
    CHECK(reg_prepare(reg, 0, &op, FZ_NOW, &t) == 0);
    CHECK(reg_commit(reg, t, &res) == 0);
    int64_t id = res.session;
    reg_result_clear(&res);
    return id;
}

static bool fz_blank(const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return false;
    return true;
}

/* out holds exactly one reply line, well formed. */
static void fz_check_reply(const zk_buf *out)
{
    CHECK(out->len > 0 && out->data[out->len - 1] == '\n');
    CHECK(memchr(out->data, '\n', out->len) == out->data + out->len - 1);
    CHECK((out->len >= 3 && memcmp(out->data, "OK", 2) == 0 &&
           (out->data[2] == '\n' || out->data[2] == ' ')) ||
          (out->len > 4 && memcmp(out->data, "ERR ", 4) == 0));
    for (size_t i = 0; i + 1 < out->len; i++)
        CHECK(out->data[i] >= 0x20 && out->data[i] < 0x7f);
}

static void fz_check_events(zk_buf *ev)
{
    const char *p = ev->data;
    size_t left = ev->len;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        CHECK(nl != NULL && nl - p > 6 && memcmp(p, "EVENT ", 6) == 0);
        left -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
    zk_buf_consume(ev, ev->len);
}

/* One line to client c, as the daemon runs it. false: the session closed. */
static bool fz_line(fz_world *w, fz_client *c, const char *line, size_t len, int64_t now)
{
    reg_txn *t = NULL;
    int st = txt_sess_line(c->s, line, len, now, &c->out, &t);
    if (st == TXT_PENDING) {
        CHECK(t != NULL && c->out.len == 0);
        reg_result res = {0};
        (void)reg_commit(w->reg, t, &res);
        txt_sess_finish(c->s, &res, &c->out);
        reg_result_clear(&res);
    } else {
        CHECK(t == NULL);
    }
    if (st == TXT_CLOSE && c->out.len == 0)
        return false;
    if (fz_blank(line, len))
        CHECK(c->out.len == 0);
    else
        fz_check_reply(&c->out);
    zk_buf_consume(&c->out, c->out.len);
    for (int i = 0; i < FZ_CLIENTS; i++)
        fz_check_events(&w->c[i].events);
    return st != TXT_CLOSE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_world w = {0};
    reg_hooks hooks = {.ctx = &w, .on_watch = fz_on_watch};
    w.reg = reg_create(NULL, &hooks);
    CHECK(w.reg != NULL);
    txt_config tc = {.dns_root = "/services", .max_tokens = 16};
    for (int i = 0; i < FZ_CLIENTS; i++) {
        w.c[i].session = fz_session(w.reg);
        w.c[i].s = txt_sess_create(w.reg, &tc, w.c[i].session, (uint64_t)i + 1);
        CHECK(w.c[i].s != NULL);
        zk_buf_init(&w.c[i].out, 1u << 16);
        zk_buf_init(&w.c[i].events, 0);
    }
    bool open[FZ_CLIENTS] = {true, true};
    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; n < FZ_MAX_LINES && p < end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fz_client *c = &w.c[n % FZ_CLIENTS];
        if (open[n % FZ_CLIENTS])
            open[n % FZ_CLIENTS] = fz_line(&w, c, p, len, FZ_NOW + n);
        p += len + (nl != NULL);
    }
    /* the connections end: their sessions close, their ephemerals go */
    for (int i = 0; i < FZ_CLIENTS; i++) {
        reg_op close = {.type = REG_OP_CLOSE_SESSION};
        reg_txn *t = NULL;
        reg_result res = {0};
        CHECK(reg_prepare(w.reg, w.c[i].session, &close, FZ_NOW, &t) == 0);
        (void)reg_commit(w.reg, t, &res);
        reg_result_clear(&res);
        reg_watcher_drop(w.reg, (uint64_t)i + 1);
    }
    CHECK(reg_ephemeral_count(w.reg) == 0);
    for (int i = 0; i < FZ_CLIENTS; i++) {
        txt_sess_free(w.c[i].s);
        zk_buf_free(&w.c[i].out);
        zk_buf_free(&w.c[i].events);
    }
    reg_free(w.reg);
    return 0;
}

#ifndef TEXT_FUZZ_LIBFUZZER

#include "fuzz_driver.h"

/* Conversations that reach every verb, with the data a client sends. */
static const char *const seeds[] = {
    "REGISTER web 10.0.0.1 8080 weight=3 priority=1 tag=blue txt=k=v\n"
    "CHILDREN /services/web watch\nGET /services/web/10-0-0-1-8080\n"
    "DEREGISTER web 10-0-0-1-8080\nCHILDREN /services/web\n",
    "CREATE /a \"x y\"\nGET /a watch\nSET /a z version=0\nEXISTS /b watch\n"
    "CREATE /b/c parents\nCREATE /q/n- sequential parents\nDELETE /b/c\nPING\n",
    "WATCH /w recursive\nCREATE /w\nCREATE /w/e \"\\x00\\n\" ephemeral\nUNWATCH /w\n"
    "CREATE /t ttl=5\nCREATE /c container\nGETACL /c\nHELP\nQUIT\nPING\n",
    "create /L/x data parents ephemeral\nset /L/x \"\" version=-1\nget /L/x\n"
    "REGISTER db ::1 5432 id=primary\nREGISTER db 10.0.0.2 5432\n",
};

/* A bit flip, a byte, a cut, or a copy of a range of the input. */
static size_t mutate(uint8_t *b, size_t n, size_t cap)
{
    size_t at = n ? fzd_rng() % n : 0;
    switch (fzd_rng() % 4) {
    case 0:
        if (n)
            b[at] ^= (uint8_t)(1u << (fzd_rng() % 8));
        return n;
    case 1:
        if (n)
            b[at] = (uint8_t)fzd_rng();
        return n;
    case 2:
        return n ? fzd_rng() % n : 0;
    default: {
        size_t from = n ? fzd_rng() % n : 0, len = fzd_rng() % FZD_COPY_MAX;
        return fzd_insert_copy(b, n, cap, at, from, len);
    }
    }
}

static int write_seeds(const char *dir)
{
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        if (fzd_write_seed(dir, i, seeds[i], strlen(seeds[i])))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    enum { NSEEDS = sizeof(seeds) / sizeof(seeds[0]) };
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    const char *e = getenv("TEXT_FUZZ_ITERS");
    size_t iters = e ? strtoul(e, NULL, 10) : 20000, done = 0;
    if ((e = getenv("TEXT_FUZZ_SEED")) != NULL)
        fzd_rng_state = strtoull(e, NULL, 0) | 1;
    double budget = (e = getenv("TEXT_FUZZ_SECONDS")) != NULL ? strtod(e, NULL) : 5.0;
    for (size_t i = 0; i < NSEEDS; i++)
        LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], strlen(seeds[i]));
    uint8_t buf[4096];
    double start = fzd_now_s();
    for (; done < iters && fzd_now_s() - start < budget; done++) {
        const char *s = seeds[fzd_rng() % NSEEDS];
        size_t n = strlen(s);
        memcpy(buf, s, n);
        for (int k = 1 + (int)(fzd_rng() % 6); k > 0; k--)
            n = mutate(buf, n, sizeof buf);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("text_fuzz: %d seeds, %zu mutations\n", (int)NSEEDS, done);
    return 0;
}

#endif /* libFuzzer brings its own main; the seeds come from this one */
