/* Unit tests for llm/sse.c: SSE framing of data, named events, and
 * payloads with line breaks (each line its own data: line). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/sse.h"

static const char *frame(const char *payload)
{
    static char out[256];
    gw_buf_t b = GW_BUF_INIT;
    cr_assert_eq(gw_sse_data(&b, payload, strlen(payload)), 0);
    snprintf(out, sizeof(out), "%s", b.data);
    gw_buf_free(&b);
    return out;
}

Test(sse, one_line_payload)
{
    cr_assert_str_eq(frame("{\"a\":1}"), "data: {\"a\":1}\n\n");
    cr_assert_str_eq(frame(""), "data: \n\n");
}

Test(sse, line_breaks_become_data_lines)
{
    cr_assert_str_eq(frame("{\n\"a\": 1\n}"), "data: {\ndata: \"a\": 1\ndata: }\n\n");
    cr_assert_str_eq(frame("x\r\ny\rz"), "data: x\ndata: y\ndata: z\n\n");
    cr_assert_str_eq(frame("x\n"), "data: x\n\n", "a trailing line break adds no empty line");
    cr_assert_str_eq(frame("x\n\ny"), "data: x\ndata: \ndata: y\n\n",
                     "an empty line inside stays (as an empty data line)");
}

Test(sse, named_events_and_constants)
{
    gw_buf_t b = GW_BUF_INIT;
    cr_assert_eq(gw_sse_event(&b, "response.created", "{\"x\":1}", 7), 0);
    cr_assert_str_eq(b.data, "event: response.created\ndata: {\"x\":1}\n\n");
    gw_buf_free(&b);
    cr_assert_str_eq(GW_SSE_DONE, "data: [DONE]\n\n");
    cr_assert_str_eq(GW_SSE_KEEPALIVE, ": keep-alive\n\n");
}

Test(sse, appends_to_what_is_queued)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_sse_data(&b, "1", 1);
    gw_sse_data(&b, "2", 1);
    gw_buf_puts(&b, GW_SSE_DONE);
    cr_assert_str_eq(b.data, "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n");
    gw_buf_free(&b);
}
