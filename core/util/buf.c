#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gw_buf_reserve(gw_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int gw_buf_append(gw_buf_t *b, const void *p, size_t n)
{
    if (gw_buf_reserve(b, n) != 0)
        return -ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int gw_buf_puts(gw_buf_t *b, const char *s)
{
    return gw_buf_append(b, s, strlen(s));
}

int gw_buf_putc(gw_buf_t *b, char c)
{
    return gw_buf_append(b, &c, 1);
}

int gw_buf_vprintf(gw_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if (gw_buf_reserve(b, (size_t)n) != 0)
        return -ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int gw_buf_printf(gw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gw_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int gw_buf_json_str(gw_buf_t *b, const char *s)
{
    return gw_buf_json_strn(b, s, strlen(s));
}

int gw_buf_json_strn(gw_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t old = b->len;
    if (gw_buf_reserve(b, n + 2) != 0 || gw_buf_putc(b, '"') != 0)
        return -ENOMEM;
    size_t run = 0; /* bytes that need no escape, appended in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x20) {
                run++;
                continue;
            }
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            en = 6;
        }
        if (gw_buf_append(b, s + i - run, run) != 0 || gw_buf_append(b, esc, en) != 0)
            goto nomem;
        run = 0;
    }
    if (gw_buf_append(b, s + n - run, run) == 0 && gw_buf_putc(b, '"') == 0)
        return 0;
nomem:
    b->len = old;
    if (b->data)
        b->data[old] = '\0';
    return -ENOMEM;
}

void gw_buf_reset(gw_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void gw_buf_free(gw_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *gw_buf_steal(gw_buf_t *b)
{
    char *p = b->data;
    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
