/*
 * zkp_fuzz.c - fuzz target of the ZooKeeper codec (daemon/proto_zk.h).
 *
 * One input is tried as a ConnectRequest, as a request frame, and as a byte
 * stream of length-prefixed frames. Whatever decodes is walked field by
 * field, converted to registry ops and encoded back into replies, so ASan
 * sees every pointer the decoder hands out. The decoder's promises are
 * checked with abort(): zkp_arena_need bytes always suffice, a decoded
 * string is NUL-terminated at its length, vectors hold no NULL.
 *
 * With libFuzzer: clang -fsanitize=fuzzer,address -DZKP_FUZZ_LIBFUZZER.
 * Without it (the ctest test), main() replays the files and directories on
 * its command line, then runs seeded mutations of them (ZKP_FUZZ_ITERS,
 * default 4000; ZKP_FUZZ_SEED) for at most ZKP_FUZZ_SECONDS (default 8).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "proto_zk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                        \
    do {                                                                \
        if (!(x)) {                                                     \
            fprintf(stderr, "zkp_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #x); \
            abort();                                                    \
        }                                                               \
    } while (0)

static void check_str(zkp_str s)
{
    if (s.s)
        CHECK(s.s[s.len] == '\0');
}

static void check_strv(zkp_strv v)
{
    for (size_t i = 0; i < v.n; i++)
        CHECK(v.v[i] != NULL && strlen(v.v[i]) <= 0x7fffffff);
}

/* Null strings stay NULL (the registry judges them); others are C strings. */
static void check_acl(zkp_aclv v)
{
    for (size_t i = 0; i < v.n; i++)
        CHECK((!v.v[i].scheme || strlen(v.v[i].scheme) <= 0x7fffffff) &&
              (!v.v[i].id || strlen(v.v[i].id) <= 0x7fffffff));
}

static void check_request(const zkp_request *r, zk_buf *out)
{
    check_str(r->path);
    check_str(r->scheme);
    check_acl(r->acl);
    unsigned sum = 0; /* touch every byte of the buffer for ASan */
    for (size_t i = 0; r->data.data && i < r->data.len; i++)
        sum += r->data.data[i];
    CHECK(r->data.data || (r->data.len == 0 && sum == 0));
    if (r->watches) {
        check_strv(r->watches->data);
        check_strv(r->watches->exist);
        check_strv(r->watches->child);
        check_strv(r->watches->persistent);
        check_strv(r->watches->recursive);
    }
    if (r->reconfig) {
        check_str(r->reconfig->joining);
        check_str(r->reconfig->leaving);
        check_str(r->reconfig->new_members);
    }
    for (size_t i = 0; i < r->nops; i++) {
        CHECK(r->ops[i].nops == 0 && r->ops[i].xid == r->xid);
        check_request(&r->ops[i], out);
    }
    if (r->path.s)
        CHECK(zkp_reply_path(out, r->xid, 1, r->path.s) == 0);
    if (r->acl.n)
        CHECK(zkp_reply_acl(out, r->xid, 1, r->acl.v, r->acl.n, &(reg_stat){0}) == 0);
}

/* Encodes a MultiResponse for a decoded multi, once succeeded, once failed. */
static void encode_multi(const zkp_request *r, zk_buf *out)
{
    reg_result res = {0};
    reg_result *sub = calloc(r->nops ? r->nops : 1, sizeof(*sub));
    CHECK(sub != NULL);
    for (size_t i = 0; i < r->nops; i++)
        sub[i].path = (char *)(uintptr_t)r->ops[i].path.s;
    res.sub = sub;
    res.nsub = r->nops;
    CHECK(zkp_reply_multi(out, r->xid, 2, r, &res) == 0);
    if (r->nops) {
        res.err = sub[r->nops - 1].err = REG_ENONODE;
        CHECK(zkp_reply_multi(out, r->xid, 2, r, &res) == 0);
    }
    free(sub);
}

/* A write converts (or is refused with a ZooKeeper error for the registry
 * to log); anything else is not a write. */
static void check_op(const zkp_request *req, zkp_arena *arena)
{
    reg_op op;
    const zkp_opinfo *info = zkp_op_info(req->type);
    int orc = zkp_request_to_op(req, arena, &op);
    CHECK(orc == 0 || orc == REG_EUNIMPLEMENTED);
    CHECK((orc == 0) == (info && (info->flags & ZKP_F_WRITE)));
    if (orc != 0)
        return;
    CHECK(op.refused == 0 || op.refused <= REG_ZKERR(-1));
    if (op.type == REG_OP_MULTI) {
        CHECK(op.nops == req->nops && (op.nops == 0 || op.ops != NULL));
        for (size_t i = 0; i < op.nops; i++)
            CHECK(op.ops[i].refused != 0 || op.ops[i].path != NULL);
    } else if (op.type != REG_OP_CLOSE_SESSION) {
        CHECK(op.refused != 0 || op.path != NULL);
        CHECK(!op.data_null || op.data_len == 0);
    }
}

static void fuzz_request(const uint8_t *data, size_t size, zk_buf *out)
{
    uint8_t *frame = malloc(size ? size : 1);
    size_t need = zkp_arena_need(data, size);
    void *mem = malloc(need);
    CHECK(frame != NULL && mem != NULL);
    memcpy(frame, data, size);
    zkp_arena arena;
    zkp_request req;
    zkp_arena_init(&arena, mem, need);
    int rc = zkp_request_decode(frame, size, &arena, &req);
    CHECK(rc != ZKP_ENOSPACE && arena.used <= need);
    if (rc == 0 || rc == ZKP_ENULCHAR) {
        check_request(&req, out);
        check_op(&req, &arena);
        if (req.type == ZKP_OP_MULTI)
            encode_multi(&req, out);
    }
    if (rc != 0 && rc != ZKP_ESHORT) {
        reg_op op;
        int err = rc == ZKP_ENULCHAR ? REG_EBADARGUMENTS : REG_EMARSHALLINGERROR;
        int frc = zkp_request_refusal(req.type, err, &op);
        const zkp_opinfo *info = zkp_op_info(req.type);
        CHECK(frc == REG_EUNIMPLEMENTED ||
              (frc == 0 && info && (info->flags & ZKP_F_WRITE) && op.refused == err));
        CHECK(zkp_reply_header(out, req.xid, 3, err) == 0);
    }
    free(mem);
    free(frame);
}

static void fuzz_connect(const uint8_t *data, size_t size, zk_buf *out)
{
    uint8_t *frame = malloc(size ? size : 1);
    CHECK(frame != NULL);
    memcpy(frame, data, size);
    zkp_connect c;
    if (zkp_connect_decode(frame, size, &c) == 0) {
        CHECK(c.passwd.data == NULL || c.passwd.data + c.passwd.len <= frame + size);
        CHECK(zkp_connect_reply(out, &c, c.timeout_ms, c.session_id, NULL, c.read_only) == 0);
    }
    free(frame);
}

/* The input as a stream: frames of at most 4096 bytes, each decoded. */
static void fuzz_stream(const uint8_t *data, size_t size, zk_buf *out)
{
    uint8_t *buf = malloc(size ? size : 1);
    CHECK(buf != NULL);
    memcpy(buf, data, size);
    size_t off = 0;
    (void)zkp_is_4lw(size >= 4 ? buf : (const uint8_t *)"\0\0\0\0");
    for (;;) {
        uint8_t *f = NULL;
        size_t n = 0;
        int rc = zkp_frame_next(buf + off, size - off, 4096, &f, &n);
        if (rc != ZKP_FRAME)
            break;
        CHECK(f == buf + off + 4 && n <= size - off - 4);
        fuzz_request(f, n, out);
        off += 4 + n;
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zk_buf out;
    zk_buf_init(&out, 1u << 20);
    fuzz_connect(data, size, &out);
    fuzz_request(data, size, &out);
    fuzz_stream(data, size, &out);
    zk_buf_free(&out);
    return 0;
}

#ifndef ZKP_FUZZ_LIBFUZZER

/* ---- corpus replay and seeded mutations ------------------------------- */

typedef struct input {
    uint8_t *p;
    size_t n;
} input;

static input *corpus;
static size_t ncorpus, capcorpus;

static void add_input(const void *p, size_t n)
{
    if (ncorpus == capcorpus) {
        capcorpus = capcorpus ? 2 * capcorpus : 64;
        corpus = realloc(corpus, capcorpus * sizeof(*corpus));
        CHECK(corpus != NULL);
    }
    corpus[ncorpus].p = malloc(n ? n : 1);
    CHECK(corpus[ncorpus].p != NULL);
    memcpy(corpus[ncorpus].p, p, n);
    corpus[ncorpus++].n = n;
}

static void load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t buf[65536];
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    add_input(buf, n);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    if (d == NULL) {
        perror(dir);
        exit(2);
    }
    while ((e = readdir(d)) != NULL && n < 4096)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        load_file(path);
        free(names[i]);
    }
}

/* A header for every request type, and a few odd frames. */
static void add_seeds(void)
{
    static const int32_t types[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17,
                                    18, 19, 20, 21, 22, 100, 101, 102, 103, 104, 105,
                                    106, 107, -11, -10, 0};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        uint8_t b[16] = {0, 0, 0, 1, (uint8_t)((uint32_t)types[i] >> 24),
                         (uint8_t)((uint32_t)types[i] >> 16),
                         (uint8_t)((uint32_t)types[i] >> 8), (uint8_t)types[i],
                         0, 0, 0, 2, '/', 'a', 1, 0};
        add_input(b, sizeof(b));
    }
    add_input("", 0);
    add_input("ruok", 4);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One random edit of buf (n bytes, room for cap). */
static size_t mutate_once(uint8_t *buf, size_t n, size_t cap)
{
    static const uint32_t ints[] = {0, 1, 2, 4, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff,
                                    0x80000000, 0xffffffff, 0xfffffffe, 14, 16};
    size_t at = n ? (size_t)(rng() % n) : 0;
    switch (rng() % 7) {
    case 0: /* flip a bit */
        if (n)
            buf[at] ^= (uint8_t)(1u << (rng() % 8));
        return n;
    case 1: /* an interesting 32-bit value where a length or count may be */
        if (n >= 4) {
            at = (size_t)(rng() % (n - 3));
            put_be32(buf + at, rng() % 3 ? ints[rng() % 14] : (uint32_t)(n - at - 4));
        }
        return n;
    case 2: /* truncate */
        return n ? (size_t)(rng() % n) : 0;
    case 3: /* insert a random byte */
        if (n < cap) {
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (uint8_t)rng();
            return n + 1;
        }
        return n;
    case 4: /* delete a byte */
        if (n) {
            memmove(buf + at, buf + at + 1, n - at - 1);
            return n - 1;
        }
        return n;
    case 5: /* duplicate a chunk at the end */
        if (n && n < cap) {
            size_t len = (size_t)(rng() % (n - at)) + 1;
            if (len > cap - n)
                len = cap - n;
            memmove(buf + n, buf + at, len);
            return n + len;
        }
        return n;
    default: /* a random byte */
        if (n)
            buf[at] = (uint8_t)rng();
        return n;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t run_mutations(size_t iters, double budget_s)
{
    uint8_t buf[8192];
    double start = now_s();
    size_t i;
    if (ncorpus == 0)
        return 0;
    for (i = 0; i < iters && now_s() - start < budget_s; i++) {
        const input *in = &corpus[rng() % ncorpus];
        size_t n = in->n < sizeof(buf) / 2 ? in->n : sizeof(buf) / 2;
        memcpy(buf, in->p, n);
        for (int k = (int)(rng() % 4); k >= 0; k--)
            n = mutate_once(buf, n, sizeof(buf));
        LLVMFuzzerTestOneInput(buf, n);
    }
    return i;
}

int main(int argc, char **argv)
{
    const char *e = getenv("ZKP_FUZZ_ITERS");
    size_t iters = e ? strtoul(e, NULL, 10) : 4000;
    if ((e = getenv("ZKP_FUZZ_SEED")) != NULL)
        rng_state = strtoull(e, NULL, 0) | 1;
    double budget = (e = getenv("ZKP_FUZZ_SECONDS")) != NULL ? strtod(e, NULL) : 8.0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            load_dir(argv[i]);
        else
            load_file(argv[i]);
    }
    size_t files = ncorpus;
    add_seeds();
    for (size_t i = 0; i < ncorpus; i++)
        LLVMFuzzerTestOneInput(corpus[i].p, corpus[i].n);
    size_t done = run_mutations(iters, budget);
    printf("zkp_fuzz: %zu corpus files, %zu seeds, %zu mutations\n", files,
           ncorpus - files, done);
    for (size_t i = 0; i < ncorpus; i++)
        free(corpus[i].p);
    free(corpus);
    return 0;
}

#endif
