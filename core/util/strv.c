/* util/strv.c - see strv.h. */
#include "util/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gw_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

int gw_strv_dup(char ***dst, size_t *dst_n, const char *const *src, size_t n)
{
    gw_strv_free(*dst, *dst_n);
    *dst = NULL;
    *dst_n = 0;
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i] = strdup(src[i]);
        if (v[i] == NULL) {
            gw_strv_free(v, i);
            return -ENOMEM;
        }
    }
    *dst = v;
    *dst_n = n;
    return 0;
}
