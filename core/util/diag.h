/* util/diag.h - a list of user-facing problems ("where: what; how to fix").
 * Config parsing, validation and plugin loading report into one so that
 * `openclaw gateway validate` can print every problem, not just the first.
 * Not thread-safe. */
#ifndef GW_UTIL_DIAG_H
#define GW_UTIL_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct gw_diag_s {
    char **msgs; /* owned */
    size_t count;
    size_t cap;
} gw_diag_t;

#define GW_DIAG_INIT {NULL, 0, 0}

/* Adds "file:line:col: message" (line/col 0 = omitted, file NULL = no prefix). */
void gw_diag_add(gw_diag_t *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void gw_diag_addv(gw_diag_t *d, const char *file, int line, int col, const char *fmt,
                  va_list ap);
/* Writes each message on its own line, prefixed "error: ". */
void gw_diag_print(const gw_diag_t *d, FILE *out);
/* Non-zero when any message contains needle (tests). */
int gw_diag_contains(const gw_diag_t *d, const char *needle);
void gw_diag_free(gw_diag_t *d);

#endif
