/* Unit tests for llm/run.c and llm/hop.c with fake providers: fail-over on
 * each failover class and not on a request error, cooldown skips and
 * probes, the all-cooling attempt, streaming (no fail-over after the first
 * chunk), cancel, the provider metrics, and calls of a provider without
 * OC_PLUGIN_F_MULTI_LOOP hopping from a worker loop to the home loop.
 * Every wait runs the loops until a condition holds. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "llm/run.h"
#include "log/log.h"

static const char yaml[] =
    "providers:\n"
    "  - {name: a, type: fake}\n"
    "  - {name: b, type: fake}\n"
    "  - {name: c, type: fake}\n"
    "agents:\n"
    "  defaults:\n"
    "    model: {primary: a/x, fallbacks: [b/x, c/x]}\n";

static fake_prov_t provs[3];
static gw_config_t *cfg;
static gw_plugins_t ps;
static gw_metrics_t *reg;
static gw_llm_t *l;
static fake_loop_t home;

typedef struct got_s {
    atomic_int done;
    int32_t status, cls;
    int http;
    uint32_t retry_after;
    char error[256], body[512], target[64], chunks_text[512];
    unsigned attempts;
    int streamed, chunks;
    pthread_t done_thread;
} got_t;

static void setup_with(int multi_loop)
{
    gw_log_set_stderr(0);
    memset(provs, 0, sizeof(provs));
    static const char *const names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        provs[i].name = names[i];
        provs[i].multi_loop = multi_loop;
        provs[i].mode = FAKE_OK;
        provs[i].chunks = 2;
    }
    fake_loop_init(&home, 0);
    cfg = fake_config(yaml);
    fake_plugins(&ps, provs, 3);
    reg = gw_metrics_new();
    cr_assert_eq(gw_llm_new(&l, cfg, &ps, reg, &home.loop), 0);
}

static void setup(void)
{
    unsetenv(GW_LLM_COOLDOWN_SCALE_ENV);
    setup_with(1);
}

static void teardown(void)
{
    fake_loop_close(&home);
    gw_llm_free(l);
    gw_metrics_free(reg);
    fake_plugins_free(&ps);
    gw_config_free(cfg);
}

static int32_t got_chunk(void *data, const char *json, size_t len)
{
    got_t *g = data;
    g->chunks++;
    size_t used = strlen(g->chunks_text);
    snprintf(g->chunks_text + used, sizeof(g->chunks_text) - used, "%.*s|", (int)len, json);
    return OC_OK;
}

static void got_done(void *data, const gw_llm_result_t *res)
{
    got_t *g = data;
    g->status = res->status;
    g->cls = res->error_class;
    g->http = res->http_status;
    g->retry_after = res->retry_after_ms;
    g->attempts = res->attempts;
    g->streamed = res->streamed;
    snprintf(g->error, sizeof(g->error), "%s", res->error ? res->error : "");
    snprintf(g->body, sizeof(g->body), "%.*s", (int)res->body_len, res->body ? res->body : "");
    snprintf(g->target, sizeof(g->target), "%s", res->target ? res->target->id : "");
    g->done_thread = pthread_self();
    atomic_store(&g->done, 1);
}

static const gw_llm_run_cbs_t cbs = {.on_chunk = got_chunk, .on_done = got_done};

static const gw_llm_chain_t *chain(const char *id)
{
    const gw_llm_target_t *t = gw_llm_target(l, id, strlen(id));
    cr_assert_not_null(t, "no target %s", id);
    return &t->chain;
}

/* A run on the home loop, to its end. */
static void run(const char *id, int stream, got_t *g)
{
    memset(g, 0, sizeof(*g));
    gw_llm_req_t req = {.body = "{\"messages\":[]}", .body_len = 15, .stream = stream};
    cr_assert_not_null(gw_llm_run_start(l, chain(id), &req, &cbs, g));
    cr_assert_eq(atomic_load(&g->done), 0, "never called back from inside start");
    fake_loop_run_until(&home, &g->done, 5000);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs the home loop until cond() holds (asserting it does within 5 s). */
static void home_until(int (*cond)(void), const char *what)
{
    uv_timer_t tick;
    uv_timer_init(&home.uv, &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    uint64_t end = gw_now_ms() + 5000;
    while (!cond() && gw_now_ms() < end)
        uv_run(&home.uv, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&home.uv, UV_RUN_NOWAIT);
    cr_assert(cond(), "not reached within 5 s: %s", what);
}

static int a_called(void)
{
    return atomic_load(&provs[0].calls) > 0;
}

static int a_canceled(void)
{
    return atomic_load(&provs[0].cancels) > 0;
}

static int a_freed(void)
{
    return atomic_load(&provs[0].live) == 0;
}

static double metric(gw_metric_t *m, const char *const *lv)
{
    return gw_series_value(gw_metric_series(m, lv));
}

static double calls(const char *prov, const char *outcome)
{
    const char *lv[] = {prov, "x", outcome};
    return metric(l->m.calls, lv);
}

static double fallbacks(const char *from, const char *to)
{
    const char *lv[] = {from, to};
    return metric(l->m.fallbacks, lv);
}

static int state_of(int i)
{
    gw_cooldown_info_t ci;
    gw_cooldown_info(l->cooldown, (size_t)i, gw_now_ms(), &ci);
    return ci.state;
}

TestSuite(run, .init = setup, .fini = teardown);

Test(run, first_target_answers)
{
    got_t g;
    run("a/x", 0, &g);
    cr_assert_eq(g.status, OC_OK);
    cr_assert_eq(g.cls, OC_PROV_ERR_NONE);
    cr_assert_str_eq(g.target, "a/x");
    cr_assert(strstr(g.body, "from a") != NULL, "the upstream body unchanged: %s", g.body);
    cr_assert_eq(g.attempts, 1);
    cr_assert_eq(calls("a", "ok"), 1);
    const char *in[] = {"a", "x", "in"}, *out[] = {"a", "x", "out"};
    cr_assert_eq(metric(l->m.tokens, in), 3);
    cr_assert_eq(metric(l->m.tokens, out), 2);
    cr_assert_eq(atomic_load(&provs[1].calls), 0);
}

Test(run, fails_over_on_every_failover_class)
{
    static const int32_t classes[] = {OC_PROV_ERR_SERVER, OC_PROV_ERR_RATE, OC_PROV_ERR_AUTH,
                                      OC_PROV_ERR_NETWORK, OC_PROV_ERR_TIMEOUT};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        /* A fresh cooldown each round, so a is tried again. */
        gw_cooldown_success(l->cooldown, 0, 1);
        provs[0].mode = FAKE_FAIL;
        provs[0].fail_class = classes[i];
        got_t g;
        run("a/x", 0, &g);
        cr_assert_eq(g.status, OC_OK, "class %d: the fallback answers", classes[i]);
        cr_assert_str_eq(g.target, "b/x");
        cr_assert_eq(g.attempts, 2);
        cr_assert_eq(fallbacks("a", "b"), (double)(i + 1));
        cr_assert_eq(state_of(0), GW_CD_STATE_COOLING, "class %d cools a down", classes[i]);
    }
    cr_assert_eq(calls("a", "server_error"), 1);
    cr_assert_eq(calls("a", "rate_limited"), 1);
    cr_assert_eq(calls("a", "auth_error"), 1);
    cr_assert_eq(calls("a", "network_error"), 1);
    cr_assert_eq(calls("a", "timeout"), 1);
    cr_assert_eq(calls("b", "ok"), 5);
}

Test(run, no_failover_on_a_request_error)
{
    provs[0].mode = FAKE_FAIL;
    provs[0].fail_class = OC_PROV_ERR_REQUEST;
    provs[0].http_status = 422;
    got_t g;
    run("a/x", 0, &g);
    cr_assert_neq(g.status, OC_OK);
    cr_assert_eq(g.cls, OC_PROV_ERR_REQUEST);
    cr_assert_eq(g.http, 422, "the upstream's status comes back");
    cr_assert_str_eq(g.target, "a/x");
    cr_assert_eq(g.attempts, 1);
    cr_assert_eq(atomic_load(&provs[1].calls), 0, "b was not asked");
    cr_assert_eq(state_of(0), GW_CD_STATE_OK, "a request error does not cool a down");
    cr_assert_eq(calls("a", "request_error"), 1);
}

Test(run, every_target_failing_reports_the_last)
{
    for (int i = 0; i < 3; i++) {
        provs[i].mode = FAKE_FAIL;
        provs[i].fail_class = i == 2 ? OC_PROV_ERR_RATE : OC_PROV_ERR_SERVER;
        provs[i].retry_after_ms = i == 2 ? 7000 : 0;
        provs[i].http_status = i == 2 ? 429 : 500;
    }
    got_t g;
    run("a/x", 0, &g);
    cr_assert_eq(g.attempts, 3);
    cr_assert_eq(g.cls, OC_PROV_ERR_RATE);
    cr_assert_eq(g.http, 429);
    cr_assert_eq(g.retry_after, 7000);
    cr_assert_str_eq(g.target, "c/x");
    cr_assert_str_eq(g.error, "fake: simulated failure");
    cr_assert_eq(fallbacks("a", "b"), 1);
    cr_assert_eq(fallbacks("b", "c"), 1);
}

Test(run, cooling_provider_is_skipped)
{
    provs[0].mode = FAKE_FAIL;
    provs[0].fail_class = OC_PROV_ERR_SERVER;
    got_t g;
    run("a/x", 0, &g);
    cr_assert_str_eq(g.target, "b/x");
    cr_assert_eq(atomic_load(&provs[0].calls), 1);
    provs[0].mode = FAKE_OK; /* a recovered, but its cooldown (30 s) runs */
    run("a/x", 0, &g);
    cr_assert_str_eq(g.target, "b/x");
    cr_assert_eq(g.attempts, 1, "a was skipped, not tried");
    cr_assert_eq(atomic_load(&provs[0].calls), 1);
    const char *lv[] = {"a"};
    cr_assert_eq(metric(l->m.cooldowns, lv), 1);
    cr_assert_eq(metric(l->m.cooldown, lv), GW_CD_STATE_COOLING);
}

Test(run, every_candidate_cooling_tries_the_earliest_anyway)
{
    for (int i = 0; i < 3; i++) {
        provs[i].mode = FAKE_FAIL;
        provs[i].fail_class = OC_PROV_ERR_SERVER;
    }
    got_t g;
    run("a/x", 0, &g);
    cr_assert_eq(g.attempts, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(state_of(i), GW_CD_STATE_COOLING);
    provs[0].mode = FAKE_OK;
    run("a/x", 0, &g);
    cr_assert_eq(g.status, OC_OK, "the cooldown that ends first (a) is tried anyway");
    cr_assert_str_eq(g.target, "a/x");
    cr_assert_eq(g.attempts, 1);
    cr_assert_eq(state_of(0), GW_CD_STATE_OK, "its success closes it");
}

Test(run, half_open_probe_after_the_cooldown)
{
    teardown();
    setenv(GW_LLM_COOLDOWN_SCALE_ENV, "0", 1); /* every cooldown ends at once */
    setup_with(1);
    provs[0].mode = FAKE_FAIL;
    provs[0].fail_class = OC_PROV_ERR_TIMEOUT;
    got_t g;
    run("a/x", 0, &g);
    cr_assert_str_eq(g.target, "b/x");
    cr_assert_eq(state_of(0), GW_CD_STATE_PROBING, "expired: the next request probes");
    run("a/x", 0, &g);
    cr_assert_eq(atomic_load(&provs[0].calls), 2, "the probe asked a again");
    cr_assert_str_eq(g.target, "b/x", "the probe failed: fail over");
    gw_cooldown_info_t ci;
    gw_cooldown_info(l->cooldown, 0, gw_now_ms(), &ci);
    cr_assert_eq(ci.step, 2, "a failed probe escalates");
    provs[0].mode = FAKE_OK;
    run("a/x", 0, &g);
    cr_assert_str_eq(g.target, "a/x", "the probe succeeded");
    cr_assert_eq(state_of(0), GW_CD_STATE_OK);
    unsetenv(GW_LLM_COOLDOWN_SCALE_ENV);
}

Test(run, streams_chunks_and_fails_over_before_the_first)
{
    provs[0].mode = FAKE_FAIL;
    provs[0].fail_class = OC_PROV_ERR_SERVER;
    provs[1].chunks = 3;
    got_t g;
    run("a/x", 1, &g);
    cr_assert_eq(g.status, OC_OK);
    cr_assert_str_eq(g.target, "b/x");
    cr_assert_eq(g.chunks, 3);
    cr_assert(strstr(g.chunks_text, "\"b0\"") && strstr(g.chunks_text, "\"b2\""), "%s",
              g.chunks_text);
    cr_assert_eq(g.streamed, 1);
    const char *lv[] = {"b", "x"};
    cr_assert_eq(gw_series_value(gw_metric_series(l->m.ttft, lv)) > 0, 1, "ttft observed");
}

Test(run, no_failover_after_the_first_chunk)
{
    provs[0].mode = FAKE_STREAM_FAIL;
    provs[0].chunks = 2;
    provs[0].fail_class = OC_PROV_ERR_NETWORK;
    got_t g;
    run("a/x", 1, &g);
    cr_assert_neq(g.status, OC_OK);
    cr_assert_eq(g.cls, OC_PROV_ERR_NETWORK);
    cr_assert_eq(g.chunks, 2);
    cr_assert_eq(g.attempts, 1);
    cr_assert_eq(atomic_load(&provs[1].calls), 0, "nothing after bytes reached the client");
}

Test(run, cancel_cancels_the_provider_call)
{
    provs[0].mode = FAKE_HANG;
    got_t g;
    memset(&g, 0, sizeof(g));
    gw_llm_req_t req = {.body = "{}", .body_len = 2};
    gw_llm_run_t *r = gw_llm_run_start(l, chain("a/x"), &req, &cbs, &g);
    cr_assert_not_null(r);
    cr_assert_eq(atomic_load(&provs[0].calls), 1);
    gw_llm_run_cancel(r);
    cr_assert_eq(atomic_load(&provs[0].cancels), 1, "the provider's cancel ran at once");
    /* Run until the fake freed its call; the run must stay silent. */
    home_until(a_freed, "the canceled call is freed");
    cr_assert_eq(atomic_load(&g.done), 0, "no callback after cancel");
    cr_assert_eq(calls("a", "canceled"), 1);
}

/* ---- a worker loop; providers with and without OC_PLUGIN_F_MULTI_LOOP ---- */

static fake_worker_t worker;
static got_t wgot;
static gw_llm_run_t *wrun;
static int wstream;

static void start_on_worker(void *arg)
{
    (void)arg;
    gw_llm_req_t req = {.body = "{\"messages\":[]}", .body_len = 15, .stream = wstream};
    wrun = gw_llm_run_start(l, chain("a/x"), &req, &cbs, &wgot);
}

static void cancel_on_worker(void *arg)
{
    (void)arg;
    gw_llm_run_cancel(wrun);
}

static void run_on_worker(int stream)
{
    memset(&wgot, 0, sizeof(wgot));
    wstream = stream;
    fake_worker_post(&worker, start_on_worker, NULL);
    fake_loop_run_until(&home, &wgot.done, 5000); /* the home loop serves the hops */
}

Test(run_loops, multi_loop_provider_runs_on_the_worker)
{
    setup();
    fake_worker_start(&worker);
    run_on_worker(0);
    cr_assert_eq(wgot.status, OC_OK);
    cr_assert(pthread_equal(provs[0].last_thread, worker.thread), "called on the worker");
    cr_assert(pthread_equal(wgot.done_thread, worker.thread));
    fake_worker_stop(&worker);
    teardown();
}

Test(run_loops, home_bound_provider_hops_to_the_home_loop)
{
    unsetenv(GW_LLM_COOLDOWN_SCALE_ENV);
    setup_with(0);
    fake_worker_start(&worker);
    run_on_worker(0);
    cr_assert_eq(wgot.status, OC_OK);
    cr_assert(strstr(wgot.body, "from a") != NULL, "%s", wgot.body);
    cr_assert(pthread_equal(provs[0].last_thread, pthread_self()), "called on the home loop");
    cr_assert(pthread_equal(wgot.done_thread, worker.thread), "answered on the worker");
    /* Streaming through the hop, with a fail-over first. */
    provs[0].mode = FAKE_FAIL;
    provs[0].fail_class = OC_PROV_ERR_SERVER;
    provs[1].chunks = 4;
    run_on_worker(1);
    cr_assert_eq(wgot.status, OC_OK);
    cr_assert_str_eq(wgot.target, "b/x");
    cr_assert_eq(wgot.chunks, 4);
    cr_assert(strstr(wgot.chunks_text, "\"b0\"") < strstr(wgot.chunks_text, "\"b3\""),
              "in order: %s", wgot.chunks_text);
    fake_worker_stop(&worker);
    teardown();
}

Test(run_loops, cancel_through_the_hop)
{
    unsetenv(GW_LLM_COOLDOWN_SCALE_ENV);
    setup_with(0);
    provs[0].mode = FAKE_HANG;
    fake_worker_start(&worker);
    memset(&wgot, 0, sizeof(wgot));
    wstream = 0;
    fake_worker_post(&worker, start_on_worker, NULL);
    /* Wait until the home loop made the call, then cancel from the worker. */
    home_until(a_called, "the home loop calls the provider");
    fake_worker_post(&worker, cancel_on_worker, NULL);
    home_until(a_canceled, "the home loop cancels the provider's call");
    home_until(a_freed, "the canceled call is freed");
    fake_worker_stop(&worker);
    cr_assert_eq(atomic_load(&wgot.done), 0, "no callback after cancel");
    teardown();
}
