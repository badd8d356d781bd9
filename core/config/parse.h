/* config/parse.h - YAML text to a configuration tree (libyaml).
 *
 * Every node keeps its file:line:column. Rules: the top level is a map (an
 * empty file is an empty map); one document per file; duplicate keys are an
 * error naming both lines; anchors and aliases are resolved by deep copy
 * (a recursive alias is an error) and merge keys (<<: *base) are supported;
 * plain ~, null, Null, NULL and empty values are null; every scalar value
 * (not keys) gets ${VAR} expansion (config/expand.h).
 *
 * Not thread-safe (reads the environment). */
#ifndef GW_CONFIG_PARSE_H
#define GW_CONFIG_PARSE_H

#include <stddef.h>

#include "config/node.h"
#include "util/diag.h"

#define GW_CFG_PARSE_NO_EXPAND 0x1u /* keep ${VAR} text as written */

/* Files larger than this are refused (a config, not a data set). */
#define GW_CFG_MAX_FILE_BYTES (8u << 20)
/* Alias expansion beyond this many nodes is refused ("billion laughs"). */
#define GW_CFG_MAX_NODES 200000u

/* Parses `len` bytes of `text`; `name` is the file name used in messages.
 * On success returns 0 and sets *root (the caller frees it with
 * gw_cfg_free). On failure returns -EINVAL (every problem found is in `d`)
 * or -ENOMEM. *root is NULL after a syntax error; after problems in values
 * only (an unset ${VAR}, a duplicate key) the whole tree is still returned
 * with -EINVAL, so that validation can report the rest in the same run. */
int gw_cfg_parse(const char *name, const char *text, size_t len, unsigned flags,
                 gw_cfg_node_t **root, gw_diag_t *d);
/* The same for a NUL-terminated string. */
int gw_cfg_parse_string(const char *name, const char *text, gw_cfg_node_t **root, gw_diag_t *d);
/* Reads and parses the file at `path` (also the name in messages). A file
 * that cannot be read gives "cannot read <path>: <reason>" and -errno
 * (-ENOENT when it does not exist). */
int gw_cfg_parse_file(const char *path, gw_cfg_node_t **root, gw_diag_t *d);
int gw_cfg_parse_file_flags(const char *path, unsigned flags, gw_cfg_node_t **root,
                            gw_diag_t *d);

#endif
