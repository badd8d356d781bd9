/* buf.c - provider-mock: a growable string and JSON string escaping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

static int grow(mock_buf_t *b, size_t need)
{
    if (b->oom)
        return -1;
    if (b->len + need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void mock_buf_append(mock_buf_t *b, const char *s, size_t n)
{
    if (grow(b, n) != 0)
        return;
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void mock_buf_puts(mock_buf_t *b, const char *s)
{
    mock_buf_append(b, s, strlen(s));
}

void mock_buf_printf(mock_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mock_buf_json_str(mock_buf_t *b, const char *s, size_t n)
{
    mock_buf_append(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc == NULL) {
            run++;
            continue;
        }
        mock_buf_append(b, s + i - run, run);
        run = 0;
        mock_buf_puts(b, esc);
    }
    mock_buf_append(b, s + n - run, run);
    mock_buf_append(b, "\"", 1);
}

void mock_buf_free(mock_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
