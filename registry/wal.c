/*
 * wal.c - the log writer: append buffer, group commit, segments, purge.
 *
 * Appending copies a record header (length, zxid) and the payload into the
 * current buffer; nothing else. wal_flush_begin swaps that buffer with the
 * spare one and describes it as a batch (its number, zxid range, whether it
 * opens a new segment). wal_flush_write, on any thread, seals the batch -
 * batch numbers, the end flag on the last record, CRC32Cs, the segment
 * header in the headroom kept at the front of every buffer - and writes it
 * with one pwrite and one fdatasync (plus, now and then, a zero-fill ahead
 * of the data so that fdatasync need not grow the file, and an fsync of the
 * directory when a segment is created). wal_flush_end publishes the result.
 *
 * Preallocation. Overwriting blocks that already hold data costs one
 * fdatasync of the data; growing the file, or writing into blocks that
 * fallocate(2) reserved (ext4 marks them unwritten and must journal their
 * conversion), adds a journal commit to the fdatasync. So the writer
 * zero-fills prealloc_bytes ahead of the data whenever the data has passed
 * the last fill, never past segment_bytes, and the batch that pays for a
 * fill pays once per prealloc_bytes of log (bench/README-wal.md has the
 * figures). A segment therefore ends with zeros, which recovery takes for
 * the clean end of the data (wal_scan.c). Rolling to a new segment trims
 * the old one to its data; that trim is not synced, because a zero tail
 * that survives a crash is just as valid. After a restart the writer goes
 * on in the last segment, over its zero tail, at the end of its last
 * complete batch.
 *
 * The open segment (descriptor, offset) belongs to whoever holds the batch,
 * so the loop thread and the worker never share mutable state. The first
 * error of a write or sync is kept and returned forever after, except, with
 * enospc_transient, a full disk: the batch is cut back off the segment and
 * dropped with everything appended after it (batch_drop), and the log goes on.
 */
#include "wal_int.h"

#include "crc32c.h"
#include "snapfile.h"
#include "trash.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define WAL_ZERO_CHUNK (1u << 20)

typedef struct wal_buf {
    uint8_t *p;
    size_t len; /* includes the WAL_SEG_HDR headroom */
    size_t cap;
} wal_buf;

struct wal_batch {
    wal_t *w;
    wal_buf buf;
    int64_t first_zxid, last_zxid, prev_zxid;
    size_t nrecords;
    uint32_t number;
    bool new_segment;
    bool dropped; /* disk full: taken back off the disk (enospc_transient) */
    int err;
};

/* The open segment: touched only by the holder of the batch. */
typedef struct wal_io {
    int fd;
    uint64_t off;          /* end of the data */
    uint64_t prealloc_end; /* end of the zero-fill */
    int64_t reopen;        /* first zxid of the segment recovery left open,
                              to be opened for writing by the next batch */
    bool sync_dir;         /* the segment is new or reopened: fsync the
                              directory after the next batch */
    int err;
} wal_io;

struct wal {
    const fileops *fo;
    char *dir;
    wal_opts opts;
    int err;                /* sticky */
    int64_t last_zxid;      /* appended */
    int64_t flushed_zxid;   /* handed to a batch */
    int64_t durable_zxid;
    uint32_t next_batch;
    wal_buf cur;
    size_t cur_records;
    int64_t cur_first;
    wal_batch batch;
    bool batch_out;
    bool seg_open;
    uint64_t seg_bytes;
    int64_t *segs;          /* first zxids of the segments, oldest first */
    size_t nsegs, capsegs;
    wal_seg *scan;          /* what wal_open found, for wal_recover */
    size_t nscan;
    wal_io io;
    uint8_t *zeros;
};

void wal_opts_default(wal_opts *opts)
{
    *opts = (wal_opts){
        .segment_bytes = 64u << 20,
        .prealloc_bytes = 1u << 20,
        .keep_segments = 2,
    };
}

const char *wal_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case WAL_ECORRUPT: return "corrupt log";
    case WAL_EZXID: return "zxid not above the previous one";
    case WAL_ETOOBIG: return "record payload empty or too large";
    case SNAP_ECORRUPT: return "corrupt snapshot";
    default: return err < 0 && err > -4096 ? strerror(-err) : "unknown error";
    }
}

/* ---- buffers and the segment list --------------------------------------- */

static int buf_reserve(wal_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64u << 10;
    while (ncap < need)
        ncap *= 2;
    uint8_t *np = realloc(b->p, ncap);
    if (!np)
        return -ENOMEM;
    b->p = np;
    b->cap = ncap;
    return 0;
}

static int segs_push(wal_t *w, int64_t first_zxid)
{
    if (w->nsegs == w->capsegs) {
        size_t ncap = w->capsegs ? w->capsegs * 2 : 16;
        int64_t *nv = realloc(w->segs, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        w->segs = nv;
        w->capsegs = ncap;
    }
    w->segs[w->nsegs++] = first_zxid;
    return 0;
}

static void seg_name(int64_t zxid, char name[WAL_NAME_LEN + 1])
{
    snprintf(name, WAL_NAME_LEN + 1, WAL_NAME_FMT, (unsigned long long)zxid);
}

static int seg_path(const wal_t *w, int64_t zxid, char *buf, size_t len)
{
    char name[WAL_NAME_LEN + 1];
    seg_name(zxid, name);
    return wal__path(buf, len, w->dir, name);
}

/* ---- open ---------------------------------------------------------------- */

static int ensure_dir(const fileops *fo, const char *dir)
{
    int rc = fo->mkdir(fo->ctx, dir, 0750);
    if (rc == -EEXIST)
        return 0;
    if (rc < 0)
        return rc;
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(parent, sizeof parent, ".");
    return fo->fsync_dir(fo->ctx, parent);
}

static int report_fatal(const wal_t *w)
{
    int rc = 0;
    for (size_t i = 0; i < w->nscan; i++) {
        char msg[512];
        if (w->scan[i].damage != WAL_DMG_FATAL)
            continue;
        wal__damage_msg(w->dir, &w->scan[i], msg, sizeof msg);
        fileops_logf(&w->opts.log, FILEOPS_LOG_ERROR, "%s; refusing to start", msg);
        rc = WAL_ECORRUPT;
    }
    return rc;
}

/* Learns the tail of the log from the (repaired) scan. The last segment
 * stays open: the next batch goes on at the end of its data, over the zero
 * tail the scan found (everything from s->end to s->size is zero, or the
 * repair cut it). */
static int adopt_scan(wal_t *w)
{
    w->next_batch = 1;
    for (size_t i = 0; i < w->nscan; i++) {
        const wal_seg *s = &w->scan[i];
        int rc = segs_push(w, s->name_zxid);
        if (rc < 0)
            return rc;
        w->last_zxid = s->last_zxid;
        w->next_batch = (s->last_batch + 1) & WAL_BATCH_MASK;
    }
    w->flushed_zxid = w->durable_zxid = w->last_zxid;
    if (w->nscan) {
        const wal_seg *s = &w->scan[w->nscan - 1];
        w->io.reopen = s->name_zxid;
        w->io.off = s->end;
        w->io.prealloc_end = s->size;
        w->seg_open = true;
        w->seg_bytes = s->end;
    }
    return 0;
}

static int wal_load(wal_t *w)
{
    int rc = ensure_dir(w->fo, w->dir);
    if (rc == 0)
        rc = wal__scan_dir(w->fo, w->dir, &w->scan, &w->nscan, w->opts.progress,
                           w->opts.progress_ctx);
    if (rc == 0)
        rc = report_fatal(w);
    if (rc == 0)
        rc = wal__repair_tail(w->fo, w->dir, w->scan, &w->nscan, &w->opts.log);
    if (rc == 0)
        rc = adopt_scan(w);
    if (rc == 0)
        rc = buf_reserve(&w->cur, WAL_SEG_HDR);
    if (rc == 0 && w->opts.prealloc_bytes)
        rc = (w->zeros = calloc(1, WAL_ZERO_CHUNK)) ? 0 : -ENOMEM;
    w->cur.len = WAL_SEG_HDR;
    return rc;
}

int wal_open(const char *dir, const fileops *fo, const wal_opts *opts,
             wal_t **out)
{
    wal_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    if (opts)
        w->opts = *opts;
    else
        wal_opts_default(&w->opts);
    w->fo = fo;
    w->io.fd = -1;
    w->dir = strdup(dir);
    int rc = w->dir ? wal_load(w) : -ENOMEM;
    if (rc < 0) {
        wal_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* ---- recovery ------------------------------------------------------------ */

typedef struct replay_ctx {
    int64_t after;
    bool started;
    wal_replay_fn fn;
    void *ctx;
    const wal_t *w;
    const wal_seg *seg;
} replay_ctx;

static int replay_rec(void *ctx, const wal_rec *rec)
{
    replay_ctx *r = ctx;
    if (rec->zxid <= r->after)
        return 0;
    if (!r->started && rec->prev_zxid > r->after) {
        fileops_logf(&r->w->opts.log, FILEOPS_LOG_ERROR,
                     "%s/%s: offset %" PRIu64 ": the log continues after zxid 0x%" PRIx64
                     " from zxid 0x%" PRIx64 ": the records in between are missing",
                     r->w->dir, r->seg->name, rec->off, (uint64_t)r->after,
                     (uint64_t)rec->prev_zxid);
        return WAL_ECORRUPT;
    }
    r->started = true;
    return r->fn(r->ctx, rec->zxid, rec->payload, rec->len);
}

int wal_recover(wal_t *w, int64_t after_zxid, wal_replay_fn fn, void *ctx)
{
    replay_ctx r = {.after = after_zxid, .fn = fn, .ctx = ctx, .w = w};
    for (size_t i = 0; i < w->nscan; i++) {
        if (i + 1 < w->nscan && w->scan[i + 1].name_zxid <= after_zxid + 1)
            continue; /* wholly covered by the snapshot */
        r.seg = &w->scan[i];
        int rc = wal__replay_segment(w->fo, w->dir, r.seg, replay_rec, &r,
                                     &w->opts.log);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- appending ----------------------------------------------------------- */

int wal_append(wal_t *w, int64_t zxid, const void *payload, size_t len)
{
    if (w->err)
        return w->err;
    if (len == 0 || len > WAL_MAX_PAYLOAD)
        return WAL_ETOOBIG;
    if (zxid <= w->last_zxid)
        return WAL_EZXID;
    int rc = buf_reserve(&w->cur, w->cur.len + WAL_REC_HDR + len);
    if (rc < 0)
        return rc;
    uint8_t *p = w->cur.p + w->cur.len;
    memset(p, 0, WAL_REC_HDR);
    wal__put32(p + 4, (uint32_t)len);
    wal__put64(p + 8, (uint64_t)zxid);
    memcpy(p + WAL_REC_HDR, payload, len);
    w->cur.len += WAL_REC_HDR + len;
    if (w->cur_records++ == 0)
        w->cur_first = zxid;
    w->last_zxid = zxid;
    return 0;
}

int wal_flush_begin(wal_t *w, wal_batch **out)
{
    *out = NULL;
    if (w->err)
        return w->err;
    if (w->batch_out)
        return -EBUSY;
    if (w->cur_records == 0)
        return 0;
    wal_batch *b = &w->batch;
    wal_buf spare = b->buf;
    b->buf = w->cur;
    w->cur = spare;
    w->cur.len = WAL_SEG_HDR;
    b->w = w;
    b->first_zxid = w->cur_first;
    b->last_zxid = w->last_zxid;
    b->prev_zxid = w->flushed_zxid;
    b->nrecords = w->cur_records;
    b->number = w->next_batch;
    b->new_segment = !w->seg_open || w->seg_bytes >= w->opts.segment_bytes;
    b->err = -EINPROGRESS;
    b->dropped = false;
    w->seg_bytes = (b->new_segment ? 0 : w->seg_bytes) + b->buf.len;
    w->seg_open = true;
    w->next_batch = (w->next_batch + 1) & WAL_BATCH_MASK;
    w->flushed_zxid = b->last_zxid;
    w->cur_records = 0;
    w->batch_out = true;
    *out = b;
    return 0;
}

/* Batch numbers, end flag, checksums and (for a new segment) the header. */
static void batch_seal(wal_batch *b)
{
    uint8_t *p = b->buf.p + WAL_SEG_HDR, *end = b->buf.p + b->buf.len;
    while (p < end) {
        uint32_t len = wal__get32(p + 4);
        uint8_t *next = p + WAL_REC_HDR + len;
        wal__put32(p + 16, b->number | (next == end ? WAL_BATCH_END : 0));
        wal__put32(p, crc32c(p + 4, WAL_REC_HDR - 4 + len));
        p = next;
    }
    if (b->new_segment) {
        wal_seghdr h = {b->first_zxid, b->prev_zxid, b->number};
        wal__seghdr_encode(b->buf.p, &h);
    }
}

/* The first batch after recovery opens the segment recovery left open.
 * Its records were replayed and may be built upon, but the process that
 * wrote them may have died (kill -9) before its fdatasync or before the
 * directory fsync that makes a new segment's name durable: both are done
 * now (the directory after this batch), before anything depends on them. */
static int io_reopen(wal_t *w)
{
    char path[4096];
    int rc = seg_path(w, w->io.reopen, path, sizeof path);
    if (rc < 0)
        return rc;
    int fd = w->fo->open(w->fo->ctx, path, O_WRONLY, 0);
    if (fd < 0)
        return fd;
    if (!w->opts.no_sync && (rc = w->fo->fdatasync(w->fo->ctx, fd)) < 0) {
        w->fo->close(w->fo->ctx, fd);
        return rc;
    }
    w->io.fd = fd;
    w->io.reopen = 0;
    w->io.sync_dir = true;
    return 0;
}

/* Rolling over: the old segment is trimmed to its data (the zero-fill may
 * reach past it) and closed. The trim is neither synced nor checked: if it
 * is lost, the segment keeps a zero tail, which recovery accepts. */
static void io_close_segment(wal_t *w)
{
    if (w->io.fd < 0)
        return;
    if (w->io.prealloc_end > w->io.off || w->opts.prealloc_bytes)
        (void)w->fo->ftruncate(w->fo->ctx, w->io.fd, w->io.off);
    w->fo->close(w->fo->ctx, w->io.fd);
    w->io.fd = -1;
}

static int io_new_segment(wal_t *w, const wal_batch *b)
{
    char path[4096];
    int rc = seg_path(w, b->first_zxid, path, sizeof path);
    if (rc < 0)
        return rc;
    io_close_segment(w);
    w->io = (wal_io){.fd = -1};
    int fd = w->fo->open(w->fo->ctx, path, O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (fd < 0)
        return fd;
    w->io.fd = fd;
    w->io.sync_dir = true;
    return 0;
}

/* Zero-fills ahead of the data once the data has passed the last fill, up
 * to prealloc_bytes ahead but not past segment_bytes (the last batches of
 * a segment grow the file instead). */
static int io_prealloc(wal_t *w)
{
    wal_io *io = &w->io;
    uint64_t ahead = w->opts.prealloc_bytes, cap = w->opts.segment_bytes;
    if (!ahead || io->off <= io->prealloc_end || io->off >= cap)
        return 0;
    uint64_t off = io->off, end = cap - off > ahead ? off + ahead : cap;
    while (off < end) {
        size_t n = end - off > WAL_ZERO_CHUNK ? WAL_ZERO_CHUNK : (size_t)(end - off);
        int rc = fileops_pwrite_full(w->fo, io->fd, w->zeros, n, off);
        if (rc < 0)
            return rc;
        off += n;
    }
    io->prealloc_end = end;
    return 0;
}

/* Disk full (enospc_transient): takes the batch's bytes back off the disk,
 * durably, so that none of its sealed records can be found by a later scan
 * once the next batch overwrites the same offsets. Returns -ENOSPC with
 * b->dropped set, or the error of the cut (which is sticky). */
static int io_cut(wal_t *w, wal_batch *b)
{
    const fileops *fo = w->fo;
    int rc;
    if (b->new_segment) {
        char path[4096];
        if (w->io.fd >= 0)
            fo->close(fo->ctx, w->io.fd);
        w->io = (wal_io){.fd = -1};
        rc = seg_path(w, b->first_zxid, path, sizeof path);
        if (rc == 0)
            rc = fo->unlink(fo->ctx, path);
        if (rc == 0 || rc == -ENOENT)
            rc = fo->fsync_dir(fo->ctx, w->dir);
    } else {
        /* the zero-fill goes too; the next batch fills again */
        rc = fo->ftruncate(fo->ctx, w->io.fd, w->io.off);
        if (rc == 0)
            rc = fo->fdatasync(fo->ctx, w->io.fd);
        w->io.prealloc_end = w->io.off;
    }
    if (rc < 0)
        return rc;
    b->dropped = true;
    return -ENOSPC;
}

static bool io_enospc(const wal_t *w, int rc)
{
    return rc == -ENOSPC && w->opts.enospc_transient;
}

static int io_write(wal_t *w, wal_batch *b)
{
    const fileops *fo = w->fo;
    const uint8_t *p = b->buf.p + (b->new_segment ? 0 : WAL_SEG_HDR);
    size_t n = b->buf.len - (b->new_segment ? 0 : WAL_SEG_HDR);
    int rc = fileops_pwrite_full(fo, w->io.fd, p, n, w->io.off);
    if (rc < 0)
        return io_enospc(w, rc) ? io_cut(w, b) : rc;
    w->io.off += n;
    /* A full disk (or quota) only costs the zero-fill, whatever
     * enospc_transient says: the batch is written, this fdatasync grows
     * the file as it would without preallocation, and the next batch tries
     * the fill again (the space may have come back). Whatever part of the
     * fill got written is zeros: a clean end for recovery. */
    rc = io_prealloc(w);
    if (rc < 0 && rc != -ENOSPC && rc != -EDQUOT)
        return rc;
    if (!w->opts.no_sync && (rc = fo->fdatasync(fo->ctx, w->io.fd)) < 0)
        return rc;
    if (w->io.sync_dir && (rc = fo->fsync_dir(fo->ctx, w->dir)) < 0)
        return rc;
    w->io.sync_dir = false;
    return 0;
}

int wal_flush_write(wal_batch *b)
{
    wal_t *w = b->w;
    int rc = w->io.err;
    if (rc == 0) {
        batch_seal(b);
        if (w->io.reopen)
            rc = io_reopen(w);
        if (rc == 0 && b->new_segment) {
            rc = io_new_segment(w, b);
            if (io_enospc(w, rc))
                b->dropped = true; /* no file was made: nothing to cut */
        }
        if (rc == 0)
            rc = io_write(w, b);
        w->io.err = b->dropped ? 0 : rc;
    }
    b->err = rc;
    return rc;
}

/* Forgets the dropped batch and everything appended since: the log ends at
 * the durable zxid again, and the next batch reuses the batch number. */
static void batch_drop(wal_t *w, const wal_batch *b)
{
    w->cur.len = WAL_SEG_HDR;
    w->cur_records = 0;
    w->last_zxid = w->flushed_zxid = b->prev_zxid;
    w->next_batch = b->number;
    if (b->new_segment) {
        w->seg_open = false;
        w->seg_bytes = 0;
    } else {
        w->seg_bytes -= b->buf.len;
    }
}

int wal_flush_end(wal_t *w, wal_batch *b)
{
    w->batch_out = false;
    if (b->dropped) {
        batch_drop(w, b);
        return b->err;
    }
    if (b->err != 0) {
        if (!w->err)
            w->err = b->err;
        return b->err;
    }
    w->durable_zxid = b->last_zxid;
    if (b->new_segment && segs_push(w, b->first_zxid) < 0)
        w->err = -ENOMEM; /* purge would lose track of the segment */
    return w->err;
}

int64_t wal_batch_last_zxid(const wal_batch *b)
{
    return b->last_zxid;
}

size_t wal_batch_records(const wal_batch *b)
{
    return b->nrecords;
}

int wal_sync(wal_t *w)
{
    wal_batch *b;
    int rc = wal_flush_begin(w, &b);
    if (rc < 0 || !b)
        return rc;
    wal_flush_write(b);
    return wal_flush_end(w, b);
}

/* ---- state, purge, close ------------------------------------------------- */

int64_t wal_durable_zxid(const wal_t *w)
{
    return w->durable_zxid;
}

int64_t wal_last_zxid(const wal_t *w)
{
    return w->last_zxid;
}

int wal_error(const wal_t *w)
{
    return w->err;
}

size_t wal_segment_count(const wal_t *w)
{
    return w->nsegs;
}

/* Moves the segment to the trash (trash.h): a rename, so that the
 * deletion proper - slow for a big file, and hard on the next fdatasync -
 * happens on a background thread. */
static int purge_one(wal_t *w, int64_t first_zxid)
{
    char name[WAL_NAME_LEN + 1];
    seg_name(first_zxid, name);
    int rc = trash_move(w->fo, w->dir, name);
    return rc == -ENOENT ? 0 : rc;
}

int wal_purge(wal_t *w, int64_t snap_zxid)
{
    size_t covered = 0; /* segments [0, covered) hold only zxids <= snap_zxid */
    while (covered + 1 < w->nsegs && w->segs[covered + 1] <= snap_zxid + 1)
        covered++;
    if (covered <= w->opts.keep_segments)
        return 0;
    size_t del = covered - w->opts.keep_segments, done = 0;
    int rc = 0;
    while (done < del && (rc = purge_one(w, w->segs[done])) == 0)
        done++;
    memmove(w->segs, w->segs + done, (w->nsegs - done) * sizeof *w->segs);
    w->nsegs -= done;
    int src = done ? w->fo->fsync_dir(w->fo->ctx, w->dir) : 0;
    rc = rc ? rc : src;
    return rc < 0 ? rc : (int)done;
}

void wal_close(wal_t *w)
{
    if (!w)
        return;
    if (w->io.fd >= 0)
        w->fo->close(w->fo->ctx, w->io.fd);
    free(w->cur.p);
    free(w->batch.buf.p);
    free(w->segs);
    free(w->scan);
    free(w->zeros);
    free(w->dir);
    free(w);
}
