/* tests/support/load_net.c - see load_net.h. */
#include "load_net.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_RESERVE 16384
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 200

/* ---- the target ------------------------------------------------------------ */

int ln_url_parse(const char *url, ln_url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "'%s' is not an http:// URL: write http://host[:port]/path "
                              "(https is not supported)", url);
        return -1;
    }
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0) {
        snprintf(err, errlen, "'%s' has no host: write http://host[:port]/path", url);
        return -1;
    }
    u->host = strndup(h, hl);
    u->path = strdup(slash ? slash : "/");
    u->has_path = slash != NULL;
    char *name = u->host ? strdup(u->host) : NULL;
    if (u->host == NULL || u->path == NULL || name == NULL) {
        snprintf(err, errlen, "out of memory");
        free(name);
        ln_url_free(u);
        return -1;
    }
    char *port = "80", *colon = strrchr(name, ':');
    if (colon != NULL && strchr(name, ']') < colon) {
        *colon = '\0';
        port = colon + 1;
    }
    char *host = name;
    if (host[0] == '[') { /* [v6] */
        host++;
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "cannot resolve '%s' port '%s': %s", host, port,
                 gai_strerror(rc));
        free(name);
        ln_url_free(u);
        return -1;
    }
    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    free(name);
    return 0;
}

void ln_url_free(ln_url_t *u)
{
    free(u->host);
    free(u->path);
    u->host = u->path = NULL;
}

/* ---- the connection ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void on_reconnect(uv_timer_t *t)
{
    ln_conn_start(t->data);
}

static void on_closed(uv_handle_t *h)
{
    ln_conn_t *c = h->data;
    c->writing = 0;
    c->in.len = 0;
    if (c->state == LN_OFF)
        return;
    c->state = LN_DOWN;
    uv_timer_start(&c->timer, on_reconnect, c->backoff_ms, 0);
}

void ln_conn_drop(ln_conn_t *c)
{
    if (c->state != LN_CONNECTING && c->state != LN_UP)
        return;
    c->state = LN_CLOSING;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void lose(ln_conn_t *c, int err, int connecting)
{
    c->ops->lost(c, err, connecting);
    ln_conn_drop(c); /* the callback may have dropped it already */
}

static void on_connect(uv_connect_t *req, int status)
{
    ln_conn_t *c = req->data;
    if (status == UV_ECANCELED || c->state != LN_CONNECTING)
        return; /* closed meanwhile */
    if (status < 0) {
        c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (c->backoff_ms > BACKOFF_MAX_MS)
            c->backoff_ms = BACKOFF_MAX_MS;
        lose(c, status, 1);
        return;
    }
    c->backoff_ms = 0;
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        lose(c, rc, 1);
        return;
    }
    c->state = LN_UP;
    c->ops->up(c);
}

void ln_conn_init(ln_conn_t *c, uv_loop_t *loop, const struct sockaddr *addr,
                  const ln_ops_t *ops, void *data)
{
    c->loop = loop;
    c->addr = addr;
    c->ops = ops;
    c->data = data;
    c->state = LN_DOWN;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
}

void ln_conn_start(ln_conn_t *c)
{
    if (c->state != LN_DOWN)
        return;
    uv_tcp_init(c->loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    c->state = LN_CONNECTING;
    int rc = uv_tcp_connect(&c->creq, &c->tcp, c->addr, on_connect);
    if (rc != 0) {
        c->backoff_ms = BACKOFF_MAX_MS; /* out of sockets or ports: give it time */
        lose(c, rc, 1);
    }
}

void ln_conn_close(ln_conn_t *c)
{
    int st = c->state;
    c->state = LN_OFF;
    uv_timer_stop(&c->timer);
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, NULL);
    if (st == LN_CONNECTING || st == LN_UP)
        uv_close((uv_handle_t *)&c->tcp, on_closed);
}

void ln_conn_free(ln_conn_t *c)
{
    gw_buf_free(&c->in);
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    ln_conn_t *c = hd->data;
    (void)suggested;
    if (gw_buf_reserve(&c->in, c->read_size ? c->read_size : READ_RESERVE) != 0) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS to on_read */
        return;
    }
    *buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    ln_conn_t *c = st->data;
    (void)buf;
    if (n == 0 || c->state != LN_UP)
        return;
    if (n > 0) {
        c->in.len += (size_t)n;
        c->in.data[c->in.len] = '\0';
    }
    c->ops->data(c, n);
    if (n < 0)
        ln_conn_drop(c);
}

static void on_written(uv_write_t *req, int status)
{
    ln_conn_t *c = req->data;
    c->writing = 0;
    if (status < 0 && status != UV_ECANCELED && c->state == LN_UP)
        lose(c, status, 0);
}

void ln_conn_write(ln_conn_t *c, const char *p, size_t n)
{
    if (c->writing) {
        /* wreq is still queued: reusing it would corrupt libuv's write
         * queue. The owner must not send again before the last write is
         * done (see ln_conn_write in load_net.h). */
        lose(c, UV_EBUSY, 0);
        return;
    }
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (w == (int)n)
        return;
    if (w < 0 && w != UV_EAGAIN) {
        lose(c, w, 0);
        return;
    }
    size_t done = w > 0 ? (size_t)w : 0;
    b = uv_buf_init((char *)p + done, (unsigned)(n - done));
    c->wreq.data = c;
    c->writing = 1;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc != 0) {
        c->writing = 0;
        lose(c, rc, 0);
    }
}
