/*
 * dns_fuzz.c - libFuzzer target for dns_query_process over a small fixed
 * registry (members in every format, a sequential election group, DNS-SD
 * groups, a host-name member and a group large enough to truncate).
 *
 * Each input is processed over UDP and TCP. The first byte also picks a
 * registry path whose cache generation is bumped first, so the miss path
 * (resolution and template building) runs as often as the hit path.
 * Invariants checked: the verdict is one of the three; an answer echoes the
 * query ID, fits the transport's limit and out_cap, and parses with ldns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "reg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void dns_fuzz_teardown(void);

static reg_t *fz_reg;
static dns_zone *fz_zone;

static const char *const fz_paths[] = {
    "/services/web", "/services/web/w1", "/services/elect", "/services/db",
    "/services", "/services/big", "/elsewhere", "/services/h",
};

static void fz_on_change(void *ctx, int type, const char *path, int64_t zxid)
{
    (void)ctx;
    (void)type;
    (void)zxid;
    if (fz_zone)
        dns_zone_invalidate(fz_zone, path);
}

static void fz_put(const char *path, const char *data, uint32_t flags)
{
    reg_op op = {.type = REG_OP_CREATE, .path = path, .data = data, .data_len = strlen(data),
                 .create_flags = REG_CREATE_PARENTS | flags, .version = -1};
    reg_txn *txn = NULL;
    if (reg_prepare(fz_reg, 0, &op, 1700000000000LL, &txn) != 0 ||
        reg_commit(fz_reg, txn, NULL) != 0)
        abort();
}

static void fz_init(void)
{
    reg_config rc;
    reg_config_default(&rc);
    reg_hooks hooks = {.on_change = fz_on_change};
    fz_reg = reg_create(&rc, &hooks);
    dns_config dc;
    dns_config_default(&dc);
    fz_zone = dns_zone_create(&dc, fz_reg);
    if (fz_reg == NULL || fz_zone == NULL)
        abort();
    fz_put("/services/web/w1", "{\"address\":\"10.0.0.1\",\"port\":80,\"payload\":"
                               "{\"weight\":3,\"txt\":{\"a\":\"b\",\"n\":1,\"z\":null}}}", 0);
    fz_put("/services/web/w2", "10.0.0.2:81\n", 0);
    fz_put("/services/web/w3", "[2001:db8::3]:82", 0);
    fz_put("/services/db/d1", "{\"serviceEndpoint\":{\"host\":\"10.1.0.1\",\"port\":5432},"
                              "\"status\":\"ALIVE\"}", 0);
    fz_put("/services/h/x", "{\"address\":\"db.example.com\",\"port\":1}", 0);
    fz_put("/services/elect/n_", "10.2.0.1:7", REG_CREATE_SEQUENTIAL);
    fz_put("/services/elect/n_", "10.2.0.2:7", REG_CREATE_SEQUENTIAL);
    for (int i = 0; i < 60; i++) {
        char p[64], d[64];
        snprintf(p, sizeof(p), "/services/big/m%02d", i);
        snprintf(d, sizeof(d), "10.3.0.%d:%d", i, 1000 + i);
        fz_put(p, d, 0);
    }
}

static void fz_check(const uint8_t *q, size_t qlen, int transport)
{
    static uint8_t out[65535];
    size_t out_len = 0;
    int v = dns_query_process(fz_zone, q, qlen, transport, out, sizeof(out), &out_len);
    if (v != DNS_VERDICT_ANSWER) {
        if (v != DNS_VERDICT_DROP && v != DNS_VERDICT_FORWARD)
            abort();
        return;
    }
    size_t limit = transport == DNS_TRANSPORT_TCP ? 65535 : 1232;
    if (out_len < 12 || out_len > limit || memcmp(out, q, 2) != 0 || !(out[2] & 0x80))
        abort();
    ldns_pkt *p = NULL;
    if (ldns_wire2pkt(&p, out, out_len) != LDNS_STATUS_OK)
        abort();
    ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_zone == NULL)
        fz_init();
    if (size > 0)
        dns_zone_invalidate(fz_zone, fz_paths[data[0] % (sizeof(fz_paths) / sizeof(*fz_paths))]);
    fz_check(data, size, DNS_TRANSPORT_UDP);
    fz_check(data, size, DNS_TRANSPORT_TCP);
    return 0;
}

/* Frees the fixed registry (for the replay main, so LeakSanitizer is quiet). */
void dns_fuzz_teardown(void)
{
    dns_zone_free(fz_zone);
    reg_free(fz_reg);
    fz_zone = NULL;
    fz_reg = NULL;
}
