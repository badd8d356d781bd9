/* tests/support/llm_load/body.c - see body.h. */
#include "body.h"

#include <string.h>

/* Chunked framing: SIZE [;ext] CRLF, DATA, CRLF ... 0 CRLF [trailers] CRLF */
enum { CS_SIZE, CS_EXT, CS_SIZE_LF, CS_DATA, CS_DATA_CR, CS_DATA_LF, CS_TRAILER, CS_TRAILER_LF };

#define MAX_LINE 4096      /* a size line with extensions, or a trailer line */
#define MAX_DIGITS 15      /* 2^60 bytes: more is not a chunk, it is garbage */

void ll_body_init(ll_body_t *b, int mode, uint64_t length)
{
    memset(b, 0, sizeof *b);
    b->mode = mode;
    b->left = length;
    b->done = mode == LB_LENGTH && length == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The end of a size line: a data chunk follows, or the trailers. */
static void size_line_done(ll_body_t *b)
{
    b->line = 0;
    b->state = b->left > 0 ? CS_DATA : CS_TRAILER;
}

static long feed_chunked(ll_body_t *b, const char *p, size_t n, ll_body_out out, void *arg)
{
    size_t i = 0;
    while (i < n && !b->done) {
        char c = p[i];
        switch (b->state) {
        case CS_SIZE: {
            int v = hexval(c);
            if (v >= 0) {
                if (++b->digits > MAX_DIGITS)
                    return -1;
                b->left = b->left * 16 + (uint64_t)v;
            } else if (b->digits == 0) {
                return -1; /* a size line starts with a hex digit */
            } else if (c == ';' || c == ' ' || c == '\t') {
                b->state = CS_EXT;
            } else if (c == '\r') {
                b->state = CS_SIZE_LF;
            } else {
                return -1;
            }
            i++;
            break;
        }
        case CS_EXT: /* chunk extensions: ignored up to the CR */
            if (++b->line > MAX_LINE)
                return -1;
            if (c == '\r')
                b->state = CS_SIZE_LF;
            i++;
            break;
        case CS_SIZE_LF:
            if (c != '\n')
                return -1;
            i++;
            size_line_done(b);
            break;
        case CS_DATA: {
            size_t take = n - i < b->left ? n - i : (size_t)b->left;
            out(arg, p + i, take);
            i += take;
            b->left -= take;
            if (b->left == 0)
                b->state = CS_DATA_CR;
            break;
        }
        case CS_DATA_CR:
            if (c != '\r')
                return -1;
            b->state = CS_DATA_LF;
            i++;
            break;
        case CS_DATA_LF:
            if (c != '\n')
                return -1;
            b->state = CS_SIZE;
            b->digits = 0;
            b->left = 0;
            i++;
            break;
        case CS_TRAILER: /* a trailer line, or the empty line that ends the body */
            if (c == '\r') {
                b->state = CS_TRAILER_LF;
            } else if (++b->line > MAX_LINE) {
                return -1;
            }
            i++;
            break;
        case CS_TRAILER_LF:
            if (c != '\n')
                return -1;
            i++;
            if (b->line == 0)
                b->done = 1;
            b->line = 0;
            b->state = CS_TRAILER;
            break;
        }
    }
    return (long)i;
}

long ll_body_feed(ll_body_t *b, const char *p, size_t n, ll_body_out out, void *arg)
{
    if (b->done)
        return 0;
    switch (b->mode) {
    case LB_CHUNKED:
        return feed_chunked(b, p, n, out, arg);
    case LB_LENGTH: {
        size_t take = n < b->left ? n : (size_t)b->left;
        if (take > 0)
            out(arg, p, take);
        b->left -= take;
        b->done = b->left == 0;
        return (long)take;
    }
    default: /* LB_CLOSE: everything until the peer closes */
        if (n > 0)
            out(arg, p, n);
        return (long)n;
    }
}
