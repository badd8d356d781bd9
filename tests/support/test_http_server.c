/* tests/support/test_http_server.c - see test_http_server.h.
 *
 * Everything below the public functions runs on the server's own loop
 * thread. Shared state (routes, recorded requests, counters, pending
 * releases, the stop flag) is under s->mu; the other threads reach the loop
 * only through s->wake (uv_async). */
#include "test_http_server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "util/buf.h"

typedef struct route_s {
    char *path;
    gw_ths_response_t r; /* headers/body point to owned copies */
} route_t;

typedef struct conn_s conn_t;

struct gw_ths_s {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;
    pthread_t thread;
    int port;

    pthread_mutex_t mu;
    route_t *routes;
    size_t nroutes;
    route_t *onces; /* gw_ths_route_once queue, oldest first */
    size_t nonces;
    gw_ths_request_t *reqs;
    size_t nreqs, reqs_cap;
    size_t nconns;
    unsigned releases;
    int stopping;

    conn_t *conns; /* loop thread only */
};

enum { C_READING, C_WAITING_DELAY, C_STREAMING, C_WAITING_GATE };

struct conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;
    gw_ths_t *s;
    conn_t *prev, *next;
    size_t index;
    gw_buf_t in;
    int state;
    int closing;
    int handles; /* open uv handles */
    gw_ths_response_t r; /* the response being sent; strings owned */
    int keep_alive;
    int chunk; /* next chunk to send */
};

/* ---- helpers ---------------------------------------------------------- */

static char *dupn(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static void response_copy(gw_ths_response_t *dst, const gw_ths_response_t *src)
{
    *dst = *src;
    const char *body = src->body ? src->body : "";
    size_t blen = src->body_len ? src->body_len : strlen(body);
    dst->body = dupn(body, blen);
    dst->body_len = blen;
    dst->headers = src->headers ? dupn(src->headers, strlen(src->headers)) : NULL;
    dst->pieces = NULL;
    dst->piece_lens = NULL;
    dst->npieces = 0;
    if (src->pieces == NULL || src->npieces == 0)
        return;
    /* Owned copies: the caller's arrays may be on its stack. */
    char **pcs = calloc(src->npieces, sizeof(*pcs));
    size_t *lens = calloc(src->npieces, sizeof(*lens));
    if (pcs == NULL || lens == NULL) {
        free(pcs);
        free(lens);
        return;
    }
    for (size_t i = 0; i < src->npieces; i++) {
        lens[i] = src->piece_lens ? src->piece_lens[i] : strlen(src->pieces[i]);
        pcs[i] = dupn(src->pieces[i], lens[i]);
    }
    dst->pieces = (const char *const *)pcs;
    dst->piece_lens = lens;
    dst->npieces = src->npieces;
}

static void response_free(gw_ths_response_t *r)
{
    free((char *)r->body);
    free((char *)r->headers);
    r->body = r->headers = NULL;
    for (size_t i = 0; r->pieces && i < r->npieces; i++)
        free((char *)r->pieces[i]);
    free((void *)r->pieces);
    free((void *)r->piece_lens);
    r->pieces = NULL;
    r->piece_lens = NULL;
    r->npieces = 0;
}

void gw_ths_request_free(gw_ths_request_t *r)
{
    free(r->method);
    free(r->path);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    free(r->header_names);
    free(r->header_values);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* ---- connections ------------------------------------------------------ */

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles > 0)
        return;
    gw_buf_free(&c->in);
    response_free(&c->r);
    free(c);
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    gw_ths_t *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

typedef struct wreq_s {
    uv_write_t w;
    conn_t *c;
    int close_after;
    char data[];
} wreq_t;

static void on_written(uv_write_t *w, int status)
{
    wreq_t *wr = (wreq_t *)w;
    if ((status < 0 || wr->close_after) && !wr->c->closing)
        conn_close(wr->c);
    free(wr);
}

static void conn_write(conn_t *c, const char *p, size_t n, int close_after)
{
    if (c->closing)
        return;
    wreq_t *wr = malloc(sizeof(*wr) + n);
    if (wr == NULL) {
        conn_close(c);
        return;
    }
    memcpy(wr->data, p, n);
    wr->c = c;
    wr->close_after = close_after;
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)n);
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(wr);
        conn_close(c);
    }
}

static void conn_parse(conn_t *c);

/* The response is complete: next request, or close. */
static void response_done(conn_t *c, int closing)
{
    response_free(&c->r);
    c->state = C_READING;
    if (!closing)
        conn_parse(c);
}

static void on_chunk_timer(uv_timer_t *t);

/* Sends chunk c->chunk (or the end) and arranges the next one. */
static void send_chunk(conn_t *c)
{
    gw_ths_t *s = c->s;
    int total = c->r.npieces > 0 ? (int)c->r.npieces : c->r.chunks;
    if (c->chunk >= total) {
        int close_after = !c->keep_alive;
        conn_write(c, "0\r\n\r\n", 5, close_after);
        response_done(c, close_after);
        return;
    }
    gw_buf_t b = GW_BUF_INIT;
    if (c->r.npieces > 0) {
        size_t pl = c->r.piece_lens[c->chunk];
        if (pl > 0) { /* a zero-size chunk would end the body */
            gw_buf_printf(&b, "%zx\r\n", pl);
            gw_buf_append(&b, c->r.pieces[c->chunk], pl);
            gw_buf_puts(&b, "\r\n");
        }
    } else {
        char tail[32];
        int tl = snprintf(tail, sizeof(tail), "%d\n", c->chunk);
        gw_buf_printf(&b, "%zx\r\n", c->r.body_len + (size_t)tl);
        gw_buf_append(&b, c->r.body, c->r.body_len);
        gw_buf_append(&b, tail, (size_t)tl);
        gw_buf_puts(&b, "\r\n");
    }
    if (b.len > 0)
        conn_write(c, b.data, b.len, 0);
    gw_buf_free(&b);
    c->chunk++;
    if (c->r.gated) {
        c->state = C_WAITING_GATE;
        /* A release may already be waiting. */
        pthread_mutex_lock(&s->mu);
        int go = s->releases > 0;
        if (go)
            s->releases--;
        pthread_mutex_unlock(&s->mu);
        if (go)
            send_chunk(c);
    } else {
        c->state = C_STREAMING;
        uv_timer_start(&c->timer, on_chunk_timer, c->r.chunk_interval_ms, 0);
    }
}

static void on_chunk_timer(uv_timer_t *t)
{
    send_chunk(t->data);
}

static void respond_now(conn_t *c)
{
    const gw_ths_response_t *r = &c->r;
    int status = r->status ? r->status : 200;
    gw_buf_t b = GW_BUF_INIT;
    gw_buf_printf(&b, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (r->headers)
        gw_buf_puts(&b, r->headers);
    if (!c->keep_alive)
        gw_buf_puts(&b, "Connection: close\r\n");
    if (r->chunks > 0 || r->npieces > 0) {
        if (r->npieces > 0)
            uv_tcp_nodelay(&c->tcp, 1); /* one segment per piece, no Nagle merging */
        gw_buf_puts(&b, "Transfer-Encoding: chunked\r\n\r\n");
        conn_write(c, b.data, b.len, 0);
        gw_buf_free(&b);
        c->chunk = 0;
        send_chunk(c);
        return;
    }
    gw_buf_printf(&b, "Content-Length: %zu\r\n\r\n", r->body_len);
    gw_buf_append(&b, r->body, r->body_len);
    int close_after = !c->keep_alive;
    conn_write(c, b.data, b.len, close_after);
    gw_buf_free(&b);
    response_done(c, close_after);
}

static void on_delay_timer(uv_timer_t *t)
{
    respond_now(t->data);
}

/* Index of the oldest one-shot response for path (exact, then without the
 * query), or -1. */
static long find_once(gw_ths_t *s, const char *path)
{
    for (size_t i = 0; i < s->nonces; i++)
        if (strcmp(s->onces[i].path, path) == 0)
            return (long)i;
    size_t plen = strcspn(path, "?");
    for (size_t i = 0; i < s->nonces; i++)
        if (strlen(s->onces[i].path) == plen && strncmp(s->onces[i].path, path, plen) == 0)
            return (long)i;
    return -1;
}

static const route_t *find_route(gw_ths_t *s, const char *path)
{
    for (size_t i = 0; i < s->nroutes; i++)
        if (strcmp(s->routes[i].path, path) == 0)
            return &s->routes[i];
    size_t plen = strcspn(path, "?");
    for (size_t i = 0; i < s->nroutes; i++)
        if (strlen(s->routes[i].path) == plen && strncmp(s->routes[i].path, path, plen) == 0)
            return &s->routes[i];
    return NULL;
}

/* Parses one request line + headers; returns bytes consumed, 0 when more
 * input is needed, -1 on garbage. */
static long parse_request(conn_t *c, gw_ths_request_t *req)
{
    const char *p = c->in.data;
    size_t n = c->in.len;
    const char *end = p ? memmem(p, n, "\r\n\r\n", 4) : NULL;
    if (end == NULL)
        return n > 65536 ? -1 : 0;
    size_t head_len = (size_t)(end - p) + 4;
    const char *line_end = memmem(p, head_len, "\r\n", 2);
    const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (sp1 == NULL || sp2 == NULL)
        return -1;
    memset(req, 0, sizeof(*req));
    req->method = dupn(p, (size_t)(sp1 - p));
    req->path = dupn(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    size_t content_length = 0;
    c->keep_alive = 1;
    const char *h = line_end + 2;
    while (h < end) {
        const char *he = memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
        const char *colon = memchr(h, ':', (size_t)(he - h));
        if (colon != NULL) {
            const char *v = colon + 1;
            while (v < he && (*v == ' ' || *v == '\t'))
                v++;
            req->header_names = realloc(req->header_names,
                                        (req->header_count + 1) * sizeof(char *));
            req->header_values = realloc(req->header_values,
                                         (req->header_count + 1) * sizeof(char *));
            req->header_names[req->header_count] = dupn(h, (size_t)(colon - h));
            req->header_values[req->header_count] = dupn(v, (size_t)(he - v));
            const char *name = req->header_names[req->header_count];
            const char *value = req->header_values[req->header_count];
            if (strcasecmp(name, "content-length") == 0)
                content_length = strtoul(value, NULL, 10);
            else if (strcasecmp(name, "connection") == 0 && strcasecmp(value, "close") == 0)
                c->keep_alive = 0;
            req->header_count++;
        }
        h = he + 2;
    }
    if (n < head_len + content_length) {
        gw_ths_request_free(req);
        return 0;
    }
    req->body = dupn(p + head_len, content_length);
    req->body_len = content_length;
    req->connection = c->index;
    return (long)(head_len + content_length);
}

static void conn_parse(conn_t *c)
{
    gw_ths_t *s = c->s;
    while (!c->closing && c->state == C_READING && c->in.len > 0) {
        gw_ths_request_t req;
        long used = parse_request(c, &req);
        if (used == 0)
            return;
        if (used < 0) {
            conn_close(c);
            return;
        }
        memmove(c->in.data, c->in.data + used, c->in.len - (size_t)used);
        c->in.len -= (size_t)used;

        pthread_mutex_lock(&s->mu);
        long once = find_once(s, req.path);
        if (once >= 0) {
            /* Hand the queued response over (its strings move to c->r). */
            c->r = s->onces[once].r;
            free(s->onces[once].path);
            memmove(&s->onces[once], &s->onces[once + 1],
                    (s->nonces - (size_t)once - 1) * sizeof(*s->onces));
            s->nonces--;
        } else {
            const route_t *rt = find_route(s, req.path);
            gw_ths_response_t def = {.status = 404, .body = "not found\n"};
            response_copy(&c->r, rt ? &rt->r : &def);
        }
        if (s->nreqs == s->reqs_cap) {
            s->reqs_cap = s->reqs_cap ? s->reqs_cap * 2 : 16;
            s->reqs = realloc(s->reqs, s->reqs_cap * sizeof(*s->reqs));
        }
        s->reqs[s->nreqs++] = req;
        pthread_mutex_unlock(&s->mu);

        if (c->r.close_after)
            c->keep_alive = 0;
        if (c->r.close_without_response) {
            conn_close(c);
            return;
        }
        if (c->r.delay_ms > 0) {
            c->state = C_WAITING_DELAY;
            uv_timer_start(&c->timer, on_delay_timer, c->r.delay_ms, 0);
            return;
        }
        c->state = C_STREAMING;
        respond_now(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    if (gw_buf_reserve(&c->in, 16384) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->in.len += (size_t)nread;
    c->in.data[c->in.len] = '\0';
    conn_parse(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    gw_ths_t *s = server->data;
    if (status < 0)
        return;
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->s = s;
    uv_tcp_init(&s->loop, &c->tcp);
    uv_timer_init(&s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
        uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
        return;
    }
    pthread_mutex_lock(&s->mu);
    c->index = s->nconns++;
    pthread_mutex_unlock(&s->mu);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- loop thread control ---------------------------------------------- */

static void on_wake(uv_async_t *a)
{
    gw_ths_t *s = a->data;
    pthread_mutex_lock(&s->mu);
    int stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
        while (s->conns)
            conn_close(s->conns);
        uv_close((uv_handle_t *)&s->listener, NULL);
        uv_close((uv_handle_t *)&s->wake, NULL);
        return;
    }
    /* Hand pending releases to gated streams, oldest connection first. */
    for (;;) {
        conn_t *waiting = NULL;
        for (conn_t *c = s->conns; c; c = c->next)
            if (c->state == C_WAITING_GATE)
                waiting = c; /* the list is newest first: keep the last */
        if (waiting == NULL)
            return;
        pthread_mutex_lock(&s->mu);
        int go = s->releases > 0;
        if (go)
            s->releases--;
        pthread_mutex_unlock(&s->mu);
        if (!go)
            return;
        send_chunk(waiting);
    }
}

static void *thread_main(void *arg)
{
    gw_ths_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

gw_ths_t *gw_ths_start(void)
{
    /* A client that gives up mid-response (a canceled call) makes the next
     * write hit a closed socket: EPIPE, handled in on_written, rather than
     * a SIGPIPE that kills the test process. */
    signal(SIGPIPE, SIG_IGN);
    gw_ths_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    if (uv_loop_init(&s->loop) != 0)
        goto fail_loop;
    uv_tcp_init(&s->loop, &s->listener);
    uv_async_init(&s->loop, &s->wake, on_wake);
    s->listener.data = s->wake.data = s;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&s->listener, 512, on_connection) != 0)
        goto fail;
    struct sockaddr_in bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.sin_port);
    if (pthread_create(&s->thread, NULL, thread_main, s) != 0)
        goto fail;
    return s;
fail:
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->wake, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
fail_loop:
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

int gw_ths_port(const gw_ths_t *s)
{
    return s->port;
}

void gw_ths_url(const gw_ths_t *s, const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "http://127.0.0.1:%d%s", s->port, path);
}

int gw_ths_route(gw_ths_t *s, const char *path, const gw_ths_response_t *r)
{
    pthread_mutex_lock(&s->mu);
    route_t *rt = NULL;
    for (size_t i = 0; i < s->nroutes; i++)
        if (strcmp(s->routes[i].path, path) == 0)
            rt = &s->routes[i];
    if (rt == NULL) {
        route_t *v = realloc(s->routes, (s->nroutes + 1) * sizeof(*v));
        if (v == NULL) {
            pthread_mutex_unlock(&s->mu);
            return -ENOMEM;
        }
        s->routes = v;
        rt = &s->routes[s->nroutes++];
        rt->path = dupn(path, strlen(path));
    } else {
        response_free(&rt->r);
    }
    response_copy(&rt->r, r);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int gw_ths_route_once(gw_ths_t *s, const char *path, const gw_ths_response_t *r)
{
    pthread_mutex_lock(&s->mu);
    route_t *v = realloc(s->onces, (s->nonces + 1) * sizeof(*v));
    if (v == NULL) {
        pthread_mutex_unlock(&s->mu);
        return -ENOMEM;
    }
    s->onces = v;
    route_t *rt = &s->onces[s->nonces++];
    rt->path = dupn(path, strlen(path));
    response_copy(&rt->r, r);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void gw_ths_release(gw_ths_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->releases++;
    pthread_mutex_unlock(&s->mu);
    uv_async_send(&s->wake);
}

size_t gw_ths_request_count(gw_ths_t *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->nreqs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t gw_ths_connection_count(gw_ths_t *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->nconns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int gw_ths_request(gw_ths_t *s, size_t i, gw_ths_request_t *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&s->mu);
    if (i >= s->nreqs) {
        pthread_mutex_unlock(&s->mu);
        return -ENOENT;
    }
    const gw_ths_request_t *r = &s->reqs[i];
    out->method = dupn(r->method, strlen(r->method));
    out->path = dupn(r->path, strlen(r->path));
    out->header_count = r->header_count;
    out->header_names = calloc(r->header_count + 1, sizeof(char *));
    out->header_values = calloc(r->header_count + 1, sizeof(char *));
    for (size_t k = 0; k < r->header_count; k++) {
        out->header_names[k] = dupn(r->header_names[k], strlen(r->header_names[k]));
        out->header_values[k] = dupn(r->header_values[k], strlen(r->header_values[k]));
    }
    out->body = dupn(r->body, r->body_len);
    out->body_len = r->body_len;
    out->connection = r->connection;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

const char *gw_ths_request_header(const gw_ths_request_t *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->header_names[i], name) == 0)
            return r->header_values[i];
    return NULL;
}

void gw_ths_stop(gw_ths_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    uv_async_send(&s->wake);
    pthread_join(s->thread, NULL);
    uv_loop_close(&s->loop);
    for (size_t i = 0; i < s->nroutes; i++) {
        free(s->routes[i].path);
        response_free(&s->routes[i].r);
    }
    free(s->routes);
    for (size_t i = 0; i < s->nonces; i++) {
        free(s->onces[i].path);
        response_free(&s->onces[i].r);
    }
    free(s->onces);
    for (size_t i = 0; i < s->nreqs; i++)
        gw_ths_request_free(&s->reqs[i]);
    free(s->reqs);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
