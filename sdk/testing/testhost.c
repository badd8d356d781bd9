/* testhost.c - the gateway's own loader and host API on a private loop, for
 * plugin unit tests (openclaw/testing.h). No HTTP server, no mocks. */
#include "openclaw/testing.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "config/config.h"
#include "httpc/httpc.h"
#include "log/log.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "plugin/plugins.h"
#include "util/buf.h"
#include "util/diag.h"

struct oc_test_host_s {
    uv_loop_t uv;
    gw_loop_t loop;
    gw_metrics_t *metrics;
    gw_config_t *config;
    gw_plugins_t plugins;
    gw_diag_t diag;
    pthread_mutex_t log_lock; /* sinks run on whichever thread logs */
    gw_buf_t logged;          /* plugin log lines at warn and above, under log_lock */
    gw_buf_t errors;
};

static void on_log(void *data, int level, const char *component, const char *msg)
{
    oc_test_host_t *th = data;
    if (level < OC_LOG_WARN)
        return;
    pthread_mutex_lock(&th->log_lock);
    gw_buf_printf(&th->logged, "%s: %s\n", component, msg);
    pthread_mutex_unlock(&th->log_lock);
}

static char last_error[1024];

const char *oc_test_host_last_error(void)
{
    return last_error;
}

oc_test_host_t *oc_test_host_new(const char *yaml)
{
    gw_httpc_global_init();
    oc_test_host_t *th = calloc(1, sizeof(*th));
    if (th == NULL)
        return NULL;
    gw_config_opts_t opts = {0};
    gw_diag_t d = GW_DIAG_INIT;
    if (gw_config_load_string(&opts, "test.yaml", yaml ? yaml : "", &th->config, &d) != 0) {
        gw_buf_t b = GW_BUF_INIT;
        for (size_t i = 0; i < d.count; i++)
            gw_buf_printf(&b, "%s%s", i ? "\n" : "", d.msgs[i]);
        snprintf(last_error, sizeof(last_error), "%s", b.data ? b.data : "config error");
        gw_buf_free(&b);
        gw_diag_free(&d);
        free(th);
        return NULL;
    }
    gw_diag_free(&d);
    uv_loop_init(&th->uv);
    gw_loop_init(&th->loop, &th->uv, 0);
    gw_loop_set_current(&th->loop);
    th->metrics = gw_metrics_new();
    gw_plugins_init(&th->plugins, &th->loop, th->metrics);
    th->plugins.storage_optional = 1;
    pthread_mutex_init(&th->log_lock, NULL);
    gw_log_add_sink(on_log, th);
    return th;
}

static int32_t load(oc_test_host_t *th, const char *so_path, int start)
{
    gw_plugins_t *ps = &th->plugins;
    gw_module_t *m;
    int rc = gw_module_open(so_path, NULL, 0, &m, &th->diag);
    if (rc != OC_OK)
        return rc;
    gw_module_t **mods = realloc(ps->mods, (ps->nmods + 1) * sizeof(*mods));
    if (mods == NULL) {
        gw_module_close(m);
        return OC_ENOMEM;
    }
    ps->mods = mods;
    ps->mods[ps->nmods++] = m;
    rc = gw_plugins_create_one(ps, th->config, m, &th->diag);
    if (rc != OC_OK || !start)
        return rc;
    return gw_plugins_start(ps, &th->diag);
}

int32_t oc_test_host_load(oc_test_host_t *th, const char *so_path)
{
    return load(th, so_path, 1);
}

int32_t oc_test_host_load_init_only(oc_test_host_t *th, const char *so_path)
{
    return load(th, so_path, 0);
}

const oc_host_api_t *oc_test_host_api(oc_test_host_t *th)
{
    (void)th;
    return &gw_host_api;
}

static oc_plugin_t *find(oc_test_host_t *th, const char *name)
{
    for (size_t i = 0; i < th->plugins.ninsts; i++) {
        oc_plugin_t *p = th->plugins.insts[i];
        if (strcmp(p->name, name) == 0 || strcmp(p->mod->desc.name, name) == 0)
            return p;
    }
    return NULL;
}

void *oc_test_host_state(oc_test_host_t *th, const char *plugin_name)
{
    oc_plugin_t *p = find(th, plugin_name);
    return p ? p->state : NULL;
}

const void *oc_test_host_kind_ops(oc_test_host_t *th, const char *plugin_name)
{
    oc_plugin_t *p = find(th, plugin_name);
    return p ? (const void *)&p->mod->k : NULL;
}

static void on_deadline(uv_timer_t *t)
{
    (void)t; /* only wakes uv_run up */
}

typedef struct until_s {
    int (*cond)(void *arg);
    void *arg;
} until_t;

/* Runs before the loop blocks in poll: when a callback of this iteration
 * (a timer, say) made the condition true, do not block until the deadline. */
static void on_prepare(uv_prepare_t *p)
{
    until_t *u = p->data;
    if (u->cond(u->arg))
        uv_stop(p->loop);
}

int oc_test_host_run_until(oc_test_host_t *th, int (*cond)(void *arg), void *arg,
                           uint64_t timeout_ms)
{
    uint64_t deadline = gw_now_ms() + timeout_ms;
    uv_timer_t timer;
    uv_prepare_t prep;
    until_t u = {cond, arg};
    uv_prepare_init(&th->uv, &prep);
    prep.data = &u;
    uv_prepare_start(&prep, on_prepare);
    /* The loop's cached time is stale after work done outside the loop;
     * without this the deadline timer fires at once. */
    uv_update_time(&th->uv);
    uv_timer_init(&th->uv, &timer);
    uv_timer_start(&timer, on_deadline, timeout_ms, 0);
    int ok = cond(arg);
    while (!ok && gw_now_ms() < deadline) {
        uv_run(&th->uv, UV_RUN_ONCE);
        ok = cond(arg);
    }
    uv_close((uv_handle_t *)&timer, NULL);
    uv_close((uv_handle_t *)&prep, NULL);
    uv_run(&th->uv, UV_RUN_NOWAIT); /* let the closes complete */
    return ok;
}

const char *oc_test_host_errors(oc_test_host_t *th)
{
    gw_buf_reset(&th->errors);
    gw_buf_puts(&th->errors, "");
    for (size_t i = 0; i < th->diag.count; i++)
        gw_buf_printf(&th->errors, "%s\n", th->diag.msgs[i]);
    pthread_mutex_lock(&th->log_lock);
    if (th->logged.len)
        gw_buf_append(&th->errors, th->logged.data, th->logged.len);
    pthread_mutex_unlock(&th->log_lock);
    return th->errors.data;
}

char *oc_test_host_metrics(oc_test_host_t *th)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_metrics_render(th->metrics, &b);
    return gw_buf_steal(&b);
}

static void on_stopped(void *data)
{
    *(int *)data = 1;
}

static int is_set(void *arg)
{
    return *(int *)arg;
}

void oc_test_host_free(oc_test_host_t *th)
{
    if (th == NULL)
        return;
    int done = 0;
    gw_plugins_stop(&th->plugins, 10000, on_stopped, &done);
    oc_test_host_run_until(th, is_set, &done, 11000);
    gw_plugins_free(&th->plugins);
    gw_log_remove_sink(on_log, th);
    gw_loop_close(&th->loop);
    while (uv_run(&th->uv, UV_RUN_DEFAULT) != 0) {
    }
    if (uv_loop_close(&th->uv) != 0)
        uv_walk(&th->uv, NULL, NULL);
    gw_loop_set_current(NULL);
    gw_metrics_free(th->metrics);
    gw_config_free(th->config);
    gw_diag_free(&th->diag);
    gw_buf_free(&th->errors);
    gw_buf_free(&th->logged);
    pthread_mutex_destroy(&th->log_lock);
    free(th);
}
