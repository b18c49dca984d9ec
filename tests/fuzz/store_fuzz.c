/*
 * store_fuzz.c - fuzz target of what recovery takes from the disk once the
 * checksums have passed: the registry's snapshot stream and its log txns.
 *
 * A checksum catches damage; it does not catch bytes that were summed
 * correctly and are still wrong: a snapshot from a buggy or future build, a
 * file someone edited and re-summed. Random mutations of a summed stream
 * mostly die at the checksum (that is what test_reg_codec's hostile tests
 * see), so this target sums its input itself and the parser behind the
 * checksum gets the whole of it:
 *
 *   input[0] even: input[1..] is a snapshot stream from its zxid on (the
 *     magic and version are put in front, its CRC32C behind);
 *   input[0] odd: input[1..] is a list of log records, each a 16-bit
 *     little-endian length and that many bytes, decoded with reg_txn_decode
 *     and committed over a small tree like the ones users make.
 *
 * Whatever loads must then behave: recovery's finish, a few writes and
 * reads, and a snapshot that reads back into the same bytes when written
 * again (abort() otherwise, so ASan and libFuzzer report it).
 *
 * With libFuzzer (-DZK_FUZZ=ON with clang, binary store_fuzz_lf): seed it
 * from `store_fuzz --write-seeds DIR`. Without it (the ctest test), main()
 * makes the seeds in memory and runs seeded mutations of them
 * (STORE_FUZZ_ITERS, default 20000, for at most STORE_FUZZ_SECONDS,
 * default 8; STORE_FUZZ_SEED). Files and directories on its command line
 * join the seeds: tests/fuzz/store_corpus keeps inputs that found bugs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "reg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                              \
    do {                                                                      \
        if (!(x)) {                                                           \
            fprintf(stderr, "store_fuzz: %s:%d: check failed: %s\n", __FILE__, \
                    __LINE__, #x);                                            \
            abort();                                                          \
        }                                                                     \
    } while (0)

#define FZ_NOW 1700000000000 /* ms: a fixed clock keeps runs repeatable */
#define FZ_MAX_RECORDS 64
#define FZ_PATH_MAX (1u << 17) /* the snapshot reader bounds a path at 64 KiB */

/* ---- bytes in memory ------------------------------------------------------ */

typedef struct fz_mem {
    uint8_t *p;
    size_t len, cap, off;
} fz_mem;

static int fz_put(void *ctx, const void *p, size_t n)
{
    fz_mem *m = ctx;
    if (m->len + n > m->cap) {
        size_t cap = (m->len + n) * 2;
        uint8_t *q = realloc(m->p, cap);
        if (!q)
            return -ENOMEM;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static int fz_get(void *ctx, void *p, size_t n)
{
    fz_mem *m = ctx;
    if (n > m->len - m->off)
        return -ENODATA;
    memcpy(p, m->p + m->off, n);
    m->off += n;
    return 0;
}

static void fz_put_u64(fz_mem *m, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    CHECK(fz_put(m, b, 8) == 0);
}

/* ---- a registry to work on ------------------------------------------------ */

static int fz_write(reg_t *reg, int64_t session, const reg_op *op, int64_t *new_session)
{
    reg_txn *t = NULL;
    reg_result res = {0};
    int rc = reg_prepare(reg, session, op, FZ_NOW, &t);
    if (rc < 0)
        return rc;
    rc = reg_commit(reg, t, &res);
    if (new_session)
        *new_session = res.session;
    reg_result_clear(&res);
    return rc;
}

static reg_op fz_create(const char *path, uint32_t flags)
{
    reg_op op = {.type = REG_OP_CREATE, .path = path, .data = "v", .data_len = 1};
    op.create_flags = flags;
    op.ttl_ms = (flags & REG_CREATE_TTL) ? 60000 : 0;
    return op;
}

/* A tree with one of each kind of thing a snapshot holds: a ZooKeeper
 * session and a socket-protocol one, ephemerals, sequentials, a container,
 * a TTL node, null data, a digest ACL. Returns the ZooKeeper session. */
static int64_t fz_base(reg_t *reg)
{
    static const uint8_t pw[17] = "0123456789abcdef";
    reg_op cs = {.type = REG_OP_CREATE_SESSION, .timeout_ms = 30000, .passwd = pw};
    int64_t zs = 0, ls = 0;
    CHECK(fz_write(reg, 0, &cs, &zs) == 0);
    cs.session_flags = REG_SESSION_LOCAL;
    CHECK(fz_write(reg, 0, &cs, &ls) == 0);
    static const reg_acl acl[] = {{REG_PERM_ALL, "digest", "bob:x0S2K4uqPbXahE9zUaQZ9j1n3jQ="},
                                  {REG_PERM_READ, "world", "anyone"}};
    reg_op ops[] = {fz_create("/services", 0),
                    fz_create("/services/web", 0),
                    fz_create("/services/web/m-", REG_CREATE_SEQUENTIAL | REG_CREATE_EPHEMERAL),
                    fz_create("/services/web/m-", REG_CREATE_SEQUENTIAL),
                    fz_create("/lock", REG_CREATE_CONTAINER),
                    fz_create("/lock/x", 0),
                    fz_create("/ttl", REG_CREATE_TTL),
                    fz_create("/secret", 0),
                    fz_create("/null", 0)};
    ops[7].acl = acl;
    ops[7].acl_count = 2;
    ops[8].data_null = true;
    ops[8].data_len = 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        CHECK(fz_write(reg, i == 2 ? zs : 0, &ops[i], NULL) == 0);
    reg_op eph = fz_create("/services/web/local", REG_CREATE_EPHEMERAL);
    CHECK(fz_write(reg, ls, &eph, NULL) == 0);
    reg_op set = {.type = REG_OP_SET_DATA, .path = "/services", .data = "xyz",
                  .data_len = 3, .version = -1};
    CHECK(fz_write(reg, 0, &set, NULL) == 0);
    return zs;
}

/* ---- what a loaded registry must do --------------------------------------- */

static void fz_collect(void *ctx, int64_t session)
{
    fz_mem *ids = ctx;
    (void)fz_put(ids, &session, sizeof(session));
}

/* Recovery's end as the daemon does it: the sessions it names are closed. */
static void fz_finish(reg_t *reg)
{
    fz_mem ids = {0};
    reg_recover_finish(reg, FZ_NOW, fz_collect, &ids);
    for (size_t off = 0; off + sizeof(int64_t) <= ids.len; off += sizeof(int64_t)) {
        int64_t id;
        memcpy(&id, ids.p + off, sizeof(id));
        reg_op close = {.type = REG_OP_CLOSE_SESSION};
        int rc = fz_write(reg, id, &close, NULL);
        CHECK(rc == 0 || rc == -ENOMEM);
    }
    free(ids.p);
}

static void fz_dump_acl(void *ctx, const reg_acl *a)
{
    char line[256];
    int n = snprintf(line, sizeof line, " %d:%.100s:%.100s", a->perms,
                     a->scheme ? a->scheme : "(null)", a->id ? a->id : "(null)");
    (void)fz_put(ctx, line, (size_t)n);
}

/* One node of the walk: found by its path, and (when out is given) its
 * path, stat, data and ACL written to out: the tree as clients see it. */
static void fz_visit(reg_t *reg, const reg_node *n, const char *path, size_t plen,
                     fz_mem *out, size_t *neph)
{
    size_t dlen;
    reg_stat st;
    const char *p = plen ? path : "/";
    const void *data = reg_node_data(n, &dlen);
    reg_node_stat(n, &st);
    CHECK(st.data_length >= -1);
    CHECK(reg_lookup(reg, p) == n);
    *neph += st.ephemeral_owner != 0;
    int32_t below = -1;
    CHECK(reg_all_children_number(reg, 0, p, &below) == 0 && below >= st.num_children);
    if (!out)
        return;
    char line[256];
    int k = snprintf(line, sizeof line,
                     "\n%zu c%lld m%lld p%lld t%lld/%lld v%d/%d/%d o%llx b%d d", plen,
                     (long long)st.czxid, (long long)st.mzxid, (long long)st.pzxid,
                     (long long)st.ctime, (long long)st.mtime, st.version, st.cversion,
                     st.aversion, (unsigned long long)st.ephemeral_owner, below);
    CHECK(fz_put(out, line, (size_t)k) == 0 && fz_put(out, p, strlen(p)) == 0);
    CHECK(fz_put(out, &st.data_length, sizeof st.data_length) == 0);
    CHECK(dlen == 0 || fz_put(out, data, dlen) == 0);
    CHECK(reg_get_acl(reg, 0, p, NULL, fz_dump_acl, out) == 0);
}

static size_t fz_push(char *path, size_t plen, const reg_node *c)
{
    size_t nlen;
    const char *name = reg_node_name(c, &nlen);
    CHECK(plen + 1 + nlen < FZ_PATH_MAX);
    path[plen] = '/';
    memcpy(path + plen + 1, name, nlen);
    path[plen + 1 + nlen] = '\0';
    return plen + 1 + nlen;
}

static size_t fz_pop(char *path, size_t plen)
{
    while (plen > 0 && path[plen - 1] != '/')
        plen--;
    plen = plen > 0 ? plen - 1 : 0;
    path[plen] = '\0';
    return plen;
}

/* Every node in depth-first order, without recursion (a snapshot may hold
 * a chain 30,000 deep), each checked under the parent it was found under. */
static void fz_walk(reg_t *reg, fz_mem *out, size_t *neph)
{
    char *path = malloc(FZ_PATH_MAX);
    CHECK(path != NULL);
    size_t plen = 0;
    path[0] = '\0';
    const reg_node *root = reg_lookup(reg, "/"), *n = root;
    size_t nodes = 1;
    int32_t below = -1;
    fz_visit(reg, root, path, 0, out, neph);
    for (;;) {
        const reg_node *c = reg_node_first_child(n), *up = n;
        if (!c) {
            while (n != root && !(c = reg_node_next_sibling(n))) {
                n = reg_node_parent(n);
                plen = fz_pop(path, plen);
            }
            if (n == root)
                break;
            plen = fz_pop(path, plen);
            up = reg_node_parent(n);
        }
        CHECK(reg_node_parent(c) == up);
        plen = fz_push(path, plen, c);
        fz_visit(reg, c, path, plen, out, neph);
        nodes++;
        n = c;
    }
    free(path);
    /* the count getAllChildrenNumber keeps, against the walk */
    CHECK(reg_all_children_number(reg, 0, "/", &below) == 0 && (size_t)below == nodes - 1);
}

static fz_mem fz_dump(reg_t *reg)
{
    fz_mem out = {0};
    char head[64];
    int k = snprintf(head, sizeof head, "zxid %lld nodes %zu", (long long)reg_last_zxid(reg),
                     reg_node_count(reg));
    CHECK(fz_put(&out, head, (size_t)k) == 0);
    size_t neph = 0;
    fz_walk(reg, &out, &neph);
    CHECK(neph == reg_ephemeral_count(reg)); /* the count the registry keeps */
    return out;
}

/* Writes reg's snapshot and loads it into a new registry: clients must see
 * the same tree in both. */
static void fz_roundtrip(reg_t *reg)
{
    fz_mem a = {0};
    int rc = reg_snapshot_write(reg, fz_put, &a);
    CHECK(rc == 0 || rc == -ENOMEM);
    reg_t *r2 = rc == 0 ? reg_create(NULL, NULL) : NULL;
    if (r2) {
        rc = reg_snapshot_read(r2, fz_get, &a);
        CHECK(rc == 0 || rc == -ENOMEM);
        if (rc == 0) {
            fz_mem d1 = fz_dump(reg), d2 = fz_dump(r2);
            CHECK(d1.len == d2.len && memcmp(d1.p, d2.p, d1.len) == 0);
            CHECK(reg_session_count(reg) == reg_session_count(r2));
            free(d1.p);
            free(d2.p);
        }
        reg_free(r2);
    }
    free(a.p);
}

/* Ordinary traffic on what was loaded: none of it may crash, and the tree
 * must still snapshot and load. */
static void fz_exercise(reg_t *reg)
{
    fz_roundtrip(reg);
    fz_finish(reg);
    reg_op ops[] = {fz_create("/fz", 0), fz_create("/services/web/m-", REG_CREATE_SEQUENTIAL),
                    fz_create("/fz/c", REG_CREATE_CONTAINER)};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        (void)fz_write(reg, 0, &ops[i], NULL);
    reg_op del = {.type = REG_OP_DELETE, .path = "/fz/c", .version = -1};
    (void)fz_write(reg, 0, &del, NULL);
    char *gc[8];
    size_t n = reg_collect_garbage(reg, FZ_NOW + 86400000, gc, 8);
    for (size_t i = 0; i < n; i++) {
        reg_op d = {.type = REG_OP_DELETE, .path = gc[i], .version = -1};
        (void)fz_write(reg, 0, &d, NULL);
        free(gc[i]);
    }
    int64_t expired[8];
    size_t ne = reg_sessions_expired(reg, FZ_NOW + 86400000, expired, 8);
    for (size_t i = 0; i < ne; i++) {
        reg_op close = {.type = REG_OP_CLOSE_SESSION};
        (void)fz_write(reg, expired[i], &close, NULL);
    }
    fz_roundtrip(reg);
}

/* ---- the two kinds of input ------------------------------------------------ */

static void fz_snapshot(const uint8_t *data, size_t size)
{
    fz_mem m = {0};
    static const uint8_t head[12] = {'Z', 'K', 'R', 'E', 'G', 'S', 'N', 'P', 3, 0, 0, 0};
    CHECK(fz_put(&m, head, sizeof head) == 0);
    if (size)
        CHECK(fz_put(&m, data, size) == 0);
    fz_put_u64(&m, crc32c(m.p, m.len));
    reg_t *reg = reg_create(NULL, NULL);
    CHECK(reg != NULL);
    int rc = reg_snapshot_read(reg, fz_get, &m);
    if (!(rc == 0 || rc == -EINVAL || rc == -ENOMEM || rc == -ENODATA))
        fprintf(stderr, "store_fuzz: snapshot read: %d\n", rc);
    CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM || rc == -ENODATA); /* ENODATA: cut short */
    if (rc == 0)
        fz_exercise(reg);
    else
        CHECK(reg_last_zxid(reg) == 0 && reg_node_count(reg) == 4);
    reg_free(reg);
    free(m.p);
}

static void fz_records(const uint8_t *data, size_t size)
{
    reg_t *reg = reg_create(NULL, NULL);
    CHECK(reg != NULL);
    fz_base(reg);
    size_t off = 0;
    for (int i = 0; i < FZ_MAX_RECORDS && off + 2 <= size; i++) {
        size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (len > size - off)
            len = size - off;
        reg_txn *t = NULL;
        int rc = reg_txn_decode(data + off, len, &t);
        CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
        CHECK((rc == 0) == (t != NULL));
        off += len;
        if (t) {
            int64_t before = reg_last_zxid(reg), zxid = reg_txn_zxid(t);
            reg_result res = {0};
            rc = reg_commit(reg, t, &res);
            reg_result_clear(&res);
            /* applied or refused, the zxid moves only forward */
            CHECK(reg_last_zxid(reg) == before || (zxid > before && reg_last_zxid(reg) == zxid));
        }
    }
    fz_exercise(reg);
    reg_free(reg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fz_snapshot(data + 1, size - 1);
    else
        fz_records(data + 1, size - 1);
    return 0;
}

#ifndef STORE_FUZZ_LIBFUZZER

#include "fuzz_driver.h"

/* ---- seeds ----------------------------------------------------------------- */

typedef struct fz_seed {
    uint8_t *p;
    size_t n;
} fz_seed;

#define FZ_MAX_SEEDS 256

static fz_seed seeds[FZ_MAX_SEEDS];
static size_t nseeds;

/* Takes p[0..n) as a seed (the kind byte first when kind >= 0). */
static void fz_add_seed(int kind, const uint8_t *p, size_t n)
{
    CHECK(nseeds < FZ_MAX_SEEDS);
    fz_seed *s = &seeds[nseeds++];
    size_t head = kind >= 0;
    s->p = malloc(n + head);
    CHECK(s->p != NULL);
    if (head)
        s->p[0] = (uint8_t)kind;
    if (n)
        memcpy(s->p + head, p, n);
    s->n = n + head;
}

/* A record list: the ops a user makes, prepared over a base tree and
 * encoded as the log holds them. */
static void fz_seed_records(void)
{
    reg_t *reg = reg_create(NULL, NULL);
    CHECK(reg != NULL);
    int64_t zs = fz_base(reg);
    reg_op sub[] = {fz_create("/m", 0), {.type = REG_OP_CHECK, .path = "/m", .version = 0},
                    {.type = REG_OP_SET_DATA, .path = "/m", .data = "q", .data_len = 1,
                     .version = -1}};
    static const reg_acl open[] = {{REG_PERM_ALL, "world", "anyone"}};
    reg_op ops[] = {fz_create("/services/db", 0),
                    fz_create("/services/db/i-", REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL),
                    {.type = REG_OP_MULTI, .ops = sub, .nops = 3},
                    {.type = REG_OP_SET_ACL, .path = "/secret", .acl = open, .acl_count = 1,
                     .version = -1},
                    {.type = REG_OP_DELETE, .path = "/lock/x", .version = -1},
                    {.type = REG_OP_DELETE, .path = "/nope", .version = -1},
                    {.type = REG_OP_CLOSE_SESSION}};
    fz_mem out = {0};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        int64_t who = (i == 1 || i == 6) ? zs : 0;
        reg_txn *t = NULL;
        CHECK(reg_prepare(reg, who, &ops[i], FZ_NOW, &t) == 0);
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK(reg_txn_encode(t, &buf, &len) == 0 && len < 65536);
        uint8_t l2[2] = {(uint8_t)len, (uint8_t)(len >> 8)};
        CHECK(fz_put(&out, l2, 2) == 0 && fz_put(&out, buf, len) == 0);
        free(buf);
        reg_result res = {0};
        (void)reg_commit(reg, t, &res);
        reg_result_clear(&res);
    }
    fz_add_seed(1, out.p, out.len);
    free(out.p);
    reg_free(reg);
}

/* Snapshot streams of the base tree, of an empty registry, and of a tree
 * whose ephemeral owner is missing from the sessions. */
static void fz_seed_snapshots(void)
{
    for (int k = 0; k < 2; k++) {
        reg_t *reg = reg_create(NULL, NULL);
        CHECK(reg != NULL);
        if (k == 0)
            fz_base(reg);
        fz_mem m = {0};
        CHECK(reg_snapshot_write(reg, fz_put, &m) == 0 && m.len > 20);
        fz_add_seed(0, m.p + 12, m.len - 20); /* without head and CRC */
        free(m.p);
        reg_free(reg);
    }
}

static void fz_make_seeds(void)
{
    fz_seed_snapshots();
    fz_seed_records();
}

static void fz_free_seeds(void)
{
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].p);
    nseeds = 0;
}


/* One mutation: a bit flip, a byte, an interesting 32-bit value (lengths,
 * counts), a cut, or a copied range. */
static size_t mutate(uint8_t *b, size_t n, size_t cap)
{
    static const uint32_t vals[] = {0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000,
                                    0x7fffffff, 0x80000000u, 0xffffffffu};
    size_t at = n > 1 ? 1 + fzd_rng() % (n - 1) : 0; /* keep the kind byte */
    switch (fzd_rng() % 5) {
    case 0:
        if (n > 1)
            b[at] ^= (uint8_t)(1u << (fzd_rng() % 8));
        return n;
    case 1:
        if (n > 1)
            b[at] = (uint8_t)fzd_rng();
        return n;
    case 2: {
        uint32_t v = vals[fzd_rng() % (sizeof(vals) / sizeof(vals[0]))];
        for (size_t i = 0; i < 4 && at + i < n; i++)
            b[at + i] = (uint8_t)(v >> (8 * i));
        return n;
    }
    case 3:
        return n > 1 ? 1 + fzd_rng() % (n - 1) : n;
    default: {
        size_t from = n > 1 ? 1 + fzd_rng() % (n - 1) : 0, len = fzd_rng() % FZD_COPY_MAX;
        return fzd_insert_copy(b, n, cap, at, from, len);
    }
    }
}

static int fz_load_file(const char *path)
{
    fz_mem m = {0};
    uint8_t chunk[4096];
    size_t k;
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        CHECK(fz_put(&m, chunk, k) == 0);
    fclose(f);
    fz_add_seed(-1, m.p, m.len);
    free(m.p);
    return 0;
}

/* A file, or every file in a directory (a corpus, a crash to reproduce). */
static int fz_load_path(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return fz_load_file(path);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char full[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        rc = fz_load_file(full);
    }
    closedir(d);
    return rc;
}

static int write_seeds(const char *dir)
{
    for (size_t i = 0; i < nseeds; i++)
        if (fzd_write_seed(dir, i, seeds[i].p, seeds[i].n))
            return 1;
    printf("store_fuzz: %zu seeds written to %s\n", nseeds, dir);
    return 0;
}

int main(int argc, char **argv)
{
    fz_make_seeds();
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        int rc = write_seeds(argv[2]);
        fz_free_seeds();
        return rc;
    }
    for (int i = 1; i < argc; i++)
        if (fz_load_path(argv[i]) < 0) {
            fz_free_seeds();
            return 2;
        }
    const char *e = getenv("STORE_FUZZ_ITERS");
    size_t iters = e ? strtoul(e, NULL, 10) : 20000;
    if ((e = getenv("STORE_FUZZ_SEED")) != NULL)
        fzd_rng_state = strtoull(e, NULL, 0) | 1;
    double budget = (e = getenv("STORE_FUZZ_SECONDS")) != NULL ? strtod(e, NULL) : 8.0;
    for (size_t i = 0; i < nseeds; i++)
        LLVMFuzzerTestOneInput(seeds[i].p, seeds[i].n);
    size_t cap = 1u << 16, done = 0;
    uint8_t *buf = malloc(cap);
    CHECK(buf != NULL);
    double start = fzd_now_s();
    for (; done < iters && fzd_now_s() - start < budget; done++) {
        const fz_seed *s = &seeds[fzd_rng() % nseeds];
        size_t n = s->n < cap ? s->n : cap;
        memcpy(buf, s->p, n);
        for (int k = 1 + (int)(fzd_rng() % 4); k > 0; k--)
            n = mutate(buf, n, cap);
        LLVMFuzzerTestOneInput(buf, n);
    }
    free(buf);
    printf("store_fuzz: %zu seeds, %zu mutations\n", nseeds, done);
    fz_free_seeds();
    return 0;
}

#endif /* libFuzzer brings its own main; the seeds come from this one */
