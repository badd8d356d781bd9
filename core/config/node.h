/* config/node.h - the parsed configuration tree.
 *
 * One node per YAML value, each remembering where it was written (file,
 * line, column) and its dotted path, so that every consumer (core schema,
 * plugins through the host API, `openclaw config get`) can report problems
 * precisely. The node type is the ABI's opaque `oc_config_t`.
 *
 * Ownership: a tree is owned by its root. gw_cfg_free(root) frees every node,
 * key and string in it. Every pointer a lookup returns is borrowed and valid
 * until the tree is freed, or until gw_cfg_set_scalar replaces that node.
 *
 * Threads: not thread-safe. Lookups write the `used` marks, so use a tree
 * from one thread at a time. */
#ifndef GW_CONFIG_NODE_H
#define GW_CONFIG_NODE_H

#include <stddef.h>

#include <openclaw/host.h>

#include "util/buf.h"

typedef struct oc_config_s gw_cfg_node_t;

struct oc_config_s {
    int type;              /* OC_CFG_NULL, OC_CFG_SCALAR, OC_CFG_MAP or OC_CFG_LIST */
    const char *file;      /* file name for messages; shared, owned by the root; NULL if none */
    int line, col;         /* 1-based position of the value; 0 when not from a file */
    int key_line, key_col; /* map values: position of the key; otherwise = line, col */
    char *path;            /* owned: "" for the root, "server.port", "providers[1].name" */
    char *scalar;          /* owned, OC_CFG_SCALAR only: the text after ${VAR} expansion */
    char *raw;             /* owned: the text as written when expansion changed it, else NULL */
    int quoted;            /* quoted, block or !!str scalar: a string even if it looks like 1 */
    char *origin;          /* owned: "env OPENCLAW_PORT", "flag --port"; NULL for file values */
    int used;              /* a getter, gw_cfg_child or gw_cfg_at read this map value */
    int secret;            /* the key looks secret (apiKey, token, ...): redact the value */
    gw_cfg_node_t *parent; /* borrowed; NULL for the root and detached nodes */

    /* OC_CFG_MAP: keys[i] -> items[i], in file order. OC_CFG_LIST: items[i]. */
    char **keys;            /* owned */
    gw_cfg_node_t **items;  /* owned */
    size_t len, cap;
    /* Maps: keys some reader asked for, present or not (for "did you mean"). */
    char **known; /* owned */
    size_t known_len, known_cap;

    char *file_store; /* owned, root only: the string `file` points to */
    unsigned flags;   /* GW_CFG_F_* (internal) */
};

#define GW_CFG_F_MERGED 0x1u /* map value copied in by a YAML merge key (<<) */

/* ---- reading ----------------------------------------------------------- */

/* The value of `key` in `map`, marking it used; NULL when absent or when
 * `map` is NULL or not a map. Also records `key` as known in `map`. */
gw_cfg_node_t *gw_cfg_child(gw_cfg_node_t *map, const char *key);
/* Same without marking anything. */
gw_cfg_node_t *gw_cfg_lookup(const gw_cfg_node_t *map, const char *key);
/* Dotted lookup from `root`, without marking: "server.port", "providers[1].name",
 * "agents.defaults.models.\"openai/gpt-4.1\"" (quote keys holding '.', '[' or '"').
 * NULL when absent or the path is malformed. */
gw_cfg_node_t *gw_cfg_find(const gw_cfg_node_t *root, const char *path);

int gw_cfg_type(const gw_cfg_node_t *node); /* OC_CFG_NULL for a NULL node */
/* Scalar text; NULL for anything but a scalar. */
const char *gw_cfg_scalar(const gw_cfg_node_t *node);
/* Number of items of a map or list; 0 otherwise. */
size_t gw_cfg_len(const gw_cfg_node_t *node);
/* Item i of a map or list (NULL when out of range). For maps this marks the
 * value used: iterating a map is reading it. */
gw_cfg_node_t *gw_cfg_at(gw_cfg_node_t *node, size_t i);
/* Key i of a map; NULL when not a map or out of range. */
const char *gw_cfg_key_at(const gw_cfg_node_t *map, size_t i);
/* The key under which `node` sits in its parent map; NULL otherwise. */
const char *gw_cfg_key_of(const gw_cfg_node_t *node);

/* Non-zero when the node or one of its ancestors sits under a secret-looking
 * key (apiKey, token, botToken, secret, password, signingSecret, appSecret,
 * bearerToken, authorization, or any key ending in key/token/secret/password,
 * case-insensitive). */
int gw_cfg_is_secret(const gw_cfg_node_t *node);
int gw_cfg_key_is_secret(const char *key);

/* A child's dotted path: base + "." + key, the key quoted when it holds
 * '.', '[', ']', '"', '\\' or spaces (malloc'd; NULL on ENOMEM). */
char *gw_cfg_path_join(const char *base, const char *key);

/* "a map", "a list", "null", "a string". Static storage. */
const char *gw_cfg_type_name(const gw_cfg_node_t *node);

/* Marks `node` used (the map value it is). */
void gw_cfg_mark_used(gw_cfg_node_t *node);
/* Records that a reader knows `key` in `map` (suggestions) without reading it.
 * Returns 0 or -ENOMEM. */
int gw_cfg_note_known(gw_cfg_node_t *map, const char *key);

/* ---- building and changing -------------------------------------------- */

/* A new detached node of `type` (no position, path ""); NULL on ENOMEM. */
gw_cfg_node_t *gw_cfg_node_new(int type);
/* A new empty root map; `file` (may be NULL) is copied and shared by the
 * tree's nodes. NULL on ENOMEM. */
gw_cfg_node_t *gw_cfg_new_root(const char *file);
/* Appends `val` (detached, now owned by `map`) under `key` (copied), setting
 * its parent, path and secret flag. 0, -EINVAL (not a map) or -ENOMEM (val
 * is then still the caller's). No duplicate check. */
int gw_cfg_map_add(gw_cfg_node_t *map, const char *key, gw_cfg_node_t *val);
/* Appends `val` to `list`; as gw_cfg_map_add. */
int gw_cfg_list_add(gw_cfg_node_t *list, gw_cfg_node_t *val);
/* Replaces item i of `map` or `list` with `val`; the old value is freed. */
int gw_cfg_replace_at(gw_cfg_node_t *node, size_t i, gw_cfg_node_t *val);
/* A deep, detached copy (positions and file kept, marks cleared). NULL on
 * ENOMEM. `*count` (may be NULL) is increased by the number of nodes made. */
gw_cfg_node_t *gw_cfg_copy(const gw_cfg_node_t *src, size_t *count);
/* Recomputes the paths of `node`'s subtree from its parent. 0 or -ENOMEM. */
int gw_cfg_repath(gw_cfg_node_t *node);

/* Sets the scalar at dotted `path` (keys and existing list indices, as in
 * gw_cfg_find) to a copy of `value`, creating intermediate maps, replacing
 * whatever was there (the old node is freed). `origin` (copied; may be NULL)
 * is used in messages instead of a file position, e.g. "flag --port".
 * 0; -EINVAL when the path is malformed, names a missing list item or
 * crosses a scalar that is in the way; -ENOMEM. On error the tree may have
 * gained empty intermediate maps, nothing else. */
int gw_cfg_set_scalar(gw_cfg_node_t *root, const char *path, const char *value,
                      const char *origin);

/* Frees `node` and its subtree. Call it on a root or a detached node. */
void gw_cfg_free(gw_cfg_node_t *node);

/* ---- output ------------------------------------------------------------ */

#define GW_CFG_JSON_REDACT 0x1u /* secret values become GW_CFG_REDACTED */
#define GW_CFG_REDACTED "***"

/* Appends `node` as JSON: maps as objects (file order), lists as arrays,
 * null as null, unquoted decimal integers and true/false bare, every other
 * scalar as a string. 0 or -ENOMEM. */
int gw_cfg_to_json(const gw_cfg_node_t *node, gw_buf_t *out, unsigned flags);

/* Appends how to find `node` for a message: "file:line:col", the origin
 * ("env OPENCLAW_PORT"), or the file name alone. */
int gw_cfg_where(const gw_cfg_node_t *node, gw_buf_t *out);

#endif
