/*
 * d_4lw_int.h - internal to the four-letter words (d_4lw.c, d_4lw_tree.c).
 */
#ifndef ZK_DAEMON_D_4LW_INT_H
#define ZK_DAEMON_D_4LW_INT_H

#include <stdint.h>

#include "d_4lw.h"
#include "d_zk_int.h"

/* A connection's average latency in whole ms (cons avglat). */
int64_t zkd_4lw_avg(const zkd_zk_stats *st);
void zkd_4lw_wchs(zkd_zk_srv *s, zk_buf *out);
void zkd_4lw_dump(zkd_zk_srv *s, zk_buf *out);

#endif
