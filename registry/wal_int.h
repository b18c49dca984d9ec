/*
 * wal_int.h - the on-disk format of log segments and the scanner's
 * interface, shared by the writer (wal.c), recovery (wal_scan.c) and the
 * checker (wal_check.c). Not for use outside the wal files.
 *
 * All integers are little-endian.
 *
 * Segment header, WAL_SEG_HDR bytes:
 *     0  8  magic "ZKWALSEG"
 *     8  4  format version (1)
 *    12  4  batch number of the segment's first batch
 *    16  8  first zxid (equals the file name's)
 *    24  8  zxid of the record before it (last of the previous segment; 0)
 *    32  4  reserved, 0
 *    36  4  CRC32C of bytes 0..35
 * Record, WAL_REC_HDR bytes then the payload:
 *     0  4  CRC32C of bytes 4..(19 + length)
 *     4  4  payload length (1..WAL_MAX_PAYLOAD)
 *     8  8  zxid
 *    16  4  batch number (31 bits) | WAL_BATCH_END on a batch's last record
 * After the last record a segment may hold zeros (preallocation).
 */
#ifndef ZK_REGISTRY_WAL_INT_H
#define ZK_REGISTRY_WAL_INT_H

#include "wal.h"

#define WAL_SEG_MAGIC "ZKWALSEG"
#define WAL_VERSION 1u
#define WAL_SEG_HDR 40u
#define WAL_REC_HDR 20u
#define WAL_BATCH_END 0x80000000u
#define WAL_BATCH_MASK 0x7fffffffu
#define WAL_NAME_FMT "log.%016llx"
#define WAL_NAME_LEN 20

static inline void wal__put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wal__put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t wal__get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t wal__get64(const uint8_t *p)
{
    return (uint64_t)wal__get32(p) | (uint64_t)wal__get32(p + 4) << 32;
}

typedef struct wal_seghdr {
    int64_t first_zxid;
    int64_t prev_zxid;
    uint32_t first_batch;
} wal_seghdr;

void wal__seghdr_encode(uint8_t *out, const wal_seghdr *h);
/* 0, or -1 with *why set (magic, version, checksum). */
int wal__seghdr_decode(const uint8_t *p, wal_seghdr *h, const char **why);

/* One record as the scanner found it. */
typedef struct wal_rec {
    uint64_t off;
    uint32_t len;
    int64_t zxid;
    int64_t prev_zxid; /* the record before it, or the segment's prev_zxid */
    uint32_t batch;    /* without the end flag */
    bool end;
    const uint8_t *payload;
} wal_rec;

enum wal_damage {
    WAL_DMG_NONE = 0,
    WAL_DMG_TAIL,  /* torn tail of the last segment: recovery cuts it */
    WAL_DMG_FATAL, /* recovery refuses to start */
};

/* What a scan learned about one segment. Offsets are file offsets. */
typedef struct wal_seg {
    char name[WAL_NAME_LEN + 1];
    int64_t name_zxid;
    uint64_t size;        /* file size */
    uint64_t end;         /* end of the last complete batch, 0 if none */
    bool zero_tail;       /* zeros (preallocation) after the data */
    wal_seghdr hdr;       /* valid if end > 0 */
    int64_t first_zxid;   /* of complete batches; 0 if none */
    int64_t last_zxid;
    uint32_t last_batch;
    uint64_t records, batches;
    int damage;           /* enum wal_damage */
    uint64_t damage_off;  /* where the damage starts */
    uint64_t cut_records; /* valid records in the part a cut removes */
    char why[200];        /* what the damage is, for messages */
} wal_seg;

/* Lists the segments of dir, oldest first, and scans each one (nothing is
 * changed on disk): every segment gets its figures and damage verdict, the
 * chain from one segment to the next included. Returns 0 (damage is in the
 * verdicts), or -errno if the directory cannot be read (-ENOENT if absent).
 * *segs is malloc'd. */
int wal__scan_dir(const fileops *fo, const char *dir, wal_seg **segs, size_t *n,
                  void (*progress)(void *ctx, const char *segment), void *progress_ctx);

/* Cuts the torn tail of the last segment, if it has one: truncates and
 * fsyncs it, or removes it (and fsyncs dir) when no complete batch remains,
 * then drops it from segs. Reports a warning through log. */
int wal__repair_tail(const fileops *fo, const char *dir, wal_seg *segs,
                     size_t *n, const fileops_log *log);

/* One line on s's damage naming the file (dir/name) and the offset. */
void wal__damage_msg(const char *dir, const wal_seg *s, char *buf, size_t len);

typedef int (*wal_rec_fn)(void *ctx, const wal_rec *rec);
/* Calls fn for each record of s up to s->end (a segment scanned and
 * repaired before). Any damage there is WAL_ECORRUPT, reported through log. */
int wal__replay_segment(const fileops *fo, const char *dir, const wal_seg *s,
                        wal_rec_fn fn, void *ctx, const fileops_log *log);

/* "dir/name" into buf; -ENAMETOOLONG if it does not fit. */
int wal__path(char *buf, size_t len, const char *dir, const char *name);

#endif
