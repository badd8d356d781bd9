/* config/expand.h - ${VAR} expansion of configuration strings.
 * Not thread-safe (reads the environment). */
#ifndef GW_CONFIG_EXPAND_H
#define GW_CONFIG_EXPAND_H

#include "util/buf.h"

/* Expands `in`:
 *   ${VAR}            the variable's value; unset is an error, empty is fine
 *   ${VAR:-default}   the value, or `default` (itself expanded) when unset or
 *                     empty, as in the shell
 *   $$                a literal $
 *   $ before anything else is kept as is.
 * On success returns 0 and sets *out to a malloc'd string (the caller frees
 * it). On a problem returns -EINVAL and appends a message without position
 * to `why`, e.g. "environment variable X is not set (set it, or write
 * ${X:-default})". -ENOMEM when out of memory. */
int gw_cfg_expand(const char *in, char **out, gw_buf_t *why);

#endif
