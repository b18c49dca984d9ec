/*
 * d_janitor.h - the thread that empties data_dir's trash (registry/trash.h).
 *
 * Purges only rename obsolete snapshots and log segments to "trash.*";
 * this thread deletes them a step at a time (TRASH_STEP_BYTES every
 * TRASH_PAUSE_MS), so that freeing a big file's blocks never holds up the
 * log's fdatasync, and it sleeps otherwise. It empties the trash once when
 * started (what a crash left) and whenever woken after a purge. Nothing
 * waits for it: a file not yet deleted only takes disk space.
 */
#ifndef ZK_DAEMON_D_JANITOR_H
#define ZK_DAEMON_D_JANITOR_H

#include <uv.h>

#include "fileops.h"

typedef struct zkd_janitor zkd_janitor;

/* Starts the thread for dir (copied) through fo (borrowed; must be
 * thread-safe and outlive the janitor). guard (may be NULL; borrowed) is
 * held around all its work but the pauses: the store's guard against
 * fork() (d_persist.h). Returns 0 and *out, or -errno. */
int zkd_janitor_start(zkd_janitor **out, const char *dir, const fileops *fo,
                      uv_mutex_t *guard);
/* Any thread: asks for another pass over the trash. */
void zkd_janitor_wake(zkd_janitor *j);
/* Asks the thread to stop (between two steps), joins it and frees j.
 * NULL is fine. What is left stays trash until the next start. */
void zkd_janitor_stop(zkd_janitor *j);

#endif
