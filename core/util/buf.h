/* util/buf.h - a growable byte buffer, always NUL-terminated.
 * Not thread-safe; one owner at a time. */
#ifndef GW_UTIL_BUF_H
#define GW_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct gw_buf_s {
    char *data; /* owned; NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
} gw_buf_t;

#define GW_BUF_INIT {NULL, 0, 0}

/* All return 0, or -ENOMEM (the buffer is left as it was). */
int gw_buf_reserve(gw_buf_t *b, size_t extra);
int gw_buf_append(gw_buf_t *b, const void *p, size_t n);
int gw_buf_puts(gw_buf_t *b, const char *s);
int gw_buf_putc(gw_buf_t *b, char c);
int gw_buf_printf(gw_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gw_buf_vprintf(gw_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included (control characters
 * escaped; other bytes, UTF-8 included, copied as they are). */
int gw_buf_json_str(gw_buf_t *b, const char *s);
/* The same for n bytes of s (NUL bytes become \u0000). */
int gw_buf_json_strn(gw_buf_t *b, const char *s, size_t n);
void gw_buf_reset(gw_buf_t *b); /* len = 0, keeps memory */
void gw_buf_free(gw_buf_t *b);
/* Hands the data to the caller (free() it) and resets the buffer. */
char *gw_buf_steal(gw_buf_t *b);

#endif
