/*
 * reg_core.c - creating and freeing a registry.
 *
 * A new registry holds what a fresh Apache ZooKeeper 3.8 holds: "/",
 * "/zookeeper", "/zookeeper/quota" and "/zookeeper/config" (read-only ACL,
 * aversion -1), all with zero zxids and times. Configuration values left
 * at 0 take their defaults, so a zeroed reg_config is valid.
 */
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

void reg_config_default(reg_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_data_bytes = 1024 * 1024;
    cfg->max_path_bytes = 4096;
    cfg->max_pending = 100000;
    cfg->max_watches = 1000000;
    cfg->gc_scan = 32768;
    cfg->server_id = 0;
}

static void fill_defaults(reg_config *cfg)
{
    reg_config d;
    reg_config_default(&d);
    if (cfg->max_data_bytes == 0)
        cfg->max_data_bytes = d.max_data_bytes;
    if (cfg->max_path_bytes == 0)
        cfg->max_path_bytes = d.max_path_bytes;
    if (cfg->max_pending == 0)
        cfg->max_pending = d.max_pending;
    if (cfg->max_watches == 0)
        cfg->max_watches = d.max_watches;
    if (cfg->gc_scan == 0)
        cfg->gc_scan = d.gc_scan;
    if (cfg->max_data_bytes > (1u << 30))
        cfg->max_data_bytes = 1u << 30; /* what the codec and snapshots take */
    if (cfg->max_path_bytes > UINT16_MAX)
        cfg->max_path_bytes = UINT16_MAX; /* names are stored with 16-bit lengths */
}

reg_t *reg_create(const reg_config *cfg, const reg_hooks *hooks)
{
    reg_t *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    if (cfg)
        reg->cfg = *cfg;
    fill_defaults(&reg->cfg);
    if (hooks)
        reg->hooks = *hooks;
    reg->next_zxid = 1;
    if (reg__acl_init(reg) < 0 || reg__sess_init(reg) < 0 ||
        reg__watch_init(reg) < 0 || reg__pend_init(reg) < 0 ||
        !(reg->root = reg__tree_init(reg))) {
        reg_free(reg);
        return NULL;
    }
    return reg;
}

void reg_free(reg_t *reg)
{
    if (!reg)
        return;
    while (reg->pend_tail)
        reg_txn_abort(reg, reg->pend_tail);
    if (reg->overlay.b)
        reg__pend_fini(reg);
    if (reg->wpaths.b)
        reg__watch_fini(reg);
    if (reg->root)
        reg__tree_free(reg, reg->root);
    if (reg->sessions.b)
        reg__sess_fini(reg);
    reg__acl_fini(reg);
    free(reg);
}
