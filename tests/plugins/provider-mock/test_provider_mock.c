/* Unit tests of plugins/provider-mock: the real provider-mock.so through the
 * test host, driven through its oc_provider_ops_t; plus its template and
 * splitting helpers, compiled in. Latency is observed on the loop (host
 * timers), never by sleeping. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openclaw/plugin.h>
#include <openclaw/testing.h>

#include "mock.h"

static const char *plugin_path(void)
{
    static char path[4096];
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(path, sizeof path, "%s/provider-mock.so", dir);
    return path;
}

typedef struct fx_s {
    oc_test_host_t *th;
    const oc_provider_ops_t *ops;
    void *st;
    const oc_host_api_t *host;
} fx_t;

static int32_t fx_try(fx_t *f, const char *yaml)
{
    memset(f, 0, sizeof *f);
    f->th = oc_test_host_new(yaml);
    cr_assert_not_null(f->th, "test host: %s", oc_test_host_last_error());
    f->host = oc_test_host_api(f->th);
    int32_t rc = oc_test_host_load(f->th, plugin_path());
    if (rc == OC_OK) {
        f->ops = oc_test_host_kind_ops(f->th, "provider-mock");
        f->st = oc_test_host_state(f->th, "provider-mock");
        cr_assert_not_null(f->ops);
        cr_assert_not_null(f->st);
    }
    return rc;
}

/* providers: [{name: m, type: mock, <extra>}] */
static void fx_load(fx_t *f, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "providers:\n  - name: m\n    type: mock\n%s", extra ? extra : "");
    int32_t rc = fx_try(f, yaml);
    cr_assert_eq(rc, OC_OK, "load failed (%d): %s", rc, oc_test_host_errors(f->th));
}

static void fx_free(fx_t *f)
{
    oc_test_host_free(f->th);
    f->th = NULL;
}

typedef struct rec_s {
    fx_t *f;
    oc_provider_call_t *call;
    int ndone;
    oc_chat_result_t res;
    char *error, *body;
    char **chunks;
    size_t nchunks;
    uint64_t started_at, done_at;
    size_t cancel_at, return_cancel_at;
} rec_t;

static int32_t on_chunk(void *data, const char *json, size_t len)
{
    rec_t *r = data;
    cr_assert_eq(r->ndone, 0, "a chunk after on_done");
    r->chunks = realloc(r->chunks, (r->nchunks + 1) * sizeof *r->chunks);
    r->chunks[r->nchunks++] = strndup(json, len);
    if (r->cancel_at && r->nchunks == r->cancel_at)
        r->f->ops->cancel(r->f->st, r->call);
    if (r->return_cancel_at && r->nchunks == r->return_cancel_at)
        return OC_ECANCELED;
    return OC_OK;
}

static void on_done(void *data, const oc_chat_result_t *res)
{
    rec_t *r = data;
    r->ndone++;
    cr_assert_eq(r->ndone, 1, "on_done ran %d times", r->ndone);
    r->done_at = r->f->host->now_ms();
    r->res = *res;
    r->error = res->error ? strdup(res->error) : NULL;
    r->body = res->body_json ? strndup(res->body_json, res->body_len) : NULL;
    r->res.error = r->error;
    r->res.body_json = r->body;
}

static const oc_chat_callbacks_t callbacks = {
    .struct_size = sizeof(oc_chat_callbacks_t),
    .on_chunk = on_chunk,
    .on_done = on_done,
};

#define HELLO "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"

static int32_t start(fx_t *f, rec_t *r, const char *model, int stream, const char *body,
                     uint32_t timeout_ms, uint32_t ftt_ms)
{
    r->f = f;
    r->started_at = f->host->now_ms();
    const char *b = body ? body : HELLO;
    oc_chat_request_t req = {
        .struct_size = sizeof req,
        .stream = stream,
        .provider = "m",
        .model = model,
        .body_json = b,
        .body_len = strlen(b),
        .timeout_ms = timeout_ms,
        .first_token_timeout_ms = ftt_ms,
    };
    return f->ops->chat(f->st, &req, &callbacks, r, &r->call);
}

static int is_done(void *arg)
{
    return ((rec_t *)arg)->ndone > 0;
}

/* In short slices: see tests/plugins/provider-openai/fixture.c (a timer
 * callback that completes the call would otherwise leave run_until asleep
 * until its own deadline). */
static int wait_done(fx_t *f, rec_t *r, uint64_t timeout_ms)
{
    uint64_t end = f->host->now_ms() + timeout_ms;
    while (!is_done(r)) {
        if (f->host->now_ms() >= end)
            return 0;
        oc_test_host_run_until(f->th, is_done, r, 5);
    }
    return 1;
}

static int never(void *arg)
{
    (void)arg;
    return 0;
}

static void run_for(fx_t *f, uint64_t ms)
{
    oc_test_host_run_until(f->th, never, NULL, ms);
}

static void rec_free(rec_t *r)
{
    free(r->error);
    free(r->body);
    for (size_t i = 0; i < r->nchunks; i++)
        free(r->chunks[i]);
    free(r->chunks);
    memset(r, 0, sizeof *r);
}

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

/* choices[0].message.content of a chat.completion. */
static char *content_of(const char *body)
{
    json_object *o = json_tokener_parse(body);
    cr_assert_not_null(o, "not JSON: %s", body);
    json_object *c0 = json_object_array_get_idx(member(o, "choices"), 0);
    json_object *content = member(member(c0, "message"), "content");
    cr_assert_not_null(content, "no choices[0].message.content: %s", body);
    char *s = strdup(json_object_get_string(content));
    json_object_put(o);
    return s;
}

/* One call through and its reply text. */
static char *reply_for(fx_t *f, const char *model, const char *body)
{
    rec_t r = {0};
    cr_assert_eq(start(f, &r, model, 0, body, 0, 0), OC_PENDING);
    cr_assert(wait_done(f, &r, 5000));
    cr_assert_eq(r.res.status, OC_OK, "%s", r.error ? r.error : "");
    char *s = content_of(r.body);
    rec_free(&r);
    return s;
}

/* ---- descriptor, config ------------------------------------------------- */

Test(mock, descriptor)
{
    void *h = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    oc_plugin_entry_fn entry = (oc_plugin_entry_fn)dlsym(h, OC_PLUGIN_ENTRY_SYMBOL);
    cr_assert_not_null(entry);
    const oc_plugin_desc_t *d = entry();
    cr_expect_eq(d->kind, OC_KIND_PROVIDER);
    cr_expect_str_eq(d->name, "provider-mock");
    cr_expect(d->flags & OC_PLUGIN_F_MULTI_LOOP);
    dlclose(h);
}

Test(mock, models)
{
    fx_t f;
    fx_load(&f, NULL);
    const char *const *m = f.ops->models(f.st);
    cr_expect_str_eq(m[0], "mock");
    cr_expect_null(m[1]);
    fx_free(&f);
    fx_load(&f, "    model: small\n    models: [small, large]\n");
    m = f.ops->models(f.st);
    cr_expect_str_eq(m[0], "small");
    cr_expect_str_eq(m[1], "large");
    cr_expect_null(m[2]);
    fx_free(&f);
}

static void expect_bad(const char *extra, const char *want1, const char *want2)
{
    fx_t f;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "providers:\n  - name: m\n    type: mock\n%s", extra);
    int32_t rc = fx_try(&f, yaml);
    const char *errs = oc_test_host_errors(f.th);
    cr_expect_eq(rc, OC_ECONFIG, "rc %d: %s", rc, errs);
    cr_expect_not_null(strstr(errs, want1), "missing \"%s\" in: %s", want1, errs);
    if (want2)
        cr_expect_not_null(strstr(errs, want2), "missing \"%s\" in: %s", want2, errs);
    fx_free(&f);
}

Test(mock, bad_config_values)
{
    expect_bad("    streamChunks: 0\n", "test.yaml:4:19: ", "streamChunks");
    expect_bad("    failStatus: 200\n", "test.yaml:4:17: ", "failStatus");
    expect_bad("    failStatus: 600\n", "test.yaml:4:17: ", "failStatus");
    expect_bad("    latencyMs: -1\n", "test.yaml:4:16: ", "latencyMs");
    expect_bad("    failFirst: lots\n", "test.yaml:4:16: ", "failFirst");
    expect_bad("    reply: \"hi {{lats}}\"\n", "test.yaml:4:12: ", "unknown placeholder {{lats}}");
    expect_bad("    reply: \"hi {{last\"\n", "test.yaml:4:12: ", "never closed");
    expect_bad("    models: mock\n", "test.yaml:4:13: ", "list of model ids");
    expect_bad("    replyy: x\n", "unknown key 'replyy'", "did you mean 'reply'");
}

/* ---- replies ------------------------------------------------------------ */

Test(mock, default_reply_is_a_chat_completion)
{
    fx_t f;
    fx_load(&f, NULL);
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 0,
                       "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                       "{\"role\":\"user\",\"content\":\"hello there\"}]}",
                       0, 0),
                 OC_PENDING);
    cr_expect_eq(r.ndone, 0, "never called back inside chat");
    cr_assert(wait_done(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_NONE);
    cr_expect_eq(r.res.http_status, 200);
    json_object *o = json_tokener_parse(r.body);
    cr_assert_not_null(o, "%s", r.body);
    cr_expect_str_eq(json_object_get_string(member(o, "object")), "chat.completion");
    cr_expect_str_eq(json_object_get_string(member(o, "model")), "mock");
    cr_expect_str_eq(json_object_get_string(member(o, "id")), "chatcmpl-mock-1");
    json_object *c0 = json_object_array_get_idx(member(o, "choices"), 0);
    json_object *msg = member(c0, "message");
    cr_expect_str_eq(json_object_get_string(member(msg, "role")), "assistant");
    cr_expect_str_eq(json_object_get_string(member(msg, "content")), "mock: hello there");
    cr_expect_str_eq(json_object_get_string(member(c0, "finish_reason")), "stop");
    json_object *u = member(o, "usage");
    /* prompt_tokens: words in every message (2 + 2); completion: in the reply (3). */
    cr_expect_eq(json_object_get_int(member(u, "prompt_tokens")), 4);
    cr_expect_eq(json_object_get_int(member(u, "completion_tokens")), 3);
    cr_expect_eq(json_object_get_int(member(u, "total_tokens")), 7);
    cr_expect_eq(r.res.prompt_tokens, 4);
    cr_expect_eq(r.res.completion_tokens, 3);
    json_object_put(o);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, template_placeholders)
{
    fx_t f;
    fx_load(&f, "    reply: \"[{{model}}] {{ count }} msgs, last={{last}}; again {{last}}\"\n");
    char *s = reply_for(&f, "big-model",
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"first\"},"
                        "{\"role\":\"assistant\",\"content\":\"ok\"},"
                        "{\"role\":\"user\",\"content\":\"second\"},"
                        "{\"role\":\"tool\",\"content\":\"t\"}]}");
    cr_expect_str_eq(s, "[big-model] 4 msgs, last=second; again second");
    free(s);
    fx_free(&f);
}

Test(mock, last_with_array_parts)
{
    fx_t f;
    fx_load(&f, "    reply: \"{{last}}\"\n");
    char *s = reply_for(&f, NULL,
                        "{\"messages\":[{\"role\":\"user\",\"content\":["
                        "{\"type\":\"text\",\"text\":\"look at\"},"
                        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}},"
                        "{\"type\":\"text\",\"text\":\"this \\\"picture\\\"\\n\"}]}]}");
    cr_expect_str_eq(s, "look at this \"picture\"\n");
    free(s);
    fx_free(&f);
}

Test(mock, no_user_message_and_null_content)
{
    fx_t f;
    fx_load(&f, NULL);
    char *s = reply_for(&f, NULL,
                        "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"},"
                        "{\"role\":\"assistant\",\"content\":null}]}");
    cr_expect_str_eq(s, "mock: ");
    free(s);
    s = reply_for(&f, NULL, "{\"messages\":[]}");
    cr_expect_str_eq(s, "mock: ");
    free(s);
    fx_free(&f);
}

Test(mock, bad_requests)
{
    fx_t f;
    fx_load(&f, NULL);
    rec_t r = {0};
    cr_expect_eq(start(&f, &r, NULL, 0, "nope", 0, 0), OC_EINVAL);
    cr_expect_eq(start(&f, &r, NULL, 0, "[]", 0, 0), OC_EINVAL);
    /* No messages array: answered as an upstream's 400. */
    cr_assert_eq(start(&f, &r, NULL, 0, "{\"messages\":\"hi\"}", 0, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 5000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_REQUEST);
    cr_expect_eq(r.res.http_status, 400);
    cr_expect_not_null(strstr(r.error, "messages"));
    rec_free(&r);
    fx_free(&f);
}

/* ---- streaming ---------------------------------------------------------- */

Test(mock, stream_chunks)
{
    fx_t f;
    fx_load(&f, "    streamChunks: 3\n    reply: \"h\xc3\xa9llo w\xc3\xb6rld!\"\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, "m1", 1, HELLO, 0, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK);
    cr_expect_null(r.body);
    cr_assert_eq(r.nchunks, 5, "role, 3 content, stop: got %zu", r.nchunks);
    char text[128] = "";
    for (size_t i = 0; i < r.nchunks; i++) {
        json_object *o = json_tokener_parse(r.chunks[i]);
        cr_assert_not_null(o, "chunk %zu: %s", i, r.chunks[i]);
        cr_expect_str_eq(json_object_get_string(member(o, "object")), "chat.completion.chunk");
        cr_expect_str_eq(json_object_get_string(member(o, "model")), "m1");
        json_object *c0 = json_object_array_get_idx(member(o, "choices"), 0);
        json_object *delta = member(c0, "delta");
        json_object *fr = member(c0, "finish_reason");
        if (i == 0) {
            cr_expect_str_eq(json_object_get_string(member(delta, "role")), "assistant");
        } else if (i < 4) {
            const char *piece = json_object_get_string(member(delta, "content"));
            cr_expect_gt(strlen(piece), 0);
            strcat(text, piece);
            cr_expect_null(fr);
        } else {
            cr_expect_str_eq(json_object_get_string(fr), "stop");
            cr_expect_eq(json_object_object_length(delta), 0);
        }
        json_object_put(o);
    }
    cr_expect_str_eq(text, "h\xc3\xa9llo w\xc3\xb6rld!", "pieces cut on code points");
    cr_expect_eq(r.res.prompt_tokens, 1);
    cr_expect_eq(r.res.completion_tokens, 2);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, stream_more_chunks_than_characters_and_usage_chunk)
{
    fx_t f;
    fx_load(&f, "    streamChunks: 50\n    reply: \"abc\"\n");
    rec_t r = {0};
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"a b c\"}],"
                       "\"stream_options\":{\"include_usage\":true}}";
    cr_assert_eq(start(&f, &r, NULL, 1, body, 0, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 5000));
    cr_assert_eq(r.nchunks, 6, "role, a, b, c, stop, usage: got %zu", r.nchunks);
    json_object *o = json_tokener_parse(r.chunks[5]);
    cr_expect_eq(json_object_array_length(member(o, "choices")), 0);
    cr_expect_eq(json_object_get_int(member(member(o, "usage"), "prompt_tokens")), 3);
    cr_expect_eq(json_object_get_int(member(member(o, "usage"), "completion_tokens")), 1);
    json_object_put(o);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, stream_chunk_interval_and_cancel_inside_on_chunk)
{
    fx_t f;
    fx_load(&f, "    streamChunks: 4\n    chunkIntervalMs: 20\n    reply: \"abcdefgh\"\n");
    rec_t r = {0};
    r.cancel_at = 3;
    cr_assert_eq(start(&f, &r, NULL, 1, HELLO, 0, 0), OC_PENDING);
    run_for(&f, 400);
    cr_expect_eq(r.nchunks, 3);
    cr_expect_eq(r.ndone, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, on_chunk_returning_canceled)
{
    fx_t f;
    fx_load(&f, "    streamChunks: 4\n");
    rec_t r = {0};
    r.return_cancel_at = 2;
    cr_assert_eq(start(&f, &r, NULL, 1, HELLO, 0, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 5000));
    run_for(&f, 50);
    cr_expect_eq(r.nchunks, 2);
    cr_expect_eq(r.res.status, OC_ECANCELED);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_CANCELED);
    rec_free(&r);
    fx_free(&f);
}

/* ---- failures, latency, timeouts, cancel -------------------------------- */

static void expect_fail_first(int status, int32_t cls)
{
    fx_t f;
    char extra[128];
    snprintf(extra, sizeof extra, "    failFirst: 2\n    failStatus: %d\n", status);
    fx_load(&f, extra);
    for (int i = 0; i < 3; i++) {
        rec_t r = {0};
        cr_assert_eq(start(&f, &r, NULL, i == 1, HELLO, 0, 0), OC_PENDING);
        cr_assert(wait_done(&f, &r, 5000));
        if (i < 2) {
            cr_expect_eq(r.res.error_class, cls, "HTTP %d, call %d: class %d", status, i + 1,
                         r.res.error_class);
            cr_expect_eq(r.res.http_status, status);
            cr_expect_neq(r.res.status, OC_OK);
            cr_expect_not_null(strstr(r.error, "failFirst"), "%s", r.error);
            cr_expect_eq(r.nchunks, 0);
        } else {
            cr_expect_eq(r.res.status, OC_OK, "the third call succeeds");
        }
        rec_free(&r);
    }
    fx_free(&f);
}

Test(mock, fail_first_then_success)
{
    expect_fail_first(500, OC_PROV_ERR_SERVER);
    expect_fail_first(503, OC_PROV_ERR_SERVER);
    expect_fail_first(429, OC_PROV_ERR_RATE);
    expect_fail_first(400, OC_PROV_ERR_REQUEST);
    expect_fail_first(401, OC_PROV_ERR_AUTH);
    expect_fail_first(403, OC_PROV_ERR_AUTH);
}

Test(mock, fail_first_default_status_is_500)
{
    fx_t f;
    fx_load(&f, "    failFirst: 1\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 0, HELLO, 0, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 5000));
    cr_expect_eq(r.res.http_status, 500);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_SERVER);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, latency_is_a_timer_on_the_loop)
{
    fx_t f;
    fx_load(&f, "    latencyMs: 200\n");
    rec_t r = {0};
    uint64_t t0 = f.host->now_ms();
    cr_assert_eq(start(&f, &r, NULL, 0, HELLO, 0, 0), OC_PENDING);
    cr_expect_lt(f.host->now_ms() - t0, 50, "chat must not wait");
    run_for(&f, 100);
    cr_expect_eq(r.ndone, 0, "answered before latencyMs");
    /* Two calls overlap on one loop: latency is not serialised. */
    rec_t r2 = {0};
    cr_assert_eq(start(&f, &r2, NULL, 0, HELLO, 0, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 5000));
    cr_assert(wait_done(&f, &r2, 5000));
    uint64_t took = r.done_at - r.started_at;
    cr_expect(took >= 195 && took < 1000, "took %llu ms", (unsigned long long)took);
    cr_expect_lt(r2.done_at - r.started_at, 600, "the second call waited for the first");
    cr_expect_eq(r.res.status, OC_OK);
    rec_free(&r);
    rec_free(&r2);
    fx_free(&f);
}

Test(mock, latency_beyond_the_first_token_timeout)
{
    fx_t f;
    fx_load(&f, "    latencyMs: 5000\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 1, HELLO, 0, 150), OC_PENDING);
    cr_assert(wait_done(&f, &r, 3000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_eq(r.res.status, OC_ETIMEDOUT);
    cr_expect_not_null(strstr(r.error, "first-token"), "%s", r.error);
    cr_expect_lt(r.done_at - r.started_at, 1000);
    cr_expect_eq(r.nchunks, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, latency_beyond_the_timeout)
{
    fx_t f;
    fx_load(&f, "    latencyMs: 5000\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 0, HELLO, 150, 0), OC_PENDING);
    cr_assert(wait_done(&f, &r, 3000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_lt(r.done_at - r.started_at, 1000);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, slow_stream_overruns_the_timeout)
{
    fx_t f;
    fx_load(&f, "    streamChunks: 10\n    chunkIntervalMs: 50\n    reply: \"0123456789\"\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 1, HELLO, 200, 100), OC_PENDING);
    cr_assert(wait_done(&f, &r, 3000));
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_TIMEOUT);
    cr_expect_gt(r.nchunks, 0, "the first chunk beat the first-token timeout");
    cr_expect_lt(r.nchunks, 12);
    rec_free(&r);
    fx_free(&f);
}

Test(mock, cancel_before_the_answer)
{
    fx_t f;
    fx_load(&f, "    latencyMs: 100\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 0, HELLO, 0, 0), OC_PENDING);
    run_for(&f, 30);
    f.ops->cancel(f.st, r.call);
    run_for(&f, 250);
    cr_expect_eq(r.ndone, 0);
    rec_t r2 = {0};
    cr_assert_eq(start(&f, &r2, NULL, 1, HELLO, 0, 0), OC_PENDING);
    f.ops->cancel(f.st, r2.call); /* at once: no callback either */
    run_for(&f, 200);
    cr_expect_eq(r2.ndone, 0);
    cr_expect_eq(r2.nchunks, 0);
    rec_free(&r);
    rec_free(&r2);
    fx_free(&f);
}

Test(mock, stop_waits_for_calls_in_flight)
{
    fx_t f;
    fx_load(&f, "    latencyMs: 150\n");
    rec_t r = {0};
    cr_assert_eq(start(&f, &r, NULL, 0, HELLO, 0, 0), OC_PENDING);
    fx_free(&f);
    cr_expect_eq(r.ndone, 1);
    cr_expect_eq(r.res.status, OC_OK);
    rec_free(&r);
}

Test(mock, instances_count_fail_first_separately)
{
    fx_t f;
    int32_t rc = fx_try(&f, "providers:\n"
                            "  - {name: a, type: mock, failFirst: 1}\n"
                            "  - {name: b, type: mock, failFirst: 1}\n");
    cr_assert_eq(rc, OC_OK, "%s", oc_test_host_errors(f.th));
    const char *names[] = {"provider-mock:a", "provider-mock:b", "provider-mock:a"};
    int want_ok[] = {0, 0, 1};
    for (int i = 0; i < 3; i++) {
        rec_t r = {0};
        r.f = &f;
        const oc_provider_ops_t *ops = oc_test_host_kind_ops(f.th, names[i]);
        void *st = oc_test_host_state(f.th, names[i]);
        oc_chat_request_t req = {.struct_size = sizeof req, .body_json = HELLO,
                                 .body_len = strlen(HELLO)};
        cr_assert_eq(ops->chat(st, &req, &callbacks, &r, &r.call), OC_PENDING);
        cr_assert(wait_done(&f, &r, 5000));
        cr_expect_eq(r.res.status == OC_OK, want_ok[i], "call %d on %s", i, names[i]);
        rec_free(&r);
    }
    fx_free(&f);
}

/* ---- helpers (compiled in) ---------------------------------------------- */

Test(mock_helpers, split_on_code_points)
{
    const char *s = "a\xc3\xa9z\xe2\x82\xac"; /* a é z € : 4 code points, 7 bytes */
    size_t len = strlen(s);
    cr_expect_eq(mock_code_points(s, len), 4);
    cr_expect_eq(mock_split_at(s, len, 0, 2), 3); /* "aé" */
    cr_expect_eq(mock_split_at(s, len, 1, 2), 7);
    cr_expect_eq(mock_split_at(s, len, 0, 4), 1);
    cr_expect_eq(mock_split_at(s, len, 1, 4), 3);
    cr_expect_eq(mock_split_at(s, len, 2, 4), 4);
    cr_expect_eq(mock_split_at(s, len, 3, 4), 7);
    cr_expect_eq(mock_split_at(s, len, 0, 3), 1);
    cr_expect_eq(mock_split_at(s, len, 1, 3), 3);
}

Test(mock_helpers, template_and_words)
{
    mock_template_t t;
    char err[128];
    cr_assert_eq(mock_template_parse(&t, "{{last}}|{{count}}|{{model}}|{ {x}}|}}", err,
                                     sizeof err),
                 0, "%s", err);
    mock_buf_t b = {0};
    mock_template_render(&t, "L", 7, "M", &b);
    cr_expect_str_eq(b.data, "L|7|M|{ {x}}|}}");
    mock_buf_free(&b);
    mock_template_free(&t);
    cr_expect_neq(mock_template_parse(&t, "{{nope}}", err, sizeof err), 0);
    cr_expect_not_null(strstr(err, "{{nope}}"));
    mock_template_free(&t);
    cr_expect_eq(mock_count_words("  one two\tthree\nfour  ", 22), 4);
    cr_expect_eq(mock_count_words("", 0), 0);
    mock_buf_t j = {0};
    mock_buf_json_str(&j, "a\"b\\c\n\x01\xc3\xa9", 9);
    cr_expect_str_eq(j.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    mock_buf_free(&j);
}
