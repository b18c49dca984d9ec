/*
 * d_systemd.c - readiness and status notifications for Type=notify units.
 */
#include "d_systemd.h"

#include <inttypes.h>
#include <systemd/sd-daemon.h>

void zkd_notify_ready(void)
{
    sd_notify(0, "READY=1\nSTATUS=serving");
}

void zkd_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void zkd_notify_status(const char *status)
{
    sd_notifyf(0, "STATUS=%s", status);
}

void zkd_notify_extend_timeout(uint64_t usec)
{
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
}
