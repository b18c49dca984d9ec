/*
 * snapfile.h - snapshot files: atomic, checksummed, streamed.
 *
 * A snapshot of the registry at zxid Z is the file "snapshot.%016llx" (Z) in
 * the data directory: a header (magic, format version, Z, CRC), the body as
 * the registry streams it, and a trailer (body length, CRC32C of the body,
 * CRC of the trailer). It is written as "tmp.snapshot.%016llx", fsynced,
 * renamed into place and the directory fsynced, so a crash leaves either
 * the old set of snapshots or the new one, plus perhaps a temp file that
 * the next start removes.
 *
 * Loading takes the newest snapshot. If it does not validate, the start is
 * refused with a message naming the file: falling back silently to an
 * older snapshot could hide lost writes, and the log may not reach back
 * that far. An operator who moves the bad file aside gets the older one
 * (and wal_recover checks that the log still connects to it).
 *
 * The write and read functions have the shapes of the registry's streaming
 * callbacks, so: reg_snapshot_write(reg, snap_write, writer) and
 * reg_snapshot_read(reg, snap_read, reader). Not thread-safe per object;
 * any one thread may use a writer or reader.
 */
#ifndef ZK_REGISTRY_SNAPFILE_H
#define ZK_REGISTRY_SNAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fileops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SNAP_ECORRUPT (-2101) /* a snapshot that does not validate */

typedef struct snap_writer snap_writer;
typedef struct snap_reader snap_reader;

/* Starts the snapshot of the state at zxid (> 0) in dir, through fo
 * (borrowed). Returns 0 and *out, or -errno. */
int snap_write_begin(const char *dir, const fileops *fo, int64_t zxid,
                     snap_writer **out);
/* Appends n bytes to the body (buffered). ctx is the snap_writer. Returns 0
 * or the writer's first error (sticky). */
int snap_write(void *ctx, const void *p, size_t n);
/* Finishes: trailer, fsync, rename into place, fsync of the directory.
 * Frees sw. Returns 0 once the snapshot is durable, or the error (the temp
 * file is then removed). */
int snap_write_commit(snap_writer *sw);
/* Abandons the snapshot: removes the temp file, frees sw. */
void snap_write_abort(snap_writer *sw);

/* Removes stale temp files, then opens the newest snapshot of dir and checks
 * its header and trailer. Returns 0 with *out NULL if there is none, 0 with
 * *out set, SNAP_ECORRUPT (an ERROR report names the file and the reason),
 * or -errno. log may be NULL. */
int snap_open_latest(const char *dir, const fileops *fo, const fileops_log *log,
                     snap_reader **out);
int64_t snap_reader_zxid(const snap_reader *r);
/* The body's length in bytes. */
uint64_t snap_reader_size(const snap_reader *r);
/* The file's path, for messages. */
const char *snap_reader_path(const snap_reader *r);
/* Reads exactly n bytes of the body into p. ctx is the snap_reader. The
 * read that reaches the end of the body verifies its checksum and fails
 * with SNAP_ECORRUPT (reported) on a mismatch, so the registry never
 * finishes loading bad bytes. Reading past the end is SNAP_ECORRUPT too. */
int snap_read(void *ctx, void *p, size_t n);
/* After the registry has read the body: 0 if it read all of it and the
 * checksum matched, else SNAP_ECORRUPT (reported). */
int snap_read_finish(snap_reader *r);
void snap_reader_close(snap_reader *r);

/* Moves all but the keep (at least 1) newest snapshots to the trash
 * (trash.h; trash_empty deletes them) and fsyncs the directory. *oldest_kept (may be NULL) gets the zxid of the oldest one
 * left (0 if none): pass it to wal_purge. Returns the number deleted or
 * -errno. */
int snap_purge(const char *dir, const fileops *fo, unsigned keep,
               int64_t *oldest_kept);

/* For the checker: prints every snapshot (zxid, size, checksum verdict) and
 * stale temp files to out, changing nothing; *newest gets the zxid of the
 * newest snapshot (0 if none). Returns 0, or 1 if the newest one is bad
 * (a start would be refused). */
int snap_check_dir(const char *dir, const fileops *fo, FILE *out,
                   int64_t *newest);

const char *snap_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
