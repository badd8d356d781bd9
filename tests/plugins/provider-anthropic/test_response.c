/* provider-anthropic, non-streaming through the .so: the chat.completion
 * the core gets for each kind of Anthropic message, every error class,
 * Retry-After, retries, timeouts, connection reuse, stop, and secrets kept
 * out of error texts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

/* The upstream answers `answer`; returns the recorded call. */
static void answer(fx_t *f, rec_t *r, const char *answer_body)
{
    route_json(f, 200, NULL, answer_body);
    rec_run(f, r, 0, NULL);
}

Test(ant_response, text_answer)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    rec_t r = {0};
    time_t before = time(NULL);
    answer(&f, &r, MESSAGE_BODY);
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NONE);
    cr_expect_eq(r.res.http_status, 200);
    cr_expect_null(r.error);
    cr_expect_eq(r.res.prompt_tokens, 12);
    cr_expect_eq(r.res.completion_tokens, 3);
    cr_expect_eq(r.nchunks, 0);
    cr_assert_not_null(r.body);
    char *body = norm_created(r.body);
    cr_expect_str_eq(body, "{\"id\":\"msg_01\",\"object\":\"chat.completion\",\"created\":0,"
                           "\"model\":\"claude-test-20250101\",\"choices\":[{\"index\":0,"
                           "\"message\":{\"role\":\"assistant\",\"content\":\"hi there\"},"
                           "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":"
                           "{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}");
    free(body);
    json_object *o = json_tokener_parse(r.body);
    int64_t created = json_object_get_int64(at(o, "created"));
    cr_expect(created >= before && created <= time(NULL) + 1, "created %lld", (long long)created);
    json_object_put(o);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, text_blocks_joined_tool_uses_as_tool_calls)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    rec_t r = {0};
    answer(&f, &r,
           "{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\","
           "\"content\":[{\"type\":\"thinking\",\"thinking\":\"hmm\",\"signature\":\"s\"},"
           "{\"type\":\"text\",\"text\":\"Checking \"},{\"type\":\"text\",\"text\":\"now.\\n\"},"
           "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":"
           "{\"city\":\"Paris\",\"days\":[1,2],\"note\":\"a \\\"b\\\"\"}},"
           "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"get_time\",\"input\":{}}],"
           "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":10,"
           "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":1000,"
           "\"output_tokens\":20}}");
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    json_object *o = json_tokener_parse(r.body);
    cr_assert_not_null(o, "%s", r.body);
    cr_expect_str_eq(text_at(o, "id"), "msg_2");
    cr_expect_str_eq(text_at(o, "model"), "claude-x");
    cr_expect_str_eq(text_at(o, "choices.0.message.content"), "Checking now.\n");
    cr_expect_str_eq(text_at(o, "choices.0.finish_reason"), "tool_calls");
    cr_expect_str_eq(json_at(o, "choices.0.message.tool_calls"),
                     "[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":"
                     "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"days\\\":"
                     "[1,2],\\\"note\\\":\\\"a \\\\\\\"b\\\\\\\"\\\"}\"}},"
                     "{\"id\":\"toolu_2\",\"type\":\"function\",\"function\":{\"name\":"
                     "\"get_time\",\"arguments\":\"{}\"}}]");
    /* The arguments string parses back to the input. */
    json_object *args = json_tokener_parse(text_at(o, "choices.0.message.tool_calls.0."
                                                      "function.arguments"));
    cr_expect_str_eq(text_at(args, "note"), "a \"b\"");
    json_object_put(args);
    cr_expect_eq(r.res.prompt_tokens, 1110, "cached input counts as prompt");
    cr_expect_eq(r.res.completion_tokens, 20);
    cr_expect_eq(json_object_get_int(at(o, "usage.total_tokens")), 1130);
    json_object_put(o);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, only_tool_calls_gives_null_content)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    rec_t r = {0};
    answer(&f, &r,
           "{\"type\":\"message\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":"
           "\"f\",\"input\":{\"a\":1}}],\"stop_reason\":\"tool_use\"}");
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_not_null(strstr(r.body, "\"message\":{\"role\":\"assistant\",\"content\":null,"
                                      "\"tool_calls\":[{"),
                       "%s", r.body);
    /* No id or model in the answer: a stand-in id and the requested model. */
    json_object *o = json_tokener_parse(r.body);
    cr_expect_str_eq(text_at(o, "id"), "msg");
    cr_expect_str_eq(text_at(o, "model"), "claude-test");
    cr_expect_null(at(o, "usage"), "no usage in, none out");
    json_object_put(o);
    cr_expect_eq(r.res.prompt_tokens, -1);
    cr_expect_eq(r.res.completion_tokens, -1);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, stop_reasons)
{
    static const struct {
        const char *reason, *finish;
    } cases[] = {{"\"end_turn\"", "stop"},         {"\"stop_sequence\"", "stop"},
                 {"\"max_tokens\"", "length"},     {"\"tool_use\"", "tool_calls"},
                 {"\"refusal\"", "content_filter"}, {"null", "stop"},
                 {"\"something_new\"", "stop"}};
    fx_t f = {0};
    fx_up(&f, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}],"
                 "\"stop_reason\":%s}",
                 cases[i].reason);
        rec_t r = {0};
        answer(&f, &r, body);
        cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
        json_object *o = json_tokener_parse(r.body);
        cr_expect_str_eq(text_at(o, "choices.0.finish_reason"), cases[i].finish, "%s",
                         cases[i].reason);
        json_object_put(o);
        rec_free(&r);
    }
    fx_free(&f);
}

Test(ant_response, ok_status_with_a_body_that_is_not_a_message)
{
    static const struct {
        const char *body;
        int32_t cls;
        const char *word;
    } cases[] = {
        {"<html>oops</html>", OC_PROV_ERR_SERVER, "not a JSON object"},
        {"", OC_PROV_ERR_SERVER, "not a JSON object"},
        {"{\"type\":\"message\"}", OC_PROV_ERR_SERVER, "content array"},
        {"{\"type\":\"completion\",\"content\":[]}", OC_PROV_ERR_SERVER, "content array"},
        {"{\"type\":\"message\",\"content\":[{\"type\":\"tool_use\",\"input\":{}}]}",
         OC_PROV_ERR_SERVER, "without id or name"},
        {"{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
         "\"Overloaded\"}}",
         OC_PROV_ERR_SERVER, "overloaded_error: Overloaded"},
        {"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
         "\"bad\"}}",
         OC_PROV_ERR_REQUEST, "invalid_request_error: bad"},
    };
    fx_t f = {0};
    fx_up(&f, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec_t r = {0};
        answer(&f, &r, cases[i].body);
        cr_expect_eq(r.res.error_class, cases[i].cls, "body %zu: class %d", i,
                     r.res.error_class);
        cr_expect_eq(r.res.http_status, 200);
        cr_expect_null(r.body);
        cr_assert_not_null(r.error);
        cr_expect_not_null(strstr(r.error, cases[i].word), "body %zu: %s", i, r.error);
        cr_expect_eq(r.res.prompt_tokens, -1);
        rec_free(&r);
    }
    fx_free(&f);
}

/* One failing status with an Anthropic error body: class, status, text. */
static void expect_failure(fx_t *f, int status, const char *type, int32_t cls, int32_t code)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"upstream says %d\"}}",
             type, status);
    route_json(f, status, NULL, body);
    rec_t r = {0};
    rec_run(f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, cls, "HTTP %d: class %d, want %d", status,
                 r.res.error_class, cls);
    cr_expect_eq(r.res.status, code, "HTTP %d: status %d", status, r.res.status);
    cr_expect_eq(r.res.http_status, status);
    cr_expect_null(r.body);
    cr_assert_not_null(r.error);
    char want[128];
    snprintf(want, sizeof want, "the upstream answered HTTP %d: %s: upstream says %d", status,
             type, status);
    cr_expect_str_eq(r.error, want);
    cr_expect_eq(r.res.prompt_tokens, -1);
    cr_expect_eq(r.res.completion_tokens, -1);
    rec_free(&r);
}

Test(ant_response, every_error_status)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    expect_failure(&f, 400, "invalid_request_error", OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(&f, 404, "not_found_error", OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(&f, 413, "request_too_large", OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(&f, 422, "invalid_request_error", OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(&f, 401, "authentication_error", OC_PROV_ERR_AUTH, OC_EACCES);
    expect_failure(&f, 403, "permission_error", OC_PROV_ERR_AUTH, OC_EACCES);
    expect_failure(&f, 429, "rate_limit_error", OC_PROV_ERR_RATE, OC_ELIMIT);
    expect_failure(&f, 500, "api_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(&f, 502, "api_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(&f, 503, "api_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(&f, 504, "timeout_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(&f, 529, "overloaded_error", OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    fx_free(&f);
}

Test(ant_response, error_body_that_is_not_anthropic_json)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    gw_ths_route(f.srv, MESSAGES,
                 &(gw_ths_response_t){.status = 502,
                                      .headers = "Content-Type: text/html\r\n",
                                      .body = "<html>\r\n<h1>502 Bad Gateway</h1></html>"});
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_str_eq(r.error, "the upstream answered HTTP 502: <html>  <h1>502 Bad Gateway</h1>"
                              "</html>");
    rec_free(&r);
    fx_free(&f);
}

static uint32_t retry_after_of(fx_t *f, const char *headers)
{
    route_json(f, 429, headers,
               "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"x\"}}");
    rec_t r = {0};
    rec_run(f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    uint32_t v = r.res.retry_after_ms;
    rec_free(&r);
    return v;
}

Test(ant_response, retry_after)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    cr_expect_eq(retry_after_of(&f, "retry-after: 7\r\n"), 7000);
    cr_expect_eq(retry_after_of(&f, NULL), 0);
    char h[256];
    time_t at = time(NULL) + 30;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(h, sizeof h, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    uint32_t v = retry_after_of(&f, h);
    cr_expect(v >= 27000 && v <= 30000, "HTTP-date 30 s ahead gave %u ms", v);
    /* No Retry-After: the reset of the exhausted limit (tokens here). */
    at = time(NULL) + 20;
    gmtime_r(&at, &tm);
    char reset[64];
    strftime(reset, sizeof reset, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(h, sizeof h,
             "anthropic-ratelimit-requests-remaining: 10\r\n"
             "anthropic-ratelimit-requests-reset: 2000-01-01T00:00:00Z\r\n"
             "anthropic-ratelimit-tokens-remaining: 0\r\n"
             "anthropic-ratelimit-tokens-reset: %s\r\n",
             reset);
    v = retry_after_of(&f, h);
    cr_expect(v >= 17000 && v <= 20000, "ratelimit reset 20 s ahead gave %u ms", v);
    fx_free(&f);
}

Test(ant_response, the_key_never_reaches_the_error_text_or_the_log)
{
    fx_t f = {0};
    fx_up(&f, "    headers: {X-Proxy-Token: tok-very-secret-99}\n");
    route_json(&f, 401, NULL,
               "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":"
               "\"invalid x-api-key " TEST_KEY " (token tok-very-secret-99)\"}}");
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_AUTH);
    cr_assert_not_null(r.error);
    cr_expect_null(strstr(r.error, TEST_KEY), "%s", r.error);
    cr_expect_null(strstr(r.error, "tok-very-secret-99"), "%s", r.error);
    cr_expect_not_null(strstr(r.error, "invalid x-api-key [redacted] (token [redacted])"), "%s",
                       r.error);
    cr_expect_null(strstr(oc_test_host_errors(f.th), TEST_KEY));
    rec_free(&r);
    fx_free(&f);
}

/* A loopback port nobody listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

Test(ant_response, connection_refused_is_network)
{
    fx_t f = {0};
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "providers:\n  - {name: up, type: anthropic, model: m, baseUrl: "
             "\"http://127.0.0.1:%d\"}\n",
             closed_port());
    fx_load(&f, yaml);
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NETWORK);
    cr_expect_eq(r.res.status, OC_EIO);
    cr_expect_eq(r.res.http_status, 0);
    cr_expect_not_null(strstr(r.error, "cannot reach the upstream"), "%s", r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, connection_closed_without_answer_is_network)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    gw_ths_route(f.srv, MESSAGES, &(gw_ths_response_t){.close_without_response = 1});
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NETWORK, "%s", r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, total_timeout_from_config)
{
    fx_t f = {0};
    fx_up(&f, "    timeoutMs: 300\n");
    gw_ths_route(f.srv, MESSAGES, &(gw_ths_response_t){.delay_ms = 3000, .body = MESSAGE_BODY});
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT, "%s", r.error);
    cr_expect_eq(r.res.status, OC_ETIMEDOUT);
    uint64_t took = r.done_at - r.started_at;
    cr_expect(took >= 250 && took < 2000, "took %llu ms", (unsigned long long)took);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, total_timeout_from_the_request)
{
    fx_t f = {0};
    fx_up(&f, NULL); /* timeoutMs 60000 */
    gw_ths_route(f.srv, MESSAGES, &(gw_ths_response_t){.delay_ms = 3000, .body = MESSAGE_BODY});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 200, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_lt(r.done_at - r.started_at, 2000);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, retries_when_configured)
{
    fx_t f = {0};
    fx_up(&f, "    maxRetries: 2\n");
    gw_ths_response_t busy = {
        .status = 529,
        .headers = "retry-after: 0.02\r\nContent-Type: application/json\r\n",
        .body = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                "\"message\":\"Overloaded\"}}"};
    cr_assert_eq(gw_ths_route_once(f.srv, MESSAGES, &busy), 0);
    cr_assert_eq(gw_ths_route_once(f.srv, MESSAGES,
                                   &(gw_ths_response_t){.close_without_response = 1}),
                 0);
    route_json(&f, 200, NULL, MESSAGE_BODY);
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(gw_ths_request_count(f.srv), 3);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, retries_run_out)
{
    fx_t f = {0};
    fx_up(&f, "    maxRetries: 1\n");
    route_json(&f, 429, "retry-after: 0.01\r\n",
               "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"x\"}}");
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    cr_expect_eq(r.res.retry_after_ms, 10);
    cr_expect_eq(gw_ths_request_count(f.srv), 2);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, no_retry_by_default_nor_for_request_errors)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_json(&f, 503, NULL, "{}");
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_eq(gw_ths_request_count(f.srv), 1);
    rec_free(&r);
    fx_free(&f);

    fx_t g = {0};
    fx_up(&g, "    maxRetries: 3\n");
    route_json(&g, 400, NULL, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                              "\"message\":\"bad\"}}");
    rec_t s = {0};
    rec_run(&g, &s, 0, NULL);
    cr_expect_eq(s.res.error_class, OC_PROV_ERR_REQUEST);
    cr_expect_eq(gw_ths_request_count(g.srv), 1);
    rec_free(&s);
    fx_free(&g);
}

Test(ant_response, retry_that_would_pass_the_deadline_is_not_made)
{
    fx_t f = {0};
    fx_up(&f, "    maxRetries: 5\n    timeoutMs: 1000\n");
    route_json(&f, 429, "retry-after: 30\r\n",
               "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"x\"}}");
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    cr_expect_eq(r.res.retry_after_ms, 30000);
    cr_expect_eq(gw_ths_request_count(f.srv), 1, "the core fails over at once instead");
    rec_free(&r);
    fx_free(&f);
}

Test(ant_response, connections_are_reused)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_json(&f, 200, NULL, MESSAGE_BODY);
    for (int i = 0; i < 3; i++) {
        rec_t r = {0};
        rec_run(&f, &r, 0, NULL);
        cr_expect_eq(r.res.status, OC_OK);
        rec_free(&r);
    }
    cr_expect_eq(gw_ths_connection_count(f.srv), 1);
    fx_free(&f);
}

Test(ant_response, stop_waits_for_calls_in_flight)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    gw_ths_route(f.srv, MESSAGES,
                 &(gw_ths_response_t){.delay_ms = 300,
                                      .headers = "Content-Type: application/json\r\n",
                                      .body = MESSAGE_BODY});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    /* Stops every plugin, running the loop until their done: ours comes
     * only once the call ended, so on_done must have run by then. */
    oc_test_host_free(f.th);
    f.th = NULL;
    cr_expect_eq(r.ndone, 1);
    cr_expect_eq(r.res.status, OC_OK);
    rec_free(&r);
    fx_free(&f);
}
