/* test_mock_upstream.c - unit tests of oc-mock-upstream's pure parts: the
 * HTTP request framing (incremental and malformed input), chunked bodies,
 * the knob parsers and their messages, the rate-limit window, and the
 * reply text's pieces (never splitting UTF-8, JSON-escaped). The binary
 * itself is tested by the scripts next to this file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http_req.h"
#include "knobs.h"
#include "text.h"

/* ---- request heads ---------------------------------------------------------- */

static const char PIPELINE[] = "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
                               "Host: a\r\nContent-Length: 2\r\nX-Mock-Chunks:  7 \r\n\r\n{}"
                               "GET /v1/models HTTP/1.0\r\n\r\n";

Test(http_req, parses_a_head_and_its_fields)
{
    hr_req_t r;
    const char *why = NULL;
    cr_assert_eq(hr_parse_head(PIPELINE, sizeof PIPELINE - 1, &r, &why), 1);
    cr_assert_eq(r.method_len, 4);
    cr_assert(memcmp(r.method, "POST", 4) == 0);
    cr_assert_eq(r.path_len, strlen("/v1/chat/completions"), "the query is not in the path");
    cr_assert_eq(r.content_length, 2);
    cr_assert(!r.close && !r.http10 && !r.chunked);
    const hr_field_t *f = hr_field(&r, "x-mock-chunks");
    cr_assert_not_null(f, "field lookup ignores case");
    cr_assert_eq(f->value_len, 1, "the value is trimmed");
    cr_assert_eq(f->value[0], '7');
    cr_assert_null(hr_field(&r, "x-absent"));

    size_t second = r.head_len + 2;
    cr_assert_eq(hr_parse_head(PIPELINE + second, sizeof PIPELINE - 1 - second, &r, &why), 1);
    cr_assert(r.http10 && r.close, "HTTP/1.0 closes by default");
    cr_assert_eq(r.content_length, -1);
}

Test(http_req, every_prefix_of_a_head_asks_for_more)
{
    hr_req_t r;
    const char *why = NULL;
    size_t head = strstr(PIPELINE, "\r\n\r\n") - PIPELINE + 4;
    for (size_t n = 0; n < head; n++)
        cr_assert_eq(hr_parse_head(PIPELINE, n, &r, &why), 0, "prefix of %zu bytes", n);
    cr_assert_eq(hr_parse_head(PIPELINE, head, &r, &why), 1);
    cr_assert_eq(r.head_len, head);
}

Test(http_req, skips_empty_lines_before_a_request)
{
    static const char req[] = "\r\n\r\nGET /v1/models HTTP/1.1\r\n\r\n";
    hr_req_t r;
    const char *why = NULL;
    cr_assert_eq(hr_parse_head(req, sizeof req - 1, &r, &why), 1);
    cr_assert_eq(r.head_len, sizeof req - 1);
    cr_assert_eq(r.path_len, strlen("/v1/models"));
}

static int parse_status(const char *req)
{
    hr_req_t r;
    const char *why = NULL;
    int st = hr_parse_head(req, strlen(req), &r, &why);
    if (st != 1 && st != 0)
        cr_assert_not_null(why, "an error has a reason");
    return st;
}

Test(http_req, refuses_malformed_heads)
{
    cr_assert_eq(parse_status("GARBAGE\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET /x HTTP/2.0\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET x HTTP/1.1\r\n\r\n"), 400);
    cr_assert_eq(parse_status("G(T /x HTTP/1.1\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET /a\x01 HTTP/1.1\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET /x HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET /x HTTP/1.1\r\nA : b\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET /x HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), 400);
    cr_assert_eq(parse_status("GET /x HTTP/1.1\r\nA: b\nC: d\r\n\r\n"), 400);
    cr_assert_eq(parse_status("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
    cr_assert_eq(parse_status("POST /x HTTP/1.1\r\nContent-Length: 1\r\n"
                              "Content-Length: 2\r\n\r\n"), 400);
    cr_assert_eq(parse_status("POST /x HTTP/1.1\r\nContent-Length: 1\r\n"
                              "Content-Length: 1\r\n\r\n"), 1, "a repeated equal length is fine");
    cr_assert_eq(parse_status("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                              "Content-Length: 1\r\n\r\n"), 400);
    cr_assert_eq(parse_status("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
                 501);
}

Test(http_req, limits_the_head)
{
    static char big[HR_MAX_HEAD + 100];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /x HTTP/1.1\r\nX: ", 20);
    hr_req_t r;
    const char *why = NULL;
    cr_assert_eq(hr_parse_head(big, HR_MAX_HEAD - 1, &r, &why), 0);
    cr_assert_eq(hr_parse_head(big, sizeof big, &r, &why), 431);

    char many[4096] = "GET /x HTTP/1.1\r\n";
    for (int i = 0; i <= HR_MAX_HEADERS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "X-%d: v\r\n", i);
    strcat(many, "\r\n");
    cr_assert_eq(parse_status(many), 431);
}

Test(http_req, connection_and_expect_tokens)
{
    hr_req_t r;
    const char *why = NULL;
    const char *a = "GET /x HTTP/1.1\r\nConnection: TE, Close\r\nExpect: 100-continue\r\n\r\n";
    cr_assert_eq(hr_parse_head(a, strlen(a), &r, &why), 1);
    cr_assert(r.close && r.expect_continue);
    const char *b = "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    cr_assert_eq(hr_parse_head(b, strlen(b), &r, &why), 1);
    cr_assert(!r.close, "HTTP/1.0 with keep-alive stays open");
    const char *c = "GET /x HTTP/1.1\r\nConnection: closed-ish\r\n\r\n";
    cr_assert_eq(hr_parse_head(c, strlen(c), &r, &why), 1);
    cr_assert(!r.close, "only the whole token 'close' counts");
}

/* ---- chunked bodies ----------------------------------------------------------- */

static const char CHUNKED[] = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";

Test(http_req, chunked_body_incrementally)
{
    size_t raw = strlen(CHUNKED) - 4;
    const char *why = NULL;
    hr_chunked_t st = {0};
    /* growing prefixes with one state: each call resumes where it was */
    for (size_t n = 0; n < raw; n++)
        cr_assert_eq(hr_chunked_scan(&st, CHUNKED, n, 100, &why), 0, "prefix %zu", n);
    cr_assert_eq(hr_chunked_scan(&st, CHUNKED, strlen(CHUNKED), 100, &why), 1);
    cr_assert_eq(st.raw_len, raw, "the pipelined NEXT is not part of the body");
    cr_assert_eq(st.body_len, 11);
    char out[12] = {0};
    hr_chunked_decode(CHUNKED, st.raw_len, out);
    cr_assert_str_eq(out, "hello world");
}

static int chunked_status(const char *p, size_t max)
{
    hr_chunked_t st = {0};
    const char *why = NULL;
    return hr_chunked_scan(&st, p, strlen(p), max, &why);
}

Test(http_req, chunked_errors_and_limits)
{
    cr_assert_eq(chunked_status("zz\r\n", 100), 400);
    cr_assert_eq(chunked_status("\r\n", 100), 400);
    cr_assert_eq(chunked_status("2 x\r\nab\r\n", 100), 400, "junk after the size");
    cr_assert_eq(chunked_status("2\r\nabXY", 100), 400, "no CRLF after the data");
    cr_assert_eq(chunked_status("65\r\n", 100), 413, "a chunk over the limit, before its data");
    cr_assert_eq(chunked_status("40\r\n", 100), 0, "within the limit: wait for the data");
    cr_assert_eq(chunked_status("ffffffffffffff\r\n", 100), 400, "an absurd size");
    char longline[1100];
    memset(longline, '1', sizeof longline);
    longline[sizeof longline - 1] = '\0';
    cr_assert_eq(chunked_status(longline, 100), 400, "a size line over 1 KiB");
}

/* ---- knobs ---------------------------------------------------------------------- */

static const knob_def_t *def(const char *key)
{
    for (size_t i = 0; i < knob_count; i++)
        if (strcmp(knob_defs[i].key, key) == 0)
            return &knob_defs[i];
    cr_assert_fail("no knob %s", key);
    return NULL;
}

Test(knobs, text_values_and_their_errors)
{
    knobs_t k;
    knobs_init(&k);
    gw_buf_t err = GW_BUF_INIT;
    cr_assert_eq(knob_set_text(&k, def("latency_ms"), "250", 3, "h", &err), 0);
    cr_assert_eq(k.latency_ms, 250);
    cr_assert_eq(knob_set_text(&k, def("latency_ms"), "25x", 3, "x-mock-latency-ms", &err), -1);
    cr_assert_str_eq(err.data, "x-mock-latency-ms: '25x' is not an integer in 0..600000");
    cr_assert_eq(k.latency_ms, 250, "a refused value changes nothing");
    gw_buf_reset(&err);
    cr_assert_eq(knob_set_text(&k, def("fail_rate"), "0.25", 4, "f", &err), 0);
    cr_assert_float_eq(k.fail_rate, 0.25, 1e-12);
    cr_assert_eq(knob_set_text(&k, def("fail_rate"), "nan", 3, "f", &err), -1);
    cr_assert_eq(knob_set_text(&k, def("fail_rate"), " 1", 2, "f", &err), -1);
    cr_assert_eq(knob_set_text(&k, def("status"), "0", 1, "s", &err), 0);
    cr_assert_eq(knob_set_text(&k, def("status"), "399", 3, "s", &err), -1);
    cr_assert_eq(knob_set_text(&k, def("fail_status"), "0", 1, "s", &err), -1,
                 "fail_status has no off value");
    cr_assert_eq(knob_set_text(&k, def("stall"), "TRUE", 4, "s", &err), 0);
    cr_assert_eq(k.stall, 1);
    cr_assert_eq(knob_set_text(&k, def("stall"), "yes", 3, "s", &err), -1);
    cr_assert_eq(knob_set_text(&k, def("stream_error_after"), "-1", 2, "s", &err), 0);
    cr_assert_eq(k.stream_error_after, -1);
    cr_assert_eq(knob_set_text(&k, def("stream_error_after"), "-", 1, "s", &err), -1);
    cr_assert_eq(knob_set_text(&k, def("rate_limit"), "10:3", 4, "r", &err), 0);
    cr_assert_eq(k.rl_every_s, 10);
    cr_assert_eq(k.rl_for_s, 3);
    cr_assert_eq(knob_set_text(&k, def("rate_limit"), "3:3", 3, "r", &err), -1);
    cr_assert_eq(knob_set_text(&k, def("rate_limit"), "off", 3, "r", &err), 0);
    cr_assert_eq(k.rl_every_s, 0);
    cr_assert_null(knob_by_header("x-mock-nothing", 14));
    cr_assert_eq(knob_by_header("X-Mock-Size", 11), def("size"));
    cr_assert_null(def("rate_limit")->header, "the window is not per request");
    gw_buf_free(&err);
}

Test(knobs, json_is_all_or_nothing_and_round_trips)
{
    knobs_t k;
    knobs_init(&k);
    gw_buf_t err = GW_BUF_INIT, out = GW_BUF_INIT;
    struct json_object *bad = json_tokener_parse("{\"size\":5,\"chunks\":0}");
    cr_assert_eq(knobs_apply_json(&k, bad, &err), -1);
    cr_assert_str_eq(err.data, "chunks: expected an integer in 1..100000, got 0");
    cr_assert_eq(k.size, 0, "nothing applied");
    json_object_put(bad);

    struct json_object *good = json_tokener_parse(
        "{\"size\":5,\"fail_rate\":1,\"echo\":true,\"rate_limit\":\"9:2\",\"status\":429}");
    cr_assert_eq(knobs_apply_json(&k, good, &err), 0);
    json_object_put(good);
    knobs_to_json(&k, &out);
    knobs_t again;
    knobs_init(&again);
    struct json_object *dump = json_tokener_parse(out.data);
    cr_assert_eq(knobs_apply_json(&again, dump, &err), 0, "the dump is accepted back");
    json_object_put(dump);
    cr_assert(again.size == 5 && again.echo == 1 && again.status == 429 &&
              again.rl_every_s == 9 && again.rl_for_s == 2 && again.fail_rate == 1.0);
    gw_buf_free(&err);
    gw_buf_free(&out);
}

Test(knobs, rate_limit_window)
{
    knobs_t k;
    knobs_init(&k);
    k.rl_epoch_ns = 0;
    cr_assert_eq(knobs_rl_retry_after(&k, 5000000000ULL), 0, "off");
    k.rl_every_s = 10;
    k.rl_for_s = 3;
    const uint64_t s = 1000000000ULL;
    cr_assert_eq(knobs_rl_retry_after(&k, 0), 0, "open at the start of a cycle");
    cr_assert_eq(knobs_rl_retry_after(&k, 7 * s - 1), 0, "open until 7 s");
    cr_assert_eq(knobs_rl_retry_after(&k, 7 * s), 3, "closed for the last 3 s");
    cr_assert_eq(knobs_rl_retry_after(&k, 9 * s + s / 2), 1, "rounded up");
    cr_assert_eq(knobs_rl_retry_after(&k, 17 * s + 1), 3, "the cycle repeats");
    cr_assert_eq(knobs_rl_retry_after(&k, 20 * s), 0);
}

/* ---- reply text ------------------------------------------------------------------ */

Test(text, pieces_cover_the_text_without_splitting_utf8)
{
    static const char prefix[] = "h\xc3\xa9llo \xe2\x82\xac \"q\"\n"; /* héllo € "q"\n */
    text_t t;
    cr_assert_eq(text_init(&t, prefix, sizeof prefix - 1, 30), 0);
    cr_assert_eq(t.prefix_chars, 12);
    cr_assert_eq(t.total_chars, 30, "padded to the minimum");
    gw_buf_t all = GW_BUF_INIT;
    for (size_t i = 0; i < 7; i++) {
        gw_buf_t piece = GW_BUF_INIT;
        size_t n = text_piece_chars(&t, i, 7);
        cr_assert(n == 4 || n == 5, "pieces differ by at most one character");
        text_piece(&t, n, &piece);
        cr_assert_gt(piece.len, 0);
        /* a piece never starts with a UTF-8 continuation byte */
        cr_assert_neq((unsigned char)piece.data[0] & 0xc0, 0x80);
        gw_buf_append(&all, piece.data, piece.len);
        gw_buf_free(&piece);
    }
    cr_assert_eq(t.pos_chars, t.total_chars);
    static const char want[] = "h\xc3\xa9llo \xe2\x82\xac \\\"q\\\"\\n lorem";
    cr_assert(strncmp(all.data, want, sizeof want - 1) == 0,
              "escaped prefix, then the padding: %s", all.data);
    cr_assert_eq(all.len, (sizeof prefix - 1) + 3 + (30 - 12), "3 escapes add 3 bytes");
    gw_buf_free(&all);
    text_free(&t);
}

Test(text, json_escape_controls)
{
    gw_buf_t b = GW_BUF_INIT;
    json_escape(&b, "a\0b\x1f\\\t", 6);
    cr_assert_str_eq(b.data, "a\\u0000b\\u001f\\\\\\t");
    gw_buf_free(&b);
}
