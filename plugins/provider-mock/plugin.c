/* plugin.c - provider-mock: descriptor, configuration, lifecycle, the
 * models op.
 *
 * One instance per providers[] entry of type mock. Like provider-openai it
 * runs calls on any loop (OC_PLUGIN_F_MULTI_LOOP), so stop lets calls in
 * flight finish (bounded by latencyMs and the stream) and the last one
 * hands stop's done to the home loop; reload is not offered (the host
 * replaces the instance). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* ---- configuration ------------------------------------------------------ */

static int read_models(mock_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *model = MOCK_DEFAULT_MODEL;
    int bad = h->cfg_str(st->self, cfg, "model", MOCK_DEFAULT_MODEL, &model) == OC_ECONFIG;
    if (!bad && model[0] == '\0') {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "model"), "must not be empty");
        bad = 1;
    }
    if ((st->cfg.model = strdup(bad ? MOCK_DEFAULT_MODEL : model)) == NULL)
        return -1;
    oc_config_t *list = h->cfg_child(st->self, cfg, "models");
    int32_t type = h->cfg_type(list);
    if (list != NULL && type != OC_CFG_LIST && type != OC_CFG_NULL) {
        h->cfg_error(st->self, list, "expected a list of model ids, like [mock, mock-large]");
        bad = 1;
    }
    size_t n = type == OC_CFG_LIST ? h->cfg_len(list) : 1;
    st->cfg.models = calloc(n + 1, sizeof *st->cfg.models);
    if (st->cfg.models == NULL)
        return -1;
    if (type != OC_CFG_LIST) { /* default: [model] */
        st->cfg.models[0] = strdup(st->cfg.model);
        return st->cfg.models[0] == NULL || bad ? -1 : 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        oc_config_t *item = h->cfg_at(st->self, list, i);
        const char *id = h->cfg_scalar(item);
        if (id == NULL || id[0] == '\0') {
            h->cfg_error(st->self, item, "expected a model id (a non-empty string)");
            bad = 1;
            continue;
        }
        if ((st->cfg.models[k++] = strdup(id)) == NULL)
            return -1;
    }
    return bad ? -1 : 0;
}

static int32_t read_config(mock_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    if (cfg == NULL || h->cfg_type(cfg) != OC_CFG_MAP) {
        h->cfg_error(st->self, cfg, "expected a providers[] entry (a map)");
        return OC_ECONFIG;
    }
    int bad = 0;
    const char *reply = MOCK_DEFAULT_REPLY;
    int64_t latency = 0, interval = 0, chunks = 1, status = 500, fail_first = 0;
    /* Every getter reports its own problem; go on to report them all. */
    bad |= h->cfg_str(st->self, cfg, "reply", MOCK_DEFAULT_REPLY, &reply) == OC_ECONFIG;
    bad |= h->cfg_int(st->self, cfg, "latencyMs", 0, 0, MOCK_MAX_LATENCY_MS, &latency) ==
           OC_ECONFIG;
    bad |= h->cfg_int(st->self, cfg, "chunkIntervalMs", 0, 0, MOCK_MAX_LATENCY_MS, &interval) ==
           OC_ECONFIG;
    bad |= h->cfg_int(st->self, cfg, "streamChunks", 1, 1, MOCK_MAX_CHUNKS, &chunks) ==
           OC_ECONFIG;
    bad |= h->cfg_int(st->self, cfg, "failFirst", 0, 0, INT32_MAX, &fail_first) == OC_ECONFIG;
    bad |= h->cfg_int(st->self, cfg, "failStatus", 500, 400, 599, &status) == OC_ECONFIG;
    st->cfg.latency_ms = (uint32_t)latency;
    st->cfg.chunk_interval_ms = (uint32_t)interval;
    st->cfg.stream_chunks = (uint32_t)chunks;
    st->cfg.fail_first = (uint64_t)fail_first;
    st->cfg.fail_status = (uint32_t)status;
    char why[160];
    if (mock_template_parse(&st->cfg.reply, reply ? reply : MOCK_DEFAULT_REPLY, why,
                            sizeof why) != 0) {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "reply"), "%s", why);
        bad = 1;
    }
    if (read_models(st, cfg) != 0)
        bad = 1;
    return bad ? OC_ECONFIG : OC_OK;
}

static void free_config(mock_config_t *c)
{
    mock_template_free(&c->reply);
    free(c->model);
    for (size_t i = 0; c->models && c->models[i]; i++)
        free(c->models[i]);
    free(c->models);
    memset(c, 0, sizeof *c);
}

/* ---- lifecycle ---------------------------------------------------------- */

static int32_t init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg, void **state)
{
    if (host == NULL || state == NULL)
        return OC_EINVAL;
    mock_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    st->home = pthread_self();
    atomic_init(&st->calls, 0);
    atomic_init(&st->gate, 0);
    int32_t rc = read_config(st, cfg);
    if (rc != OC_OK) {
        free_config(&st->cfg);
        free(st);
        return rc;
    }
    *state = st;
    return OC_OK;
}

/* Stop drain, as in provider-openai: gate = (live calls << 1) | stopping;
 * whoever moves it to exactly 1 calls stop's done, and nobody touches st
 * after a move that did not. */

static void finish_stop(void *data)
{
    mock_state_t *st = data;
    oc_stop_done_cb done = st->stop_done;
    st->stop_done = NULL;
    if (done != NULL)
        done(st->stop_data); /* may destroy st */
}

int mock_call_begin(mock_state_t *st)
{
    if ((atomic_fetch_add(&st->gate, 2u) & 1u) == 0)
        return 0;
    mock_call_ended(st);
    return -1;
}

void mock_call_ended(mock_state_t *st)
{
    if (atomic_fetch_sub(&st->gate, 2u) - 2u != 1u)
        return;
    if (st->host->post(st->self, finish_stop, st) != OC_OK &&
        pthread_equal(pthread_self(), st->home))
        finish_stop(st);
}

static void stop(void *state, oc_stop_done_cb done, void *done_data)
{
    mock_state_t *st = state;
    if (atomic_load(&st->gate) & 1u) {
        if (done != NULL)
            done(done_data);
        return;
    }
    st->stop_done = done;
    st->stop_data = done_data;
    if (atomic_fetch_or(&st->gate, 1u) == 0)
        finish_stop(st);
}

static void destroy(void *state)
{
    mock_state_t *st = state;
    if (st == NULL)
        return;
    if ((atomic_load(&st->gate) >> 1) != 0) {
        st->host->log(st->self, OC_LOG_ERROR, "destroy with calls in flight; leaking them");
        return;
    }
    free_config(&st->cfg);
    free(st);
}

static const char *const *models(void *state)
{
    const mock_state_t *st = state;
    return (const char *const *)st->cfg.models;
}

static const oc_plugin_ops_t plugin_ops = {
    OC_PLUGIN_OPS_INIT,
    .init = init,
    .start = NULL,
    .reload = NULL, /* replace the instance: shared state stays immutable */
    .stop = stop,
    .destroy = destroy,
};

static const oc_provider_ops_t provider_ops = {
    OC_PROVIDER_OPS_INIT,
    .chat = mock_chat,
    .cancel = mock_cancel,
    .models = models,
};

OC_PLUGIN_DEFINE_FLAGS(OC_KIND_PROVIDER, MOCK_NAME, MOCK_VERSION,
                       "deterministic replies for tests, demos and --dev (never production)",
                       OC_PLUGIN_F_MULTI_LOOP, &plugin_ops, &provider_ops)
