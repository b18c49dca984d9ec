/*
 * dns_test.c - the DNS frontend without a network: a real registry built
 * with reg_prepare/reg_commit (its on_change hook calls
 * dns_zone_invalidate, as the daemon does), queries built with ldns, fed to
 * dns_query_process, and responses parsed back with ldns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "dns.h"
#include "reg.h"

#define NOW 1700000000000LL

typedef struct fx {
    reg_t *reg;
    dns_zone *zone;
    dns_config cfg;
    uint16_t next_id;
    uint8_t out[65535];
    size_t out_len;
    int verdict;
} fx;

static fx *F; /* the fixture of the running test */

static void on_change(void *ctx, int type, const char *path, int64_t zxid)
{
    fx *f = ctx;
    (void)type;
    (void)zxid;
    if (f->zone)
        dns_zone_invalidate(f->zone, path);
}

static fx *fx_new(void (*tweak)(dns_config *))
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    reg_config rc;
    reg_config_default(&rc);
    reg_hooks hooks = {.ctx = f, .on_change = on_change};
    f->reg = reg_create(&rc, &hooks);
    assert_non_null(f->reg);
    dns_config_default(&f->cfg);
    if (tweak)
        tweak(&f->cfg);
    f->zone = dns_zone_create(&f->cfg, f->reg);
    assert_non_null(f->zone);
    f->next_id = 0x1234;
    return f;
}

static void fx_free(fx *f)
{
    dns_zone_free(f->zone);
    reg_free(f->reg);
    free(f);
}

static int setup(void **state)
{
    F = fx_new(NULL);
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    F = NULL;
    return 0;
}

/* ---- registry helpers ---------------------------------------------------- */

static int write_op(reg_op *op, int64_t session, char **created)
{
    reg_txn *txn = NULL;
    int rc = reg_prepare(F->reg, session, op, NOW, &txn);
    assert_int_equal(rc, 0);
    reg_result res;
    memset(&res, 0, sizeof(res));
    rc = reg_commit(F->reg, txn, &res);
    if (created && res.path)
        *created = strdup(res.path);
    reg_result_clear(&res);
    return rc;
}

static void put_flags(const char *path, const char *data, uint32_t flags, int64_t session)
{
    reg_op op = {.type = REG_OP_CREATE, .path = path, .data = data,
                 .data_len = data ? strlen(data) : 0,
                 .create_flags = REG_CREATE_PARENTS | flags, .version = -1};
    assert_int_equal(write_op(&op, session, NULL), 0);
}

static void put(const char *path, const char *data)
{
    put_flags(path, data, 0, 0);
}

static char *put_seq(const char *prefix, const char *data)
{
    char *created = NULL;
    reg_op op = {.type = REG_OP_CREATE, .path = prefix, .data = data,
                 .data_len = strlen(data),
                 .create_flags = REG_CREATE_PARENTS | REG_CREATE_SEQUENTIAL, .version = -1};
    assert_int_equal(write_op(&op, 0, &created), 0);
    return created;
}

static void set(const char *path, const char *data)
{
    reg_op op = {.type = REG_OP_SET_DATA, .path = path, .data = data,
                 .data_len = strlen(data), .version = -1};
    assert_int_equal(write_op(&op, 0, NULL), 0);
}

static void del(const char *path)
{
    reg_op op = {.type = REG_OP_DELETE, .path = path, .version = -1};
    assert_int_equal(write_op(&op, 0, NULL), 0);
}

static void member(const char *group, const char *id, const char *addr, int port)
{
    char path[512], data[512];
    snprintf(path, sizeof(path), "/services/%s/%s", group, id);
    snprintf(data, sizeof(data), "{\"name\":\"%s\",\"id\":\"%s\",\"address\":\"%s\",\"port\":%d}",
             group, id, addr, port);
    put(path, data);
}

/* ---- query helpers --------------------------------------------------------- */

typedef struct qopt {
    bool edns;
    uint16_t udp;
    uint8_t version;
    bool do_bit;
    bool tcp;
    bool no_rd;
    ldns_rr_class klass;
} qopt;

/* Wire bytes of a query for name/type; caller frees. */
static uint8_t *make_query(const char *name, ldns_rr_type type, const qopt *o, size_t *len)
{
    ldns_rdf *dn = ldns_dname_new_frm_str(name);
    assert_non_null(dn);
    ldns_rr_class klass = o && o->klass ? o->klass : LDNS_RR_CLASS_IN;
    ldns_pkt *p = ldns_pkt_query_new(dn, type, klass, (o && o->no_rd) ? 0 : LDNS_RD);
    assert_non_null(p);
    ldns_pkt_set_id(p, F->next_id);
    if (o && o->edns) {
        ldns_pkt_set_edns_udp_size(p, o->udp ? o->udp : 4096);
        ldns_pkt_set_edns_version(p, o->version);
        ldns_pkt_set_edns_do(p, o->do_bit);
    }
    uint8_t *wire = NULL;
    assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
    ldns_pkt_free(p);
    return wire;
}

/* Feeds raw bytes; returns the parsed response or NULL when no answer. */
static ldns_pkt *feed(const uint8_t *q, size_t len, bool tcp)
{
    F->out_len = 0;
    F->verdict = dns_query_process(F->zone, q, len, tcp ? DNS_TRANSPORT_TCP : DNS_TRANSPORT_UDP,
                                   F->out, sizeof(F->out), &F->out_len);
    if (F->verdict != DNS_VERDICT_ANSWER)
        return NULL;
    ldns_pkt *r = NULL;
    assert_int_equal(ldns_wire2pkt(&r, F->out, F->out_len), LDNS_STATUS_OK);
    assert_true(ldns_pkt_qr(r));
    return r;
}

static ldns_pkt *askq(const char *name, ldns_rr_type type, const qopt *o)
{
    size_t len;
    uint8_t *q = make_query(name, type, o, &len);
    ldns_pkt *r = feed(q, len, o && o->tcp);
    free(q);
    if (r) {
        assert_int_equal(ldns_pkt_id(r), F->next_id);
        if (!(o && o->tcp))
            assert_true(F->out_len <= ((o && o->edns) ? 4096u : 512u));
    }
    F->next_id++;
    return r;
}

static ldns_pkt *ask(const char *name, ldns_rr_type type)
{
    return askq(name, type, NULL);
}

static char *rdf_str(const ldns_rdf *rdf)
{
    char *s = ldns_rdf2str(rdf);
    assert_non_null(s);
    return s;
}

/* The addresses (or rdata 0 as text) of the records of type in a section,
 * concatenated with spaces, in order. */
static char *section_text(const ldns_rr_list *l, ldns_rr_type type)
{
    static char buf[1 << 16];
    buf[0] = '\0';
    for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
        ldns_rr *rr = ldns_rr_list_rr(l, i);
        if (ldns_rr_get_type(rr) != type)
            continue;
        char *s = ldns_rr2str(rr);
        char *tab = strrchr(s, '\t');
        size_t n = strlen(tab + 1);
        if (n && tab[n] == '\n')
            tab[n] = '\0';
        if (buf[0])
            strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
        strncat(buf, tab + 1, sizeof(buf) - strlen(buf) - 1);
        free(s);
    }
    return buf;
}

static char *answer_text(const ldns_pkt *r, ldns_rr_type type)
{
    return section_text(ldns_pkt_answer(r), type);
}

static size_t count_type(const ldns_rr_list *l, ldns_rr_type type)
{
    size_t n = 0;
    for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
        n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type;
    return n;
}

static void expect_rcode(ldns_pkt *r, ldns_pkt_rcode rcode)
{
    assert_non_null(r);
    assert_int_equal(ldns_pkt_get_rcode(r), rcode);
}

/* NXDOMAIN or NODATA with the SOA in authority. */
static void expect_negative(ldns_pkt *r, ldns_pkt_rcode rcode)
{
    expect_rcode(r, rcode);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_int_equal(count_type(ldns_pkt_authority(r), LDNS_RR_TYPE_SOA), 1);
    assert_true(ldns_pkt_aa(r));
}

static void expect_answer(const char *name, ldns_rr_type type, const char *text)
{
    ldns_pkt *r = ask(name, type);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_string_equal(answer_text(r, type), text);
    assert_true(ldns_pkt_aa(r));
    ldns_pkt_free(r);
}

static void expect_nodata(const char *name, ldns_rr_type type)
{
    ldns_pkt *r = ask(name, type);
    expect_negative(r, LDNS_RCODE_NOERROR);
    ldns_pkt_free(r);
}

static void expect_nxdomain(const char *name, ldns_rr_type type)
{
    ldns_pkt *r = ask(name, type);
    expect_negative(r, LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
}

/* ---- names ------------------------------------------------------------------ */

static void test_name_mapping(void **state)
{
    (void)state;
    put("/services/web/api", "{\"address\":\"10.0.0.1\",\"port\":80}");
    expect_answer("api.web.zk.", LDNS_RR_TYPE_A, "10.0.0.1");
    expect_nxdomain("nope.web.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("api.nope.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("x.api.web.zk.", LDNS_RR_TYPE_A);
    expect_nodata("web.zk.", LDNS_RR_TYPE_TXT);
}

static void test_case_insensitive(void **state)
{
    (void)state;
    put("/services/Web/Api", "10.0.0.2");
    expect_answer("api.web.zk.", LDNS_RR_TYPE_A, "10.0.0.2");
    ldns_pkt *r = ask("aPI.WEB.Zk.", LDNS_RR_TYPE_A);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_string_equal(answer_text(r, LDNS_RR_TYPE_A), "10.0.0.2");
    /* the question and the compressed owner echo the query's case */
    ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(r), 0);
    char *qn = rdf_str(ldns_rr_owner(qrr));
    assert_string_equal(qn, "aPI.WEB.Zk.");
    free(qn);
    char *own = rdf_str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(r), 0)));
    assert_string_equal(own, "aPI.WEB.Zk.");
    free(own);
    ldns_pkt_free(r);
}

static void test_bad_labels(void **state)
{
    (void)state;
    put("/services/web/api", "10.0.0.1");
    expect_nxdomain("a\\/b.web.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("\\..web.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("\\.\\..web.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("a\\000b.web.zk.", LDNS_RR_TYPE_A);
}

/* ---- member formats ---------------------------------------------------------- */

static void test_formats_json(void **state)
{
    (void)state;
    put("/services/c/curator",
        "{\"name\":\"c\",\"id\":\"8a7b\",\"address\":\"10.1.0.1\",\"port\":8080,"
        "\"sslPort\":null,\"payload\":null,\"registrationTimeUTC\":1700000000000,"
        "\"serviceType\":\"DYNAMIC\",\"uriSpec\":{\"parts\":[]},\"enabled\":true}");
    put("/services/c/ssl", "{\"address\":\"10.1.0.2\",\"port\":null,\"sslPort\":8443}");
    put("/services/c/ours",
        "{\"name\":\"c\",\"id\":\"ours\",\"address\":\"10.1.0.3\",\"port\":81,\"payload\":"
        "{\"weight\":5,\"priority\":2,\"tags\":[\"a\"],\"txt\":{\"k\":\"v\",\"n\":7,\"flag\":null}}}");
    put("/services/c/off", "{\"address\":\"10.1.0.4\",\"port\":82,\"enabled\":false}");
    put("/services/c/v6", "{\"address\":\"2001:db8::7\",\"port\":83}");
    put("/services/c/finagle",
        "{\"serviceEndpoint\":{\"host\":\"10.1.0.5\",\"port\":9090},"
        "\"additionalEndpoints\":{},\"status\":\"ALIVE\",\"shard\":0}");
    put("/services/c/dead",
        "{\"serviceEndpoint\":{\"host\":\"10.1.0.6\",\"port\":9090},"
        "\"additionalEndpoints\":{},\"status\":\"DEAD\"}");
    put("/services/c/bad1", "{\"address\":42}");
    put("/services/c/bad2", "{not json");
    put("/services/c/bad3", "{}");
    expect_answer("curator.c.zk.", LDNS_RR_TYPE_A, "10.1.0.1");
    expect_answer("ssl.c.zk.", LDNS_RR_TYPE_SRV, "0 1 8443 ssl.c.zk.");
    expect_answer("ours.c.zk.", LDNS_RR_TYPE_SRV, "2 5 81 ours.c.zk.");
    expect_answer("ours.c.zk.", LDNS_RR_TYPE_TXT, "\"k=v\" \"n=7\" \"flag\"");
    expect_answer("curator.c.zk.", LDNS_RR_TYPE_SRV, "0 1 8080 curator.c.zk.");
    expect_nodata("curator.c.zk.", LDNS_RR_TYPE_TXT);
    expect_nodata("off.c.zk.", LDNS_RR_TYPE_A);
    expect_answer("v6.c.zk.", LDNS_RR_TYPE_AAAA, "2001:db8::7");
    expect_nodata("v6.c.zk.", LDNS_RR_TYPE_A);
    expect_answer("finagle.c.zk.", LDNS_RR_TYPE_A, "10.1.0.5");
    expect_answer("finagle.c.zk.", LDNS_RR_TYPE_SRV, "0 1 9090 finagle.c.zk.");
    expect_nodata("dead.c.zk.", LDNS_RR_TYPE_A);
    expect_nodata("bad1.c.zk.", LDNS_RR_TYPE_A);
    expect_nodata("bad2.c.zk.", LDNS_RR_TYPE_A);
    expect_nodata("bad3.c.zk.", LDNS_RR_TYPE_A);
    /* the group lists exactly the listed members, lowest priority value first */
    expect_answer("c.zk.", LDNS_RR_TYPE_A, "10.1.0.1 10.1.0.5 10.1.0.2 10.1.0.3");
    expect_answer("c.zk.", LDNS_RR_TYPE_AAAA, "2001:db8::7");
}

static void test_formats_text(void **state)
{
    (void)state;
    put("/services/t/host", "10.2.0.1");
    put("/services/t/hostport", "10.2.0.2:8080\n");
    put("/services/t/v6port", "[2001:db8::2]:53");
    put("/services/t/v6bare", "  2001:db8::3 \r\n");
    put("/services/t/name", "db1.example.com:5432");
    put("/services/t/junk1", "hello world");
    put("/services/t/junk2", "10.2.0.9:99999");
    put("/services/t/junk3", "999.1.1.1");
    put("/services/t/junk4", "");
    put("/services/t/junk5", "[2001:db8::5");
    expect_answer("host.t.zk.", LDNS_RR_TYPE_A, "10.2.0.1");
    expect_nodata("host.t.zk.", LDNS_RR_TYPE_SRV); /* no port */
    expect_answer("hostport.t.zk.", LDNS_RR_TYPE_SRV, "0 1 8080 hostport.t.zk.");
    expect_answer("v6port.t.zk.", LDNS_RR_TYPE_AAAA, "2001:db8::2");
    expect_answer("v6port.t.zk.", LDNS_RR_TYPE_SRV, "0 1 53 v6port.t.zk.");
    expect_answer("v6bare.t.zk.", LDNS_RR_TYPE_AAAA, "2001:db8::3");
    expect_answer("name.t.zk.", LDNS_RR_TYPE_A, "");
    for (int i = 1; i <= 5; i++) {
        char n[64];
        snprintf(n, sizeof(n), "junk%d.t.zk.", i);
        expect_nodata(n, LDNS_RR_TYPE_A);
    }
}

static void test_hostname_member(void **state)
{
    (void)state;
    put("/services/h/a", "{\"address\":\"db1.example.com\",\"port\":5432}");
    put("/services/h/b", "10.3.0.2:5432");
    /* at its own name: a CNAME, whatever the type */
    for (int t = 0; t < 3; t++) {
        ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TXT};
        ldns_pkt *r = ask("a.h.zk.", types[t]);
        expect_rcode(r, LDNS_RCODE_NOERROR);
        assert_string_equal(answer_text(r, LDNS_RR_TYPE_CNAME), "db1.example.com.");
        ldns_pkt_free(r);
    }
    /* in the group: skipped in A lists, SRV target is the host name, no glue */
    expect_answer("h.zk.", LDNS_RR_TYPE_A, "10.3.0.2");
    ldns_pkt *r = ask("h.zk.", LDNS_RR_TYPE_SRV);
    assert_string_equal(answer_text(r, LDNS_RR_TYPE_SRV),
                        "0 1 5432 db1.example.com. 0 1 5432 b.h.zk.");
    assert_string_equal(section_text(ldns_pkt_additional(r), LDNS_RR_TYPE_A), "10.3.0.2");
    ldns_pkt_free(r);
}

/* ---- groups, rotation, weights ------------------------------------------------ */

static void test_group_rotation(void **state)
{
    (void)state;
    member("web", "m1", "10.0.0.1", 80);
    member("web", "m2", "10.0.0.2", 80);
    member("web", "m3", "10.0.0.3", 80);
    char firsts[3][32];
    for (int i = 0; i < 3; i++) {
        ldns_pkt *r = ask("web.zk.", LDNS_RR_TYPE_A);
        expect_rcode(r, LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(r), 3);
        char *s = answer_text(r, LDNS_RR_TYPE_A);
        assert_non_null(strstr(s, "10.0.0.1"));
        assert_non_null(strstr(s, "10.0.0.2"));
        assert_non_null(strstr(s, "10.0.0.3"));
        snprintf(firsts[i], sizeof(firsts[i]), "%.8s", s);
        ldns_pkt_free(r);
    }
    assert_string_not_equal(firsts[0], firsts[1]);
    assert_string_not_equal(firsts[1], firsts[2]);
    assert_string_not_equal(firsts[0], firsts[2]);
    expect_nodata("web.zk.", LDNS_RR_TYPE_AAAA);
}

static void test_group_weights(void **state)
{
    (void)state;
    put("/services/w/light", "{\"address\":\"10.9.0.1\",\"port\":1,\"payload\":{\"weight\":1}}");
    put("/services/w/heavy", "{\"address\":\"10.9.0.3\",\"port\":1,\"payload\":{\"weight\":3}}");
    put("/services/w/backup",
        "{\"address\":\"10.9.0.9\",\"port\":1,\"payload\":{\"weight\":100,\"priority\":1}}");
    int light = 0, heavy = 0, other = 0;
    for (int i = 0; i < 400; i++) {
        ldns_pkt *r = ask("w.zk.", LDNS_RR_TYPE_A);
        assert_int_equal(ldns_pkt_ancount(r), 3);
        char *s = answer_text(r, LDNS_RR_TYPE_A);
        if (strncmp(s, "10.9.0.1 ", 9) == 0)
            light++;
        else if (strncmp(s, "10.9.0.3 ", 9) == 0)
            heavy++;
        else
            other++;
        ldns_pkt_free(r);
    }
    assert_int_equal(other, 0); /* priority 1 never comes first */
    assert_in_range(light, 90, 110);
    assert_in_range(heavy, 290, 310);
}

/* ---- SRV and TXT ---------------------------------------------------------------- */

static void test_srv(void **state)
{
    (void)state;
    member("api", "a1", "10.4.0.1", 8001);
    member("api", "a2", "2001:db8::4", 8002);
    put("/services/api/a3",
        "{\"address\":\"10.4.0.3\",\"port\":8003,\"payload\":{\"weight\":7,\"priority\":3}}");
    const char *srv = "0 1 8001 a1.api.zk. 0 1 8002 a2.api.zk. 3 7 8003 a3.api.zk.";
    const char *names[] = {"api.zk.", "_api._tcp.zk.", "_api._udp.zk.", "_API._TCP.ZK."};
    for (size_t i = 0; i < 4; i++) {
        ldns_pkt *r = ask(names[i], LDNS_RR_TYPE_SRV);
        expect_rcode(r, LDNS_RCODE_NOERROR);
        assert_string_equal(answer_text(r, LDNS_RR_TYPE_SRV), srv);
        const ldns_rr_list *ad = ldns_pkt_additional(r);
        assert_string_equal(section_text(ad, LDNS_RR_TYPE_A), "10.4.0.1 10.4.0.3");
        assert_string_equal(section_text(ad, LDNS_RR_TYPE_AAAA), "2001:db8::4");
        char *own = rdf_str(ldns_rr_owner(ldns_rr_list_rr(ad, 0)));
        assert_true(strcasecmp(own, "a1.api.zk.") == 0);
        free(own);
        ldns_pkt_free(r);
    }
    expect_nxdomain("_nope._tcp.zk.", LDNS_RR_TYPE_SRV);
    expect_nodata("_api._tcp.zk.", LDNS_RR_TYPE_A);
}

/* ---- _leader ---------------------------------------------------------------------- */

static void test_leader(void **state)
{
    (void)state;
    char *p1 = put_seq("/services/elect/n_", "10.5.0.1:7000");
    char *p2 = put_seq("/services/elect/n_", "10.5.0.2:7000");
    char *p3 = put_seq("/services/elect/n_", "{\"address\":\"10.5.0.3\",\"port\":7000,"
                                             "\"payload\":{\"txt\":{\"role\":\"x\"}}}");
    assert_string_equal(p1, "/services/elect/n_0000000000");
    expect_answer("_leader.elect.zk.", LDNS_RR_TYPE_A, "10.5.0.1");
    expect_answer("_leader.elect.zk.", LDNS_RR_TYPE_SRV, "0 1 7000 n_0000000000.elect.zk.");
    expect_nodata("_leader.elect.zk.", LDNS_RR_TYPE_TXT);
    del(p1);
    expect_answer("_leader.elect.zk.", LDNS_RR_TYPE_A, "10.5.0.2");
    del(p2);
    expect_answer("_leader.elect.zk.", LDNS_RR_TYPE_TXT, "\"role=x\"");
    del(p3);
    expect_nxdomain("_leader.elect.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("_leader.none.zk.", LDNS_RR_TYPE_A);
    /* without sequence suffixes: the oldest (lowest czxid) */
    put("/services/plain/zz", "10.5.1.1");
    put("/services/plain/aa", "10.5.1.2");
    expect_answer("_leader.plain.zk.", LDNS_RR_TYPE_A, "10.5.1.1");
    /* a suffixed member beats unsuffixed ones */
    put("/services/plain/x0000000005", "10.5.1.3");
    expect_answer("_leader.plain.zk.", LDNS_RR_TYPE_A, "10.5.1.3");
    free(p1);
    free(p2);
    free(p3);
}

/* ---- DNS-SD ------------------------------------------------------------------------- */

static void test_dnssd(void **state)
{
    (void)state;
    member("web", "w1", "10.6.0.1", 80);
    put("/services/web/w2", "{\"address\":\"10.6.0.2\",\"port\":81,"
                            "\"payload\":{\"txt\":{\"path\":\"/x\"}}}");
    member("db", "d1", "10.6.1.1", 5432);
    put("/services/empty", "");
    put("/services/noport/x", "10.6.2.1");
    expect_answer("_services._dns-sd._udp.zk.", LDNS_RR_TYPE_PTR, "_db._tcp.zk. _web._tcp.zk.");
    ldns_pkt *r = ask("_web._tcp.zk.", LDNS_RR_TYPE_PTR);
    assert_string_equal(answer_text(r, LDNS_RR_TYPE_PTR),
                        "w1._web._tcp.zk. w2._web._tcp.zk.");
    const ldns_rr_list *ad = ldns_pkt_additional(r);
    assert_int_equal(count_type(ad, LDNS_RR_TYPE_SRV), 2);
    assert_int_equal(count_type(ad, LDNS_RR_TYPE_TXT), 2);
    assert_int_equal(count_type(ad, LDNS_RR_TYPE_A), 2);
    ldns_pkt_free(r);
    expect_answer("w1._web._tcp.zk.", LDNS_RR_TYPE_SRV, "0 1 80 w1.web.zk.");
    expect_answer("w1._web._tcp.zk.", LDNS_RR_TYPE_TXT, "\"\"");
    expect_answer("w2._web._tcp.zk.", LDNS_RR_TYPE_TXT, "\"path=/x\"");
    expect_nodata("w2._web._tcp.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("w3._web._tcp.zk.", LDNS_RR_TYPE_SRV);
    expect_nxdomain("x._noport._tcp.zk.", LDNS_RR_TYPE_SRV);
    expect_nodata("_empty._tcp.zk.", LDNS_RR_TYPE_PTR);
    /* the names above DNS-SD names exist (RFC 8020 cuts would hide them) */
    expect_nodata("_tcp.zk.", LDNS_RR_TYPE_A);
    expect_nodata("_udp.zk.", LDNS_RR_TYPE_A);
    expect_nodata("_dns-sd._udp.zk.", LDNS_RR_TYPE_PTR);
    expect_nxdomain("x._udp.zk.", LDNS_RR_TYPE_A);
}

/* ---- apex, negative answers ------------------------------------------------------------ */

static void tweak_ttl(dns_config *c)
{
    c->ttl = 30;
    c->negative_ttl = 10;
}

static void test_apex(void **state)
{
    fx_free(*state);
    *state = F = fx_new(tweak_ttl);
    put("/services/web/a", "10.0.0.1");
    ldns_pkt *r = ask("zk.", LDNS_RR_TYPE_SOA);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
    assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
    assert_int_equal(ldns_rr_ttl(soa), 30);
    char *mname = rdf_str(ldns_rr_rdf(soa, 0)), *rname = rdf_str(ldns_rr_rdf(soa, 1));
    assert_string_equal(mname, "ns.zk.");
    assert_string_equal(rname, "hostmaster.zk.");
    free(mname);
    free(rname);
    uint32_t serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
    assert_int_equal(serial, (uint32_t)reg_subtree_zxid(F->reg, "/services"));
    assert_true(serial > 0);
    assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), 10);
    ldns_pkt_free(r);
    r = ask("zk.", LDNS_RR_TYPE_NS);
    assert_string_equal(answer_text(r, LDNS_RR_TYPE_NS), "ns.zk.");
    assert_string_equal(section_text(ldns_pkt_additional(r), LDNS_RR_TYPE_A), "127.0.0.1");
    assert_string_equal(section_text(ldns_pkt_additional(r), LDNS_RR_TYPE_AAAA), "::1");
    ldns_pkt_free(r);
    expect_answer("ns.zk.", LDNS_RR_TYPE_A, "127.0.0.1");
    /* negative answers: SOA in authority with TTL min(ttl, minimum) */
    r = ask("missing.zk.", LDNS_RR_TYPE_A);
    expect_negative(r, LDNS_RCODE_NXDOMAIN);
    assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(r), 0)), 10);
    ldns_pkt_free(r);
    r = ask("a.web.zk.", LDNS_RR_TYPE_A);
    assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0)), 30);
    ldns_pkt_free(r);
    expect_nodata("zk.", LDNS_RR_TYPE_A);
    expect_nodata("a.web.zk.", LDNS_RR_TYPE_MX);
    /* a group named "ns" wins over the synthesized name server address */
    put("/services/ns/x", "10.7.0.1");
    expect_answer("ns.zk.", LDNS_RR_TYPE_A, "10.7.0.1");
}

static void test_serial_moves(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    ldns_pkt *r = ask("missing.zk.", LDNS_RR_TYPE_A);
    uint32_t s1 = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_authority(r), 0), 2));
    ldns_pkt_free(r);
    put("/services/other/b", "10.0.0.2");
    r = ask("missing.zk.", LDNS_RR_TYPE_A);
    uint32_t s2 = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_authority(r), 0), 2));
    ldns_pkt_free(r);
    assert_true(s2 > s1);
    assert_int_equal(s2, (uint32_t)reg_subtree_zxid(F->reg, "/services"));
}

static void test_any(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    ldns_pkt *r = ask("a.web.zk.", LDNS_RR_TYPE_ANY);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_string_equal(answer_text(r, LDNS_RR_TYPE_HINFO), "\"RFC8482\" \"\"");
    ldns_pkt_free(r);
    expect_nxdomain("b.web.zk.", LDNS_RR_TYPE_ANY);
}

/* ---- freshness ------------------------------------------------------------------------- */

static void test_freshness(void **state)
{
    (void)state;
    member("web", "m1", "10.0.0.1", 80);
    expect_answer("web.zk.", LDNS_RR_TYPE_A, "10.0.0.1");
    expect_nxdomain("m2.web.zk.", LDNS_RR_TYPE_A);
    member("web", "m2", "10.0.0.2", 80);
    ldns_pkt *r = ask("web.zk.", LDNS_RR_TYPE_A);
    assert_int_equal(ldns_pkt_ancount(r), 2);
    ldns_pkt_free(r);
    expect_answer("m2.web.zk.", LDNS_RR_TYPE_A, "10.0.0.2");
    set("/services/web/m2", "10.0.0.22:80");
    expect_answer("m2.web.zk.", LDNS_RR_TYPE_A, "10.0.0.22");
    del("/services/web/m1");
    expect_answer("web.zk.", LDNS_RR_TYPE_A, "10.0.0.22");
    expect_nxdomain("m1.web.zk.", LDNS_RR_TYPE_A);
    expect_answer("_services._dns-sd._udp.zk.", LDNS_RR_TYPE_PTR, "_web._tcp.zk.");
    member("db", "d", "10.0.1.1", 1);
    expect_answer("_services._dns-sd._udp.zk.", LDNS_RR_TYPE_PTR, "_db._tcp.zk. _web._tcp.zk.");
    /* a change outside the root changes nothing, and costs nothing */
    put("/elsewhere/x", "10.0.0.9");
    expect_answer("m2.web.zk.", LDNS_RR_TYPE_A, "10.0.0.22");
}

static void test_freshness_session(void **state)
{
    (void)state;
    uint8_t pw[16] = {1};
    reg_op op = {.type = REG_OP_CREATE_SESSION, .timeout_ms = 0,
                 .session_flags = REG_SESSION_LOCAL, .passwd = pw};
    reg_txn *txn;
    assert_int_equal(reg_prepare(F->reg, 0, &op, NOW, &txn), 0);
    reg_result res;
    memset(&res, 0, sizeof(res));
    assert_int_equal(reg_commit(F->reg, txn, &res), 0);
    int64_t session = res.session;
    reg_result_clear(&res);
    put("/services/eph", "");
    put_flags("/services/eph/e1", "10.8.0.1:80", REG_CREATE_EPHEMERAL, session);
    expect_answer("eph.zk.", LDNS_RR_TYPE_A, "10.8.0.1");
    reg_op close = {.type = REG_OP_CLOSE_SESSION};
    assert_int_equal(write_op(&close, session, NULL), 0);
    expect_nodata("eph.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("e1.eph.zk.", LDNS_RR_TYPE_A);
}

/* ---- what a change invalidates ------------------------------------------------------ */

static dns_stats stats(void)
{
    dns_stats st;
    dns_zone_stats(F->zone, &st);
    return st;
}

/* Asks name/type; true when the answer came from the cache. */
static bool cached(const char *name, ldns_rr_type type)
{
    uint64_t hits = stats().cache_hits;
    ldns_pkt *r = ask(name, type);
    assert_non_null(r);
    ldns_pkt_free(r);
    return stats().cache_hits == hits + 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The answer's records of type as text, sorted (rotation-proof). */
static char *sorted_answer(const char *name, ldns_rr_type type)
{
    static char out[1 << 16];
    ldns_pkt *r = ask(name, type);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    char *text = strdup(answer_text(r, type)), *words[4096], *save = NULL;
    size_t n = 0;
    for (char *w = strtok_r(text, " ", &save); w && n < 4096; w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    qsort(words, n, sizeof(*words), cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", words[i]);
    free(text);
    ldns_pkt_free(r);
    return out;
}

/* A new member of web rebuilds web's lists, nothing else: not the other
 * members' answers, not names that do not exist, not other groups. */
static void test_invalidate_scope(void **state)
{
    (void)state;
    member("web", "m1", "10.0.0.1", 80);
    member("web", "m2", "10.0.0.2", 80);
    member("db", "d1", "10.0.1.1", 5432);
    const char *names[] = {"web.zk.", "_web._tcp.zk.", "m1.web.zk.", "nx.web.zk.",
                           "x.m1.web.zk.", "db.zk.", "d1.db.zk.", "missing.zk.",
                           "nx.db.zk."};
    ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_SRV, LDNS_RR_TYPE_A, LDNS_RR_TYPE_A,
                            LDNS_RR_TYPE_A, LDNS_RR_TYPE_A, LDNS_RR_TYPE_A, LDNS_RR_TYPE_A,
                            LDNS_RR_TYPE_A};
    for (size_t i = 0; i < 9; i++)
        assert_false(cached(names[i], types[i]));
    member("web", "m3", "10.0.0.3", 80);
    assert_false(cached("web.zk.", LDNS_RR_TYPE_A));
    assert_false(cached("_web._tcp.zk.", LDNS_RR_TYPE_SRV));
    for (size_t i = 2; i < 9; i++)
        assert_true(cached(names[i], types[i]));
    assert_string_equal(sorted_answer("web.zk.", LDNS_RR_TYPE_A), "10.0.0.1 10.0.0.2 10.0.0.3");
    expect_answer("m3.web.zk.", LDNS_RR_TYPE_A, "10.0.0.3");
    /* and what did change is seen at once: a name that did not exist ... */
    member("web", "nx", "10.0.0.9", 80);
    expect_answer("nx.web.zk.", LDNS_RR_TYPE_A, "10.0.0.9");
    /* ... one below a member, the member itself changed or gone */
    put("/services/web/m1/x", "10.0.0.10");
    expect_answer("x.m1.web.zk.", LDNS_RR_TYPE_A, "10.0.0.10");
    set("/services/web/m1", "10.0.0.11:80");
    expect_answer("m1.web.zk.", LDNS_RR_TYPE_A, "10.0.0.11");
    del("/services/web/m1/x");
    del("/services/web/m1");
    expect_nxdomain("m1.web.zk.", LDNS_RR_TYPE_A);
    expect_nxdomain("x.m1.web.zk.", LDNS_RR_TYPE_A);
    /* a change of the root itself drops everything */
    assert_true(cached("d1.db.zk.", LDNS_RR_TYPE_A));
    set("/services", "x");
    assert_false(cached("d1.db.zk.", LDNS_RR_TYPE_A));
}

/* Negative answers carry the SOA, whose serial moves with every change;
 * it is patched into the cached answer, which stays cached. */
static void test_serial_patched(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    put("/services/other/a", "10.0.0.2");
    assert_false(cached("missing.zk.", LDNS_RR_TYPE_A));
    assert_false(cached("a.web.zk.", LDNS_RR_TYPE_TXT)); /* NODATA */
    put("/services/other/b", "10.0.0.2"); /* a group node made or gone would count */
    uint32_t now = (uint32_t)reg_subtree_zxid(F->reg, "/services");
    const char *names[] = {"missing.zk.", "a.web.zk."};
    ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_TXT};
    for (int i = 0; i < 2; i++) {
        uint64_t hits = stats().cache_hits;
        ldns_pkt *r = ask(names[i], types[i]);
        assert_int_equal(stats().cache_hits, hits + 1);
        ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(r), 0);
        assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), now);
        ldns_pkt_free(r);
    }
    /* the apex SOA too, over UDP and TCP */
    put("/services/other/c", "10.0.0.3");
    now = (uint32_t)reg_subtree_zxid(F->reg, "/services");
    for (int tcp = 0; tcp < 2; tcp++) {
        qopt o = {.tcp = tcp};
        ldns_pkt *r = askq("zk.", LDNS_RR_TYPE_SOA, &o);
        ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
        assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), now);
        ldns_pkt_free(r);
    }
}

/* Names resolve case-insensitively, an exact (lowercase) name first: a new
 * group node "svc" takes "m3.svc.zk." away from "Svc", although nothing
 * changed under (svc, m3). */
static void test_icase_group_exact_wins(void **state)
{
    (void)state;
    put("/services/Svc/m3", "10.0.0.3");
    expect_answer("m3.svc.zk.", LDNS_RR_TYPE_A, "10.0.0.3");
    expect_nxdomain("m4.svc.zk.", LDNS_RR_TYPE_A);
    put("/services/svc", "");
    expect_nxdomain("m3.svc.zk.", LDNS_RR_TYPE_A);
    put("/services/svc/m4", "10.0.0.4");
    expect_answer("m4.svc.zk.", LDNS_RR_TYPE_A, "10.0.0.4");
    del("/services/svc/m4");
    del("/services/svc");
    expect_answer("m3.svc.zk.", LDNS_RR_TYPE_A, "10.0.0.3");
    expect_nxdomain("m4.svc.zk.", LDNS_RR_TYPE_A);
    /* the same one level down */
    put("/services/Svc/M5", "10.0.0.5");
    expect_answer("m5.svc.zk.", LDNS_RR_TYPE_A, "10.0.0.5");
    put("/services/Svc/m5", "10.0.0.55");
    expect_answer("m5.svc.zk.", LDNS_RR_TYPE_A, "10.0.0.55");
}

/* A change of one member re-parses that member only; every other member
 * of the group moves over from the previous list. */
static void test_group_incremental(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++) {
        char id[8], addr[32];
        snprintf(id, sizeof(id), "m%d", i);
        snprintf(addr, sizeof(addr), "10.1.0.%d", i);
        member("inc", id, addr, 80);
    }
    const char *all = "10.1.0.0 10.1.0.1 10.1.0.2 10.1.0.3 10.1.0.4 10.1.0.5 10.1.0.6 "
                      "10.1.0.7 10.1.0.8 10.1.0.9";
    uint64_t p = stats().member_parses;
    assert_string_equal(sorted_answer("inc.zk.", LDNS_RR_TYPE_A), all);
    assert_int_equal(stats().member_parses - p, 10);
    set("/services/inc/m3", "10.1.0.33:80");
    p = stats().member_parses;
    assert_string_equal(sorted_answer("inc.zk.", LDNS_RR_TYPE_A),
                        "10.1.0.0 10.1.0.1 10.1.0.2 10.1.0.33 10.1.0.4 10.1.0.5 10.1.0.6 "
                        "10.1.0.7 10.1.0.8 10.1.0.9");
    assert_int_equal(stats().member_parses - p, 1);
    del("/services/inc/m4");
    del("/services/inc/m0");
    p = stats().member_parses;
    assert_string_equal(sorted_answer("inc.zk.", LDNS_RR_TYPE_A),
                        "10.1.0.1 10.1.0.2 10.1.0.33 10.1.0.5 10.1.0.6 10.1.0.7 10.1.0.8 "
                        "10.1.0.9");
    assert_int_equal(stats().member_parses - p, 0);
    member("inc", "m4", "10.1.0.44", 80); /* the same name again: a new node */
    set("/services/inc/m5", "not a record");
    member("inc", "m55", "10.1.0.55", 80);
    p = stats().member_parses;
    assert_string_equal(sorted_answer("inc.zk.", LDNS_RR_TYPE_A),
                        "10.1.0.1 10.1.0.2 10.1.0.33 10.1.0.44 10.1.0.55 10.1.0.6 10.1.0.7 "
                        "10.1.0.8 10.1.0.9");
    assert_int_equal(stats().member_parses - p, 3);
    /* the other lists of the group use the same members */
    p = stats().member_parses;
    ldns_pkt *r = ask("_inc._tcp.zk.", LDNS_RR_TYPE_SRV);
    assert_int_equal(ldns_pkt_ancount(r), 9);
    ldns_pkt_free(r);
    expect_answer("_leader.inc.zk.", LDNS_RR_TYPE_A, "10.1.0.1");
    assert_int_equal(stats().member_parses - p, 0);
    /* a group deleted and made again with the same names */
    for (int i = 1; i <= 9; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/services/inc/m%d", i);
        if (i != 5)
            del(path);
    }
    del("/services/inc/m5");
    del("/services/inc/m55");
    del("/services/inc");
    member("inc", "m1", "10.1.1.1", 80);
    assert_string_equal(sorted_answer("inc.zk.", LDNS_RR_TYPE_A), "10.1.1.1");
}

/* Many groups keep their member lists side by side. */
static void test_many_groups(void **state)
{
    (void)state;
    char name[64], addr[32];
    for (int g = 0; g < 200; g++) {
        snprintf(name, sizeof(name), "g%03d", g);
        snprintf(addr, sizeof(addr), "10.2.%d.1", g);
        member(name, "a", addr, 80);
        snprintf(addr, sizeof(addr), "10.2.%d.2", g);
        member(name, "b", addr, 81);
    }
    uint64_t p = stats().member_parses;
    for (int g = 0; g < 200; g++) {
        snprintf(name, sizeof(name), "g%03d.zk.", g);
        ldns_pkt *r = ask(name, LDNS_RR_TYPE_A);
        assert_int_equal(ldns_pkt_ancount(r), 2);
        ldns_pkt_free(r);
    }
    assert_int_equal(stats().member_parses - p, 400);
    for (int g = 0; g < 200; g++) {
        snprintf(name, sizeof(name), "_g%03d._tcp.zk.", g);
        ldns_pkt *r = ask(name, LDNS_RR_TYPE_SRV);
        assert_int_equal(ldns_pkt_ancount(r), 2);
        ldns_pkt_free(r);
    }
    assert_int_equal(stats().member_parses - p, 400);
}

/* ---- EDNS, truncation, TCP --------------------------------------------------------------- */

static void many_members(const char *group, int n)
{
    for (int i = 0; i < n; i++) {
        char id[32], addr[32];
        snprintf(id, sizeof(id), "m%04d", i);
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", 100 + i / 65536, (i / 256) % 256, i % 256);
        member(group, id, addr, 1000 + i % 1000);
    }
}

static void test_truncation(void **state)
{
    (void)state;
    many_members("big", 40); /* 40 A records: 640 bytes of answer */
    ldns_pkt *r = ask("big.zk.", LDNS_RR_TYPE_A);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_int_equal(ldns_pkt_qdcount(r), 1);
    assert_false(ldns_pkt_edns(r));
    ldns_pkt_free(r);
    qopt o = {.edns = true, .udp = 4096};
    r = askq("big.zk.", LDNS_RR_TYPE_A, &o);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 40);
    assert_true(ldns_pkt_edns(r));
    assert_int_equal(ldns_pkt_edns_udp_size(r), 1232);
    ldns_pkt_free(r);
    o.udp = 600; /* fits 600 - 11 - 21? no: 640 bytes of records */
    r = askq("big.zk.", LDNS_RR_TYPE_A, &o);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_true(ldns_pkt_edns(r));
    ldns_pkt_free(r);
    o.udp = 100; /* below 512 counts as 512 */
    r = askq("big.zk.", LDNS_RR_TYPE_A, &o);
    assert_true(ldns_pkt_tc(r));
    assert_true(F->out_len <= 512);
    ldns_pkt_free(r);
    qopt t = {.tcp = true};
    r = askq("big.zk.", LDNS_RR_TYPE_A, &t);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 40);
    ldns_pkt_free(r);
}

static void test_truncation_max_udp(void **state)
{
    (void)state;
    many_members("big", 100); /* 1600 bytes of answer */
    qopt o = {.edns = true, .udp = 4096};
    ldns_pkt *r = askq("big.zk.", LDNS_RR_TYPE_A, &o);
    assert_true(ldns_pkt_tc(r)); /* capped by max_udp 1232 */
    assert_true(F->out_len <= 1232);
    ldns_pkt_free(r);
}

/* Thousands of names: the table grows (rehashing what it holds), every
 * name keeps its own answer and comes from the cache the second time. */
static void test_cache_many_names(void **state)
{
    (void)state;
    member("web", "m1", "10.0.0.1", 80);
    char name[64];
    for (int round = 0; round < 2; round++) {
        uint64_t hits = stats().cache_hits;
        for (int i = 0; i < 3000; i++) {
            if (i % 3)
                snprintf(name, sizeof(name), "n%d.web.zk.", i);
            else
                snprintf(name, sizeof(name), "m1.web.zk.");
            ldns_pkt *r = ask(name, LDNS_RR_TYPE_A);
            expect_rcode(r, i % 3 ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR);
            char *qn = rdf_str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
            assert_string_equal(qn, name);
            free(qn);
            ldns_pkt_free(r);
        }
        assert_int_equal(stats().cache_hits - hits, round ? 3000 : 999);
    }
}

/* ---- name compression ---------------------------------------------------------------- */

/* Every owner in the additional section of r is the target of an SRV record
 * (in any section) of r, and each such target owns at most one A RRset.
 * Returns how many address records there are. */
static size_t glue_matches_targets(const ldns_pkt *r)
{
    const ldns_rr_list *ad = ldns_pkt_additional(r), *an = ldns_pkt_answer(r);
    size_t addrs = 0;
    for (size_t i = 0; ad && i < ldns_rr_list_rr_count(ad); i++) {
        ldns_rr *rr = ldns_rr_list_rr(ad, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        if (t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA)
            continue;
        addrs++;
        bool found = false;
        const ldns_rr_list *lists[2] = {an, ad};
        for (int k = 0; k < 2 && !found; k++)
            for (size_t j = 0; lists[k] && j < ldns_rr_list_rr_count(lists[k]); j++) {
                ldns_rr *srv = ldns_rr_list_rr(lists[k], j);
                if (ldns_rr_get_type(srv) == LDNS_RR_TYPE_SRV &&
                    ldns_dname_compare(ldns_rr_rdf(srv, 3), ldns_rr_owner(rr)) == 0)
                    found = true;
            }
        assert_true(found);
    }
    return addrs;
}

/* The A records of SRV targets are owned by a pointer to the target in the
 * SRV record: 16 bytes each, the size NSD's compression gets to and less. */
static void test_srv_glue_compressed(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++) {
        char id[8], addr[32];
        snprintf(id, sizeof(id), "m%d", i);
        snprintf(addr, sizeof(addr), "10.0.1.%d", i + 1);
        member("svc01", id, addr, 8000 + i);
    }
    qopt o = {.edns = true, .udp = 1232};
    ldns_pkt *r = askq("_svc01._tcp.zk.", LDNS_RR_TYPE_SRV, &o);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 10);
    assert_int_equal(glue_matches_targets(r), 10);
    /* header, question, 10 SRV (owner pointer, fixed part, 6 + "mN.svc01.zk."),
     * 10 A (pointer, fixed part, 4), OPT */
    size_t question = 16 + 4, srv = 2 + 10 + 6 + 13, a = 2 + 10 + 4;
    assert_int_equal(F->out_len, 12 + question + 10 * srv + 10 * a + 11);
    /* the first A record's owner points at the first SRV target */
    size_t first_a = 12 + question + 10 * srv;
    size_t target0 = 12 + question + 2 + 10 + 6;
    assert_int_equal(F->out[first_a], 0xc0 | (target0 >> 8));
    assert_int_equal(F->out[first_a + 1], target0 & 0xff);
    ldns_pkt_free(r);
    /* the same set for one member, at its own name */
    r = askq("m3.svc01.zk.", LDNS_RR_TYPE_SRV, &o);
    assert_int_equal(glue_matches_targets(r), 1);
    assert_int_equal(F->out_len, 12 + (13 + 4) + (2 + 10 + 6 + 13) + (2 + 10 + 4) + 11);
    ldns_pkt_free(r);
}

/* Cut to fit a small UDP size, whole additional RRsets go and no pointer is
 * left dangling; over TCP a list past 16 KiB (where pointers end) is whole. */
static void test_srv_glue_cut(void **state)
{
    (void)state;
    many_members("cut", 12); /* 12 SRV of 32 bytes, room for 6 of the A */
    ldns_pkt *r = ask("_cut._tcp.zk.", LDNS_RR_TYPE_SRV); /* 512 bytes, no EDNS */
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 12);
    size_t ar = ldns_pkt_arcount(r);
    assert_int_equal(ar, 6);
    assert_int_equal(glue_matches_targets(r), ar);
    assert_true(F->out_len <= 512 && F->out_len + 16 > 512); /* one more would not fit */
    ldns_pkt_free(r);
    many_members("big", 600); /* targets from 19 KiB on: no pointer reaches them */
    qopt t = {.tcp = true};
    r = askq("_big._tcp.zk.", LDNS_RR_TYPE_SRV, &t);
    assert_int_equal(ldns_pkt_ancount(r), 600);
    assert_true(F->out_len > 0x4000 + 100 * 16);
    assert_int_equal(glue_matches_targets(r), 600);
    ldns_pkt_free(r);
}

/* DNS-SD browsing: the SRV and TXT of each instance are owned by a pointer
 * to the instance name in its PTR record, its A by one to the SRV target. */
static void test_dnssd_compressed(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/services/sd/i%d", i);
        put(path, "{\"address\":\"10.6.0.1\",\"port\":80,\"payload\":{\"txt\":{\"k\":\"v\"}}}");
    }
    qopt o = {.edns = true, .udp = 4096};
    ldns_pkt *r = askq("_sd._tcp.zk.", LDNS_RR_TYPE_PTR, &o);
    assert_int_equal(ldns_pkt_ancount(r), 10);
    assert_int_equal(ldns_pkt_arcount(r), 30); /* ldns does not count the OPT */
    assert_int_equal(glue_matches_targets(r), 10);
    /* PTR: pointer owner, fixed part, "iN" + pointer to the question;
     * SRV: pointer, fixed, 6 + "iN.sd.zk."; TXT: pointer, fixed, "k=v";
     * A: pointer, fixed, 4 */
    size_t ptr = 2 + 10 + 3 + 2, srv = 2 + 10 + 6 + 10, txt = 2 + 10 + 4, a = 2 + 10 + 4;
    assert_int_equal(F->out_len, 12 + (13 + 4) + 10 * (ptr + srv + txt + a) + 11);
    const ldns_rr_list *ad = ldns_pkt_additional(r);
    for (size_t i = 0; i < ldns_rr_list_rr_count(ad); i++) {
        ldns_rr *rr = ldns_rr_list_rr(ad, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SRV && ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        char *own = rdf_str(ldns_rr_owner(rr));
        assert_true(strncmp(own, "i", 1) == 0 && strstr(own, "._sd._tcp.zk.") != NULL);
        free(own);
    }
    ldns_pkt_free(r);
    r = ask("_sd._tcp.zk.", LDNS_RR_TYPE_PTR); /* 512: cut at whole RRsets */
    assert_int_equal(ldns_pkt_ancount(r), 10);
    assert_true(ldns_pkt_arcount(r) < 30);
    glue_matches_targets(r);
    ldns_pkt_free(r);
}

static void test_truncation_glue(void **state)
{
    (void)state;
    many_members("g", 12);
    ldns_pkt *r = ask("g.zk.", LDNS_RR_TYPE_SRV);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 12);
    size_t ar = ldns_pkt_arcount(r);
    assert_true(ar >= 1 && ar < 12);
    assert_int_equal(count_type(ldns_pkt_additional(r), LDNS_RR_TYPE_A), ar);
    assert_true(F->out_len <= 512);
    ldns_pkt_free(r);
    qopt o = {.edns = true, .udp = 4096};
    r = askq("g.zk.", LDNS_RR_TYPE_SRV, &o);
    assert_int_equal(ldns_pkt_arcount(r), 12);
    ldns_pkt_free(r);
}

static void test_tcp_2000(void **state)
{
    (void)state;
    many_members("huge", 2000);
    qopt t = {.tcp = true};
    ldns_pkt *r = askq("huge.zk.", LDNS_RR_TYPE_A, &t);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 2000);
    assert_true(F->out_len > 32000);
    ldns_pkt_free(r);
    qopt o = {.edns = true, .udp = 1232};
    r = askq("huge.zk.", LDNS_RR_TYPE_A, &o);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    /* the rotation works on large sets too */
    r = askq("huge.zk.", LDNS_RR_TYPE_A, &t);
    assert_int_equal(ldns_pkt_ancount(r), 2000);
    ldns_pkt_free(r);
}

static void test_too_big_for_tcp(void **state)
{
    (void)state;
    /* 300 TXT strings of 250 bytes: an RRset over 64 KiB */
    size_t cap = 300 * 270 + 200;
    char *data = malloc(cap), pad[241];
    memset(pad, 'x', 240);
    pad[240] = '\0';
    size_t n = (size_t)snprintf(data, cap, "{\"address\":\"10.0.0.1\",\"port\":1,\"payload\":{\"txt\":{");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(data + n, cap - n, "%s\"k%03d\":\"%s\"", i ? "," : "", i, pad);
    snprintf(data + n, cap - n, "}}}");
    put("/services/fat/m", data);
    free(data);
    qopt t = {.tcp = true};
    ldns_pkt *r = askq("m.fat.zk.", LDNS_RR_TYPE_TXT, &t);
    expect_rcode(r, LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    expect_answer("m.fat.zk.", LDNS_RR_TYPE_A, "10.0.0.1");
}

static void test_small_out_cap(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    size_t len, out_len = 99;
    uint8_t *q = make_query("a.web.zk.", LDNS_RR_TYPE_A, NULL, &len);
    uint8_t out[64];
    assert_int_equal(dns_query_process(F->zone, q, len, DNS_TRANSPORT_UDP, out, 20, &out_len),
                     DNS_VERDICT_DROP);
    assert_int_equal(out_len, 0);
    /* the question fits, the answer does not: TC */
    assert_int_equal(dns_query_process(F->zone, q, len, DNS_TRANSPORT_UDP, out, 30, &out_len),
                     DNS_VERDICT_ANSWER);
    assert_int_equal(out_len, 26);
    assert_true(out[2] & 0x02);
    assert_int_equal(dns_query_process(NULL, q, len, 0, out, sizeof(out), &out_len), -EINVAL);
    free(q);
}

static void test_invalidate_all(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    expect_answer("a.web.zk.", LDNS_RR_TYPE_A, "10.0.0.1");
    dns_zone_invalidate_all(F->zone);
    dns_zone_invalidate(F->zone, "/unrelated");
    dns_zone_invalidate(F->zone, "/");
    dns_zone_invalidate(F->zone, "/servicesX/a");
    dns_zone_invalidate_all(NULL);
    expect_answer("a.web.zk.", LDNS_RR_TYPE_A, "10.0.0.1");
    dns_stats st;
    dns_zone_stats(F->zone, &st);
    assert_int_equal(st.cache_misses, 2);
}

static void test_edns(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    qopt o = {.edns = true, .udp = 1400, .do_bit = true};
    ldns_pkt *r = askq("a.web.zk.", LDNS_RR_TYPE_A, &o);
    assert_true(ldns_pkt_edns(r));
    assert_true(ldns_pkt_edns_do(r));
    assert_int_equal(ldns_pkt_edns_version(r), 0);
    ldns_pkt_free(r);
    r = ask("a.web.zk.", LDNS_RR_TYPE_A);
    assert_false(ldns_pkt_edns(r));
    ldns_pkt_free(r);
    /* version 1: BADVERS (16) = extended rcode 1, header rcode 0 */
    qopt v = {.edns = true, .udp = 1232, .version = 1};
    r = askq("a.web.zk.", LDNS_RR_TYPE_A, &v);
    assert_non_null(r);
    assert_true(ldns_pkt_edns(r));
    assert_int_equal(ldns_pkt_edns_extended_rcode(r), 1);
    assert_int_equal(ldns_pkt_get_rcode(r), 0);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_int_equal(ldns_pkt_edns_version(r), 0);
    ldns_pkt_free(r);
}

/* ---- rcodes ------------------------------------------------------------------------------- */

static void set_opcode(uint8_t *q, unsigned opcode)
{
    q[2] = (uint8_t)((q[2] & 0x87) | (opcode << 3));
}

static void test_header_flags(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    ldns_pkt *r = ask("a.web.zk.", LDNS_RR_TYPE_A);
    assert_true(ldns_pkt_rd(r));
    assert_true(ldns_pkt_ra(r));
    assert_true(ldns_pkt_aa(r));
    ldns_pkt_free(r);
    qopt o = {.no_rd = true};
    r = askq("a.web.zk.", LDNS_RR_TYPE_A, &o);
    assert_false(ldns_pkt_rd(r));
    ldns_pkt_free(r);
}

static void test_notimp_refused_forward(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = make_query("a.web.zk.", LDNS_RR_TYPE_A, NULL, &len);
    set_opcode(q, 2); /* STATUS */
    ldns_pkt *r = feed(q, len, false);
    expect_rcode(r, LDNS_RCODE_NOTIMPL);
    ldns_pkt_free(r);
    set_opcode(q, 5); /* UPDATE */
    r = feed(q, len, false);
    expect_rcode(r, LDNS_RCODE_NOTIMPL);
    ldns_pkt_free(r);
    set_opcode(q, 0);
    q[2] |= 0x80; /* QR: a response, dropped */
    assert_null(feed(q, len, false));
    assert_int_equal(F->verdict, DNS_VERDICT_DROP);
    assert_null(feed(q, 11, false));
    assert_int_equal(F->verdict, DNS_VERDICT_DROP);
    free(q);
    qopt ch = {.klass = LDNS_RR_CLASS_CH};
    r = askq("version.bind.", LDNS_RR_TYPE_TXT, &ch);
    expect_rcode(r, LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
    assert_null(ask("example.com.", LDNS_RR_TYPE_A));
    assert_int_equal(F->verdict, DNS_VERDICT_FORWARD);
    assert_null(ask("zk.example.", LDNS_RR_TYPE_A));
    assert_int_equal(F->verdict, DNS_VERDICT_FORWARD);
    r = ask("zk.", LDNS_RR_TYPE_AXFR);
    expect_rcode(r, LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
    r = ask("zk.", LDNS_RR_TYPE_MAILB);
    expect_rcode(r, LDNS_RCODE_NOTIMPL);
    ldns_pkt_free(r);
}

static void tweak_noforward(dns_config *c)
{
    c->forward = false;
    c->domain = "Corp.Example";
    c->root = "/";
}

static void test_no_forward_and_root_slash(void **state)
{
    fx_free(*state);
    *state = F = fx_new(tweak_noforward);
    ldns_pkt *r = ask("example.com.", LDNS_RR_TYPE_A);
    expect_rcode(r, LDNS_RCODE_REFUSED);
    assert_false(ldns_pkt_ra(r));
    assert_false(ldns_pkt_aa(r));
    ldns_pkt_free(r);
    put("/web/a", "10.0.0.1");
    expect_answer("a.web.corp.example.", LDNS_RR_TYPE_A, "10.0.0.1");
    expect_answer("web.corp.example.", LDNS_RR_TYPE_A, "10.0.0.1");
    r = ask("a.web.corp.example.", LDNS_RR_TYPE_A);
    assert_false(ldns_pkt_ra(r));
    ldns_pkt_free(r);
}

static void expect_formerr_bytes(const uint8_t *q, size_t len)
{
    ldns_pkt *r = feed(q, len, false);
    expect_rcode(r, LDNS_RCODE_FORMERR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
}

static void test_formerr(void **state)
{
    (void)state;
    /* header only, qdcount 1 */
    uint8_t h[12] = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    expect_formerr_bytes(h, sizeof(h));
    /* compression loop in the question */
    uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    expect_formerr_bytes(loop, sizeof(loop));
    uint8_t loop2[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1};
    expect_formerr_bytes(loop2, sizeof(loop2));
    /* label running past the end */
    uint8_t over[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 40, 'a', 'b'};
    expect_formerr_bytes(over, sizeof(over));
    /* qdcount 0 and 2 */
    size_t len;
    uint8_t *q = make_query("a.web.zk.", LDNS_RR_TYPE_A, NULL, &len);
    q[5] = 0;
    expect_formerr_bytes(q, len);
    q[5] = 2;
    expect_formerr_bytes(q, len);
    q[5] = 1;
    q[7] = 1; /* an answer record in a query */
    expect_formerr_bytes(q, len);
    q[7] = 0;
    q[11] = 1; /* an additional record that is not there */
    expect_formerr_bytes(q, len);
    free(q);
    /* every truncation of a valid EDNS query */
    qopt o = {.edns = true, .udp = 1232};
    q = make_query("a.web.zk.", LDNS_RR_TYPE_A, &o, &len);
    for (size_t n = 0; n < len; n++) {
        ldns_pkt *r = feed(q, n, false);
        if (n < 12) {
            assert_null(r);
            assert_int_equal(F->verdict, DNS_VERDICT_DROP);
        } else {
            expect_rcode(r, LDNS_RCODE_FORMERR);
            ldns_pkt_free(r);
        }
    }
    free(q);
}

static void test_formerr_opt(void **state)
{
    (void)state;
    size_t len;
    qopt o = {.edns = true, .udp = 1232};
    uint8_t *q = make_query("a.web.zk.", LDNS_RR_TYPE_A, &o, &len);
    uint8_t buf[512];
    /* two OPT records */
    memcpy(buf, q, len);
    memcpy(buf + len, q + len - 11, 11);
    buf[11] = 2;
    expect_formerr_bytes(buf, len + 11);
    /* an option whose length runs past the rdata */
    memcpy(buf, q, len);
    uint8_t opt[] = {0, 10, 0, 9, 1, 2, 3, 4};
    memcpy(buf + len, opt, sizeof(opt));
    buf[len - 1] = sizeof(opt);
    expect_formerr_bytes(buf, len + sizeof(opt));
    /* a well-formed option (a cookie) is fine */
    uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    memcpy(buf + len, cookie, sizeof(cookie));
    buf[len - 1] = sizeof(cookie);
    ldns_pkt *r = feed(buf, len + sizeof(cookie), false);
    expect_rcode(r, LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    /* OPT with a non-root owner */
    memcpy(buf, q, len);
    memmove(buf + len - 10, buf + len - 11, 11);
    buf[len - 11] = 0xc0;
    buf[len - 10] = 12;
    expect_formerr_bytes(buf, len + 1);
    free(q);
}

static void test_garbage(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    uint64_t x = 88172645463325252ull;
    uint8_t buf[600];
    for (int i = 0; i < 20000; i++) {
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        len = x % sizeof(buf);
        for (size_t j = 0; j < len; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[j] = (uint8_t)x;
        }
        if (i % 2 == 0 && len >= 12) /* make it look more like a query */
            buf[2] &= 0x07, buf[4] = 0, buf[5] = 1, buf[6] = buf[7] = buf[8] = buf[9] = 0;
        size_t out_len = 0;
        int v = dns_query_process(F->zone, buf, len, DNS_TRANSPORT_UDP, F->out, 512, &out_len);
        assert_true(v == DNS_VERDICT_ANSWER || v == DNS_VERDICT_DROP ||
                    v == DNS_VERDICT_FORWARD);
        if (v == DNS_VERDICT_ANSWER) {
            assert_true(out_len >= 12 && out_len <= 512);
            assert_memory_equal(F->out, buf, 2);
            ldns_pkt *r = NULL;
            assert_int_equal(ldns_wire2pkt(&r, F->out, out_len), LDNS_STATUS_OK);
            ldns_pkt_free(r);
        }
    }
}

/* ---- servfail, stats, config --------------------------------------------------------------- */

static void test_servfail(void **state)
{
    (void)state;
    size_t len, out_len;
    qopt o = {.edns = true, .udp = 1232};
    uint8_t *q = make_query("example.com.", LDNS_RR_TYPE_A, &o, &len);
    uint8_t out[512];
    assert_int_equal(dns_servfail(q, len, out, sizeof(out), &out_len), 0);
    ldns_pkt *r = NULL;
    assert_int_equal(ldns_wire2pkt(&r, out, out_len), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
    assert_int_equal(ldns_pkt_id(r), F->next_id);
    assert_int_equal(ldns_pkt_qdcount(r), 1);
    assert_true(ldns_pkt_edns(r));
    ldns_pkt_free(r);
    assert_int_equal(dns_servfail(q, 5, out, sizeof(out), &out_len), -EINVAL);
    free(q);
}

/* A forwarded answer: the client's ID restored; too big for the client's UDP
 * size: header and question with TC and the upstream's rcode; none: SERVFAIL. */
static void test_relay(void **state)
{
    (void)state;
    size_t len, out_len, rlen;
    uint8_t *q = make_query("example.com.", LDNS_RR_TYPE_A, &(qopt){0}, &len);
    uint8_t resp[1400], out[2048];
    memset(resp, 0, sizeof(resp));
    memcpy(resp, q, len); /* a stand-in answer: the query with QR set, another ID */
    resp[0] ^= 0xff;
    resp[2] |= 0x80;
    rlen = len;
    assert_int_equal(dns_relay(F->zone, q, len, DNS_TRANSPORT_UDP, resp, rlen, out,
                               sizeof(out), &out_len), 0);
    assert_int_equal(out_len, rlen);
    assert_memory_equal(out, q, 2);
    assert_memory_equal(out + 2, resp + 2, rlen - 2);
    /* 600 bytes to a client without EDNS (512): TC, nothing cut */
    resp[3] = (uint8_t)((resp[3] & 0xf0) | 3); /* NXDOMAIN */
    assert_int_equal(dns_relay(F->zone, q, len, DNS_TRANSPORT_UDP, resp, 600, out,
                               sizeof(out), &out_len), 0);
    ldns_pkt *r = NULL;
    assert_int_equal(ldns_wire2pkt(&r, out, out_len), LDNS_STATUS_OK);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    assert_memory_equal(out, q, 2);
    assert_int_equal(ldns_pkt_qdcount(r), 1);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    /* the same over TCP goes whole */
    assert_int_equal(dns_relay(F->zone, q, len, DNS_TRANSPORT_TCP, resp, 600, out,
                               sizeof(out), &out_len), 0);
    assert_int_equal(out_len, 600);
    /* no answer, or one that is no DNS message: SERVFAIL */
    assert_int_equal(dns_relay(F->zone, q, len, DNS_TRANSPORT_UDP, NULL, 0, out,
                               sizeof(out), &out_len), 0);
    assert_int_equal(out[3] & 0xf, LDNS_RCODE_SERVFAIL);
    assert_int_equal(dns_relay(F->zone, q, len, DNS_TRANSPORT_UDP, resp, 5, out,
                               sizeof(out), &out_len), 0);
    assert_int_equal(out[3] & 0xf, LDNS_RCODE_SERVFAIL);
    assert_int_equal(dns_relay(F->zone, q, 5, DNS_TRANSPORT_UDP, resp, rlen, out,
                               sizeof(out), &out_len), -EINVAL);
    free(q);
}

static void test_stats(void **state)
{
    (void)state;
    put("/services/web/a", "10.0.0.1");
    dns_stats st;
    ldns_pkt_free(ask("a.web.zk.", LDNS_RR_TYPE_A));
    ldns_pkt_free(ask("a.web.zk.", LDNS_RR_TYPE_A));
    ldns_pkt_free(ask("x.web.zk.", LDNS_RR_TYPE_A));
    ldns_pkt_free(ask("a.web.zk.", LDNS_RR_TYPE_TXT));
    assert_null(ask("example.com.", LDNS_RR_TYPE_A));
    uint8_t h[12] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    ldns_pkt_free(feed(h, sizeof(h), false));
    dns_zone_stats(F->zone, &st);
    assert_int_equal(st.queries, 6);
    assert_int_equal(st.answered, 5);
    assert_int_equal(st.cache_hits, 1);
    assert_int_equal(st.cache_misses, 3);
    assert_int_equal(st.nxdomain, 1);
    assert_int_equal(st.nodata, 1);
    assert_int_equal(st.forwarded, 1);
    assert_int_equal(st.formerr, 1);
}

static void test_bad_config(void **state)
{
    (void)state;
    dns_config c;
    dns_config_default(&c);
    c.root = "services";
    assert_null(dns_zone_create(&c, F->reg));
    c.root = "/services/";
    assert_null(dns_zone_create(&c, F->reg));
    c.root = "/services";
    c.domain = "";
    assert_null(dns_zone_create(&c, F->reg));
    c.domain = "a..b";
    assert_null(dns_zone_create(&c, F->reg));
    c.domain = "zk";
    dns_zone *z = dns_zone_create(&c, F->reg);
    assert_non_null(z);
    dns_zone_free(z);
    dns_zone_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_name_mapping),        T(test_case_insensitive),
        T(test_bad_labels),          T(test_formats_json),
        T(test_formats_text),        T(test_hostname_member),
        T(test_group_rotation),      T(test_group_weights),
        T(test_srv),                 T(test_leader),
        T(test_dnssd),               T(test_apex),
        T(test_serial_moves),        T(test_any),
        T(test_freshness),           T(test_freshness_session),
        T(test_invalidate_scope),    T(test_serial_patched),
        T(test_icase_group_exact_wins), T(test_group_incremental),
        T(test_many_groups),
        T(test_truncation),          T(test_truncation_max_udp),
        T(test_truncation_glue),     T(test_tcp_2000),
        T(test_cache_many_names),
        T(test_srv_glue_compressed), T(test_srv_glue_cut),
        T(test_dnssd_compressed),
        T(test_too_big_for_tcp),     T(test_small_out_cap),
        T(test_invalidate_all),
        T(test_edns),                T(test_header_flags),
        T(test_notimp_refused_forward), T(test_no_forward_and_root_slash),
        T(test_formerr),             T(test_formerr_opt),
        T(test_garbage),             T(test_servfail), T(test_relay),
        T(test_stats),               T(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
