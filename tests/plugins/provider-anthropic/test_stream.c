/* provider-anthropic, streaming through the .so: a recorded Anthropic
 * stream cut at every byte, framing variants, every event type, tool-call
 * streaming, each chunk delivered as soon as its event is complete, error
 * events and their classes, streams that end early, timeouts. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "recorded.h"

#define START_MIN EV("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"m1\"," \
                                      "\"model\":\"claude-x\",\"usage\":{\"input_tokens\":4}}}")
#define TEXT_BLOCK(i)                                                                          \
    EV("content_block_start", "{\"type\":\"content_block_start\",\"index\":" #i ","            \
                              "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
#define TEXT(i, t)                                                                             \
    EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" #i ","            \
                              "\"delta\":{\"type\":\"text_delta\",\"text\":\"" t "\"}}")
#define DELTA(reason)                                                                          \
    EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" reason     \
                        "\"},\"usage\":{\"output_tokens\":2}}")
#define STOP EV("message_stop", "{\"type\":\"message_stop\"}")
#define ERROR_EV(type, msg)                                                                    \
    EV("error", "{\"type\":\"error\",\"error\":{\"type\":\"" type "\",\"message\":\"" msg "\"}}")

/* Every chunk of r, "created" normalised, against want. */
static void expect_chunks(const rec_t *r, const char *const *want, size_t n)
{
    cr_assert_eq(r->nchunks, n, "%zu chunks, want %zu (error: %s)", r->nchunks, n,
                 r->error ? r->error : "none");
    for (size_t i = 0; i < n; i++) {
        char *c = norm_created(r->chunks[i]);
        cr_assert_str_eq(c, want[i], "chunk %zu", i);
        json_object *o = json_tokener_parse(r->chunks[i]);
        cr_assert_not_null(o, "chunk %zu is not JSON: %s", i, r->chunks[i]);
        json_object_put(o);
        free(c);
    }
}

static void expect_recorded(const rec_t *r)
{
    cr_assert_eq(r->ndone, 1);
    cr_assert_eq(r->res.status, OC_OK, "%s", r->error ? r->error : "");
    cr_expect_eq(r->res.error_class, OC_PROV_ERR_NONE);
    cr_expect_eq(r->res.http_status, 200);
    cr_expect_null(r->body, "no body when streaming");
    cr_expect_eq(r->res.prompt_tokens, RECORDED_PROMPT);
    cr_expect_eq(r->res.completion_tokens, RECORDED_COMPLETION);
    expect_chunks(r, RECORDED_CHUNKS, RECORDED_NCHUNKS);
}

/* The recorded stream in pieces at the given offsets (ascending, inside the
 * stream), interval_ms apart. */
static void route_cut(fx_t *f, const size_t *cuts, size_t ncuts, unsigned interval_ms)
{
    static const char *pieces[4096];
    static size_t lens[4096];
    size_t len = sizeof RECORDED - 1, from = 0, n = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        cr_assert_lt(n, 4096);
        pieces[n] = RECORDED + from;
        lens[n++] = to - from;
        from = to;
    }
    gw_ths_response_t resp = {.headers = "Content-Type: text/event-stream\r\n",
                              .pieces = pieces,
                              .piece_lens = lens,
                              .npieces = n,
                              .chunk_interval_ms = interval_ms};
    cr_assert_eq(gw_ths_route(f->srv, MESSAGES, &resp), 0);
}

Test(ant_stream, recorded_stream_in_one_piece)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_cut(&f, NULL, 0, 0);
    rec_t r = {0};
    rec_run(&f, &r, 1, NULL);
    expect_recorded(&r);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(q.path, MESSAGES);
    cr_expect_str_eq(gw_ths_request_header(&q, "accept"), "text/event-stream");
    cr_expect_not_null(strstr(q.body, "\"stream\":true"), "%s", q.body);
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, recorded_stream_split_at_every_byte, .timeout = 240)
{
    /* One call per cut: the stream in two reads, the first ending at byte
     * k, for every k. Same host and upstream for all. */
    fx_t f = {0};
    fx_up(&f, NULL);
    size_t len = sizeof RECORDED - 1;
    for (size_t k = 1; k < len; k++) {
        route_cut(&f, &k, 1, 1);
        rec_t r = {0};
        rec_run(&f, &r, 1, NULL);
        cr_assert_eq(r.res.status, OC_OK, "cut at %zu: %s", k, r.error ? r.error : "");
        expect_recorded(&r);
        rec_free(&r);
    }
    cr_expect_eq(gw_ths_request_count(f.srv), len - 1);
    fx_free(&f);
}

Test(ant_stream, recorded_stream_byte_by_byte)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    size_t len = sizeof RECORDED - 1;
    size_t *cuts = malloc(len * sizeof *cuts);
    cr_assert_not_null(cuts);
    for (size_t i = 1; i < len; i++)
        cuts[i - 1] = i;
    route_cut(&f, cuts, len - 1, 0);
    rec_t r = {0};
    rec_run(&f, &r, 1, NULL);
    expect_recorded(&r);
    free(cuts);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, usage_chunk_when_the_client_asks_for_one)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_cut(&f, NULL, 0, 0);
    rec_t r = {0};
    rec_run(&f, &r, 1,
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
            "\"stream_options\":{\"include_usage\":true}}");
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_assert_eq(r.nchunks, RECORDED_NCHUNKS + 1);
    char *last = norm_created(r.chunks[RECORDED_NCHUNKS]);
    cr_expect_str_eq(last, RECORDED_USAGE_CHUNK);
    free(last);
    json_object *sent = upstream_body(&f, 0);
    cr_expect_null(at(sent, "stream_options"), "not an Anthropic member");
    json_object_put(sent);
    rec_free(&r);
    fx_free(&f);
}

/* A stream of `pieces` (one each, 1 ms apart) through a default instance. */
static void run_pieces(fx_t *f, rec_t *r, const char *const *pieces, size_t n)
{
    route_sse(f, pieces, n, 1, 0);
    rec_run(f, r, 1, NULL);
}

Test(ant_stream, framing_variants)
{
    /* CRLF and CR line ends, comments, a multi-line data (the JSON split in
     * two lines), no event: lines (the data's type names the event), a
     * BOM, unknown fields, and an event type this plugin does not know. */
    const char *pieces[] = {
        "\xEF\xBB\xBF: hello\r\n\r\n",
        "event: message_start\r\ndata: {\"type\":\"message_start\",\r\ndata: \"message\":"
        "{\"id\":\"m1\",\"model\":\"claude-x\"}}\r\n\r\n",
        "id: 3\rretry: 10\rdata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\r",
        ":keep-alive\n\nevent: future_event\ndata: {\"type\":\"future_event\",\"x\":1}\n\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        "\"text_delta\",\"text\":\"A\\u00e9\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"max_tokens\"},\"usage\":{\"output_tokens\":7}}\r\n\r\n" STOP,
    };
    const char *want[] = {
        "{\"id\":\"m1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"
        "\"claude-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"finish_reason\":null}]}",
        "{\"id\":\"m1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"
        "\"claude-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\xc3\xa9\"},"
        "\"finish_reason\":null}]}",
        "{\"id\":\"m1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"
        "\"claude-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}",
    };
    fx_t f = {0};
    fx_up(&f, NULL);
    rec_t r = {0};
    run_pieces(&f, &r, pieces, sizeof pieces / sizeof pieces[0]);
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    expect_chunks(&r, want, 3);
    cr_expect_eq(r.res.prompt_tokens, -1, "message_start had no usage");
    cr_expect_eq(r.res.completion_tokens, 7);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, stop_reasons_map_to_finish_reasons)
{
    static const struct {
        const char *reason, *finish;
    } cases[] = {{"end_turn", "stop"},          {"stop_sequence", "stop"},
                 {"max_tokens", "length"},      {"tool_use", "tool_calls"},
                 {"refusal", "content_filter"}, {"pause_turn", "stop"}};
    fx_t f = {0};
    fx_up(&f, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char delta[256];
        snprintf(delta, sizeof delta,
                 EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                                     "\"%s\"}}") STOP,
                 cases[i].reason);
        const char *pieces[] = {START_MIN, delta};
        rec_t r = {0};
        run_pieces(&f, &r, pieces, 2);
        cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
        cr_assert_eq(r.nchunks, 2);
        json_object *o = json_tokener_parse(r.chunks[1]);
        cr_expect_str_eq(text_at(o, "choices.0.finish_reason"), cases[i].finish, "%s",
                         cases[i].reason);
        json_object_put(o);
        rec_free(&r);
    }
    fx_free(&f);
}

Test(ant_stream, each_chunk_is_delivered_as_soon_as_its_event_is_complete)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    /* Piece 1 ends inside the second event; each later piece is held by
     * the server until released. */
    const char *pieces[] = {
        START_MIN TEXT_BLOCK(0) "event: content_block_delta\ndata: {\"type\":\"content_bl",
        "ock_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"A\"}}\n",
        "\n",
        TEXT(0, "B"),
        DELTA("end_turn") STOP,
    };
    route_sse(&f, pieces, 5, 0, 1);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait_chunks(&f, &r, 1, 5000));
    run_for(&f, 100);
    cr_expect_eq(r.nchunks, 1, "half an event must not be delivered");
    gw_ths_release(f.srv);
    run_for(&f, 150);
    cr_expect_eq(r.nchunks, 1, "a data line without its blank line is not an event yet");
    gw_ths_release(f.srv);
    cr_assert(rec_wait_chunks(&f, &r, 2, 5000), "the completed event was held back");
    cr_expect_not_null(strstr(r.chunks[1], "{\"content\":\"A\"}"), "%s", r.chunks[1]);
    gw_ths_release(f.srv);
    cr_assert(rec_wait_chunks(&f, &r, 3, 5000), "the next event was held back");
    cr_expect_eq(r.ndone, 0);
    gw_ths_release(f.srv);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.nchunks, 4);
    cr_expect_eq(r.res.status, OC_OK);
    cr_expect_eq(r.res.prompt_tokens, 4);
    cr_expect_eq(r.res.completion_tokens, 2);
    gw_ths_release(f.srv); /* the final zero chunk */
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, connection_is_reused_after_message_stop)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *pieces[] = {START_MIN, DELTA("end_turn"), STOP};
    route_sse(&f, pieces, 3, 0, 0);
    for (int i = 0; i < 3; i++) {
        rec_t r = {0};
        rec_run(&f, &r, 1, NULL);
        cr_expect_eq(r.res.status, OC_OK);
        rec_free(&r);
        run_for(&f, 20); /* let the drain finish */
    }
    cr_expect_eq(gw_ths_connection_count(f.srv), 1);
    fx_free(&f);
}

/* ---- error events ------------------------------------------------------- */

static void expect_error_event(const char *type, int32_t cls, int32_t code)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    char ev[256];
    snprintf(ev, sizeof ev, ERROR_EV("%s", "went wrong: %s"), type, type);
    const char *pieces[] = {START_MIN TEXT_BLOCK(0) TEXT(0, "par"), ev, TEXT(0, "tial") STOP};
    rec_t r = {0};
    run_pieces(&f, &r, pieces, 3);
    cr_expect_eq(r.res.error_class, cls, "%s: class %d", type, r.res.error_class);
    cr_expect_eq(r.res.status, code, "%s: status %d", type, r.res.status);
    cr_expect_eq(r.res.http_status, 200);
    cr_assert_not_null(r.error);
    char want[128];
    snprintf(want, sizeof want, "%s: went wrong: %s", type, type);
    cr_expect_not_null(strstr(r.error, want), "error: %s", r.error);
    cr_expect_eq(r.nchunks, 2, "the chunks before the error were delivered");
    run_for(&f, 50);
    cr_expect_eq(r.nchunks, 2, "nothing after on_done");
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, error_events_by_type)
{
    expect_error_event("overloaded_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_error_event("api_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_error_event("rate_limit_error", OC_PROV_ERR_RATE, OC_ELIMIT);
    expect_error_event("authentication_error", OC_PROV_ERR_AUTH, OC_EACCES);
    expect_error_event("permission_error", OC_PROV_ERR_AUTH, OC_EACCES);
    expect_error_event("invalid_request_error", OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_error_event("not_found_error", OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_error_event("some_new_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
}

Test(ant_stream, error_event_before_any_chunk_is_retried_when_configured)
{
    fx_t f = {0};
    fx_up(&f, "    maxRetries: 2\n");
    const char *bad[] = {ERROR_EV("overloaded_error", "Overloaded")};
    gw_ths_response_t overloaded = {.headers = "Content-Type: text/event-stream\r\n",
                                    .pieces = bad,
                                    .npieces = 1};
    cr_assert_eq(gw_ths_route_once(f.srv, MESSAGES, &overloaded), 0);
    const char *good[] = {START_MIN, TEXT_BLOCK(0) TEXT(0, "ok"), DELTA("end_turn"), STOP};
    route_sse(&f, good, 4, 0, 0);
    rec_t r = {0};
    rec_run(&f, &r, 1, NULL);
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(r.nchunks, 3);
    cr_expect_eq(gw_ths_request_count(f.srv), 2);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, error_event_without_retries)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *bad[] = {ERROR_EV("overloaded_error", "Overloaded")};
    rec_t r = {0};
    run_pieces(&f, &r, bad, 1);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_str_eq(r.error, "the upstream's stream failed: overloaded_error: Overloaded");
    cr_expect_eq(r.nchunks, 0);
    cr_expect_eq(gw_ths_request_count(f.srv), 1);
    rec_free(&r);
    fx_free(&f);
}

/* ---- streams that end early or make no sense ------------------------------- */

/* A stream of one piece: the class it ends with and a word of its error. */
static void expect_broken(const char *stream, int32_t cls, const char *word, size_t nchunks)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *pieces[] = {stream};
    rec_t r = {0};
    run_pieces(&f, &r, pieces, 1);
    cr_expect_eq(r.res.error_class, cls, "class %d (%s) for: %s", r.res.error_class,
                 r.error ? r.error : "no error", stream);
    if (word != NULL) {
        cr_assert_not_null(r.error);
        cr_expect_not_null(strstr(r.error, word), "\"%s\" not in: %s", word, r.error);
    }
    cr_expect_eq(r.nchunks, nchunks, "%zu chunks for: %s", r.nchunks, stream);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, ended_after_message_delta_without_message_stop_is_complete)
{
    expect_broken(START_MIN TEXT_BLOCK(0) TEXT(0, "x") DELTA("end_turn"), OC_PROV_ERR_NONE,
                  NULL, 3);
}

Test(ant_stream, last_event_without_its_blank_line_counts)
{
    expect_broken(START_MIN DELTA("end_turn") "event: message_stop\ndata: {\"type\":"
                                              "\"message_stop\"}",
                  OC_PROV_ERR_NONE, NULL, 2);
}

Test(ant_stream, cut_short_before_message_delta)
{
    expect_broken(START_MIN TEXT_BLOCK(0) TEXT(0, "x"), OC_PROV_ERR_SERVER, "cut short", 2);
}

Test(ant_stream, no_event_at_all)
{
    expect_broken(": nothing here\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n",
                  OC_PROV_ERR_SERVER, "without any event", 0);
}

Test(ant_stream, content_before_message_start)
{
    expect_broken(TEXT_BLOCK(0) TEXT(0, "x"), OC_PROV_ERR_SERVER, "before message_start", 0);
}

Test(ant_stream, data_that_is_not_json)
{
    expect_broken("event: message_start\ndata: this is not json\n\n", OC_PROV_ERR_SERVER,
                  "not a JSON object: this is not json", 0);
}

Test(ant_stream, json_delta_for_a_text_block)
{
    expect_broken(START_MIN TEXT_BLOCK(0)
                  EV("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                            "\"delta\":{\"type\":\"input_json_delta\","
                                            "\"partial_json\":\"{\"}}"),
                  OC_PROV_ERR_SERVER, "not a tool_use block", 1);
}

Test(ant_stream, tool_use_block_without_a_name)
{
    expect_broken(START_MIN EV("content_block_start",
                               "{\"type\":\"content_block_start\",\"index\":0,"
                               "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t1\"}}"),
                  OC_PROV_ERR_SERVER, "without id or name", 1);
}

Test(ant_stream, http_error_on_a_stream)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_json(&f, 429, "retry-after: 3\r\n",
               "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
               "\"message\":\"Number of requests has exceeded your rate limit\"}}");
    rec_t r = {0};
    rec_run(&f, &r, 1, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    cr_expect_eq(r.res.retry_after_ms, 3000);
    cr_expect_eq(r.res.http_status, 429);
    cr_expect_eq(r.nchunks, 0, "an error body is never a chunk");
    cr_expect_str_eq(r.error, "the upstream answered HTTP 429: rate_limit_error: Number of "
                              "requests has exceeded your rate limit");
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, json_answer_to_a_stream_request)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_json(&f, 200, NULL, MESSAGE_BODY);
    rec_t r = {0};
    rec_run(&f, &r, 1, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_not_null(strstr(r.error, "not an event stream"), "%s", r.error);
    rec_free(&r);

    /* A 200 error body takes the class of its error.type. */
    route_json(&f, 200, NULL,
               "{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":\"no\"}}");
    rec_t s = {0};
    rec_run(&f, &s, 1, NULL);
    cr_expect_eq(s.res.error_class, OC_PROV_ERR_AUTH, "%s", s.error);
    cr_expect_not_null(strstr(s.error, "permission_error: no"), "%s", s.error);
    rec_free(&s);
    fx_free(&f);
}

/* ---- timeouts ----------------------------------------------------------- */

Test(ant_stream, first_token_timeout_before_the_head)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    gw_ths_route(f.srv, MESSAGES, &(gw_ths_response_t){.delay_ms = 3000, .body = "x"});
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

Test(ant_stream, first_token_timeout_after_pings)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    /* The head and a ping at once; message_start only after a release
     * that never comes. A ping is not a token. */
    const char *pieces[] = {EV("ping", "{\"type\":\"ping\"}"), START_MIN};
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

Test(ant_stream, first_token_timer_stops_at_the_first_chunk)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *pieces[] = {START_MIN, DELTA("end_turn"), STOP};
    route_sse(&f, pieces, 3, 150, 0); /* the whole stream takes longer than the timeout */
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 100), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(r.nchunks, 2);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_stream, total_timeout_mid_stream)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *pieces[] = {START_MIN, DELTA("end_turn")};
    route_sse(&f, pieces, 2, 0, 1);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 300, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_eq(r.nchunks, 1);
    gw_ths_release(f.srv);
    rec_free(&r);
    fx_free(&f);
}
