/*
 * fileops.h - the table of file operations behind all log and snapshot I/O.
 *
 * Every byte the write-ahead log (wal.h) and the snapshot files (snapfile.h)
 * put on or take off the disk goes through a fileops table, so a test can
 * swap the POSIX table for the fault-injecting one (fail the Nth write or
 * fsync, shorten a write, cut the power) and then check what recovery
 * finds. All operations return 0 (or a count) on success and a negative
 * errno on failure; the POSIX table retries EINTR itself.
 *
 * Also here: the log sink through which storage reports what it cut, what it
 * refused and why, shared by wal and snapfile.
 */
#ifndef ZK_REGISTRY_FILEOPS_H
#define ZK_REGISTRY_FILEOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called for each entry name of a directory ("." and ".." excluded); a
 * nonzero return stops the listing and is returned by list(). */
typedef int (*fileops_list_fn)(void *fctx, const char *name);

typedef struct fileops {
    void *ctx; /* first argument of every operation */
    /* open(2): returns a descriptor >= 0. flags and mode as for open(2). */
    int (*open)(void *ctx, const char *path, int flags, unsigned mode);
    /* close(2); never fails in a way callers can act on, so returns void. */
    void (*close)(void *ctx, int fd);
    /* pread(2)/pwrite(2): bytes transferred (may be short), or -errno. */
    ssize_t (*pread)(void *ctx, int fd, void *buf, size_t n, uint64_t off);
    ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, uint64_t off);
    int (*fsync)(void *ctx, int fd);
    int (*fdatasync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, uint64_t len);
    /* The file's current size. */
    int (*size)(void *ctx, int fd, uint64_t *size);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
    int (*mkdir)(void *ctx, const char *path, unsigned mode);
    /* Calls fn for every entry of dir, in no particular order. */
    int (*list)(void *ctx, const char *dir, fileops_list_fn fn, void *fctx);
    /* Makes the directory's entries (creations, renames, unlinks) durable. */
    int (*fsync_dir)(void *ctx, const char *dir);
} fileops;

/* The table that calls the operating system. Static, never NULL. */
const fileops *fileops_posix(void);

/* Writes all n bytes at off, looping over short writes; a write that makes
 * no progress is -EIO. Returns 0 or -errno. */
int fileops_pwrite_full(const fileops *fo, int fd, const void *buf, size_t n,
                        uint64_t off);
/* Reads exactly n bytes at off; -ENODATA if the file ends first. */
int fileops_pread_full(const fileops *fo, int fd, void *buf, size_t n,
                       uint64_t off);

/* ---- the log sink -------------------------------------------------------- */

enum fileops_level {
    FILEOPS_LOG_ERROR = 0, /* start refused: damage that is not a torn tail */
    FILEOPS_LOG_WARN = 1,  /* something was cut or removed */
    FILEOPS_LOG_INFO = 2,
};

/* Where storage reports; fn may be NULL (silence). msg is one line without
 * a trailing newline and names the file and offset concerned. */
typedef struct fileops_log {
    void (*fn)(void *ctx, int level, const char *msg);
    void *ctx;
} fileops_log;

/* printf-style report through log (which may be NULL). */
void fileops_logf(const fileops_log *log, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the fault-injecting table (tests) ----------------------------------- */

/*
 * A fileops table that performs real I/O in one directory and keeps a model
 * of what a power loss would leave there:
 *
 *  - per file ("inode"): the bytes as of its last successful fsync or
 *    fdatasync (a failed one changes nothing);
 *  - per directory: the names (name -> inode) as of its last fsync_dir.
 *    Creations, renames and unlinks since then are not durable.
 *
 * fileops_fault_crash (or an armed crash point) stops all further I/O
 * (every operation but close fails with -EIO). fileops_fault_reboot then
 * rewrites the directory to what the model says survives: the durable names,
 * each with its durable bytes, plus, depending on the mode, part of what
 * was written but not synced (a prefix of it, or a random subset of its
 * 512-byte sectors, as a disk that reorders writeback would leave).
 *
 * Not modelled: other directories (paths outside the tracked directory are
 * passed through and never rolled back), nested directories, metadata such
 * as mode and time, data a failed fsync may have written anyway, and a disk
 * that lies about fsync. All I/O in the directory must go through the table
 * while it is in use (surgery behind its back: free it and create a new
 * one). fsync only updates the model; the real disk is not flushed.
 * Thread-safe (one mutex).
 */
typedef struct fileops_fault fileops_fault;

enum fileops_fault_op {
    FILEOPS_OP_OPEN,
    FILEOPS_OP_PREAD,
    FILEOPS_OP_PWRITE,
    FILEOPS_OP_FSYNC, /* fsync and fdatasync */
    FILEOPS_OP_FTRUNCATE,
    FILEOPS_OP_SIZE,
    FILEOPS_OP_RENAME,
    FILEOPS_OP_UNLINK,
    FILEOPS_OP_MKDIR,
    FILEOPS_OP_LIST,
    FILEOPS_OP_FSYNC_DIR,
    FILEOPS_OP_COUNT
};

enum fileops_crash_mode {
    FILEOPS_CRASH_DROP,    /* nothing unsynced survives */
    FILEOPS_CRASH_PREFIX,  /* a random prefix of each file's unsynced bytes */
    FILEOPS_CRASH_SECTORS, /* a random subset of its unsynced 512-byte sectors */
};

/* Tracks dir (which must exist; its files count as durable). seed drives
 * the random choices of reboot. NULL on failure. */
fileops_fault *fileops_fault_create(const char *dir, uint64_t seed);
void fileops_fault_free(fileops_fault *f);
const fileops *fileops_fault_ops(fileops_fault *f);

/* The nth operation of kind op from now (1 = the next one) fails with err
 * (a negative errno) and does nothing. One armed fault per kind. */
void fileops_fault_fail(fileops_fault *f, int op, unsigned long nth, int err);
/* The nth pwrite from now writes only the first half (at least one byte). */
void fileops_fault_short_write(fileops_fault *f, unsigned long nth);
/* Power fails instead of the nth I/O operation from now (close excluded). */
void fileops_fault_crash_at(fileops_fault *f, unsigned long nth);
/* Power fails instead of the nth operation of kind op from now. */
void fileops_fault_crash_on(fileops_fault *f, int op, unsigned long nth);
/* Power fails now. */
void fileops_fault_crash(fileops_fault *f);
bool fileops_fault_crashed(const fileops_fault *f);
/* I/O operations performed so far (close excluded). */
unsigned long fileops_fault_count(const fileops_fault *f);
/* Applies the crash (crashing now if it has not happened) to the directory
 * as described above, then starts afresh: everything on disk is durable, no
 * faults armed. All descriptors must be closed: -EBUSY otherwise. */
int fileops_fault_reboot(fileops_fault *f, int mode);

#ifdef __cplusplus
}
#endif
#endif
