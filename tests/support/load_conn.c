/* tests/support/load_conn.c - webhook-load's connections: keep-alive
 * HTTP/1.1, one request in flight per connection, reconnect with backoff
 * when the gateway is away (the kill test restarts it under load). */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "mini_http.h"

#define READ_RESERVE 16384
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 200

static void do_connect(conn_t *c);
static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void on_reconnect(uv_timer_t *t)
{
    do_connect(t->data);
}

static void on_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    c->state = C_DOWN;
    c->writing = 0;
    c->in.len = 0;
    if (!c->L->stopping)
        uv_timer_start(&c->timer, on_reconnect, c->backoff_ms, 0);
}

static void unidle(conn_t *c)
{
    load_t *L = c->L;
    for (uint32_t k = 0; k < L->nidle; k++) {
        if (L->idle[k] == c) {
            L->idle[k] = L->idle[--L->nidle];
            return;
        }
    }
}

/* Closes the socket; the message in flight (if any) failed with kind. The
 * reconnect waits c->backoff_ms. */
static void conn_fail(conn_t *c, int kind, int status)
{
    if (c->state == C_CLOSING || c->state == C_DOWN)
        return;
    if (c->state == C_IDLE)
        unidle(c);
    c->state = C_CLOSING;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    if (c->msg >= 0) {
        uint64_t m = (uint64_t)c->msg;
        c->msg = -1;
        load_failed(c->L, m, kind, status);
    }
}

static void become_idle(conn_t *c)
{
    c->state = C_IDLE;
    c->L->idle[c->L->nidle++] = c;
}

static void on_connect(uv_connect_t *req, int status)
{
    conn_t *c = req->data;
    if (status == UV_ECANCELED)
        return; /* closed meanwhile */
    if (status < 0) {
        c->L->connect_failures++;
        c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (c->backoff_ms > BACKOFF_MAX_MS)
            c->backoff_ms = BACKOFF_MAX_MS;
        conn_fail(c, LE_CONN, 0);
        return;
    }
    c->backoff_ms = 0;
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_fail(c, LE_CONN, 0);
        return;
    }
    become_idle(c);
    load_dispatch(c->L);
}

static void do_connect(conn_t *c)
{
    load_t *L = c->L;
    uv_tcp_init(L->loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    c->state = C_CONNECTING;
    int rc = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&L->addr, on_connect);
    if (rc != 0) {
        L->connect_failures++;
        c->backoff_ms = BACKOFF_MAX_MS;
        conn_fail(c, LE_CONN, 0);
    }
}

void load_conn_start(load_t *L, conn_t *c)
{
    c->L = L;
    c->msg = -1;
    uv_timer_init(L->loop, &c->timer);
    c->timer.data = c;
    do_connect(c);
}

void load_conn_close(conn_t *c)
{
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, NULL);
    if (c->state != C_DOWN && c->state != C_CLOSING) {
        c->state = C_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
}

/* ---- reading the answer ------------------------------------------------------ */

/* Bytes of a chunked body at p (up to the end of the last chunk), 0 while
 * incomplete, -1 when malformed. Only for robustness: the gateway frames
 * its answers with Content-Length. */
static long chunked_len(const char *p, size_t n)
{
    size_t off = 0;
    for (;;) {
        const char *eol = memchr(p + off, '\n', n - off);
        if (eol == NULL)
            return 0;
        char *end = NULL;
        unsigned long size = strtoul(p + off, &end, 16);
        if (end == p + off)
            return -1;
        off = (size_t)(eol - p) + 1;
        if (size == 0) { /* no trailers: the final CRLF */
            return n - off >= 2 ? (long)(off + 2) : 0;
        }
        if (n - off < size + 2)
            return 0;
        off += size + 2;
    }
}

static void on_timeout(uv_timer_t *t)
{
    conn_fail(t->data, LE_TIMEOUT, 0);
}

/* A complete answer to the message in flight. */
static void answered(conn_t *c, int status, int close)
{
    load_t *L = c->L;
    uint64_t m = (uint64_t)c->msg;
    c->msg = -1;
    c->in.len = 0;
    uv_timer_stop(&c->timer);
    if (close || c->writing) {
        /* An answer before the request was fully written: the connection
         * is in an unknown state, start afresh. */
        c->backoff_ms = 0;
        conn_fail(c, LE_CONN, 0);
    } else {
        become_idle(c);
    }
    if (status >= 200 && status <= 299)
        load_answered(L, m, status);
    else
        load_failed(L, m, LE_HTTP, status);
}

/* Looks for a whole answer in c->in; eof: the peer closed. */
static void parse_answer(conn_t *c, int eof)
{
    mh_head_t h;
    int rc = mh_parse_response(c->in.data, c->in.len, &h);
    if (rc < 0) {
        conn_fail(c, LE_CONN, 0);
        return;
    }
    if (rc == 0 || h.status < 200) {
        if (rc == 1 && h.status < 200 && c->in.len >= h.head_len) { /* 100 Continue */
            memmove(c->in.data, c->in.data + h.head_len, c->in.len - h.head_len);
            c->in.len -= h.head_len;
            parse_answer(c, eof);
            return;
        }
        if (eof)
            conn_fail(c, LE_CONN, 0);
        return;
    }
    size_t body = c->in.len - h.head_len;
    if (h.chunked) {
        long n = chunked_len(c->in.data + h.head_len, body);
        if (n < 0 || (n == 0 && eof))
            conn_fail(c, LE_CONN, 0);
        else if (n > 0)
            answered(c, h.status, h.close);
    } else if (h.content_length >= 0) {
        if (body >= (size_t)h.content_length)
            answered(c, h.status, h.close);
        else if (eof)
            conn_fail(c, LE_CONN, 0);
    } else if (eof) { /* delimited by the close */
        answered(c, h.status, 1);
    }
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = hd->data;
    (void)suggested;
    if (gw_buf_reserve(&c->in, READ_RESERVE) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    (void)buf;
    if (c->state != C_BUSY) { /* the server closed an idle connection, or spoke out of turn */
        if (n != 0) {
            c->backoff_ms = 0;
            conn_fail(c, LE_CONN, 0);
        }
        return;
    }
    if (n < 0) {
        parse_answer(c, 1);
        if (c->state == C_BUSY) /* nothing complete came before the close */
            conn_fail(c, LE_CONN, 0);
        return;
    }
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    parse_answer(c, 0);
}

/* ---- sending ------------------------------------------------------------------ */

static void on_written(uv_write_t *req, int status)
{
    conn_t *c = req->data;
    c->writing = 0;
    if (status < 0 && status != UV_ECANCELED)
        conn_fail(c, LE_CONN, 0);
}

/* The body of message i: session i % sessions, its sequence number in the
 * session in the text (the mock provider echoes it back). */
static int body_of(const load_t *L, uint64_t i, char *out, size_t len)
{
    unsigned long long k = i % L->sessions, seq = i / L->sessions;
    const char *sp = L->session_prefix;
    return snprintf(out, len,
                    "{\"id\":\"%s%llu\",\"from\":\"%ss%llu\",\"chat\":{\"type\":\"direct\","
                    "\"id\":\"%ss%llu\"},\"text\":\"msg %llu seq %llu of %ss%llu\"}",
                    L->prefix, (unsigned long long)i, sp, k, sp, k, (unsigned long long)i, seq,
                    sp, k);
}

void load_conn_send(conn_t *c, uint64_t i)
{
    static const char hex[] = "0123456789abcdef";
    load_t *L = c->L;
    char body[512], sig[65];
    int blen = body_of(L, i, body, sizeof body);
    uint8_t mac[32];
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, L->secret, strlen(L->secret), body, (size_t)blen, mac);
    for (int k = 0; k < 32; k++) {
        sig[2 * k] = hex[mac[k] >> 4];
        sig[2 * k + 1] = hex[mac[k] & 15];
    }
    sig[64] = '\0';
    gw_buf_reset(&c->req);
    gw_buf_printf(&c->req,
                  "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                  "X-OpenClaw-Signature: sha256=%s\r\nContent-Length: %d\r\n\r\n%s",
                  L->path, L->host, sig, blen, body);

    uint64_t now = load_now_ns();
    c->state = C_BUSY;
    c->msg = (int64_t)i;
    L->requests++;
    if (L->attempts[i]++ == 0) {
        L->sent_messages++;
        if (L->rate == 0)
            L->start_ns[i] = now; /* closed loop: from the first attempt */
    }
    if (L->first_send_ns == 0)
        L->first_send_ns = now;
    uv_timer_start(&c->timer, on_timeout, L->timeout_ms, 0);

    uv_buf_t b = uv_buf_init(c->req.data, (unsigned)c->req.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)c->req.len)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        conn_fail(c, LE_CONN, 0);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    b = uv_buf_init(c->req.data + done, (unsigned)(c->req.len - done));
    c->wreq.data = c;
    c->writing = 1;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        c->writing = 0;
        conn_fail(c, LE_CONN, 0);
    }
}
