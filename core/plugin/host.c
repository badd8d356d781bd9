/* plugin/host.c - the host API table: what a plugin can ask of the gateway.
 * Each function states its thread rule in sdk/include/openclaw/host.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "httpc/httpc.h"
#include "log/log.h"
#include "plugin/plugins.h"
#include "util/buf.h"

/* ---- core ---- */

static const char *host_strerror(int32_t code)
{
    switch (code) {
    case OC_OK: return "OC_OK: success";
    case OC_PENDING: return "OC_PENDING: the answer comes through the callback";
    case OC_DECLINED: return "OC_DECLINED: not handled by this plugin";
    case OC_EINVAL: return "OC_EINVAL: invalid argument";
    case OC_ENOMEM: return "OC_ENOMEM: out of memory";
    case OC_ENOTSUP: return "OC_ENOTSUP: operation not supported";
    case OC_EAGAIN: return "OC_EAGAIN: try again later";
    case OC_EBUSY: return "OC_EBUSY: resource busy";
    case OC_ETIMEDOUT: return "OC_ETIMEDOUT: timed out";
    case OC_ECANCELED: return "OC_ECANCELED: canceled";
    case OC_ENOENT: return "OC_ENOENT: not found";
    case OC_EIO: return "OC_EIO: I/O error";
    case OC_EPROTO: return "OC_EPROTO: protocol error";
    case OC_ECONFIG: return "OC_ECONFIG: configuration error";
    case OC_EABI: return "OC_EABI: ABI mismatch";
    case OC_EINTERNAL: return "OC_EINTERNAL: internal error";
    case OC_EACCES: return "OC_EACCES: access denied";
    case OC_ELIMIT: return "OC_ELIMIT: rate limited";
    case OC_EEXIST: return "OC_EEXIST: already exists";
    case OC_EUNAVAIL: return "OC_EUNAVAIL: unavailable";
    default: return "unknown status code";
    }
}

static void *host_alloc(size_t n) { return malloc(n); }
static void *host_calloc(size_t n, size_t s) { return calloc(n, s); }
static void *host_realloc(void *p, size_t n) { return realloc(p, n); }
static void host_free(void *p) { free(p); }

/* ---- logging ---- */

static void host_log(oc_plugin_t *self, int32_t level, const char *fmt, ...)
{
    if (!gw_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    gw_logv(level, self ? self->name : "plugin", fmt, ap);
    va_end(ap);
}

static int32_t host_log_enabled(oc_plugin_t *self, int32_t level)
{
    (void)self;
    return gw_log_enabled(level);
}

/* ---- configuration ---- */

static int32_t cfg_status(oc_plugin_t *self, int rc)
{
    if (rc == 0)
        return OC_OK;
    if (rc == -ENOENT)
        return OC_ENOENT;
    self->cfg_failed = 1;
    return OC_ECONFIG;
}

static oc_config_t *host_cfg_root(oc_plugin_t *self)
{
    return self->cfg;
}

static oc_config_t *host_cfg_child(oc_plugin_t *self, oc_config_t *map, const char *key)
{
    (void)self;
    return map ? gw_cfg_child(map, key) : NULL;
}

static int32_t host_cfg_type(const oc_config_t *node)
{
    return node ? node->type : OC_CFG_NULL;
}

static int32_t host_cfg_str(oc_plugin_t *self, oc_config_t *map, const char *key, const char *def,
                            const char **out)
{
    if (map == NULL) {
        *out = def;
        return OC_ENOENT;
    }
    return cfg_status(self, gw_cfg_get_str(map, key, def, out, self->diag));
}

static int32_t host_cfg_int(oc_plugin_t *self, oc_config_t *map, const char *key, int64_t def,
                            int64_t min, int64_t max, int64_t *out)
{
    if (map == NULL) {
        *out = def;
        return OC_ENOENT;
    }
    return cfg_status(self, gw_cfg_get_int(map, key, def, min, max, out, self->diag));
}

static int32_t host_cfg_bool(oc_plugin_t *self, oc_config_t *map, const char *key, int32_t def,
                             int32_t *out)
{
    if (map == NULL) {
        *out = def;
        return OC_ENOENT;
    }
    int v = def;
    int32_t rc = cfg_status(self, gw_cfg_get_bool(map, key, def, &v, self->diag));
    *out = v;
    return rc;
}

static size_t host_cfg_len(const oc_config_t *node)
{
    return node ? gw_cfg_len(node) : 0;
}

static oc_config_t *host_cfg_at(oc_plugin_t *self, oc_config_t *node, size_t i)
{
    (void)self;
    return node ? gw_cfg_at(node, i) : NULL;
}

static const char *host_cfg_key_at(const oc_config_t *map, size_t i)
{
    return map ? gw_cfg_key_at(map, i) : NULL;
}

static const char *host_cfg_scalar(const oc_config_t *node)
{
    return node && node->type == OC_CFG_SCALAR ? node->scalar : NULL;
}

static void host_cfg_error(oc_plugin_t *self, const oc_config_t *node, const char *fmt, ...)
{
    gw_buf_t msg = GW_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    gw_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (node == NULL)
        node = self->cfg;
    self->cfg_failed = 1;
    if (self->diag == NULL) {
        gw_log(OC_LOG_ERROR, self->name, "config: %s", msg.data);
    } else if (node == NULL) {
        gw_diag_add(self->diag, NULL, 0, 0, "%s: %s", self->name, msg.data);
    } else if (node->origin) {
        gw_diag_add(self->diag, node->origin, 0, 0, "%s: %s", node->path, msg.data);
    } else {
        gw_diag_add(self->diag, node->file, node->line, node->col, "%s: %s", node->path,
                    msg.data);
    }
    gw_buf_free(&msg);
}

/* ---- event loop ---- */

struct oc_timer_s {
    uv_timer_t handle;
    oc_timer_cb cb;
    void *data;
    int repeating;
    int closing;
};

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void timer_close(oc_timer_t *t)
{
    if (t->closing)
        return;
    t->closing = 1;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, on_timer_closed);
}

static void on_timer(uv_timer_t *h)
{
    oc_timer_t *t = h->data;
    t->cb(t->data);
    if (!t->repeating)
        timer_close(t); /* a no-op when the callback stopped it itself */
}

static uint64_t host_now_ms(void)
{
    return gw_now_ms();
}

static oc_timer_t *host_timer_start(oc_plugin_t *self, uint64_t timeout_ms, uint64_t repeat_ms,
                                    oc_timer_cb cb, void *data)
{
    gw_loop_t *l = gw_loop_current();
    if (l == NULL || cb == NULL) {
        gw_log(OC_LOG_ERROR, self ? self->name : "plugin",
               "timer_start called off a gateway loop thread or without a callback");
        return NULL;
    }
    oc_timer_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->cb = cb;
    t->data = data;
    t->repeating = repeat_ms != 0;
    uv_timer_init(l->uv, &t->handle);
    t->handle.data = t;
    uv_timer_start(&t->handle, on_timer, timeout_ms, repeat_ms);
    return t;
}

static void host_timer_stop(oc_timer_t *t)
{
    if (t)
        timer_close(t);
}

static int32_t host_post(oc_plugin_t *self, oc_post_cb cb, void *data)
{
    int rc = gw_loop_post(self->set->home, cb, data);
    return rc == 0 ? OC_OK : rc == -ECANCELED ? OC_ECANCELED : OC_ENOMEM;
}

typedef struct work_s {
    uv_work_t req;
    oc_work_cb work;
    oc_work_done_cb done;
    void *data;
} work_t;

static void on_work(uv_work_t *req)
{
    work_t *w = req->data;
    w->work(w->data);
}

static void on_work_done(uv_work_t *req, int status)
{
    work_t *w = req->data;
    if (w->done)
        w->done(w->data, status == UV_ECANCELED ? OC_ECANCELED : OC_OK);
    free(w);
}

static int32_t host_work_submit(oc_plugin_t *self, oc_work_cb work, oc_work_done_cb done,
                                void *data)
{
    gw_loop_t *l = gw_loop_current();
    if (l == NULL || work == NULL)
        return OC_EINVAL;
    work_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return OC_ENOMEM;
    w->work = work;
    w->done = done;
    w->data = data;
    w->req.data = w;
    if (uv_queue_work(l->uv, &w->req, on_work, on_work_done) != 0) {
        free(w);
        return OC_EIO;
    }
    return OC_OK;
}

/* ---- HTTP client ---- */

static oc_http_call_t *host_http_request(oc_plugin_t *self, const oc_http_request_t *req,
                                         const oc_http_callbacks_t *cbs, void *data)
{
    gw_loop_t *l = gw_loop_current();
    gw_httpc_t *c = l ? gw_loop_httpc(l) : NULL;
    if (c == NULL) {
        gw_log(OC_LOG_ERROR, self->name, "http_request: not on a gateway loop thread");
        return NULL;
    }
    char err[256] = "";
    oc_http_call_t *call = gw_httpc_request(c, req, cbs, data, err, sizeof(err));
    if (call == NULL)
        gw_log(OC_LOG_ERROR, self->name, "http_request refused: %s", err);
    return call;
}

static void host_http_cancel(oc_http_call_t *call)
{
    if (call)
        gw_httpc_cancel(call);
}

/* ---- metrics ---- */

static oc_metric_t *host_metric_new(oc_plugin_t *self, int32_t type, const char *name,
                                    const char *help, const char *const *label_names,
                                    const double *buckets, size_t bucket_count)
{
    int ok = name && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
    for (const char *c = name; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
    if (!ok) {
        gw_log(OC_LOG_ERROR, self->name,
               "metric name \"%s\" refused: use [a-z_][a-z0-9_]* (the gateway adds openclaw_)",
               name ? name : "(null)");
        return NULL;
    }
    gw_buf_t full = GW_BUF_INIT;
    gw_buf_printf(&full, "openclaw_%s", name);
    char err[256] = "";
    gw_metric_t *m = gw_metric_register(self->set->metrics, type, full.data, help, label_names,
                                        buckets, bucket_count, err, sizeof(err));
    if (m == NULL)
        gw_log(OC_LOG_ERROR, self->name, "metric %s refused: %s", full.data, err);
    gw_buf_free(&full);
    return m;
}

static void host_metric_add(oc_metric_t *m, const char *const *lv, double v)
{
    if (m)
        gw_metric_add(m, lv, v);
}

static void host_metric_set(oc_metric_t *m, const char *const *lv, double v)
{
    if (m)
        gw_metric_set(m, lv, v);
}

static void host_metric_observe(oc_metric_t *m, const char *const *lv, double v)
{
    if (m)
        gw_metric_observe(m, lv, v);
}

/* ---- storage ---- */

static const oc_storage_t *host_storage(oc_plugin_t *self)
{
    gw_plugins_t *ps = self->set;
    if (ps->storage_inst == NULL || ps->storage_inst == self || !ps->storage_inst->started)
        return NULL;
    return &ps->storage;
}

/* ---- inbound HTTP and messages (1.1) ---- */

static int32_t host_http_route(oc_plugin_t *self, const char *path, oc_http_handler_cb cb,
                               void *data)
{
    if (self == NULL || self->mod->desc.kind != OC_KIND_CHANNEL) {
        gw_log(OC_LOG_ERROR, self ? self->name : "plugin",
               "http_route: only channel plugins register routes");
        return OC_EINVAL;
    }
    /* A channel's routes live under /channels/<its name>/. */
    const char *cn = self->mod->desc.name + strlen("channel-");
    size_t cl = strlen(cn);
    if (path == NULL || strncmp(path, "/channels/", 10) != 0 ||
        strncmp(path + 10, cn, cl) != 0 || path[10 + cl] != '/' || path[11 + cl] == '\0') {
        gw_log(OC_LOG_ERROR, self->name,
               "http_route: path \"%s\" must start with /channels/%s/ and name a route",
               path ? path : "(null)", cn);
        return OC_EINVAL;
    }
    int rc = gw_plugins_add_route(self->set, self, path, 0, cb, data);
    if (rc == 0)
        return OC_OK;
    gw_log(OC_LOG_ERROR, self->name, "http_route %s: %s", path,
           rc == -EEXIST  ? "already registered"
           : rc == -EBUSY ? "routes are registered during init only"
                          : strerror(-rc));
    return rc == -ENOMEM ? OC_ENOMEM : OC_EINVAL;
}

static void host_http_respond(oc_http_exchange_t *ex, int32_t status, const char *content_type,
                              const oc_http_header_t *headers, size_t header_count,
                              const char *body, size_t body_len)
{
    if (ex)
        ex->respond(ex, status, content_type, headers, header_count, body, body_len);
}

static int32_t host_inbound_submit(oc_plugin_t *self, const oc_envelope_t *env,
                                   oc_inbound_cb cb, void *data)
{
    if (self == NULL || env == NULL || cb == NULL)
        return OC_EINVAL;
    gw_plugins_t *ps = self->set;
    if (ps->inbound == NULL)
        return OC_ENOTSUP;
    return ps->inbound(ps->inbound_ctx, self, env, cb, data);
}

const oc_host_api_t gw_host_api = {
    .struct_size = sizeof(oc_host_api_t),
    .abi_major = OC_ABI_MAJOR,
    .abi_minor = OC_ABI_MINOR,
    .host_version = OPENCLAW_VERSION,
    .strerror = host_strerror,
    .alloc = host_alloc,
    .calloc = host_calloc,
    .realloc = host_realloc,
    .free = host_free,
    .log = host_log,
    .log_enabled = host_log_enabled,
    .cfg_root = host_cfg_root,
    .cfg_child = host_cfg_child,
    .cfg_type = host_cfg_type,
    .cfg_str = host_cfg_str,
    .cfg_int = host_cfg_int,
    .cfg_bool = host_cfg_bool,
    .cfg_len = host_cfg_len,
    .cfg_at = host_cfg_at,
    .cfg_key_at = host_cfg_key_at,
    .cfg_scalar = host_cfg_scalar,
    .cfg_error = host_cfg_error,
    .now_ms = host_now_ms,
    .timer_start = host_timer_start,
    .timer_stop = host_timer_stop,
    .post = host_post,
    .work_submit = host_work_submit,
    .http_request = host_http_request,
    .http_cancel = host_http_cancel,
    .metric_new = host_metric_new,
    .metric_add = host_metric_add,
    .metric_set = host_metric_set,
    .metric_observe = host_metric_observe,
    .storage = host_storage,
    .http_route = host_http_route,
    .http_respond = host_http_respond,
    .inbound_submit = host_inbound_submit,
    .lease_watch = gw_host_lease_watch,
    .lease_unwatch = gw_host_lease_unwatch,
    .io_start = gw_host_io_start,
    .io_update = gw_host_io_update,
    .io_stop = gw_host_io_stop,
};
