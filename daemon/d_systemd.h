/*
 * d_systemd.h - every sd_notify of the daemon, in one place.
 * Without systemd (no NOTIFY_SOCKET) these do nothing.
 */
#ifndef ZK_DAEMON_D_SYSTEMD_H
#define ZK_DAEMON_D_SYSTEMD_H

#include <stdint.h>

void zkd_notify_ready(void);
void zkd_notify_stopping(void);
void zkd_notify_status(const char *status);
/* Asks systemd for usec more start-up time (during a long log replay). */
void zkd_notify_extend_timeout(uint64_t usec);

#endif
