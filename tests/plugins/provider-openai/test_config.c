/* provider-openai: the descriptor, and its providers[] entry: defaults,
 * the models op, and every kind of bad value, reported with
 * file:line:col. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <string.h>

#include "fixture.h"

Test(openai_config, descriptor_is_a_multi_loop_provider)
{
    void *h = dlopen(plugin_path("provider-openai"), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    oc_plugin_entry_fn entry = (oc_plugin_entry_fn)dlsym(h, OC_PLUGIN_ENTRY_SYMBOL);
    cr_assert_not_null(entry);
    const oc_plugin_desc_t *d = entry();
    cr_expect_eq(d->magic, OC_PLUGIN_MAGIC);
    cr_expect_eq(d->kind, OC_KIND_PROVIDER);
    cr_expect_str_eq(d->name, "provider-openai");
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

Test(openai_config, models_default_to_the_model)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n  - {name: a, type: openai, model: gpt-4o}\n");
    const char *want[] = {"gpt-4o"};
    expect_models(&f, want, 1);
    fx_free(&f);
}

Test(openai_config, models_list)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n  - name: a\n    type: openai\n    model: gpt-4o\n"
                "    models: [gpt-4o, gpt-4o-mini, o3]\n");
    const char *want[] = {"gpt-4o", "gpt-4o-mini", "o3"};
    expect_models(&f, want, 3);
    fx_free(&f);
}

Test(openai_config, no_model_no_models)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n  - {name: a, type: openai}\n");
    expect_models(&f, NULL, 0);
    /* And a request without a model is refused now. */
    rec_t r = {0};
    cr_expect_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_EINVAL);
    cr_expect_eq(r.ndone, 0);
    fx_free(&f);
}

Test(openai_config, two_entries_two_instances)
{
    fx_t f = {0};
    fx_load(&f, "providers:\n"
                "  - {name: one, type: openai, model: m1}\n"
                "  - {name: two, type: openai, model: m2}\n");
    const oc_provider_ops_t *ops = oc_test_host_kind_ops(f.th, "provider-openai:two");
    void *st = oc_test_host_state(f.th, "provider-openai:two");
    cr_assert_not_null(st);
    cr_expect_str_eq(ops->models(st)[0], "m2");
    cr_expect_str_eq(ops->models(oc_test_host_state(f.th, "provider-openai:one"))[0], "m1");
    fx_free(&f);
}

Test(openai_config, empty_api_key_means_none)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load(&f, "providers:\n  - name: local\n    type: openai\n"
                "    baseUrl: http://127.0.0.1:%PORT%/v1/\n    apiKey: \"\"\n    model: llama\n");
    route_json(&f, 200, NULL, COMPLETION_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    cr_expect_eq(r.res.status, OC_OK, "%s", r.error);
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(q.path, COMPLETIONS, "the trailing / of baseUrl is dropped");
    cr_expect_null(gw_ths_request_header(&q, "authorization"));
    gw_ths_request_free(&q);
    rec_free(&r);
    fx_free(&f);
}

Test(openai_config, base_url_query_stays_after_the_path)
{
    fx_t f = {0};
    fx_server(&f);
    fx_load(&f, "providers:\n  - name: az\n    type: openai\n"
                "    baseUrl: http://127.0.0.1:%PORT%/v1?api-version=2024-02-01\n"
                "    model: m\n    headers: {api-key: azure-secret-value}\n");
    route_json(&f, 200, NULL, COMPLETION_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    gw_ths_request_t q;
    upstream_request(&f, 0, &q);
    cr_expect_str_eq(q.path, "/v1/chat/completions?api-version=2024-02-01");
    cr_expect_str_eq(gw_ths_request_header(&q, "api-key"), "azure-secret-value");
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

Test(openai_config, negative_timeout)
{
    const char *want[] = {"test.yaml:4:16: ", "timeoutMs", "-5"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    timeoutMs: -5\n",
               want, 3, NULL);
}

Test(openai_config, headers_not_a_map)
{
    const char *want[] = {"test.yaml:5:7: ", "headers", "expected a map"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    headers:\n"
               "      - X-A: b\n",
               want, 3, NULL);
}

Test(openai_config, every_problem_is_reported)
{
    const char *want[] = {"test.yaml:4:17: ", "maxRetries", "test.yaml:5:14: ", "baseUrl",
                          "http:// or https://", "test.yaml:6:13: ", "models", "test.yaml:8:17",
                          "valid header name", "test.yaml:9:14", "expected a string value"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    maxRetries: 11\n"
               "    baseUrl: ftp://example.com\n"
               "    models: gpt-4o\n"
               "    headers:\n"
               "      Bad Name: x\n"
               "      X-Map: {a: b}\n",
               want, sizeof want / sizeof want[0], "unknown key 'a'");
}

Test(openai_config, api_key_with_whitespace_is_refused_without_showing_it)
{
    const char *want[] = {"test.yaml:4:13: ", "apiKey", "whitespace"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    apiKey: \" sk-leaky-secret-value\"\n",
               want, 3, "sk-leaky-secret-value");
}

Test(openai_config, authorization_header_and_api_key)
{
    const char *want[] = {"test.yaml:6:22: ", "Authorization is also set by apiKey"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    apiKey: sk-aaaaaaaaaaaaaaaa\n"
               "    headers:\n"
               "      Authorization: Bearer sk-bbbbbbbbbbbbbbbb\n",
               want, 2, "sk-bbbbbbbbbbbbbbbb");
}

Test(openai_config, client_owned_headers_are_refused)
{
    const char *want[] = {"Content-Length is set by the HTTP client"};
    expect_bad("providers:\n  - name: up\n    type: openai\n"
               "    headers: {Content-Length: \"5\"}\n",
               want, 1, NULL);
}

Test(openai_config, unknown_key_is_reported)
{
    const char *want[] = {"test.yaml:4:5: ", "unknown key 'timeoutMS'", "timeoutMs"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    timeoutMS: 5000\n",
               want, 3, NULL);
}

Test(openai_config, empty_model_and_bad_models_items)
{
    const char *want[] = {"test.yaml:4:12: ", "must not be empty", "test.yaml:5:17: ",
                          "non-empty string"};
    expect_bad("providers:\n"
               "  - name: up\n"
               "    type: openai\n"
               "    model: \"\"\n"
               "    models: [a, \"\", c]\n",
               want, 4, NULL);
}

Test(openai_config, url_without_host)
{
    const char *want[] = {"baseUrl", "with a host"};
    expect_bad("providers:\n  - {name: up, type: openai, baseUrl: \"https:///v1\"}\n", want, 2,
               NULL);
}
