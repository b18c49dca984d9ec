/*
 * trash.h - deleting big files without stalling the log.
 *
 * Unlinking a 180 MB snapshot frees all its blocks in one journal commit;
 * on ext4 mounted with `discard` the log's next fdatasync then waited
 * 18-28 ms behind the discards (bench/README-persist.md), where it takes
 * 0.1-0.3 ms otherwise. Purges therefore only move an obsolete file aside
 * - a rename to "trash.<name>", cheap and atomic, so a crash leaves either
 * the whole file under its old name or a trash file that recovery never
 * reads - and a background thread empties the trash: each file shrunk a
 * step at a time with a pause between steps, then unlinked.
 *
 * Trash names are ignored by the log's and the snapshots' directory scans
 * (they match neither "log.%016llx" nor "snapshot.%016llx"), so a start
 * after a crash in the middle of emptying recovers as if they were gone
 * and the trash is emptied again.
 */
#ifndef ZK_REGISTRY_TRASH_H
#define ZK_REGISTRY_TRASH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fileops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TRASH_PREFIX "trash."
/* Default pace: 8 MiB freed every 5 ms (a 180 MB snapshot in about 120
 * ms), which kept the log's slowest fdatasync at 2-4 ms in that test. */
#define TRASH_STEP_BYTES (8u << 20)
#define TRASH_PAUSE_MS 5u

/* True for a name trash_move gave a file. */
bool trash_is_name(const char *name);

/* Renames dir/name to dir/trash.name. The caller fsyncs the directory
 * (once for all the files it moved). Returns 0 or -errno (-ENOENT if
 * there is no such file). */
int trash_move(const fileops *fo, const char *dir, const char *name);

typedef struct trash_pace {
    uint64_t step_bytes;   /* freed per step; 0 = TRASH_STEP_BYTES */
    unsigned pause_ms;     /* between steps; 0 = no pause (start-up, tests) */
    const atomic_bool *stop; /* may be NULL; checked between steps */
    /* May be NULL: held around all the work (listing, each step), not
     * around the pauses - the daemon's guard against fork() (d_persist.h). */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *lock_ctx;
} trash_pace;

/* Blocking, for a background thread: deletes every trash file of dir,
 * each shrunk by pace->step_bytes at a time with pace->pause_ms between
 * steps, then unlinked; fsyncs the directory if it deleted any. Stops
 * between steps once *pace->stop is set (what is left stays trash).
 * Returns the number of files deleted or the first -errno (files not yet
 * reached stay trash; the next call tries again). */
int trash_empty(const fileops *fo, const char *dir, const trash_pace *pace);

/* Number of trash files in dir (for the checker), or -errno. */
int trash_count(const fileops *fo, const char *dir);

#ifdef __cplusplus
}
#endif
#endif
