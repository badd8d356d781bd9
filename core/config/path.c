/* config/path.c - dotted paths: lookup and overrides (env, flags). */
#include "config/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One path segment: a key (unquoted or "quoted"), or an [index]. */
typedef struct seg_s {
    int is_index;
    size_t index;
    char *key; /* owned */
} seg_t;

/* Reads the next segment at *pp. 1 = got one, 0 = end, -EINVAL = malformed,
 * -ENOMEM. */
static int next_seg(const char **pp, int first, seg_t *s)
{
    const char *p = *pp;
    memset(s, 0, sizeof(*s));
    if (*p == '\0')
        return 0;
    if (*p == '[') {
        char *end;
        if (p[1] < '0' || p[1] > '9')
            return -EINVAL;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (*end != ']')
            return -EINVAL;
        s->is_index = 1;
        s->index = (size_t)v;
        *pp = end + 1;
        return 1;
    }
    if (!first) {
        if (*p != '.')
            return -EINVAL;
        p++;
    }
    gw_buf_t b = GW_BUF_INIT;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (gw_buf_putc(&b, *p) != 0)
                goto nomem;
        }
        if (*p != '"') {
            gw_buf_free(&b);
            return -EINVAL;
        }
        p++;
    } else {
        const char *start = p;
        while (*p && *p != '.' && *p != '[')
            p++;
        if (p == start)
            return -EINVAL;
        if (gw_buf_append(&b, start, (size_t)(p - start)) != 0)
            goto nomem;
    }
    if (*p != '\0' && *p != '.' && *p != '[') {
        gw_buf_free(&b);
        return -EINVAL;
    }
    s->key = gw_buf_steal(&b);
    if (s->key == NULL)
        return -ENOMEM;
    *pp = p;
    return 1;
nomem:
    gw_buf_free(&b);
    return -ENOMEM;
}

static gw_cfg_node_t *step(const gw_cfg_node_t *n, const seg_t *s)
{
    if (s->is_index)
        return n && n->type == OC_CFG_LIST && s->index < n->len ? n->items[s->index] : NULL;
    return gw_cfg_lookup(n, s->key);
}

gw_cfg_node_t *gw_cfg_find(const gw_cfg_node_t *root, const char *path)
{
    if (root == NULL || path == NULL)
        return NULL;
    const gw_cfg_node_t *n = root;
    const char *p = path;
    for (int first = 1;; first = 0) {
        seg_t s;
        int rc = next_seg(&p, first, &s);
        if (rc == 0)
            return (gw_cfg_node_t *)n;
        if (rc < 0)
            return NULL;
        n = step(n, &s);
        free(s.key);
        if (n == NULL)
            return NULL;
    }
}

static gw_cfg_node_t *new_scalar(const char *value, const char *origin)
{
    gw_cfg_node_t *v = gw_cfg_node_new(OC_CFG_SCALAR);
    if (v == NULL)
        return NULL;
    v->scalar = strdup(value ? value : "");
    v->origin = origin ? strdup(origin) : NULL;
    if (v->scalar == NULL || (origin && v->origin == NULL)) {
        gw_cfg_free(v);
        return NULL;
    }
    return v;
}

/* Finds or creates the map reached by `s` from `n`, or returns NULL with *rc
 * set. Creation only happens for map keys that are absent. */
static gw_cfg_node_t *descend(gw_cfg_node_t *n, const seg_t *s, int *rc)
{
    gw_cfg_node_t *c = step(n, s);
    if (c && (c->type == OC_CFG_MAP || c->type == OC_CFG_LIST))
        return c;
    if (s->is_index || (c && c->type != OC_CFG_NULL)) {
        *rc = -EINVAL; /* a missing list item, or a scalar in the way */
        return NULL;
    }
    gw_cfg_node_t *m = gw_cfg_node_new(OC_CFG_MAP);
    if (m == NULL) {
        *rc = -ENOMEM;
        return NULL;
    }
    m->file = n->file;
    if (c) { /* "server:" with nothing under it: an empty section */
        for (size_t i = 0; i < n->len; i++)
            if (n->items[i] == c) {
                m->line = c->line;
                m->col = c->col;
                m->key_line = c->key_line;
                m->key_col = c->key_col;
                m->used = c->used;
                *rc = gw_cfg_replace_at(n, i, m);
                break;
            }
    } else {
        *rc = gw_cfg_map_add(n, s->key, m);
    }
    if (*rc != 0) {
        gw_cfg_free(m);
        return NULL;
    }
    return m;
}

int gw_cfg_set_scalar(gw_cfg_node_t *root, const char *path, const char *value,
                      const char *origin)
{
    if (root == NULL || path == NULL || root->type != OC_CFG_MAP)
        return -EINVAL;
    /* Validate the whole path first so that a bad one changes nothing. */
    size_t nseg = 0;
    for (const char *p = path;; nseg++) {
        seg_t s;
        int rc = next_seg(&p, nseg == 0, &s);
        free(s.key);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
    }
    if (nseg == 0)
        return -EINVAL;

    gw_cfg_node_t *n = root;
    const char *p = path;
    int rc = 0;
    for (size_t i = 0; i < nseg; i++) {
        seg_t s;
        rc = next_seg(&p, i == 0, &s);
        if (rc < 0)
            return rc;
        rc = 0;
        if (i + 1 < nseg) {
            n = descend(n, &s, &rc);
            free(s.key);
            if (n == NULL)
                return rc;
            continue;
        }
        gw_cfg_node_t *v = new_scalar(value, origin);
        if (v == NULL) {
            free(s.key);
            return -ENOMEM;
        }
        v->file = n->file;
        gw_cfg_node_t *old = step(n, &s);
        if (old) {
            size_t at = 0;
            while (n->items[at] != old)
                at++;
            v->used = old->used;
            rc = gw_cfg_replace_at(n, at, v);
        } else if (s.is_index) {
            rc = -EINVAL;
        } else {
            rc = n->type == OC_CFG_MAP ? gw_cfg_map_add(n, s.key, v) : -EINVAL;
        }
        if (rc != 0)
            gw_cfg_free(v);
        free(s.key);
    }
    return rc;
}
