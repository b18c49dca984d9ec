/*
 * d_4lw.h - ZooKeeper's four-letter words (ruok, srvr, stat, mntr, cons,
 * wchs, envi, conf, dump, isro) answered in Apache ZooKeeper 3.8's text
 * formats, for the monitoring scripts that parse them.
 *
 * ZooKeeper 3.5+ runs only the words in 4lw.commands.whitelist; zonekeeper
 * runs all of these (they disclose nothing a ZooKeeper client of the same
 * port could not read) and answers the words it does not implement as
 * ZooKeeper answers a word outside its whitelist.
 */
#ifndef ZK_DAEMON_D_4LW_H
#define ZK_DAEMON_D_4LW_H

#include "buf.h"

struct zkd_zk_srv;

/* Appends the answer to cmd (enum zkp_4lw; word is the four bytes the
 * client sent) to out. */
void zkd_4lw_run(struct zkd_zk_srv *s, int cmd, const char word[4], zk_buf *out);

/* ZooKeeper's version line as we report it ("3.8.0-zonekeeper-...,
 * built on ..."). */
extern const char zkd_4lw_version[];

/* A double as Java prints it after rounding to 4 decimals ("0.0", "1.9908"). */
void zkd_4lw_java_double(double v, char *out, size_t len);

#endif
