/* server/stream.c - see stream.h. */
#include "server/stream.h"

#include <stddef.h>
#include <string.h>

#include "llm/sse.h"

/* Above this, a buffer is freed rather than kept for the next send: an
 * idle stream holds little memory (10k open streams). */
#define KEEP_BUF_MAX 4096

#define FROM_GEN(g) ((gw_stream_t *)((char *)(g) - offsetof(gw_stream_t, gen)))

static void shrink(gw_buf_t *b)
{
    if (b->cap > KEEP_BUF_MAX)
        gw_buf_free(b);
    else
        gw_buf_reset(b);
}

/* Sends what is queued (and FINAL when ending). The connection is free. */
static void flush(gw_stream_t *s)
{
    h2o_req_t *req = s->r->req;
    if (s->gone || req == NULL || s->ended || s->sending)
        return;
    if (s->queue.len == 0 && !s->ending)
        return;
    /* The queue becomes the in-flight buffer: no copy. */
    gw_buf_t t = s->inflight;
    s->inflight = s->queue;
    s->queue = t;
    shrink(&s->queue);
    h2o_iovec_t iov = h2o_iovec_init(s->inflight.data, s->inflight.len);
    h2o_send_state_t st = s->ending ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
    if (st == H2O_SEND_STATE_FINAL) {
        s->ended = 1;
        if (s->ka_open)
            uv_timer_stop(&s->ka);
    } else {
        s->sending = 1;
    }
    h2o_send(req, &iov, iov.len ? 1 : 0, st);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    gw_stream_t *s = FROM_GEN(g);
    (void)req;
    s->sending = 0;
    shrink(&s->inflight);
    flush(s);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    gw_stream_t *s = FROM_GEN(g);
    (void)req;
    s->gone = 1; /* the client went away: the owner learns it from the pool */
}

static void start(gw_stream_t *s)
{
    h2o_req_t *req = s->r->req;
    s->started = 1;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/event-stream; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    /* Proxies in front (nginx) must not buffer the stream either. */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0,
                          NULL, H2O_STRLIT("no"));
    gw_http_std_headers(s->r);
    s->gen.proceed = on_proceed;
    s->gen.stop = on_stop;
    h2o_start_response(req, &s->gen);
}

static void on_keepalive(uv_timer_t *t)
{
    gw_stream_t *s = t->data;
    gw_stream_write(s, GW_SSE_KEEPALIVE, sizeof(GW_SSE_KEEPALIVE) - 1);
}

void gw_stream_init(gw_stream_t *s, gw_http_req_t *r, uv_loop_t *loop, uint32_t keepalive_ms,
                    gw_stream_cb on_closed, void *data)
{
    memset(s, 0, sizeof(*s));
    s->r = r;
    s->keepalive_ms = keepalive_ms;
    s->on_closed = on_closed;
    s->data = data;
    if (uv_timer_init(loop, &s->ka) == 0) {
        s->ka.data = s;
        s->ka_open = 1;
        if (keepalive_ms)
            uv_timer_start(&s->ka, on_keepalive, keepalive_ms, 0);
    }
}

gw_buf_t *gw_stream_buf(gw_stream_t *s)
{
    if (s->gone || s->ended || s->ending || s->r->req == NULL)
        return NULL;
    if (!s->started)
        start(s);
    return &s->queue;
}

void gw_stream_commit(gw_stream_t *s)
{
    if (s->gone || s->ended || s->r->req == NULL)
        return;
    if (s->ka_open && s->keepalive_ms)
        uv_timer_start(&s->ka, on_keepalive, s->keepalive_ms, 0);
    flush(s);
}

void gw_stream_write(gw_stream_t *s, const char *p, size_t n)
{
    gw_buf_t *b = gw_stream_buf(s);
    if (b == NULL)
        return;
    if (gw_buf_append(b, p, n) != 0) {
        s->ending = 1; /* out of memory: end the stream rather than corrupt it */
        gw_buf_reset(b);
    }
    gw_stream_commit(s);
}

void gw_stream_end(gw_stream_t *s)
{
    if (s->gone || s->ended || s->r->req == NULL)
        return;
    if (!s->started)
        start(s);
    s->ending = 1;
    flush(s);
}

void gw_stream_detach(gw_stream_t *s)
{
    s->gone = 1;
    s->ended = 1;
    if (s->ka_open)
        uv_timer_stop(&s->ka);
}

static void on_ka_closed(uv_handle_t *h)
{
    gw_stream_t *s = h->data;
    gw_buf_free(&s->queue);
    gw_buf_free(&s->inflight);
    if (s->on_closed)
        s->on_closed(s->data);
}

void gw_stream_close(gw_stream_t *s)
{
    if (s->ka_open) {
        s->ka_open = 0;
        uv_timer_stop(&s->ka);
        uv_close((uv_handle_t *)&s->ka, on_ka_closed);
        return;
    }
    gw_buf_free(&s->queue);
    gw_buf_free(&s->inflight);
    if (s->on_closed)
        s->on_closed(s->data);
}
