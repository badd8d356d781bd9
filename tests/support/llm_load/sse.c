/* tests/support/llm_load/sse.c - see sse.h. */
#include "sse.h"

#include <string.h> /* memmem (_GNU_SOURCE from the build) */

void ll_sse_init(ll_sse_t *s)
{
    memset(s, 0, sizeof *s);
}

void ll_sse_reset(ll_sse_t *s)
{
    gw_buf_reset(&s->part);
    s->skip_lf = s->has_data = 0;
    s->kind = LL_EV_OTHER;
}

void ll_sse_free(ll_sse_t *s)
{
    gw_buf_free(&s->part);
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

int ll_sse_classify(const char *v, size_t n)
{
    const char *end = v + n, *p = skip_ws(v, end);
    if ((size_t)(end - p) >= 6 && memcmp(p, "[DONE]", 6) == 0 && skip_ws(p + 6, end) == end)
        return LL_EV_DONE;
    if (p < end && *p == '{') {
        const char *k = skip_ws(p + 1, end);
        if ((size_t)(end - k) >= 7 && memcmp(k, "\"error\"", 7) == 0)
            return LL_EV_ERROR;
    }
    /* "content" : "<at least one character>" anywhere (the delta's text) */
    for (const char *q = p; q < end;) {
        const char *hit = memmem(q, (size_t)(end - q), "\"content\"", 9);
        if (hit == NULL)
            break;
        const char *c = skip_ws(hit + 9, end);
        if (c < end && *c == ':') {
            c = skip_ws(c + 1, end);
            if (end - c >= 2 && c[0] == '"' && c[1] != '"')
                return LL_EV_CONTENT;
        }
        q = hit + 9;
    }
    return LL_EV_OTHER;
}

/* One complete line (without its end). */
static void line(ll_sse_t *s, const char *p, size_t n, ll_sse_event ev, void *arg)
{
    if (n == 0) { /* the end of an event */
        if (s->has_data)
            ev(arg, s->kind);
        s->has_data = 0;
        s->kind = LL_EV_OTHER;
        return;
    }
    if (n < 5 || memcmp(p, "data", 4) != 0 || (n > 4 && p[4] != ':'))
        return; /* a comment, another field, or "data" without a value */
    const char *v = p + 5;
    size_t vn = n - 5;
    if (vn > 0 && *v == ' ') {
        v++;
        vn--;
    }
    int k = ll_sse_classify(v, vn);
    /* Several data lines make one event: an error or the end marker
     * outweighs content, content outweighs the rest. */
    if (!s->has_data || k > s->kind)
        s->kind = k;
    s->has_data = 1;
}

int ll_sse_feed(ll_sse_t *s, const char *p, size_t n, ll_sse_event ev, void *arg)
{
    const char *end = p + n;
    if (s->skip_lf && p < end) {
        if (*p == '\n')
            p++;
        s->skip_lf = 0;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *cr = memchr(p, '\r', (size_t)((nl ? nl : end) - p));
        const char *eol = cr ? cr : nl;
        if (eol == NULL) { /* the line goes on in the next piece */
            if (s->part.len + (size_t)(end - p) > LL_SSE_MAX_LINE ||
                gw_buf_append(&s->part, p, (size_t)(end - p)) != 0)
                return -1;
            return 0;
        }
        if (s->part.len > 0) {
            if (s->part.len + (size_t)(eol - p) > LL_SSE_MAX_LINE ||
                gw_buf_append(&s->part, p, (size_t)(eol - p)) != 0)
                return -1;
            line(s, s->part.data, s->part.len, ev, arg);
            gw_buf_reset(&s->part);
        } else {
            line(s, p, (size_t)(eol - p), ev, arg);
        }
        p = eol + 1;
        if (eol == cr) { /* CR LF is one line end; so is a lone CR */
            if (p < end && *p == '\n')
                p++;
            else if (p == end)
                s->skip_lf = 1;
        }
    }
    return 0;
}
