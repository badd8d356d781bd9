/* gateway/gateway.c - the gateway process: load and check everything, start
 * the plugins and the listeners, serve until a signal, then drain. */
#include "gateway/gateway.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "gateway/state.h"
#include "httpc/httpc.h"
#include "llm/llm.h"
#include "log/log.h"
#include "loop/loop.h"
#include "messaging/messaging.h"
#include "metrics/metrics.h"
#include "plugin/plugins.h"
#include "server/server.h"
#include "util/buf.h"

/* Deadline for plugins to finish their in-flight work at shutdown. */
#define GW_STOP_DEADLINE_MS 10000
#define GW_HEALTH_INTERVAL_MS 1000
/* How long start-up waits for storage before declaring ready, degraded. */
#define GW_STORAGE_WAIT_MS 10000

/* Used when plugins.load is absent: the embedded default of SPEC §3. */
static const char *const default_plugins[] = {"storage-sqlite", "auth-apikey"};

typedef struct gw_gateway_s {
    const gw_start_opts_t *opts;
    gw_config_t *cfg;
    uv_loop_t uv;
    gw_loop_t loop;
    gw_metrics_t *metrics;
    gw_plugins_t plugins;
    gw_messaging_t *msg;
    gw_llm_t *llm;        /* model catalog, cooldowns, provider metrics */
    gw_server_t server;
    int server_started;
    int msg_started;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t health;
    uv_timer_t ready_timer; /* waits for storage before declaring ready */
    int stopping;
    int exit_code;
    uint64_t t0;
    gw_metric_t *m_storage_up; /* 1 reachable, 0 not (the health timer sets it) */
} gw_gateway_t;

/* The sqlite file lives in the state directory unless storage.path says
 * otherwise (SPEC §4: the state directory holds the sqlite default). */
static void apply_default_storage_path(gw_config_t *c)
{
    if (strcmp(c->storage_type, "sqlite") != 0 || gw_cfg_find(c->root, "storage.path"))
        return;
    gw_buf_t p = GW_BUF_INIT;
    gw_buf_printf(&p, "%s/data/sessions.db", c->state_dir);
    gw_cfg_set_scalar(c->root, "storage.path", p.data, "default storage.path");
    gw_buf_free(&p);
}

static void apply_default_plugins(gw_config_t *c)
{
    if (c->plugin_load_count > 0 || gw_cfg_find(c->root, "plugins.load") != NULL)
        return;
    size_t n = sizeof(default_plugins) / sizeof(default_plugins[0]);
    c->plugin_load = calloc(n + 1, sizeof(char *));
    if (c->plugin_load == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        c->plugin_load[i] = strdup(default_plugins[i]);
    c->plugin_load_count = n;
}

/* --dev with no providers: the mock provider, so a fresh checkout answers
 * messages (SPEC §3). */
static void apply_dev_provider(gw_config_t *c)
{
    if (!c->dev || c->provider_count > 0 || gw_cfg_find(c->root, "providers") != NULL)
        return;
    gw_cfg_node_t *list = gw_cfg_node_new(OC_CFG_LIST);
    gw_cfg_node_t *entry = gw_cfg_node_new(OC_CFG_MAP);
    gw_provider_cfg_t *pc = calloc(1, sizeof(*pc));
    char **load = realloc(c->plugin_load, (c->plugin_load_count + 1) * sizeof(char *));
    if (load)
        c->plugin_load = load;
    if (!list || !entry || !pc || !load || gw_cfg_list_add(list, entry) != 0 ||
        gw_cfg_map_add(c->root, "providers", list) != 0) {
        gw_cfg_free(list);
        free(pc);
        return;
    }
    gw_cfg_repath(list);
    gw_cfg_set_scalar(c->root, "providers.0.name", "mock", "--dev default");
    gw_cfg_set_scalar(c->root, "providers.0.type", "mock", "--dev default");
    gw_cfg_mark_used(gw_cfg_find(c->root, "providers.0.name"));
    gw_cfg_mark_used(gw_cfg_find(c->root, "providers.0.type"));
    pc->name = strdup("mock");
    pc->type = strdup("mock");
    pc->node = gw_cfg_find(c->root, "providers.0");
    c->providers = pc;
    c->provider_count = 1;
    int have = 0;
    for (size_t i = 0; i < c->plugin_load_count; i++)
        have |= strcmp(c->plugin_load[i], "provider-mock") == 0;
    if (!have)
        c->plugin_load[c->plugin_load_count++] = strdup("provider-mock");
}

/* Every secret-looking value is masked in every later log line. */
static void register_secrets(const gw_cfg_node_t *n)
{
    if (n == NULL)
        return;
    if (n->type == OC_CFG_SCALAR && n->scalar && gw_cfg_is_secret(n))
        gw_log_add_secret(n->scalar);
    for (size_t i = 0; i < n->len; i++)
        register_secrets(n->items[i]);
}

static int is_loopback_host(const char *h)
{
    return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 || strcmp(h, "localhost") == 0;
}

static void print_diag(const gw_diag_t *d, int fd)
{
    gw_diag_print(d, stderr);
    if (fd >= 0) {
        for (size_t i = 0; i < d->count; i++) {
            dprintf(fd, "error: %s\n", d->msgs[i]);
        }
    }
}

/* Config and plugins: everything short of starting. Returns an exit code. */
static int load(gw_gateway_t *g, const gw_config_opts_t *o, gw_diag_t *d)
{
    int rc = gw_config_load(o, &g->cfg, d);
    if (rc == -ENOMEM)
        return GW_EXIT_RUNTIME;
    if (rc != 0)
        return GW_EXIT_CONFIG;
    apply_default_plugins(g->cfg);
    apply_dev_provider(g->cfg);
    apply_default_storage_path(g->cfg);
    register_secrets(g->cfg->root);
    gw_plugins_init(&g->plugins, &g->loop, g->metrics);
    if (gw_plugins_open(&g->plugins, g->cfg, d) != OC_OK)
        return GW_EXIT_CONFIG;
    /* Before the plugins: the core reads the policy keys of each channel
     * section first, so the plugin's unknown-key report leaves them alone. */
    rc = gw_messaging_new(&g->msg, g->cfg, &g->plugins, g->metrics, &g->loop, d);
    if (rc == -ENOMEM)
        return GW_EXIT_RUNTIME;
    if (rc != 0)
        return GW_EXIT_CONFIG;
    if (gw_plugins_create(&g->plugins, g->cfg, d) != OC_OK)
        return GW_EXIT_CONFIG;
    return GW_EXIT_OK;
}

static void setup_loop(gw_gateway_t *g)
{
    uv_loop_init(&g->uv);
    gw_loop_init(&g->loop, &g->uv, 0);
    gw_loop_set_current(&g->loop);
    g->metrics = gw_metrics_new();
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void teardown(gw_gateway_t *g)
{
    gw_messaging_free(g->msg);
    g->msg = NULL;
    gw_llm_free(g->llm); /* before the plugins: it points at provider instances */
    g->llm = NULL;
    gw_plugins_free(&g->plugins);
    if (g->server_started)
        gw_server_free(&g->server);
    gw_loop_close(&g->loop);
    uv_walk(&g->uv, walk_close, NULL);
    while (uv_run(&g->uv, UV_RUN_DEFAULT) != 0) {
    }
    uv_loop_close(&g->uv);
    gw_loop_set_current(NULL);
    gw_metrics_free(g->metrics);
    gw_config_free(g->cfg);
}

int gw_gateway_validate(const gw_config_opts_t *o, int quiet)
{
    gw_gateway_t g;
    memset(&g, 0, sizeof(g));
    gw_diag_t d = GW_DIAG_INIT;
    setup_loop(&g);
    int code = load(&g, o, &d);
    if (code == GW_EXIT_OK && !is_loopback_host(g.cfg->host) && !gw_plugins_has_auth(&g.plugins)) {
        gw_diag_add(&d, NULL, 0, 0,
                    "refusing to bind gateway to %s without auth (set auth.apiKey or "
                    "OPENCLAW_API_KEY, or bind server.host: loopback)",
                    g.cfg->host);
        code = GW_EXIT_CONFIG;
    }
    gw_diag_print(&d, stderr);
    if (code == GW_EXIT_OK && !quiet)
        printf("%s: configuration OK (%zu plugin%s)\n",
               g.cfg->path ? g.cfg->path : "(defaults)", g.plugins.nmods,
               g.plugins.nmods == 1 ? "" : "s");
    gw_diag_free(&d);
    teardown(&g);
    return code;
}

int gw_gateway_plugins_list(const gw_config_opts_t *o, int json)
{
    gw_gateway_t g;
    memset(&g, 0, sizeof(g));
    gw_diag_t d = GW_DIAG_INIT;
    setup_loop(&g);
    int code = GW_EXIT_CONFIG;
    if (gw_config_load(o, &g.cfg, &d) == 0) {
        apply_default_plugins(g.cfg);
        gw_plugins_init(&g.plugins, &g.loop, g.metrics);
        /* Listing reads descriptors only: nothing is initialised. */
        code = gw_plugins_open(&g.plugins, g.cfg, &d) == OC_OK ? GW_EXIT_OK : GW_EXIT_CONFIG;
        gw_plugins_print(&g.plugins, json, stdout);
    }
    gw_diag_print(&d, stderr);
    gw_diag_free(&d);
    teardown(&g);
    return code;
}

int gw_gateway_with_catalog(const gw_config_opts_t *o, void (*fn)(gw_llm_t *llm, void *data),
                            void *data)
{
    gw_gateway_t g;
    memset(&g, 0, sizeof(g));
    gw_diag_t d = GW_DIAG_INIT;
    setup_loop(&g);
    int code = load(&g, o, &d);
    if (code == GW_EXIT_OK && gw_llm_new(&g.llm, g.cfg, &g.plugins, NULL, &g.loop) != 0) {
        gw_diag_add(&d, NULL, 0, 0, "out of memory building the model catalog");
        code = GW_EXIT_RUNTIME;
    }
    gw_diag_print(&d, stderr);
    gw_diag_free(&d);
    if (code == GW_EXIT_OK)
        fn(g.llm, data);
    teardown(&g);
    return code;
}

/* ---- running ---- */

static void publish_health(gw_gateway_t *g)
{
    gw_buf_t b = GW_BUF_INIT;
    int degraded = 0, storage_down = 0;
    const char *storage_status = "none", *storage_text = NULL;
    if (g->plugins.storage_inst) {
        const oc_storage_t *s = &g->plugins.storage;
        int rc = s->ops->health(s->state, &storage_text);
        storage_status = rc == OC_OK ? "ok" : "unavailable";
        degraded |= storage_down = rc != OC_OK;
        const char *lv[] = {g->cfg->storage_type};
        gw_metric_set(g->m_storage_up, lv, rc == OC_OK);
    }
    uint64_t up = (gw_now_ms() - g->server.started_mono) / 1000;
    gw_buf_printf(&b, "{\"status\":\"%s\",\"version\":\"%s\",\"uptime\":%llu,",
                  degraded ? "degraded" : "ok", OPENCLAW_VERSION, (unsigned long long)up);
    gw_buf_puts(&b, "\"storage\":{\"type\":");
    gw_buf_json_str(&b, g->cfg->storage_type);
    gw_buf_printf(&b, ",\"status\":\"%s\"", storage_status);
    if (storage_text) {
        gw_buf_puts(&b, ",\"detail\":");
        gw_buf_json_str(&b, storage_text);
    }
    gw_buf_puts(&b, "},\"channels\":{");
    int n = 0;
    for (size_t i = 0; i < g->plugins.ninsts; i++) {
        oc_plugin_t *p = g->plugins.insts[i];
        if (p->mod->desc.kind != OC_KIND_CHANNEL || !p->inited)
            continue;
        const char *detail = NULL;
        const char *st = p->mod->k.channel.status(p->state, &detail);
        const char *cname = p->mod->k.channel.channel_name(p->state);
        gw_buf_puts(&b, n++ ? "," : "");
        gw_buf_json_str(&b, cname ? cname : p->name);
        gw_buf_puts(&b, ":");
        gw_buf_json_str(&b, st ? st : "unknown");
        degraded |= st && strcmp(st, "connected") != 0 && strcmp(st, "disabled") != 0;
    }
    gw_buf_puts(&b, "},\"providers\":");
    int providers_down = 0;
    if (g->llm)
        gw_llm_providers_json(g->llm, &b, &providers_down);
    else
        gw_buf_puts(&b, "{}");
    degraded |= providers_down; /* every provider cooling: answers fail now */
    gw_buf_printf(&b, ",\"plugins\":{\"loaded\":%zu},\"workers\":%d", g->plugins.nmods,
                  g->server.nworkers);
    if (g->msg) {
        char *q = gw_messaging_health_json(g->msg);
        gw_buf_printf(&b, ",\"queue\":%s", q ? q : "null");
        free(q);
    }
    gw_buf_puts(&b, "}");
    gw_server_publish_health(&g->server, gw_buf_steal(&b), degraded, storage_down);
}

static void on_health_timer(uv_timer_t *t)
{
    publish_health(t->data);
}

static void on_plugins_stopped(void *data)
{
    gw_gateway_t *g = data;
    gw_log(OC_LOG_INFO, "gateway", "stopped");
    uv_stop(&g->uv);
}

static void on_messaging_stopped(void *data)
{
    gw_gateway_t *g = data;
    gw_plugins_stop(&g->plugins, GW_STOP_DEADLINE_MS, on_plugins_stopped, g);
}

/* HTTP drained: let running turns finish (bounded), then the plugins. */
static void on_server_stopped(void *data)
{
    gw_gateway_t *g = data;
    gw_messaging_stop(g->msg, GW_STOP_DEADLINE_MS, on_messaging_stopped, g);
}

static void begin_shutdown(gw_gateway_t *g, const char *why)
{
    if (g->stopping)
        return;
    g->stopping = 1;
    gw_log(OC_LOG_INFO, "gateway", "%s: draining and stopping", why);
    uv_timer_stop(&g->health);
    gw_server_stop(&g->server, on_server_stopped, g);
}

static void on_signal(uv_signal_t *s, int signum)
{
    gw_gateway_t *g = s->data;
    if (signum == SIGHUP) {
        gw_log(OC_LOG_WARN, "gateway",
               "SIGHUP: this version applies configuration changes on restart "
               "(`openclaw gateway restart`); the running configuration is unchanged");
        return;
    }
    begin_shutdown(g, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static char *state_json(gw_gateway_t *g)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_buf_printf(&b, "{\"pid\":%d,\"version\":\"%s\",\"startedAt\":%llu,\"host\":",
                  (int)getpid(), OPENCLAW_VERSION, (unsigned long long)g->server.started_ms);
    gw_buf_json_str(&b, g->server.host);
    gw_buf_printf(&b, ",\"port\":%d,\"metricsPort\":%d,\"workers\":%d,\"tls\":%s,\"configPath\":",
                  g->server.port, g->server.metrics_port, g->server.nworkers,
                  g->cfg->tls_cert_path ? "true" : "false");
    if (g->cfg->path)
        gw_buf_json_str(&b, g->cfg->path);
    else
        gw_buf_puts(&b, "null");
    gw_buf_puts(&b, ",\"stateDir\":");
    gw_buf_json_str(&b, g->cfg->state_dir);
    gw_buf_puts(&b, ",\"plugins\":[");
    for (size_t i = 0; i < g->plugins.nmods; i++) {
        gw_buf_puts(&b, i ? "," : "");
        gw_buf_json_str(&b, g->plugins.mods[i]->desc.name);
    }
    gw_buf_puts(&b, "],\"argv\":[");
    for (int i = 0; i < g->opts->argc; i++) {
        gw_buf_puts(&b, i ? "," : "");
        gw_buf_json_str(&b, g->opts->argv[i]);
    }
    gw_buf_puts(&b, "]}\n");
    return gw_buf_steal(&b);
}

static void register_core_metrics(gw_gateway_t *g)
{
    char err[256];
    const char *bl[] = {"version", "abi", NULL};
    gw_metric_t *build = gw_metric_register(g->metrics, OC_METRIC_GAUGE, "openclaw_build_info",
                                            "Gateway build: version and plugin ABI", bl, NULL, 0,
                                            err, sizeof(err));
    char abi[16];
    snprintf(abi, sizeof(abi), "%d.%d", OC_ABI_MAJOR, OC_ABI_MINOR);
    const char *bv[] = {OPENCLAW_VERSION, abi};
    gw_metric_set(build, bv, 1);
    const char *kl[] = {"kind", NULL};
    gw_metric_t *loaded = gw_metric_register(g->metrics, OC_METRIC_GAUGE,
                                             "openclaw_plugins_loaded",
                                             "Plugins loaded, by kind", kl, NULL, 0, err,
                                             sizeof(err));
    const char *tl[] = {"type", NULL};
    g->m_storage_up = gw_metric_register(g->metrics, OC_METRIC_GAUGE, "openclaw_storage_up",
                                         "1 when the storage is reachable, 0 when not (the "
                                         "gateway is degraded and refuses inbound messages)",
                                         tl, NULL, 0, err, sizeof(err));
    static const char *const kinds[] = {"channel", "provider", "storage", "auth"};
    for (int k = 0; k < 4; k++) {
        size_t n = 0;
        for (size_t i = 0; i < g->plugins.nmods; i++)
            n += g->plugins.mods[i]->desc.kind == (uint32_t)(k + 1);
        const char *kv[] = {kinds[k]};
        gw_metric_set(loaded, kv, (double)n);
    }
}

static void become_ready(gw_gateway_t *g)
{
    const gw_start_opts_t *o = g->opts;
    publish_health(g);
    char *sj = state_json(g);
    gw_state_write(g->cfg->state_dir, getpid(), sj);
    free(sj);
    gw_server_set_ready(&g->server, 1);
    const char *scheme = g->cfg->tls_cert_path ? "https" : "http";
    char metrics[128] = "metrics off";
    if (g->server.metrics_port > 0)
        snprintf(metrics, sizeof(metrics), "metrics http://%s:%d/metrics", g->server.host,
                 g->server.metrics_port);
    gw_log(OC_LOG_INFO, "gateway", "ready in %llu ms: %s://%s:%d (workers %d), %s, %zu "
           "plugin(s), storage %s",
           (unsigned long long)(gw_now_ms() - g->t0), scheme, g->server.host, g->server.port,
           g->server.nworkers, metrics, g->plugins.nmods, g->cfg->storage_type);
    if (o->ready_fd >= 0) {
        dprintf(o->ready_fd, "ready %d %s://%s:%d\n", (int)getpid(), scheme, g->server.host,
                g->server.port);
        close(o->ready_fd);
    }
}

/* Ready once storage answers healthy, or after GW_STORAGE_WAIT_MS anyway
 * (then degraded: /readyz stays 503 until storage recovers). */
static void on_ready_check(uv_timer_t *t)
{
    gw_gateway_t *g = t->data;
    const char *text = NULL;
    int ok = g->plugins.storage_inst == NULL ||
             g->plugins.storage.ops->health(g->plugins.storage.state, &text) == OC_OK;
    /* Pending messages from before a crash are queued before new ones. */
    if (ok && g->msg_started && !gw_messaging_recovered(g->msg)) {
        ok = 0;
        text = "recovering pending messages";
    }
    if (!ok && gw_now_ms() - g->t0 < GW_STORAGE_WAIT_MS)
        return;
    uv_timer_stop(t);
    if (!ok)
        gw_log(OC_LOG_WARN, "gateway", "storage is not available yet (%s); serving degraded",
               text ? text : "no detail");
    become_ready(g);
}

/* --force: stop the gateway of ours that holds the port. 1 when it did. */
static int take_over_port(gw_gateway_t *g)
{
    char holder[128];
    int pid;
    gw_port_holder(g->cfg->host, g->cfg->port, holder, sizeof(holder), &pid);
    if (pid <= 0 || pid == getpid() || !gw_pid_is_gateway(pid))
        return 0;
    gw_log(OC_LOG_WARN, "gateway", "--force: stopping the gateway on port %d (%s)", g->cfg->port,
           holder);
    kill(pid, SIGTERM);
    uint64_t deadline = gw_now_ms() + GW_STOP_DEADLINE_MS + 5000;
    while (gw_pid_running(pid) && gw_now_ms() < deadline)
        usleep(20000); /* a CLI wait for another process; the loop is not running yet */
    if (gw_pid_running(pid)) {
        kill(pid, SIGKILL);
        usleep(100000);
    }
    return 1;
}

static int has_channels(const gw_plugins_t *ps)
{
    for (size_t i = 0; i < ps->nmods; i++)
        if (ps->mods[i]->desc.kind == OC_KIND_CHANNEL)
            return 1;
    return 0;
}

static void stop_loop(void *data)
{
    uv_stop(data);
}

int gw_gateway_run(const gw_start_opts_t *o)
{
    gw_gateway_t g;
    memset(&g, 0, sizeof(g));
    g.opts = o;
    g.t0 = gw_now_ms();
    gw_diag_t d = GW_DIAG_INIT;
    /* A client that goes away mid-stream must cost an EPIPE on that
     * connection, not the process: h2o's libuv sockets write with write(2). */
    signal(SIGPIPE, SIG_IGN);
    gw_httpc_global_init();
    setup_loop(&g);

    int code = load(&g, &o->cfg, &d);
    if (code == GW_EXIT_OK) {
        gw_log_setup(o->verbose ? OC_LOG_DEBUG : g.cfg->log_level, g.cfg->log_json);
        if (!is_loopback_host(g.cfg->host) && !gw_plugins_has_auth(&g.plugins)) {
            gw_diag_add(&d, NULL, 0, 0,
                        "refusing to bind gateway to %s without auth (set auth.apiKey or "
                        "OPENCLAW_API_KEY, or bind server.host: loopback)",
                        g.cfg->host);
            code = GW_EXIT_CONFIG;
        }
    }
    if (code == GW_EXIT_OK && gw_mkdirs(g.cfg->state_dir) != 0) {
        gw_diag_add(&d, NULL, 0, 0, "cannot create the state directory %s: %s",
                    g.cfg->state_dir, strerror(errno));
        code = GW_EXIT_RUNTIME;
    }
    if (code == GW_EXIT_OK) {
        gw_buf_t logp = GW_BUF_INIT;
        gw_buf_printf(&logp, "%s/gateway.log", g.cfg->state_dir);
        gw_log_open_file(logp.data);
        gw_buf_free(&logp);
        if (o->ready_fd >= 0)
            gw_log_set_stderr(0); /* --daemon: stderr is the same file */
        register_core_metrics(&g);
        /* The model catalog needs the provider instances (their models)
         * and registers the provider metric families messaging uses. */
        if (gw_llm_new(&g.llm, g.cfg, &g.plugins, g.metrics, &g.loop) != 0) {
            gw_diag_add(&d, NULL, 0, 0, "out of memory building the model catalog");
            code = GW_EXIT_RUNTIME;
        } else {
            gw_messaging_set_llm(g.msg, g.llm);
            gw_llm_set_agent_runner(g.llm, gw_messaging_api_submit, g.msg);
        }
        gw_messaging_register_metrics(g.msg);
        if (code == GW_EXIT_OK && gw_plugins_start(&g.plugins, &d) != OC_OK)
            code = GW_EXIT_RUNTIME;
    }
    if (code == GW_EXIT_OK) {
        if (gw_messaging_start(g.msg, &d) == 0) {
            g.msg_started = 1;
        } else if (has_channels(&g.plugins)) {
            code = GW_EXIT_RUNTIME;
        } else {
            /* No channel needs it; /hooks/agent answers 503. */
            gw_log(OC_LOG_WARN, "gateway", "messaging disabled: the storage lacks the ABI 1.1 "
                   "operations");
            gw_diag_free(&d);
        }
    }
    if (code == GW_EXIT_OK) {
        int rc = gw_server_start(&g.server, g.cfg, &g.plugins, g.metrics, g.llm, &g.loop,
                                 &d);
        if (rc == -EADDRINUSE && o->force && take_over_port(&g)) {
            gw_diag_free(&d);
            gw_server_free(&g.server);
            rc = gw_server_start(&g.server, g.cfg, &g.plugins, g.metrics, g.llm,
                                 &g.loop, &d);
        }
        g.server_started = 1;
        if (rc != 0)
            code = GW_EXIT_RUNTIME;
    }
    if (code != GW_EXIT_OK) {
        print_diag(&d, o->ready_fd);
        gw_diag_free(&d);
        if (g.server_started && g.server.workers_running) {
            /* Workers may have started before a later listener failed. */
            gw_server_stop(&g.server, stop_loop, &g.uv);
            uv_run(&g.uv, UV_RUN_DEFAULT);
        }
        gw_plugins_stop(&g.plugins, GW_STOP_DEADLINE_MS, stop_loop, &g.uv);
        uv_run(&g.uv, UV_RUN_DEFAULT);
        teardown(&g);
        gw_log_shutdown();
        return code;
    }
    gw_diag_free(&d);

    uv_signal_init(&g.uv, &g.sigterm);
    uv_signal_init(&g.uv, &g.sigint);
    uv_signal_init(&g.uv, &g.sighup);
    g.sigterm.data = g.sigint.data = g.sighup.data = &g;
    uv_signal_start(&g.sigterm, on_signal, SIGTERM);
    uv_signal_start(&g.sigint, on_signal, SIGINT);
    uv_signal_start(&g.sighup, on_signal, SIGHUP);
    uv_timer_init(&g.uv, &g.health);
    g.health.data = &g;
    publish_health(&g);
    uv_timer_start(&g.health, on_health_timer, GW_HEALTH_INTERVAL_MS, GW_HEALTH_INTERVAL_MS);


    uv_timer_init(&g.uv, &g.ready_timer);
    g.ready_timer.data = &g;
    uv_timer_start(&g.ready_timer, on_ready_check, 0, 2);

    uv_run(&g.uv, UV_RUN_DEFAULT);

    gw_state_remove(g.cfg->state_dir, getpid());
    uv_close((uv_handle_t *)&g.health, NULL);
    uv_close((uv_handle_t *)&g.ready_timer, NULL);
    uv_close((uv_handle_t *)&g.sigterm, NULL);
    uv_close((uv_handle_t *)&g.sigint, NULL);
    uv_close((uv_handle_t *)&g.sighup, NULL);
    teardown(&g);
    gw_httpc_global_cleanup();
    gw_log_shutdown();
    return GW_EXIT_OK;
}

/* ---- admin access to the storage ---- */

struct gw_admin_s {
    gw_gateway_t g;
};

static void on_admin_tick(uv_timer_t *t)
{
    (void)t; /* wakes uv_run(UV_RUN_ONCE) so gw_admin_wait re-checks */
}

int gw_admin_open(const gw_config_opts_t *o, gw_admin_t **out)
{
    *out = NULL;
    gw_admin_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return GW_EXIT_RUNTIME;
    gw_gateway_t *g = &a->g;
    gw_diag_t d = GW_DIAG_INIT;
    setup_loop(g);
    gw_log_set_stderr(1);
    int code = load(g, o, &d);
    oc_plugin_t *sp = code == GW_EXIT_OK ? g->plugins.storage_inst : NULL;
    if (code == GW_EXIT_OK && sp == NULL) {
        gw_diag_add(&d, NULL, 0, 0, "no storage plugin is configured");
        code = GW_EXIT_CONFIG;
    }
    if (code == GW_EXIT_OK) {
        int rc = sp->mod->ops.start ? sp->mod->ops.start(sp->state) : OC_OK;
        if (rc != OC_OK) {
            gw_diag_add(&d, NULL, 0, 0, "storage %s: start failed: %s", sp->name,
                        gw_host_api.strerror(rc));
            code = GW_EXIT_RUNTIME;
        } else {
            sp->started = 1;
        }
    }
    if (code == GW_EXIT_OK) {
        uv_timer_init(&g->uv, &g->ready_timer);
        uv_timer_start(&g->ready_timer, on_admin_tick, 5, 5);
        const char *text = NULL;
        uint64_t t0 = gw_now_ms();
        while (g->plugins.storage.ops->health(g->plugins.storage.state, &text) != OC_OK &&
               gw_now_ms() - t0 < GW_STORAGE_WAIT_MS)
            uv_run(&g->uv, UV_RUN_ONCE);
        if (g->plugins.storage.ops->health(g->plugins.storage.state, &text) != OC_OK) {
            gw_diag_add(&d, NULL, 0, 0, "storage %s is not available: %s", sp->name,
                        text ? text : "no detail");
            code = GW_EXIT_RUNTIME;
        }
    }
    if (code == GW_EXIT_OK) {
        const oc_storage_ops_t *ops = g->plugins.storage.ops;
        if (!ops->pairing_list || !ops->pairing_approve) {
            gw_diag_add(&d, NULL, 0, 0, "storage %s was built for ABI 1.0 and has no pairing "
                        "operations; rebuild it against SDK 1.1", sp->name);
            code = GW_EXIT_RUNTIME;
        }
    }
    gw_diag_print(&d, stderr);
    gw_diag_free(&d);
    if (code != GW_EXIT_OK) {
        gw_admin_close(a);
        return code;
    }
    *out = a;
    return 0;
}

const struct oc_storage_s *gw_admin_storage(gw_admin_t *a)
{
    return &a->g.plugins.storage;
}

void gw_admin_wait(gw_admin_t *a, const int *flag)
{
    while (!*flag)
        uv_run(&a->g.uv, UV_RUN_ONCE);
}

static void on_admin_stopped(void *data)
{
    *(int *)data = 1;
}

void gw_admin_close(gw_admin_t *a)
{
    gw_gateway_t *g = &a->g;
    int stopped = 0;
    gw_plugins_stop(&g->plugins, GW_STOP_DEADLINE_MS, on_admin_stopped, &stopped);
    while (!stopped)
        uv_run(&g->uv, UV_RUN_ONCE);
    if (uv_is_active((uv_handle_t *)&g->ready_timer))
        uv_timer_stop(&g->ready_timer);
    teardown(g);
    free(a);
}
