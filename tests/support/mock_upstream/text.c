/* mock_upstream/text.c - see text.h. */
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The padding, repeated: plain words so token counters see text-like input. */
static const char PAD[] = " lorem ipsum dolor sit amet consectetur adipiscing elit sed do"
                          " eiusmod tempor incididunt ut labore et dolore magna aliqua";
#define PAD_LEN (sizeof PAD - 1)

static int is_lead(unsigned char c)
{
    return (c & 0xc0) != 0x80;
}

int text_init(text_t *t, const char *prefix, size_t n, size_t min_chars)
{
    memset(t, 0, sizeof *t);
    t->prefix = malloc(n + 1);
    if (t->prefix == NULL)
        return -ENOMEM;
    memcpy(t->prefix, prefix, n);
    t->prefix[n] = '\0';
    t->prefix_len = n;
    for (size_t i = 0; i < n; i++)
        t->prefix_chars += is_lead((unsigned char)prefix[i]);
    t->total_chars = t->prefix_chars > min_chars ? t->prefix_chars : min_chars;
    return 0;
}

void text_free(text_t *t)
{
    free(t->prefix);
    t->prefix = NULL;
}

void json_escape(gw_buf_t *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* bytes that need no escape, appended in one go */
    if (gw_buf_reserve(out, n + n / 8 + 16) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        gw_buf_append(out, s + i - run, run);
        run = 0;
        switch (c) {
        case '"': gw_buf_append(out, "\\\"", 2); break;
        case '\\': gw_buf_append(out, "\\\\", 2); break;
        case '\n': gw_buf_append(out, "\\n", 2); break;
        case '\r': gw_buf_append(out, "\\r", 2); break;
        case '\t': gw_buf_append(out, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            gw_buf_append(out, u, 6);
        }
        }
    }
    gw_buf_append(out, s + n - run, run);
}

size_t text_piece_chars(const text_t *t, size_t i, size_t n)
{
    /* Boundaries at floor(k * total / n): pieces differ by at most one. */
    unsigned __int128 total = t->total_chars;
    size_t a = (size_t)(total * i / n), b = (size_t)(total * (i + 1) / n);
    return b - a;
}

void text_piece(text_t *t, size_t chars, gw_buf_t *out)
{
    /* The prefix part: advance `chars` characters over UTF-8 lead bytes. */
    size_t from = t->pos_bytes;
    while (chars > 0 && t->pos_chars < t->prefix_chars) {
        size_t b = t->pos_bytes + 1;
        while (b < t->prefix_len && !is_lead((unsigned char)t->prefix[b]))
            b++;
        t->pos_bytes = b;
        t->pos_chars++;
        chars--;
    }
    if (t->pos_bytes > from)
        json_escape(out, t->prefix + from, t->pos_bytes - from);
    if (chars == 0)
        return;
    /* The padding: one byte per character, no escapes needed. */
    size_t left = t->total_chars - t->pos_chars;
    if (chars > left)
        chars = left;
    size_t at = (t->pos_chars - t->prefix_chars) % PAD_LEN;
    t->pos_chars += chars;
    while (chars > 0) {
        size_t take = PAD_LEN - at < chars ? PAD_LEN - at : chars;
        gw_buf_append(out, PAD + at, take);
        chars -= take;
        at = 0;
    }
}
