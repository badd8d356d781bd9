/* provider-anthropic, requests through the .so: what the fake Anthropic
 * upstream receives for each OpenAI member (system merging, parts, images,
 * alternation, tool calls and results, tools, tool_choice, sampling,
 * stop, user), the headers, and every kind of request refused before any
 * HTTP, with a reason in the log. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

/* Sends body (non-streaming) and returns what the upstream got. */
static json_object *sent(fx_t *f, const char *body)
{
    route_json(f, 200, NULL, MESSAGE_BODY);
    size_t before = gw_ths_request_count(f->srv);
    rec_t r = {0};
    rec_run(f, &r, 0, body);
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    rec_free(&r);
    return upstream_body(f, before);
}

Test(ant_request, minimal_request_and_headers)
{
    fx_t f = {0};
    fx_up(&f, "    headers: {anthropic-beta: tools-2024-05-16, X-Custom: \"yes please\"}\n");
    json_object *b = sent(&f, "{\"model\":\"ignored\",\"messages\":[{\"role\":\"user\","
                               "\"content\":\"hi / there\"}]}");
    cr_expect_str_eq(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE),
                     "{\"model\":\"claude-test\",\"max_tokens\":4096,\"messages\":[{\"role\":"
                     "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi / there\"}]}],"
                     "\"stream\":false}");
    json_object_put(b);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(q.method, "POST");
    cr_expect_str_eq(q.path, MESSAGES);
    cr_expect_str_eq(gw_ths_request_header(&q, "x-api-key"), TEST_KEY);
    cr_expect_null(gw_ths_request_header(&q, "authorization"));
    cr_expect_str_eq(gw_ths_request_header(&q, "anthropic-version"), "2023-06-01");
    cr_expect_str_eq(gw_ths_request_header(&q, "anthropic-beta"), "tools-2024-05-16");
    cr_expect_str_eq(gw_ths_request_header(&q, "x-custom"), "yes please");
    cr_expect_str_eq(gw_ths_request_header(&q, "content-type"), "application/json");
    cr_expect_str_eq(gw_ths_request_header(&q, "accept"), "application/json");
    cr_expect_not_null(strstr(q.body, "hi / there"), "no \\/ escaping: %s", q.body);
    gw_ths_request_free(&q);
    fx_free(&f);
}

Test(ant_request, the_request_model_wins_over_the_default)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_json(&f, 200, NULL, MESSAGE_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, "claude-opus-x", 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    json_object *b = upstream_body(&f, 0);
    cr_expect_str_eq(text_at(b, "model"), "claude-opus-x");
    json_object_put(b);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_request, system_and_developer_messages_become_one_system)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    json_object *b = sent(&f, "{\"messages\":["
                              "{\"role\":\"system\",\"content\":\"You are terse.\"},"
                              "{\"role\":\"user\",\"content\":\"hi\"},"
                              "{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
                              "\"text\":\"Answer in French.\"},{\"type\":\"text\",\"text\":\"\"},"
                              "{\"type\":\"text\",\"text\":\"No emoji.\"}]},"
                              "{\"role\":\"system\",\"content\":\"\"}]}");
    cr_expect_str_eq(text_at(b, "system"), "You are terse.\n\nAnswer in French.\n\nNo emoji.");
    cr_expect_eq(json_object_array_length(at(b, "messages")), 1, "system is not a message");
    json_object_put(b);
    fx_free(&f);
}

Test(ant_request, same_role_messages_are_merged_and_empty_ones_dropped)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    json_object *b = sent(&f, "{\"messages\":["
                              "{\"role\":\"user\",\"content\":\"one\"},"
                              "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                              "\"two\"},{\"type\":\"text\",\"text\":\"three\"}]},"
                              "{\"role\":\"assistant\",\"content\":\"\"},"
                              "{\"role\":\"user\",\"content\":\"four\"},"
                              "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
                              "\"text\":\"five\"},{\"type\":\"refusal\",\"refusal\":\"six\"}]},"
                              "{\"role\":\"assistant\",\"content\":\"seven\",\"name\":\"bob\"}]}");
    cr_expect_str_eq(json_at(b, "messages"),
                     "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"one\"},"
                     "{\"type\":\"text\",\"text\":\"two\"},{\"type\":\"text\",\"text\":\"three\"},"
                     "{\"type\":\"text\",\"text\":\"four\"}]},"
                     "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"five\"},"
                     "{\"type\":\"text\",\"text\":\"six\"},{\"type\":\"text\",\"text\":"
                     "\"seven\"}]}]");
    json_object_put(b);
    fx_free(&f);
}

Test(ant_request, data_url_images_become_base64_image_blocks)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    json_object *b = sent(&f, "{\"messages\":[{\"role\":\"user\",\"content\":["
                              "{\"type\":\"text\",\"text\":\"what is this?\"},"
                              "{\"type\":\"image_url\",\"image_url\":{\"url\":"
                              "\"data:image/png;base64,iVBORw0KGgo=\",\"detail\":\"high\"}},"
                              "{\"type\":\"image_url\",\"image_url\":"
                              "\"data:image/JPG;base64,/9j/4AAQ\"}]}]}");
    cr_expect_str_eq(json_at(b, "messages.0.content.1"),
                     "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
                     "\"image/png\",\"data\":\"iVBORw0KGgo=\"}}");
    cr_expect_str_eq(json_at(b, "messages.0.content.2.source"),
                     "{\"type\":\"base64\",\"media_type\":\"image/jpeg\",\"data\":\"/9j/4AAQ\"}");
    json_object_put(b);
    fx_free(&f);
}

Test(ant_request, tool_calls_and_tool_results)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    json_object *b = sent(
        &f,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"weather in Paris and the time?\"},"
        "{\"role\":\"assistant\",\"content\":\"Checking.\",\"tool_calls\":["
        "{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
        "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"days\\\":[1,2]}\"}},"
        "{\"id\":\"toolu_2\",\"type\":\"function\",\"function\":{\"name\":\"get_time\","
        "\"arguments\":\"\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":\"sunny, 21C\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"toolu_2\",\"content\":[{\"type\":\"text\","
        "\"text\":\"12:00\"}]},"
        "{\"role\":\"user\",\"content\":\"thanks\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"toolu_3\","
        "\"type\":\"function\",\"function\":{\"name\":\"noop\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"toolu_3\",\"content\":\"\"}]}");
    cr_expect_str_eq(json_at(b, "messages"),
                     "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                     "\"weather in Paris and the time?\"}]},"
                     "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
                     "\"Checking.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"
                     "\"get_weather\",\"input\":{\"city\":\"Paris\",\"days\":[1,2]}},"
                     "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"get_time\","
                     "\"input\":{}}]},"
                     "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":"
                     "\"toolu_1\",\"content\":\"sunny, 21C\"},{\"type\":\"tool_result\","
                     "\"tool_use_id\":\"toolu_2\",\"content\":[{\"type\":\"text\",\"text\":"
                     "\"12:00\"}]},{\"type\":\"text\",\"text\":\"thanks\"}]},"
                     "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":"
                     "\"toolu_3\",\"name\":\"noop\",\"input\":{}}]},"
                     "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":"
                     "\"toolu_3\"}]}]");
    json_object_put(b);
    fx_free(&f);
}

#define TOOLS                                                                                  \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","                \
    "\"description\":\"Weather of a city\",\"parameters\":{\"type\":\"object\","               \
    "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]},"                \
    "\"strict\":true}},{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}]"
#define HI "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

Test(ant_request, tools)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    json_object *b = sent(&f, "{" HI "," TOOLS "}");
    cr_expect_str_eq(json_at(b, "tools"),
                     "[{\"name\":\"get_weather\",\"description\":\"Weather of a city\","
                     "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":"
                     "{\"type\":\"string\"}},\"required\":[\"city\"]}},"
                     "{\"name\":\"get_time\",\"input_schema\":{\"type\":\"object\"}}]");
    cr_expect_null(at(b, "tool_choice"), "auto is Anthropic's default");
    json_object_put(b);
    fx_free(&f);
}

Test(ant_request, tool_choice)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"\"auto\"", "{\"type\":\"auto\"}"},
        {"\"none\"", "{\"type\":\"none\"}"},
        {"\"required\"", "{\"type\":\"any\"}"},
        {"{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}",
         "{\"type\":\"tool\",\"name\":\"get_time\"}"},
        {"\"required\",\"parallel_tool_calls\":false",
         "{\"type\":\"any\",\"disable_parallel_tool_use\":true}"},
        {"null,\"parallel_tool_calls\":false",
         "{\"type\":\"auto\",\"disable_parallel_tool_use\":true}"},
        {"\"auto\",\"parallel_tool_calls\":true", "{\"type\":\"auto\"}"},
    };
    fx_t f = {0};
    fx_up(&f, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "{" HI "," TOOLS ",\"tool_choice\":%s}", cases[i].in);
        json_object *b = sent(&f, body);
        cr_expect_str_eq(json_at(b, "tool_choice"), cases[i].out, "tool_choice %s",
                         cases[i].in);
        cr_expect_not_null(at(b, "tools"));
        json_object_put(b);
    }
    /* auto and none without tools: nothing to send. */
    json_object *b = sent(&f, "{" HI ",\"tool_choice\":\"none\",\"tools\":[]}");
    cr_expect_null(at(b, "tool_choice"));
    cr_expect_null(at(b, "tools"));
    json_object_put(b);
    fx_free(&f);
}

Test(ant_request, sampling_stop_user_and_dropped_members)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    json_object *b = sent(&f, "{" HI ",\"max_tokens\":100,\"temperature\":0.25,\"top_p\":1,"
                              "\"top_k\":40,\"stop\":\"END\",\"user\":\"user-42\",\"n\":1,"
                              "\"frequency_penalty\":0.5,\"presence_penalty\":0.1,\"seed\":7,"
                              "\"logprobs\":false,\"response_format\":{\"type\":\"text\"},"
                              "\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                              "\"metadata\":{\"a\":\"b\"},\"store\":false}");
    cr_expect_str_eq(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN),
                     "{\"model\":\"claude-test\",\"max_tokens\":100,\"messages\":[{\"role\":"
                     "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],"
                     "\"temperature\":0.25,\"top_p\":1,\"top_k\":40,\"stop_sequences\":[\"END\"],"
                     "\"metadata\":{\"user_id\":\"user-42\"},\"stream\":false}");
    json_object_put(b);
    b = sent(&f, "{" HI ",\"max_completion_tokens\":64,\"max_tokens\":100,"
                 "\"stop\":[\"a\",\"b\"],\"temperature\":0}");
    cr_expect_eq(json_object_get_int(at(b, "max_tokens")), 64, "max_completion_tokens wins");
    cr_expect_str_eq(json_at(b, "stop_sequences"), "[\"a\",\"b\"]");
    cr_expect_str_eq(json_at(b, "temperature"), "0");
    json_object_put(b);
    fx_free(&f);
}

Test(ant_request, max_tokens_default_from_config)
{
    fx_t f = {0};
    fx_up(&f, "    maxTokens: 1234\n    anthropicVersion: 2024-10-22\n");
    json_object *b = sent(&f, "{" HI "}");
    cr_expect_eq(json_object_get_int(at(b, "max_tokens")), 1234);
    json_object_put(b);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(gw_ths_request_header(&q, "anthropic-version"), "2024-10-22");
    gw_ths_request_free(&q);
    fx_free(&f);
}

/* ---- refused requests --------------------------------------------------- */

/* chat refuses `body` at once (OC_EINVAL, no callback, no HTTP) and logs
 * a reason containing `why`. */
static void expect_refused(fx_t *f, const char *body, const char *why)
{
    rec_t r = {0};
    cr_expect_eq(rec_start(f, &r, NULL, 0, body, 0, 0), OC_EINVAL, "accepted: %s", body);
    const char *log = oc_test_host_errors(f->th);
    cr_expect_not_null(strstr(log, why), "\"%s\" not in the log for %s:\n%s", why, body, log);
    cr_expect_eq(r.ndone, 0);
    rec_free(&r);
}

Test(ant_request, bad_requests_are_refused_with_a_reason)
{
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"not json", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{} x", "not a JSON object"},
        {"{}", "messages is missing"},
        {"{\"messages\":{}}", "messages is missing or not an array"},
        {"{\"messages\":[]}", "no user or assistant message"},
        {"{\"messages\":[{\"role\":\"system\",\"content\":\"only\"}]}", "no user or assistant"},
        {"{\"messages\":[1]}", "messages[0] must be an object"},
        {"{\"messages\":[{\"content\":\"x\"}]}", "messages[0].role is missing"},
        {"{\"messages\":[{\"role\":\"function\",\"content\":\"x\"}]}",
         "messages[0].role \"function\" is not one of"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":5}]}",
         "messages[0].content must be a string or an array"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}",
         "messages[0].content[0] has no \"type\""},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]}",
         "messages[0].content[0].text must be a string"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}",
         "type \"input_audio\", which cannot be sent to Anthropic"},
        {"{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"data:image/png;base64,AA\"}}]}]}",
         "which cannot be sent to Anthropic (text parts only)"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}]}",
         "messages[0].content[0].image_url.url is not a data: URL"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{}}]}]}",
         "image_url.url is missing"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"data:image/png,rawbytes\"}}]}]}",
         "not a base64 data: URL"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"data:;,x\"}}]}]}",
         "not a base64 data: URL"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"data:image/png;base64,\"}}]}]}",
         "not a base64 data: URL"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"data:image/tiff;base64,AAAA\"}}]}]}",
         "media type \"image/tiff\""},
        {"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":{}}]}",
         "messages[0].tool_calls must be an array"},
        {"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\","
         "\"function\":{\"name\":\"f\"}}]}]}",
         "messages[0].tool_calls[0].id must be a non-empty string"},
        {"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"t\","
         "\"function\":{}}]}]}",
         "tool_calls[0].function.name must be a non-empty string"},
        {"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"t\","
         "\"function\":{\"name\":\"f\",\"arguments\":\"[1,2]\"}}]}]}",
         "tool_calls[0].function.arguments is not a JSON object"},
        {"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"t\","
         "\"function\":{\"name\":\"f\",\"arguments\":\"{bad\"}}]}]}",
         "arguments is not a JSON object (Anthropic needs the input as an object): {bad"},
        {"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"t\",\"type\":"
         "\"custom\",\"function\":{\"name\":\"f\"}}]}]}",
         "tool_calls[0].type \"custom\" is not supported"},
        {"{\"messages\":[{\"role\":\"assistant\",\"function_call\":{\"name\":\"f\"}}]}",
         "function_call (the legacy form) is not supported"},
        {"{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
         "messages[0].tool_call_id must be a non-empty string"},
        {"{\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"t\",\"content\":{}}]}",
         "messages[0].content must be a string or an array of text parts"},
        {"{" HI ",\"tools\":{}}", "tools must be an array"},
        {"{" HI ",\"tools\":[{\"type\":\"retrieval\"}]}",
         "tools[0].type \"retrieval\" is not supported"},
        {"{" HI ",\"tools\":[{\"type\":\"function\",\"function\":{}}]}",
         "tools[0].function.name must be a non-empty string"},
        {"{" HI ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
         "\"parameters\":[]}}]}",
         "tools[0].function.parameters must be a JSON Schema object"},
        {"{" HI ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
         "\"description\":1}}]}",
         "tools[0].function.description must be a string"},
        {"{" HI "," TOOLS ",\"tool_choice\":\"sometimes\"}", "tool_choice \"sometimes\""},
        {"{" HI "," TOOLS ",\"tool_choice\":{\"type\":\"function\"}}",
         "tool_choice must be {type: function, function: {name: ...}}"},
        {"{" HI "," TOOLS ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
         "\"nope\"}}}",
         "names function \"nope\", which is not in tools"},
        {"{" HI "," TOOLS ",\"tool_choice\":3}", "tool_choice must be a string or an object"},
        {"{" HI ",\"tool_choice\":\"required\"}", "the request has no tools"},
        {"{" HI "," TOOLS ",\"parallel_tool_calls\":\"no\"}",
         "parallel_tool_calls must be true or false"},
        {"{" HI ",\"temperature\":1.5}", "temperature 1.5 is out of range: Anthropic accepts "
                                          "0 to 1"},
        {"{" HI ",\"temperature\":-0.1}", "temperature -0.1 is out of range"},
        {"{" HI ",\"temperature\":\"hot\"}", "temperature must be a number from 0 to 1"},
        {"{" HI ",\"top_p\":2}", "top_p 2 is out of range"},
        {"{" HI ",\"top_k\":-1}", "top_k must be a non-negative integer"},
        {"{" HI ",\"n\":2}", "n must be 1"},
        {"{" HI ",\"max_tokens\":0}", "max_tokens must be a positive integer"},
        {"{" HI ",\"max_tokens\":\"lots\"}", "max_tokens must be a positive integer"},
        {"{" HI ",\"max_completion_tokens\":1.5}",
         "max_completion_tokens must be a positive integer"},
        {"{" HI ",\"stop\":5}", "stop must be a string or an array of strings"},
        {"{" HI ",\"stop\":[\"a\",1]}", "stop[1] must be a string"},
        {"{" HI ",\"user\":42}", "user must be a string"},
    };
    fx_t f = {0};
    fx_up(&f, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(&f, cases[i].body, cases[i].why);
    run_for(&f, 50);
    cr_expect_eq(gw_ths_request_count(f.srv), 0, "a refused request reached the upstream");
    fx_free(&f);
}

Test(ant_request, bad_calls_are_refused)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    rec_t r = {0};
    cr_expect_eq(rec_start(&f, &r, NULL, 0, "", 0, 0), OC_EINVAL);
    /* Streaming without on_chunk; no on_done. */
    oc_chat_callbacks_t cbs = {.struct_size = sizeof cbs, .on_done = NULL};
    oc_chat_request_t req = {.struct_size = sizeof req, .stream = 1, .body_json = "{}",
                             .body_len = 2};
    oc_provider_call_t *call = NULL;
    cr_expect_eq(f.ops->chat(f.st, &req, &cbs, NULL, &call), OC_EINVAL);
    cr_expect_eq(f.ops->chat(f.st, NULL, &cbs, NULL, &call), OC_EINVAL);
    run_for(&f, 50);
    cr_expect_eq(r.ndone, 0);
    cr_expect_eq(gw_ths_request_count(f.srv), 0);
    rec_free(&r);
    fx_free(&f);
}
