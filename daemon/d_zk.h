/*
 * d_zk.h - the ZooKeeper wire protocol on the daemon's loop (SPEC section 5):
 * what d_server.c calls to start, stop and inform it.
 *
 * Every zookeeper.listen address serves ZooKeeper 3.4-3.8 clients and the
 * four-letter words. A ZooKeeper session is not tied to its connection: it
 * survives a disconnect and ends by closeSession or by expiry (the tick
 * timer in d_server.c), whichever comes first. The state behind this
 * interface (connections, the session -> connection map, counters for the
 * four-letter words) hangs off zkd.zk and is created by the first listener.
 */
#ifndef ZK_DAEMON_D_ZK_H
#define ZK_DAEMON_D_ZK_H

#include <stdint.h>

struct zkd;

/* Listens on spec ("HOST:PORT", "[V6]:PORT"; port 0 picks one) and logs
 * "listening: zookeeper HOST:PORT". Returns 0 or a negative error (logged). */
int zkd_zk_listen(struct zkd *d, const char *spec);
/* Closes every ZooKeeper connection and the module's timer (at stop).
 * Sessions are left to the registry: they are not closed here. */
void zkd_zk_close_all(struct zkd *d);
/* Frees the module's state; the loop must have run to completion. Safe when
 * no listener was ever made. */
void zkd_zk_free(struct zkd *d);
/* session is being closed by expiry: the connection holding it, if any, is
 * closed (the client then reconnects and learns that it expired). */
void zkd_zk_session_ended(struct zkd *d, int64_t session);

#endif
