/*
 * snapfile.c - writing and reading snapshot files.
 *
 * Layout (little-endian):
 *   header, SNAP_HDR bytes: magic "ZKSNAPSH", version (4), reserved (4),
 *           zxid (8), reserved (4), CRC32C of the 28 bytes before (4)
 *   body:   the registry's bytes
 *   trailer, SNAP_TRL bytes: body length (8), CRC32C of the body (4),
 *           CRC32C of the 12 bytes before (4)
 * The file length must be exactly header + body + trailer.
 *
 * The writer buffers the body in SNAP_BUF-sized pieces and keeps a running
 * CRC; the reader streams through a window of the same size, and the read
 * that consumes the last body byte compares the checksum.
 */
#include "snapfile.h"

#include "crc32c.h"
#include "trash.h"
#include "wal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAGIC "ZKSNAPSH"
#define SNAP_VERSION 1u
#define SNAP_HDR 32u
#define SNAP_TRL 16u
#define SNAP_BUF (64u << 10)
/* fdatasync this often while writing, so a large snapshot reaches the disk
 * in steps rather than in one burst at the end that would hold up the
 * write-ahead log's fsyncs (Redis's rdb-save-incremental-fsync). A log
 * fdatasync that lands during a step waits for it: with 8 MiB steps the
 * log's slowest sync was 6-7 ms while a snapshot was written, with 1 MiB
 * steps 1-4 ms, for 10% more time writing the snapshot. */
#define SNAP_SYNC_EVERY (1u << 20)
#define SNAP_PREFIX "snapshot."
#define SNAP_TMP_PREFIX "tmp.snapshot."

struct snap_writer {
    const fileops *fo;
    char *dir;
    char tmp[4096], final[4096];
    int fd;
    int err;
    uint64_t off;      /* file offset of buf[0] */
    uint64_t body_len;
    uint32_t crc;
    size_t len;
    uint8_t buf[SNAP_BUF];
};

struct snap_reader {
    const fileops *fo;
    fileops_log log;
    char path[4096];
    int fd;
    int64_t zxid;
    uint64_t body_len, pos; /* pos: body bytes consumed */
    uint32_t want_crc, crc;
    int err;
    uint64_t boff;          /* body offset of win[0] */
    size_t blen;
    uint8_t win[SNAP_BUF];
};

const char *snap_strerror(int err)
{
    return err == SNAP_ECORRUPT ? "corrupt snapshot" : wal_strerror(err);
}

static void snap_name(char *buf, size_t len, const char *prefix, int64_t zxid)
{
    snprintf(buf, len, "%s%016llx", prefix, (unsigned long long)zxid);
}

/* ---- writing ------------------------------------------------------------- */

static void hdr_encode(uint8_t *p, int64_t zxid)
{
    memset(p, 0, SNAP_HDR);
    memcpy(p, SNAP_MAGIC, 8);
    wal__put32(p + 8, SNAP_VERSION);
    wal__put64(p + 16, (uint64_t)zxid);
    wal__put32(p + 28, crc32c(p, 28));
}

static int sw_paths(snap_writer *sw, int64_t zxid)
{
    char name[64];
    snap_name(name, sizeof name, SNAP_TMP_PREFIX, zxid);
    int rc = wal__path(sw->tmp, sizeof sw->tmp, sw->dir, name);
    snap_name(name, sizeof name, SNAP_PREFIX, zxid);
    return rc ? rc : wal__path(sw->final, sizeof sw->final, sw->dir, name);
}

int snap_write_begin(const char *dir, const fileops *fo, int64_t zxid,
                     snap_writer **out)
{
    if (zxid <= 0)
        return -EINVAL;
    snap_writer *sw = calloc(1, sizeof *sw);
    if (!sw)
        return -ENOMEM;
    sw->fo = fo;
    sw->fd = -1;
    sw->dir = strdup(dir);
    int rc = sw->dir ? sw_paths(sw, zxid) : -ENOMEM;
    if (rc == 0)
        rc = sw->fd = fo->open(fo->ctx, sw->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (rc >= 0) {
        hdr_encode(sw->buf, zxid);
        sw->len = SNAP_HDR;
        *out = sw;
        return 0;
    }
    free(sw->dir);
    free(sw);
    return rc;
}

static int sw_flush(snap_writer *sw)
{
    if (sw->err == 0 && sw->len)
        sw->err = fileops_pwrite_full(sw->fo, sw->fd, sw->buf, sw->len, sw->off);
    bool step = sw->off / SNAP_SYNC_EVERY != (sw->off + sw->len) / SNAP_SYNC_EVERY;
    sw->off += sw->len;
    sw->len = 0;
    if (sw->err == 0 && step)
        sw->err = sw->fo->fdatasync(sw->fo->ctx, sw->fd);
    return sw->err;
}

int snap_write(void *ctx, const void *p, size_t n)
{
    snap_writer *sw = ctx;
    const uint8_t *src = p;
    sw->crc = crc32c_update(sw->crc, p, n);
    sw->body_len += n;
    while (n > 0 && sw->err == 0) {
        size_t room = SNAP_BUF - sw->len, k = n < room ? n : room;
        memcpy(sw->buf + sw->len, src, k);
        sw->len += k;
        src += k;
        n -= k;
        if (sw->len == SNAP_BUF)
            sw_flush(sw);
    }
    return sw->err;
}

static int sw_trailer(snap_writer *sw)
{
    uint8_t t[SNAP_TRL];
    wal__put64(t, sw->body_len);
    wal__put32(t + 8, sw->crc);
    wal__put32(t + 12, crc32c(t, 12));
    return snap_write(sw, t, sizeof t);
}

static void sw_free(snap_writer *sw)
{
    if (sw->fd >= 0)
        sw->fo->close(sw->fo->ctx, sw->fd);
    free(sw->dir);
    free(sw);
}

int snap_write_commit(snap_writer *sw)
{
    const fileops *fo = sw->fo;
    int rc = sw_trailer(sw);
    if (rc == 0)
        rc = sw_flush(sw);
    if (rc == 0)
        rc = fo->fsync(fo->ctx, sw->fd);
    fo->close(fo->ctx, sw->fd);
    sw->fd = -1;
    if (rc == 0)
        rc = fo->rename(fo->ctx, sw->tmp, sw->final);
    if (rc == 0)
        rc = fo->fsync_dir(fo->ctx, sw->dir);
    else
        fo->unlink(fo->ctx, sw->tmp);
    sw_free(sw);
    return rc;
}

void snap_write_abort(snap_writer *sw)
{
    if (!sw)
        return;
    sw->fo->close(sw->fo->ctx, sw->fd);
    sw->fd = -1;
    sw->fo->unlink(sw->fo->ctx, sw->tmp);
    sw_free(sw);
}

/* ---- the directory ------------------------------------------------------- */

typedef struct snap_list {
    int64_t *zxids;
    size_t n, cap;
    char **tmps;
    size_t ntmp, captmp;
} snap_list;

/* The zxid if name is exactly prefix and 16 hex digits, else 0. */
static int64_t name_zxid(const char *name, const char *prefix)
{
    unsigned long long z;
    char canon[64];
    size_t plen = strlen(prefix);
    if (strlen(name) != plen + 16 || sscanf(name + plen, "%16llx", &z) != 1)
        return 0;
    snap_name(canon, sizeof canon, prefix, (int64_t)z);
    return strcmp(canon, name) == 0 && z > 0 && z <= INT64_MAX ? (int64_t)z : 0;
}

static int list_push(snap_list *l, const char *name, int64_t zxid)
{
    if (zxid && l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        int64_t *nv = realloc(l->zxids, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        l->zxids = nv;
        l->cap = ncap;
    }
    if (zxid) {
        l->zxids[l->n++] = zxid;
        return 0;
    }
    if (l->ntmp == l->captmp) {
        size_t ncap = l->captmp ? l->captmp * 2 : 4;
        char **nv = realloc(l->tmps, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        l->tmps = nv;
        l->captmp = ncap;
    }
    return (l->tmps[l->ntmp++] = strdup(name)) ? 0 : -ENOMEM;
}

static int list_cb(void *fctx, const char *name)
{
    int64_t z = name_zxid(name, SNAP_PREFIX);
    if (z)
        return list_push(fctx, name, z);
    if (name_zxid(name, SNAP_TMP_PREFIX))
        return list_push(fctx, name, 0);
    return 0;
}

static int zxid_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void list_free(snap_list *l)
{
    for (size_t i = 0; i < l->ntmp; i++)
        free(l->tmps[i]);
    free(l->tmps);
    free(l->zxids);
}

static int list_dir(const char *dir, const fileops *fo, snap_list *l)
{
    memset(l, 0, sizeof *l);
    int rc = fo->list(fo->ctx, dir, list_cb, l);
    if (rc == -ENOENT)
        rc = 0;
    if (rc < 0)
        list_free(l);
    else if (l->n)
        qsort(l->zxids, l->n, sizeof *l->zxids, zxid_cmp);
    return rc;
}

static int remove_tmps(const char *dir, const fileops *fo, const snap_list *l,
                       const fileops_log *log)
{
    int rc = 0;
    for (size_t i = 0; i < l->ntmp && rc == 0; i++) {
        char path[4096];
        rc = wal__path(path, sizeof path, dir, l->tmps[i]);
        if (rc == 0)
            rc = fo->unlink(fo->ctx, path);
        if (rc == 0)
            fileops_logf(log, FILEOPS_LOG_WARN,
                         "%s: removed an unfinished snapshot (left by a crash)", path);
    }
    return rc == 0 && l->ntmp ? fo->fsync_dir(fo->ctx, dir) : rc;
}

int snap_purge(const char *dir, const fileops *fo, unsigned keep,
               int64_t *oldest_kept)
{
    snap_list l;
    int rc = list_dir(dir, fo, &l);
    if (rc < 0)
        return rc;
    keep = keep ? keep : 1;
    size_t del = l.n > keep ? l.n - keep : 0, done = 0;
    while (done < del && rc == 0) {
        char name[64];
        snap_name(name, sizeof name, SNAP_PREFIX, l.zxids[done]);
        rc = trash_move(fo, dir, name); /* trash_empty deletes it, slowly */
        if (rc == 0)
            done++;
    }
    if (oldest_kept)
        *oldest_kept = l.n > done ? l.zxids[done] : 0;
    int src = done ? fo->fsync_dir(fo->ctx, dir) : 0;
    list_free(&l);
    rc = rc ? rc : src;
    return rc < 0 ? rc : (int)done;
}

/* ---- reading ------------------------------------------------------------- */

static int sr_corrupt(snap_reader *r, uint64_t off, const char *why)
{
    fileops_logf(&r->log, FILEOPS_LOG_ERROR,
                 "%s: corrupt snapshot at offset %" PRIu64 ": %s; refusing to start"
                 " (move the file aside to fall back to an older snapshot)",
                 r->path, off, why);
    return r->err = SNAP_ECORRUPT;
}

static int sr_header(snap_reader *r, uint64_t size)
{
    uint8_t h[SNAP_HDR] = {0}, t[SNAP_TRL] = {0};
    if (size < SNAP_HDR + SNAP_TRL)
        return sr_corrupt(r, 0, "file too short for header and trailer");
    int rc = fileops_pread_full(r->fo, r->fd, h, SNAP_HDR, 0);
    if (rc == 0)
        rc = fileops_pread_full(r->fo, r->fd, t, SNAP_TRL, size - SNAP_TRL);
    if (rc < 0)
        return rc;
    if (memcmp(h, SNAP_MAGIC, 8) != 0 || wal__get32(h + 28) != crc32c(h, 28))
        return sr_corrupt(r, 0, "bad header magic or checksum");
    if (wal__get32(h + 8) != SNAP_VERSION)
        return sr_corrupt(r, 8, "unknown format version");
    if ((int64_t)wal__get64(h + 16) != r->zxid)
        return sr_corrupt(r, 16, "header zxid differs from the file name");
    if (wal__get32(t + 12) != crc32c(t, 12))
        return sr_corrupt(r, size - SNAP_TRL, "bad trailer checksum");
    r->body_len = wal__get64(t);
    r->want_crc = wal__get32(t + 8);
    if (r->body_len != size - SNAP_HDR - SNAP_TRL)
        return sr_corrupt(r, size - SNAP_TRL, "body length differs from the file size");
    return 0;
}

static int sr_open(const char *dir, const fileops *fo, const fileops_log *log,
                   int64_t zxid, snap_reader **out)
{
    snap_reader *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    char name[64];
    uint64_t size = 0;
    r->fo = fo;
    r->log = log ? *log : (fileops_log){0};
    r->zxid = zxid;
    snap_name(name, sizeof name, SNAP_PREFIX, zxid);
    r->fd = -1;
    int rc = wal__path(r->path, sizeof r->path, dir, name);
    if (rc == 0) {
        r->fd = fo->open(fo->ctx, r->path, O_RDONLY, 0);
        rc = r->fd < 0 ? r->fd : 0;
    }
    if (rc == 0)
        rc = fo->size(fo->ctx, r->fd, &size);
    if (rc == 0)
        rc = sr_header(r, size);
    if (rc < 0) {
        snap_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int snap_open_latest(const char *dir, const fileops *fo, const fileops_log *log,
                     snap_reader **out)
{
    snap_list l;
    *out = NULL;
    int rc = list_dir(dir, fo, &l);
    if (rc < 0)
        return rc;
    rc = remove_tmps(dir, fo, &l, log);
    if (rc == 0 && l.n)
        rc = sr_open(dir, fo, log, l.zxids[l.n - 1], out);
    list_free(&l);
    return rc;
}

int64_t snap_reader_zxid(const snap_reader *r)
{
    return r->zxid;
}

uint64_t snap_reader_size(const snap_reader *r)
{
    return r->body_len;
}

const char *snap_reader_path(const snap_reader *r)
{
    return r->path;
}

/* Makes the window hold body bytes from r->pos on. */
static int sr_fill(snap_reader *r)
{
    uint64_t left = r->body_len - r->pos;
    size_t n = left < SNAP_BUF ? (size_t)left : SNAP_BUF;
    int rc = fileops_pread_full(r->fo, r->fd, r->win, n, SNAP_HDR + r->pos);
    if (rc < 0)
        return r->err = (rc == -ENODATA ? -EIO : rc);
    r->boff = r->pos;
    r->blen = n;
    return 0;
}

int snap_read(void *ctx, void *p, size_t n)
{
    snap_reader *r = ctx;
    uint8_t *dst = p;
    if (r->err)
        return r->err;
    if (n > r->body_len - r->pos)
        return sr_corrupt(r, SNAP_HDR + r->body_len, "read past the end of the body");
    while (n > 0) {
        if (r->pos >= r->boff + r->blen && sr_fill(r) < 0)
            return r->err;
        size_t at = (size_t)(r->pos - r->boff), k = r->blen - at;
        k = k < n ? k : n;
        memcpy(dst, r->win + at, k);
        r->crc = crc32c_update(r->crc, r->win + at, k);
        r->pos += k;
        dst += k;
        n -= k;
    }
    if (r->pos == r->body_len && r->crc != r->want_crc)
        return sr_corrupt(r, SNAP_HDR, "body checksum mismatch");
    return 0;
}

int snap_read_finish(snap_reader *r)
{
    if (r->err)
        return r->err;
    if (r->pos == r->body_len)
        return 0;
    uint64_t unread = r->body_len - r->pos;
    uint8_t tmp[4096];
    while (r->pos < r->body_len && r->err == 0) {
        uint64_t left = r->body_len - r->pos;
        snap_read(r, tmp, left < sizeof tmp ? (size_t)left : sizeof tmp);
    }
    if (r->err)
        return r->err;
    char why[96];
    snprintf(why, sizeof why, "%" PRIu64 " body bytes left unread by the registry", unread);
    return sr_corrupt(r, SNAP_HDR + r->body_len - unread, why);
}

void snap_reader_close(snap_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        r->fo->close(r->fo->ctx, r->fd);
    free(r);
}

/* ---- the checker --------------------------------------------------------- */

typedef struct check_msg {
    char text[512];
} check_msg;

static void check_msg_fn(void *ctx, int level, const char *msg)
{
    (void)level;
    snprintf(((check_msg *)ctx)->text, sizeof ((check_msg *)ctx)->text, "%s", msg);
}

/* Reads the whole body (so the checksum is verified) and closes r. */
static int check_drain(snap_reader *r)
{
    uint8_t tmp[4096];
    int rc = 0;
    while (rc == 0 && r->pos < r->body_len) {
        uint64_t left = r->body_len - r->pos;
        rc = snap_read(r, tmp, left < sizeof tmp ? (size_t)left : sizeof tmp);
    }
    snap_reader_close(r);
    return rc;
}

static int check_one(const char *dir, const fileops *fo, int64_t zxid, bool newest,
                     FILE *out)
{
    check_msg cm = {""};
    fileops_log log = {check_msg_fn, &cm};
    snap_reader *r = NULL;
    uint64_t body = 0;
    int rc = sr_open(dir, fo, &log, zxid, &r);
    if (rc == 0) {
        body = r->body_len;
        rc = check_drain(r);
    }
    if (rc == 0) {
        fprintf(out, "  %s%016llx  zxid 0x%llx, body %llu bytes, checksum ok\n",
                SNAP_PREFIX, (unsigned long long)zxid, (unsigned long long)zxid,
                (unsigned long long)body);
        return 0;
    }
    fprintf(out, "  %s%016llx  %s: %s\n", SNAP_PREFIX, (unsigned long long)zxid,
            newest ? "BAD" : "bad (older, not used at start)",
            cm.text[0] ? cm.text : snap_strerror(rc));
    return newest ? 1 : 0;
}

int snap_check_dir(const char *dir, const fileops *fo, FILE *out,
                   int64_t *newest)
{
    snap_list l;
    *newest = 0;
    if (list_dir(dir, fo, &l) < 0) {
        fprintf(out, "snapshots: cannot list %s\n", dir);
        return 1;
    }
    fprintf(out, "snapshots: %zu\n", l.n);
    int bad = 0;
    for (size_t i = l.n; i-- > 0;)
        bad |= check_one(dir, fo, l.zxids[i], i + 1 == l.n, out);
    for (size_t i = 0; i < l.ntmp; i++)
        fprintf(out, "  %s  unfinished snapshot left by a crash (removed at start)\n",
                l.tmps[i]);
    if (l.n)
        *newest = l.zxids[l.n - 1];
    list_free(&l);
    return bad;
}
