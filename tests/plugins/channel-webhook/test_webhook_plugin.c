/* Tests of the real channel-webhook.so in the test host (the gateway's own
 * loader, config and HTTP client): ABI, configuration errors, status, send()
 * against tests/support/test_http_server and webhook_receiver.py, and the
 * inbound route end to end through host_shim.h. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openclaw/plugin.h>
#include <openclaw/testing.h>

#include "fake_inbound.h"
#include "host_shim.h"
#include "test_http_server.h"

#define NAME "channel-webhook"
#define SECRET "s3cret-0123456789"

extern char **environ;

static const char *plugin_path(void)
{
    static char path[4096];
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(path, sizeof path, "%s/" NAME ".so", dir);
    return path;
}

typedef struct fx_s {
    oc_test_host_t *th;
    const oc_channel_ops_t *ops;
    void *st;
} fx_t;

static int32_t fx_try(fx_t *f, const char *yaml)
{
    memset(f, 0, sizeof *f);
    f->th = oc_test_host_new(yaml);
    cr_assert_not_null(f->th, "test host: %s", oc_test_host_last_error());
    cr_assert_eq(host_shim_install(oc_test_host_api(f->th)), 0, "host shim: %s",
                 strerror(errno));
    fake_reset();
    int32_t rc = oc_test_host_load(f->th, plugin_path());
    if (rc == OC_OK) {
        f->ops = oc_test_host_kind_ops(f->th, NAME);
        f->st = oc_test_host_state(f->th, NAME);
        cr_assert_not_null(f->ops);
        cr_assert_not_null(f->st);
    }
    return rc;
}

static void fx_load(fx_t *f, const char *yaml)
{
    int32_t rc = fx_try(f, yaml);
    cr_assert_eq(rc, OC_OK, "load failed (%d): %s", rc, oc_test_host_errors(f->th));
}

static void fx_free(fx_t *f)
{
    oc_test_host_free(f->th);
    f->th = NULL;
    fake_reset();
}

/* The YAML of a one-account config whose callbackUrl is `url`, plus extra
 * lines (indented 4) under channels.webhook. */
static const char *yaml_for(const char *url, const char *extra)
{
    static char y[2048];
    snprintf(y, sizeof y,
             "channels:\n"
             "  webhook:\n"
             "    secret: " SECRET "\n"
             "    callbackUrl: \"%s\"\n"
             "%s",
             url, extra ? extra : "");
    return y;
}

/* ---- send helpers ---------------------------------------------------------- */

typedef struct sent_s {
    int done;
    int calls;
    int32_t status;
    int32_t retryable;
    uint32_t retry_after_ms;
    char error[512];
} sent_t;

static void on_sent(void *data, const oc_send_result_t *r)
{
    sent_t *s = data;
    s->done = 1;
    s->calls++;
    s->status = r->status;
    s->retryable = r->retryable;
    s->retry_after_ms = r->retry_after_ms;
    snprintf(s->error, sizeof s->error, "%s", r->error ? r->error : "");
}

static int sent_done(void *arg)
{
    return ((sent_t *)arg)->done;
}

static int32_t send_msg(fx_t *f, const char *account, const char *peer, const char *text,
                        const char *reply, const char *key, sent_t *s)
{
    memset(s, 0, sizeof *s);
    oc_outbound_t m = {.struct_size = sizeof m,
                       .peer_kind = OC_PEER_DIRECT,
                       .account = account,
                       .peer_id = peer,
                       .text = text,
                       .in_reply_to = reply,
                       .idempotency_key = key};
    return f->ops->send(f->st, &m, on_sent, s);
}

/* Runs the loop until s has its result, up to timeout_ms. In slices: the
 * test host's run_until can sleep until its own deadline when the result
 * arrives from a timer callback (the HTTP client finishes calls from one),
 * because that uv_run(UV_RUN_ONCE) still blocks in its poll phase after the
 * timers ran. */
static int wait_sent(fx_t *f, sent_t *s, uint64_t timeout_ms)
{
    for (uint64_t waited = 0; !s->done && waited < timeout_ms; waited += 20)
        oc_test_host_run_until(f->th, sent_done, s, 20);
    return s->done;
}

/* Sends and waits for the result. */
static void send_wait(fx_t *f, const char *account, const char *key, sent_t *s)
{
    int32_t rc = send_msg(f, account, "u1", "hello", NULL, key, s);
    cr_assert_eq(rc, OC_PENDING, "send returned %d: %s", rc, oc_test_host_errors(f->th));
    cr_assert(wait_sent(f, s, 10000), "no send result");
    cr_assert_eq(s->calls, 1);
}

/* ---- ABI ------------------------------------------------------------------- */

/* Defined, globally visible symbols of the .so's .dynsym; the last name in
 * `name`. */
static int count_exports(const char *path, char *name, size_t name_len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    struct stat sb;
    cr_assert_eq(fstat(fileno(fp), &sb), 0);
    unsigned char *img = malloc((size_t)sb.st_size);
    cr_assert_not_null(img);
    cr_assert_eq(fread(img, 1, (size_t)sb.st_size, fp), (size_t)sb.st_size);
    fclose(fp);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    cr_assert(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64);
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    int count = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(img + sh[i].sh_offset);
        const char *strtab = (const char *)(img + sh[sh[i].sh_link].sh_offset);
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 1; k < n; k++) {
            unsigned bind = ELF64_ST_BIND(syms[k].st_info);
            if (syms[k].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK))
                continue;
            count++;
            snprintf(name, name_len, "%s", strtab + syms[k].st_name);
        }
    }
    free(img);
    return count;
}

Test(webhook_abi, exports_exactly_the_entry_symbol)
{
    char name[256] = "";
    int n = count_exports(plugin_path(), name, sizeof name);
    cr_assert_eq(n, 1, NAME ".so exports %d symbols (last: %s)", n, name);
    cr_assert_str_eq(name, OC_PLUGIN_ENTRY_SYMBOL);
}

static const oc_plugin_desc_t *open_desc(void **handle)
{
    *handle = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(*handle, "dlopen: %s", dlerror());
    oc_plugin_entry_fn entry = (oc_plugin_entry_fn)dlsym(*handle, OC_PLUGIN_ENTRY_SYMBOL);
    cr_assert_not_null(entry);
    return entry();
}

Test(webhook_abi, descriptor)
{
    void *h;
    const oc_plugin_desc_t *d = open_desc(&h);
    cr_assert_eq(d->magic, OC_PLUGIN_MAGIC);
    cr_assert_eq(d->abi_major, OC_ABI_MAJOR);
    cr_assert_eq(d->abi_minor, OC_ABI_MINOR, "built against this SDK (it needs 1.1 or later)");
    cr_assert_eq(d->kind, OC_KIND_CHANNEL);
    cr_assert_str_eq(d->name, NAME);
    cr_assert_eq(d->flags, 0u, "home loop only");
    cr_assert_not_null(d->ops->init);
    cr_assert_not_null(d->ops->destroy);
    const oc_channel_ops_t *c = d->kind_ops;
    cr_assert_eq(c->kind, OC_KIND_CHANNEL);
    cr_assert_str_eq(c->channel_name(NULL), "webhook");
    cr_assert_not_null(c->send);
    cr_assert_not_null(c->status);
    dlclose(h);
}

static char refused_log[1024];

static void log_capture(oc_plugin_t *self, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_capture(oc_plugin_t *self, int32_t level, const char *fmt, ...)
{
    (void)self;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(refused_log, sizeof refused_log, fmt, ap);
    va_end(ap);
}

Test(webhook_abi, init_refuses_host_without_inbound)
{
    void *h;
    const oc_plugin_desc_t *d = open_desc(&h);
    /* A table that ends before http_route (what a 1.0 host has). */
    oc_host_api_t host = {
        .struct_size = (uint32_t)offsetof(oc_host_api_t, http_route),
        .abi_major = 1,
        .abi_minor = 0,
        .host_version = "0.0.1",
        .log = log_capture,
    };
    void *st = (void *)1;
    cr_assert_eq(d->ops->init(&host, NULL, NULL, &st), OC_ENOTSUP);
    cr_assert_null(st);
    cr_assert(strstr(refused_log, "does not provide host->http_route") != NULL, "%s",
              refused_log);
    cr_assert(strstr(refused_log, "ABI 1.1") != NULL, "%s", refused_log);
    /* Full size, but a member left NULL. */
    host.struct_size = sizeof host;
    host.abi_minor = 1;
    host.http_route = fake_http_route;
    host.http_respond = fake_http_respond;
    cr_assert_eq(d->ops->init(&host, NULL, NULL, &st), OC_ENOTSUP);
    cr_assert(strstr(refused_log, "host->inbound_submit") != NULL, "%s", refused_log);
    dlclose(h);
}

Test(webhook_abi, loads_with_the_real_host_services)
{
    /* No shim: the test host's own http_route (once the core provides it). */
    oc_test_host_t *th = oc_test_host_new(yaml_for("http://127.0.0.1:9/hook", NULL));
    cr_assert_not_null(th);
    if (!OC_HOST_HAS(oc_test_host_api(th), http_route)) {
        oc_test_host_free(th);
        cr_skip_test("the test host does not provide http_route yet");
    }
    cr_assert_eq(oc_test_host_load(th, plugin_path()), OC_OK, "%s", oc_test_host_errors(th));
    const oc_channel_ops_t *ops = oc_test_host_kind_ops(th, NAME);
    const char *detail = NULL;
    cr_assert_str_eq(ops->status(oc_test_host_state(th, NAME), &detail), "connected");
    oc_test_host_free(th);
}

/* ---- configuration ---------------------------------------------------------- */

Test(webhook_config, minimal_and_status)
{
    fx_t f;
    fx_load(&f, yaml_for("http://127.0.0.1:9/hook", NULL));
    const char *detail = NULL;
    cr_assert_str_eq(f.ops->status(f.st, &detail), "connected");
    cr_assert_str_eq(detail, "1 account");
    cr_assert_str_eq(f.ops->channel_name(f.st), "webhook");
    cr_assert_eq(fake.routes, 1);
    cr_assert_str_eq(fake.route_path, "/channels/webhook/inbound");
    fx_free(&f);
}

Test(webhook_config, accounts_and_disabled)
{
    fx_t f;
    fx_load(&f, "channels:\n"
                "  webhook:\n"
                "    secret: top-secret\n"
                "    callbackUrl: https://example.test/hook\n"
                "    timeoutMs: 2500\n"
                "    maxBodyBytes: 65536\n"
                "    accounts:\n"
                "      ops: {secret: ops-secret}\n"
                "      sales: {callbackUrl: 'http://127.0.0.1:9/sales'}\n"
                "      plain:\n");
    const char *detail = NULL;
    cr_assert_str_eq(f.ops->status(f.st, &detail), "connected");
    cr_assert_str_eq(detail, "3 accounts");
    fx_free(&f);

    fx_load(&f, yaml_for("http://127.0.0.1:9/hook", "    enabled: false\n"));
    detail = "x";
    cr_assert_str_eq(f.ops->status(f.st, &detail), "disabled");
    cr_assert_null(detail);
    sent_t s;
    cr_assert_eq(send_msg(&f, NULL, "u", "t", NULL, "k", &s), OC_EUNAVAIL);
    fx_free(&f);
}

Test(webhook_config, errors_name_the_place)
{
    static const struct {
        const char *yaml;
        const char *want[3];
    } cases[] = {
        {"channels:\n  webhook:\n    callbackUrl: http://x.test/\n",
         {"test.yaml:3:", "channels.webhook", "missing key 'secret'"}},
        {"channels:\n  webhook:\n    secret: \"\"\n    callbackUrl: http://x.test/\n",
         {"test.yaml:3:", "channels.webhook.secret", "must not be empty"}},
        {"channels:\n  webhook:\n    secret: k\n",
         {"test.yaml:3:", "missing key 'callbackUrl'", NULL}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: ftp://x.test/\n",
         {"test.yaml:4:", "channels.webhook.callbackUrl", "http:// or https://"}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http:///x\n",
         {"test.yaml:4:", "has no host", NULL}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    timeoutMs: 5\n",
         {"test.yaml:5:", "timeoutMs", NULL}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    enabled: maybe\n",
         {"test.yaml:5:", "enabled", NULL}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    accounts: {}\n",
         {"test.yaml:5:", "channels.webhook.accounts", "is empty"}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    accounts: [a]\n",
         {"test.yaml:5:", "must be a map", NULL}},
        {"channels:\n  webhook:\n    callbackUrl: http://x.test/\n"
         "    accounts:\n      a: {secret: ka}\n      b: {}\n",
         {"test.yaml:6:", "channels.webhook.accounts.b", "no secret"}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    accounts:\n      \"a b\": {}\n",
         {"test.yaml:6:", "account id 'a b'", "letters, digits"}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    secrett: typo\n",
         {"test.yaml:5:", "secrett", NULL}},
        {"channels:\n  webhook:\n    secret: k\n    callbackUrl: http://x.test/\n"
         "    accounts:\n      a: {secret: ka, url: http://y.test/}\n",
         {"test.yaml:6:", "'url'", NULL}},
        {"channels:\n  webhook: 5\n", {"channels.webhook", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_t f;
        int32_t rc = fx_try(&f, cases[i].yaml);
        const char *errs = oc_test_host_errors(f.th);
        cr_expect_neq(rc, OC_OK, "[%zu] loaded:\n%s", i, cases[i].yaml);
        for (int k = 0; k < 3 && cases[i].want[k]; k++)
            cr_expect(strstr(errs, cases[i].want[k]) != NULL, "[%zu] no '%s' in:\n%s", i,
                      cases[i].want[k], errs);
        fx_free(&f);
    }
}

Test(webhook_config, every_problem_is_reported)
{
    fx_t f;
    int32_t rc = fx_try(&f, "channels:\n  webhook:\n    secret: \"\"\n"
                            "    callbackUrl: gopher://x\n    timeoutMs: -1\n");
    cr_assert_neq(rc, OC_OK);
    const char *errs = oc_test_host_errors(f.th);
    cr_assert(strstr(errs, "secret") && strstr(errs, "callbackUrl") && strstr(errs, "timeoutMs"),
              "%s", errs);
    cr_assert_null(strstr(errs, "missing key"), "no 'missing' after a reported value:\n%s", errs);
    fx_free(&f);
}

/* ---- send --------------------------------------------------------------------- */

Test(webhook_send, delivered_and_signed)
{
    gw_ths_t *srv = gw_ths_start();
    cr_assert_not_null(srv);
    gw_ths_route(srv, "/hook", &(gw_ths_response_t){.status = 200, .body = "{\"ok\":true}"});
    char url[256];
    gw_ths_url(srv, "/hook", url, sizeof url);
    fx_t f;
    fx_load(&f, yaml_for(url, NULL));
    sent_t s;
    cr_assert_eq(send_msg(&f, "default", "u1", "hi \"there\"", "m1", "key-1", &s), OC_PENDING);
    cr_assert(wait_sent(&f, &s, 10000));
    cr_assert_eq(s.status, OC_OK, "%s", s.error);

    gw_ths_request_t r;
    cr_assert_eq(gw_ths_request(srv, 0, &r), 0);
    cr_assert_str_eq(r.method, "POST");
    cr_assert_str_eq(r.path, "/hook");
    cr_assert_str_eq(r.body, "{\"to\":{\"type\":\"direct\",\"id\":\"u1\"},\"text\":\"hi "
                             "\\\"there\\\"\",\"inReplyTo\":\"m1\",\"idempotencyKey\":\"key-1\"}");
    cr_assert_str_eq(gw_ths_request_header(&r, "Content-Type"), "application/json");
    cr_assert_str_eq(gw_ths_request_header(&r, "X-OpenClaw-Idempotency-Key"), "key-1");
    char want[80];
    fake_sign(SECRET, r.body, want);
    cr_assert_str_eq(gw_ths_request_header(&r, "X-OpenClaw-Signature"), want);
    gw_ths_request_free(&r);

    /* No account given: the only one. */
    send_wait(&f, NULL, "key-2", &s);
    cr_assert_eq(s.status, OC_OK, "%s", s.error);
    cr_assert_eq(gw_ths_request_count(srv), 2);
    fx_free(&f);
    gw_ths_stop(srv);
}

Test(webhook_send, per_account_url_and_secret)
{
    gw_ths_t *srv = gw_ths_start();
    cr_assert_not_null(srv);
    gw_ths_route(srv, "/top", &(gw_ths_response_t){.status = 204});
    gw_ths_route(srv, "/a", &(gw_ths_response_t){.status = 200});
    char yaml[1024], top[200], a[200];
    gw_ths_url(srv, "/top", top, sizeof top);
    gw_ths_url(srv, "/a", a, sizeof a);
    snprintf(yaml, sizeof yaml,
             "channels:\n  webhook:\n    secret: top-key\n    callbackUrl: %s\n"
             "    accounts:\n      a: {callbackUrl: '%s'}\n      b: {secret: b-key}\n",
             top, a);
    fx_t f;
    fx_load(&f, yaml);
    sent_t s;
    send_wait(&f, "a", "ka", &s);
    cr_assert_eq(s.status, OC_OK, "%s", s.error);
    send_wait(&f, "b", "kb", &s);
    cr_assert_eq(s.status, OC_OK, "%s", s.error);
    cr_assert_eq(send_msg(&f, "zzz", "u", "t", NULL, "k", &s), OC_EINVAL);
    cr_assert_eq(send_msg(&f, NULL, "u", "t", NULL, "k", &s), OC_EINVAL,
                 "no implicit account among several without 'default'");

    gw_ths_request_t r;
    char want[80];
    cr_assert_eq(gw_ths_request(srv, 0, &r), 0);
    cr_assert_str_eq(r.path, "/a");
    fake_sign("top-key", r.body, want); /* a inherits the top-level secret */
    cr_assert_str_eq(gw_ths_request_header(&r, "X-OpenClaw-Signature"), want);
    gw_ths_request_free(&r);
    cr_assert_eq(gw_ths_request(srv, 1, &r), 0);
    cr_assert_str_eq(r.path, "/top"); /* b inherits the top-level URL */
    fake_sign("b-key", r.body, want);
    cr_assert_str_eq(gw_ths_request_header(&r, "X-OpenClaw-Signature"), want);
    gw_ths_request_free(&r);
    fx_free(&f);
    gw_ths_stop(srv);
}

Test(webhook_send, status_mapping)
{
    gw_ths_t *srv = gw_ths_start();
    cr_assert_not_null(srv);
    char url[256];
    gw_ths_url(srv, "/hook", url, sizeof url);
    fx_t f;
    fx_load(&f, yaml_for(url, NULL));
    static const struct {
        int code;
        const char *headers, *body;
        int32_t status;
        int retryable;
        uint32_t retry_ms;
        const char *error;
    } cases[] = {
        {200, NULL, "ok", OC_OK, 0, 0, ""},
        {202, NULL, "", OC_OK, 0, 0, ""},
        {500, NULL, "boom", OC_EUNAVAIL, 1, 0, "callback answered HTTP 500: boom"},
        {503, "Retry-After: 2\r\n", "", OC_EUNAVAIL, 1, 2000, "callback answered HTTP 503"},
        {429, "Retry-After: 3\r\n", "slow down", OC_ELIMIT, 1, 3000,
         "callback answered HTTP 429: slow down"},
        {404, NULL, "not found\n", OC_EPROTO, 0, 0, "callback answered HTTP 404: not found "},
        {401, NULL, "who?", OC_EACCES, 0, 0, "callback answered HTTP 401: who?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_ths_route(srv, "/hook", &(gw_ths_response_t){.status = cases[i].code,
                                                         .headers = cases[i].headers,
                                                         .body = cases[i].body});
        sent_t s;
        send_wait(&f, "default", "k", &s);
        cr_expect_eq(s.status, cases[i].status, "[%zu] %d: status %d (%s)", i, cases[i].code,
                     s.status, s.error);
        cr_expect_eq(s.retryable, cases[i].retryable, "[%zu] retryable", i);
        cr_expect_eq(s.retry_after_ms, cases[i].retry_ms, "[%zu] retry_after_ms", i);
        cr_expect_str_eq(s.error, cases[i].error, "[%zu]", i);
    }
    /* The plugin never retries by itself: one request per send. */
    cr_assert_eq(gw_ths_request_count(srv), sizeof cases / sizeof cases[0]);
    fx_free(&f);
    gw_ths_stop(srv);
}

Test(webhook_send, connect_refused_and_timeout_are_retryable)
{
    /* A port nobody listens on: start a server, note its port, stop it. */
    gw_ths_t *gone = gw_ths_start();
    cr_assert_not_null(gone);
    char url[256];
    gw_ths_url(gone, "/hook", url, sizeof url);
    gw_ths_stop(gone);
    fx_t f;
    fx_load(&f, yaml_for(url, NULL));
    sent_t s;
    send_wait(&f, NULL, "k", &s);
    cr_assert_eq(s.status, OC_EIO, "%d %s", s.status, s.error);
    cr_assert_eq(s.retryable, 1);
    const char *prefix = "callback request failed: ";
    cr_assert(strncmp(s.error, prefix, strlen(prefix)) == 0, "%s", s.error);
    fx_free(&f);

    gw_ths_t *slow = gw_ths_start();
    cr_assert_not_null(slow);
    gw_ths_route(slow, "/hook", &(gw_ths_response_t){.status = 200, .delay_ms = 3000});
    gw_ths_url(slow, "/hook", url, sizeof url);
    fx_load(&f, yaml_for(url, "    timeoutMs: 200\n"));
    send_wait(&f, NULL, "k", &s);
    cr_assert_eq(s.status, OC_ETIMEDOUT, "%d %s", s.status, s.error);
    cr_assert_eq(s.retryable, 1);
    fx_free(&f);
    gw_ths_stop(slow);
}

Test(webhook_send, refused_at_once)
{
    fx_t f;
    fx_load(&f, yaml_for("http://127.0.0.1:9/hook", NULL));
    sent_t s;
    cr_assert_eq(send_msg(&f, "nope", "u", "t", NULL, "k", &s), OC_EINVAL);
    cr_assert_eq(send_msg(&f, NULL, "", "t", NULL, "k", &s), OC_EINVAL);
    cr_assert_eq(send_msg(&f, NULL, "u", NULL, NULL, "k", &s), OC_EINVAL);
    cr_assert_eq(send_msg(&f, NULL, "u", "t", NULL, "", &s), OC_EINVAL);
    cr_assert_eq(send_msg(&f, NULL, "u", "t", NULL, "k\r\nX-Evil: 1", &s), OC_EINVAL,
                 "a key that would break the header");
    oc_outbound_t m = {.struct_size = sizeof m, .peer_kind = 7, .peer_id = "u", .text = "t",
                       .idempotency_key = "k"};
    cr_assert_eq(f.ops->send(f.st, &m, on_sent, &s), OC_EINVAL);
    cr_assert_eq(s.calls, 0);
    fx_free(&f);
}

Test(webhook_send, long_text_is_sent_whole)
{
    gw_ths_t *srv = gw_ths_start();
    cr_assert_not_null(srv);
    gw_ths_route(srv, "/hook", &(gw_ths_response_t){.status = 200});
    char url[256];
    gw_ths_url(srv, "/hook", url, sizeof url);
    fx_t f;
    fx_load(&f, yaml_for(url, NULL));
    size_t n = 200000;
    char *text = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + i % 26);
    text[n] = '\0';
    sent_t s;
    cr_assert_eq(send_msg(&f, NULL, "u", text, NULL, "k", &s), OC_PENDING);
    cr_assert(wait_sent(&f, &s, 10000));
    cr_assert_eq(s.status, OC_OK, "%s", s.error);
    cr_assert_eq(gw_ths_request_count(srv), 1, "one request, not split");
    gw_ths_request_t r;
    cr_assert_eq(gw_ths_request(srv, 0, &r), 0);
    cr_assert_not_null(strstr(r.body, text));
    gw_ths_request_free(&r);
    free(text);
    fx_free(&f);
    gw_ths_stop(srv);
}

Test(webhook_send, stop_cancels_in_flight_as_retryable)
{
    gw_ths_t *srv = gw_ths_start();
    cr_assert_not_null(srv);
    gw_ths_route(srv, "/hook", &(gw_ths_response_t){.status = 200, .delay_ms = 5000});
    char url[256];
    gw_ths_url(srv, "/hook", url, sizeof url);
    fx_t f;
    fx_load(&f, yaml_for(url, NULL));
    sent_t s;
    cr_assert_eq(send_msg(&f, NULL, "u", "t", NULL, "k", &s), OC_PENDING);
    wait_sent(&f, &s, 200); /* let the request go out */
    cr_assert_eq(s.calls, 0);
    fx_free(&f); /* stop, destroy */
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.status, OC_ECANCELED);
    cr_assert_eq(s.retryable, 1);
    gw_ths_stop(srv);
}

/* ---- inbound, through the real .so ------------------------------------------- */

Test(webhook_route, accepted_end_to_end)
{
    fx_t f;
    fx_load(&f, yaml_for("http://127.0.0.1:9/hook", NULL));
    cr_assert_not_null(fake.route_cb);
    const char *body = "{\"id\":\"m1\",\"from\":\"u1\",\"chat\":{\"type\":\"direct\",\"id\":"
                       "\"u1\"},\"text\":\"hello\",\"mentions\":[\"bot\"]}";
    char sig[80];
    fake_sign(SECRET, body, sig);
    oc_http_exchange_t *ex = fake_call(fake.route_cb, fake.route_data, "POST", body, sig);
    cr_assert_eq(ex->answers, 0, "%d %s", ex->code, ex->body ? ex->body : "");
    cr_assert_eq(fake.submits, 1);
    cr_assert_str_eq(fake.env.channel, "webhook");
    cr_assert_str_eq(fake.env.account, "default");
    cr_assert_str_eq(fake.env.text, "hello");
    cr_assert_str_eq(fake.env.mentions[0], "bot");
    fake_ack(OC_OK, 0, 77, NULL);
    cr_assert_eq(ex->answers, 1);
    cr_assert_eq(ex->code, 202);
    cr_assert_str_eq(ex->body, "{\"accepted\":true,\"id\":\"77\"}");
    cr_assert_str_eq(ex->content_type, "application/json");
    fake_exchange_free(ex);

    ex = fake_call(fake.route_cb, fake.route_data, "POST", "{broken", sig);
    cr_assert_eq(ex->code, 401, "a wrong signature is 401 before any parsing");
    fake_exchange_free(ex);
    fx_free(&f);
}

Test(webhook_route, canceled_submit_is_503)
{
    fx_t f;
    fx_load(&f, yaml_for("http://127.0.0.1:9/hook", NULL));
    const char *body = "{\"id\":\"m1\",\"from\":\"u1\",\"chat\":{\"type\":\"group\",\"id\":"
                       "\"g\"},\"text\":\"\"}";
    char sig[80];
    fake_sign(SECRET, body, sig);
    oc_http_exchange_t *ex = fake_call(fake.route_cb, fake.route_data, "POST", body, sig);
    cr_assert_eq(fake.submits, 1);
    /* The gateway answers pending submits with OC_ECANCELED when it stops
     * (stop itself waiting for them is tested in test_webhook_units). */
    fake_ack(OC_ECANCELED, 0, 0, NULL);
    cr_assert_eq(ex->code, 503);
    cr_assert_str_eq(ex->body,
                     "{\"accepted\":false,\"error\":\"gateway is stopping, retry later\"}");
    fake_exchange_free(ex);
    fx_free(&f);
}

/* ---- interop with tests/support/webhook_receiver.py ------------------------------ */

typedef struct receiver_s {
    pid_t pid;
    int port;
    char out[256];
} receiver_t;

/* Starts the receiver with extra args; skips the test without python3. */
static void receiver_start(receiver_t *r, const char *secret, const char *extra)
{
    const char *src = getenv("OPENCLAW_TEST_SOURCE_DIR");
    cr_assert_not_null(src);
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/support/webhook_receiver.py", src);
    if (access(script, R_OK) != 0 || system("python3 -c '' 2>/dev/null") != 0)
        cr_skip_test("python3 or %s not available", script);
    snprintf(r->out, sizeof r->out, "/tmp/wh-recv-%d.jsonl", (int)getpid());
    unlink(r->out);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[16];
    int n = 0;
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--secret";
    argv[n++] = (char *)secret;
    argv[n++] = "--out";
    argv[n++] = r->out;
    char extra_buf[128];
    if (extra != NULL) {
        snprintf(extra_buf, sizeof extra_buf, "%s", extra);
        for (char *t = strtok(extra_buf, " "); t != NULL && n < 15; t = strtok(NULL, " "))
            argv[n++] = t;
    }
    argv[n] = NULL;
    cr_assert_eq(posix_spawnp(&r->pid, "python3", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE *fp = fdopen(fds[0], "r");
    char line[64] = "";
    cr_assert_not_null(fgets(line, sizeof line, fp), "receiver printed nothing");
    fclose(fp);
    cr_assert_eq(sscanf(line, "PORT %d", &r->port), 1, "first line: %s", line);
}

static void receiver_stop(receiver_t *r)
{
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    unlink(r->out);
}

/* The lines of the receiver's --out file. */
static size_t receiver_lines(const receiver_t *r, char lines[][512], size_t max)
{
    FILE *fp = fopen(r->out, "r");
    size_t n = 0;
    if (fp == NULL)
        return 0;
    while (n < max && fgets(lines[n], 512, fp) != NULL) {
        lines[n][strcspn(lines[n], "\n")] = '\0';
        n++;
    }
    fclose(fp);
    return n;
}

Test(webhook_interop, python_receiver_checks_our_signature)
{
    receiver_t r;
    receiver_start(&r, SECRET, "--fail-first 1");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cb", r.port);
    fx_t f;
    fx_load(&f, yaml_for(url, NULL));
    sent_t s;
    send_wait(&f, NULL, "idem-1", &s);
    cr_assert_eq(s.status, OC_EUNAVAIL, "first: %d %s", s.status, s.error);
    cr_assert_eq(s.retryable, 1);
    send_wait(&f, NULL, "idem-1", &s); /* the gateway's retry, same key */
    cr_assert_eq(s.status, OC_OK, "second: %d %s", s.status, s.error);
    char lines[4][512];
    cr_assert_eq(receiver_lines(&r, lines, 4), 1);
    cr_assert_str_eq(lines[0], "{\"to\":{\"type\":\"direct\",\"id\":\"u1\"},\"text\":\"hello\","
                               "\"idempotencyKey\":\"idem-1\"}");
    fx_free(&f);
    receiver_stop(&r);

    /* Another secret on the receiver's side: 401, a final error. */
    receiver_start(&r, "not-our-secret", NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cb", r.port);
    fx_load(&f, yaml_for(url, NULL));
    send_wait(&f, NULL, "idem-2", &s);
    cr_assert_eq(s.status, OC_EACCES, "%d %s", s.status, s.error);
    cr_assert_eq(s.retryable, 0);
    cr_assert_eq(receiver_lines(&r, lines, 4), 0);
    fx_free(&f);
    receiver_stop(&r);
}
