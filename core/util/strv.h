/* util/strv.h - owned arrays of strings (config lists, allow lists).
 * Not thread-safe; one owner at a time. */
#ifndef GW_UTIL_STRV_H
#define GW_UTIL_STRV_H

#include <stddef.h>

/* Frees *dst (dst_n strings), then copies n strings of src into a new array
 * (NULL and 0 when n is 0). 0, or -ENOMEM with *dst NULL and *dst_n 0. */
int gw_strv_dup(char ***dst, size_t *dst_n, const char *const *src, size_t n);
/* Frees n strings and the array. NULL is a no-op. */
void gw_strv_free(char **v, size_t n);

#endif
