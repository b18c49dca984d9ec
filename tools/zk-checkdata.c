/*
 * zk-checkdata - checks a zonekeeper data directory without changing it:
 * log segments (records, zxid ranges, damage with file and offset),
 * snapshots, and whether a start would succeed. Exit status 0 or 1.
 * The daemon's `--check-data DIR` runs the same wal_check_dir().
 */
#include <stdio.h>
#include <string.h>

#include "wal.h"

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: zk-checkdata DATA_DIR\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    return wal_check_dir(argv[1], stdout);
}
