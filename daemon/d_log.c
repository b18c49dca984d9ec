/*
 * d_log.c - leveled logging to stderr, journald-aware; see d_log.h.
 */
#include "d_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int zkd_log_level = ZKD_LOG_INFO;
static int zkd__journal;

void zkd_log_init(int level)
{
    zkd_log_level = level;
    zkd__journal = getenv("JOURNAL_STREAM") != NULL;
}

void zkd_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    static const int prio[] = {3, 4, 6, 7};
    if (level > zkd_log_level || level < 0)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (zkd__journal)
        fprintf(stderr, "<%d>%s\n", prio[level], line);
    else
        fprintf(stderr, "zonekeeperd[%d]: %s: %s\n", (int)getpid(), names[level], line);
}
