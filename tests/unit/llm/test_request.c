/* Unit tests for llm/request.c: every refusal of a chat.completions or
 * responses body names its parameter and code, in OpenAI's terms; what is
 * accepted keeps what the handlers need. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/request.h"

#define MSGS "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

static gw_llm_err_t err;

/* Parses body and expects a refusal with status, param (NULL: null) and
 * code, and a message containing `needle`. */
static void refused(const char *body, int status, const char *param, const char *code,
                    const char *needle)
{
    gw_llm_chat_t c;
    memset(&err, 0, sizeof(err));
    cr_assert_eq(gw_llm_chat_parse(body, strlen(body), &c, &err), -1, "accepted: %s", body);
    cr_assert_null(c.root, "the parse is freed on a refusal");
    cr_assert_eq(err.status, status, "%s: status %d", body, err.status);
    cr_assert_str_eq(err.type, "invalid_request_error");
    if (param)
        cr_assert(err.param && strcmp(err.param, param) == 0, "%s: param %s, want %s", body,
                  err.param ? err.param : "null", param);
    else
        cr_assert_null(err.param, "%s: param %s, want null", body, err.param);
    cr_assert_str_eq(err.code, code, "%s", body);
    cr_assert(strstr(err.message, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", body,
              err.message, needle);
}

static void accepted(const char *body, gw_llm_chat_t *c)
{
    memset(&err, 0, sizeof(err));
    cr_assert_eq(gw_llm_chat_parse(body, strlen(body), c, &err), 0, "%s: refused: %s", body,
                 err.message);
}

Test(request, malformed_bodies)
{
    refused("", 400, NULL, "invalid_json", "empty");
    refused("{\"model\":", 400, NULL, "invalid_json", "could not parse");
    refused("[1,2]", 400, NULL, "invalid_json", "must be a JSON object");
    refused("{\"model\":\"m\"," MSGS "} {}", 400, NULL, "invalid_json", "data after");
    refused("{\"model\":\"m\"," MSGS "} x", 400, NULL, "invalid_json", "data after");
}

Test(request, model)
{
    refused("{" MSGS "}", 400, "model", "missing_required_parameter", "model parameter");
    refused("{\"model\":3," MSGS "}", 400, "model", "invalid_type", "expected a string");
    refused("{\"model\":\"\"," MSGS "}", 400, "model", "invalid_value", "empty");
}

Test(request, messages)
{
    refused("{\"model\":\"m\"}", 400, "messages", "missing_required_parameter", "'messages'");
    refused("{\"model\":\"m\",\"messages\":{}}", 400, "messages", "invalid_type", "an array");
    refused("{\"model\":\"m\",\"messages\":[]}", 400, "messages", "empty_array", "empty array");
    refused("{\"model\":\"m\",\"messages\":[1]}", 400, "messages[0]", "invalid_type", "object");
    refused("{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0].role",
            "missing_required_parameter", "messages[0].role");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", 400,
            "messages[0].role", "invalid_value", "'robot'");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}", 400, "messages[0].content",
            "missing_required_parameter", "messages[0].content");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400,
            "messages[0].content", "invalid_type", "content parts");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}",
            400, "messages[0].content[0].type", "missing_required_parameter", "type");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
            "\"text\"}]}]}",
            400, "messages[0].content[0].text", "missing_required_parameter", "text");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
            "\"text\":1}]}]}",
            400, "messages[0].content[0].text", "invalid_type", "a string");
    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":"
            "\"tool\",\"content\":\"r\"}]}",
            400, "messages[1].tool_call_id", "missing_required_parameter", "tool_call_id");
}

Test(request, ranges)
{
    refused("{\"model\":\"m\"," MSGS ",\"temperature\":2.5}", 400, "temperature",
            "decimal_above_max_value", "Expected a value <= 2, but got 2.5");
    refused("{\"model\":\"m\"," MSGS ",\"temperature\":-0.1}", 400, "temperature",
            "decimal_below_min_value", ">= 0");
    refused("{\"model\":\"m\"," MSGS ",\"temperature\":\"hot\"}", 400, "temperature",
            "invalid_type", "a number");
    refused("{\"model\":\"m\"," MSGS ",\"top_p\":1.5}", 400, "top_p", "decimal_above_max_value",
            "<= 1");
    refused("{\"model\":\"m\"," MSGS ",\"top_p\":-1}", 400, "top_p", "decimal_below_min_value",
            ">= 0");
    refused("{\"model\":\"m\"," MSGS ",\"max_tokens\":0}", 400, "max_tokens",
            "integer_below_min_value", ">= 1");
    refused("{\"model\":\"m\"," MSGS ",\"max_tokens\":1.5}", 400, "max_tokens", "invalid_type",
            "an integer");
    refused("{\"model\":\"m\"," MSGS ",\"max_completion_tokens\":-3}", 400,
            "max_completion_tokens", "integer_below_min_value", ">= 1");
    refused("{\"model\":\"m\"," MSGS ",\"n\":0}", 400, "n", "integer_below_min_value", ">= 1");
    refused("{\"model\":\"m\"," MSGS ",\"n\":129}", 400, "n", "integer_above_max_value",
            "<= 128");
    refused("{\"model\":\"m\"," MSGS ",\"presence_penalty\":3}", 400, "presence_penalty",
            "decimal_above_max_value", "<= 2");
    refused("{\"model\":\"m\"," MSGS ",\"frequency_penalty\":-2.5}", 400, "frequency_penalty",
            "decimal_below_min_value", ">= -2");
    refused("{\"model\":\"m\"," MSGS ",\"seed\":1.5}", 400, "seed", "invalid_type",
            "an integer");
}

Test(request, stop)
{
    refused("{\"model\":\"m\"," MSGS ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", 400, "stop",
            "array_above_max_length", "maximum length 4, but got an array with length 5");
    refused("{\"model\":\"m\"," MSGS ",\"stop\":[\"a\",1]}", 400, "stop[1]", "invalid_type",
            "a string");
    refused("{\"model\":\"m\"," MSGS ",\"stop\":7}", 400, "stop", "invalid_type",
            "a string or an array");
    gw_llm_chat_t c;
    accepted("{\"model\":\"m\"," MSGS ",\"stop\":\"x\"}", &c);
    gw_llm_chat_free(&c);
    accepted("{\"model\":\"m\"," MSGS ",\"stop\":[\"a\",\"b\",\"c\",\"d\"]}", &c);
    gw_llm_chat_free(&c);
}

Test(request, stream_and_options)
{
    refused("{\"model\":\"m\"," MSGS ",\"stream\":\"yes\"}", 400, "stream", "invalid_type",
            "a boolean");
    refused("{\"model\":\"m\"," MSGS ",\"stream_options\":{\"include_usage\":true}}", 400,
            "stream_options", "invalid_value", "only allowed when 'stream' is true");
    refused("{\"model\":\"m\"," MSGS ",\"stream\":true,\"stream_options\":[]}", 400,
            "stream_options", "invalid_type", "an object");
    refused("{\"model\":\"m\"," MSGS ",\"stream\":true,\"stream_options\":{\"include_usage\":1}}",
            400, "stream_options.include_usage", "invalid_type", "a boolean");
    gw_llm_chat_t c;
    accepted("{\"model\":\"m\"," MSGS ",\"stream\":true,\"stream_options\":{\"include_usage\":"
             "true},\"user\":\"u1\"}",
             &c);
    cr_assert_eq(c.stream, 1);
    cr_assert_eq(c.include_usage, 1);
    cr_assert_str_eq(c.model, "m");
    cr_assert_str_eq(c.user, "u1");
    gw_llm_chat_free(&c);
    refused("{\"model\":\"m\"," MSGS ",\"user\":3}", 400, "user", "invalid_type", "a string");
}

Test(request, tools)
{
    refused("{\"model\":\"m\"," MSGS ",\"tools\":{}}", 400, "tools", "invalid_type", "an array");
    refused("{\"model\":\"m\"," MSGS ",\"tools\":[{\"type\":\"web\"}]}", 400, "tools[0].type",
            "invalid_value", "'function'");
    refused("{\"model\":\"m\"," MSGS ",\"tools\":[{\"type\":\"function\"}]}", 400,
            "tools[0].function", "missing_required_parameter", "tools[0].function");
    refused("{\"model\":\"m\"," MSGS ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
            "\"bad name\"}}]}",
            400, "tools[0].function.name", "invalid_value", "function name");
    refused("{\"model\":\"m\"," MSGS ",\"tool_choice\":\"auto\"}", 400, "tool_choice",
            "invalid_value", "only allowed when 'tools'");
    const char *tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_w\","
                        "\"parameters\":{\"type\":\"object\"}}}]";
    char body[512];
    snprintf(body, sizeof(body), "{\"model\":\"m\",%s,%s,\"tool_choice\":\"maybe\"}", MSGS, tools);
    refused(body, 400, "tool_choice", "invalid_value", "'maybe'");
    snprintf(body, sizeof(body), "{\"model\":\"m\",%s,%s,\"tool_choice\":{\"type\":\"function\"}}",
             MSGS, tools);
    refused(body, 400, "tool_choice.function.name", "missing_required_parameter", "name");
    snprintf(body, sizeof(body), "{\"model\":\"m\",%s,%s,\"tool_choice\":{\"type\":\"function\","
             "\"function\":{\"name\":\"get_w\"}}}", MSGS, tools);
    gw_llm_chat_t c;
    accepted(body, &c);
    cr_assert_eq(c.has_tools, 1);
    gw_llm_chat_free(&c);
}

Test(request, assistant_tool_calls_and_parts_are_accepted)
{
    gw_llm_chat_t c;
    accepted("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
             "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},{\"type\":"
             "\"image_url\",\"image_url\":{\"url\":\"data:x\"}},{\"type\":\"text\",\"text\":"
             "\"here\"}]},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
             "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"42\"},{\"role\":\"user\","
             "\"content\":[{\"type\":\"text\",\"text\":\"and?\"}]}]}",
             &c);
    gw_buf_t text = GW_BUF_INIT, sys = GW_BUF_INIT;
    cr_assert_eq(gw_llm_chat_prompt(&c, &text, &sys, &err), 0);
    cr_assert_str_eq(text.data, "and?", "the last user message");
    cr_assert_str_eq(sys.data, "be brief");
    gw_buf_free(&text);
    gw_buf_free(&sys);
    gw_llm_chat_free(&c);
}

Test(request, agent_prompt_needs_user_text)
{
    gw_llm_chat_t c;
    accepted("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}", &c);
    gw_buf_t text = GW_BUF_INIT, sys = GW_BUF_INIT;
    cr_assert_eq(gw_llm_chat_prompt(&c, &text, &sys, &err), -1);
    cr_assert_str_eq(err.param, "messages");
    cr_assert(strstr(err.message, "needs a 'user' message") != NULL);
    gw_buf_free(&text);
    gw_buf_free(&sys);
    gw_llm_chat_free(&c);
}

Test(request, sampling_members_for_agent_turns)
{
    gw_llm_chat_t c;
    accepted("{\"model\":\"m\"," MSGS ",\"temperature\":0.5,\"max_tokens\":9,\"stop\":[\"x\"],"
             "\"tools\":[],\"user\":\"u\"}",
             &c);
    char *s = gw_llm_sampling_json(c.root);
    cr_assert_str_eq(s, "{\"temperature\":0.5,\"max_tokens\":9,\"stop\":[\"x\"]}");
    free(s);
    gw_llm_chat_free(&c);
}

/* ---- /v1/responses ---- */

static void resp_refused(const char *body, const char *param, const char *code,
                         const char *needle)
{
    gw_llm_resp_req_t r;
    memset(&err, 0, sizeof(err));
    cr_assert_eq(gw_llm_resp_parse(body, strlen(body), &r, &err), -1, "accepted: %s", body);
    cr_assert_eq(err.status, 400);
    cr_assert(err.param && strcmp(err.param, param) == 0, "%s: param %s, want %s", body,
              err.param ? err.param : "null", param);
    cr_assert_str_eq(err.code, code, "%s", body);
    cr_assert(strstr(err.message, needle) != NULL, "%s: \"%s\" lacks \"%s\"", body, err.message,
              needle);
}

Test(responses_request, refusals)
{
    resp_refused("{\"input\":\"x\"}", "model", "missing_required_parameter", "model");
    resp_refused("{\"model\":\"m\"}", "input", "missing_required_parameter", "'input'");
    resp_refused("{\"model\":\"m\",\"input\":3}", "input", "invalid_type", "message items");
    resp_refused("{\"model\":\"m\",\"input\":[{\"role\":\"robot\",\"content\":\"x\"}]}",
                 "input[0].role", "invalid_value", "'user'");
    resp_refused("{\"model\":\"m\",\"input\":[{\"type\":\"function_call\"}]}", "input[0].type",
                 "unsupported_value", "only message items");
    resp_refused("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_image\"}]}]}",
                 "input[0].content[0]", "unsupported_value", "input_text");
    resp_refused("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_text\"}]}]}",
                 "input[0].content[0]", "missing_required_parameter", "'text'");
    resp_refused("{\"model\":\"m\",\"input\":[{\"role\":\"system\",\"content\":\"x\"}]}", "input",
                 "invalid_value", "no user text");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"temperature\":9}", "temperature",
                 "decimal_above_max_value", "<= 2");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"top_p\":2}", "top_p",
                 "decimal_above_max_value", "<= 1");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"max_output_tokens\":0}", "max_output_tokens",
                 "integer_below_min_value", ">= 1");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"function\"}]}", "tools",
                 "unsupported_parameter", "/v1/chat/completions");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"previous_response_id\":\"resp_1\"}",
                 "previous_response_id", "unsupported_parameter", "not stored");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"instructions\":[]}", "instructions",
                 "invalid_type", "a string");
    resp_refused("{\"model\":\"m\",\"input\":\"x\",\"stream\":1}", "stream", "invalid_type",
                 "a boolean");
}

Test(responses_request, the_chat_request_it_becomes)
{
    const char *body = "{\"model\":\"m\",\"instructions\":\"be nice\",\"temperature\":0.2,"
                       "\"max_output_tokens\":50,\"stream\":true,\"input\":[{\"role\":\"user\","
                       "\"content\":[{\"type\":\"input_text\",\"text\":\"hello\"},{\"type\":"
                       "\"input_text\",\"text\":\"there\"}]},{\"role\":\"developer\",\"content\":"
                       "\"short\"},{\"type\":\"message\",\"role\":\"user\",\"content\":"
                       "\"again\"}]}";
    gw_llm_resp_req_t r;
    cr_assert_eq(gw_llm_resp_parse(body, strlen(body), &r, &err), 0, "%s", err.message);
    cr_assert_str_eq(r.chat_body,
                     "{\"messages\":[{\"role\":\"system\",\"content\":\"be nice\"},{\"role\":"
                     "\"user\",\"content\":\"hello there\"},{\"role\":\"developer\",\"content\":"
                     "\"short\"},{\"role\":\"user\",\"content\":\"again\"}],\"temperature\":0.2,"
                     "\"max_tokens\":50,\"stream_options\":{\"include_usage\":true}}");
    cr_assert_eq(r.chat_len, strlen(r.chat_body));
    cr_assert_str_eq(r.prompt, "again", "the last user input is an agent's prompt");
    cr_assert_str_eq(r.system, "be nice\n\nshort");
    cr_assert_eq(r.stream, 1);
    cr_assert_eq(r.max_output_tokens, 50);
    gw_llm_resp_free(&r);
    body = "{\"model\":\"m\",\"input\":\"just text\"}";
    cr_assert_eq(gw_llm_resp_parse(body, strlen(body), &r, &err), 0);
    cr_assert_str_eq(r.chat_body, "{\"messages\":[{\"role\":\"user\",\"content\":\"just text\"}]}");
    cr_assert_null(r.system);
    gw_llm_resp_free(&r);
}
