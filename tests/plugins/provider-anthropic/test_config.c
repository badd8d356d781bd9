/* provider-anthropic: the descriptor, and its providers[] entry: defaults,
 * baseUrl forms, the models op, and every kind of bad value, reported with
 * file:line:col. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

Test(ant_config, descriptor_is_a_multi_loop_provider)
{
    void *h = dlopen(plugin_path("provider-anthropic"), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    oc_plugin_entry_fn entry = (oc_plugin_entry_fn)dlsym(h, OC_PLUGIN_ENTRY_SYMBOL);
    cr_assert_not_null(entry);
    const oc_plugin_desc_t *d = entry();
    cr_expect_eq(d->magic, OC_PLUGIN_MAGIC);
    cr_expect_eq(d->kind, OC_KIND_PROVIDER);
    cr_expect_str_eq(d->name, "provider-anthropic");
    cr_expect(d->flags & OC_PLUGIN_F_MULTI_LOOP);
    const oc_provider_ops_t *ops = d->kind_ops;
    cr_expect_not_null(ops->chat);
    cr_expect_not_null(ops->cancel);
    cr_expect_not_null(ops->models);
    cr_expect_null(d->ops->reload, "reload replaces the instance");
    dlclose(h);
}

static void expect_models(fx_t *f, const char *const *want, size_t n)
{
    const char *const *got = f->ops->models(f->st);
    cr_assert_not_null(got);
    size_t i = 0;
    for (; got[i]; i++) {
        cr_assert_lt(i, n, "more models than expected: %s", got[i]);
        cr_expect_str_eq(got[i], want[i]);
    }
    cr_expect_eq(i, n);
}

Test(ant_config, models_default_to_the_model)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n  - {name: a, type: anthropic, apiKey: k1234567, "
                "model: claude-sonnet-4-20250514}\n");
    const char *want[] = {"claude-sonnet-4-20250514"};
    expect_models(&f, want, 1);
    fx_free(&f);
}

Test(ant_config, models_list)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n  - name: a\n    type: anthropic\n    model: claude-a\n"
                "    models: [claude-a, claude-b, claude-c]\n");
    const char *want[] = {"claude-a", "claude-b", "claude-c"};
    expect_models(&f, want, 3);
    fx_free(&f);
}

Test(ant_config, no_model_no_models)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n  - {name: a, type: anthropic}\n");
    expect_models(&f, NULL, 0);
    rec_t r = {0};
    cr_expect_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_EINVAL, "no model anywhere");
    cr_expect_eq(r.ndone, 0);
    cr_expect_not_null(strstr(oc_test_host_errors(f.th), "no default model"));
    cr_expect_not_null(strstr(oc_test_host_errors(f.th), "no apiKey for api.anthropic.com"),
                       "the default upstream without a key is worth a warning");
    fx_free(&f);
}

Test(ant_config, two_entries_two_instances)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n"
                "  - {name: one, type: anthropic, model: m1}\n"
                "  - {name: two, type: anthropic, model: m2}\n");
    const oc_provider_ops_t *ops = oc_test_host_kind_ops(f.th, "provider-anthropic:two");
    void *st = oc_test_host_state(f.th, "provider-anthropic:two");
    cr_assert_not_null(st);
    cr_expect_str_eq(ops->models(st)[0], "m2");
    cr_expect_str_eq(ops->models(oc_test_host_state(f.th, "provider-anthropic:one"))[0], "m1");
    fx_free(&f);
}

/* The path the upstream saw for baseUrl `url` (with %PORT%). */
static void expect_path(const char *url, const char *path)
{
    fx_t f = {0};
    fx_server(&f);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "providers:\n  - name: p\n    type: anthropic\n    baseUrl: %s\n"
             "    apiKey: \"\"\n    model: m\n",
             url);
    fx_load(&f, yaml);
    route_json(&f, 200, NULL, MESSAGE_BODY);
    gw_ths_route(f.srv, "/proxy/anthropic/v1/messages",
                 &(gw_ths_response_t){.headers = "Content-Type: application/json\r\n",
                                      .body = MESSAGE_BODY});
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    cr_expect_eq(r.res.status, OC_OK, "%s: %s", url, r.error ? r.error : "");
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(q.path, path, "baseUrl %s", url);
    cr_expect_null(gw_ths_request_header(&q, "x-api-key"), "apiKey \"\" sends no key");
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_config, base_url_forms)
{
    expect_path("http://127.0.0.1:%PORT%", MESSAGES);
    expect_path("http://127.0.0.1:%PORT%/", MESSAGES);
    expect_path("http://127.0.0.1:%PORT%/v1", MESSAGES);
    expect_path("http://127.0.0.1:%PORT%/v1/", MESSAGES);
    expect_path("http://127.0.0.1:%PORT%/proxy/anthropic", "/proxy/anthropic/v1/messages");
    expect_path("http://127.0.0.1:%PORT%/proxy/anthropic/v1?team=a",
                "/proxy/anthropic/v1/messages?team=a");
}

Test(ant_config, credential_headers_instead_of_a_key)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load(&f, "providers:\n  - name: p\n    type: anthropic\n"
                "    baseUrl: http://127.0.0.1:%PORT%\n    model: m\n"
                "    headers: {Authorization: Bearer oauth-token-123, Accept: application/x}\n");
    route_json(&f, 200, NULL, MESSAGE_BODY);
    rec_t r = {0};
    rec_run(&f, &r, 0, NULL);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(gw_ths_request_header(&q, "authorization"), "Bearer oauth-token-123");
    cr_expect_str_eq(gw_ths_request_header(&q, "accept"), "application/x", "headers win");
    cr_expect_null(gw_ths_request_header(&q, "x-api-key"));
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

/* Loads `yaml`, expects a config failure, and that every `want` string is
 * in the reported errors and `absent` (when given) is not. */
static void expect_bad(const char *yaml, const char *const *want, size_t n, const char *absent)
{
    fx_t f = {0};
    int32_t rc = fx_try(&f, yaml);
    const char *errs = oc_test_host_errors(f.th);
    cr_expect_eq(rc, OC_ECONFIG, "rc %d, errors: %s", rc, errs);
    for (size_t i = 0; i < n; i++)
        cr_expect_not_null(strstr(errs, want[i]), "missing \"%s\" in: %s", want[i], errs);
    if (absent)
        cr_expect_null(strstr(errs, absent), "\"%s\" must not appear in: %s", absent, errs);
    fx_free(&f);
}

#define HEAD "providers:\n  - name: up\n    type: anthropic\n"

Test(ant_config, bad_numbers)
{
    const char *want[] = {"test.yaml:4:16: ", "timeoutMs", "-5", "test.yaml:5:17: ",
                          "maxRetries", "test.yaml:6:16: ", "maxTokens"};
    expect_bad(HEAD "    timeoutMs: -5\n    maxRetries: 11\n    maxTokens: 0\n", want,
               sizeof want / sizeof want[0], NULL);
    const char *want2[] = {"test.yaml:4:16: ", "maxTokens"};
    expect_bad(HEAD "    maxTokens: lots\n", want2, 2, NULL);
}

Test(ant_config, bad_anthropic_version)
{
    const char *want[] = {"test.yaml:4:23: ", "anthropicVersion",
                          "expected an API version date like 2023-06-01", "\"2023/06/01\""};
    expect_bad(HEAD "    anthropicVersion: 2023/06/01\n", want, 4, NULL);
    const char *want2[] = {"test.yaml:4:23: ", "anthropicVersion: expected a string"};
    expect_bad(HEAD "    anthropicVersion: [2023-06-01]\n", want2, 2, NULL);
}

Test(ant_config, bad_base_urls)
{
    const char *want[] = {"test.yaml:4:14: ", "baseUrl", "http:// or https://"};
    expect_bad(HEAD "    baseUrl: ftp://example.com\n", want, 3, NULL);
    const char *host[] = {"baseUrl", "with a host"};
    expect_bad(HEAD "    baseUrl: \"https:///v1\"\n", host, 2, NULL);
    const char *blank[] = {"baseUrl", "space or control character"};
    expect_bad(HEAD "    baseUrl: \"https://api.anthropic.com/a b\"\n", blank, 2, NULL);
}

Test(ant_config, api_key_with_whitespace_or_control_characters)
{
    const char *want[] = {"test.yaml:4:13: ", "apiKey", "whitespace"};
    expect_bad(HEAD "    apiKey: \" sk-ant-leaky-secret\"\n", want, 3, "sk-ant-leaky-secret");
    const char *ctl[] = {"apiKey", "control characters"};
    expect_bad(HEAD "    apiKey: \"sk-ant-leaky-secret\\n\"\n", ctl, 2, "sk-ant-leaky-secret");
}

Test(ant_config, bad_headers)
{
    const char *want[] = {"test.yaml:5:7: ", "headers", "expected a map"};
    expect_bad(HEAD "    headers:\n      - X-A: b\n", want, 3, NULL);
    const char *every[] = {"test.yaml:6:17", "valid header name", "test.yaml:7:14",
                           "expected a string value", "Content-Length is set by the HTTP client",
                           "anthropic-version is set by anthropicVersion",
                           "x-api-key is also set by apiKey", "line break or control"};
    expect_bad(HEAD "    apiKey: sk-ant-aaaaaaaaaaaa\n"
                    "    headers:\n"
                    "      Bad Name: x\n"
                    "      X-Map: {a: b}\n"
                    "      Content-Length: \"5\"\n"
                    "      anthropic-version: 2023-06-01\n"
                    "      x-api-key: sk-ant-bbbbbbbbbbbb\n"
                    "      X-Token: \"tok-secret\\r\\nInjected: 1\"\n",
               every, sizeof every / sizeof every[0], "sk-ant-bbbbbbbbbbbb");
}

Test(ant_config, bad_models)
{
    const char *want[] = {"test.yaml:4:12: ", "expected a model id", "test.yaml:5:17: ",
                          "non-empty string"};
    expect_bad(HEAD "    model: \"\"\n    models: [a, \"\", c]\n", want, 4, NULL);
    const char *list[] = {"test.yaml:4:13: ", "expected a list of model ids"};
    expect_bad(HEAD "    models: claude-a\n", list, 2, NULL);
}

Test(ant_config, unknown_key_is_reported)
{
    const char *want[] = {"test.yaml:4:5: ", "unknown key 'max_tokens'"};
    expect_bad(HEAD "    max_tokens: 5000\n", want, 2, NULL);
}

Test(ant_config, every_problem_is_reported)
{
    const char *want[] = {"timeoutMs", "baseUrl", "anthropicVersion", "models", "headers"};
    expect_bad(HEAD "    timeoutMs: 0\n    baseUrl: nope\n    anthropicVersion: latest\n"
                    "    models: {a: b}\n    headers: x\n",
               want, sizeof want / sizeof want[0], "unknown key 'a'");
}
