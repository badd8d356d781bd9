#include "server/metrics_listener.h"

#include <errno.h>
#include <h2o.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/listen.h"
#include "util/buf.h"

typedef struct mconn_s {
    uv_tcp_t tcp;
    struct gw_metrics_listener_s *ml;
} mconn_t;

struct gw_metrics_listener_s {
    gw_metrics_t *metrics;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    uv_tcp_t listener;
    uv_timer_t drain;
    int nconns;
    int closing;
    uint64_t deadline;
    void (*done)(void *data);
    void *done_data;
};

typedef struct mhandler_s {
    h2o_handler_t super;
    struct gw_metrics_listener_s *ml;
} mhandler_t;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    mhandler_t *h = (mhandler_t *)self;
    if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/metrics"))) {
        req->res.status = 404;
        req->res.reason = "Not Found";
        h2o_send_inline(req, H2O_STRLIT("Not Found\n"));
        return 0;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        req->res.status = 405;
        req->res.reason = "Method Not Allowed";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        h2o_send_inline(req, H2O_STRLIT("Method Not Allowed\n"));
        return 0;
    }
    gw_buf_t b = GW_BUF_INIT;
    gw_metrics_render(h->ml->metrics, &b);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
    h2o_send_inline(req, b.data ? b.data : "", b.len);
    gw_buf_free(&b);
    return 0;
}

static void on_conn_closed(uv_handle_t *h)
{
    mconn_t *c = (mconn_t *)h;
    c->ml->nconns--;
    free(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
    struct gw_metrics_listener_s *ml = listener->data;
    if (status != 0)
        return;
    mconn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->ml = ml;
    uv_tcp_init(listener->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    ml->nconns++;
    uv_tcp_nodelay(&c->tcp, 1);
    h2o_accept(&ml->accept, h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed));
}

int gw_metrics_listener_open(gw_metrics_listener_t **out, gw_loop_t *loop, gw_metrics_t *metrics,
                             const char *host, int port, int *bound_port)
{
    *out = NULL;
    int fd = gw_listen_fd(host, port, 0, bound_port, NULL, 0);
    if (fd < 0)
        return fd;
    struct gw_metrics_listener_s *ml = calloc(1, sizeof(*ml));
    if (ml == NULL) {
        close(fd);
        return -ENOMEM;
    }
    ml->metrics = metrics;
    h2o_config_init(&ml->conf);
    ml->conf.server_name = h2o_iovec_init(H2O_STRLIT("openclaw"));
    ml->conf.max_request_entity_size = 4096;
    h2o_hostconf_t *hc = h2o_config_register_host(&ml->conf, h2o_iovec_init(H2O_STRLIT("default")),
                                                  65535);
    mhandler_t *h = (mhandler_t *)h2o_create_handler(h2o_config_register_path(hc, "/", 0),
                                                     sizeof(*h));
    h->super.on_req = on_req;
    h->ml = ml;
    h2o_context_init(&ml->ctx, loop->uv, &ml->conf);
    ml->accept.ctx = &ml->ctx;
    ml->accept.hosts = ml->conf.hosts;
    uv_timer_init(loop->uv, &ml->drain);
    ml->drain.data = ml;
    uv_tcp_init(loop->uv, &ml->listener);
    ml->listener.data = ml;
    int rc = uv_tcp_open(&ml->listener, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ml->listener, 128, on_accept);
    if (rc != 0) {
        gw_metrics_listener_close(ml, NULL, NULL);
        return rc;
    }
    *out = ml;
    return 0;
}

static void on_drain_closed(uv_handle_t *h)
{
    struct gw_metrics_listener_s *ml = h->data;
    void (*done)(void *) = ml->done;
    void *data = ml->done_data;
    free(ml);
    if (done)
        done(data);
}

static void on_drain(uv_timer_t *t)
{
    struct gw_metrics_listener_s *ml = t->data;
    if (ml->nconns > 0 && gw_now_ms() < ml->deadline)
        return;
    uv_timer_stop(&ml->drain);
    if (ml->nconns == 0) {
        /* h2o 2.2's shutdown request arms an HTTP/2 GOAWAY re-send timer
         * even with no connection; dispose asserts that no timer is armed. */
        if (h2o_timeout_is_linked(&ml->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&ml->ctx.http2._graceful_shutdown_timeout);
        h2o_context_dispose(&ml->ctx);
        h2o_config_dispose(&ml->conf);
        uv_close((uv_handle_t *)&ml->drain, on_drain_closed);
    } else {
        /* A scraper holds a connection open; leave it to process exit. */
        void (*done)(void *) = ml->done;
        ml->done = NULL;
        if (done)
            done(ml->done_data);
    }
}

void gw_metrics_listener_close(gw_metrics_listener_t *ml, void (*done)(void *data), void *data)
{
    if (ml == NULL) {
        if (done)
            done(data);
        return;
    }
    ml->done = done;
    ml->done_data = data;
    ml->closing = 1;
    uv_close((uv_handle_t *)&ml->listener, NULL);
    h2o_context_request_shutdown(&ml->ctx);
    ml->deadline = gw_now_ms() + 2000;
    uv_timer_start(&ml->drain, on_drain, 0, 20);
}
