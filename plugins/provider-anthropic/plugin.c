/* plugin.c - provider-anthropic: descriptor, lifecycle, the models op.
 *
 * One instance per providers[] entry of type anthropic. init reads the entry
 * (no I/O); there is nothing to start. Calls run on whichever loop calls
 * chat (OC_PLUGIN_F_MULTI_LOOP), so stop cannot cancel them (cancel is
 * loop-bound): it refuses new calls and lets the ones in flight finish,
 * each bounded by its timeout; the last one to end hands stop's done to the
 * home loop. reload is not offered: the host replaces the instance, which
 * keeps the shared state immutable while calls read it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ant.h"

/* Whether configured headers carry a credential (x-api-key, Authorization). */
static int has_credential_header(const ant_config_t *c)
{
    for (size_t i = 0; i < c->header_count; i++)
        if (strcasecmp(c->headers[i].name, "x-api-key") == 0 ||
            strcasecmp(c->headers[i].name, "authorization") == 0)
            return 1;
    return 0;
}

static int32_t init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg, void **state)
{
    if (host == NULL || state == NULL)
        return OC_EINVAL;
    ant_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    st->home = pthread_self();
    atomic_init(&st->gate, 0);
    int32_t rc = ant_config_read(st, cfg);
    if (rc != OC_OK) {
        ant_config_free(&st->cfg);
        free(st);
        return rc;
    }
    /* The base URL without its query: a query may carry a credential. */
    host->log(self, OC_LOG_DEBUG, "upstream %s, default model %s, anthropic-version %s, "
              "timeout %u ms, %s", st->cfg.base_url, st->cfg.model ? st->cfg.model : "(none)",
              st->cfg.api_version, st->cfg.timeout_ms,
              st->cfg.api_key ? "with an API key" : "without an API key");
    if (st->cfg.api_key == NULL && !has_credential_header(&st->cfg) &&
        strstr(st->cfg.base_url, "://api.anthropic.com") != NULL)
        host->log(self, OC_LOG_WARN, "no apiKey for api.anthropic.com: every call will be "
                                     "refused with HTTP 401");
    *state = st;
    return OC_OK;
}

/* ---- stop: drain ---------------------------------------------------------
 * gate = (live calls << 1) | stopping. stop sets the bit; every call adds 2
 * when it begins and takes 2 away when its memory is gone. Whoever moves
 * gate to exactly 1 (stopping, nothing live) calls stop's done: stop itself
 * when nothing is live, else the last call, which posts it to the home loop
 * (done may destroy st, and that call may be on a worker loop, inside a
 * callback). Nobody touches st after a move that did not reach 1, because
 * from then on another party may finish the stop. */

static void finish_stop(void *data)
{
    ant_state_t *st = data;
    oc_stop_done_cb done = st->stop_done;
    st->stop_done = NULL;
    if (done != NULL)
        done(st->stop_data); /* may destroy st: nothing after this */
}

int ant_call_begin(ant_state_t *st)
{
    if ((atomic_fetch_add(&st->gate, 2u) & 1u) == 0)
        return 0;
    ant_call_ended(st); /* stopping: undo, and finish the stop if we were last */
    return -1;
}

void ant_call_ended(ant_state_t *st)
{
    if (atomic_fetch_sub(&st->gate, 2u) - 2u != 1u)
        return;
    if (st->host->post(st->self, finish_stop, st) != OC_OK &&
        pthread_equal(pthread_self(), st->home))
        finish_stop(st); /* the loop no longer runs posts: last resort */
}

static void stop(void *state, oc_stop_done_cb done, void *done_data)
{
    ant_state_t *st = state;
    if (atomic_load(&st->gate) & 1u) { /* a second stop: the first one's done is pending */
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
    ant_state_t *st = state;
    if (st == NULL)
        return;
    unsigned live = atomic_load(&st->gate) >> 1;
    if (live != 0) {
        /* Only when the host broke the contract (destroy while calls run):
         * leak rather than free what their callbacks will touch. */
        st->host->log(st->self, OC_LOG_ERROR, "destroy with %u call(s) in flight", live);
        return;
    }
    ant_config_free(&st->cfg);
    free(st);
}

static const char *const *models(void *state)
{
    const ant_state_t *st = state;
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
    .chat = ant_chat,
    .cancel = ant_cancel,
    .models = models,
};

OC_PLUGIN_DEFINE_FLAGS(OC_KIND_PROVIDER, ANT_NAME, ANT_VERSION,
                       "Anthropic Messages API, translated to and from OpenAI chat",
                       OC_PLUGIN_F_MULTI_LOOP, &plugin_ops, &provider_ops)
