/* tests/unit/llm/fake.c - see fake.h. */
#include "fake.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fake_call_s {
    fake_prov_t *p;
    oc_chat_callbacks_t cbs;
    void *data;
    int stream;
    int sent;           /* chunks delivered */
    uv_timer_t timer;
    int closing;
} fake_call_t;

static void on_closed(uv_handle_t *h)
{
    fake_call_t *c = h->data;
    atomic_fetch_sub(&c->p->live, 1);
    free(c);
}

static void finish(fake_call_t *c)
{
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void on_step(uv_timer_t *t)
{
    fake_call_t *c = t->data;
    fake_prov_t *p = c->p;
    if (p->mode == FAKE_FAIL || (p->mode == FAKE_STREAM_FAIL && c->sent >= p->chunks)) {
        oc_chat_result_t res = {.struct_size = sizeof(res), .status = OC_EUNAVAIL,
                                .error_class = p->fail_class, .http_status = p->http_status,
                                .retry_after_ms = p->retry_after_ms,
                                .error = "fake: simulated failure", .prompt_tokens = -1,
                                .completion_tokens = -1};
        finish(c);
        c->cbs.on_done(c->data, &res);
        return;
    }
    if (c->stream && c->sent < p->chunks) {
        char json[160];
        snprintf(json, sizeof(json), "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s%d\"},"
                 "\"finish_reason\":null}]}", p->name, c->sent);
        c->sent++;
        if (c->cbs.on_chunk(c->data, json, strlen(json)) != OC_OK) {
            oc_chat_result_t res = {.struct_size = sizeof(res), .status = OC_ECANCELED,
                                    .error_class = OC_PROV_ERR_CANCELED, .error = "stopped",
                                    .prompt_tokens = -1, .completion_tokens = -1};
            finish(c);
            c->cbs.on_done(c->data, &res);
        }
        return; /* the repeating timer sends the next one */
    }
    char body[200];
    snprintf(body, sizeof(body), "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
             "\"content\":\"from %s\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
             "\"completion_tokens\":2}}", p->name);
    oc_chat_result_t res = {.struct_size = sizeof(res), .status = OC_OK,
                            .error_class = OC_PROV_ERR_NONE, .http_status = 200,
                            .body_json = c->stream ? NULL : body,
                            .body_len = c->stream ? 0 : strlen(body), .prompt_tokens = 3,
                            .completion_tokens = 2};
    finish(c);
    c->cbs.on_done(c->data, &res);
}

static int32_t fake_chat(void *state, const oc_chat_request_t *req, const oc_chat_callbacks_t *cbs,
                         void *data, oc_provider_call_t **out)
{
    fake_prov_t *p = state;
    gw_loop_t *l = gw_loop_current();
    cr_assert_not_null(l, "chat called off a gateway loop");
    atomic_fetch_add(&p->calls, 1);
    p->last_thread = pthread_self();
    snprintf(p->last_model, sizeof(p->last_model), "%s", req->model);
    fake_call_t *c = calloc(1, sizeof(*c));
    c->p = p;
    c->cbs = *cbs;
    c->data = data;
    c->stream = req->stream;
    uv_timer_init(l->uv, &c->timer);
    c->timer.data = c;
    atomic_fetch_add(&p->live, 1);
    if (p->mode != FAKE_HANG)
        uv_timer_start(&c->timer, on_step, p->delay_ms, p->delay_ms ? p->delay_ms : 1);
    *out = (oc_provider_call_t *)c;
    return OC_PENDING;
}

static void fake_cancel(void *state, oc_provider_call_t *call)
{
    fake_prov_t *p = state;
    fake_call_t *c = (fake_call_t *)call;
    atomic_fetch_add(&p->cancels, 1);
    if (!c->closing)
        finish(c);
}

static const char *const *fake_models(void *state)
{
    return ((fake_prov_t *)state)->models;
}

void fake_plugins(gw_plugins_t *ps, fake_prov_t *provs, size_t n)
{
    memset(ps, 0, sizeof(*ps));
    ps->insts = calloc(n ? n : 1, sizeof(oc_plugin_t *));
    ps->mods = calloc(n ? n : 1, sizeof(gw_module_t *));
    for (size_t i = 0; i < n; i++) {
        gw_module_t *m = calloc(1, sizeof(*m));
        m->desc.kind = OC_KIND_PROVIDER;
        m->desc.flags = provs[i].multi_loop ? OC_PLUGIN_F_MULTI_LOOP : 0;
        m->k.provider.struct_size = sizeof(oc_provider_ops_t);
        m->k.provider.kind = OC_KIND_PROVIDER;
        m->k.provider.chat = fake_chat;
        m->k.provider.cancel = fake_cancel;
        m->k.provider.models = fake_models;
        oc_plugin_t *p = calloc(1, sizeof(*p));
        p->mod = m;
        p->set = ps;
        size_t nl = strlen(provs[i].name) + 32;
        p->name = malloc(nl);
        snprintf(p->name, nl, "provider-fake:%s", provs[i].name);
        p->state = &provs[i];
        p->inited = 1;
        ps->insts[ps->ninsts++] = p;
        ps->mods[ps->nmods++] = m;
    }
}

void fake_plugins_free(gw_plugins_t *ps)
{
    for (size_t i = 0; i < ps->ninsts; i++) {
        free(ps->insts[i]->name);
        free(ps->insts[i]);
    }
    for (size_t i = 0; i < ps->nmods; i++)
        free(ps->mods[i]);
    free(ps->insts);
    free(ps->mods);
}

gw_config_t *fake_config(const char *yaml)
{
    gw_config_opts_t o = {0};
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    int rc = gw_config_load_string(&o, "t.yaml", yaml, &c, &d);
    if (rc != 0)
        gw_diag_print(&d, stderr);
    gw_diag_free(&d);
    cr_assert_eq(rc, 0, "the test configuration does not load");
    return c;
}

void fake_loop_init(fake_loop_t *l, int id)
{
    cr_assert_eq(uv_loop_init(&l->uv), 0);
    cr_assert_eq(gw_loop_init(&l->loop, &l->uv, id), 0);
    gw_loop_set_current(&l->loop);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

void fake_loop_run_until(fake_loop_t *l, const atomic_int *flag, uint64_t timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(&l->uv, &tick);
    uv_timer_start(&tick, on_tick, 1, 1); /* wakes the loop to re-check the flag */
    uint64_t end = gw_now_ms() + timeout_ms;
    while (!atomic_load(flag) && gw_now_ms() < end)
        uv_run(&l->uv, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&l->uv, UV_RUN_NOWAIT);
    cr_assert(atomic_load(flag), "condition not reached within %llu ms",
              (unsigned long long)timeout_ms);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void fake_loop_close(fake_loop_t *l)
{
    gw_loop_close(&l->loop);
    uv_walk(&l->uv, walk_close, NULL);
    while (uv_run(&l->uv, UV_RUN_DEFAULT) != 0) {
    }
    cr_assert_eq(uv_loop_close(&l->uv), 0);
}

static void on_wake(uv_async_t *a)
{
    fake_worker_t *w = a->data;
    if (atomic_load(&w->stop))
        uv_stop(&w->fl.uv);
}

static void *worker_main(void *arg)
{
    fake_worker_t *w = arg;
    gw_loop_set_current(&w->fl.loop);
    while (!atomic_load(&w->stop))
        uv_run(&w->fl.uv, UV_RUN_DEFAULT);
    gw_loop_close(&w->fl.loop);
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_walk(&w->fl.uv, walk_close, NULL);
    while (uv_run(&w->fl.uv, UV_RUN_DEFAULT) != 0) {
    }
    uv_loop_close(&w->fl.uv);
    gw_loop_set_current(NULL);
    return NULL;
}

void fake_worker_start(fake_worker_t *w)
{
    memset(w, 0, sizeof(*w));
    cr_assert_eq(uv_loop_init(&w->fl.uv), 0);
    cr_assert_eq(gw_loop_init(&w->fl.loop, &w->fl.uv, 1), 0);
    uv_async_init(&w->fl.uv, &w->wake, on_wake);
    w->wake.data = w;
    atomic_init(&w->stop, 0);
    pthread_create(&w->thread, NULL, worker_main, w);
}

void fake_worker_post(fake_worker_t *w, gw_post_cb fn, void *arg)
{
    cr_assert_eq(gw_loop_post(&w->fl.loop, fn, arg), 0);
}

void fake_worker_stop(fake_worker_t *w)
{
    atomic_store(&w->stop, 1);
    uv_async_send(&w->wake);
    pthread_join(w->thread, NULL);
}
