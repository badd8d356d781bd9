/* tests/support/load_conn.c - webhook-load's HTTP/1.1 exchanges on
 * keep-alive connections (load_net.c): one request in flight per
 * connection; a lost connection reconnects with backoff, as when the
 * gateway is away (the kill test restarts it under load). */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "mini_http.h"

static void become_idle(conn_t *c)
{
    c->idle = 1;
    c->L->idle[c->L->nidle++] = c;
}

static void unidle(conn_t *c)
{
    load_t *L = c->L;
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

/* The connection is gone or going: the message in flight (if any) failed
 * with kind. */
static void gone(conn_t *c, int kind, int status)
{
    unidle(c);
    if (c->msg >= 0) {
        uint64_t m = (uint64_t)c->msg;
        c->msg = -1;
        load_failed(c->L, m, kind, status);
    }
}

/* Closes the socket and fails the message in flight; reconnects after
 * net.backoff_ms. */
static void conn_fail(conn_t *c, int kind, int status)
{
    ln_conn_drop(&c->net);
    gone(c, kind, status);
}

static void on_up(ln_conn_t *n)
{
    conn_t *c = n->data;
    become_idle(c);
    load_dispatch(c->L);
}

static void on_lost(ln_conn_t *n, int err, int connecting)
{
    conn_t *c = n->data;
    (void)err;
    if (connecting)
        c->L->connect_failures++;
    gone(c, LE_CONN, 0);
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
    conn_t *c = ((ln_conn_t *)t->data)->data;
    conn_fail(c, LE_TIMEOUT, 0);
}

/* A complete answer to the message in flight. */
static void answered(conn_t *c, int status, int close)
{
    load_t *L = c->L;
    uint64_t m = (uint64_t)c->msg;
    c->msg = -1;
    c->net.in.len = 0;
    uv_timer_stop(&c->net.timer);
    if (close || c->net.writing) {
        /* An answer before the request was fully written: the connection
         * is in an unknown state, start afresh. */
        c->net.backoff_ms = 0;
        ln_conn_drop(&c->net);
    } else {
        become_idle(c);
    }
    if (status >= 200 && status <= 299)
        load_answered(L, m, status);
    else
        load_failed(L, m, LE_HTTP, status);
}

/* Looks for a whole answer in net.in; eof: the peer closed. */
static void parse_answer(conn_t *c, int eof)
{
    gw_buf_t *in = &c->net.in;
    mh_head_t h;
    int rc = mh_parse_response(in->data, in->len, &h);
    if (rc < 0) {
        conn_fail(c, LE_CONN, 0);
        return;
    }
    if (rc == 0 || h.status < 200) {
        if (rc == 1 && h.status < 200 && in->len >= h.head_len) { /* 100 Continue */
            memmove(in->data, in->data + h.head_len, in->len - h.head_len);
            in->len -= h.head_len;
            parse_answer(c, eof);
            return;
        }
        if (eof)
            conn_fail(c, LE_CONN, 0);
        return;
    }
    size_t body = in->len - h.head_len;
    if (h.chunked) {
        long n = chunked_len(in->data + h.head_len, body);
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

static void on_data(ln_conn_t *n, ssize_t nread)
{
    conn_t *c = n->data;
    if (c->msg < 0) { /* the server closed an idle connection, or spoke out of turn */
        n->backoff_ms = 0;
        conn_fail(c, LE_CONN, 0);
        return;
    }
    parse_answer(c, nread < 0);
    if (nread < 0 && c->msg >= 0) /* nothing complete came before the close */
        conn_fail(c, LE_CONN, 0);
}

static const ln_ops_t OPS = {.up = on_up, .data = on_data, .lost = on_lost};

void load_conn_start(load_t *L, conn_t *c)
{
    c->L = L;
    c->msg = -1;
    ln_conn_init(&c->net, L->loop, (const struct sockaddr *)&L->url.addr, &OPS, c);
    ln_conn_start(&c->net);
}

void load_conn_close(conn_t *c)
{
    unidle(c);
    ln_conn_close(&c->net);
}

/* ---- sending ------------------------------------------------------------------ */

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
                  L->url.path, L->url.host, sig, blen, body);

    uint64_t now = lc_now_ns();
    c->idle = 0; /* load_dispatch took it off the idle list */
    c->msg = (int64_t)i;
    L->requests++;
    if (L->attempts[i]++ == 0) {
        L->sent_messages++;
        if (L->rate == 0)
            L->start_ns[i] = now; /* closed loop: from the first attempt */
    }
    if (L->first_send_ns == 0)
        L->first_send_ns = now;
    uv_timer_start(&c->net.timer, on_timeout, L->timeout_ms, 0);
    ln_conn_write(&c->net, c->req.data, c->req.len);
}
