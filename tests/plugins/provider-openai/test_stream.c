/* provider-openai, streaming: SSE cut at awkward byte boundaries, CRLF,
 * comments, multi-line data; every chunk delivered on its own and as soon
 * as it is complete; usage; [DONE]; errors in and around the stream. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define C_ROLE                                                                                 \
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"           \
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"
/* Sent as two data: lines; the chunk is the two joined with "\n". */
#define C_HEL_1 "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\","
#define C_HEL_2                                                                                \
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}"
#define C_LO                                                                                   \
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"           \
    "\"delta\":{\"content\":\"lo \\u00e9\\n\"},\"finish_reason\":null}],\"usage\":null}"
#define C_STOP                                                                                 \
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"           \
    "\"delta\":{},\"finish_reason\":\"stop\"}]}"
#define C_USAGE                                                                                \
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":"            \
    "{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}"

/* The whole stream, with every framing variant the parser must take. */
static const char STREAM[] = ": connected\r\n\r\n"
                             "data: " C_ROLE "\r\n\r\n"
                             "data: " C_HEL_1 "\n"
                             "data: " C_HEL_2 "\n\n"
                             ": keep-alive\n\n"
                             "event: message\nid: 7\nretry: 1000\n"
                             "data:" C_LO "\r\n\r\n"
                             "data: " C_STOP "\r\r"
                             "data: " C_USAGE "\n\n"
                             "data: [DONE]\n\n";

static const char *const WANT[] = {C_ROLE, C_HEL_1 "\n" C_HEL_2, C_LO, C_STOP, C_USAGE};
#define NWANT (sizeof WANT / sizeof WANT[0])

/* STREAM cut into pieces whose sizes cycle through `sizes`. */
static size_t cut(const size_t *sizes, size_t nsizes, const char **pieces, size_t *lens,
                  size_t max)
{
    size_t len = sizeof STREAM - 1, off = 0, n = 0;
    while (off < len) {
        cr_assert_lt(n, max);
        size_t s = sizes[n % nsizes];
        if (s > len - off)
            s = len - off;
        pieces[n] = STREAM + off;
        lens[n] = s;
        off += s;
        n++;
    }
    return n;
}

static void expect_stream_result(const rec_t *r)
{
    cr_expect_eq(r->ndone, 1);
    cr_expect_eq(r->res.status, OC_OK, "%s", r->error ? r->error : "");
    cr_expect_eq(r->res.error_class, OC_PROV_ERR_NONE);
    cr_expect_null(r->body, "no body when streaming");
    cr_expect_eq(r->res.prompt_tokens, 5);
    cr_expect_eq(r->res.completion_tokens, 2);
    cr_assert_eq(r->nchunks, NWANT, "%zu chunks", r->nchunks);
    for (size_t i = 0; i < NWANT; i++) {
        cr_expect_str_eq(r->chunks[i], WANT[i], "chunk %zu", i);
        json_object *o = json_tokener_parse(r->chunks[i]);
        cr_expect_not_null(o, "chunk %zu is not JSON", i);
        json_object_put(o);
    }
}

static void run_cut(const size_t *sizes, size_t nsizes, unsigned interval_ms)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[2048];
    size_t lens[2048];
    size_t n = cut(sizes, nsizes, pieces, lens, 2048);
    gw_ths_response_t resp = {
        .headers = "Content-Type: text/event-stream\r\n",
        .pieces = pieces,
        .piece_lens = lens,
        .npieces = n,
        .chunk_interval_ms = interval_ms,
    };
    cr_assert_eq(gw_ths_route(f.srv, COMPLETIONS, &resp), 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, "gpt-4o-mini", 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 15000), "no on_done");
    expect_stream_result(&r);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(gw_ths_request_header(&q, "accept"), "text/event-stream");
    cr_expect_not_null(strstr(q.body, "\"stream\":true"), "%s", q.body);
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, whole_stream_in_one_piece)
{
    const size_t s[] = {sizeof STREAM};
    run_cut(s, 1, 0);
}

Test(openai_stream, awkward_boundaries)
{
    /* Cuts inside "data:", inside JSON, between CR and LF, between the two
     * line ends of a blank line. */
    const size_t s[] = {1, 2, 3, 5, 8, 13, 21, 34, 7};
    run_cut(s, sizeof s / sizeof s[0], 2);
}

Test(openai_stream, every_split_of_crlf)
{
    /* Cut right after each '\r' of the stream: the LF starts the next read. */
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[64];
    size_t lens[64], n = 0, from = 0, len = sizeof STREAM - 1;
    for (size_t i = 0; i < len; i++)
        if (STREAM[i] == '\r') {
            pieces[n] = STREAM + from;
            lens[n++] = i + 1 - from;
            from = i + 1;
        }
    pieces[n] = STREAM + from;
    lens[n++] = len - from;
    gw_ths_response_t resp = {.headers = "Content-Type: text/event-stream\r\n",
                              .pieces = pieces,
                              .piece_lens = lens,
                              .npieces = n,
                              .chunk_interval_ms = 5};
    cr_assert_eq(gw_ths_route(f.srv, COMPLETIONS, &resp), 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 10000));
    expect_stream_result(&r);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, byte_by_byte)
{
    const size_t s[] = {1};
    run_cut(s, 1, 0);
}

Test(openai_stream, each_chunk_is_delivered_as_soon_as_it_is_complete)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    /* Piece 1 ends in the middle of the second event; each later piece is
     * held by the server until released. */
    const char *pieces[] = {
        "data: " C_ROLE "\n\ndata: {\"id\":\"c1\",",
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}\n",
        "\n",
        "data: " C_STOP "\n\ndata: [DONE]\n\n",
    };
    route_sse(&f, pieces, 4, 0, 1);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait_chunks(&f, &r, 1, 5000));
    run_for(&f, 100);
    cr_expect_eq(r.nchunks, 1, "the half event must not be delivered");
    gw_ths_release(f.srv);
    run_for(&f, 150);
    cr_expect_eq(r.nchunks, 1, "a data line without its blank line is not an event yet");
    gw_ths_release(f.srv);
    cr_assert(rec_wait_chunks(&f, &r, 2, 5000), "the completed event was held back");
    cr_expect_str_eq(r.chunks[1],
                     "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}");
    cr_expect_eq(r.ndone, 0);
    gw_ths_release(f.srv);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.nchunks, 3);
    cr_expect_eq(r.res.status, OC_OK);
    cr_expect_eq(r.res.prompt_tokens, -1, "no usage chunk");
    gw_ths_release(f.srv); /* the final zero chunk */
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, connection_is_reused_after_done)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"data: " C_ROLE "\n\n", "data: [DONE]\n\n"};
    route_sse(&f, pieces, 2, 0, 0);
    for (int i = 0; i < 3; i++) {
        rec_t r = {0};
        cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
        cr_assert(rec_wait(&f, &r, 5000));
        cr_expect_eq(r.res.status, OC_OK);
        rec_free(&r);
        run_for(&f, 20); /* let the drain finish */
    }
    cr_expect_eq(gw_ths_connection_count(f.srv), 1);
    fx_free(&f);
}

Test(openai_stream, end_without_done_after_chunks_is_success)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"data: " C_ROLE "\n\n", "data: " C_STOP "\n"};
    route_sse(&f, pieces, 2, 0, 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK);
    cr_expect_eq(r.nchunks, 2, "the last event, without its blank line, is delivered");
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, end_without_any_chunk_is_a_server_error)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {": nothing here\n\n"};
    route_sse(&f, pieces, 1, 0, 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_eq(r.nchunks, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, error_status_on_a_stream)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 429, "Retry-After: 3\r\n",
               "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    cr_expect_eq(r.res.retry_after_ms, 3000);
    cr_expect_eq(r.res.http_status, 429);
    cr_expect_eq(r.nchunks, 0, "an error body is never a chunk");
    cr_expect_not_null(strstr(r.error, "Rate limit reached"), "%s", r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, error_event_in_the_stream)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"data: " C_ROLE "\n\n",
                            "data: {\"error\":{\"message\":\"overloaded mid-stream\"}}\n\n",
                            "data: " C_STOP "\n\ndata: [DONE]\n\n"};
    route_sse(&f, pieces, 3, 2, 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_not_null(strstr(r.error, "overloaded mid-stream"), "%s", r.error);
    cr_expect_eq(r.nchunks, 1);
    run_for(&f, 100);
    cr_expect_eq(r.nchunks, 1, "nothing after on_done");
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, named_error_event)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"event: error\ndata: {\"message\":\"quota\"}\n\n"};
    route_sse(&f, pieces, 1, 0, 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_not_null(strstr(r.error, "quota"), "%s", r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, garbage_event_is_a_server_error)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"data: this is not json\n\n"};
    route_sse(&f, pieces, 1, 0, 0);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_eq(r.nchunks, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, json_answer_to_a_stream_request)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 200, NULL, COMPLETION_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_not_null(strstr(r.error, "not an event stream"), "%s", r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, first_token_timeout_before_the_head)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    gw_ths_route(f.srv, COMPLETIONS, &(gw_ths_response_t){.delay_ms = 3000, .body = "x"});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 200), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT, "%s", r.error);
    cr_expect_eq(r.res.status, OC_ETIMEDOUT);
    uint64_t took = r.done_at - r.started_at;
    cr_expect(took >= 180 && took < 1500, "took %llu ms", (unsigned long long)took);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, first_token_timeout_after_the_head)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    /* Head and a comment at once; the first event only after a release
     * that never comes. */
    const char *pieces[] = {": warming up\n\n", "data: " C_ROLE "\n\n"};
    route_sse(&f, pieces, 2, 0, 1);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 250), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_eq(r.res.http_status, 200);
    cr_expect_not_null(strstr(r.error, "first-token"), "%s", r.error);
    cr_expect_eq(r.nchunks, 0);
    gw_ths_release(f.srv);
    run_for(&f, 100);
    cr_expect_eq(r.nchunks, 0, "no chunk after on_done");
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, first_token_timer_stops_at_the_first_chunk)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"data: " C_ROLE "\n\n", "data: " C_STOP "\n\n",
                            "data: [DONE]\n\n"};
    route_sse(&f, pieces, 3, 150, 0); /* the whole stream takes longer than the timeout */
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 100), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(r.nchunks, 2);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_stream, total_timeout_mid_stream)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    const char *pieces[] = {"data: " C_ROLE "\n\n", "data: " C_STOP "\n\n"};
    route_sse(&f, pieces, 2, 0, 1);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 300, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_eq(r.nchunks, 1);
    rec_free(&r);
    fx_free(&f);
}
