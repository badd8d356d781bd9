/* Unit tests of channel-webhook's pure parts, with the plugin's sources
 * linked in directly (no .so, no gateway): the signature scheme, the inbound
 * parser, the outbound body and result mapping, and the inbound handler's
 * order of checks driven through a fake host (fake_inbound.h). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_inbound.h"
#include "outbound.h"
#include "parse.h"
#include "sign.h"
#include "webhook.h"

/* ---- a fake host: logging, and the inbound doubles ------------------------ */

static char last_log[1024];

static void t_log(oc_plugin_t *self, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void t_log(oc_plugin_t *self, int32_t level, const char *fmt, ...)
{
    (void)self;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_log, sizeof last_log, fmt, ap);
    va_end(ap);
}

static int32_t t_log_enabled(oc_plugin_t *self, int32_t level)
{
    (void)self;
    (void)level;
    return 1;
}

static const char *t_strerror(int32_t code)
{
    (void)code;
    return "OC_EIO: I/O error";
}

static const oc_host_api_t host = {
    .struct_size = sizeof(oc_host_api_t),
    .abi_major = 1,
    .abi_minor = 1,
    .host_version = "test",
    .strerror = t_strerror,
    .log = t_log,
    .log_enabled = t_log_enabled,
    .http_route = fake_http_route,
    .http_respond = fake_http_respond,
    .inbound_submit = fake_inbound_submit,
};

#define SECRET "s3cret-key"
#define GOOD                                                                                   \
    "{\"id\":\"m1\",\"from\":\"u1\",\"chat\":{\"type\":\"direct\",\"id\":\"u1\"},\"text\":\"hi\"}"

/* A state with the accounts given as {id, secret} pairs (NULL-terminated). */
static void mkstate(wh_state_t *st, const char *const *pairs)
{
    memset(st, 0, sizeof *st);
    fake_reset();
    st->host = &host;
    st->cfg.enabled = 1;
    st->cfg.timeout_ms = 1000;
    st->cfg.max_body_bytes = 4096;
    size_t n = 0;
    while (pairs[2 * n] != NULL)
        n++;
    st->cfg.accounts = calloc(n, sizeof *st->cfg.accounts);
    for (size_t i = 0; i < n; i++) {
        wh_account_t *a = &st->cfg.accounts[i];
        a->id = strdup(pairs[2 * i]);
        a->secret = strdup(pairs[2 * i + 1]);
        a->secret_len = strlen(a->secret);
        a->callback_url = strdup("http://127.0.0.1:9/cb");
    }
    st->cfg.account_count = n;
}

static void mkstate1(wh_state_t *st)
{
    static const char *const one[] = {"default", SECRET, NULL};
    mkstate(st, one);
}

static void freestate(wh_state_t *st)
{
    wh_config_free(&st->cfg);
    fake_reset();
}

/* Calls the handler with body signed by secret (NULL = no signature). */
static oc_http_exchange_t *post(wh_state_t *st, const char *body, const char *secret)
{
    char sig[80];
    if (secret != NULL)
        fake_sign(secret, body, sig);
    return fake_call(wh_inbound_handle, st, "POST", body, secret ? sig : NULL);
}

#define assert_answer(ex, want_code, want_body)                                                \
    do {                                                                                       \
        cr_assert_eq((ex)->answers, 1, "answered %d times", (ex)->answers);                    \
        cr_assert_eq((ex)->code, (want_code), "code %d, body %s", (ex)->code, (ex)->body);     \
        cr_assert_str_eq((ex)->content_type, "application/json");                              \
        cr_assert_str_eq((ex)->body, (want_body));                                             \
    } while (0)

/* ---- sign ----------------------------------------------------------------- */

Test(webhook_sign, known_vector)
{
    /* RFC 4231-style public vector (the Wikipedia HMAC example). */
    char out[WH_SIG_VALUE_SIZE];
    const char *msg = "The quick brown fox jumps over the lazy dog";
    cr_assert_eq(wh_sign_header("key", 3, msg, strlen(msg), out), 0);
    cr_assert_str_eq(out, "sha256="
                          "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    cr_assert_eq(strlen(out) + 1, WH_SIG_VALUE_SIZE);
}

Test(webhook_sign, good_and_bad)
{
    char sig[80];
    uint8_t mac[WH_MAC_LEN];
    fake_sign(SECRET, GOOD, sig);
    cr_assert_eq(wh_sign_parse(sig, mac), 0);
    cr_assert_eq(wh_sign_verify(SECRET, strlen(SECRET), GOOD, strlen(GOOD), mac), 1);
    /* Another key, another body, one flipped bit. */
    cr_assert_eq(wh_sign_verify("other", 5, GOOD, strlen(GOOD), mac), 0);
    cr_assert_eq(wh_sign_verify(SECRET, strlen(SECRET), GOOD, strlen(GOOD) - 1, mac), 0);
    mac[31] ^= 1;
    cr_assert_eq(wh_sign_verify(SECRET, strlen(SECRET), GOOD, strlen(GOOD), mac), 0);
    /* The empty body has a signature too. */
    fake_sign(SECRET, "", sig);
    cr_assert_eq(wh_sign_parse(sig, mac), 0);
    cr_assert_eq(wh_sign_verify(SECRET, strlen(SECRET), "", 0, mac), 1);
}

Test(webhook_sign, parse_formats)
{
    char sig[80], buf[160];
    uint8_t mac[WH_MAC_LEN], mac2[WH_MAC_LEN];
    fake_sign(SECRET, GOOD, sig);
    cr_assert_eq(wh_sign_parse(sig, mac), 0);

    /* Upper-case hex is the same MAC; spaces and tabs around are ignored. */
    snprintf(buf, sizeof buf, "%s", sig);
    for (char *p = buf + 7; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    cr_assert_eq(wh_sign_parse(buf, mac2), 0, "upper-case hex is accepted: %s", buf);
    cr_assert_eq(memcmp(mac, mac2, sizeof mac), 0);
    snprintf(buf, sizeof buf, " \t%s \t", sig);
    cr_assert_eq(wh_sign_parse(buf, mac2), 0);
    cr_assert_eq(memcmp(mac, mac2, sizeof mac), 0);

    /* Refused: empty, prefix only, other or differently spelt prefixes. */
    cr_assert_eq(wh_sign_parse("", mac2), -1);
    cr_assert_eq(wh_sign_parse("sha256=", mac2), -1);
    const char *prefixes[] = {"sha1=", "sha256:", "SHA256=", "Sha256=", "sha256 =", "=",
                              "sha512=", "sha256=="};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", prefixes[i], sig + 7);
        cr_expect_eq(wh_sign_parse(buf, mac2), -1, "accepted '%s'", buf);
    }
    cr_assert_eq(wh_sign_parse(NULL, mac2), -1);
    cr_assert_eq(wh_sign_parse(sig + 7, mac2), -1, "bare hex without the prefix");
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(sig) - 1, sig);
    cr_assert_eq(wh_sign_parse(buf, mac2), -1, "63 hex digits");
    snprintf(buf, sizeof buf, "%s0", sig);
    cr_assert_eq(wh_sign_parse(buf, mac2), -1, "65 hex digits");
    snprintf(buf, sizeof buf, "%s", sig);
    buf[20] = 'g';
    cr_assert_eq(wh_sign_parse(buf, mac2), -1, "non-hex digit");
    snprintf(buf, sizeof buf, "%s", sig);
    buf[20] = ' ';
    cr_assert_eq(wh_sign_parse(buf, mac2), -1, "space inside");
}

/* ---- parse ---------------------------------------------------------------- */

/* "" when body parses into an envelope for account "acct", else the error. */
static const char *parse_err(const char *body)
{
    static char err[512];
    wh_inbound_t in;
    err[0] = '\0';
    if (wh_parse_body(body, strlen(body), &in, err, sizeof err) == 0) {
        if (wh_parse_envelope(&in, "acct", err, sizeof err) == 0)
            err[0] = '\0';
        wh_inbound_free(&in);
    }
    return err;
}

#define HEAD                                                                                   \
    "\"id\":\"m1\",\"from\":\"u1\",\"chat\":{\"type\":\"direct\",\"id\":\"u1\"},\"text\":\"t\""

Test(webhook_parse, body_errors)
{
    static const struct {
        const char *body, *err;
    } cases[] = {
        {"", "empty body: expected a JSON object"},
        {" \r\n\t", "empty body: expected a JSON object"},
        {"[1]", "body must be a JSON object"},
        {"\"x\"", "body must be a JSON object"},
        {"42", "body must be a JSON object"},
        {"{\"id\":", "malformed JSON: unexpected end of input"},
        {"{} x", "malformed JSON: unexpected character at offset 3"},
        {"{}{}", "malformed JSON: unexpected character at offset 2"},
        {"{\"account\":5}", "field 'account' must be a string"},
        {"{\"account\":[]}", "field 'account' must be a string"},
        {"{\"account\":\"\"}",
         "field 'account' must not be empty (omit it for the default account)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_str_eq(parse_err(cases[i].body), cases[i].err, "[%zu] %s", i, cases[i].body);

    /* The parser's own reason, with where it stopped. */
    const char *prefixed[] = {"{\"id\" 1}", "{\"a\":1,}", "{\"a\":\"\xff\"}", "{\"a\":tru}",
                              "{\"a\":01}", "{\"a\":\"\\x\"}"};
    for (size_t i = 0; i < sizeof prefixed / sizeof prefixed[0]; i++) {
        const char *e = parse_err(prefixed[i]);
        cr_expect(strncmp(e, "malformed JSON: ", 16) == 0 && strstr(e, " at offset ") != NULL,
                  "[%zu] %s -> '%s'", i, prefixed[i], e);
    }
    /* A NUL byte inside the body (the body length counts past it). */
    wh_inbound_t in;
    char err[256];
    cr_assert_eq(wh_parse_body("{\"a\":\0}", 7, &in, err, sizeof err), -1);
    cr_assert_str_eq(err, "malformed JSON: NUL byte in the body");
    /* Nesting is bounded. */
    char deep[200] = "{\"a\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    cr_assert(strncmp(parse_err(deep), "malformed JSON: ", 16) == 0, "%s", parse_err(deep));
}

Test(webhook_parse, field_errors)
{
    static const struct {
        const char *body, *err;
    } cases[] = {
        {"{}", "missing field 'id'"},
        {"{\"id\":1}", "field 'id' must be a string"},
        {"{\"id\":null}", "field 'id' must be a string, not null"},
        {"{\"id\":\"\"}", "field 'id' must not be empty"},
        {"{\"id\":\"a\\u0000b\"}", "field 'id' contains a NUL character"},
        {"{\"id\":\"m\"}", "missing field 'from'"},
        {"{\"id\":\"m\",\"from\":true}", "field 'from' must be a string"},
        {"{\"id\":\"m\",\"from\":\"\"}", "field 'from' must not be empty"},
        {"{\"id\":\"m\",\"from\":\"u\"}", "missing field 'chat'"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":\"x\"}",
         "field 'chat' must be an object {\"type\", \"id\"}"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":null}",
         "field 'chat' must be an object {\"type\", \"id\"}"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{}}", "missing field 'chat.type'"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":1}}",
         "field 'chat.type' must be a string"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"channel\"}}",
         "field 'chat.type' must be \"direct\" or \"group\""},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"Direct\",\"id\":\"c\"}}",
         "field 'chat.type' must be \"direct\" or \"group\""},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"group\"}}", "missing field 'chat.id'"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"group\",\"id\":7}}",
         "field 'chat.id' must be a string"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"group\",\"id\":\"\"}}",
         "field 'chat.id' must not be empty"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"group\",\"id\":\"g\"}}",
         "missing field 'text'"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"group\",\"id\":\"g\"},\"text\":5}",
         "field 'text' must be a string"},
        {"{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"group\",\"id\":\"g\"},\"text\":null}",
         "field 'text' must be a string, not null"},
        {"{" HEAD ",\"mentions\":\"@bot\"}", "field 'mentions' must be an array of strings"},
        {"{" HEAD ",\"mentions\":{}}", "field 'mentions' must be an array of strings"},
        {"{" HEAD ",\"mentions\":[1]}", "field 'mentions[0]' must be a non-empty string"},
        {"{" HEAD ",\"mentions\":[\"a\",\"\"]}", "field 'mentions[1]' must be a non-empty string"},
        {"{" HEAD ",\"mentions\":[\"a\",null]}", "field 'mentions[1]' must be a non-empty string"},
        {"{" HEAD ",\"replyTo\":5}", "field 'replyTo' must be a string"},
        {"{" HEAD ",\"replyToBot\":\"yes\"}",
         "field 'replyToBot' must be a boolean (true or false)"},
        {"{" HEAD ",\"replyToBot\":1}", "field 'replyToBot' must be a boolean (true or false)"},
        {"{" HEAD ",\"mentioned\":0}", "field 'mentioned' must be a boolean (true or false)"},
        {"{" HEAD ",\"fromName\":5}", "field 'fromName' must be a string"},
        {"{" HEAD ",\"fromName\":{}}", "field 'fromName' must be a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_str_eq(parse_err(cases[i].body), cases[i].err, "[%zu] %s", i, cases[i].body);
}

Test(webhook_parse, direct_minimal)
{
    wh_inbound_t in;
    char err[256];
    const char *body = "{" HEAD "}";
    cr_assert_eq(wh_parse_body(body, strlen(body), &in, err, sizeof err), 0, "%s", err);
    cr_assert_null(in.account);
    cr_assert_eq(wh_parse_envelope(&in, "default", err, sizeof err), 0, "%s", err);
    const oc_envelope_t *e = &in.env;
    cr_assert_eq(e->struct_size, sizeof(oc_envelope_t));
    cr_assert_eq(e->peer_kind, OC_PEER_DIRECT);
    cr_assert_str_eq(e->channel, "webhook");
    cr_assert_str_eq(e->account, "default");
    cr_assert_str_eq(e->peer_id, "u1");
    cr_assert_str_eq(e->sender_id, "u1");
    cr_assert_str_eq(e->text, "t");
    cr_assert_str_eq(e->message_id, "m1");
    cr_assert_null(e->sender_name);
    cr_assert_null(e->reply_to_id);
    cr_assert_null(e->mentions);
    cr_assert_eq(e->reply_to_bot, 0);
    cr_assert_eq(e->mentioned, 0);
    cr_assert_eq(e->received_ms, 0);
    wh_inbound_free(&in);
}

Test(webhook_parse, group_full)
{
    wh_inbound_t in;
    char err[256];
    const char *body =
        "\n {\"account\":\"ops\",\"id\":\"m2\",\"from\":\"alice\",\"fromName\":\"Alice \\u00e9\","
        "\"chat\":{\"type\":\"group\",\"id\":\"g-1\",\"title\":\"ignored\"},"
        "\"text\":\"hey @bot\\nline2\",\"mentions\":[\"bot\",\"carol\"],\"replyTo\":\"m0\","
        "\"replyToBot\":true,\"mentioned\":true,\"extra\":{\"ignored\":[1,2]}} \n";
    cr_assert_eq(wh_parse_body(body, strlen(body), &in, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(in.account, "ops");
    cr_assert_eq(wh_parse_envelope(&in, "ops", err, sizeof err), 0, "%s", err);
    const oc_envelope_t *e = &in.env;
    cr_assert_eq(e->peer_kind, OC_PEER_GROUP);
    cr_assert_str_eq(e->account, "ops");
    cr_assert_str_eq(e->peer_id, "g-1");
    cr_assert_str_eq(e->sender_id, "alice");
    cr_assert_str_eq(e->sender_name, "Alice \xc3\xa9");
    cr_assert_str_eq(e->text, "hey @bot\nline2");
    cr_assert_str_eq(e->reply_to_id, "m0");
    cr_assert_eq(e->reply_to_bot, 1);
    cr_assert_eq(e->mentioned, 1);
    cr_assert_not_null(e->mentions);
    cr_assert_str_eq(e->mentions[0], "bot");
    cr_assert_str_eq(e->mentions[1], "carol");
    cr_assert_null(e->mentions[2]);
    wh_inbound_free(&in);
}

Test(webhook_parse, optional_nulls_and_empties)
{
    wh_inbound_t in;
    char err[256];
    /* null = absent for optional fields; "" ids/names = none; [] = no mentions;
     * an empty text is a message. */
    const char *body = "{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"direct\",\"id\":\"u\"},"
                       "\"text\":\"\",\"account\":null,\"mentions\":[],\"replyTo\":\"\","
                       "\"fromName\":null,\"replyToBot\":null,\"mentioned\":false}";
    cr_assert_eq(wh_parse_body(body, strlen(body), &in, err, sizeof err), 0, "%s", err);
    cr_assert_null(in.account);
    cr_assert_eq(wh_parse_envelope(&in, "default", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(in.env.text, "");
    cr_assert_null(in.env.mentions);
    cr_assert_null(in.env.reply_to_id);
    cr_assert_null(in.env.sender_name);
    cr_assert_eq(in.env.reply_to_bot, 0);
    cr_assert_eq(in.env.mentioned, 0);
    wh_inbound_free(&in);
    wh_inbound_free(&in); /* idempotent */
}

/* ---- outbound -------------------------------------------------------------- */

static char *body_of(uint32_t kind, const char *peer, const char *text, const char *reply,
                     const char *key)
{
    oc_outbound_t m = {.struct_size = sizeof m,
                       .peer_kind = kind,
                       .account = "default",
                       .peer_id = peer,
                       .text = text,
                       .in_reply_to = reply,
                       .idempotency_key = key};
    size_t len = 0;
    char *b = wh_outbound_body(&m, &len);
    if (b != NULL)
        cr_assert_eq(len, strlen(b));
    return b;
}

Test(webhook_outbound, body_exact_shape)
{
    char *b = body_of(OC_PEER_DIRECT, "u1", "hello", "m1", "k-1");
    cr_assert_str_eq(b, "{\"to\":{\"type\":\"direct\",\"id\":\"u1\"},\"text\":\"hello\","
                        "\"inReplyTo\":\"m1\",\"idempotencyKey\":\"k-1\"}");
    free(b);
    b = body_of(OC_PEER_GROUP, "g/1", "", NULL, "k-2");
    cr_assert_str_eq(b, "{\"to\":{\"type\":\"group\",\"id\":\"g/1\"},\"text\":\"\","
                        "\"idempotencyKey\":\"k-2\"}");
    free(b);
    /* Escaping: quotes, backslash, control characters; UTF-8 and '/' kept. */
    b = body_of(OC_PEER_DIRECT, "u", "a\"b\\c\nd\te\x01 \xc3\xa9 </x>", NULL, "k");
    cr_assert_str_eq(b, "{\"to\":{\"type\":\"direct\",\"id\":\"u\"},"
                        "\"text\":\"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9 </x>\","
                        "\"idempotencyKey\":\"k\"}");
    free(b);
    cr_assert_null(body_of(0, "u", "t", NULL, "k"));
    cr_assert_null(body_of(3, "u", "t", NULL, "k"));
}

Test(webhook_outbound, long_text_sent_whole)
{
    size_t n = 300000;
    char *text = malloc(n + 1);
    memset(text, 'x', n);
    text[n] = '\0';
    char *b = body_of(OC_PEER_DIRECT, "u", text, NULL, "k");
    cr_assert_not_null(b);
    cr_assert_gt(strlen(b), n);
    cr_assert_not_null(strstr(b, text));
    free(b);
    free(text);
}

Test(webhook_outbound, retry_after)
{
    time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
    cr_assert_eq(wh_retry_after_ms(NULL, now), 0);
    cr_assert_eq(wh_retry_after_ms("", now), 0);
    cr_assert_eq(wh_retry_after_ms("0", now), 0);
    cr_assert_eq(wh_retry_after_ms("7", now), 7000);
    cr_assert_eq(wh_retry_after_ms(" 120 ", now), 120000);
    cr_assert_eq(wh_retry_after_ms("1.5", now), 0);
    cr_assert_eq(wh_retry_after_ms("soon", now), 0);
    cr_assert_eq(wh_retry_after_ms("99999999999", now), UINT32_MAX);
    cr_assert_eq(wh_retry_after_ms("Tue, 14 Nov 2023 22:13:50 GMT", now), 30000);
    cr_assert_eq(wh_retry_after_ms("Tue, 14 Nov 2023 22:13:00 GMT", now), 0, "in the past");
}

static void result_of(int32_t status, int code, const char *retry_after, const char *body,
                      oc_send_result_t *out, char *err)
{
    oc_http_header_t h[] = {{"content-type", "text/plain"}, {"retry-after", retry_after}};
    oc_http_response_t res = {
        .struct_size = sizeof res,
        .status = status,
        .http_status = code,
        .error = status != OC_OK ? "Failed to connect to 127.0.0.1 port 9" : NULL,
        .headers = h,
        .header_count = retry_after ? 2 : 1,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
    };
    wh_outbound_result(&res, 1700000000, out, err, 512);
}

Test(webhook_outbound, result_mapping)
{
    oc_send_result_t r;
    char err[512];
    static const struct {
        int32_t status;
        int code;
        const char *retry_after;
        int32_t want_status;
        int want_retryable;
        uint32_t want_retry_ms;
    } cases[] = {
        {OC_OK, 200, NULL, OC_OK, 0, 0},
        {OC_OK, 202, NULL, OC_OK, 0, 0},
        {OC_OK, 204, NULL, OC_OK, 0, 0},
        {OC_OK, 500, NULL, OC_EUNAVAIL, 1, 0},
        {OC_OK, 502, "2", OC_EUNAVAIL, 1, 2000},
        {OC_OK, 503, "30", OC_EUNAVAIL, 1, 30000},
        {OC_OK, 429, "3", OC_ELIMIT, 1, 3000},
        {OC_OK, 429, NULL, OC_ELIMIT, 1, 0},
        {OC_OK, 408, NULL, OC_EUNAVAIL, 1, 0},
        {OC_OK, 400, NULL, OC_EPROTO, 0, 0},
        {OC_OK, 404, "5", OC_EPROTO, 0, 0},
        {OC_OK, 401, NULL, OC_EACCES, 0, 0},
        {OC_OK, 403, NULL, OC_EACCES, 0, 0},
        {OC_OK, 301, NULL, OC_EPROTO, 0, 0},
        {OC_EIO, 0, NULL, OC_EIO, 1, 0},
        {OC_ETIMEDOUT, 0, NULL, OC_ETIMEDOUT, 1, 0},
        {OC_EINVAL, 0, NULL, OC_EINVAL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result_of(cases[i].status, cases[i].code, cases[i].retry_after, "nope", &r, err);
        cr_expect_eq(r.struct_size, sizeof r);
        cr_expect_eq(r.status, cases[i].want_status, "[%zu] status %d", i, r.status);
        cr_expect_eq(r.retryable, cases[i].want_retryable, "[%zu] retryable", i);
        cr_expect_eq(r.retry_after_ms, cases[i].want_retry_ms, "[%zu] retry_after", i);
        if (cases[i].want_status == OC_OK)
            cr_expect_null(r.error, "[%zu]", i);
        else
            cr_expect_not_null(r.error, "[%zu]", i);
    }
    result_of(OC_OK, 404, NULL, "no such\nhook", &r, err);
    cr_assert_str_eq(r.error, "callback answered HTTP 404: no such hook");
    result_of(OC_OK, 500, NULL, NULL, &r, err);
    cr_assert_str_eq(r.error, "callback answered HTTP 500");
    result_of(OC_EIO, 0, NULL, NULL, &r, err);
    cr_assert_str_eq(r.error, "callback request failed: Failed to connect to 127.0.0.1 port 9");
    /* A long refusal is quoted only in part. */
    char big[1000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    result_of(OC_OK, 400, NULL, big, &r, err);
    cr_assert_eq(strlen(r.error), strlen("callback answered HTTP 400: ") + 200);
}

/* ---- inbound: the order of checks ---------------------------------------- */

Test(webhook_inbound, method_not_allowed)
{
    wh_state_t st;
    mkstate1(&st);
    oc_http_exchange_t *ex = fake_call(wh_inbound_handle, &st, "GET", "", NULL);
    assert_answer(ex, 405, "{\"accepted\":false,\"error\":\"method not allowed: use POST\"}");
    cr_assert_str_eq(fake_answer_header(ex, "Allow"), "POST");
    fake_exchange_free(ex);
    /* Before the signature: a signed PUT is still 405. */
    char sig[80];
    fake_sign(SECRET, GOOD, sig);
    ex = fake_call(wh_inbound_handle, &st, "PUT", GOOD, sig);
    cr_assert_eq(ex->code, 405);
    fake_exchange_free(ex);
    cr_assert_eq(fake.submits, 0);
    freestate(&st);
}

Test(webhook_inbound, disabled_and_stopping)
{
    wh_state_t st;
    mkstate1(&st);
    st.cfg.enabled = 0;
    oc_http_exchange_t *ex = post(&st, GOOD, SECRET);
    assert_answer(ex, 503, "{\"accepted\":false,\"error\":\"channel webhook is disabled\"}");
    fake_exchange_free(ex);
    st.cfg.enabled = 1;
    st.stopping = 1;
    ex = post(&st, GOOD, SECRET);
    assert_answer(ex, 503, "{\"accepted\":false,\"error\":\"gateway is stopping, retry later\"}");
    fake_exchange_free(ex);
    cr_assert_eq(fake.submits, 0);
    freestate(&st);
}

Test(webhook_inbound, too_large_before_signature)
{
    wh_state_t st;
    mkstate1(&st);
    st.cfg.max_body_bytes = strlen(GOOD) - 1;
    oc_http_exchange_t *ex = post(&st, GOOD, NULL); /* unsigned: size is checked first */
    cr_assert_eq(ex->answers, 1);
    cr_assert_eq(ex->code, 413);
    char want[160];
    snprintf(want, sizeof want,
             "{\"accepted\":false,\"error\":\"body too large: %zu bytes (maxBodyBytes is %zu)\"}",
             strlen(GOOD), strlen(GOOD) - 1);
    cr_assert_str_eq(ex->body, want);
    fake_exchange_free(ex);
    st.cfg.max_body_bytes = strlen(GOOD); /* exactly at the limit is fine */
    ex = post(&st, GOOD, SECRET);
    cr_assert_eq(ex->answers, 0, "waits for the submit");
    fake_ack(OC_OK, 0, 1, NULL);
    cr_assert_eq(ex->code, 202);
    fake_exchange_free(ex);
    freestate(&st);
}

Test(webhook_inbound, signature_refusals)
{
    wh_state_t st;
    mkstate1(&st);
    oc_http_exchange_t *ex = post(&st, GOOD, NULL);
    assert_answer(ex, 401,
                  "{\"accepted\":false,\"error\":\"missing X-OpenClaw-Signature header\"}");
    fake_exchange_free(ex);

    ex = fake_call(wh_inbound_handle, &st, "POST", GOOD, "sha1=abc");
    assert_answer(ex, 401, "{\"accepted\":false,\"error\":\"malformed X-OpenClaw-Signature "
                           "header: expected sha256=<64 hex digits>\"}");
    fake_exchange_free(ex);

    ex = post(&st, GOOD, "wrong-secret");
    assert_answer(ex, 401, "{\"accepted\":false,\"error\":\"invalid signature\"}");
    fake_exchange_free(ex);

    /* The signature of another body. */
    char sig[80];
    fake_sign(SECRET, "{}", sig);
    ex = fake_call(wh_inbound_handle, &st, "POST", GOOD, sig);
    assert_answer(ex, 401, "{\"accepted\":false,\"error\":\"invalid signature\"}");
    fake_exchange_free(ex);

    /* Two signature headers, even if one is right: refused. */
    fake_sign(SECRET, GOOD, sig);
    oc_http_header_t two[] = {{"x-openclaw-signature", sig}, {"x-openclaw-signature", sig}};
    ex = fake_call_h(wh_inbound_handle, &st, "POST", GOOD, strlen(GOOD), two, 2);
    assert_answer(ex, 401,
                  "{\"accepted\":false,\"error\":\"more than one X-OpenClaw-Signature header\"}");
    fake_exchange_free(ex);
    cr_assert_eq(fake.submits, 0);
    freestate(&st);
}

Test(webhook_inbound, bad_signature_hides_parse_errors)
{
    static const char *const two[] = {"a", "key-a", "b", "key-b", NULL};
    wh_state_t st;
    mkstate(&st, two);
    /* Malformed JSON, unknown account, bad fields: all 401 without a valid
     * signature, never the 400 that would describe the body or accounts. */
    const char *bodies[] = {"{not json", "[]", "{\"account\":\"zzz\"}", "{\"account\":5}",
                            "{\"id\":1}", ""};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        oc_http_exchange_t *ex = post(&st, bodies[i], "not-a-key");
        cr_expect_eq(ex->code, 401, "[%zu] %s -> %d %s", i, bodies[i], ex->code, ex->body);
        cr_expect_str_eq(ex->body, "{\"accepted\":false,\"error\":\"invalid signature\"}");
        fake_exchange_free(ex);
        ex = post(&st, bodies[i], NULL);
        cr_expect_eq(ex->code, 401, "[%zu] unsigned", i);
        fake_exchange_free(ex);
    }
    /* With a configured account's key the sender is told what is wrong. */
    oc_http_exchange_t *ex = post(&st, "{not json", "key-b");
    cr_assert_eq(ex->code, 400);
    cr_assert(strstr(ex->body, "malformed JSON: ") != NULL, "%s", ex->body);
    fake_exchange_free(ex);
    cr_assert_eq(fake.submits, 0);
    freestate(&st);
}

Test(webhook_inbound, accounts)
{
    static const char *const two[] = {"a", "key-a", "b", "key-b", NULL};
    wh_state_t st;
    mkstate(&st, two);
    const char *to_b = "{\"account\":\"b\"," HEAD "}";
    const char *to_x = "{\"account\":\"x\"," HEAD "}";
    const char *to_none = "{" HEAD "}";

    oc_http_exchange_t *ex = post(&st, to_x, "key-a");
    assert_answer(ex, 400,
                  "{\"accepted\":false,\"error\":\"unknown account 'x' (configured: a, b)\"}");
    fake_exchange_free(ex);

    ex = post(&st, to_none, "key-a");
    assert_answer(ex, 400, "{\"accepted\":false,\"error\":\"missing field 'account' (several "
                           "accounts are configured: a, b)\"}");
    fake_exchange_free(ex);

    /* Signed with a's key but claims b. */
    ex = post(&st, to_b, "key-a");
    assert_answer(ex, 401,
                  "{\"accepted\":false,\"error\":\"signature does not match account 'b'\"}");
    fake_exchange_free(ex);
    cr_assert_eq(fake.submits, 0);

    ex = post(&st, to_b, "key-b");
    cr_assert_eq(fake.submits, 1);
    cr_assert_str_eq(fake.env.account, "b");
    fake_ack(OC_OK, 0, 9, NULL);
    assert_answer(ex, 202, "{\"accepted\":true,\"id\":\"9\"}");
    fake_exchange_free(ex);
    freestate(&st);

    /* Without "account": the only account, or "default" among several. */
    static const char *const with_default[] = {"x", "key-x", "default", "key-d", NULL};
    mkstate(&st, with_default);
    ex = post(&st, to_none, "key-d");
    cr_assert_eq(fake.submits, 1, "%s", ex->body);
    cr_assert_str_eq(fake.env.account, "default");
    fake_ack(OC_OK, 0, 1, NULL);
    fake_exchange_free(ex);
    freestate(&st);
    static const char *const only[] = {"solo", "key-s", NULL};
    mkstate(&st, only);
    ex = post(&st, to_none, "key-s");
    cr_assert_eq(fake.submits, 1, "%s", ex->body);
    cr_assert_str_eq(fake.env.account, "solo");
    fake_ack(OC_OK, 0, 1, NULL);
    fake_exchange_free(ex);
    freestate(&st);
}

Test(webhook_inbound, field_error_after_signature)
{
    wh_state_t st;
    mkstate1(&st);
    const char *body = "{\"id\":\"m\",\"from\":\"u\",\"chat\":{\"type\":\"room\",\"id\":\"c\"},"
                       "\"text\":\"t\"}";
    oc_http_exchange_t *ex = post(&st, body, SECRET);
    assert_answer(ex, 400, "{\"accepted\":false,\"error\":\"field 'chat.type' must be "
                           "\\\"direct\\\" or \\\"group\\\"\"}");
    fake_exchange_free(ex);
    cr_assert_eq(fake.submits, 0);
    freestate(&st);
}

Test(webhook_inbound, accepted_envelope)
{
    wh_state_t st;
    mkstate1(&st);
    const char *body = "{\"id\":\"m7\",\"from\":\"alice\",\"fromName\":\"Alice\","
                       "\"chat\":{\"type\":\"group\",\"id\":\"g1\"},\"text\":\"hello\","
                       "\"mentions\":[\"bot\"],\"replyTo\":\"m6\",\"replyToBot\":true,"
                       "\"mentioned\":true}";
    oc_http_exchange_t *ex = post(&st, body, SECRET);
    cr_assert_eq(ex->answers, 0, "no answer before the gateway stored it");
    cr_assert_eq(st.inbound_pending, 1);
    const fake_env_t *e = &fake.env;
    cr_assert(e->set);
    cr_assert_eq(e->struct_size, sizeof(oc_envelope_t));
    cr_assert_str_eq(e->channel, "webhook");
    cr_assert_str_eq(e->account, "default");
    cr_assert_eq(e->peer_kind, OC_PEER_GROUP);
    cr_assert_str_eq(e->peer_id, "g1");
    cr_assert_str_eq(e->sender_id, "alice");
    cr_assert_str_eq(e->sender_name, "Alice");
    cr_assert_str_eq(e->text, "hello");
    cr_assert_str_eq(e->message_id, "m7");
    cr_assert_str_eq(e->reply_to_id, "m6");
    cr_assert_eq(e->reply_to_bot, 1);
    cr_assert_eq(e->mentioned, 1);
    cr_assert_eq(e->mention_count, 1);
    cr_assert_str_eq(e->mentions[0], "bot");
    cr_assert_eq(e->received_ms, 0);
    fake_ack(OC_OK, 0, 18446744073709551615ull, NULL);
    assert_answer(ex, 202, "{\"accepted\":true,\"id\":\"18446744073709551615\"}");
    cr_assert_eq(st.inbound_pending, 0);
    fake_exchange_free(ex);
    freestate(&st);
}

Test(webhook_inbound, submit_outcomes)
{
    wh_state_t st;
    mkstate1(&st);
    static const struct {
        int32_t status;
        int duplicate;
        const char *error;
        int code;
        const char *body, *retry_after;
    } cases[] = {
        {OC_OK, 1, NULL, 200, "{\"accepted\":true,\"duplicate\":true}", NULL},
        {OC_EINVAL, 0, "missing message_id", 400,
         "{\"accepted\":false,\"error\":\"missing message_id\"}", NULL},
        {OC_EUNAVAIL, 0, "disk I/O error", 503,
         "{\"accepted\":false,\"error\":\"storage unavailable, retry\"}", "1"},
        {OC_ECANCELED, 0, NULL, 503,
         "{\"accepted\":false,\"error\":\"gateway is stopping, retry later\"}", NULL},
        {OC_EIO, 0, NULL, 500,
         "{\"accepted\":false,\"error\":\"internal error: OC_EIO: I/O error\"}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oc_http_exchange_t *ex = post(&st, GOOD, SECRET);
        cr_assert_eq(ex->answers, 0);
        fake_ack(cases[i].status, cases[i].duplicate, 5, cases[i].error);
        assert_answer(ex, cases[i].code, cases[i].body);
        const char *ra = fake_answer_header(ex, "Retry-After");
        if (cases[i].retry_after)
            cr_assert_str_eq(ra, cases[i].retry_after, "[%zu]", i);
        else
            cr_assert_null(ra, "[%zu]", i);
        fake_exchange_free(ex);
    }
    cr_assert_eq(st.inbound_pending, 0);
    freestate(&st);
}

Test(webhook_inbound, submit_refused_at_once)
{
    wh_state_t st;
    mkstate1(&st);
    fake.submit_rc = OC_EUNAVAIL;
    oc_http_exchange_t *ex = post(&st, GOOD, SECRET);
    assert_answer(ex, 503, "{\"accepted\":false,\"error\":\"storage unavailable, retry\"}");
    cr_assert_str_eq(fake_answer_header(ex, "Retry-After"), "1");
    cr_assert_eq(st.inbound_pending, 0);
    fake_exchange_free(ex);
    fake.submit_rc = OC_EINVAL;
    ex = post(&st, GOOD, SECRET);
    assert_answer(ex, 400, "{\"accepted\":false,\"error\":\"rejected by the gateway\"}");
    fake_exchange_free(ex);
    freestate(&st);
}

/* plugin.c is linked in: its entry gives the lifecycle ops. */
const oc_plugin_desc_t *openclaw_plugin_entry(void);

static void on_stopped(void *data)
{
    (*(int *)data)++;
}

Test(webhook_inbound, stop_waits_for_submits)
{
    wh_state_t st;
    mkstate1(&st);
    const oc_plugin_desc_t *d = openclaw_plugin_entry();
    oc_http_exchange_t *ex = post(&st, GOOD, SECRET);
    cr_assert_eq(st.inbound_pending, 1);
    int stopped = 0;
    d->ops->stop(&st, on_stopped, &stopped);
    cr_assert_eq(stopped, 0, "stop must wait for the pending submit");
    oc_http_exchange_t *late = post(&st, GOOD, SECRET);
    cr_assert_eq(late->code, 503, "new requests are refused while stopping");
    fake_exchange_free(late);
    fake_ack(OC_OK, 0, 3, NULL);
    cr_assert_eq(ex->code, 202);
    cr_assert_eq(stopped, 1);
    fake_exchange_free(ex);
    freestate(&st);
}

static void never_called(void *data, const oc_send_result_t *r)
{
    (void)data;
    (void)r;
    cr_assert_fail("send callback called for a refused send");
}

Test(webhook_outbound, send_refused_while_stopping_or_disabled)
{
    wh_state_t st;
    mkstate1(&st);
    oc_outbound_t m = {.struct_size = sizeof m, .peer_kind = OC_PEER_DIRECT, .peer_id = "u",
                       .text = "t", .idempotency_key = "k"};
    st.stopping = 1;
    cr_assert_eq(wh_send(&st, &m, never_called, NULL), OC_EAGAIN, "retryable refusal");
    st.stopping = 0;
    st.cfg.enabled = 0;
    cr_assert_eq(wh_send(&st, &m, never_called, NULL), OC_EUNAVAIL);
    st.cfg.enabled = 1;
    m.struct_size = 8;
    cr_assert_eq(wh_send(&st, &m, never_called, NULL), OC_EINVAL, "truncated struct");
    freestate(&st);
}

/* ---- config helpers ---------------------------------------------------------- */

Test(webhook_config, account_lookup_and_list)
{
    static const char *const three[] = {"alpha", "k1", "beta", "k2", "gamma", "k3", NULL};
    wh_state_t st;
    mkstate(&st, three);
    cr_assert_str_eq(wh_config_account(&st.cfg, "beta")->id, "beta");
    cr_assert_null(wh_config_account(&st.cfg, "delta"));
    cr_assert_null(wh_config_account(&st.cfg, NULL), "no implicit account among several");
    char buf[64];
    wh_config_account_list(&st.cfg, buf, sizeof buf);
    cr_assert_str_eq(buf, "alpha, beta, gamma");
    wh_config_account_list(&st.cfg, buf, 18); /* "alpha, beta, gamma" needs 19 */
    cr_assert_str_eq(buf, "alpha, beta, ...");
    wh_config_account_list(&st.cfg, buf, 12);
    cr_assert_str_eq(buf, "alpha, ...");
    wh_config_account_list(&st.cfg, buf, 4);
    cr_assert_str_eq(buf, "...");
    freestate(&st);
}
