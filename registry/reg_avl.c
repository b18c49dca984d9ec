/*
 * reg_avl.c - the children of a znode as an intrusive AVL tree.
 *
 * Siblings are ordered by their name bytes (memcmp, shorter first on a tie),
 * which is the order reg_children and the node view promise. The links live
 * in the znode itself (left, right, height), so a child costs two pointers
 * and a byte of index; there is no parent link inside the tree, so the
 * successor of a node is found by a search from the root (O(log n)) and
 * full iterations use an explicit stack. Insert and remove are recursive;
 * the depth is bounded by the AVL height (< 64 for any count that fits in
 * memory).
 */
#include <string.h>

#include "reg_internal.h"

int reg__name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int node_cmp(const char *name, size_t len, const reg_node *n)
{
    return reg__name_cmp(name, len, n->name, n->name_len);
}

static int height(const reg_node *n)
{
    return n ? n->height : 0;
}

static void fix_height(reg_node *n)
{
    int hl = height(n->left), hr = height(n->right);
    n->height = (int8_t)((hl > hr ? hl : hr) + 1);
}

static reg_node *rotate_right(reg_node *n)
{
    reg_node *l = n->left;
    n->left = l->right;
    l->right = n;
    fix_height(n);
    fix_height(l);
    return l;
}

static reg_node *rotate_left(reg_node *n)
{
    reg_node *r = n->right;
    n->right = r->left;
    r->left = n;
    fix_height(n);
    fix_height(r);
    return r;
}

static reg_node *balance(reg_node *n)
{
    fix_height(n);
    int bf = height(n->left) - height(n->right);
    if (bf > 1) {
        /* a taller right grandchild exists; saying so lets -O2 see it */
        reg_node *lr = n->left->right;
        if (lr != NULL && height(n->left->left) < height(lr))
            n->left = rotate_left(n->left);
        return rotate_right(n);
    }
    if (bf < -1) {
        reg_node *rl = n->right->left;
        if (rl != NULL && height(n->right->right) < height(rl))
            n->right = rotate_right(n->right);
        return rotate_left(n);
    }
    return n;
}

reg_node *reg__avl_find(reg_node *root, const char *name, size_t len)
{
    while (root) {
        int c = node_cmp(name, len, root);
        if (c == 0)
            return root;
        root = c < 0 ? root->left : root->right;
    }
    return NULL;
}

reg_node *reg__avl_lower_bound(reg_node *root, const char *key, size_t len)
{
    reg_node *best = NULL;
    while (root) {
        int c = node_cmp(key, len, root);
        if (c == 0)
            return root;
        if (c < 0) {
            best = root;
            root = root->left;
        } else {
            root = root->right;
        }
    }
    return best;
}

static reg_node *insert_rec(reg_node *root, reg_node *n)
{
    if (!root)
        return n;
    if (node_cmp(n->name, n->name_len, root) < 0)
        root->left = insert_rec(root->left, n);
    else
        root->right = insert_rec(root->right, n);
    return balance(root);
}

void reg__avl_insert(reg_node **root, reg_node *n)
{
    n->left = n->right = NULL;
    n->height = 1;
    *root = insert_rec(*root, n);
}

/* Detaches the leftmost node of t into *min; returns the new subtree. */
static reg_node *take_min(reg_node *t, reg_node **min)
{
    if (!t->left) {
        *min = t;
        return t->right;
    }
    t->left = take_min(t->left, min);
    return balance(t);
}

static reg_node *remove_rec(reg_node *root, const reg_node *n)
{
    if (!root)
        return NULL;
    if (root != n) {
        if (node_cmp(n->name, n->name_len, root) < 0)
            root->left = remove_rec(root->left, n);
        else
            root->right = remove_rec(root->right, n);
        return balance(root);
    }
    if (!root->right)
        return root->left;
    reg_node *min;
    reg_node *rest = take_min(root->right, &min);
    min->left = root->left;
    min->right = rest;
    return balance(min);
}

void reg__avl_remove(reg_node **root, reg_node *n)
{
    *root = remove_rec(*root, n);
    n->left = n->right = NULL;
}

reg_node *reg__avl_first(reg_node *root)
{
    while (root && root->left)
        root = root->left;
    return root;
}

reg_node *reg__avl_next(reg_node *root, const reg_node *n)
{
    reg_node *best = NULL;
    if (n->right)
        return reg__avl_first(n->right);
    while (root && root != n) {
        if (node_cmp(n->name, n->name_len, root) < 0) {
            best = root;
            root = root->left;
        } else {
            root = root->right;
        }
    }
    return best;
}

static void push_left(reg__avl_iter *it, reg_node *n)
{
    while (n && it->depth < 64) {
        it->stk[it->depth++] = n;
        n = n->left;
    }
}

void reg__avl_iter_init(reg__avl_iter *it, reg_node *root)
{
    it->depth = 0;
    push_left(it, root);
}

reg_node *reg__avl_iter_next(reg__avl_iter *it)
{
    if (it->depth == 0)
        return NULL;
    reg_node *n = it->stk[--it->depth];
    push_left(it, n->right);
    return n;
}
