/* server/server.h - the HTTP surface: N worker loops (server.workers), each
 * with its own h2o context and an SO_REUSEPORT listener on the main port, and
 * the Prometheus listener on the main loop.
 *
 * Threads: gw_server_* functions run on the main loop thread. Request
 * handlers run on worker threads and read only immutable server fields,
 * atomics, and the snapshot behind snap_lock. */
#ifndef GW_SERVER_SERVER_H
#define GW_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "llm/llm.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "plugin/plugins.h"
#include "util/diag.h"

typedef struct gw_worker_s gw_worker_t;
typedef struct gw_metrics_listener_s gw_metrics_listener_t;

typedef struct gw_server_s {
    const gw_config_t *cfg;  /* borrowed */
    gw_plugins_t *plugins;   /* borrowed; its auth chain is thread-safe */
    gw_metrics_t *metrics;   /* borrowed */
    gw_loop_t *main;         /* borrowed */
    gw_llm_t *llm;           /* borrowed: catalog, cooldown, provider metrics (thread-safe) */
    void *h2o_cfg;           /* h2o_globalconf_t, shared read-only by the workers */
    void *ssl_ctx;           /* SSL_CTX when server.tls is set */
    int nworkers;
    gw_worker_t *workers;
    gw_metrics_listener_t *mlistener;
    char host[64];           /* the address bound, numeric */
    int port;                /* the port bound (resolved when 0 was asked) */
    int metrics_port;
    uint64_t started_ms;     /* wall clock */
    uint64_t started_mono;
    atomic_int ready;        /* plugins started, listeners open */
    atomic_int draining;
    atomic_int storage_down; /* set by the health snapshot */
    pthread_mutex_t snap_lock;
    char *detailed_json;     /* /health/detailed body, guarded by snap_lock */
    int degraded;            /* guarded by snap_lock */
    /* metric series used on every request */
    gw_metric_t *m_requests, *m_duration, *m_auth_failures;
    /* shutdown */
    int workers_running;
    void (*stopped_cb)(void *data);
    void *stopped_data;
} gw_server_t;

/* Binds the main and metrics ports (so a busy port fails here, before
 * anything starts) and starts the workers. llm serves /v1/models and the
 * LLM API (borrowed; it outlives the server). 0, or -EADDRINUSE / another
 * negative errno with a message in d. */
int gw_server_start(gw_server_t *s, const gw_config_t *cfg, gw_plugins_t *plugins,
                    gw_metrics_t *metrics, gw_llm_t *llm, gw_loop_t *main, gw_diag_t *d);
/* Marks the gateway ready (/readyz 200). */
void gw_server_set_ready(gw_server_t *s, int ready);
/* Publishes the /health/detailed body ("degraded" when degraded != 0). Takes
 * ownership of json. Thread-safe. */
void gw_server_publish_health(gw_server_t *s, char *json, int degraded, int storage_down);
/* Stops accepting, lets in-flight requests finish (bounded), stops the
 * workers; done(data) on the main loop when every worker thread has ended. */
void gw_server_stop(gw_server_t *s, void (*done)(void *data), void *data);
/* After stop's done: frees everything. */
void gw_server_free(gw_server_t *s);

/* Finds which process listens on host:port; writes "pid 123 (nginx)" or ""
 * into out. Used for "port in use" messages. */
void gw_port_holder(const char *host, int port, char *out, size_t outlen, int *pid);

#endif
