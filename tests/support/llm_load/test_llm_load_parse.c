/* Unit tests for oc-llm-load's parsers: body framing (body.c) and SSE
 * event scanning (sse.c), fed whole and cut at every byte, with bad input. */
#include <criterion/criterion.h>
#include <string.h>

#include "body.h"
#include "sse.h"

/* ---- body framing ---------------------------------------------------------------- */

typedef struct sink_s {
    char data[4096];
    size_t len;
    int calls;
} sink_t;

static void to_sink(void *arg, const char *p, size_t n)
{
    sink_t *s = arg;
    cr_assert(s->len + n < sizeof s->data);
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->calls++;
}

/* Feeds raw in pieces of `step` bytes; returns the total consumed, or -1. */
static long feed_steps(ll_body_t *b, const char *raw, size_t n, size_t step, sink_t *s)
{
    size_t off = 0;
    while (off < n && !b->done) {
        size_t k = n - off < step ? n - off : step;
        long used = ll_body_feed(b, raw + off, k, to_sink, s);
        if (used < 0)
            return -1;
        off += (size_t)used;
        if ((size_t)used < k)
            break;
    }
    return (long)off;
}

Test(body, chunked_any_cut)
{
    const char raw[] = "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    size_t n = sizeof raw - 1;
    for (size_t step = 1; step <= n; step++) {
        ll_body_t b;
        sink_t s = {.len = 0};
        ll_body_init(&b, LB_CHUNKED, 0);
        long used = feed_steps(&b, raw, n, step, &s);
        cr_assert(b.done, "step %zu: not done", step);
        cr_assert_eq(used, (long)(n - 4), "step %zu: stops before the next answer", step);
        cr_assert_eq(s.len, 12);
        cr_assert(memcmp(s.data, "hello world!", 12) == 0);
    }
}

Test(body, length_and_close)
{
    ll_body_t b;
    sink_t s = {.len = 0};
    ll_body_init(&b, LB_LENGTH, 5);
    cr_assert_eq(ll_body_feed(&b, "abc", 3, to_sink, &s), 3);
    cr_assert(!b.done);
    cr_assert_eq(ll_body_feed(&b, "deXYZ", 5, to_sink, &s), 2, "only the body's bytes");
    cr_assert(b.done);
    cr_assert_eq(s.len, 5);

    ll_body_init(&b, LB_LENGTH, 0);
    cr_assert(b.done, "an empty body is done at once");
    cr_assert_eq(ll_body_feed(&b, "x", 1, to_sink, &s), 0);

    ll_body_init(&b, LB_CLOSE, 0);
    cr_assert_eq(ll_body_feed(&b, "anything", 8, to_sink, &s), 8);
    cr_assert(!b.done, "a close-delimited body ends only at the close");
}

Test(body, malformed_chunked)
{
    static const char *const bad[] = {
        "zz\r\n",                     /* not hex */
        "\r\n",                       /* empty size line */
        "5\r\nhelloXX",               /* no CRLF after the data */
        "5\nhello\r\n",               /* LF without CR after the size */
        "1234567890abcdef0\r\n",      /* absurd size */
        "5 x\r\nhello\r\n0\r\n\r\nok", /* ext after blank is fine ... */
    };
    for (size_t k = 0; k < 5; k++) {
        ll_body_t b;
        sink_t s = {.len = 0};
        ll_body_init(&b, LB_CHUNKED, 0);
        cr_assert_eq(ll_body_feed(&b, bad[k], strlen(bad[k]), to_sink, &s), -1, "case %zu", k);
    }
    ll_body_t b;
    sink_t s = {.len = 0};
    ll_body_init(&b, LB_CHUNKED, 0);
    cr_assert_eq(ll_body_feed(&b, bad[5], strlen(bad[5]), to_sink, &s), (long)strlen(bad[5]) - 2);
    cr_assert(b.done);

    /* An endless chunk extension or trailer is refused, not buffered. */
    char big[6000];
    memset(big, 'a', sizeof big);
    big[0] = '1';
    big[1] = ';';
    ll_body_init(&b, LB_CHUNKED, 0);
    cr_assert_eq(ll_body_feed(&b, big, sizeof big, to_sink, &s), -1);
}

/* ---- SSE ----------------------------------------------------------------------------- */

typedef struct evs_s {
    int kinds[64];
    int n;
} evs_t;

static void on_ev(void *arg, int kind)
{
    evs_t *e = arg;
    cr_assert(e->n < 64);
    e->kinds[e->n++] = kind;
}

static const char STREAM[] =
    ": keep-alive comment\n\n"
    "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n"
    "event: message\ndata: {\"choices\":[{\"delta\":{\"content\" : \"lo\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";
static const int KINDS[] = {LL_EV_OTHER, LL_EV_CONTENT, LL_EV_CONTENT, LL_EV_OTHER, LL_EV_DONE};

Test(sse, events_any_cut)
{
    size_t n = sizeof STREAM - 1;
    for (size_t step = 1; step <= n; step++) {
        ll_sse_t s;
        evs_t e = {.n = 0};
        ll_sse_init(&s);
        for (size_t off = 0; off < n; off += step)
            cr_assert_eq(ll_sse_feed(&s, STREAM + off, n - off < step ? n - off : step, on_ev, &e),
                         0);
        cr_assert_eq(e.n, 5, "step %zu: %d events", step, e.n);
        for (int k = 0; k < 5; k++)
            cr_assert_eq(e.kinds[k], KINDS[k], "step %zu event %d", step, k);
        ll_sse_free(&s);
    }
}

Test(sse, classify)
{
    cr_assert_eq(ll_sse_classify("[DONE]", 6), LL_EV_DONE);
    cr_assert_eq(ll_sse_classify(" [DONE] ", 8), LL_EV_DONE);
    cr_assert_eq(ll_sse_classify("[DONE]x", 7), LL_EV_OTHER);
    const char *err = "{\"error\":{\"message\":\"overloaded\"}}";
    cr_assert_eq(ll_sse_classify(err, strlen(err)), LL_EV_ERROR);
    const char *null_content = "{\"choices\":[{\"delta\":{\"content\":null}}]}";
    cr_assert_eq(ll_sse_classify(null_content, strlen(null_content)), LL_EV_OTHER);
    const char *later = "{\"x\":{\"content\":\"\"},\"choices\":[{\"delta\":{\"content\":\"a\"}}]}";
    cr_assert_eq(ll_sse_classify(later, strlen(later)), LL_EV_CONTENT,
                 "a later non-empty content counts");
    cr_assert_eq(ll_sse_classify("", 0), LL_EV_OTHER);
}

Test(sse, error_event_and_lone_cr)
{
    ll_sse_t s;
    evs_t e = {.n = 0};
    ll_sse_init(&s);
    const char *in = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\r"
                     "data: {\"error\":{\"message\":\"boom\"}}\n\n";
    cr_assert_eq(ll_sse_feed(&s, in, strlen(in), on_ev, &e), 0);
    cr_assert_eq(e.n, 2);
    cr_assert_eq(e.kinds[0], LL_EV_CONTENT, "CR alone ends lines too");
    cr_assert_eq(e.kinds[1], LL_EV_ERROR);
    /* Two data lines, one event: the end marker outweighs content. */
    e.n = 0;
    const char *two = "data: {\"content\":\"x\"}\ndata: [DONE]\n\n";
    cr_assert_eq(ll_sse_feed(&s, two, strlen(two), on_ev, &e), 0);
    cr_assert_eq(e.n, 1);
    cr_assert_eq(e.kinds[0], LL_EV_DONE);
    /* Non-data fields and data-less events are not events. */
    e.n = 0;
    const char *none = "id: 1\nretry: 10\n\nevent: x\n\ndatax: 1\n\n";
    cr_assert_eq(ll_sse_feed(&s, none, strlen(none), on_ev, &e), 0);
    cr_assert_eq(e.n, 0);
    ll_sse_free(&s);
}

Test(sse, overlong_line_refused)
{
    ll_sse_t s;
    evs_t e = {.n = 0};
    ll_sse_init(&s);
    static char piece[65536];
    memset(piece, 'a', sizeof piece);
    int rc = 0;
    for (size_t total = 0; total <= LL_SSE_MAX_LINE && rc == 0; total += sizeof piece)
        rc = ll_sse_feed(&s, piece, sizeof piece, on_ev, &e);
    cr_assert_eq(rc, -1, "a line without end beyond the limit is malformed");
    ll_sse_free(&s);
}
