/*
 * wal.h - the write-ahead log: segment files of checksummed, zxid-ordered
 * records, written with group commit.
 *
 * A log is a directory of segments named "log.%016llx" after the first zxid
 * they hold. Each segment starts with a header (magic, version, first zxid,
 * the zxid before it, first batch number, CRC) followed by records: CRC32C,
 * payload length, zxid, batch number with an end-of-batch flag, payload
 * (opaque bytes: reg_txn_encode output). Records are written in batches,
 * one write() and one fdatasync() per batch (group commit); a batch is
 * atomic for recovery: it counts only if its end-flagged last record made it.
 *
 * Threads. The loop thread appends (a memcpy into a buffer) and, once per
 * loop turn, hands the buffer to a worker:
 *
 *     loop:   wal_append(...) ...; wal_flush_begin(w, &b)    (swaps buffers)
 *     worker: wal_flush_write(b)       (checksums, write, fdatasync)
 *     loop:   wal_flush_end(w, b)      (durable zxid advances, or the error)
 *
 * wal_flush_write touches only the batch and the open segment, which nothing
 * else touches while a batch is out (wal_flush_begin refuses a second one),
 * so it may run concurrently with wal_append, wal_purge and the getters.
 * Every other function is for one thread (the loop), as is everything if
 * wal_sync is used instead.
 *
 * Errors: 0 or negative errno, or WAL_E* below. A failed write or fsync is
 * sticky: the log refuses everything from then on and the daemon must exit
 * without acknowledging anything past wal_durable_zxid.
 *
 * Recovery (wal_open): a torn or corrupt tail of the last segment, made of
 * at most the last (unfinished) batch, is cut off (ftruncate + fsync, or
 * the segment is removed if nothing remains) and reported as a warning with
 * file and offset. Damage anywhere else - a bad record followed by records
 * of a later batch, a bad or unfinished non-last segment, zxids not
 * increasing, segments that do not chain (a gap) - is WAL_ECORRUPT with an
 * error message naming file and offset, and nothing is changed on disk.
 * Zeros from the end of the last complete batch to the end of a file (the
 * preallocation, in any segment) are the clean end of its data: no report.
 */
#ifndef ZK_REGISTRY_WAL_H
#define ZK_REGISTRY_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fileops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WAL_ECORRUPT (-2001) /* damage recovery must not repair */
#define WAL_EZXID (-2002)    /* appended zxid not above the previous one */
#define WAL_ETOOBIG (-2003)  /* payload empty or above WAL_MAX_PAYLOAD */

#define WAL_MAX_PAYLOAD (256u << 20)

typedef struct wal wal_t;
typedef struct wal_batch wal_batch;

typedef struct wal_opts {
    /* A flush starts a new segment once the current one holds this many
     * bytes (a segment may exceed it by one batch). Default 64 MiB. */
    uint64_t segment_bytes;
    /* Zero-fill the segment this far ahead of the data (on the thread that
     * writes the batch, whenever the data has passed the last fill; never
     * past segment_bytes), so that most fdatasyncs flush data only instead
     * of also committing a new file size. 0 disables (for copy-on-write
     * file systems, where an overwrite gains nothing). Default 1 MiB. */
    uint64_t prealloc_bytes;
    /* wal_purge keeps this many of the segments it could delete. Default 2. */
    unsigned keep_segments;
    /* Disk full is not sticky: a batch whose write fails with ENOSPC is
     * taken back off the disk (the segment truncated to where the batch
     * began and fdatasynced, or the segment the batch created removed), so
     * no record of it can ever be replayed, and it is dropped together with
     * every record appended after it: wal_flush_end returns -ENOSPC, the
     * log is usable again, wal_last_zxid() falls back to wal_durable_zxid()
     * and the caller abandons the txns of those records. Failures of
     * fdatasync, of the directory fsync and of the cut itself stay sticky.
     * Default false: ENOSPC is sticky like any error. Either way a zero-fill
     * that fails with ENOSPC or EDQUOT is skipped (the batch is written and
     * synced as without preallocation) and tried again by the next batch. */
    bool enospc_transient;
    /* Never fdatasync a batch (sync policy "none"): a batch counts as
     * durable once written, which survives a crash of the process but not
     * of the machine. New segments still fsync the directory. Default false. */
    bool no_sync;
    /* Where cuts (WARN) and refusals (ERROR) are reported. */
    fileops_log log;
    /* Called by wal_open after each segment it has read and checked (every
     * record's checksum), with the segment's name: a start that scans a
     * long log can tell a supervisor it is alive. May be NULL. */
    void (*progress)(void *ctx, const char *segment);
    void *progress_ctx;
} wal_opts;

void wal_opts_default(wal_opts *opts);

/* Opens the log in dir (created if missing), checks every segment, cuts a
 * torn tail of the last one and learns the last zxid. fo (borrowed, must
 * outlive the log) does all I/O; opts may be NULL for the defaults. New
 * records continue the last segment right after its last complete batch
 * (over its zero-filled tail), until it is full; the first batch makes
 * what was replayed from it durable first (fdatasync, directory fsync).
 * Returns 0 and *out, WAL_ECORRUPT (with an ERROR report naming file and
 * offset), or -errno. */
int wal_open(const char *dir, const fileops *fo, const wal_opts *opts,
             wal_t **out);

/* Called by wal_recover for each record; a nonzero return stops recovery
 * and is returned by it. payload is valid during the call only. */
typedef int (*wal_replay_fn)(void *ctx, int64_t zxid, const void *payload,
                             size_t len);

/* Calls fn, in zxid order, for every record with a zxid above after_zxid
 * (the snapshot's zxid; 0 for all). WAL_ECORRUPT if the log does not
 * connect to after_zxid (records after it are missing). Call after
 * wal_open and before the first wal_append. */
int wal_recover(wal_t *w, int64_t after_zxid, wal_replay_fn fn, void *ctx);

/* Copies one record into the append buffer; no I/O. zxid must be above
 * every zxid appended before (WAL_EZXID otherwise), len in
 * 1..WAL_MAX_PAYLOAD (WAL_ETOOBIG). Returns 0, the sticky error, or -ENOMEM
 * (then nothing was appended). */
int wal_append(wal_t *w, int64_t zxid, const void *payload, size_t len);

/* Loop thread: takes everything appended since the last batch as a new
 * batch. Returns 0 with *out NULL if there is nothing to write, 0 with
 * *out set, -EBUSY while a batch is out, or the sticky error. */
int wal_flush_begin(wal_t *w, wal_batch **out);
/* Any one thread: writes the batch (starting a new segment if due), then
 * fdatasync (and fsync of the directory for a new segment). Returns 0 or
 * -errno, which wal_flush_end also reports. */
int wal_flush_write(wal_batch *b);
/* Loop thread, after wal_flush_write returned: on success the durable zxid
 * advances to the batch's last zxid; on failure the error becomes sticky.
 * Returns 0 or that error. b is the log's again afterwards. */
int wal_flush_end(wal_t *w, wal_batch *b);
/* The batch's zxid range (for logging). */
int64_t wal_batch_last_zxid(const wal_batch *b);
size_t wal_batch_records(const wal_batch *b);

/* begin + write + end on the calling thread. */
int wal_sync(wal_t *w);

/* Highest zxid known durable (0 if none); replies up to it may go out. */
int64_t wal_durable_zxid(const wal_t *w);
/* Highest zxid appended (durable or not). */
int64_t wal_last_zxid(const wal_t *w);
/* The sticky error, or 0. */
int wal_error(const wal_t *w);
/* Number of segment files. */
size_t wal_segment_count(const wal_t *w);

/* Loop thread: moves to the trash (trash.h; trash_empty deletes them) the
 * segments whose records all have zxids at or below snap_zxid (the oldest
 * snapshot kept), except the newest keep_segments of them and never the
 * current one; fsyncs the directory. Returns the number moved or -errno.
 * Not sticky. It may instead run on the thread that holds a batch, between
 * wal_flush_begin and wal_flush_end (after wal_flush_write), so that its
 * renames and fsync stay off the loop: the loop thread leaves the segment
 * list alone until wal_flush_end. */
int wal_purge(wal_t *w, int64_t snap_zxid);

/* Closes the files and frees the log. Records not yet flushed are dropped
 * (call wal_sync first for a clean shutdown). No batch may be out. */
void wal_close(wal_t *w);

/* A message for any error the storage layer returns (errno included). */
const char *wal_strerror(int err);

/* The checker (`zonekeeperd --check-data DIR`): prints every segment (records,
 * batches, zxid range, damage with offset), every snapshot (zxid, size,
 * checksum) and how recovery would go, to out. Changes nothing. Returns 0
 * if a start would succeed (a torn tail it would cut is a warning), 1 if
 * it would be refused. */
int wal_check_dir(const char *dir, FILE *out);
/* The same through a given fileops table. */
int wal_check_dir_ops(const char *dir, const fileops *fo, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
