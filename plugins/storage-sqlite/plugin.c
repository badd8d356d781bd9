/* plugin.c - storage-sqlite: descriptor, configuration and lifecycle.
 *
 * init validates the `storage` section only (no I/O). start submits the
 * open (directories, file, pragmas, migrations) to the thread pool and
 * returns OC_OK at once: ops called meanwhile queue behind it. When the open
 * fails, health says why (OC_EUNAVAIL), the reason is logged as an error, and
 * every op fails with OC_EUNAVAIL. stop drains the queue, closes the
 * database off the loop and then calls done. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sq.h"

#define SQ_DEFAULT_PATH "~/.openclaw/data/sessions.db"
#define SQ_DEFAULT_BUSY_MS 5000
#define SQ_MAX_BUSY_MS 600000

uint64_t sq_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sq_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sq_set_health(sq_state_t *st, int32_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->health, sizeof st->health, fmt, ap);
    va_end(ap);
    st->health_status = status;
}

/* "~" and "~/..." expand with $HOME; anything else is used as given. */
static char *sq_expand_path(sq_state_t *st, oc_config_t *node, const char *path)
{
    const oc_host_api_t *h = st->host;
    if (path[0] != '~')
        return strdup(path);
    if (path[1] != '\0' && path[1] != '/') {
        h->cfg_error(st->self, node, "path: only a leading \"~/\" is expanded, not \"%s\"", path);
        return NULL;
    }
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
        h->cfg_error(st->self, node, "path: cannot expand \"~\": HOME is not set");
        return NULL;
    }
    char *out = NULL;
    if (asprintf(&out, "%s%s", home, path + 1) < 0)
        return NULL;
    return out;
}

static int32_t sq_config_read(sq_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *path = SQ_DEFAULT_PATH;
    const char *sync = "normal";
    int64_t busy = SQ_DEFAULT_BUSY_MS;
    oc_config_t *path_node = cfg;

    if (cfg != NULL && h->cfg_type(cfg) == OC_CFG_MAP) {
        if (h->cfg_str(st->self, cfg, "path", SQ_DEFAULT_PATH, &path) == OC_ECONFIG ||
            h->cfg_str(st->self, cfg, "synchronous", "normal", &sync) == OC_ECONFIG ||
            h->cfg_int(st->self, cfg, "busyTimeoutMs", SQ_DEFAULT_BUSY_MS, 0, SQ_MAX_BUSY_MS,
                       &busy) == OC_ECONFIG)
            return OC_ECONFIG;
        oc_config_t *n = h->cfg_child(st->self, cfg, "path");
        if (n != NULL)
            path_node = n;
    } else if (cfg != NULL && h->cfg_type(cfg) != OC_CFG_NULL) {
        h->cfg_error(st->self, cfg, "storage must be a map");
        return OC_ECONFIG;
    }

    if (path == NULL || path[0] == '\0') {
        h->cfg_error(st->self, path_node, "path must not be empty");
        return OC_ECONFIG;
    }
    if (strcasecmp(sync, "normal") == 0) {
        st->cfg.synchronous_full = 0;
    } else if (strcasecmp(sync, "full") == 0) {
        st->cfg.synchronous_full = 1;
    } else {
        h->cfg_error(st->self, cfg != NULL ? h->cfg_child(st->self, cfg, "synchronous") : NULL,
                     "synchronous must be \"normal\" or \"full\", not \"%s\"", sync);
        return OC_ECONFIG;
    }
    st->path = sq_expand_path(st, path_node, path);
    if (st->path == NULL)
        return OC_ECONFIG;
    st->cfg.path = st->path;
    st->cfg.busy_timeout_ms = (int)busy;
    return OC_OK;
}

static int32_t sq_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                       void **state)
{
    if (host == NULL || state == NULL)
        return OC_EINVAL;
    sq_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    st->phase = SQ_PHASE_NEW;
    sq_set_health(st, OC_EUNAVAIL, "not started");
    int32_t rc = sq_config_read(st, cfg);
    if (rc != OC_OK) {
        free(st->path);
        free(st);
        return rc;
    }
    *state = st;
    return OC_OK;
}

static int32_t sq_start(void *state)
{
    sq_state_t *st = state;
    if (st->phase != SQ_PHASE_NEW)
        return OC_EINVAL;
    sq_metrics_register(st);
    return sq_queue_open(st);
}

static void sq_stop(void *state, oc_stop_done_cb done, void *done_data)
{
    sq_state_t *st = state;
    if (st->stopping) { /* a second stop: nothing more to wait for here */
        if (done != NULL)
            done(done_data);
        return;
    }
    st->stopping = 1;
    st->stop_done = done;
    st->stop_data = done_data;
    /* Queued ops still run (they were accepted); new ones get OC_ECANCELED.
     * The pump closes the database once the queue is empty, then calls
     * done. It may do so right here, so `st` is not touched afterwards. */
    sq_queue_pump(st);
}

static void sq_destroy(void *state)
{
    sq_state_t *st = state;
    if (st == NULL)
        return;
    if (st->in_flight) {
        /* Only when the host broke the contract (destroy before stop's done):
         * a worker still uses this state, so leak it rather than crash. */
        st->host->log(st->self, OC_LOG_ERROR, "destroy while a database job is in flight");
        return;
    }
    sq_queue_drop(st);
    if (st->db != NULL) {
        /* stop was not called or its close was canceled: last resort, on
         * the loop (nothing else runs any more). */
        sq_db_close(st->db);
        st->db = NULL;
    }
    free(st->path);
    free(st);
}

/* Home loop, no I/O: the state the last job left. */
int32_t sq_storage_health(void *state, const char **text)
{
    sq_state_t *st = state;
    if (text != NULL)
        *text = st->health;
    return st->health_status;
}

static const oc_plugin_ops_t sq_plugin_ops = {
    OC_PLUGIN_OPS_INIT,
    .init = sq_init,
    .start = sq_start,
    .reload = NULL, /* storage.* changes restart the gateway (SPEC §9) */
    .stop = sq_stop,
    .destroy = sq_destroy,
};

OC_PLUGIN_DEFINE(OC_KIND_STORAGE, SQ_NAME, SQ_VERSION,
                 "embedded sqlite storage: sessions, transcripts, inbox/outbox, pairing "
                 "(WAL, group commit)",
                 &sq_plugin_ops, &sq_storage_ops)
