/* server/exchange.c - requests answered on another loop.
 *
 * Routes from the route table (channel webhooks, /hooks/agent) are handled on
 * the main loop, where the messaging core and the plugins live; the request
 * arrived on a worker loop. The worker copies the request into one block and
 * posts it to the main loop; the answer is copied and posted back.
 *
 * Lifetime: an exchange has two references, both dropped on the worker
 * thread: the request's pool (released when h2o disposes the request: the
 * client went away, or the answer was sent) and the pending answer (released
 * when the answer reaches the worker). So no atomics are needed, and an
 * answer for a request that is gone is dropped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "server/http.h"
#include "util/buf.h"

typedef struct exchange_s {
    oc_http_exchange_t super; /* first: the host API's view */
    gw_http_req_t r;          /* r.req is NULL once h2o disposed the request */
    gw_loop_t *worker;
    const gw_route_t *route;
    int refs;                 /* worker thread only */
    /* the request copy, for the handler on the main loop */
    oc_http_server_request_t in;
    oc_http_header_t *in_headers;
    char *in_block;
    /* the answer, for the worker */
    int status;
    char *content_type;
    oc_http_header_t *out_headers;
    size_t out_header_count;
    char *out_body;
    size_t out_len;
} exchange_t;

static void exchange_free(exchange_t *x)
{
    free(x->in_headers);
    free(x->in_block);
    for (size_t i = 0; i < x->out_header_count; i++) {
        free((char *)x->out_headers[i].name);
        free((char *)x->out_headers[i].value);
    }
    free(x->out_headers);
    free(x->content_type);
    free(x->out_body);
    free(x);
}

static void unref(exchange_t *x)
{
    if (--x->refs == 0)
        exchange_free(x);
}

/* The request pool's reference: h2o disposes the request. */
static void on_req_dispose(void *p)
{
    exchange_t *x = *(exchange_t **)p;
    x->r.req = NULL;
    unref(x);
}

/* Worker loop: the answer arrived. */
static void on_answer(void *data)
{
    exchange_t *x = data;
    h2o_req_t *req = x->r.req;
    if (req != NULL) {
        for (size_t i = 0; i < x->out_header_count; i++) {
            const oc_http_header_t *h = &x->out_headers[i];
            char *n = h2o_mem_alloc_pool(&req->pool, strlen(h->name) + 1);
            char *v = h2o_mem_alloc_pool(&req->pool, strlen(h->value) + 1);
            strcpy(n, h->name);
            strcpy(v, h->value);
            for (char *c = n; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            h2o_add_header_by_str(&req->pool, &req->res.headers, n, strlen(n), 1, NULL, v,
                                  strlen(v));
        }
        gw_http_send(&x->r, x->status, x->content_type, x->out_body ? x->out_body : "",
                     x->out_len);
    }
    unref(x);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Main loop (the host's http_respond). */
static void respond(oc_http_exchange_t *ex, int32_t status, const char *content_type,
                    const oc_http_header_t *headers, size_t header_count, const char *body,
                    size_t body_len)
{
    /* Exactly once (host.h): after this call the worker may free x. */
    exchange_t *x = (exchange_t *)ex;
    x->status = status >= 100 && status <= 599 ? status : 500;
    x->content_type = dup_or_null(content_type);
    x->out_len = body_len;
    if (body_len) {
        x->out_body = malloc(body_len);
        if (x->out_body)
            memcpy(x->out_body, body, body_len);
        else
            x->out_len = 0, x->status = 500;
    }
    if (header_count && headers) {
        x->out_headers = calloc(header_count, sizeof(*x->out_headers));
        for (size_t i = 0; x->out_headers && i < header_count; i++) {
            if (!headers[i].name || !headers[i].value)
                continue;
            x->out_headers[x->out_header_count].name = strdup(headers[i].name);
            x->out_headers[x->out_header_count].value = strdup(headers[i].value);
            x->out_header_count++;
        }
    }
    /* Free what only the main loop needed. */
    free(x->in_headers);
    free(x->in_block);
    x->in_headers = NULL;
    x->in_block = NULL;
    if (gw_loop_post(x->worker, on_answer, x) != 0) {
        /* The worker is gone (shutdown): nothing can touch the request. */
        gw_log(OC_LOG_DEBUG, "http", "answer dropped: worker loop closed");
    }
}

/* Main loop: run the handler. */
static void on_dispatch(void *data)
{
    exchange_t *x = data;
    x->route->cb(x->route->data, &x->super, &x->in);
}

int gw_exchange_dispatch(gw_http_req_t *r, const gw_route_t *route)
{
    h2o_req_t *req = r->req;
    gw_loop_t *worker = gw_loop_current();
    exchange_t *x = calloc(1, sizeof(*x));
    if (x == NULL || worker == NULL) {
        free(x);
        gw_http_error(r, 503, "unavailable", "out of memory");
        return -ENOMEM;
    }
    x->super.respond = respond;
    x->r = *r;
    x->worker = worker;
    x->route = route;

    /* One block: method, path, query, body, header names and values. */
    size_t need = req->method.len + 1 + req->path_normalized.len + 1 + req->path.len + 1 +
                  req->entity.len + 1 + strlen(r->peer) + 1;
    for (size_t i = 0; i < req->headers.size; i++)
        need += req->headers.entries[i].name->len + 1 + req->headers.entries[i].value.len + 1;
    x->in_block = malloc(need);
    x->in_headers = calloc(req->headers.size ? req->headers.size : 1, sizeof(*x->in_headers));
    if (x->in_block == NULL || x->in_headers == NULL) {
        exchange_free(x);
        gw_http_error(r, 503, "unavailable", "out of memory");
        return -ENOMEM;
    }
    char *p = x->in_block;
#define PUT(dst, base, len)                                                                    \
    do {                                                                                       \
        memcpy(p, (base), (len));                                                              \
        p[(len)] = '\0';                                                                       \
        (dst) = p;                                                                             \
        p += (len) + 1;                                                                        \
    } while (0)
    PUT(x->in.method, req->method.base, req->method.len);
    PUT(x->in.path, req->path_normalized.base, req->path_normalized.len);
    const char *q = memchr(req->path.base, '?', req->path.len);
    if (q) {
        size_t ql = req->path.len - (size_t)(q + 1 - req->path.base);
        PUT(x->in.query, q + 1, ql);
    }
    const char *body;
    PUT(body, req->entity.base ? req->entity.base : "", req->entity.base ? req->entity.len : 0);
    x->in.body = body;
    x->in.body_len = req->entity.base ? req->entity.len : 0;
    PUT(x->in.remote_addr, r->peer, strlen(r->peer));
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        PUT(x->in_headers[i].name, h->name->base, h->name->len);
        PUT(x->in_headers[i].value, h->value.base, h->value.len);
    }
#undef PUT
    x->in.struct_size = sizeof(x->in);
    x->in.remote_is_loopback = r->loopback;
    x->in.headers = x->in_headers;
    x->in.header_count = req->headers.size;

    exchange_t **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), on_req_dispose);
    *slot = x;
    x->refs = 2;
    if (gw_loop_post(r->srv->main, on_dispatch, x) != 0) {
        x->refs = 1; /* only the pool's reference remains */
        gw_http_error(r, 503, "unavailable", "the gateway is shutting down");
        return -ECANCELED;
    }
    return 0;
}
