/*
 * reg_err.c - names and messages of the registry's errors.
 *
 * ZooKeeper's codes sit at REG_ZK_BASE + code, so one table maps our value
 * to ZooKeeper's number, its KeeperException.Code name and a message.
 * Negative errno values are system errors: ZooKeeper SYSTEMERROR, message
 * from strerror.
 */
#include <string.h>

#include "reg_internal.h"

struct err_info {
    int err;
    const char *name;
    const char *msg;
};

static const struct err_info errs[] = {
    {REG_OK, "OK", "ok"},
    {REG_ESYSTEMERROR, "SYSTEMERROR", "system error"},
    {REG_ERUNTIMEINCONSISTENCY, "RUNTIMEINCONSISTENCY", "runtime inconsistency"},
    {REG_EDATAINCONSISTENCY, "DATAINCONSISTENCY", "data inconsistency"},
    {REG_ECONNECTIONLOSS, "CONNECTIONLOSS", "connection loss"},
    {REG_EMARSHALLINGERROR, "MARSHALLINGERROR", "marshalling error"},
    {REG_EUNIMPLEMENTED, "UNIMPLEMENTED", "unimplemented"},
    {REG_EOPERATIONTIMEOUT, "OPERATIONTIMEOUT", "operation timeout"},
    {REG_EBADARGUMENTS, "BADARGUMENTS", "bad arguments"},
    {REG_EINVALIDSTATE, "INVALIDSTATE", "invalid state"},
    {REG_EUNKNOWNSESSION, "UNKNOWNSESSION", "unknown session"},
    {REG_EAPIERROR, "APIERROR", "api error"},
    {REG_ENONODE, "NONODE", "node does not exist"},
    {REG_ENOAUTH, "NOAUTH", "not authenticated"},
    {REG_EBADVERSION, "BADVERSION", "bad version"},
    {REG_ENOCHILDRENFOREPHEMERALS, "NOCHILDRENFOREPHEMERALS",
     "ephemeral nodes may not have children"},
    {REG_ENODEEXISTS, "NODEEXISTS", "node already exists"},
    {REG_ENOTEMPTY, "NOTEMPTY", "node has children"},
    {REG_ESESSIONEXPIRED, "SESSIONEXPIRED", "session expired"},
    {REG_EINVALIDCALLBACK, "INVALIDCALLBACK", "invalid callback"},
    {REG_EINVALIDACL, "INVALIDACL", "invalid ACL"},
    {REG_EAUTHFAILED, "AUTHFAILED", "authentication failed"},
    {REG_ECLOSING, "CLOSING", "zookeeper is closing"},
    {REG_ENOTHING, "NOTHING", "no server responses to process"},
    {REG_ESESSIONMOVED, "SESSIONMOVED", "session moved to another server"},
    {REG_ENOTREADONLY, "NOTREADONLY", "not a read-only call"},
    {REG_EEPHEMERALONLOCALSESSION, "EPHEMERALONLOCALSESSION",
     "ephemeral node on local session"},
    {REG_ENOWATCHER, "NOWATCHER", "no such watcher"},
    {REG_ERECONFIGDISABLED, "RECONFIGDISABLED", "reconfig is disabled"},
    {REG_EQUOTAEXCEEDED, "QUOTAEXCEEDED", "quota exceeded"},
    {REG_ETHROTTLEDOP, "THROTTLEDOP", "operation throttled"},
};

static const struct err_info *find(int err)
{
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        if (errs[i].err == err)
            return &errs[i];
    return NULL;
}

int reg_err_to_zk(int err)
{
    if (err == 0)
        return 0;
    if (find(err))
        return err - REG_ZK_BASE;
    return -1; /* SYSTEMERROR */
}

const char *reg_errname(int err)
{
    const struct err_info *e = find(err);
    return e ? e->name : "SYSTEMERROR";
}

const char *reg_strerror(int err)
{
    const struct err_info *e = find(err);
    if (e)
        return e->msg;
    if (err < 0 && err > REG_ZK_BASE)
        return strerror(-err);
    return "unknown error";
}
