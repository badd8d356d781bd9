/* tests/support/llm_load/conn.c - oc-llm-load: one request at a time on a
 * keep-alive connection, and what its answer says: status, whole body,
 * and for a stream each SSE event as it arrives (TTFT, gaps between
 * chunks, and how many content events each TCP read carried). */
#include <stdlib.h>
#include <string.h>

#include "llm_load.h"
#include "mini_http.h"

#define READ_SIZE 8192
#define MAX_RESP (16u << 20) /* a non-streaming body beyond this is not a chat answer */

/* Takes c off the idle list (it is going down). */
static void unidle(ll_conn_t *c)
{
    ll_t *L = c->L;
    if (!c->idle)
        return;
    c->idle = 0;
    for (uint32_t k = 0; k < L->nidle; k++) {
        if (L->idle[k] == c) {
            L->idle[k] = L->idle[--L->nidle];
            return;
        }
    }
}

/* Ends the request in flight: kind < 0 is a success. The connection goes
 * back to idle unless drop (then it reconnects at once). */
static void finish(ll_conn_t *c, int kind, int status, int drop)
{
    ll_t *L = c->L;
    ll_stats_t *st = ll_stats_of(L, c->measured);
    uint64_t now = lc_now_ns();
    if (c->open) {
        c->open = 0;
        L->open_streams--;
    }
    if (c->streaming) {
        c->streaming = 0;
        L->streaming--;
    }
    c->busy = 0;
    L->busy--;
    if (st->first_done_ns == 0)
        st->first_done_ns = now;
    st->last_done_ns = now;
    if (kind < 0) {
        st->ok++;
        ll_dist_add(&st->latency, now > c->start_ns ? (now - c->start_ns) / 1000 : 0);
        if (L->stream)
            ll_dist_add(&st->chunks, c->chunks);
    } else {
        st->errors[kind]++;
        if (kind == LK_HTTP)
            st->status[status > 0 && status < 600 ? status : 0]++;
    }
    uv_timer_stop(&c->net.timer);
    c->net.in.len = 0;
    /* An answer before libuv reported the request written: the next send
     * cannot go out on this connection yet; start afresh (rare: only when
     * the request did not fit the socket at once). */
    if (drop || c->close || c->net.writing) {
        c->net.backoff_ms = 0;
        ln_conn_drop(&c->net);
    }
    ll_request_done(L, c);
}

/* ---- the stream ----------------------------------------------------------------- */

/* A stream's first content: it is streaming. Held streams: once all are,
 * that moment is reported (a head alone may come from a proxy before the
 * upstream answered: it does not count). */
static void first_content(ll_conn_t *c, uint64_t now)
{
    ll_t *L = c->L;
    c->streaming = 1;
    if (++L->streaming > L->peak_streaming)
        L->peak_streaming = L->streaming;
    if (L->mode == LM_HOLD && L->streaming == L->nconns && L->all_open_ns == 0) {
        L->all_open_ns = now;
        if (L->progress)
            fprintf(stderr, "oc-llm-load: all %u streams are streaming\n", L->nconns);
    }
}

static void on_event(void *arg, int kind)
{
    ll_conn_t *c = arg;
    ll_stats_t *st = ll_stats_of(c->L, c->measured);
    st->events++;
    if (kind != LL_EV_CONTENT) {
        if (kind == LL_EV_ERROR)
            c->sse_bad = 1;
        else if (kind == LL_EV_DONE)
            c->sse_done = 1;
        return;
    }
    uint64_t now = lc_now_ns();
    st->content_events++;
    c->read_content++;
    if (c->chunks++ == 0) {
        ll_dist_add(&st->ttft, now > c->start_ns ? (now - c->start_ns) / 1000 : 0);
        first_content(c, now);
    } else
        ll_dist_add(&st->gap, (now - c->last_chunk_ns) / 1000);
    c->last_chunk_ns = now;
}

static void on_payload(void *arg, const char *p, size_t n)
{
    ll_conn_t *c = arg;
    if (c->L->stream && c->status >= 200 && c->status <= 299) {
        if (!c->sse_bad && ll_sse_feed(&c->sse, p, n, on_event, c) != 0)
            c->sse_bad = 1;
        return;
    }
    if (c->resp.len + n <= MAX_RESP)
        gw_buf_append(&c->resp, p, n); /* on ENOMEM the check below fails: a bad body */
}

/* The whole body has come: judge the answer. */
static void complete(ll_conn_t *c, int drop)
{
    if (c->status < 200 || c->status > 299) {
        finish(c, LK_HTTP, c->status, drop);
    } else if (c->L->stream) {
        finish(c, c->sse_done && !c->sse_bad ? -1 : LK_STREAM, 0, drop);
    } else {
        int ok = c->resp.len > 0 && memmem(c->resp.data, c->resp.len, "\"choices\"", 9);
        finish(c, ok ? -1 : LK_BODY, 0, drop);
    }
}

/* ---- reading --------------------------------------------------------------------- */

/* The head at the start of net.in: 1 taken (and consumed), 0 more bytes
 * needed, -1 malformed. */
static int take_head(ll_conn_t *c)
{
    gw_buf_t *in = &c->net.in;
    for (;;) {
        mh_head_t h;
        int rc = mh_parse_response(in->data, in->len, &h);
        if (rc <= 0)
            return rc;
        memmove(in->data, in->data + h.head_len, in->len - h.head_len);
        in->len -= h.head_len;
        if (h.status >= 100 && h.status < 200)
            continue; /* 100 Continue and the like: the answer follows */
        c->have_head = 1;
        c->status = h.status;
        c->close = h.close;
        if (h.status == 204 || h.status == 304) {
            ll_body_init(&c->body, LB_LENGTH, 0); /* never a body */
        } else if (h.chunked) {
            ll_body_init(&c->body, LB_CHUNKED, 0);
        } else if (h.content_length >= 0) {
            ll_body_init(&c->body, LB_LENGTH, (uint64_t)h.content_length);
        } else {
            ll_body_init(&c->body, LB_CLOSE, 0);
            c->close = 1;
        }
        if (c->L->stream && h.status >= 200 && h.status <= 299) {
            ll_t *L = c->L;
            c->open = 1;
            if (++L->open_streams > L->peak_open)
                L->peak_open = L->open_streams;
        }
        return 1;
    }
}

/* What a read brought (n > 0), or the close (n < 0). */
static void on_data(ln_conn_t *n, ssize_t nread)
{
    ll_conn_t *c = n->data;
    gw_buf_t *in = &n->in;
    if (!c->busy) { /* the server closed an idle connection, or spoke out of turn */
        unidle(c); /* no request may be given to it until it is up again */
        n->backoff_ms = 0;
        ln_conn_drop(n);
        return;
    }
    int eof = nread < 0;
    if (!c->have_head) {
        int rc = take_head(c);
        if (rc < 0) {
            finish(c, LK_PROTO, 0, 1);
            return;
        }
        if (rc == 0) {
            if (eof)
                finish(c, LK_CONN, 0, 1);
            return;
        }
    }
    c->read_content = 0;
    long used = ll_body_feed(&c->body, in->data, in->len, on_payload, c);
    ll_stats_t *st = ll_stats_of(c->L, c->measured);
    if (c->read_content > 0) {
        st->content_reads++;
        if (c->read_content > 1)
            st->coalesced_reads++;
    }
    if (used < 0) {
        finish(c, LK_PROTO, 0, 1);
        return;
    }
    /* Bytes beyond the body: nothing was asked for them (no pipelining). */
    int extra = (size_t)used < in->len;
    in->len = 0;
    if (c->body.done)
        complete(c, extra);
    else if (eof && c->body.mode == LB_CLOSE)
        complete(c, 1);
    else if (eof)
        finish(c, LK_CONN, 0, 1);
}

static void on_up(ln_conn_t *n)
{
    ll_conn_t *c = n->data;
    if (!c->settled) {
        c->settled = 1;
        ll_conn_settled(c->L, c);
    }
    ll_conn_ready(c->L, c);
}

static void on_lost(ln_conn_t *n, int err, int connecting)
{
    ll_conn_t *c = n->data;
    c->L->last_conn_err = err;
    if (connecting) {
        c->L->connect_failures++;
        if (!c->settled) {
            c->settled = 1;
            ll_conn_settled(c->L, c);
        }
    }
    unidle(c);
    if (c->busy)
        finish(c, LK_CONN, 0, 1);
}

static void on_timeout(uv_timer_t *t)
{
    ll_conn_t *c = ((ln_conn_t *)t->data)->data;
    finish(c, LK_TIMEOUT, 0, 1);
}

static const ln_ops_t OPS = {.up = on_up, .data = on_data, .lost = on_lost};

void ll_conn_init(ll_t *L, ll_conn_t *c)
{
    c->L = L;
    ll_sse_init(&c->sse);
    ln_conn_init(&c->net, L->loop, (const struct sockaddr *)&L->url.addr, &OPS, c);
    c->net.read_size = READ_SIZE;
}

void ll_conn_send(ll_conn_t *c, uint64_t start_ns, int measured)
{
    ll_t *L = c->L;
    ll_stats_t *st = ll_stats_of(L, measured);
    c->busy = 1;
    c->measured = measured;
    c->start_ns = start_ns;
    c->have_head = c->status = c->close = c->open = c->streaming = 0;
    c->chunks = 0;
    c->sse_bad = c->sse_done = 0;
    ll_sse_reset(&c->sse);
    gw_buf_reset(&c->resp);
    st->sent++;
    if (++L->busy > L->peak_busy)
        L->peak_busy = L->busy;
    if (L->busy + L->queued > L->peak_inflight)
        L->peak_inflight = L->busy + L->queued;
    /* The timeout counts from the intended send time, like the latency: a
     * request that waited in the queue has less time left. */
    uint64_t now = lc_now_ns(), deadline = start_ns + (uint64_t)L->timeout_ms * 1000000u;
    uv_timer_start(&c->net.timer, on_timeout,
                   deadline > now ? (deadline - now + 999999) / 1000000 : 1, 0);
    ln_conn_write(&c->net, L->request, L->request_len);
}

void ll_conn_close(ll_conn_t *c)
{
    ln_conn_close(&c->net);
}

void ll_conn_free(ll_conn_t *c)
{
    ll_sse_free(&c->sse);
    gw_buf_free(&c->resp);
    ln_conn_free(&c->net);
}
