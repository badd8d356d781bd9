/* Unit tests of plugins/provider-openai/classify.c (compiled in): status to
 * error class, Retry-After in all its forms, the upstream's error text and
 * the scrubbing of secrets. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "oai.h"

Test(classify, status_classes)
{
    static const struct {
        int status;
        int32_t cls;
    } cases[] = {
        {400, OC_PROV_ERR_REQUEST}, {404, OC_PROV_ERR_REQUEST}, {409, OC_PROV_ERR_REQUEST},
        {413, OC_PROV_ERR_REQUEST}, {422, OC_PROV_ERR_REQUEST}, {401, OC_PROV_ERR_AUTH},
        {403, OC_PROV_ERR_AUTH},    {402, OC_PROV_ERR_AUTH},    {429, OC_PROV_ERR_RATE},
        {408, OC_PROV_ERR_SERVER},  {500, OC_PROV_ERR_SERVER},  {502, OC_PROV_ERR_SERVER},
        {503, OC_PROV_ERR_SERVER},  {504, OC_PROV_ERR_SERVER},  {529, OC_PROV_ERR_SERVER},
        {302, OC_PROV_ERR_SERVER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(oai_class_of_status(cases[i].status), cases[i].cls, "HTTP %d",
                     cases[i].status);
    cr_expect_eq(oai_status_of_class(OC_PROV_ERR_RATE), OC_ELIMIT);
    cr_expect_eq(oai_status_of_class(OC_PROV_ERR_AUTH), OC_EACCES);
    cr_expect_eq(oai_status_of_class(OC_PROV_ERR_TIMEOUT), OC_ETIMEDOUT);
    cr_expect_eq(oai_status_of_class(OC_PROV_ERR_CANCELED), OC_ECANCELED);
    cr_expect_eq(oai_status_of_class(OC_PROV_ERR_NETWORK), OC_EIO);
    cr_expect_eq(oai_status_of_class(OC_PROV_ERR_REQUEST), OC_EINVAL);
}

static uint32_t ra(const char *name, const char *value, int64_t now)
{
    oc_http_header_t h[] = {{"content-type", "application/json"}, {name, value}};
    return oai_retry_after_ms(h, 2, now);
}

Test(classify, retry_after_seconds)
{
    cr_expect_eq(ra("retry-after", "7", 0), 7000);
    cr_expect_eq(ra("Retry-After", " 0 ", 0), 0);
    cr_expect_eq(ra("retry-after", "1.5", 0), 1500);
    cr_expect_eq(ra("retry-after", "-3", 0), 0);
    cr_expect_eq(ra("retry-after", "soon", 0), 0);
    cr_expect_eq(ra("retry-after", "99999999999", 0), 24u * 3600u * 1000u, "capped at a day");
    cr_expect_eq(ra("x-other", "7", 0), 0);
}

Test(classify, retry_after_ms_header_wins)
{
    oc_http_header_t h[] = {{"retry-after", "20"}, {"retry-after-ms", "1234"}};
    cr_expect_eq(oai_retry_after_ms(h, 2, 0), 1234);
    oc_http_header_t bad[] = {{"retry-after", "2"}, {"retry-after-ms", "x"}};
    cr_expect_eq(oai_retry_after_ms(bad, 2, 0), 2000, "an unparsable -ms falls back");
}

Test(classify, http_dates)
{
    int64_t t;
    cr_assert_eq(oai_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(oai_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(oai_parse_http_date("Sun Nov  6 08:49:37 1994", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(oai_parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT", &t), 0);
    cr_expect_eq(t, 1709251199);
    cr_expect_neq(oai_parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT", &t), 0);
    cr_expect_neq(oai_parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT", &t), 0);
    cr_expect_neq(oai_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing", &t), 0);
    cr_expect_neq(oai_parse_http_date("", &t), 0);

    int64_t now = 784111777 - 30;
    cr_expect_eq(ra("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT", now), 30000);
    cr_expect_eq(ra("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT", now + 60), 0, "in the past");
}

Test(classify, error_messages)
{
    char m[128];
    const char *openai = "{\"error\":{\"message\":\"Rate limit reached for gpt-4o\","
                         "\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
    oai_error_message(openai, strlen(openai), m, sizeof m);
    cr_expect_str_eq(m, "Rate limit reached for gpt-4o");
    const char *s = "{\"error\":\"plain string\"}";
    oai_error_message(s, strlen(s), m, sizeof m);
    cr_expect_str_eq(m, "plain string");
    const char *fastapi = "{\"detail\":\"Not Found\"}";
    oai_error_message(fastapi, strlen(fastapi), m, sizeof m);
    cr_expect_str_eq(m, "Not Found");
    const char *top = "{\"message\":\"overloaded\"}";
    oai_error_message(top, strlen(top), m, sizeof m);
    cr_expect_str_eq(m, "overloaded");
    const char *html = "<html>\r\n<h1>502 Bad Gateway</h1></html>";
    oai_error_message(html, strlen(html), m, sizeof m);
    cr_expect_str_eq(m, "<html>  <h1>502 Bad Gateway</h1></html>", "control characters blanked");
    oai_error_message("{}", 2, m, sizeof m);
    cr_expect_str_eq(m, "");
    oai_error_message(NULL, 0, m, sizeof m);
    cr_expect_str_eq(m, "");
    const char *nl = "{\"error\":{\"message\":\"line1\\nline2\"}}";
    oai_error_message(nl, strlen(nl), m, sizeof m);
    cr_expect_str_eq(m, "line1 line2");
    char tiny[8];
    oai_error_message(openai, strlen(openai), tiny, sizeof tiny);
    cr_expect_str_eq(tiny, "Rate li");
}

Test(classify, scrub_secrets)
{
    const char *secrets[] = {"sk-secret-1234", "abc", "tok-98765", NULL};
    char s[128] = "bad key sk-secret-1234 and sk-secret-1234, token tok-98765; abc stays";
    oai_scrub(s, sizeof s, secrets);
    cr_expect_str_eq(s, "bad key [redacted] and [redacted], token [redacted]; abc stays");
    /* A short buffer: the text is cut, never overflowed, never leaks. */
    char t[13] = "ab tok-98765"; /* "[redacted]" is longer than this secret */
    oai_scrub(t, sizeof t, secrets);
    cr_expect_null(strstr(t, "tok-98765"));
    cr_expect_leq(strlen(t), 12);
    char u[12] = "sk-secret-1";
    const char *one[] = {"sk-secret-1", NULL};
    oai_scrub(u, sizeof u, one);
    cr_expect_str_eq(u, "[redacted]");
}

Test(classify, chunk_inspection)
{
    int64_t p = -1, c = -1;
    char m[64];
    const char *delta = "{\"choices\":[{\"delta\":{\"content\":\"the \\\"usage\\\" word\"}}],"
                        "\"usage\":null}";
    cr_expect_eq(oai_chunk_inspect(delta, strlen(delta), &p, &c, m, sizeof m), 0);
    cr_expect_eq(p, -1);
    const char *u = "{\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}";
    cr_expect_eq(oai_chunk_inspect(u, strlen(u), &p, &c, m, sizeof m), OAI_CHUNK_USAGE);
    cr_expect_eq(p, 9);
    cr_expect_eq(c, 4);
    const char *e = "{\"error\":{\"message\":\"overloaded\"}}";
    cr_expect_eq(oai_chunk_inspect(e, strlen(e), &p, &c, m, sizeof m), OAI_CHUNK_ERROR);
    cr_expect_str_eq(m, "overloaded");
    cr_expect_eq(oai_chunk_inspect("not json", 8, &p, &c, m, sizeof m), OAI_CHUNK_BAD);
    cr_expect_eq(oai_chunk_inspect("[1,2]", 5, &p, &c, m, sizeof m), OAI_CHUNK_BAD);
    const char *broken = "{\"usage\":{\"prompt_tokens\":1}";
    cr_expect_eq(oai_chunk_inspect(broken, strlen(broken), &p, &c, m, sizeof m), OAI_CHUNK_BAD);
}

Test(classify, response_check)
{
    int64_t p, c;
    char why[128];
    const char *ok = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"x\"}}],"
                     "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}";
    cr_expect_eq(oai_response_check(ok, strlen(ok), &p, &c, why, sizeof why), 0);
    cr_expect_eq(p, 3);
    cr_expect_eq(c, 1);
    const char *nousage = "{\"choices\":[{\"message\":{\"content\":\"x\"}}]}";
    cr_expect_eq(oai_response_check(nousage, strlen(nousage), &p, &c, why, sizeof why), 0);
    cr_expect_eq(p, -1);
    cr_expect_eq(c, -1);
    const char *bad[] = {"", "nope", "[]", "{\"choices\":[]}", "{\"choices\":[{}]}",
                         "{\"choices\":[{\"message\":\"x\"}]}",
                         "{\"error\":{\"message\":\"m\"},\"choices\":[{\"message\":{}}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(oai_response_check(bad[i], strlen(bad[i]), &p, &c, why, sizeof why), -1,
                     "%s", bad[i]);
}

Test(classify, request_body)
{
    char *out;
    size_t n;
    char err[128];
    const char *in = "{\"model\":\"client\",\"stream\":true,\"stream_options\":{\"include_usage\""
                     ":true},\"messages\":[{\"role\":\"user\",\"content\":\"a/b \\u00e9\"}],"
                     "\"temperature\":0.7}";
    cr_assert_eq(oai_request_body(in, strlen(in), "gpt-x", 0, &out, &n, err, sizeof err), OC_OK);
    cr_expect_eq(strlen(out), n);
    cr_expect_str_eq(out, "{\"model\":\"gpt-x\",\"stream\":false,\"messages\":[{\"role\":\"user\","
                          "\"content\":\"a/b \xc3\xa9\"}],\"temperature\":0.7}");
    free(out);
    cr_assert_eq(oai_request_body(in, strlen(in), "gpt-x", 1, &out, &n, err, sizeof err), OC_OK);
    cr_expect_not_null(strstr(out, "\"stream\":true"));
    cr_expect_not_null(strstr(out, "\"stream_options\":{\"include_usage\":true}"));
    free(out);
    const char *bad[] = {"", "[]", "{", "{} x", "\"s\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(oai_request_body(bad[i], strlen(bad[i]), "m", 0, &out, &n, err, sizeof err),
                     OC_EINVAL, "%s", bad[i]);
        cr_expect_null(out);
    }
    cr_expect_eq(oai_request_body("{} \n", 4, "m", 0, &out, &n, err, sizeof err), OC_OK);
    free(out);
}
