/*
 * dns_name.c - wire-format name helpers for the miss path.
 *
 * Names here are uncompressed wire names (length-prefixed labels ending in
 * the root byte) that the parser has already bounded to 255 bytes and 127
 * labels, lowercased unless said otherwise. The zone's own name comes from
 * configuration text, which ldns parses (escapes such as "\." included), so
 * the one place where text becomes a name is a well-tested one.
 */
#include <errno.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns_int.h"

void dns__labels(const uint8_t *name, dns_labels *out)
{
    size_t p = 0;
    out->n = 0;
    while (name[p] != 0 && out->n < DNS_MAXLABELS) {
        out->lab[out->n++] = name + p;
        p += 1u + name[p];
    }
}

bool dns__label_is(const uint8_t *l, const char *s)
{
    size_t n = strlen(s);
    if (l[0] != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (dns__lower(l[1 + i]) != dns__lower((uint8_t)s[i]))
            return false;
    return true;
}

int dns__name_from_text(const char *text, uint8_t *out)
{
    if (text == NULL || text[0] == '\0')
        return -EINVAL;
    ldns_rdf *rdf = NULL;
    if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK || rdf == NULL)
        return -EINVAL;
    size_t n = ldns_rdf_size(rdf);
    int rc = -EINVAL;
    if (n >= 1 && n <= DNS_MAXNAME) {
        const uint8_t *d = ldns_rdf_data(rdf);
        for (size_t i = 0; i < n; i++)
            out[i] = dns__lower(d[i]);
        rc = (int)n;
    }
    ldns_rdf_deep_free(rdf);
    return rc;
}

int dns__name_push(uint8_t *out, size_t *pos, const void *label, size_t len)
{
    if (len == 0 || len > 63 || *pos + 1 + len > DNS_MAXNAME)
        return -ENAMETOOLONG;
    out[(*pos)++] = (uint8_t)len;
    memcpy(out + *pos, label, len);
    *pos += len;
    return 0;
}

bool dns__name_in_zone(const uint8_t *name, size_t nlen, const uint8_t *zone, size_t zlen)
{
    if (nlen < zlen)
        return false;
    /* The zone must start at a label boundary of name. */
    size_t p = 0;
    while (nlen - p > zlen)
        p += 1u + name[p];
    return nlen - p == zlen && memcmp(name + p, zone, zlen) == 0;
}
