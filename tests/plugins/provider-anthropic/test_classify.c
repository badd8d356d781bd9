/* Unit tests of plugins/provider-anthropic/classify.c (compiled in): HTTP
 * status and error.type to error class, Retry-After in all its forms
 * (anthropic-ratelimit-*-reset included), dates, the upstream's error text
 * and the scrubbing of secrets. */
#include <criterion/criterion.h>
#include <string.h>

#include "ant.h"

Test(ant_classify, status_classes)
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
        cr_expect_eq(ant_class_of_status(cases[i].status), cases[i].cls, "HTTP %d",
                     cases[i].status);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_NONE), OC_OK);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_REQUEST), OC_EINVAL);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_AUTH), OC_EACCES);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_RATE), OC_ELIMIT);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_SERVER), OC_EUNAVAIL);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_NETWORK), OC_EIO);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_TIMEOUT), OC_ETIMEDOUT);
    cr_expect_eq(ant_status_of_class(OC_PROV_ERR_CANCELED), OC_ECANCELED);
}

Test(ant_classify, error_type_classes)
{
    static const struct {
        const char *type;
        int32_t cls;
    } cases[] = {
        {"invalid_request_error", OC_PROV_ERR_REQUEST},
        {"not_found_error", OC_PROV_ERR_REQUEST},
        {"request_too_large", OC_PROV_ERR_REQUEST},
        {"authentication_error", OC_PROV_ERR_AUTH},
        {"permission_error", OC_PROV_ERR_AUTH},
        {"billing_error", OC_PROV_ERR_AUTH},
        {"rate_limit_error", OC_PROV_ERR_RATE},
        {"overloaded_error", OC_PROV_ERR_SERVER},
        {"api_error", OC_PROV_ERR_SERVER},
        {"timeout_error", OC_PROV_ERR_SERVER},
        {"brand_new_error", OC_PROV_ERR_SERVER},
        {NULL, OC_PROV_ERR_SERVER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(ant_class_of_error_type(cases[i].type), cases[i].cls, "%s",
                     cases[i].type ? cases[i].type : "NULL");
}

static uint32_t ra(const char *name, const char *value, int64_t now)
{
    oc_http_header_t h[] = {{"content-type", "application/json"}, {name, value}};
    return ant_retry_after_ms(h, 2, now);
}

Test(ant_classify, retry_after_seconds)
{
    cr_expect_eq(ra("retry-after", "7", 0), 7000);
    cr_expect_eq(ra("Retry-After", " 0 ", 0), 0);
    cr_expect_eq(ra("retry-after", "1.5", 0), 1500);
    cr_expect_eq(ra("retry-after", "-3", 0), 0);
    cr_expect_eq(ra("retry-after", "soon", 0), 0);
    cr_expect_eq(ra("retry-after", "99999999999", 0), 24u * 3600u * 1000u, "capped at a day");
    cr_expect_eq(ra("x-other", "7", 0), 0);
}

Test(ant_classify, http_dates)
{
    int64_t t;
    cr_assert_eq(ant_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_http_date("Sun Nov  6 08:49:37 1994", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_expect_neq(ant_parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT", &t), 0);
    cr_expect_neq(ant_parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT", &t), 0);
    cr_expect_neq(ant_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT x", &t), 0);
    cr_expect_neq(ant_parse_http_date("", &t), 0);
    int64_t now = 784111777 - 30;
    cr_expect_eq(ra("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT", now), 30000);
    cr_expect_eq(ra("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT", now + 60), 0, "in the past");
}

Test(ant_classify, rfc3339_dates)
{
    int64_t t;
    cr_assert_eq(ant_parse_rfc3339("1994-11-06T08:49:37Z", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_rfc3339("1994-11-06t08:49:37z", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_rfc3339("1994-11-06T08:49:36.250Z", &t), 0);
    cr_expect_eq(t, 784111777, "a fraction rounds up");
    cr_assert_eq(ant_parse_rfc3339("1994-11-06T08:49:37.000Z", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_rfc3339("1994-11-06T10:49:37+02:00", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_rfc3339("1994-11-06T03:19:37-05:30", &t), 0);
    cr_expect_eq(t, 784111777);
    cr_assert_eq(ant_parse_rfc3339("2024-02-29T23:59:59Z", &t), 0);
    cr_expect_eq(t, 1709251199);
    const char *bad[] = {"",
                         "1994-11-06",
                         "1994-11-06T08:49:37",
                         "1994-13-06T08:49:37Z",
                         "1994-11-06T24:00:00Z",
                         "1994-11-06T08:49:37Zjunk",
                         "1994-11-06T08:49:37.Z",
                         "1994-11-06T08:49:37+",
                         "1994-11-06T08:49:37+0200",
                         "94-11-06T08:49:37Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_neq(ant_parse_rfc3339(bad[i], &t), 0, "\"%s\"", bad[i]);
}

Test(ant_classify, ratelimit_reset_headers)
{
    int64_t now = 784111777 - 30; /* 1994-11-06T08:49:07Z */
    oc_http_header_t h[] = {
        {"anthropic-ratelimit-requests-remaining", "0"},
        {"anthropic-ratelimit-requests-reset", "1994-11-06T08:49:17Z"},
        {"anthropic-ratelimit-input-tokens-remaining", "0"},
        {"anthropic-ratelimit-input-tokens-reset", "1994-11-06T08:49:37Z"},
        {"anthropic-ratelimit-output-tokens-remaining", "5000"},
        {"anthropic-ratelimit-output-tokens-reset", "1994-11-06T09:49:37Z"},
    };
    cr_expect_eq(ant_retry_after_ms(h, 6, now), 30000, "the latest exhausted limit's reset");
    cr_expect_eq(ant_retry_after_ms(h + 4, 2, now), 0, "a limit with room left does not count");
    oc_http_header_t with_ra[] = {
        {"retry-after", "4"},
        {"anthropic-ratelimit-requests-remaining", "0"},
        {"anthropic-ratelimit-requests-reset", "1994-11-06T08:49:37Z"},
    };
    cr_expect_eq(ant_retry_after_ms(with_ra, 3, now), 4000, "retry-after wins");
    oc_http_header_t garbage[] = {
        {"anthropic-ratelimit-tokens-remaining", "0"},
        {"anthropic-ratelimit-tokens-reset", "tomorrow"},
    };
    cr_expect_eq(ant_retry_after_ms(garbage, 2, now), 0);
}

Test(ant_classify, error_messages)
{
    char m[128];
    int32_t cls;
    const char *ant = "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
                      "\"message\":\"model: claude-nope\"},\"request_id\":\"req_1\"}";
    ant_error_message(ant, strlen(ant), m, sizeof m, &cls);
    cr_expect_str_eq(m, "not_found_error: model: claude-nope");
    cr_expect_eq(cls, OC_PROV_ERR_REQUEST);
    const char *s = "{\"error\":\"plain string\"}";
    ant_error_message(s, strlen(s), m, sizeof m, &cls);
    cr_expect_str_eq(m, "plain string");
    cr_expect_eq(cls, 0, "no type, no class");
    const char *top = "{\"message\":\"overloaded\"}";
    ant_error_message(top, strlen(top), m, sizeof m, NULL);
    cr_expect_str_eq(m, "overloaded");
    const char *detail = "{\"detail\":\"Not Found\"}";
    ant_error_message(detail, strlen(detail), m, sizeof m, NULL);
    cr_expect_str_eq(m, "Not Found");
    const char *html = "<html>\r\n<h1>502 Bad Gateway</h1></html>";
    ant_error_message(html, strlen(html), m, sizeof m, NULL);
    cr_expect_str_eq(m, "<html>  <h1>502 Bad Gateway</h1></html>", "control characters blanked");
    ant_error_message("{}", 2, m, sizeof m, NULL);
    cr_expect_str_eq(m, "");
    ant_error_message(NULL, 0, m, sizeof m, NULL);
    cr_expect_str_eq(m, "");
    const char *nl = "{\"error\":{\"message\":\"line1\\nline2\"}}";
    ant_error_message(nl, strlen(nl), m, sizeof m, NULL);
    cr_expect_str_eq(m, "line1 line2");
    char tiny[8];
    ant_error_message(ant, strlen(ant), tiny, sizeof tiny, NULL);
    cr_expect_str_eq(tiny, "not_fou");
}

Test(ant_classify, scrub_secrets)
{
    const char *secrets[] = {"sk-secret-1234", "abc", "tok-98765", NULL};
    char s[128] = "bad key sk-secret-1234 and sk-secret-1234, token tok-98765; abc stays";
    ant_scrub(s, sizeof s, secrets);
    cr_expect_str_eq(s, "bad key [redacted] and [redacted], token [redacted]; abc stays");
    char t[13] = "ab tok-98765"; /* "[redacted]" is longer than this secret */
    ant_scrub(t, sizeof t, secrets);
    cr_expect_null(strstr(t, "tok-98765"));
    cr_expect_leq(strlen(t), 12);
    char u[12] = "sk-secret-1";
    const char *one[] = {"sk-secret-1", NULL};
    ant_scrub(u, sizeof u, one);
    cr_expect_str_eq(u, "[redacted]");
}
