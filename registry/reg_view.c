/*
 * reg_view.c - the read-only node view for DNS and the four-letter words.
 *
 * These calls hand out pointers into the committed tree; they stay valid
 * until the next reg_commit (or reg_free). Nothing here checks ACLs or
 * sessions: the view is the server's own. The one clever piece is the
 * case-insensitive child lookup that DNS needs on every query (resolvers
 * randomise the case of names, RFC draft "0x20"): rather than scanning all
 * siblings it walks the case variants of the name as prefixes through the
 * AVL, upper case first, so the first full match is the smallest in byte
 * order and the work is bounded by the prefixes that really exist.
 */
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

const reg_node *reg_lookup(const reg_t *reg, const char *path)
{
    return reg__lookup(reg, path);
}

static bool has_prefix(const reg_node *n, const char *p, size_t len)
{
    return n && n->name_len >= len && memcmp(n->name, p, len) == 0;
}

static char up(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static char down(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* buf[0..i) is a prefix some child has; extend it with the variants of
 * name[i], upper case first. */
static reg_node *icase_walk(reg_node *root, char *buf, const char *name,
                            size_t len, size_t i)
{
    while (i < len) {
        char u = up(name[i]), l = down(name[i]);
        buf[i] = u;
        if (u != l && has_prefix(reg__avl_lower_bound(root, buf, i + 1), buf, i + 1)) {
            reg_node *r = icase_walk(root, buf, name, len, i + 1);
            if (r)
                return r;
        }
        buf[i] = l;
        if (!has_prefix(reg__avl_lower_bound(root, buf, i + 1), buf, i + 1))
            return NULL;
        i++;
    }
    return reg__avl_find(root, buf, len);
}

const reg_node *reg_node_child_icase(const reg_node *node, const char *name,
                                     size_t len)
{
    if (!node || !node->dir || !name)
        return NULL;
    reg_node *exact = reg__avl_find(node->dir->root, name, len);
    if (exact)
        return exact;
    char small[256];
    char *buf = len <= sizeof(small) ? small : malloc(len);
    if (!buf)
        return NULL;
    reg_node *r = icase_walk(node->dir->root, buf, name, len, 0);
    if (buf != small)
        free(buf);
    return r;
}

const reg_node *reg_node_first_child(const reg_node *node)
{
    return node && node->dir ? reg__avl_first(node->dir->root) : NULL;
}

const reg_node *reg_node_next_sibling(const reg_node *node)
{
    if (!node || !node->parent)
        return NULL;
    return reg__avl_next(node->parent->dir->root, node);
}

const reg_node *reg_node_parent(const reg_node *node)
{
    return node ? node->parent : NULL;
}

const char *reg_node_name(const reg_node *node, size_t *len)
{
    if (len)
        *len = node->name_len;
    return node->name;
}

const void *reg_node_data(const reg_node *node, size_t *len)
{
    if (len)
        *len = node->data_len;
    return node->data ? (const void *)node->data : (const void *)"";
}

void reg_node_stat(const reg_node *node, reg_stat *st)
{
    reg__stat_fill(node, st);
}

int64_t reg_subtree_zxid(const reg_t *reg, const char *path)
{
    const reg_node *n = reg__lookup(reg, path);
    return n ? reg__subtree_zxid(n) : 0;
}

int64_t reg_last_zxid(const reg_t *reg)
{
    return reg->last_zxid;
}

size_t reg_node_count(const reg_t *reg)
{
    return reg->nnodes;
}

size_t reg_memory_bytes(const reg_t *reg)
{
    return reg->mem;
}
