/* mock_upstream/conn.c - HTTP/1.1 keep-alive connections: reading,
 * framing pipelined requests, batching immediate answers into one write,
 * deferring one answer at a time (latency, stream, stall) while later
 * requests wait in order, and closing.
 *
 * Idle connections own no read buffer: reads land in the worker's shared
 * buffer and only a partial request is copied out, so 10,000 open streams
 * cost their conn_t and reply_t, not 64 KiB each. Worker thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* Reading stops while an answer is deferred and this much is queued. */
#define PAUSE_AT (MOCK_MAX_BODY + HR_MAX_HEAD + 65536)

typedef struct wreq_s {
    uv_write_t req;
    conn_t *c;
    char data[]; /* the bytes the socket did not take at once */
} wreq_t;

static void on_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->open_handles > 0)
        return;
    worker_t *w = c->w;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    gw_buf_free(&c->in);
    gw_buf_free(&c->delayed);
    free(c);
}

void conn_close(conn_t *c, int aborted)
{
    if (c->closing)
        return;
    c->closing = 1;
    worker_t *w = c->w;
    if (aborted && c->busy)
        STAT_ADD(w->stats.client_aborts, 1);
    if (c->stalled) {
        atomic_fetch_sub_explicit(&w->m->gauges.stalled, 1, memory_order_relaxed);
        c->stalled = 0;
    }
    if (c->stream != NULL) {
        reply_free(c->stream);
        c->stream = NULL;
        gauges_stream_close(&w->m->gauges);
    }
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_closed);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* Close once every queued byte is out (Connection: close, HTTP/1.0). */
static void close_when_flushed(conn_t *c)
{
    c->close_after = 1;
    if (c->pending_writes == 0)
        conn_close(c, 0);
}

static void on_written(uv_write_t *req, int status)
{
    wreq_t *wr = (wreq_t *)req;
    conn_t *c = wr->c;
    free(wr);
    c->pending_writes--;
    if (status != 0) {
        conn_close(c, 1); /* no-op when already closing (UV_ECANCELED) */
        return;
    }
    if (c->pending_writes == 0 && c->close_after && !c->busy)
        conn_close(c, 0);
}

void conn_send(conn_t *c, const uv_buf_t *bufs, unsigned n)
{
    if (c->closing)
        return;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, n); /* EAGAIN while writes queue */
    if (r >= 0 && (size_t)r == total)
        return;
    if (r < 0 && r != UV_EAGAIN) {
        conn_close(c, 1);
        return;
    }
    size_t done = r > 0 ? (size_t)r : 0;
    wreq_t *wr = malloc(sizeof *wr + total - done);
    if (wr == NULL) {
        conn_close(c, 0);
        return;
    }
    size_t at = 0, skip = done;
    for (unsigned i = 0; i < n; i++) {
        size_t len = bufs[i].len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(wr->data + at, bufs[i].base + skip, len - skip);
        at += len - skip;
        skip = 0;
    }
    wr->c = c;
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)at);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(wr);
        conn_close(c, 1);
        return;
    }
    c->pending_writes++;
}

static void flush_out(conn_t *c)
{
    worker_t *w = c->w;
    if (w->out.len == 0)
        return;
    uv_buf_t b = uv_buf_init(w->out.data, (unsigned)w->out.len);
    conn_send(c, &b, 1);
    gw_buf_reset(&w->out);
}

/* The body of the request whose head is h at p (avail bytes): 1 with
 * *body, *len and *used set; 0 when more bytes are needed; or an HTTP
 * status to answer before closing, with *why. */
static int frame_body(conn_t *c, const hr_req_t *h, const char *p, size_t avail,
                      const char **body, size_t *len, size_t *used, const char **why)
{
    if (!h->chunked) {
        if (h->content_length > (int64_t)MOCK_MAX_BODY) {
            *why = "the request body is over 8 MiB";
            return 413;
        }
        size_t n = h->content_length > 0 ? (size_t)h->content_length : 0;
        if (avail - h->head_len < n)
            return 0;
        *body = p + h->head_len;
        *len = n;
        *used = h->head_len + n;
        return 1;
    }
    int st = hr_chunked_scan(&c->chunk, p + h->head_len, avail - h->head_len, MOCK_MAX_BODY, why);
    if (st != 1)
        return st;
    gw_buf_t *b = &c->w->body;
    gw_buf_reset(b);
    if (gw_buf_reserve(b, c->chunk.body_len) != 0) {
        *why = "out of memory for the request body";
        return 413;
    }
    hr_chunked_decode(p + h->head_len, c->chunk.raw_len, b->data);
    b->len = c->chunk.body_len;
    *body = b->data;
    *len = b->len;
    *used = h->head_len + c->chunk.raw_len;
    memset(&c->chunk, 0, sizeof c->chunk);
    return 1;
}

/* Answers the complete requests at data (len bytes) in order, until one
 * is deferred; returns the bytes consumed. */
static size_t process(conn_t *c, const char *data, size_t len)
{
    worker_t *w = c->w;
    size_t off = 0;
    gw_buf_reset(&w->out);
    while (!c->busy && !c->closing && !c->close_after && off < len) {
        hr_req_t h;
        const char *why = NULL, *body = NULL, *p = data + off;
        size_t avail = len - off, body_len = 0, used = 0;
        int rc = hr_parse_head(p, avail, &h, &why);
        int have_head = rc == 1;
        if (have_head)
            rc = frame_body(c, &h, p, avail, &body, &body_len, &used, &why);
        if (rc == 0) {
            if (have_head && h.expect_continue && !c->continue_sent) {
                gw_buf_puts(&w->out, "HTTP/1.1 100 Continue\r\n\r\n");
                STAT_ADD(w->stats.bytes_out, 25);
                c->continue_sent = 1;
            }
            break;
        }
        if (rc != 1) {
            route_http_error(c, have_head ? &h : NULL, rc, why);
            off = len; /* the framing is lost: nothing after this can be trusted */
            break;
        }
        c->continue_sent = 0;
        if (h.close)
            c->close_after = 1;
        req_t r = {c, &h, body, body_len};
        route_request(&r);
        off += used;
    }
    flush_out(c);
    if (c->closing)
        return off;
    if (c->busy) {
        if (c->stream != NULL)
            stream_start(c);
    } else if (c->close_after) {
        close_when_flushed(c);
    }
    return off;
}

/* Processes what c->in holds and keeps the rest. */
static void process_in(conn_t *c)
{
    size_t used = process(c, c->in.data, c->in.len);
    if (c->closing || used == 0)
        return;
    memmove(c->in.data, c->in.data + used, c->in.len - used);
    c->in.len -= used;
    c->in.data[c->in.len] = '\0';
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    (void)suggested;
    if (c->in.len == 0 && !c->busy) {
        *buf = uv_buf_init(c->w->rbuf, MOCK_READ_BUF);
        return;
    }
    if (gw_buf_reserve(&c->in, MOCK_READ_BUF) != 0) {
        *buf = uv_buf_init(NULL, 0); /* on_read gets UV_ENOBUFS */
        return;
    }
    /* gw_buf keeps one byte for its NUL */
    *buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    if (n < 0) {
        /* EOF or reset: with an answer pending, the client gave up on it */
        if (n == UV_EOF && !c->busy)
            close_when_flushed(c);
        else
            conn_close(c, 1);
        return;
    }
    if (n == 0 || c->closing)
        return;
    if (buf->base == c->w->rbuf) {
        size_t used = process(c, buf->base, (size_t)n);
        if (!c->closing && used < (size_t)n &&
            gw_buf_append(&c->in, buf->base + used, (size_t)n - used) != 0)
            conn_close(c, 0);
        return;
    }
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    if (!c->busy)
        process_in(c);
    if (!c->closing && c->busy && c->in.len > PAUSE_AT && c->reading) {
        uv_read_stop(s); /* resumed by conn_resume */
        c->reading = 0;
    }
}

static void on_delayed(uv_timer_t *t)
{
    conn_t *c = t->data;
    uv_buf_t b = uv_buf_init(c->delayed.data, (unsigned)c->delayed.len);
    conn_send(c, &b, 1);
    if (c->closing)
        return;
    gw_buf_reset(&c->delayed);
    conn_resume(c);
}

void conn_defer(conn_t *c, gw_buf_t *ans, uint32_t delay_ms)
{
    gw_buf_free(&c->delayed);
    c->delayed = *ans;
    *ans = (gw_buf_t)GW_BUF_INIT;
    c->busy = 1;
    uv_timer_start(&c->timer, on_delayed, delay_ms, 0);
}

void conn_stream(conn_t *c, reply_t *st)
{
    c->stream = st;
    c->busy = 1;
    STAT_ADD(c->w->stats.streams, 1);
    gauges_stream_open(&c->w->m->gauges);
}

void conn_stall(conn_t *c)
{
    c->busy = 1;
    c->stalled = 1;
    atomic_fetch_add_explicit(&c->w->m->gauges.stalled, 1, memory_order_relaxed);
}

static void on_resume(uv_timer_t *t)
{
    process_in(t->data);
}

void conn_resume(conn_t *c)
{
    c->busy = 0;
    if (c->close_after) {
        close_when_flushed(c);
        return;
    }
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = 1;
    /* Pipelined requests: on the next loop turn, not from inside the
     * finished answer's callback (no recursion through back-to-back
     * zero-latency streams). */
    if (c->in.len > 0)
        uv_timer_start(&c->timer, on_resume, 0, 0);
}

void conn_accept(worker_t *w, uv_stream_t *listener)
{
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "oc-mock-upstream: out of memory accepting a connection\n");
        return;
    }
    c->w = w;
    uv_tcp_init(&w->loop, &c->tcp);
    uv_timer_init(&w->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c, 0);
        return;
    }
    c->reading = 1;
    uv_tcp_nodelay(&c->tcp, 1);
}
