/* server/server.c - worker loops and listeners for the main port. */
#include "server/server.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "server/http.h"
#include "server/listen.h"
#include "server/metrics_listener.h"
#include "util/buf.h"

h2o_handler_t *gw_http_register(h2o_pathconf_t *pathconf, gw_server_t *srv);
void gw_http_register_error_filter(h2o_hostconf_t *host);

/* How long in-flight requests get once the gateway stops accepting. */
#define GW_DRAIN_MS 5000

typedef struct conn_s {
    uv_tcp_t tcp;
    gw_worker_t *w;
} conn_t;

struct gw_worker_s {
    gw_server_t *srv;
    int id;
    int fd;
    pthread_t thread;
    uv_sem_t started;
    int start_error;
    uv_loop_t uv;
    gw_loop_t loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    uv_tcp_t listener;
    uv_timer_t drain;
    int nconns;
    uint64_t drain_deadline;
    int stopping;
    int disposed;
};

static void on_conn_closed(uv_handle_t *h)
{
    conn_t *c = (conn_t *)h;
    c->w->nconns--;
    free(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
    gw_worker_t *w = listener->data;
    if (status != 0)
        return;
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->w = w;
    uv_tcp_init(listener->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    w->nconns++;
    /* h2o's libuv binding leaves Nagle on; small responses would wait ~40 ms. */
    uv_tcp_nodelay(&c->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&w->accept, sock);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void worker_finish(gw_worker_t *w)
{
    if (w->disposed)
        return;
    w->disposed = 1;
    uv_timer_stop(&w->drain);
    uv_close((uv_handle_t *)&w->drain, NULL);
    if (w->nconns == 0) {
        /* h2o 2.2's shutdown request arms an HTTP/2 GOAWAY re-send timer
         * even with no connection; dispose asserts that no timer is armed. */
        if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
        h2o_context_dispose(&w->ctx);
        gw_loop_close(&w->loop);
    } else {
        /* Connections outlived the drain deadline: stop the loop and leave
         * their memory reachable; the process is exiting anyway. */
        gw_log(OC_LOG_WARN, "http", "worker %d: %d connection(s) still open at shutdown", w->id,
               w->nconns);
        uv_stop(&w->uv);
    }
}

static void on_drain_tick(uv_timer_t *t)
{
    gw_worker_t *w = t->data;
    if (w->nconns == 0 || gw_now_ms() >= w->drain_deadline)
        worker_finish(w);
}

static void worker_stop(void *data)
{
    gw_worker_t *w = data;
    if (w->stopping)
        return;
    w->stopping = 1;
    uv_close((uv_handle_t *)&w->listener, NULL);
    h2o_context_request_shutdown(&w->ctx);
    w->drain_deadline = gw_now_ms() + GW_DRAIN_MS;
    uv_timer_start(&w->drain, on_drain_tick, 0, 20);
}

static void on_worker_ended(void *data)
{
    gw_server_t *s = data;
    if (--s->workers_running > 0)
        return;
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i].thread, NULL);
    gw_metrics_listener_close(s->mlistener, s->stopped_cb, s->stopped_data);
    s->mlistener = NULL;
}

static void *worker_main(void *arg)
{
    gw_worker_t *w = arg;
    gw_server_t *s = w->srv;
    uv_loop_init(&w->uv);
    gw_loop_init(&w->loop, &w->uv, w->id);
    gw_loop_set_current(&w->loop);
    h2o_context_init(&w->ctx, &w->uv, s->h2o_cfg);
    w->accept.ctx = &w->ctx;
    w->accept.hosts = ((h2o_globalconf_t *)s->h2o_cfg)->hosts;
    w->accept.ssl_ctx = s->ssl_ctx;
    uv_timer_init(&w->uv, &w->drain);
    w->drain.data = w;
    uv_tcp_init(&w->uv, &w->listener);
    w->listener.data = w;
    int rc = uv_tcp_open(&w->listener, w->fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&w->listener, 1024, on_accept);
    w->start_error = rc;
    uv_sem_post(&w->started);
    if (rc != 0) {
        uv_close((uv_handle_t *)&w->listener, NULL);
        worker_finish(w);
    }
    uv_run(&w->uv, UV_RUN_DEFAULT);
    if (w->nconns == 0) {
        uv_walk(&w->uv, walk_close, NULL);
        uv_run(&w->uv, UV_RUN_DEFAULT);
        uv_loop_close(&w->uv);
    }
    gw_loop_set_current(NULL);
    gw_loop_post(s->main, on_worker_ended, s);
    return NULL;
}

/* ---- TLS ---- */

static int setup_tls(gw_server_t *s, const gw_config_t *c, gw_diag_t *d)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return -ENOMEM;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, c->tls_key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char err[256];
        ERR_error_string_n(ERR_get_error(), err, sizeof(err));
        gw_diag_add(d, NULL, 0, 0,
                    "server.tls: cannot use certPath %s / keyPath %s: %s (both must be PEM and "
                    "match)",
                    c->tls_cert_path, c->tls_key_path, err);
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    /* HTTP/2 only when TLS is on (h2 via ALPN); cleartext stays HTTP/1.1. */
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    s->ssl_ctx = ctx;
    return 0;
}

/* ---- start / stop ---- */

static void busy_message(gw_diag_t *d, const char *what, const char *host, int port)
{
    char holder[128];
    int pid;
    gw_port_holder(host, port, holder, sizeof(holder), &pid);
    if (holder[0] && strstr(holder, "(openclaw)"))
        gw_diag_add(d, NULL, 0, 0,
                    "another gateway instance is already listening on %s:%d (%s); stop it with "
                    "`openclaw gateway stop`, or start with --force",
                    host, port, holder);
    else if (holder[0])
        gw_diag_add(d, NULL, 0, 0,
                    "%s %s:%d is already in use by %s; stop it or choose another port", what,
                    host, port, holder);
    else
        gw_diag_add(d, NULL, 0, 0,
                    "another gateway instance is already listening on %s:%d (or another "
                    "program is); choose another port with --port",
                    host, port);
}

int gw_server_start(gw_server_t *s, const gw_config_t *c, gw_plugins_t *plugins,
                    gw_metrics_t *metrics, gw_llm_t *llm, gw_loop_t *main, gw_diag_t *d)
{
    memset(s, 0, sizeof(*s));
    s->cfg = c;
    s->llm = llm;
    s->plugins = plugins;
    plugins->routes_frozen = 1; /* workers read the route table without locks */
    s->metrics = metrics;
    s->main = main;
    s->started_ms = gw_wall_ms();
    s->started_mono = gw_now_ms();
    pthread_mutex_init(&s->snap_lock, NULL);
    atomic_init(&s->ready, 0);
    atomic_init(&s->draining, 0);
    atomic_init(&s->storage_down, 0);

    const char *route_lbl[] = {"route", "method", "code", NULL};
    const char *dur_lbl[] = {"route", NULL};
    const char *auth_lbl[] = {"reason", NULL};
    char err[256];
    s->m_requests = gw_metric_register(metrics, OC_METRIC_COUNTER, "openclaw_http_requests_total",
                                       "HTTP requests served, by route template, method and "
                                       "status code",
                                       route_lbl, NULL, 0, err, sizeof(err));
    s->m_duration = gw_metric_register(metrics, OC_METRIC_HISTOGRAM,
                                       "openclaw_http_request_duration_seconds",
                                       "Time from request to response, by route template",
                                       dur_lbl, NULL, 0, err, sizeof(err));
    s->m_auth_failures = gw_metric_register(metrics, OC_METRIC_COUNTER,
                                            "openclaw_auth_failures_total",
                                            "Requests refused by the auth chain, by reason",
                                            auth_lbl, NULL, 0, err, sizeof(err));

    /* A probe bind without SO_REUSEPORT: a running gateway (whose sockets
     * have SO_REUSEPORT) would otherwise silently share the port. */
    int port = 0;
    char numeric[64] = "";
    int probe = gw_listen_fd(c->host, c->port, 0, &port, numeric, sizeof(numeric));
    if (probe == -EADDRINUSE) {
        busy_message(d, "port", c->host, c->port);
        return -EADDRINUSE;
    }
    if (probe < 0) {
        gw_diag_add(d, NULL, 0, 0, "cannot listen on %s:%d: %s (check server.host and server.port)",
                    c->host, c->port, strerror(-probe));
        return probe;
    }
    close(probe);
    snprintf(s->host, sizeof(s->host), "%s", numeric);
    s->port = port;

    if (c->tls_cert_path && setup_tls(s, c, d) != 0)
        return -EINVAL;

    h2o_globalconf_t *hc = calloc(1, sizeof(*hc));
    h2o_config_init(hc);
    hc->server_name = h2o_iovec_init(H2O_STRLIT("openclaw"));
    hc->max_request_entity_size = c->max_body_bytes;
    hc->http1.req_timeout = c->header_timeout_ms;
    hc->http2.idle_timeout = c->idle_timeout_ms;
    hc->http2.graceful_shutdown_timeout = GW_DRAIN_MS;
    h2o_hostconf_t *host = h2o_config_register_host(hc, h2o_iovec_init(H2O_STRLIT("default")),
                                                    65535);
    gw_http_register(h2o_config_register_path(host, "/", 0), s);
    gw_http_register_error_filter(host);
    s->h2o_cfg = hc;

    if (c->metrics_port > 0) {
        int rc = gw_metrics_listener_open(&s->mlistener, main, metrics, c->host, c->metrics_port,
                                          &s->metrics_port);
        if (rc == -EADDRINUSE) {
            busy_message(d, "metrics port", c->host, c->metrics_port);
            return rc;
        }
        if (rc < 0) {
            gw_diag_add(d, NULL, 0, 0, "cannot listen on %s:%d for metrics: %s", c->host,
                        c->metrics_port, strerror(-rc));
            return rc;
        }
    }

    s->nworkers = c->workers > 0 ? c->workers : 1;
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    for (int i = 0; i < s->nworkers; i++) {
        gw_worker_t *w = &s->workers[i];
        int bound;
        w->srv = s;
        w->id = i + 1;
        w->fd = gw_listen_fd(c->host, s->port, 1, &bound, NULL, 0);
        if (w->fd < 0) {
            gw_diag_add(d, NULL, 0, 0, "cannot listen on %s:%d: %s", c->host, s->port,
                        strerror(-w->fd));
            s->nworkers = i;
            gw_server_stop(s, NULL, NULL);
            return w->fd;
        }
        uv_sem_init(&w->started, 0);
        pthread_create(&w->thread, NULL, worker_main, w);
        uv_sem_wait(&w->started);
        uv_sem_destroy(&w->started);
        s->workers_running++;
    }
    return 0;
}

void gw_server_set_ready(gw_server_t *s, int ready)
{
    atomic_store(&s->ready, ready);
}

void gw_server_publish_health(gw_server_t *s, char *json, int degraded, int storage_down)
{
    atomic_store(&s->storage_down, storage_down);
    pthread_mutex_lock(&s->snap_lock);
    free(s->detailed_json);
    s->detailed_json = json;
    s->degraded = degraded;
    pthread_mutex_unlock(&s->snap_lock);
}

void gw_server_stop(gw_server_t *s, void (*done)(void *data), void *data)
{
    atomic_store(&s->draining, 1);
    s->stopped_cb = done;
    s->stopped_data = data;
    if (s->workers_running == 0) {
        gw_metrics_listener_close(s->mlistener, done, data);
        s->mlistener = NULL;
        return;
    }
    for (int i = 0; i < s->nworkers; i++)
        gw_loop_post(&s->workers[i].loop, worker_stop, &s->workers[i]);
}

void gw_server_free(gw_server_t *s)
{
    int clean = 1;
    for (int i = 0; i < s->nworkers; i++)
        clean &= s->workers[i].nconns == 0;
    if (clean) {
        free(s->workers);
        if (s->h2o_cfg) {
            h2o_config_dispose(s->h2o_cfg);
            free(s->h2o_cfg);
        }
    }
    if (s->ssl_ctx)
        SSL_CTX_free(s->ssl_ctx);
    free(s->detailed_json);
    pthread_mutex_destroy(&s->snap_lock);
}
