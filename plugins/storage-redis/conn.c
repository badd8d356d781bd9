/* conn.c - storage-redis: connection attempts (T).
 *
 * An attempt resolves the host (uv_getaddrinfo, unless it is an address),
 * connects without blocking (redisAsyncConnect to the address), pipelines
 * the handshake (handshake.c) and is ready when its replies are in, all
 * within connectTimeoutMs. A failed attempt or a lost connection waits
 * 100 ms, doubling up to 5 s, before the next.
 *
 * Startup (before start returned): attempts go on until startupRetrySeconds
 * have passed, or stop at once on a permanent error (wrong password,
 * missing database, a refused key layout); then H learns the outcome
 * through the shared block. Afterwards attempts go on for as long as it
 * takes; one warning when the connection is lost, one info when it is
 * back. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "io_int.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define KEEPALIVE_IDLE_S 15

static void signal_start(rd_io_t *io, rd_start_t result, const char *error)
{
    rd_shared_t *sh = &io->st->sh;
    pthread_mutex_lock(&sh->mu);
    sh->start = result;
    snprintf(sh->start_error, sizeof sh->start_error, "%s", error);
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->mu);
}

static void next_attempt_in(rd_io_t *io, uint64_t delay)
{
    io->phase = IO_IDLE;
    io_arm_conn_timer(io, delay);
}

static void attempt_failed(rd_io_t *io, int was_ready, const char *text, int permanent)
{
    rd_state_t *st = io->st;
    const char *url = st->cfg.url.display;
    uint64_t now = rd_mono_ms();
    io->phase = IO_IDLE;
    uv_timer_stop(&io->ping_timer);
    rd_metrics_connected(st, 0);
    if (!io->started) {
        if (permanent || now >= io->startup_deadline_ms) {
            char why[RD_TEXT_MAX];
            if (permanent)
                snprintf(why, sizeof why, "%s: %s", url, text);
            else
                snprintf(why, sizeof why,
                         "cannot reach %s (gave up after %" PRIu64
                         " s, startupRetrySeconds): %s",
                         url, st->cfg.startup_retry_ms / 1000, text);
            rd_set_health(st, OC_EUNAVAIL, "%s", why);
            signal_start(io, RD_START_FAILED, why);
            io_shutdown(io);
            return;
        }
        uint64_t left = io->startup_deadline_ms - now;
        uint64_t delay = io->backoff_ms < left ? io->backoff_ms : left;
        rd_set_health(st, OC_EUNAVAIL, "%s: %s (next attempt in %" PRIu64 " ms)", url, text,
                      delay);
        io->backoff_ms = io->backoff_ms * 2 < BACKOFF_MAX_MS ? io->backoff_ms * 2 : BACKOFF_MAX_MS;
        next_attempt_in(io, delay);
        return;
    }
    if (was_ready) {
        st->host->log(st->self, OC_LOG_WARN,
                      "lost the connection to %s: %s; reconnecting in the background (storage "
                      "ops fail with OC_EUNAVAIL meanwhile)",
                      url, text);
        io->lost_at_ms = now;
        io->attempts = 0;
        io->logged[0] = '\0';
        io->backoff_ms = BACKOFF_FIRST_MS;
    } else if (permanent && strcmp(io->logged, text) != 0) {
        /* Retrying cannot fix this one: say so once, not per attempt. */
        st->host->log(st->self, OC_LOG_ERROR, "cannot reconnect to %s: %s", url, text);
        snprintf(io->logged, sizeof io->logged, "%s", text);
    }
    io->attempts++;
    uint64_t delay = io->backoff_ms;
    io->backoff_ms = delay * 2 < BACKOFF_MAX_MS ? delay * 2 : BACKOFF_MAX_MS;
    rd_set_health(st, OC_EUNAVAIL, "%s unreachable: %s (next attempt in %" PRIu64 " ms)", url,
                  text, delay);
    next_attempt_in(io, delay);
}

static void keepalive(int fd)
{
    /* A peer that vanished without a word is noticed even while idle. */
    int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_IDLE_S / 3, cnt = 3;
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rd_conn_t *c = adapter_conn(ac);
    if (status != REDIS_OK)
        conn_set_error(c, 0, "%s", ac->c.errstr); /* hiredis frees the context next */
    else
        keepalive(ac->c.fd);
}

static void connect_ip(rd_io_t *io)
{
    io->phase = IO_CONNECTING;
    redisAsyncContext *ac = redisAsyncConnect(io->ip, io->st->cfg.url.port);
    if (ac == NULL) {
        attempt_failed(io, 0, "out of memory", 0);
        return;
    }
    if (ac->err != 0) {
        char text[RD_TEXT_MAX];
        snprintf(text, sizeof text, "%s", ac->c.errstr);
        redisAsyncFree(ac);
        attempt_failed(io, 0, text, 0);
        return;
    }
    rd_conn_t *c = adapter_attach(io, ac);
    if (c == NULL) {
        attempt_failed(io, 0, "cannot watch the socket", 0);
        return;
    }
    io->conn = c;
    redisAsyncSetConnectCallback(ac, on_connect);
    if (hs_begin(io, c) != 0) {
        conn_set_error(c, 0, "cannot queue the handshake (out of memory)");
        redisAsyncFree(ac); /* cleanup -> conn_gone */
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    rd_io_t *io = req->data;
    io->gai_active = 0;
    const char *host = io->st->cfg.url.host;
    if (io->phase != IO_RESOLVING) { /* stopping */
        uv_freeaddrinfo(res);
        return;
    }
    if (io->resolve_expired || status == UV_EAI_CANCELED) {
        uv_freeaddrinfo(res);
        char text[RD_TEXT_MAX];
        snprintf(text, sizeof text,
                 "resolving \"%s\" took longer than %" PRIu64 " ms (connectTimeoutMs)", host,
                 io->st->cfg.connect_timeout_ms);
        attempt_failed(io, 0, text, 0);
        return;
    }
    if (status < 0 || res == NULL) {
        char text[RD_TEXT_MAX];
        snprintf(text, sizeof text, "cannot resolve host \"%s\": %s", host,
                 status < 0 ? uv_strerror(status) : "no address");
        uv_freeaddrinfo(res);
        attempt_failed(io, 0, text, 0);
        return;
    }
    /* IPv4 first, as hiredis itself prefers: "localhost" often lists ::1
     * first while servers often listen on 127.0.0.1 only. */
    const struct addrinfo *a = res;
    for (const struct addrinfo *i = res; i != NULL; i = i->ai_next)
        if (i->ai_family == AF_INET) {
            a = i;
            break;
        }
    int rc = a->ai_family == AF_INET6
                 ? uv_ip6_name((const struct sockaddr_in6 *)a->ai_addr, io->ip, sizeof io->ip)
                 : uv_ip4_name((const struct sockaddr_in *)a->ai_addr, io->ip, sizeof io->ip);
    uv_freeaddrinfo(res);
    if (rc != 0) {
        attempt_failed(io, 0, "cannot print the resolved address", 0);
        return;
    }
    connect_ip(io);
}

void conn_attempt(rd_io_t *io)
{
    const rd_url_t *u = &io->st->cfg.url;
    unsigned char addr[sizeof(struct in6_addr)];
    io_arm_conn_timer(io, io->st->cfg.connect_timeout_ms);
    io->resolve_expired = 0;
    if (inet_pton(AF_INET, u->host, addr) == 1 || inet_pton(AF_INET6, u->host, addr) == 1) {
        snprintf(io->ip, sizeof io->ip, "%s", u->host);
        connect_ip(io);
        return;
    }
    /* A name: looked up on libuv's thread pool, never on this loop. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    io->phase = IO_RESOLVING;
    io->gai.data = io;
    int rc = uv_getaddrinfo(&io->loop, &io->gai, on_resolved, u->host, NULL, &hints);
    if (rc != 0) {
        char text[RD_TEXT_MAX];
        snprintf(text, sizeof text, "cannot resolve host \"%s\": %s", u->host, uv_strerror(rc));
        attempt_failed(io, 0, text, 0);
        return;
    }
    io->gai_active = 1;
}

void conn_timer_fired(rd_io_t *io)
{
    switch (io->phase) {
    case IO_IDLE:
        conn_attempt(io);
        break;
    case IO_RESOLVING:
        io->resolve_expired = 1;
        uv_cancel((uv_req_t *)&io->gai); /* on_resolved reports it either way */
        break;
    case IO_CONNECTING:
        if (io->conn != NULL && io->conn->ac != NULL) {
            conn_set_error(io->conn, 0, "no answer within %" PRIu64 " ms (connectTimeoutMs)",
                           io->st->cfg.connect_timeout_ms);
            redisAsyncFree(io->conn->ac); /* cleanup -> conn_gone */
        }
        break;
    default:
        break;
    }
}

void conn_gone(rd_io_t *io, rd_conn_t *c)
{
    int was_ready = io->phase == IO_READY;
    if (io->conn == c)
        io->conn = NULL;
    char text[RD_TEXT_MAX];
    snprintf(text, sizeof text, "%s", c->failed ? c->error : "the server closed the connection");
    io_fail_waiting(io, OC_EUNAVAIL);
    if (io->phase == IO_CLOSING)
        return; /* io_shutdown freed it: the loop ends by itself */
    uv_timer_stop(&io->conn_timer);
    if (io->stopping) {
        io_shutdown(io);
        return;
    }
    attempt_failed(io, was_ready, text, c->permanent);
}

void conn_ready(rd_io_t *io)
{
    rd_state_t *st = io->st;
    const char *url = st->cfg.url.display;
    uv_timer_stop(&io->conn_timer);
    io->phase = IO_READY;
    io->backoff_ms = BACKOFF_FIRST_MS;
    rd_metrics_connected(st, 1);
    rd_set_health(st, OC_OK, "connected to %s", url);
    io_start_ping(io);
    if (!io->started) {
        io->started = 1;
        char layout[64];
        if (io->layout_from == 0)
            snprintf(layout, sizeof layout, "new key layout v%d", RD_LAYOUT_LATEST);
        else if (io->layout_from < RD_LAYOUT_LATEST)
            snprintf(layout, sizeof layout, "key layout migrated from v%d to v%d",
                     io->layout_from, RD_LAYOUT_LATEST);
        else
            snprintf(layout, sizeof layout, "key layout v%d", RD_LAYOUT_LATEST);
        st->host->log(st->self, OC_LOG_INFO, "connected to %s (keyPrefix \"%s\", %s)", url,
                      st->cfg.prefix, layout);
        signal_start(io, RD_START_READY, "");
    } else if (io->lost_at_ms != 0) {
        double secs = (double)(rd_mono_ms() - io->lost_at_ms) / 1000.0;
        st->host->log(st->self, OC_LOG_INFO,
                      "reconnected to %s after %.1f s (%u failed attempts)", url, secs,
                      io->attempts > 0 ? io->attempts - 1 : 0);
        io->lost_at_ms = 0;
        if (st->metrics.reconnects != NULL)
            st->host->metric_add(st->metrics.reconnects, NULL, 1);
    }
    io_flush_waiting(io);
}
