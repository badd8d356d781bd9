/* Unit tests for llm/oai_json.c: the error shape, chat.completion objects
 * and chunks the gateway writes for agent models, reading upstream answers
 * and chunks, and the Responses API objects and events. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/oai_json.h"

/* Parses text as JSON (asserting it is valid) and returns a member path
 * "a.b.0.c" as a string (json-c's rendering for non-strings). */
static const char *at(const char *text, const char *path)
{
    static char out[512];
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "not JSON: %s", text);
    json_object *cur = o;
    char p[128];
    snprintf(p, sizeof(p), "%s", path);
    for (char *save = NULL, *k = strtok_r(p, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        json_object *next = NULL;
        if (json_object_is_type(cur, json_type_array))
            next = json_object_array_get_idx(cur, (size_t)atoi(k));
        else
            json_object_object_get_ex(cur, k, &next);
        cr_assert_not_null(next, "%s: no %s in %s", path, k, text);
        cur = next;
    }
    snprintf(out, sizeof(out), "%s", json_object_get_string(cur));
    json_object_put(o);
    return out;
}

Test(json, error_shape)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_llm_error_json(&b, "bad \"x\"", "invalid_request_error", "temperature", "invalid_value");
    cr_assert_str_eq(b.data, "{\"error\":{\"message\":\"bad \\\"x\\\"\",\"type\":"
                             "\"invalid_request_error\",\"param\":\"temperature\",\"code\":"
                             "\"invalid_value\"}}");
    gw_buf_reset(&b);
    gw_llm_error_json(&b, "m", "upstream_error", NULL, NULL);
    cr_assert_str_eq(b.data, "{\"error\":{\"message\":\"m\",\"type\":\"upstream_error\","
                             "\"param\":null,\"code\":null}}");
    gw_buf_free(&b);
}

Test(json, ids)
{
    char a[48], b[48];
    gw_llm_id(a, sizeof(a), "resp_");
    gw_llm_id(b, sizeof(b), "resp_");
    cr_assert_eq(strlen(a), 5 + 24);
    cr_assert(strncmp(a, "resp_", 5) == 0);
    cr_assert_str_neq(a, b);
}

Test(json, completion_and_chunks)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_llm_completion_json(&b, "chatcmpl-1", 7, "openclaw/main", "hi \"you\"\n", 9, "stop", 3, 4);
    cr_assert_str_eq(at(b.data, "object"), "chat.completion");
    cr_assert_str_eq(at(b.data, "model"), "openclaw/main");
    cr_assert_str_eq(at(b.data, "choices.0.message.content"), "hi \"you\"\n");
    cr_assert_str_eq(at(b.data, "choices.0.message.role"), "assistant");
    cr_assert_str_eq(at(b.data, "choices.0.finish_reason"), "stop");
    cr_assert_str_eq(at(b.data, "usage.total_tokens"), "7");
    gw_buf_reset(&b);
    gw_llm_chunk_json(&b, "c", 7, "m", "assistant", "", 0, NULL);
    cr_assert_str_eq(b.data, "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":7,"
                             "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                             "\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
    gw_buf_reset(&b);
    gw_llm_chunk_json(&b, "c", 7, "m", NULL, NULL, 0, "stop");
    cr_assert_str_eq(at(b.data, "choices.0.finish_reason"), "stop");
    cr_assert(strstr(b.data, "\"delta\":{}") != NULL);
    gw_buf_reset(&b);
    gw_llm_usage_chunk_json(&b, "c", 7, "m", 5, -1);
    cr_assert_str_eq(at(b.data, "usage.prompt_tokens"), "5");
    cr_assert_str_eq(at(b.data, "usage.completion_tokens"), "0");
    cr_assert(strstr(b.data, "\"choices\":[]") != NULL);
    gw_buf_free(&b);
}

Test(json, reading_chunks)
{
    gw_buf_t t = GW_BUF_INIT;
    gw_llm_delta_t d;
    const char *c1 = "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                     "\"content\":\"\"},\"finish_reason\":null}]}";
    cr_assert_eq(gw_llm_chunk_read(c1, strlen(c1), &t, &d), 0);
    cr_assert_eq(d.has_content, 1);
    cr_assert_eq(t.len, 0);
    const char *c2 = "{\"choices\":[{\"delta\":{\"content\":\"H\\u00e9\"}}]}";
    gw_llm_chunk_read(c2, strlen(c2), &t, &d);
    cr_assert_str_eq(t.data, "H\xc3\xa9");
    const char *c3 = "{\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}";
    gw_llm_chunk_read(c3, strlen(c3), &t, &d);
    cr_assert_eq(d.has_content, 0);
    cr_assert_str_eq(d.finish, "length");
    const char *c4 = "{\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":6}}";
    gw_llm_chunk_read(c4, strlen(c4), &t, &d);
    cr_assert_eq(d.ptok, 4);
    cr_assert_eq(d.ctok, 6);
    const char *c5 = "{\"error\":{\"message\":\"x\"}}";
    gw_llm_chunk_read(c5, strlen(c5), &t, &d);
    cr_assert_eq(d.is_error, 1);
    cr_assert_eq(gw_llm_chunk_read("[1]", 3, &t, &d), -1);
    cr_assert_eq(gw_llm_chunk_read("{", 1, &t, &d), -1);
    gw_buf_free(&t);
}

Test(json, reading_completions)
{
    gw_buf_t t = GW_BUF_INIT;
    const char *finish;
    int64_t p, c;
    const char *ok = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"yes\"},"
                     "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":1,"
                     "\"completion_tokens\":2}}";
    cr_assert_eq(gw_llm_completion_read(ok, strlen(ok), &t, &finish, &p, &c), 0);
    cr_assert_str_eq(t.data, "yes");
    cr_assert_str_eq(finish, "tool_calls");
    cr_assert_eq(p, 1);
    cr_assert_eq(c, 2);
    const char *null_content = "{\"choices\":[{\"message\":{\"content\":null}}]}";
    gw_buf_reset(&t);
    cr_assert_eq(gw_llm_completion_read(null_content, strlen(null_content), &t, &finish, &p, &c),
                 0);
    cr_assert_eq(t.len, 0);
    cr_assert_eq(p, -1);
    const char *none = "{\"choices\":[]}";
    cr_assert_eq(gw_llm_completion_read(none, strlen(none), &t, &finish, &p, &c), -1);
    cr_assert_eq(gw_llm_completion_read("nope", 4, &t, &finish, &p, &c), -1);
    gw_buf_free(&t);
}

/* ---- Responses ---- */

static gw_llm_resp_t view(const char *status, const char *text)
{
    gw_llm_resp_t v = {.id = "resp_1", .msg_id = "msg_1", .created = 9, .model = "mock/mock",
                       .status = status, .text = text, .text_len = text ? strlen(text) : 0,
                       .ptok = -1, .ctok = -1};
    return v;
}

Test(responses_json, response_object)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_llm_resp_t v = view("completed", "hello");
    v.ptok = 2;
    v.ctok = 1;
    gw_llm_resp_json(&b, &v);
    cr_assert_str_eq(at(b.data, "object"), "response");
    cr_assert_str_eq(at(b.data, "status"), "completed");
    cr_assert_str_eq(at(b.data, "output.0.type"), "message");
    cr_assert_str_eq(at(b.data, "output.0.status"), "completed");
    cr_assert_str_eq(at(b.data, "output.0.content.0.type"), "output_text");
    cr_assert_str_eq(at(b.data, "output.0.content.0.text"), "hello");
    cr_assert_str_eq(at(b.data, "usage.input_tokens"), "2");
    cr_assert_str_eq(at(b.data, "usage.total_tokens"), "3");
    cr_assert(strstr(b.data, "\"error\":null") != NULL);
    gw_buf_reset(&b);
    v = view("in_progress", NULL);
    gw_llm_resp_json(&b, &v);
    cr_assert(strstr(b.data, "\"output\":[]") != NULL);
    cr_assert(strstr(b.data, "\"usage\":null") != NULL);
    gw_buf_reset(&b);
    v = view("failed", "par");
    v.error_code = "upstream_error";
    v.error_message = "boom";
    gw_llm_resp_json(&b, &v);
    cr_assert_str_eq(at(b.data, "error.code"), "upstream_error");
    cr_assert_str_eq(at(b.data, "error.message"), "boom");
    cr_assert_str_eq(at(b.data, "output.0.status"), "incomplete");
    gw_buf_free(&b);
}

Test(responses_json, stream_events_in_order)
{
    static const char *const order[] = {
        "response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed"};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        gw_buf_t b = GW_BUF_INIT;
        gw_llm_resp_t v = view(i == 8 ? "completed" : "in_progress", i >= 5 ? "hello" : NULL);
        gw_llm_resp_event(&b, order[i], (int64_t)i, &v, "hel", 3);
        cr_assert_str_eq(at(b.data, "type"), order[i]);
        char seq[8];
        snprintf(seq, sizeof(seq), "%zu", i);
        cr_assert_str_eq(at(b.data, "sequence_number"), seq);
        cr_assert(strchr(b.data, '\n') == NULL, "one line: one SSE data line");
        switch (i) {
        case 0:
        case 1:
            cr_assert_str_eq(at(b.data, "response.status"), "in_progress");
            break;
        case 2:
            cr_assert_str_eq(at(b.data, "item.status"), "in_progress");
            cr_assert(strstr(b.data, "\"content\":[]") != NULL);
            break;
        case 3:
            cr_assert_str_eq(at(b.data, "part.text"), "");
            cr_assert_str_eq(at(b.data, "item_id"), "msg_1");
            break;
        case 4:
            cr_assert_str_eq(at(b.data, "delta"), "hel");
            cr_assert_str_eq(at(b.data, "content_index"), "0");
            break;
        case 5:
            cr_assert_str_eq(at(b.data, "text"), "hello");
            break;
        case 6:
            cr_assert_str_eq(at(b.data, "part.text"), "hello");
            break;
        case 7:
            cr_assert_str_eq(at(b.data, "item.status"), "completed");
            cr_assert_str_eq(at(b.data, "item.content.0.text"), "hello");
            break;
        case 8:
            cr_assert_str_eq(at(b.data, "response.status"), "completed");
            cr_assert_str_eq(at(b.data, "response.output.0.content.0.text"), "hello");
            break;
        }
        gw_buf_free(&b);
    }
}

Test(responses_json, failed_event)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_llm_resp_t v = view("failed", NULL);
    v.error_code = "upstream_timeout";
    v.error_message = "late";
    gw_llm_resp_event(&b, "response.failed", 3, &v, NULL, 0);
    cr_assert_str_eq(at(b.data, "type"), "response.failed");
    cr_assert_str_eq(at(b.data, "response.status"), "failed");
    cr_assert_str_eq(at(b.data, "response.error.code"), "upstream_timeout");
    gw_buf_free(&b);
}
