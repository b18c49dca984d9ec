/*
 * wal_check.c - the data directory checker (`zonekeeperd --check-data DIR`,
 * tools/zk-checkdata), in the spirit of redis-check-aof.
 *
 * It runs the same scan as wal_open and the same snapshot validation as a
 * start, but changes nothing: it prints each segment's figures and verdict,
 * each snapshot, and whether the log connects to the newest snapshot, then
 * says whether a start would succeed.
 */
#include "wal_int.h"
#include "trash.h"

#include "snapfile.h"

#include <inttypes.h>
#include <stdlib.h>

static void print_seg(FILE *out, const char *dir, const wal_seg *s)
{
    fprintf(out, "  %s  %" PRIu64 " records in %" PRIu64 " batches", s->name,
            s->records, s->batches);
    if (s->records)
        fprintf(out, ", zxid 0x%" PRIx64 "-0x%" PRIx64, (uint64_t)s->first_zxid,
                (uint64_t)s->last_zxid);
    fprintf(out, ", %" PRIu64 " bytes%s\n", s->size,
            s->zero_tail ? " (zero-filled tail)" : "");
    if (s->damage) {
        char msg[512];
        wal__damage_msg(dir, s, msg, sizeof msg);
        fprintf(out, "    %s: %s\n", s->damage == WAL_DMG_TAIL ? "WARNING" : "ERROR", msg);
        if (s->damage == WAL_DMG_TAIL)
            fprintf(out, "    a start cuts it at offset %" PRIu64 " (%" PRIu64
                    " records of a batch never acknowledged)\n", s->end, s->cut_records);
    }
}

/* Does the log connect to the snapshot at snap (0: none)? */
static int print_replay(FILE *out, const wal_seg *segs, size_t n, int64_t snap)
{
    size_t i = 0;
    while (i + 1 < n && segs[i + 1].name_zxid <= snap + 1)
        i++;
    int64_t last = 0;
    for (size_t k = 0; k < n; k++)
        if (segs[k].end)
            last = segs[k].last_zxid;
    if (n == 0 || last <= snap) {
        fprintf(out, "recovery: snapshot 0x%" PRIx64 ", nothing to replay\n", (uint64_t)snap);
        return 0;
    }
    if (segs[i].end && segs[i].name_zxid > snap && segs[i].hdr.prev_zxid > snap) {
        fprintf(out, "recovery: ERROR: the log starts after zxid 0x%" PRIx64
                " but the newest snapshot is 0x%" PRIx64 ": records missing\n",
                (uint64_t)segs[i].hdr.prev_zxid, (uint64_t)snap);
        return 1;
    }
    fprintf(out, "recovery: snapshot 0x%" PRIx64 ", then replay up to zxid 0x%" PRIx64
            " from %s\n", (uint64_t)snap, (uint64_t)last, segs[i].name);
    return 0;
}

int wal_check_dir_ops(const char *dir, const fileops *fo, FILE *out)
{
    wal_seg *segs = NULL;
    size_t n = 0;
    int rc = wal__scan_dir(fo, dir, &segs, &n, NULL, NULL);
    if (rc < 0) {
        fprintf(out, "%s: cannot read the log: %s\nresult: ERROR\n", dir, wal_strerror(rc));
        return 1;
    }
    int bad = 0;
    fprintf(out, "data directory %s\nlog segments: %zu\n", dir, n);
    for (size_t i = 0; i < n; i++) {
        print_seg(out, dir, &segs[i]);
        bad |= segs[i].damage == WAL_DMG_FATAL;
    }
    int64_t snap = 0;
    bad |= snap_check_dir(dir, fo, out, &snap);
    if (!bad)
        bad |= print_replay(out, segs, n, snap);
    int trash = trash_count(fo, dir);
    if (trash > 0)
        fprintf(out, "trash: %d old files not yet deleted (a start ignores them and "
                "deletes them)\n", trash);
    fprintf(out, "result: %s\n", bad ? "DAMAGED (a start would be refused)" : "OK");
    free(segs);
    return bad;
}

int wal_check_dir(const char *dir, FILE *out)
{
    return wal_check_dir_ops(dir, fileops_posix(), out);
}
