/* llm/sse.c - see sse.h. */
#include "llm/sse.h"

#include <errno.h>
#include <string.h>

/* The data lines of payload: a line ends at "\r\n", "\n" or "\r". */
static int data_lines(gw_buf_t *b, const char *p, size_t len)
{
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < len && p[j] != '\n' && p[j] != '\r')
            j++;
        if (gw_buf_puts(b, "data: ") != 0 || gw_buf_append(b, p + i, j - i) != 0 ||
            gw_buf_putc(b, '\n') != 0)
            return -1;
        if (j >= len)
            return 0;
        i = j + (p[j] == '\r' && j + 1 < len && p[j + 1] == '\n' ? 2 : 1);
        if (i >= len)
            return 0; /* a trailing line break ends the last line, no empty one */
    }
}

int gw_sse_data(gw_buf_t *b, const char *payload, size_t len)
{
    size_t old = b->len;
    /* The usual payload is one line: one reserve, three appends. */
    if (gw_buf_reserve(b, len + 8) != 0 || data_lines(b, payload, len) != 0 ||
        gw_buf_putc(b, '\n') != 0) {
        b->len = old;
        if (b->data)
            b->data[old] = '\0';
        return -ENOMEM;
    }
    return 0;
}

int gw_sse_event(gw_buf_t *b, const char *type, const char *payload, size_t len)
{
    size_t old = b->len;
    if (gw_buf_puts(b, "event: ") != 0 || gw_buf_puts(b, type) != 0 || gw_buf_putc(b, '\n') != 0 ||
        gw_sse_data(b, payload, len) != 0) {
        b->len = old;
        if (b->data)
            b->data[old] = '\0';
        return -ENOMEM;
    }
    return 0;
}
