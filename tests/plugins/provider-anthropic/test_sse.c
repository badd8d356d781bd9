/* Unit tests of plugins/provider-anthropic/sse.c, the event-stream parser,
 * compiled into this test (the plugin exports nothing but its entry). Every
 * input is also fed in every split into two feeds, and byte by byte: the
 * events must not depend on where the reads fall. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

typedef struct got_s {
    char ev[16][64];
    char data[16][256];
    size_t n;
    size_t stop_after; /* return 1 from this event (1-based); 0 = never */
} got_t;

static int on_event(void *arg, const char *event, const char *payload, size_t len)
{
    got_t *g = arg;
    cr_assert_lt(g->n, 16);
    cr_assert_eq(strlen(payload), len, "payload not NUL-terminated at len");
    snprintf(g->ev[g->n], sizeof g->ev[0], "%s", event);
    snprintf(g->data[g->n], sizeof g->data[0], "%s", payload);
    g->n++;
    return g->stop_after && g->n == g->stop_after ? 1 : 0;
}

/* Feeds `in` whole, in every two-way split, and byte by byte; each way must
 * give exactly the events of `want` (data, and event names when given). */
static void check(const char *in, const char *const *want, const char *const *names, size_t n,
                  int finish)
{
    size_t len = strlen(in);
    for (size_t mode = 0; mode <= len + 1; mode++) {
        sse_parser_t p;
        sse_init(&p);
        got_t g = {0};
        if (mode <= len) { /* split at `mode` (0 and len: one feed) */
            cr_assert_eq(sse_feed(&p, in, mode, on_event, &g), SSE_OK);
            cr_assert_eq(sse_feed(&p, in + mode, len - mode, on_event, &g), SSE_OK);
        } else {
            for (size_t i = 0; i < len; i++)
                cr_assert_eq(sse_feed(&p, in + i, 1, on_event, &g), SSE_OK);
        }
        if (finish)
            cr_assert_eq(sse_finish(&p, on_event, &g), SSE_OK);
        cr_assert_eq(g.n, n, "split %zu: %zu events, want %zu", mode, g.n, n);
        for (size_t i = 0; i < n; i++) {
            cr_assert_str_eq(g.data[i], want[i], "split %zu, event %zu", mode, i);
            cr_assert_str_eq(g.ev[i], names ? names[i] : "message", "split %zu, event %zu",
                             mode, i);
        }
        sse_free(&p);
    }
}

Test(ant_sse, lf_events)
{
    const char *want[] = {"{\"a\":1}", "{\"b\":2}", "[DONE]"};
    check("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n", want, NULL, 3, 0);
}

Test(ant_sse, crlf_and_cr_line_ends)
{
    const char *want[] = {"x", "y", "z"};
    check("data: x\r\n\r\ndata: y\r\rdata: z\n\r\n", want, NULL, 3, 0);
    /* A CRLF inside an event is one line end, not a line end and a blank
     * line (which would cut the event in two). */
    const char *joined[] = {"a\nb", "c\nd"};
    check("data: a\r\ndata: b\r\n\r\ndata: c\rdata: d\r\r", joined, NULL, 2, 0);
}

Test(ant_sse, comments_and_blank_lines_are_not_events)
{
    const char *want[] = {"1", "2"};
    check(": keep-alive\n\n:\n\n\n\ndata: 1\n: between lines\n\n: ping\r\n\r\ndata: 2\n\n", want,
          NULL, 2, 0);
}

Test(ant_sse, multi_line_data_joined_with_newline)
{
    const char *want[] = {"{\"a\":\n1}", "line1\nline2\n line3"};
    /* "data:  line3" keeps the second space: only one is stripped. */
    check("data: {\"a\":\ndata: 1}\n\ndata:line1\ndata: line2\ndata:  line3\n\n", want, NULL,
          2, 0);
    const char *want2[] = {" x"};
    check("data:  x\n\n", want2, NULL, 1, 0);
}

Test(ant_sse, event_names_and_ignored_fields)
{
    const char *want[] = {"{\"e\":1}", "2", "3"};
    const char *names[] = {"error", "message", "ping"};
    check("event: error\ndata: {\"e\":1}\n\nid: 7\nretry: 100\nfoo: bar\ndata: 2\n\n"
          "event:ping\ndata:3\n\n",
          want, names, 3, 0);
}

Test(ant_sse, field_without_colon_and_empty_data)
{
    /* "data" alone is a data line with an empty value; an event with only
     * that dispatches "" (it has data). */
    const char *want[] = {"", "\nz"};
    check("data\n\ndata\ndata: z\n\n", want, NULL, 2, 0);
}

Test(ant_sse, event_without_data_is_dropped)
{
    const char *want[] = {"after"};
    check("event: x\nid: 1\n\ndata: after\n\n", want, NULL, 1, 0);
}

Test(ant_sse, bom_is_skipped_once)
{
    const char *want[] = {"1"};
    check("\xEF\xBB\xBF"
          "data: 1\n\n",
          want, NULL, 1, 0);
    sse_parser_t p;
    sse_init(&p);
    got_t g = {0};
    /* A BOM later in the stream is not a BOM: the field is unknown. */
    const char *s = "data: 1\n\n\xEF\xBB\xBF"
                    "data: 2\n\n";
    cr_assert_eq(sse_feed(&p, s, strlen(s), on_event, &g), SSE_OK);
    cr_assert_eq(g.n, 1);
    sse_free(&p);
}

Test(ant_sse, finish_dispatches_an_unterminated_last_event)
{
    const char *want[] = {"1", "[DONE]"};
    check("data: 1\n\ndata: [DONE]\n", want, NULL, 2, 1);
    check("data: 1\n\ndata: [DONE]", want, NULL, 2, 1);
    const char *none[] = {NULL};
    check(": only a comment", none, NULL, 0, 1);
}

Test(ant_sse, without_finish_an_unterminated_event_waits)
{
    const char *want[] = {"1"};
    check("data: 1\n\ndata: 2\n", want, NULL, 1, 0);
}

Test(ant_sse, callback_stops_the_feed_at_once)
{
    sse_parser_t p;
    sse_init(&p);
    got_t g = {.stop_after = 1};
    const char *s = "data: 1\n\ndata: 2\n\n";
    cr_assert_eq(sse_feed(&p, s, strlen(s), on_event, &g), 1);
    cr_assert_eq(g.n, 1);
    sse_free(&p);
}

Test(ant_sse, reset_forgets_a_partial_event)
{
    sse_parser_t p;
    sse_init(&p);
    got_t g = {0};
    const char *a = "data: half";
    cr_assert_eq(sse_feed(&p, a, strlen(a), on_event, &g), SSE_OK);
    sse_reset(&p);
    const char *b = "data: new\n\n";
    cr_assert_eq(sse_feed(&p, b, strlen(b), on_event, &g), SSE_OK);
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.data[0], "new");
    sse_free(&p);
}

Test(ant_sse, oversized_line_is_refused)
{
    sse_parser_t p;
    sse_init(&p);
    got_t g = {0};
    size_t n = SSE_EVENT_MAX + 16;
    char *big = malloc(n);
    cr_assert_not_null(big);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', n - 6);
    int rc = SSE_OK;
    for (size_t off = 0; off < n && rc == SSE_OK; off += 65536)
        rc = sse_feed(&p, big + off, n - off < 65536 ? n - off : 65536, on_event, &g);
    cr_assert_eq(rc, SSE_ETOOBIG);
    cr_assert_eq(g.n, 0);
    free(big);
    sse_free(&p);
}

Test(ant_sse, big_event_does_not_pin_memory)
{
    sse_parser_t p;
    sse_init(&p);
    got_t g = {0};
    size_t n = 100000;
    char *big = malloc(n + 16);
    cr_assert_not_null(big);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'y', n);
    memcpy(big + 6 + n, "\n\n", 2);
    g.stop_after = 0;
    /* The payload is longer than got_t keeps; only the count matters. */
    cr_assert_eq(sse_feed(&p, big, n + 8, on_event, &g), SSE_OK);
    cr_assert_eq(g.n, 1);
    cr_assert_leq(p.data_cap, SSE_KEEP_BYTES, "data buffer kept at %zu bytes", p.data_cap);
    free(big);
    sse_free(&p);
}

Test(ant_sse, big_line_does_not_pin_memory)
{
    sse_parser_t p;
    sse_init(&p);
    got_t g = {0};
    size_t n = 50000;
    char *big = malloc(n + 16);
    cr_assert_not_null(big);
    memcpy(big, ": ", 2);
    memset(big + 2, 'z', n); /* a long comment: no event, but a long line */
    memcpy(big + 2 + n, "\ndata: x\n\n", 10);
    /* In two reads, so the line is carried over. */
    cr_assert_eq(sse_feed(&p, big, 1000, on_event, &g), SSE_OK);
    cr_assert_eq(sse_feed(&p, big + 1000, n + 12 - 1000, on_event, &g), SSE_OK);
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.data[0], "x");
    cr_assert_leq(p.line_cap, SSE_KEEP_BYTES, "line buffer kept at %zu bytes", p.line_cap);
    free(big);
    sse_free(&p);
}

Test(ant_sse, anthropic_events)
{
    const char *want[] = {"{\"type\":\"message_start\"}", "{\"type\": \"ping\"}",
                          "{\"type\":\"message_stop\"}"};
    const char *names[] = {"message_start", "ping", "message_stop"};
    check("event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
          "event: ping\ndata: {\"type\": \"ping\"}\n\n"
          "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
          want, names, 3, 0);
}
