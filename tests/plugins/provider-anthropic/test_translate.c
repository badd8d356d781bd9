/* Unit tests of the translators (stream.c, response.c, request.c, buf.c,
 * compiled in): the recorded stream through the SSE parser and the stream
 * translator at every two-way split and byte by byte, translator edge
 * cases, and request bodies built without a host. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ant.h"
#include "fixture.h"
#include "recorded.h"

#define CREATED 1700000000

typedef struct sink_s {
    ant_stream_t tr;
    char *chunks[32];
    size_t n;
    int done, bad, error;
} sink_t;

static void keep(sink_t *s)
{
    cr_assert_lt(s->n, 32);
    s->chunks[s->n++] = strndup(s->tr.out.data, s->tr.out.len);
}

static int on_event(void *arg, const char *event, const char *payload, size_t len)
{
    sink_t *s = arg;
    switch (ant_stream_event(&s->tr, event, payload, len, CREATED)) {
    case ANT_EV_CHUNK:
        keep(s);
        return 0;
    case ANT_EV_DONE:
        if (s->tr.out.len > 0)
            keep(s);
        s->done = 1;
        return 1;
    case ANT_EV_ERROR:
        s->error = 1;
        return 1;
    case ANT_EV_BAD:
        s->bad = 1;
        return 1;
    default:
        return 0;
    }
}

static void sink_free(sink_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->chunks[i]);
    s->n = 0;
    s->done = s->bad = s->error = 0;
}

static void expect_recorded(sink_t *s, const char *how)
{
    cr_assert(s->done, "%s: no message_stop (%s)", how, s->tr.msg);
    cr_assert_eq(s->n, RECORDED_NCHUNKS, "%s: %zu chunks", how, s->n);
    for (size_t i = 0; i < s->n; i++) {
        char *c = norm_created(s->chunks[i]);
        cr_assert_str_eq(c, RECORDED_CHUNKS[i], "%s: chunk %zu", how, i);
        free(c);
    }
    cr_assert_eq(s->tr.prompt_tokens, RECORDED_PROMPT);
    cr_assert_eq(s->tr.completion_tokens, RECORDED_COMPLETION);
}

Test(ant_translate, recorded_stream_at_every_split_and_byte_by_byte)
{
    size_t len = sizeof RECORDED - 1;
    sse_parser_t p;
    sse_init(&p);
    sink_t s = {0};
    ant_stream_init(&s.tr, "claude-test", 0);
    for (size_t k = 0; k <= len + 1; k++) {
        sse_reset(&p);
        ant_stream_reset(&s.tr);
        char how[32];
        if (k <= len) {
            snprintf(how, sizeof how, "split at %zu", k);
            int rc = sse_feed(&p, RECORDED, k, on_event, &s);
            if (rc == SSE_OK)
                rc = sse_feed(&p, RECORDED + k, len - k, on_event, &s);
            cr_assert_eq(rc, 1, "%s: feed returned %d", how, rc);
        } else {
            snprintf(how, sizeof how, "byte by byte");
            int rc = SSE_OK;
            for (size_t i = 0; i < len && rc == SSE_OK; i++)
                rc = sse_feed(&p, RECORDED + i, 1, on_event, &s);
            cr_assert_eq(rc, 1, "%s: feed returned %d", how, rc);
        }
        expect_recorded(&s, how);
        sink_free(&s);
    }
    ant_stream_free(&s.tr);
    sse_free(&p);
}

/* Feeds a whole stream; returns the sink (free with sink_free and
 * ant_stream_free). */
static void feed(sink_t *s, const char *stream, int include_usage)
{
    ant_stream_init(&s->tr, "claude-req", include_usage);
    sse_parser_t p;
    sse_init(&p);
    int rc = sse_feed(&p, stream, strlen(stream), on_event, s);
    if (rc == SSE_OK)
        rc = sse_finish(&p, on_event, s);
    cr_assert(rc == SSE_OK || rc == 1, "feed returned %d", rc);
    sse_free(&p);
}

#define START_NO_ID EV("message_start", "{\"type\":\"message_start\",\"message\":{}}")

Test(ant_translate, usage_chunk_only_when_asked_and_known)
{
    sink_t s = {0};
    feed(&s, RECORDED, 1);
    cr_assert_eq(s.n, RECORDED_NCHUNKS + 1);
    char *c = norm_created(s.chunks[RECORDED_NCHUNKS]);
    cr_expect_str_eq(c, RECORDED_USAGE_CHUNK);
    free(c);
    sink_free(&s);
    ant_stream_free(&s.tr);

    /* Asked for, but the upstream never said: no made-up numbers. */
    feed(&s, START_NO_ID EV("message_stop", "{\"type\":\"message_stop\"}"), 1);
    cr_expect(s.done);
    cr_expect_eq(s.n, 1, "only the role chunk");
    sink_free(&s);
    ant_stream_free(&s.tr);
}

Test(ant_translate, message_start_without_id_or_model)
{
    sink_t s = {0};
    feed(&s, START_NO_ID, 0);
    cr_assert_eq(s.n, 1);
    cr_expect_str_eq(s.chunks[0], "{\"id\":\"msg\",\"object\":\"chat.completion.chunk\","
                                  "\"created\":1700000000,\"model\":\"claude-req\",\"choices\":"
                                  "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
                                  "\"\"},\"finish_reason\":null}]}");
    sink_free(&s);
    ant_stream_free(&s.tr);
}

Test(ant_translate, text_in_content_block_start_and_escapes)
{
    sink_t s = {0};
    feed(&s, START_NO_ID EV("content_block_start",
                            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                            "{\"type\":\"text\",\"text\":\"tab\\there \\\"q\\\" \\\\ \\u0001/\"}}"),
         0);
    cr_assert_eq(s.n, 2);
    cr_expect_not_null(strstr(s.chunks[1], "{\"content\":\"tab\\there \\\"q\\\" \\\\ \\u0001/\"}"),
                       "%s", s.chunks[1]);
    sink_free(&s);
    ant_stream_free(&s.tr);
}

Test(ant_translate, broken_events)
{
    static const char *const streams[] = {
        EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                                  "{\"type\":\"text_delta\",\"text\":\"x\"}}"),
        EV("message_stop", "{\"type\":\"message_stop\"}"),
        START_NO_ID EV("content_block_start", "{\"type\":\"content_block_start\"}"),
        START_NO_ID EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":-1,"
                                              "\"content_block\":{\"type\":\"text\"}}"),
        START_NO_ID EV("content_block_start", "{\"type\":\"content_block_start\","
                                              "\"index\":70000,\"content_block\":"
                                              "{\"type\":\"text\"}}"),
        START_NO_ID EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                              "\"delta\":{}}"),
        START_NO_ID EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                              "\"delta\":{\"type\":\"text_delta\"}}"),
        START_NO_ID EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":5,"
                                              "\"delta\":{\"type\":\"input_json_delta\","
                                              "\"partial_json\":\"{\"}}"),
        START_NO_ID EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                              "\"delta\":{\"type\":\"input_json_delta\"}}"),
        "data: [1,2]\n\n",
        "data: {\"type\":\n\n",
    };
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        sink_t s = {0};
        feed(&s, streams[i], 0);
        cr_expect(s.bad, "stream %zu was accepted", i);
        cr_expect_neq(s.tr.msg[0], '\0', "stream %zu: no reason", i);
        sink_free(&s);
        ant_stream_free(&s.tr);
    }
}

Test(ant_translate, error_event_with_or_without_event_name)
{
    const char *const streams[] = {
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
        "\"message\":\"slow\"}}\n\n",
        "data: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
        "\"slow\"}}\n\n",
    };
    for (size_t i = 0; i < 2; i++) {
        sink_t s = {0};
        feed(&s, streams[i], 0);
        cr_expect(s.error, "stream %zu", i);
        cr_expect_eq(s.tr.err_class, OC_PROV_ERR_RATE);
        cr_expect_str_eq(s.tr.msg, "rate_limit_error: slow");
        sink_free(&s);
        ant_stream_free(&s.tr);
    }
}

Test(ant_translate, response_translation_without_a_host)
{
    char *out;
    size_t n;
    int64_t p, c;
    char err[128];
    const char *in = "{\"id\":\"m\",\"type\":\"message\",\"model\":\"x\",\"content\":[],"
                     "\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":1,"
                     "\"output_tokens\":0}}";
    cr_assert_eq(ant_response_translate(in, strlen(in), "req", 5, &out, &n, &p, &c, err,
                                        sizeof err),
                 OC_PROV_ERR_NONE, "%s", err);
    cr_expect_eq(strlen(out), n);
    cr_expect_str_eq(out, "{\"id\":\"m\",\"object\":\"chat.completion\",\"created\":5,\"model\":"
                          "\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                          "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\"length\"}],"
                          "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":0,"
                          "\"total_tokens\":1}}");
    cr_expect_eq(p, 1);
    cr_expect_eq(c, 0);
    free(out);
    const char *e = "{\"error\":{\"type\":\"billing_error\",\"message\":\"pay\"}}";
    cr_expect_eq(ant_response_translate(e, strlen(e), "req", 5, &out, &n, &p, &c, err,
                                        sizeof err),
                 OC_PROV_ERR_AUTH);
    cr_expect_null(out);
    cr_expect_str_eq(err, "the upstream answered with an error: billing_error: pay");
}

static const ant_config_t CFG = {.max_tokens = 99};

Test(ant_translate, request_body_without_a_host)
{
    char *out;
    size_t n;
    int iu;
    char err[256];
    const char *in = "{\"messages\":[{\"role\":\"user\",\"content\":\"a/b \\u00e9\"}],"
                     "\"stream_options\":{\"include_usage\":true}}";
    cr_assert_eq(ant_request_body(&CFG, in, strlen(in), "m", 1, &out, &n, &iu, err, sizeof err),
                 OC_OK, "%s", err);
    cr_expect_eq(strlen(out), n);
    cr_expect_str_eq(out, "{\"model\":\"m\",\"max_tokens\":99,\"messages\":[{\"role\":\"user\","
                          "\"content\":[{\"type\":\"text\",\"text\":\"a/b \xc3\xa9\"}]}],"
                          "\"stream\":true}");
    cr_expect_eq(iu, 1);
    free(out);
    cr_expect_eq(ant_request_body(&CFG, "{\"messages\":[]}", 15, "m", 0, &out, &n, &iu, err,
                                  sizeof err),
                 OC_EINVAL);
    cr_expect_null(out);
    cr_expect_str_eq(err, "the request has no user or assistant message with content "
                          "(Anthropic needs at least one)");
    cr_expect_eq(ant_request_body(&CFG, NULL, 0, "m", 0, &out, &n, &iu, err, sizeof err),
                 OC_EINVAL);
    cr_expect_str_eq(err, "the request body is not a JSON object");
}

Test(ant_translate, buf_json_strings)
{
    ant_buf_t b = {0};
    ant_buf_json_str(&b, "a\"b\\c\n\r\t\x01\x7f/\xc3\xa9", 13);
    cr_expect_str_eq(b.data, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f/\xc3\xa9\"");
    ant_buf_clear(&b, 4096);
    cr_expect_eq(b.len, 0);
    ant_buf_json_str(&b, "x\0y", 3);
    cr_expect_eq(b.len, 10);
    cr_expect_eq(memcmp(b.data, "\"x\\u0000y\"", 10), 0);
    ant_buf_free(&b);
}
