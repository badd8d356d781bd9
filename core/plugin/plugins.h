/* plugin/plugins.h - the gateway's plugin set: modules from plugins.load,
 * their instances (one per config section they own), lifecycle, the auth
 * chain and the active storage.
 *
 * Who owns which config section (sdk/ABI.md, "Configuration"):
 *   auth plugins        the `auth` map (every loaded auth plugin gets it)
 *   storage-<type>      the `storage` map, when storage.type is <type>
 *   provider-<type>     each providers[] entry whose type is <type>
 *                       (one instance per entry)
 *   channel-<name>      channels.<name>
 * Keys no plugin read are reported as unknown, naming the plugin to load
 * when one is known to use them.
 *
 * Threads: everything runs on the home loop except gw_plugins_authenticate,
 * which is thread-safe (the set is immutable while the gateway runs). */
#ifndef GW_PLUGIN_PLUGINS_H
#define GW_PLUGIN_PLUGINS_H

#include <openclaw/plugin.h>

#include "config/config.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "plugin/module.h"
#include "util/diag.h"

/* The server's side of an oc_http_exchange_t: http_respond dispatches
 * through it, so the plugin layer does not depend on the server. */
struct oc_http_exchange_s {
    void (*respond)(oc_http_exchange_t *ex, int32_t status, const char *content_type,
                    const oc_http_header_t *headers, size_t header_count, const char *body,
                    size_t body_len);
};

/* A route registered with http_route (plugins) or by the core. Immutable once
 * the gateway serves; read by worker threads. */
typedef struct gw_route_s {
    char *path;             /* owned; a prefix when it ends in '/' */
    oc_plugin_t *plugin;    /* the owner, or NULL for core routes */
    int auth;               /* 1: the gateway's auth gate applies */
    const char *label;      /* metric label (bounded): the path for exact routes */
    oc_http_handler_cb cb;  /* runs on the home loop */
    void *data;
} gw_route_t;

/* Where inbound_submit goes: installed by the gateway once messaging exists
 * (NULL: the host answers OC_ENOTSUP, e.g. in `validate` and the test host). */
typedef int32_t (*gw_inbound_fn)(void *ctx, oc_plugin_t *from, const oc_envelope_t *env,
                                 oc_inbound_cb cb, void *data);

/* One plugin instance: the host side of oc_plugin_t. */
struct oc_plugin_s {
    gw_module_t *mod;              /* borrowed from the set */
    struct gw_plugins_s *set;      /* the owning set */
    char *name;                    /* owned: plugin name, or "provider-x:<entry name>" */
    gw_cfg_node_t *cfg;            /* borrowed from the config tree; may be NULL */
    void *state;                   /* what init returned */
    gw_diag_t *diag;               /* where config errors go during init/reload */
    int cfg_failed;                /* a getter or cfg_error reported a problem */
    int inited, started, stopped;
};

typedef struct gw_plugins_s {
    gw_module_t **mods;
    size_t nmods;
    oc_plugin_t **insts;
    size_t ninsts;
    gw_loop_t *home;        /* borrowed: the main loop */
    gw_metrics_t *metrics;  /* borrowed */
    oc_plugin_t *storage_inst;
    oc_storage_t storage;   /* valid when storage_inst != NULL */
    oc_plugin_t **auth;     /* the auth chain, in plugins.load order */
    size_t nauth;
    /* stop bookkeeping */
    size_t stop_pending;
    void (*stop_done)(void *data);
    void *stop_data;
    oc_timer_t *stop_timer;
    int in_stop_call;       /* inside a plugin's stop: its done must not recurse */
    int storage_optional; /* the SDK test host runs without storage */
    /* inbound HTTP routes (plugins' and the core's) */
    gw_route_t *routes;
    size_t nroutes;
    int routes_frozen;      /* set when the server starts: no more registrations */
    gw_inbound_fn inbound;
    void *inbound_ctx;
} gw_plugins_t;

/* The host table handed to every plugin. */
extern const oc_host_api_t gw_host_api;

void gw_plugins_init(gw_plugins_t *ps, gw_loop_t *home, gw_metrics_t *metrics);
/* Default plugin folders next to the executable: <exe>/../lib/openclaw/plugins
 * (installed) and <exe>/../plugins (build tree). Returns how many were
 * written to dirs (owned strings, free each). */
size_t gw_plugins_default_dirs(char **dirs, size_t max);
/* Open every module of c->plugin_load with every check. 0 or OC_E*; every
 * problem goes to d (loading goes on after a failure, to report them all). */
int gw_plugins_open(gw_plugins_t *ps, const gw_config_t *c, gw_diag_t *d);
/* Create the instances and call init on each; then report unowned or
 * unknown plugin-section keys. 0 or OC_ECONFIG (details in d). */
int gw_plugins_create(gw_plugins_t *ps, const gw_config_t *c, gw_diag_t *d);
/* The test host's path: instantiate and init one more module (already in
 * ps->mods) from the config. */
int gw_plugins_create_one(gw_plugins_t *ps, const gw_config_t *c, gw_module_t *m, gw_diag_t *d);
/* Call start on each instance (storage first). 0 or the first error (d). */
int gw_plugins_start(gw_plugins_t *ps, gw_diag_t *d);
/* Stop every started instance (reverse order); done(data) once all called
 * their done callbacks, or after deadline_ms, whichever comes first. */
void gw_plugins_stop(gw_plugins_t *ps, uint64_t deadline_ms, void (*done)(void *data), void *data);
/* Destroy every instance, close every module, free. */
void gw_plugins_free(gw_plugins_t *ps);

/* Non-zero when some auth plugin has a credential configured. */
int gw_plugins_has_auth(const gw_plugins_t *ps);
/* The auth chain. Thread-safe. Returns OC_OK (allowed), OC_EACCES (401),
 * OC_ELIMIT (429, res->retry_after_s set) or OC_DECLINED when no plugin
 * took a position (no auth plugins, or no credentials offered). */
int gw_plugins_authenticate(const gw_plugins_t *ps, const oc_auth_request_t *req,
                            oc_auth_result_t *res);

/* Registers a route (home loop, before the server starts). path must start
 * with '/'. 0, or -EEXIST (taken), -EBUSY (frozen), -EINVAL, -ENOMEM. */
int gw_plugins_add_route(gw_plugins_t *ps, oc_plugin_t *owner, const char *path, int auth,
                         oc_http_handler_cb cb, void *data);
/* The route for a request path (exact match first, then the longest prefix),
 * or NULL. Thread-safe once frozen. */
const gw_route_t *gw_plugins_find_route(const gw_plugins_t *ps, const char *path, size_t len);
/* The provider instance of providers[] entry `name`, or NULL. */
oc_plugin_t *gw_plugins_provider(const gw_plugins_t *ps, const char *name);
/* The started channel instance whose channel name is `name`, or NULL. */
oc_plugin_t *gw_plugins_channel(const gw_plugins_t *ps, const char *name);
/* The active storage when it is started, else NULL. */
const oc_storage_t *gw_plugins_storage(const gw_plugins_t *ps);

/* The host's lease_watch / lease_unwatch (plugin/lease_watch.c; home loop). */
int32_t gw_host_lease_watch(oc_plugin_t *self, const char *name, uint32_t ttl_ms,
                            oc_lease_watch_cb cb, void *data, oc_lease_watch_t **out);
void gw_host_lease_unwatch(oc_lease_watch_t *w);

/* The host's io_start / io_update / io_stop (plugin/host_io.c; loop only). */
oc_io_t *gw_host_io_start(oc_plugin_t *self, int fd, uint32_t events, oc_io_cb cb, void *data);
int32_t gw_host_io_update(oc_io_t *io, uint32_t events);
void gw_host_io_stop(oc_io_t *io);

/* Prints the set as a table or JSON (openclaw plugins list). */
void gw_plugins_print(const gw_plugins_t *ps, int json, FILE *out);

#endif
