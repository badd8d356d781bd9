/* provider-openai, non-streaming: the request the upstream sees, the result
 * the core gets, every error class, Retry-After, retries, connection reuse
 * and secrets kept out of error texts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

Test(openai_chat, success_and_the_request_the_upstream_saw)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, "    headers:\n"
                        "      OpenAI-Organization: org-42\n"
                        "      X-Custom: \"yes please\"\n");
    route_json(&f, 200, NULL, COMPLETION_BODY);
    const char *body = "{\"model\":\"client-model\",\"stream\":true,"
                       "\"stream_options\":{\"include_usage\":true},"
                       "\"messages\":[{\"role\":\"user\",\"content\":\"hi / there\"}],"
                       "\"temperature\":0.7,\"tools\":[{\"type\":\"function\"}]}";
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, "gpt-4o-mini", 0, body, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000), "no on_done");
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NONE);
    cr_expect_eq(r.res.http_status, 200);
    cr_expect_null(r.error);
    cr_expect_str_eq(r.body, COMPLETION_BODY, "the upstream's body, unchanged");
    cr_expect_eq(r.res.prompt_tokens, 12);
    cr_expect_eq(r.res.completion_tokens, 3);
    cr_expect_eq(r.nchunks, 0);

    cr_assert_eq(gw_ths_request_count(f.srv), 1);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(q.method, "POST");
    cr_expect_str_eq(q.path, COMPLETIONS);
    cr_expect_str_eq(gw_ths_request_header(&q, "authorization"), "Bearer " TEST_KEY);
    cr_expect_str_eq(gw_ths_request_header(&q, "openai-organization"), "org-42");
    cr_expect_str_eq(gw_ths_request_header(&q, "x-custom"), "yes please");
    cr_expect_str_eq(gw_ths_request_header(&q, "content-type"), "application/json");
    cr_expect_str_eq(gw_ths_request_header(&q, "accept"), "application/json");
    json_object *sent = json_tokener_parse(q.body);
    cr_assert_not_null(sent, "body: %s", q.body);
    cr_expect_str_eq(json_object_get_string(member(sent, "model")), "gpt-4o-mini");
    cr_expect(json_object_is_type(member(sent, "stream"), json_type_boolean));
    cr_expect_eq(json_object_get_boolean(member(sent, "stream")), 0);
    cr_expect_null(member(sent, "stream_options"), "dropped when not streaming");
    cr_expect_eq(json_object_get_double(member(sent, "temperature")), 0.7);
    cr_expect_not_null(member(sent, "tools"));
    cr_expect_not_null(strstr(q.body, "\"hi / there\""), "no \\/ escaping: %s", q.body);
    json_object_put(sent);
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, default_model_when_the_request_has_none)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 200, NULL, COMPLETION_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, "", 0, "{\"model\":\"x\",\"messages\":[]}", 0, 0),
                 OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_not_null(strstr(q.body, "\"model\":\"gpt-4o-mini\""), "%s", q.body);
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, usage_absent_gives_minus_one)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 200, NULL,
               "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
               "\"content\":\"x\"}}]}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK);
    cr_expect_eq(r.res.prompt_tokens, -1);
    cr_expect_eq(r.res.completion_tokens, -1);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, bad_requests_are_refused_now)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    rec_t r = {0};
    cr_expect_eq(rec_start(&f, &r, NULL, 0, "not json", 0, 0), OC_EINVAL);
    cr_expect_eq(rec_start(&f, &r, NULL, 0, "[1]", 0, 0), OC_EINVAL);
    cr_expect_eq(rec_start(&f, &r, NULL, 0, "", 0, 0), OC_EINVAL);
    /* Streaming without on_chunk. */
    oc_chat_callbacks_t cbs = {.struct_size = sizeof cbs, .on_done = NULL};
    oc_chat_request_t req = {.struct_size = sizeof req, .stream = 1, .body_json = "{}",
                             .body_len = 2};
    oc_provider_call_t *call = NULL;
    cr_expect_eq(f.ops->chat(f.st, &req, &cbs, NULL, &call), OC_EINVAL);
    run_for(&f, 50);
    cr_expect_eq(r.ndone, 0);
    cr_expect_eq(gw_ths_request_count(f.srv), 0);
    rec_free(&r);
    fx_free(&f);
}

/* One failing status: class, status, message, http_status. */
static void expect_failure(int status, int32_t cls, int32_t code)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    char body[256];
    snprintf(body, sizeof body,
             "{\"error\":{\"message\":\"upstream says %d\",\"type\":\"t\",\"code\":null}}", status);
    route_json(&f, status, NULL, body);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, cls, "HTTP %d: class %d, want %d", status,
                 r.res.error_class, cls);
    cr_expect_eq(r.res.status, code, "HTTP %d: status %d", status, r.res.status);
    cr_expect_eq(r.res.http_status, status);
    cr_expect_null(r.body);
    cr_assert_not_null(r.error);
    char want[64];
    snprintf(want, sizeof want, "upstream says %d", status);
    cr_expect_not_null(strstr(r.error, want), "error: %s", r.error);
    snprintf(want, sizeof want, "HTTP %d", status);
    cr_expect_not_null(strstr(r.error, want), "error: %s", r.error);
    cr_expect_eq(r.res.prompt_tokens, -1);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, request_errors)
{
    expect_failure(400, OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(404, OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(409, OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(413, OC_PROV_ERR_REQUEST, OC_EINVAL);
    expect_failure(422, OC_PROV_ERR_REQUEST, OC_EINVAL);
}

Test(openai_chat, auth_errors)
{
    expect_failure(401, OC_PROV_ERR_AUTH, OC_EACCES);
    expect_failure(403, OC_PROV_ERR_AUTH, OC_EACCES);
}

Test(openai_chat, rate_limit)
{
    expect_failure(429, OC_PROV_ERR_RATE, OC_ELIMIT);
}

Test(openai_chat, server_errors)
{
    expect_failure(500, OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(502, OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(503, OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(504, OC_PROV_ERR_SERVER, OC_EUNAVAIL);
    expect_failure(408, OC_PROV_ERR_SERVER, OC_EUNAVAIL);
}

static uint32_t retry_after_of(const char *headers)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 429, headers, "{\"error\":{\"message\":\"slow down\"}}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    uint32_t v = r.res.retry_after_ms;
    rec_free(&r);
    fx_free(&f);
    return v;
}

Test(openai_chat, retry_after)
{
    cr_expect_eq(retry_after_of("Retry-After: 7\r\n"), 7000);
    cr_expect_eq(retry_after_of("retry-after-ms: 1500\r\nRetry-After: 2\r\n"), 1500);
    cr_expect_eq(retry_after_of(NULL), 0);
    char h[128];
    time_t at = time(NULL) + 30;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(h, sizeof h, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    uint32_t v = retry_after_of(h);
    cr_expect(v >= 27000 && v <= 30000, "HTTP-date 30 s ahead gave %u ms", v);
}

Test(openai_chat, ok_status_with_unparsable_body_is_a_server_error)
{
    const char *bodies[] = {"<html>oops</html>", "{\"choices\":[]}",
                            "{\"error\":{\"message\":\"model overloaded\"}}", ""};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        fx_t f = {0};
        fx_server(&f);
        fx_load_default(&f, NULL);
        route_json(&f, 200, NULL, bodies[i]);
        rec_t r = {0};
        cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
        cr_assert(rec_wait(&f, &r, 5000));
        cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER, "body %zu", i);
        cr_expect_eq(r.res.http_status, 200);
        cr_expect_null(r.body);
        cr_assert_not_null(r.error);
        if (i == 2)
            cr_expect_not_null(strstr(r.error, "model overloaded"), "%s", r.error);
        rec_free(&r);
        fx_free(&f);
    }
}

Test(openai_chat, the_key_never_reaches_the_error_text_or_the_log)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, "    headers: {X-Api-Token: tok-very-secret-99}\n");
    route_json(&f, 401, NULL,
               "{\"error\":{\"message\":\"Incorrect API key provided: " TEST_KEY
               " (token tok-very-secret-99)\"}}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_AUTH);
    cr_assert_not_null(r.error);
    cr_expect_null(strstr(r.error, TEST_KEY), "%s", r.error);
    cr_expect_null(strstr(r.error, "tok-very-secret-99"), "%s", r.error);
    cr_expect_not_null(strstr(r.error, "Incorrect API key provided: [redacted]"), "%s", r.error);
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

Test(openai_chat, connection_refused_is_network)
{
    fx_t f = {0};
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "providers:\n  - {name: up, type: openai, model: m, baseUrl: "
             "\"http://127.0.0.1:%d/v1\"}\n",
             closed_port());
    fx_load(&f, yaml);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NETWORK);
    cr_expect_eq(r.res.status, OC_EIO);
    cr_expect_eq(r.res.http_status, 0);
    cr_expect_not_null(r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, connection_closed_without_answer_is_network)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    gw_ths_route(f.srv, COMPLETIONS, &(gw_ths_response_t){.close_without_response = 1});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NETWORK, "%s", r.error);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, total_timeout_from_config)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, "    timeoutMs: 300\n");
    gw_ths_route(f.srv, COMPLETIONS,
                 &(gw_ths_response_t){.delay_ms = 3000, .body = COMPLETION_BODY});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT, "%s", r.error);
    cr_expect_eq(r.res.status, OC_ETIMEDOUT);
    uint64_t took = r.done_at - r.started_at;
    cr_expect(took >= 250 && took < 2000, "took %llu ms", (unsigned long long)took);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, total_timeout_from_the_request)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL); /* timeoutMs 60000 */
    gw_ths_route(f.srv, COMPLETIONS,
                 &(gw_ths_response_t){.delay_ms = 3000, .body = COMPLETION_BODY});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 200, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_lt(r.done_at - r.started_at, 2000);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, retries_when_configured)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, "    maxRetries: 2\n");
    gw_ths_response_t busy = {.status = 503,
                              .headers = "retry-after-ms: 20\r\nContent-Type: application/json\r\n",
                              .body = "{\"error\":{\"message\":\"busy\"}}"};
    cr_assert_eq(gw_ths_route_once(f.srv, COMPLETIONS, &busy), 0);
    cr_assert_eq(gw_ths_route_once(f.srv, COMPLETIONS,
                                   &(gw_ths_response_t){.close_without_response = 1}),
                 0);
    route_json(&f, 200, NULL, COMPLETION_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 8000));
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    cr_expect_eq(gw_ths_request_count(f.srv), 3);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, retries_run_out)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, "    maxRetries: 1\n");
    route_json(&f, 429, "retry-after-ms: 10\r\n", "{\"error\":{\"message\":\"slow\"}}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 8000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    cr_expect_eq(r.res.retry_after_ms, 10);
    cr_expect_eq(gw_ths_request_count(f.srv), 2);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, no_retry_by_default_nor_for_request_errors)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 503, NULL, "{}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    cr_expect_eq(gw_ths_request_count(f.srv), 1);
    rec_free(&r);
    fx_free(&f);

    fx_t g = {0};
    fx_server(&g);
    fx_load_default(&g, "    maxRetries: 3\n");
    route_json(&g, 400, NULL, "{\"error\":{\"message\":\"bad\"}}");
    rec_t s = {0};
    cr_assert_eq(rec_start(&g, &s, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&g, &s, 5000));
    cr_expect_eq(s.res.error_class, OC_PROV_ERR_REQUEST);
    cr_expect_eq(gw_ths_request_count(g.srv), 1);
    rec_free(&s);
    fx_free(&g);
}

Test(openai_chat, retry_that_would_pass_the_deadline_is_not_made)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, "    maxRetries: 5\n    timeoutMs: 1000\n");
    route_json(&f, 429, "Retry-After: 30\r\n", "{\"error\":{\"message\":\"later\"}}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_RATE);
    cr_expect_eq(r.res.retry_after_ms, 30000);
    cr_expect_eq(gw_ths_request_count(f.srv), 1, "the core fails over at once instead");
    rec_free(&r);
    fx_free(&f);
}

Test(openai_chat, connections_are_reused)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    route_json(&f, 200, NULL, COMPLETION_BODY);
    for (int i = 0; i < 3; i++) {
        rec_t r = {0};
        cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
        cr_assert(rec_wait(&f, &r, 5000));
        cr_expect_eq(r.res.status, OC_OK);
        rec_free(&r);
    }
    cr_expect_eq(gw_ths_connection_count(f.srv), 1);
    fx_free(&f);
}

Test(openai_chat, stop_waits_for_calls_in_flight)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load_default(&f, NULL);
    gw_ths_route(f.srv, COMPLETIONS,
                 &(gw_ths_response_t){.delay_ms = 300,
                                      .headers = "Content-Type: application/json\r\n",
                                      .body = COMPLETION_BODY});
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
