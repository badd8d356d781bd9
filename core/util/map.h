/* util/map.h - a string-keyed hash map (chained, FNV-1a, grows at load 1).
 * Keys are copied; values are borrowed pointers the caller owns.
 * Not thread-safe; one owner at a time. */
#ifndef GW_UTIL_MAP_H
#define GW_UTIL_MAP_H

#include <stddef.h>

typedef struct gw_map_entry_s gw_map_entry_t;

typedef struct gw_map_s {
    gw_map_entry_t **buckets;
    size_t nbuckets;
    size_t count;
} gw_map_t;

#define GW_MAP_INIT {NULL, 0, 0}

/* The value under key, or NULL. */
void *gw_map_get(const gw_map_t *m, const char *key);
/* Sets key to value (replacing). 0 or -ENOMEM. */
int gw_map_set(gw_map_t *m, const char *key, void *value);
/* Removes key; returns its value, or NULL when absent. */
void *gw_map_remove(gw_map_t *m, const char *key);
/* Calls fn for each entry (do not modify the map from fn). */
void gw_map_each(const gw_map_t *m, void (*fn)(const char *key, void *value, void *arg),
                 void *arg);
/* Frees the map's memory (not the values). */
void gw_map_free(gw_map_t *m);

#endif
