/* config/get.h - typed reads of configuration values, with diagnostics.
 *
 * Used by the core schema and, wrapped, by the plugin host API. Every getter
 * takes a map node and a key, marks the key used and records it as known,
 * and on a bad value adds one message to `d` (may be NULL) of the shape
 *     <file>:<line>:<col>: <path>: expected <what>, got <what> (<how to fix>)
 * or, for a value that came from an override,
 *     env OPENCLAW_PORT: server.port: expected an integer from 1 to 65535, got "abc" (...)
 *
 * Results: 0 = found and valid; -ENOENT = missing (also: `map` NULL or
 * null, or the value is null, as in "key:" with nothing after it), *out set
 * to the default; -EINVAL = present but invalid (reported; *out set to the
 * default). Strings are borrowed from the tree.
 *
 * Scalars are typed by their text: a quoted "3000" is an integer to
 * gw_cfg_get_int and "true" a boolean to gw_cfg_get_bool, so that values
 * written as "${PORT:-3000}" work. gw_cfg_get_str accepts any scalar.
 *
 * Not thread-safe (writes marks into the tree). */
#ifndef GW_CONFIG_GET_H
#define GW_CONFIG_GET_H

#include <stdint.h>

#include "config/node.h"
#include "util/diag.h"

int gw_cfg_get_str(gw_cfg_node_t *map, const char *key, const char *def, const char **out,
                   gw_diag_t *d);
/* Decimal integers only ("-12", "3000"); no signs other than '-', no
 * spaces, units, floats or hex. */
int gw_cfg_get_int(gw_cfg_node_t *map, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out, gw_diag_t *d);
/* true/false, yes/no, on/off, case-insensitive. */
int gw_cfg_get_bool(gw_cfg_node_t *map, const char *key, int def, int *out, gw_diag_t *d);
/* One of `allowed` (NULL-terminated), compared case-insensitively; *out is
 * set to the matching entry of `allowed`. */
int gw_cfg_get_enum(gw_cfg_node_t *map, const char *key, const char *const *allowed,
                    const char *def, const char **out, gw_diag_t *d);
/* A list of scalars. *out: a malloc'd NULL-terminated array of borrowed
 * strings (free() the array only), NULL when missing or invalid; *count its
 * length. -ENOMEM possible. */
int gw_cfg_get_str_list(gw_cfg_node_t *map, const char *key, const char ***out, size_t *count,
                        gw_diag_t *d);
/* A sub-map / a list: *out is the node (NULL when missing or invalid). */
int gw_cfg_get_map(gw_cfg_node_t *map, const char *key, gw_cfg_node_t **out, gw_diag_t *d);
int gw_cfg_get_list(gw_cfg_node_t *map, const char *key, gw_cfg_node_t **out, gw_diag_t *d);

/* Checks a scalar node itself (list items): as the getters above, with
 * `node` NULL or null giving -ENOENT. */
int gw_cfg_node_str(gw_cfg_node_t *node, const char **out, gw_diag_t *d);
int gw_cfg_node_int(gw_cfg_node_t *node, int64_t min, int64_t max, int64_t *out, gw_diag_t *d);

/* Adds "<where>: <path>: <message>" for `node` (file:line:col or origin).
 * `node` may be NULL (the message alone). */
void gw_cfg_error(gw_diag_t *d, const gw_cfg_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gw_cfg_errorv(gw_diag_t *d, const gw_cfg_node_t *node, const char *fmt, va_list ap);
/* Same, but at the position of the node's key when it has one ("server:"
 * rather than the first line under it). */
void gw_cfg_error_at_key(gw_diag_t *d, const gw_cfg_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "<where>: <path>: missing required key '<key>' (<hint>)" at `map`'s key. */
void gw_cfg_missing(gw_diag_t *d, const gw_cfg_node_t *map, const char *key, const char *hint);

/* Reports every map key under `node` (a map or list, recursively through the
 * values that were used) that nothing marked used:
 *     file:l:c: unknown key 'prot' in server (did you mean 'port'?)
 * Suggestions come from the keys readers asked for in that map. Returns the
 * number of keys reported. */
size_t gw_cfg_report_unused(gw_cfg_node_t *node, gw_diag_t *d);
/* Reports the keys of `map` (not recursive) missing from `allowed` (NULL-
 * terminated), with a suggestion; marks nothing. Returns the count. */
size_t gw_cfg_report_unknown_keys(gw_cfg_node_t *map, const char *const *allowed, gw_diag_t *d);

/* Reports key i of `map` as unknown, suggesting the closest of `cands`
 * (n entries, NULLs skipped) or listing them when none is close. */
void gw_cfg_report_unknown_key(gw_cfg_node_t *map, size_t i, const char *const *cands, size_t n,
                               gw_diag_t *d);

/* The candidate closest to `word` (case-insensitive optimal-string-alignment
 * distance) when close enough to be a likely typo, else NULL. */
const char *gw_cfg_suggest(const char *word, const char *const *cands, size_t n);

#endif
