/*
 * d_log.h - the daemon's log: leveled lines on stderr.
 *
 * Under systemd (JOURNAL_STREAM set) each line starts with the syslog
 * priority prefix "<N>" so journald records the level; otherwise lines read
 * "zonekeeperd[pid]: level: message". Lines above the configured level cost
 * one comparison.
 */
#ifndef ZK_DAEMON_D_LOG_H
#define ZK_DAEMON_D_LOG_H

enum zkd_log_level { ZKD_LOG_ERROR = 0, ZKD_LOG_WARN, ZKD_LOG_INFO, ZKD_LOG_DEBUG };

extern int zkd_log_level;

void zkd_log_init(int level);
void zkd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define zkd_error(...) zkd_log(ZKD_LOG_ERROR, __VA_ARGS__)
#define zkd_warn(...) zkd_log(ZKD_LOG_WARN, __VA_ARGS__)
#define zkd_info(...) zkd_log(ZKD_LOG_INFO, __VA_ARGS__)
#define zkd_debug(...)                                                         \
    do {                                                                       \
        if (zkd_log_level >= ZKD_LOG_DEBUG)                                    \
            zkd_log(ZKD_LOG_DEBUG, __VA_ARGS__);                               \
    } while (0)

#endif
