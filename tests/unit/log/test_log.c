/* Unit tests for core/log: redaction rules, formats, levels, threads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"

static char g_path[64];

static void setup(void)
{
    strcpy(g_path, "/tmp/gw-test-log-XXXXXX");
    int fd = mkstemp(g_path);
    cr_assert(fd >= 0);
    close(fd);
    gw_log_set_stderr(0);
    gw_log_setup(OC_LOG_DEBUG, 0);
    cr_assert_eq(gw_log_open_file(g_path), 0);
}

static void teardown(void)
{
    gw_log_shutdown();
    unlink(g_path);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    return p;
}

/* Redacts `in` and checks that no `secret` survives and that `keep` (may be
 * NULL) is still there. */
static void check(const char *in, const char *secret, const char *keep)
{
    char *out = gw_redact_str(in);
    cr_assert_not_null(out);
    cr_expect_null(strstr(out, secret), "secret '%s' survived: in='%s' out='%s'", secret, in,
                   out);
    if (keep != NULL)
        cr_expect_not_null(strstr(out, keep), "'%s' lost: in='%s' out='%s'", keep, in, out);
    free(out);
}

static void check_eq(const char *in, const char *want)
{
    char *out = gw_redact_str(in);
    cr_assert_not_null(out);
    cr_expect_str_eq(out, want, "in='%s'", in);
    free(out);
}

TestSuite(redact, .fini = gw_log_shutdown);

Test(redact, registered_secret_any_position)
{
    cr_assert_eq(gw_log_add_secret("hunter2pass"), 0);
    cr_assert_eq(gw_log_add_secret("abc"), -EINVAL); /* too short to register */
    check_eq("hunter2pass", "***");
    check_eq("hunter2pass at start", "*** at start");
    check_eq("at end hunter2pass", "at end ***");
    check_eq("(hunter2pass).", "(***).");
    check_eq("x=hunter2pass,y", "x=***,y");
    check_eq("twice hunter2passhunter2pass!", "twice ***!");
    check_eq("\"hunter2pass\"", "\"***\"");
    check_eq("abc is fine", "abc is fine");
}

Test(redact, long_value_keeps_ends)
{
    /* 18+ bytes keep the first 4 and last 2; shorter spans are all masked. */
    cr_assert_eq(gw_log_add_secret("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 0);
    check_eq("k ABCDEFGHIJKLMNOPQRSTUVWXYZ k", "k ABCD***YZ k");
}

Test(redact, short_secret_inside_long_span_not_revealed)
{
    /* The kept bytes of a long span must not show a shorter secret. */
    cr_assert_eq(gw_log_add_secret("wxyz"), 0);
    check("token=wxyz1234567890abcdefghij", "wxyz", NULL);
    check("see sk-wxyzwxyzwxyzwxyzwxyz", "wxyz", NULL);
}

Test(redact, overlapping_secrets)
{
    cr_assert_eq(gw_log_add_secret("abcd1234"), 0);
    cr_assert_eq(gw_log_add_secret("1234efgh5678"), 0);
    check("x abcd1234efgh5678 y", "1234", "x ");
    check("x abcd1234efgh5678 y", "efgh", " y");
}

Test(redact, authorization_header)
{
    check("Authorization: Bearer abc.def-ghi", "abc.def-ghi", "Authorization: Bearer ");
    check("authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "Basic");
    check("AUTHORIZATION:rawtokenvalue", "rawtokenvalue", NULL);
    check("req Authorization: weird scheme stuff\nnext line ok", "weird scheme stuff",
          "next line ok");
    check("{\"Authorization\":\"Bearer t0ken-value\",\"x\":1}", "t0ken-value", "\"x\":1");
    check("Proxy-Authorization: Basic cHJveHk6cHc=", "cHJveHk6cHc", "Proxy-Authorization");
    check("Cookie: session=s3cr3tsess", "s3cr3tsess", "Cookie:");
}

Test(redact, bearer_anywhere)
{
    check("Bearer abc123", "abc123", "Bearer");
    check("got bearer xyz789, retry", "xyz789", ", retry");
    check("(Bearer tok)", "tok)", NULL);
    check_eq("header Bearer sk-short1", "header Bearer ***");
}

Test(redact, api_key_headers)
{
    check("X-API-Key: k3yvalue", "k3yvalue", "X-API-Key");
    check("x-api-key:k3yvalue", "k3yvalue", NULL);
    check("x-goog-api-key: AIzaSomething", "AIzaSomething", NULL);
    check("api-key = v4lue; next", "v4lue", "next");
}

Test(redact, key_value_forms)
{
    const char *keys[] = {"apiKey", "api_key", "APIKEY", "token", "botToken", "bearerToken",
                          "secret", "signingSecret", "appSecret", "password", "passwd",
                          "PASSWORD", "bot_token", "client_secret", "access_token",
                          "telegram.botToken", "--token"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char in[256];
        snprintf(in, sizeof(in), "%s=v4lue1", keys[i]);
        check(in, "v4lue1", keys[i]);
        snprintf(in, sizeof(in), "cfg %s: v4lue2 rest", keys[i]);
        check(in, "v4lue2", "rest");
        snprintf(in, sizeof(in), "{\"%s\":\"v4lue3\",\"n\":2}", keys[i]);
        check(in, "v4lue3", "\"n\":2");
        snprintf(in, sizeof(in), "{\"%s\" : \"v4l\\\"ue4\"}", keys[i]);
        check(in, "ue4", NULL);
        snprintf(in, sizeof(in), "body {\\\"%s\\\":\\\"v4lue5\\\"}", keys[i]);
        check(in, "v4lue5", NULL);
        snprintf(in, sizeof(in), "%s='v4lue6' x", keys[i]);
        check(in, "v4lue6", " x");
        snprintf(in, sizeof(in), "url?a=1&%s=v4lue7&b=2", keys[i]);
        check(in, "v4lue7", "&b=2");
        snprintf(in, sizeof(in), "%s => v4lue8", keys[i]);
        check(in, "v4lue8", NULL);
    }
    /* Neighbours that are not secrets are left alone. */
    check_eq("max_tokens=100 tokens: 5", "max_tokens=100 tokens: 5");
    check_eq("{\"token\":null,\"secret\":false}", "{\"token\":null,\"secret\":false}");
    check_eq("password=", "password=");
    check_eq("password=x", "password=***");
}

Test(redact, password_never_revealed)
{
    check_eq("password=correcthorsebatterystaple", "password=***");
    check_eq("(password=a,b;c) next", "(password=*** next");
    check_eq("db?password=p;w&user=u", "db?password=***&user=u");
}

Test(redact, url_credentials)
{
    check_eq("postgres://app:s3cr3t@db:5432/x", "postgres://app:***@db:5432/x");
    check_eq("dial redis://:pw@127.0.0.1:6379", "dial redis://:***@127.0.0.1:6379");
    check("https://u:p@ss:w0rd@h/path", "w0rd", "https://u:***@h/path");
    check("clone https://ghtokenghtokenghtoken12@github.com/x", "ghtokenghtokenghtoken12",
          "@github.com/x");
    check_eq("see http://example.com/a@b", "see http://example.com/a@b");
}

Test(redact, token_shapes)
{
    check_eq("key sk-abcdefghijklmnopqrstuv9Z end", "key sk-a***9Z end");
    check("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz", "AbCdEfGhIjKlMnOp", NULL);
    check("(sk-proj-0123456789abcdef)", "0123456789abcdef", "(");
    check("slack xoxb-1234567890-abcdefghij", "1234567890-abcdefghij", NULL);
    check("slack xoxp-1234567890-abcdefghij,", "1234567890-abcdefghij", ",");
    check("xapp-1-A0123456789-abcdef", "A0123456789-abcdef", NULL);
    const char *tg = "123456789:AAEhBP0av28u1kZ9b-Kz_9XyzAbCdEfGhIjK";
    char in[256];
    snprintf(in, sizeof(in), "%s", tg);
    check(in, "AAEhBP0av28u1kZ9b-Kz_9XyzAbCdEfGh", NULL);
    snprintf(in, sizeof(in), "GET https://api.telegram.org/bot%s/getUpdates", tg);
    check(in, "AAEhBP0av28u1kZ9b-Kz_9XyzAbCdEfGh", "/getUpdates");
    check("ghp_abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwx", NULL);
    check("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl.", "eyJzdWIiOiIxMjM0NSJ9",
          NULL);
    /* Not tokens. */
    check_eq("task-abcdefghijklmnop time 12:30:45", "task-abcdefghijklmnop time 12:30:45");
}

Test(redact, many_spans)
{
    /* More spans than the scanner's inline array. */
    char in[4096] = "", *p = in;
    for (int i = 0; i < 40; i++)
        p += sprintf(p, "token=v%02dvalue ", i);
    char *out = gw_redact_str(in);
    cr_assert_null(strstr(out, "value"));
    free(out);
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, pretty_format_and_redaction)
{
    gw_log(OC_LOG_INFO, "httpc", "calling with Authorization: Bearer %s",
           "sk-zzzzzzzzzzzzzzzzzzzz");
    gw_log(OC_LOG_WARN, NULL, "two\nlines");
    char *s = slurp(g_path);
    cr_assert_null(strstr(s, "zzzzzzzzzzzz"), "%s", s);
    /* 2026-11-21T10:00:00.123Z INFO  [httpc] calling ... */
    int y, mo, d, h, mi, sec, ms;
    char lvl[8], comp[16];
    cr_assert_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %7s [%15[^]]]", &y, &mo, &d, &h, &mi,
                        &sec, &ms, lvl, comp),
                 9, "%s", s);
    cr_assert_str_eq(lvl, "INFO");
    cr_assert_str_eq(comp, "httpc");
    cr_assert_not_null(strstr(s, "Z INFO  [httpc] calling with Authorization: Bearer "));
    cr_assert_not_null(strstr(s, "Z WARN  two\\nlines\n"), "%s", s);
    free(s);
}

Test(log, json_lines_parse)
{
    gw_log_setup(OC_LOG_DEBUG, 1);
    gw_log(OC_LOG_ERROR, "comp\"x", "quote \" backslash \\ tab \t nl \n ctl \x01 bad \xff utf8 é "
                                    "password=hunter22");
    gw_log(OC_LOG_DEBUG, NULL, "plain");
    char *s = slurp(g_path);
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
        cr_assert_not_null(o, "not JSON: %s", line);
        cr_assert_eq(json_tokener_get_error(tok), json_tokener_success);
        json_object *v;
        cr_assert(json_object_object_get_ex(o, "ts", &v));
        cr_assert_eq(strlen(json_object_get_string(v)), 24);
        cr_assert(json_object_object_get_ex(o, "level", &v));
        cr_assert(json_object_object_get_ex(o, "msg", &v));
        const char *msg = json_object_get_string(v);
        if (lines == 0) {
            cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "level")), "error");
            cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "component")),
                             "comp\"x");
            cr_assert_not_null(strstr(msg, "quote \" backslash \\ tab \t nl \n ctl \x01 bad "));
            cr_assert_not_null(strstr(msg, "\xef\xbf\xbd utf8 \xc3\xa9 password=***"), "%s", msg);
        } else {
            cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "level")), "debug");
            cr_assert_str_eq(msg, "plain");
            cr_assert_not(json_object_object_get_ex(o, "component", &v));
        }
        json_object_put(o);
        json_tokener_free(tok);
        lines++;
    }
    cr_assert_eq(lines, 2);
    free(s);
}

Test(log, level_filtering)
{
    gw_log_set_level(OC_LOG_WARN);
    cr_assert_not(gw_log_enabled(OC_LOG_DEBUG));
    cr_assert_not(gw_log_enabled(OC_LOG_INFO));
    cr_assert(gw_log_enabled(OC_LOG_WARN));
    cr_assert(gw_log_enabled(OC_LOG_ERROR));
    gw_log(OC_LOG_DEBUG, "t", "d");
    gw_log(OC_LOG_INFO, "t", "i");
    gw_log(OC_LOG_WARN, "t", "w");
    gw_log(OC_LOG_ERROR, "t", "e");
    char *s = slurp(g_path);
    cr_assert_null(strstr(s, "DEBUG"));
    cr_assert_null(strstr(s, "INFO"));
    cr_assert_not_null(strstr(s, "WARN  [t] w\n"));
    cr_assert_not_null(strstr(s, "ERROR [t] e\n"));
    free(s);
}

Test(log, level_names)
{
    cr_assert_eq(gw_log_level_parse("debug"), OC_LOG_DEBUG);
    cr_assert_eq(gw_log_level_parse("INFO"), OC_LOG_INFO);
    cr_assert_eq(gw_log_level_parse("warning"), OC_LOG_WARN);
    cr_assert_eq(gw_log_level_parse("Error"), OC_LOG_ERROR);
    cr_assert_eq(gw_log_level_parse("loud"), -EINVAL);
    cr_assert_eq(gw_log_level_parse(NULL), -EINVAL);
    cr_assert_str_eq(gw_log_level_name(OC_LOG_WARN), "warn");
    cr_assert_str_eq(gw_log_level_name(0), "unknown");
}

Test(log, file_is_private_and_switchable)
{
    struct stat st;
    char other[64];
    strcpy(other, "/tmp/gw-test-log2-XXXXXX");
    int fd = mkstemp(other);
    close(fd);
    unlink(other);
    gw_log(OC_LOG_INFO, "t", "first");
    cr_assert_eq(gw_log_open_file(other), 0);
    cr_assert_eq(stat(other, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    gw_log(OC_LOG_INFO, "t", "second");
    char *a = slurp(g_path), *b = slurp(other);
    cr_assert_not_null(strstr(a, "first"));
    cr_assert_null(strstr(a, "second"));
    cr_assert_not_null(strstr(b, "second"));
    free(a);
    free(b);
    cr_assert_eq(gw_log_open_file(NULL), 0);
    gw_log(OC_LOG_INFO, "t", "third");
    b = slurp(other);
    cr_assert_null(strstr(b, "third"));
    free(b);
    unlink(other);
    cr_assert_eq(gw_log_open_file("/nonexistent-dir/x.log"), -ENOENT);
}

Test(log, long_message_truncated_after_redaction)
{
    size_t n = GW_LOG_MAX_MSG + 100;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    /* A secret straddling the cut is masked before the cut. */
    memcpy(big + GW_LOG_MAX_MSG - 10, " token=supersecretvalue ", 24);
    gw_log(OC_LOG_INFO, "t", "%s", big);
    char *s = slurp(g_path);
    cr_assert_null(strstr(s, "supersecret"));
    cr_assert_not_null(strstr(s, "...(truncated)\n"));
    cr_assert_lt(strlen(s), GW_LOG_MAX_MSG + 100);
    free(s);
    free(big);
}

static int g_sink_calls;
static char g_sink_msg[256];

static void sink(void *data, int level, const char *component, const char *msg)
{
    (*(int *)data)++;
    snprintf(g_sink_msg, sizeof(g_sink_msg), "%d %s %s", level, component, msg);
}

Test(log, sinks_get_redacted_lines)
{
    cr_assert_eq(gw_log_add_sink(sink, &g_sink_calls), 0);
    gw_log(OC_LOG_INFO, "p", "secret=abcdef");
    cr_assert_eq(g_sink_calls, 1);
    cr_assert_str_eq(g_sink_msg, "2 p secret=***");
    cr_assert_eq(gw_log_remove_sink(sink, &g_sink_calls), 0);
    cr_assert_eq(gw_log_remove_sink(sink, &g_sink_calls), -ENOENT);
    gw_log(OC_LOG_INFO, "p", "again");
    cr_assert_eq(g_sink_calls, 1);
}

#define THREADS 4
#define LINES 2000

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[600];
    memset(pad, 'a' + id, sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < LINES; i++)
        gw_log(OC_LOG_INFO, "w", "thread=%d seq=%d token=t%dv%d pad=%s end", id, i, id, i, pad);
    return NULL;
}

Test(log, concurrent_lines_stay_whole)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *s = slurp(g_path);
    static unsigned char seen[THREADS][LINES];
    int lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int id, seq, used = 0;
        char *m = strstr(line, " INFO  [w] thread=");
        cr_assert_not_null(m, "bad line: %.80s", line);
        cr_assert_eq(sscanf(m, " INFO  [w] thread=%d seq=%d token=*** pad=%n", &id, &seq, &used),
                     2, "%.120s", m);
        cr_assert(used > 0 && id >= 0 && id < THREADS && seq >= 0 && seq < LINES);
        const char *pad = m + used;
        for (int k = 0; k < 599; k++)
            cr_assert_eq(pad[k], 'a' + id, "interleaved line: %.120s", line);
        cr_assert_str_eq(pad + 599, " end");
        cr_assert_not(seen[id][seq]);
        seen[id][seq] = 1;
        lines++;
    }
    cr_assert_eq(lines, THREADS * LINES);
    free(s);
}
