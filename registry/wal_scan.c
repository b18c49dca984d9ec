/*
 * wal_scan.c - reading log segments back: validation, the torn-tail
 * verdict, the cut, and replay.
 *
 * A segment is read sequentially through a window buffer. Every record is
 * checked (length within the file, CRC32C, zxid above the previous one,
 * batch number following the previous record's) and batch accounting tells
 * where the last complete batch ends: only complete batches count.
 *
 * The verdict on a bad record at offset X (or a batch left unfinished):
 * in the last segment, if every valid record that can still be found after
 * X belongs to the batch that was open at X, the damage is the torn tail of
 * the final write, which was never acknowledged - cut at the end of the last
 * complete batch. A valid record of any other batch after X proves the
 * batch at X had been synced before: that is corruption, and fatal. In any
 * other segment all damage is fatal, as are records out of order and
 * segments that do not chain onto the one before (a gap).
 *
 * Zeros. The writer zero-fills ahead of its data (wal.c), so where the
 * records stop, a segment may hold zeros up to its end: if everything
 * from there to the end of the file is zero, that is the clean end of the
 * data, in any segment (a non-last one keeps its zero tail when a crash
 * beats the trim at roll-over), with no report. Zeros followed by
 * anything nonzero are not an end: a bad record as above, whose verdict
 * the records found after it decide - in the last segment a torn final
 * write can leave a zero gap before sectors of the same batch, and is cut;
 * a record of another batch after the gap, or any gap in another
 * segment, is refused.
 */
#include "wal_int.h"

#include "crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define WAL_RD_CHUNK (256u << 10)

enum { REC_OK, REC_END, REC_BAD };

/* ---- header -------------------------------------------------------------- */

void wal__seghdr_encode(uint8_t *out, const wal_seghdr *h)
{
    memcpy(out, WAL_SEG_MAGIC, 8);
    wal__put32(out + 8, WAL_VERSION);
    wal__put32(out + 12, h->first_batch);
    wal__put64(out + 16, (uint64_t)h->first_zxid);
    wal__put64(out + 24, (uint64_t)h->prev_zxid);
    wal__put32(out + 32, 0);
    wal__put32(out + 36, crc32c(out, 36));
}

int wal__seghdr_decode(const uint8_t *p, wal_seghdr *h, const char **why)
{
    if (memcmp(p, WAL_SEG_MAGIC, 8) != 0)
        *why = "bad segment magic";
    else if (wal__get32(p + 36) != crc32c(p, 36))
        *why = "segment header checksum mismatch";
    else if (wal__get32(p + 8) != WAL_VERSION)
        *why = "unknown segment format version";
    else {
        h->first_batch = wal__get32(p + 12);
        h->first_zxid = (int64_t)wal__get64(p + 16);
        h->prev_zxid = (int64_t)wal__get64(p + 24);
        return 0;
    }
    return -1;
}

int wal__path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- the read window ----------------------------------------------------- */

typedef struct wal_rd {
    const fileops *fo;
    int fd;
    uint64_t size;
    uint8_t *buf;
    size_t cap;
    uint64_t boff;
    size_t blen;
} wal_rd;

/* Points *p at the n bytes at off (off + n <= size). */
static int rd_get(wal_rd *r, uint64_t off, size_t n, const uint8_t **p)
{
    if (off >= r->boff && off - r->boff + n <= r->blen) {
        *p = r->buf + (off - r->boff);
        return 0;
    }
    size_t want = n > WAL_RD_CHUNK ? n : WAL_RD_CHUNK;
    if (want > r->size - off)
        want = (size_t)(r->size - off);
    if (want > r->cap) {
        uint8_t *nb = realloc(r->buf, want);
        if (!nb)
            return -ENOMEM;
        r->buf = nb;
        r->cap = want;
    }
    r->blen = 0;
    int rc = fileops_pread_full(r->fo, r->fd, r->buf, want, off);
    if (rc < 0)
        return rc == -ENODATA ? -EIO : rc;
    r->boff = off;
    r->blen = want;
    *p = r->buf;
    return 0;
}

/* The offset of the first nonzero byte in [off, end) into *at (end if
 * there is none); 0 or -errno. */
static int rd_nonzero(wal_rd *r, uint64_t off, uint64_t end, uint64_t *at)
{
    while (off < end) {
        size_t n = end - off > 4096 ? 4096 : (size_t)(end - off);
        const uint8_t *p;
        int rc = rd_get(r, off, n, &p);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (p[i]) {
                *at = off + i;
                return 0;
            }
        off += n;
    }
    *at = end;
    return 0;
}

/* 1 if bytes [off, end) are all zero, 0 if not, or -errno. */
static int rd_zeros(wal_rd *r, uint64_t off, uint64_t end)
{
    uint64_t at;
    int rc = rd_nonzero(r, off, end, &at);
    return rc < 0 ? rc : at == end;
}

/* ---- the scan ------------------------------------------------------------ */

typedef struct wal_scan {
    wal_rd rd;
    wal_seg *s;
    uint64_t limit;    /* scan up to here */
    bool last;         /* the last segment: a torn tail may be cut */
    bool replay;       /* replaying a repaired segment: any damage is fatal */
    wal_rec_fn fn;
    void *ctx;
    bool known;        /* zxid/batch/end below describe the previous record */
    int64_t zxid;
    uint32_t batch;
    bool end;
    bool hdr_ok;
    uint64_t nrec;     /* valid records seen */
    uint64_t pending;  /* valid records since the last complete batch */
    int64_t first_seen;
} wal_scan;

static void rec_fill(wal_rec *rec, uint64_t off, const uint8_t *p)
{
    uint32_t b = wal__get32(p + 16);
    rec->off = off;
    rec->len = wal__get32(p + 4);
    rec->zxid = (int64_t)wal__get64(p + 8);
    rec->batch = b & WAL_BATCH_MASK;
    rec->end = (b & WAL_BATCH_END) != 0;
    rec->payload = p + WAL_REC_HDR;
}

/* REC_OK with *rec if a whole valid record is at off, else REC_BAD and why. */
static int rec_decode(wal_scan *sc, uint64_t off, wal_rec *rec, const char **why)
{
    uint64_t left = sc->limit - off;
    const uint8_t *p;
    if (left < WAL_REC_HDR) {
        *why = "short record header";
        return REC_BAD;
    }
    int rc = rd_get(&sc->rd, off, WAL_REC_HDR, &p);
    if (rc < 0)
        return rc;
    uint32_t len = wal__get32(p + 4);
    if (len == 0 || len > WAL_MAX_PAYLOAD || len > left - WAL_REC_HDR) {
        *why = len ? "record length past the end of the file" : "zero record length";
        return REC_BAD;
    }
    if ((rc = rd_get(&sc->rd, off, WAL_REC_HDR + len, &p)) < 0)
        return rc;
    if (wal__get32(p) != crc32c(p + 4, WAL_REC_HDR - 4 + len)) {
        *why = "checksum mismatch";
        return REC_BAD;
    }
    rec_fill(rec, off, p);
    return REC_OK;
}

/* The record at off, REC_END at the limit or where only zeros remain. */
static int rec_next(wal_scan *sc, uint64_t off, wal_rec *rec, const char **why)
{
    if (off == sc->limit)
        return REC_END;
    int rc = rec_decode(sc, off, rec, why);
    if (rc != REC_BAD || sc->replay)
        return rc;
    int z = rd_zeros(&sc->rd, off, sc->limit);
    if (z <= 0)
        return z < 0 ? z : REC_BAD;
    sc->s->zero_tail = true;
    return REC_END;
}

static uint32_t scan_open_batch(const wal_scan *sc)
{
    return sc->end ? (sc->batch + 1) & WAL_BATCH_MASK : sc->batch;
}

/* Records found after damage at from decide its verdict (see the top). */
static int scan_resync(wal_scan *sc, uint64_t from)
{
    wal_seg *s = sc->s;
    bool have = sc->known;
    uint32_t ob = scan_open_batch(sc);
    uint64_t found = 0;
    for (uint64_t o = from + 1; o + WAL_REC_HDR <= sc->limit; o++) {
        wal_rec rec;
        const char *why;
        uint64_t nz;
        /* A record has a nonzero length at o + 4..7: in preallocated
         * zeros, skip to where one could start. */
        int rc = rd_nonzero(&sc->rd, o + 4, sc->limit, &nz);
        if (rc < 0)
            return rc;
        if (nz >= o + 8) {
            o = nz - 8; /* the loop's o++ makes it nz - 7 */
            continue;
        }
        rc = rec_decode(sc, o, &rec, &why);
        if (rc < 0)
            return rc;
        if (rc != REC_OK)
            continue;
        if (!have) {
            have = true;
            ob = rec.batch;
        }
        if (rec.batch != ob || (sc->known && rec.zxid <= sc->zxid)) {
            size_t l = strlen(s->why);
            snprintf(s->why + l, sizeof s->why - l,
                     ", followed by a valid record of another batch at offset %" PRIu64
                     " (zxid 0x%" PRIx64 ")", o, (uint64_t)rec.zxid);
            s->damage = WAL_DMG_FATAL;
            return 0;
        }
        found++;
        o += WAL_REC_HDR + rec.len - 1;
    }
    s->damage = WAL_DMG_TAIL;
    s->cut_records = sc->pending + found;
    return 0;
}

/* Damage at off (resync from resync_from): records the verdict. */
static int scan_damage(wal_scan *sc, uint64_t off, uint64_t resync_from,
                       const char *why, bool fatal)
{
    wal_seg *s = sc->s;
    s->damage_off = off;
    snprintf(s->why, sizeof s->why, "%s", why);
    if (sc->replay)
        return WAL_ECORRUPT;
    if (fatal || !sc->last) {
        s->damage = WAL_DMG_FATAL;
        return 0;
    }
    return scan_resync(sc, resync_from);
}

/* A valid record out of sequence: fills msg and returns nonzero. */
static int rec_check(const wal_scan *sc, const wal_rec *rec, char *msg, size_t n)
{
    uint32_t want = scan_open_batch(sc);
    if (sc->known && rec->zxid <= sc->zxid)
        snprintf(msg, n, "zxid 0x%" PRIx64 " is not above the previous zxid 0x%" PRIx64,
                 (uint64_t)rec->zxid, (uint64_t)sc->zxid);
    else if (sc->nrec == 0 && sc->hdr_ok && rec->zxid != sc->s->name_zxid)
        snprintf(msg, n, "first zxid 0x%" PRIx64 " differs from the segment's name",
                 (uint64_t)rec->zxid);
    else if (sc->known && rec->batch != want)
        snprintf(msg, n, "batch number %" PRIu32 " where %" PRIu32 " was expected",
                 rec->batch, want);
    else
        return 0;
    return 1;
}

static int rec_accept(wal_scan *sc, wal_rec *rec)
{
    wal_seg *s = sc->s;
    rec->prev_zxid = sc->known ? sc->zxid : 0;
    sc->known = true;
    sc->zxid = rec->zxid;
    sc->batch = rec->batch;
    sc->end = rec->end;
    if (sc->nrec++ == 0)
        sc->first_seen = rec->zxid;
    sc->pending++;
    if (rec->end) {
        s->records += sc->pending;
        s->batches++;
        sc->pending = 0;
        s->end = rec->off + WAL_REC_HDR + rec->len;
        s->first_zxid = sc->first_seen;
        s->last_zxid = rec->zxid;
        s->last_batch = rec->batch;
    }
    return sc->fn ? sc->fn(sc->ctx, rec) : 0;
}

static int scan_records(wal_scan *sc)
{
    uint64_t off = WAL_SEG_HDR;
    for (;;) {
        wal_rec rec;
        const char *why = NULL;
        char msg[160];
        int rc = rec_next(sc, off, &rec, &why);
        if (rc < 0)
            return rc;
        if (rc == REC_END)
            break;
        if (rc == REC_BAD)
            return scan_damage(sc, off, off, why, false);
        if (rec_check(sc, &rec, msg, sizeof msg))
            return scan_damage(sc, off, off, msg, true);
        if ((rc = rec_accept(sc, &rec)) != 0)
            return rc;
        off += WAL_REC_HDR + rec.len;
    }
    if (sc->pending == 0 && sc->nrec > 0)
        return 0;
    return scan_damage(sc, sc->s->end ? sc->s->end : WAL_SEG_HDR, off,
                       sc->nrec ? "unfinished batch" : "segment without records",
                       false);
}

/* The previous segment's end state stands in as the record before. */
static void scan_assume_prev(wal_scan *sc, const wal_seg *prev)
{
    if (!prev || prev->end == 0)
        return;
    sc->known = true;
    sc->zxid = prev->last_zxid;
    sc->batch = prev->last_batch;
    sc->end = true;
}

static int scan_chain_msg(wal_scan *sc, const wal_seghdr *h, const wal_seg *prev,
                          char *msg, size_t n)
{
    if (h->first_zxid != sc->s->name_zxid)
        snprintf(msg, n, "header says first zxid 0x%" PRIx64 ", the name another",
                 (uint64_t)h->first_zxid);
    else if (prev && prev->end && h->prev_zxid != prev->last_zxid)
        snprintf(msg, n, "segment follows zxid 0x%" PRIx64 " but the previous segment"
                 " ends at zxid 0x%" PRIx64 " (records missing)",
                 (uint64_t)h->prev_zxid, (uint64_t)prev->last_zxid);
    else if (prev && prev->end &&
             h->first_batch != ((prev->last_batch + 1) & WAL_BATCH_MASK))
        snprintf(msg, n, "segment starts with batch %" PRIu32 " after batch %" PRIu32,
                 h->first_batch, prev->last_batch);
    else
        return 0;
    return 1;
}

static int scan_header(wal_scan *sc, const wal_seg *prev)
{
    wal_seg *s = sc->s;
    const uint8_t *p;
    const char *why = NULL;
    char msg[160];
    scan_assume_prev(sc, prev);
    if (s->size < WAL_SEG_HDR)
        return scan_damage(sc, 0, 0, "short segment header", false);
    int rc = rd_get(&sc->rd, 0, WAL_SEG_HDR, &p);
    if (rc < 0)
        return rc;
    if (wal__seghdr_decode(p, &s->hdr, &why) < 0)
        return scan_damage(sc, 0, 0, why, false);
    if (scan_chain_msg(sc, &s->hdr, prev, msg, sizeof msg))
        return scan_damage(sc, 0, 0, msg, true);
    sc->hdr_ok = true;
    sc->known = true;
    sc->zxid = s->hdr.prev_zxid;
    sc->batch = (s->hdr.first_batch - 1) & WAL_BATCH_MASK;
    sc->end = true;
    return 0;
}

static int scan_file(const fileops *fo, const char *dir, wal_scan *sc,
                     const wal_seg *prev)
{
    char path[4096];
    int rc = wal__path(path, sizeof path, dir, sc->s->name);
    if (rc < 0)
        return rc;
    sc->rd.fo = fo;
    sc->rd.fd = fo->open(fo->ctx, path, O_RDONLY, 0);
    if (sc->rd.fd < 0)
        return sc->rd.fd;
    rc = fo->size(fo->ctx, sc->rd.fd, &sc->rd.size);
    if (rc == 0) {
        if (!sc->replay)
            sc->s->size = sc->rd.size;
        sc->limit = sc->replay ? sc->s->end : sc->rd.size;
        if (sc->limit > sc->rd.size)
            rc = WAL_ECORRUPT;
    }
    if (rc == 0)
        rc = scan_header(sc, prev);
    if (rc == 0 && !sc->s->damage)
        rc = scan_records(sc);
    fo->close(fo->ctx, sc->rd.fd);
    free(sc->rd.buf);
    return rc;
}

int wal__replay_segment(const fileops *fo, const char *dir, const wal_seg *s,
                        wal_rec_fn fn, void *ctx, const fileops_log *log)
{
    wal_seg copy = *s;
    copy.records = copy.batches = 0;
    snprintf(copy.why, sizeof copy.why, "segment shorter than when opened");
    wal_scan sc = {.s = &copy, .replay = true, .fn = fn, .ctx = ctx};
    int rc = scan_file(fo, dir, &sc, NULL);
    if (rc == 0 && sc.pending)
        rc = WAL_ECORRUPT;
    if (rc == WAL_ECORRUPT) {
        char msg[512];
        copy.damage = WAL_DMG_FATAL;
        wal__damage_msg(dir, &copy, msg, sizeof msg);
        fileops_logf(log, FILEOPS_LOG_ERROR, "%s (changed since the log was opened)", msg);
    }
    return rc;
}

/* ---- the directory ------------------------------------------------------- */

typedef struct wal_list {
    wal_seg *v;
    size_t n, cap;
    int err;
} wal_list;

static int list_cb(void *fctx, const char *name)
{
    wal_list *l = fctx;
    unsigned long long z;
    char canon[WAL_NAME_LEN + 8];
    if (strlen(name) != WAL_NAME_LEN || sscanf(name, "log.%16llx", &z) != 1)
        return 0;
    snprintf(canon, sizeof canon, WAL_NAME_FMT, z);
    if (strcmp(canon, name) != 0 || z == 0 || z > INT64_MAX)
        return 0;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        wal_seg *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    wal_seg *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->name, name, WAL_NAME_LEN + 1);
    s->name_zxid = (int64_t)z;
    return 0;
}

static int seg_cmp(const void *a, const void *b)
{
    int64_t x = ((const wal_seg *)a)->name_zxid, y = ((const wal_seg *)b)->name_zxid;
    return (x > y) - (x < y);
}

int wal__scan_dir(const fileops *fo, const char *dir, wal_seg **segs, size_t *n,
                  void (*progress)(void *ctx, const char *segment), void *progress_ctx)
{
    wal_list l = {0};
    int rc = fo->list(fo->ctx, dir, list_cb, &l);
    if (rc == 0 && l.n)
        qsort(l.v, l.n, sizeof *l.v, seg_cmp);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        wal_scan sc = {.s = &l.v[i], .last = i + 1 == l.n};
        rc = scan_file(fo, dir, &sc, i ? &l.v[i - 1] : NULL);
        if (rc == 0 && progress)
            progress(progress_ctx, l.v[i].name);
    }
    if (rc < 0) {
        free(l.v);
        return rc;
    }
    *segs = l.v;
    *n = l.n;
    return 0;
}

void wal__damage_msg(const char *dir, const wal_seg *s, char *buf, size_t len)
{
    const char *kind = s->damage == WAL_DMG_TAIL ? "torn tail" : "corrupt";
    snprintf(buf, len, "%s/%s: %s at offset %" PRIu64 ": %s", dir, s->name, kind,
             s->damage_off, s->why);
}

static int repair_remove(const fileops *fo, const char *dir, const char *path)
{
    int rc = fo->unlink(fo->ctx, path);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    return fo->fsync_dir(fo->ctx, dir);
}

static int repair_truncate(const fileops *fo, const char *path, uint64_t len)
{
    int fd = fo->open(fo->ctx, path, O_RDWR, 0);
    if (fd < 0)
        return fd;
    int rc = fo->ftruncate(fo->ctx, fd, len);
    if (rc == 0)
        rc = fo->fsync(fo->ctx, fd);
    fo->close(fo->ctx, fd);
    return rc;
}

int wal__repair_tail(const fileops *fo, const char *dir, wal_seg *segs,
                     size_t *n, const fileops_log *log)
{
    wal_seg *s = *n ? &segs[*n - 1] : NULL;
    if (!s || s->damage != WAL_DMG_TAIL)
        return 0;
    char path[4096], msg[512];
    int rc = wal__path(path, sizeof path, dir, s->name);
    if (rc < 0)
        return rc;
    wal__damage_msg(dir, s, msg, sizeof msg);
    rc = s->end ? repair_truncate(fo, path, s->end) : repair_remove(fo, dir, path);
    if (rc < 0)
        return rc;
    fileops_logf(log, FILEOPS_LOG_WARN,
                 "%s; %s (dropping %" PRIu64 " bytes, %" PRIu64
                 " records of a batch that was never acknowledged)",
                 msg, s->end ? "cut off" : "segment removed",
                 s->size - s->end, s->cut_records);
    if (s->end == 0)
        (*n)--;
    s->size = s->end;
    s->damage = WAL_DMG_NONE;
    s->zero_tail = false;
    return 0;
}
