/* config/node.c - building, reading and freeing the configuration tree. */
#include "config/node.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- paths -------------------------------------------------------------- */

/* Keys that would confuse a dotted path are written quoted. */
static int key_needs_quotes(const char *key)
{
    if (*key == '\0')
        return 1;
    for (const char *p = key; *p; p++)
        if (*p == '.' || *p == '[' || *p == ']' || *p == '"' || *p == '\\' ||
            isspace((unsigned char)*p))
            return 1;
    return 0;
}

char *gw_cfg_path_join(const char *base, const char *key)
{
    gw_buf_t b = GW_BUF_INIT;
    int rc = 0;
    if (base && *base)
        rc |= gw_buf_printf(&b, "%s.", base);
    if (!key_needs_quotes(key)) {
        rc |= gw_buf_puts(&b, key);
    } else {
        rc |= gw_buf_putc(&b, '"');
        for (const char *p = key; *p; p++) {
            if (*p == '"' || *p == '\\')
                rc |= gw_buf_putc(&b, '\\');
            rc |= gw_buf_putc(&b, *p);
        }
        rc |= gw_buf_putc(&b, '"');
    }
    if (rc != 0) {
        gw_buf_free(&b);
        return NULL;
    }
    return gw_buf_steal(&b);
}

static char *join_index(const char *base, size_t i)
{
    gw_buf_t b = GW_BUF_INIT;
    if (gw_buf_printf(&b, "%s[%zu]", base ? base : "", i) != 0) {
        gw_buf_free(&b);
        return NULL;
    }
    return gw_buf_steal(&b);
}

static char *path_for(const gw_cfg_node_t *parent, size_t i)
{
    if (parent == NULL)
        return strdup("");
    if (parent->type == OC_CFG_MAP)
        return gw_cfg_path_join(parent->path, parent->keys[i]);
    return join_index(parent->path, i);
}

int gw_cfg_repath(gw_cfg_node_t *node)
{
    for (size_t i = 0; i < node->len; i++) {
        gw_cfg_node_t *c = node->items[i];
        char *p = path_for(node, i);
        if (p == NULL)
            return -ENOMEM;
        free(c->path);
        c->path = p;
        if (gw_cfg_repath(c) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* ---- secrets ------------------------------------------------------------ */

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int gw_cfg_key_is_secret(const char *key)
{
    /* Every explicit name in the brief (apiKey, botToken, signingSecret, ...)
     * ends in one of these suffixes; over-redacting is the safe mistake. */
    static const char *const suffixes[] = {"key", "token", "secret", "password", "passwd",
                                           "passphrase", "authorization", "credentials"};
    if (key == NULL)
        return 0;
    size_t n = strlen(key);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        if (ends_with_ci(key, n, suffixes[i]))
            return 1;
    return 0;
}

int gw_cfg_is_secret(const gw_cfg_node_t *node)
{
    for (; node; node = node->parent)
        if (node->secret)
            return 1;
    return 0;
}

/* ---- building ----------------------------------------------------------- */

gw_cfg_node_t *gw_cfg_node_new(int type)
{
    gw_cfg_node_t *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->type = type;
    n->path = strdup("");
    if (n->path == NULL) {
        free(n);
        return NULL;
    }
    return n;
}

gw_cfg_node_t *gw_cfg_new_root(const char *file)
{
    gw_cfg_node_t *n = gw_cfg_node_new(OC_CFG_MAP);
    if (n == NULL)
        return NULL;
    if (file) {
        n->file_store = strdup(file);
        if (n->file_store == NULL) {
            gw_cfg_free(n);
            return NULL;
        }
        n->file = n->file_store;
    }
    return n;
}

static int grow(gw_cfg_node_t *n, int with_keys)
{
    if (n->len < n->cap)
        return 0;
    size_t cap = n->cap ? n->cap * 2 : 4;
    gw_cfg_node_t **items = realloc(n->items, cap * sizeof(*items));
    if (items == NULL)
        return -ENOMEM;
    n->items = items;
    if (with_keys) {
        char **keys = realloc(n->keys, cap * sizeof(*keys));
        if (keys == NULL)
            return -ENOMEM;
        n->keys = keys;
    }
    n->cap = cap;
    return 0;
}

static int adopt(gw_cfg_node_t *parent, size_t i, gw_cfg_node_t *val)
{
    char *p = path_for(parent, i);
    if (p == NULL)
        return -ENOMEM;
    free(val->path);
    val->path = p;
    val->parent = parent;
    if (val->len && gw_cfg_repath(val) != 0)
        return -ENOMEM;
    return 0;
}

int gw_cfg_map_add(gw_cfg_node_t *map, const char *key, gw_cfg_node_t *val)
{
    if (map == NULL || map->type != OC_CFG_MAP || key == NULL || val == NULL)
        return -EINVAL;
    if (grow(map, 1) != 0)
        return -ENOMEM;
    char *k = strdup(key);
    if (k == NULL)
        return -ENOMEM;
    map->keys[map->len] = k;
    if (adopt(map, map->len, val) != 0) {
        free(k);
        val->parent = NULL;
        return -ENOMEM;
    }
    val->secret = gw_cfg_key_is_secret(key);
    map->items[map->len++] = val;
    return 0;
}

int gw_cfg_list_add(gw_cfg_node_t *list, gw_cfg_node_t *val)
{
    if (list == NULL || list->type != OC_CFG_LIST || val == NULL)
        return -EINVAL;
    if (grow(list, 0) != 0)
        return -ENOMEM;
    if (adopt(list, list->len, val) != 0) {
        val->parent = NULL;
        return -ENOMEM;
    }
    list->items[list->len++] = val;
    return 0;
}

int gw_cfg_replace_at(gw_cfg_node_t *node, size_t i, gw_cfg_node_t *val)
{
    if (node == NULL || i >= node->len || val == NULL ||
        (node->type != OC_CFG_MAP && node->type != OC_CFG_LIST))
        return -EINVAL;
    if (adopt(node, i, val) != 0) {
        val->parent = NULL;
        return -ENOMEM;
    }
    if (node->type == OC_CFG_MAP)
        val->secret = gw_cfg_key_is_secret(node->keys[i]);
    gw_cfg_free(node->items[i]);
    node->items[i] = val;
    return 0;
}

static char *dup_or_null(const char *s, int *fail)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *fail = 1;
    return d;
}

gw_cfg_node_t *gw_cfg_copy(const gw_cfg_node_t *src, size_t *count)
{
    gw_cfg_node_t *n = gw_cfg_node_new(src->type);
    if (n == NULL)
        return NULL;
    if (count)
        (*count)++;
    int fail = 0;
    n->file = src->file;
    n->line = src->line;
    n->col = src->col;
    n->key_line = src->key_line;
    n->key_col = src->key_col;
    n->quoted = src->quoted;
    n->secret = src->secret;
    n->scalar = dup_or_null(src->scalar, &fail);
    n->raw = dup_or_null(src->raw, &fail);
    n->origin = dup_or_null(src->origin, &fail);
    free(n->path);
    n->path = dup_or_null(src->path, &fail);
    for (size_t i = 0; !fail && i < src->len; i++) {
        gw_cfg_node_t *c = gw_cfg_copy(src->items[i], count);
        int rc = c == NULL ? -ENOMEM
                 : src->type == OC_CFG_MAP ? gw_cfg_map_add(n, src->keys[i], c)
                                           : gw_cfg_list_add(n, c);
        if (rc != 0) {
            gw_cfg_free(c);
            fail = 1;
        } else {
            c->key_line = src->items[i]->key_line;
            c->key_col = src->items[i]->key_col;
        }
    }
    if (fail) {
        gw_cfg_free(n);
        return NULL;
    }
    return n;
}

void gw_cfg_free(gw_cfg_node_t *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->len; i++) {
        gw_cfg_free(node->items[i]);
        if (node->keys)
            free(node->keys[i]);
    }
    for (size_t i = 0; i < node->known_len; i++)
        free(node->known[i]);
    free(node->known);
    free(node->items);
    free(node->keys);
    free(node->path);
    free(node->scalar);
    free(node->raw);
    free(node->origin);
    free(node->file_store);
    free(node);
}

/* ---- reading ------------------------------------------------------------ */

static gw_cfg_node_t *lookup(const gw_cfg_node_t *map, const char *key)
{
    if (map == NULL || map->type != OC_CFG_MAP || key == NULL)
        return NULL;
    for (size_t i = 0; i < map->len; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

gw_cfg_node_t *gw_cfg_lookup(const gw_cfg_node_t *map, const char *key)
{
    return lookup(map, key);
}

int gw_cfg_note_known(gw_cfg_node_t *map, const char *key)
{
    if (map == NULL || map->type != OC_CFG_MAP || key == NULL)
        return 0;
    for (size_t i = 0; i < map->known_len; i++)
        if (strcmp(map->known[i], key) == 0)
            return 0;
    if (map->known_len == map->known_cap) {
        size_t cap = map->known_cap ? map->known_cap * 2 : 8;
        char **k = realloc(map->known, cap * sizeof(*k));
        if (k == NULL)
            return -ENOMEM;
        map->known = k;
        map->known_cap = cap;
    }
    char *k = strdup(key);
    if (k == NULL)
        return -ENOMEM;
    map->known[map->known_len++] = k;
    return 0;
}

void gw_cfg_mark_used(gw_cfg_node_t *node)
{
    if (node)
        node->used = 1;
}

gw_cfg_node_t *gw_cfg_child(gw_cfg_node_t *map, const char *key)
{
    if (map == NULL || map->type != OC_CFG_MAP || key == NULL)
        return NULL;
    /* Out of memory here only costs a suggestion. */
    (void)gw_cfg_note_known(map, key);
    gw_cfg_node_t *v = lookup(map, key);
    gw_cfg_mark_used(v);
    return v;
}

int gw_cfg_type(const gw_cfg_node_t *node)
{
    return node ? node->type : OC_CFG_NULL;
}

const char *gw_cfg_scalar(const gw_cfg_node_t *node)
{
    return node && node->type == OC_CFG_SCALAR ? node->scalar : NULL;
}

size_t gw_cfg_len(const gw_cfg_node_t *node)
{
    if (node == NULL || (node->type != OC_CFG_MAP && node->type != OC_CFG_LIST))
        return 0;
    return node->len;
}

gw_cfg_node_t *gw_cfg_at(gw_cfg_node_t *node, size_t i)
{
    if (node == NULL || i >= gw_cfg_len(node))
        return NULL;
    if (node->type == OC_CFG_MAP)
        node->items[i]->used = 1;
    return node->items[i];
}

const char *gw_cfg_key_at(const gw_cfg_node_t *map, size_t i)
{
    if (map == NULL || map->type != OC_CFG_MAP || i >= map->len)
        return NULL;
    return map->keys[i];
}

const char *gw_cfg_key_of(const gw_cfg_node_t *node)
{
    const gw_cfg_node_t *p = node ? node->parent : NULL;
    if (p == NULL || p->type != OC_CFG_MAP)
        return NULL;
    for (size_t i = 0; i < p->len; i++)
        if (p->items[i] == node)
            return p->keys[i];
    return NULL;
}

const char *gw_cfg_type_name(const gw_cfg_node_t *node)
{
    switch (gw_cfg_type(node)) {
    case OC_CFG_MAP: return "a map";
    case OC_CFG_LIST: return "a list";
    case OC_CFG_SCALAR: return "a string";
    default: return "null";
    }
}

int gw_cfg_where(const gw_cfg_node_t *node, gw_buf_t *out)
{
    if (node == NULL)
        return 0;
    if (node->origin)
        return gw_buf_puts(out, node->origin);
    if (node->file && node->line > 0)
        return gw_buf_printf(out, "%s:%d:%d", node->file, node->line, node->col);
    if (node->file)
        return gw_buf_puts(out, node->file);
    return 0;
}
