/* llm/llm.c - the LLM core's life cycle, metric families, /v1/models and
 * the providers' health (see llm.h). */
#include "llm/llm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm/llm_int.h"
#include "log/log.h"

double gw_llm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *gw_llm_outcome(int32_t cls)
{
    static const char *const names[GW_LLM_OUTCOMES] = {
        "error", "ok", "request_error", "auth_error", "rate_limited", "server_error",
        "network_error", "timeout", "canceled"};
    return cls > 0 && cls < GW_LLM_OUTCOMES ? names[cls] : names[0];
}

/* ---- metric families, registered once for the API and messaging ---- */

static void register_metrics(gw_llm_t *l, gw_metrics_t *r)
{
    char err[256];
    const char *pmo[] = {"provider", "model", "outcome", NULL};
    const char *pm[] = {"provider", "model", NULL};
    const char *pmd[] = {"provider", "model", "direction", NULL};
    const char *p[] = {"provider", NULL};
    const char *ft[] = {"from", "to", NULL};
    const char *route[] = {"route", NULL};
    static const double slow[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    static const double ttft[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    static const double gap[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5, 1, 2.5, 5, 10, 30};
    /* Overhead is microseconds on a healthy gateway: fine buckets there. */
    static const double ovh[] = {5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
                                 5e-3, 0.01, 0.025, 0.05};
#define N(a) (sizeof(a) / sizeof((a)[0]))
    gw_llm_metrics_t *m = &l->m;
    m->calls = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_provider_calls_total",
                                  "Provider calls (one per attempt) by provider, configured "
                                  "model and outcome", pmo, NULL, 0, err, sizeof(err));
    m->duration = gw_metric_register(r, OC_METRIC_HISTOGRAM, "openclaw_provider_duration_seconds",
                                     "Provider call duration, from the call to its end (a "
                                     "stream's last chunk)", pm, slow, N(slow), err,
                                     sizeof(err));
    m->ttft = gw_metric_register(r, OC_METRIC_HISTOGRAM, "openclaw_provider_ttft_seconds",
                                 "Streaming: time from the call to the first chunk", pm, ttft,
                                 N(ttft), err, sizeof(err));
    m->chunk_gap = gw_metric_register(r, OC_METRIC_HISTOGRAM,
                                      "openclaw_provider_chunk_gap_seconds",
                                      "Streaming: time between consecutive chunks of a call", p,
                                      gap, N(gap), err, sizeof(err));
    m->tokens = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_provider_tokens_total",
                                   "Tokens by provider, model and direction (in: prompt, out: "
                                   "completion), as the upstream reported them", pmd, NULL, 0,
                                   err, sizeof(err));
    m->fallbacks = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_provider_fallbacks_total",
                                      "Fail-overs from one provider to the next within a "
                                      "request or turn", ft, NULL, 0, err, sizeof(err));
    m->cooldown = gw_metric_register(r, OC_METRIC_GAUGE, "openclaw_provider_cooldown",
                                     "Provider cooldown state: 0 ok, 1 cooling, 2 probing", p,
                                     NULL, 0, err, sizeof(err));
    m->cooldowns = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_provider_cooldowns_total",
                                      "Cooldowns begun, by provider", p, NULL, 0, err,
                                      sizeof(err));
    m->overhead = gw_metric_register(r, OC_METRIC_HISTOGRAM, "openclaw_gateway_overhead_seconds",
                                     "Time the gateway added to an API request: its total "
                                     "minus the time spent waiting on providers", route, ovh,
                                     N(ovh), err, sizeof(err));
#undef N
}

static gw_series_t *lazy(_Atomic(gw_series_t *) *slot, gw_metric_t *m, const char *const *lv)
{
    gw_series_t *s = atomic_load_explicit(slot, memory_order_acquire);
    if (s == NULL && m != NULL) {
        /* Two threads may race here: both get the same series. */
        s = gw_metric_series(m, lv);
        atomic_store_explicit(slot, s, memory_order_release);
    }
    return s;
}

gw_series_t *gw_llm_series_calls(const gw_llm_t *l, const gw_llm_target_t *t, int32_t cls)
{
    int i = cls > 0 && cls < GW_LLM_OUTCOMES ? cls : 0;
    const char *lv[] = {t->prov->name, t->model, gw_llm_outcome(cls)};
    gw_llm_series_t *s = (gw_llm_series_t *)&t->series; /* the cache is the mutable part */
    return lazy(&s->calls[i], l->m.calls, lv);
}

gw_series_t *gw_llm_series_duration(const gw_llm_t *l, const gw_llm_target_t *t)
{
    const char *lv[] = {t->prov->name, t->model};
    return lazy((_Atomic(gw_series_t *) *)&t->series.duration, l->m.duration, lv);
}

gw_series_t *gw_llm_series_ttft(const gw_llm_t *l, const gw_llm_target_t *t)
{
    const char *lv[] = {t->prov->name, t->model};
    return lazy((_Atomic(gw_series_t *) *)&t->series.ttft, l->m.ttft, lv);
}

gw_series_t *gw_llm_series_tokens(const gw_llm_t *l, const gw_llm_target_t *t, int out)
{
    const char *lv[] = {t->prov->name, t->model, out ? "out" : "in"};
    return lazy((_Atomic(gw_series_t *) *)(out ? &t->series.tokens_out : &t->series.tokens_in),
                l->m.tokens, lv);
}

/* ---- /v1/models ---- */

static void model_obj(gw_buf_t *b, const char *id, const char *owner)
{
    gw_buf_puts(b, "{\"id\":");
    gw_buf_json_str(b, id);
    gw_buf_puts(b, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
    gw_buf_json_str(b, owner);
    gw_buf_puts(b, ",\"permission\":[]}");
}

/* Calls fn for every id of the list, in order. */
static void each_model(const gw_llm_t *l, void (*fn)(void *arg, const char *id,
                                                     const char *owner),
                       void *arg)
{
    const gw_config_t *c = l->cfg;
    gw_buf_t id = GW_BUF_INIT;
    fn(arg, "openclaw", "openclaw");
    fn(arg, "openclaw/default", "openclaw");
    for (size_t i = 0; i < c->agent_count; i++) {
        gw_buf_reset(&id);
        gw_buf_printf(&id, "openclaw/%s", c->agents[i].id);
        fn(arg, id.data, "openclaw");
    }
    for (size_t i = 0; i < l->ntargets; i++)
        fn(arg, l->targets[i]->id, l->targets[i]->prov->name);
    for (size_t i = 0; i < l->ntargets; i++)
        if (l->targets[i]->alias)
            fn(arg, l->targets[i]->alias, l->targets[i]->prov->name);
    gw_buf_free(&id);
}

typedef struct list_arg_s {
    gw_buf_t *b;
    int n;
} list_arg_t;

static void list_one(void *arg, const char *id, const char *owner)
{
    list_arg_t *a = arg;
    gw_buf_puts(a->b, a->n++ ? "," : "");
    model_obj(a->b, id, owner);
}

typedef struct find_arg_s {
    const char *id;
    gw_buf_t *out;
    int found;
} find_arg_t;

static void find_one(void *arg, const char *id, const char *owner)
{
    find_arg_t *a = arg;
    if (!a->found && strcmp(id, a->id) == 0) {
        model_obj(a->out, id, owner);
        a->found = 1;
    }
}

const char *gw_llm_models_json(const gw_llm_t *l)
{
    return l->models_json;
}

int gw_llm_model_json(const gw_llm_t *l, const char *id, gw_buf_t *out)
{
    find_arg_t a = {id, out, 0};
    each_model(l, find_one, &a);
    return a.found ? 0 : -ENOENT;
}

static char *build_models_json(const gw_llm_t *l)
{
    gw_buf_t b = GW_BUF_INIT;
    list_arg_t a = {&b, 0};
    gw_buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    each_model(l, list_one, &a);
    gw_buf_puts(&b, "]}");
    return gw_buf_steal(&b);
}

/* ---- health ---- */

int gw_llm_providers_json(const gw_llm_t *l, gw_buf_t *out, int *all_down)
{
    static const char *const states[] = {"ok", "cooling", "probing"};
    uint64_t now = gw_now_ms();
    size_t down = 0;
    gw_buf_puts(out, "{");
    for (size_t i = 0; i < l->nprovs; i++) {
        const gw_llm_provider_t *p = &l->provs[i];
        gw_cooldown_info_t ci;
        gw_cooldown_info(l->cooldown, p->idx, now, &ci);
        down += ci.state != GW_CD_STATE_OK;
        gw_buf_puts(out, i ? "," : "");
        gw_buf_json_str(out, p->name);
        gw_buf_puts(out, ":{\"type\":");
        gw_buf_json_str(out, p->type);
        gw_buf_printf(out, ",\"state\":\"%s\",\"remainingMs\":%llu,\"consecutiveFailures\":%u,"
                      "\"cooldowns\":%llu,\"models\":[",
                      states[ci.state], (unsigned long long)ci.remaining_ms, ci.failures,
                      (unsigned long long)ci.cooldowns);
        int n = 0;
        for (size_t k = 0; k < l->ntargets; k++)
            if (l->targets[k]->prov == p) {
                gw_buf_puts(out, n++ ? "," : "");
                gw_buf_json_str(out, l->targets[k]->model);
            }
        gw_buf_puts(out, "]}");
    }
    if (all_down)
        *all_down = l->nprovs > 0 && down == l->nprovs;
    return gw_buf_puts(out, "}");
}

/* ---- life cycle ---- */

static double read_scale(void)
{
    const char *s = getenv(GW_LLM_COOLDOWN_SCALE_ENV);
    if (s == NULL || *s == '\0')
        return 1.0;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !(v >= 0) || v > 1000) {
        gw_log(OC_LOG_WARN, "llm", "%s=\"%s\" ignored: expected a number from 0 to 1000",
               GW_LLM_COOLDOWN_SCALE_ENV, s);
        return 1.0;
    }
    gw_log(OC_LOG_WARN, "llm", "%s=%g: provider cooldowns are scaled (test-only setting)",
           GW_LLM_COOLDOWN_SCALE_ENV, v);
    return v;
}

int gw_llm_new(gw_llm_t **out, const gw_config_t *cfg, gw_plugins_t *ps, gw_metrics_t *metrics,
               gw_loop_t *home)
{
    *out = NULL;
    gw_llm_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    l->cfg = cfg;
    l->home = home;
    l->cooldown_scale = read_scale();
    if (metrics)
        register_metrics(l, metrics);
    int rc = gw_llm_catalog_build(l, ps);
    if (rc == 0) {
        l->cooldown = gw_cooldown_new(l->nprovs, l->cooldown_scale);
        l->models_json = build_models_json(l);
        if (l->cooldown == NULL || l->models_json == NULL)
            rc = -ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < l->nprovs; i++) {
        const char *lv[] = {l->provs[i].name};
        l->provs[i].chunk_gap = gw_metric_series(l->m.chunk_gap, lv);
        gw_cooldown_set_series(l->cooldown, l->provs[i].idx,
                               gw_metric_series(l->m.cooldown, lv),
                               gw_metric_series(l->m.cooldowns, lv));
    }
    if (rc != 0) {
        gw_llm_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void gw_llm_free(gw_llm_t *l)
{
    if (l == NULL)
        return;
    gw_llm_catalog_free(l);
    gw_cooldown_free(l->cooldown);
    free(l->models_json);
    free(l);
}

void gw_llm_set_agent_runner(gw_llm_t *l, gw_llm_agent_submit_fn fn, void *ctx)
{
    l->agent_submit = fn;
    l->agent_ctx = ctx;
}
