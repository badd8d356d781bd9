/* tests/support/webhook_sink.c - a fast fake receiver for the replies the
 * webhook channel POSTs to its callbackUrl (benchmarks, the kill -9 test).
 *
 *   webhook-sink --port 0 [--host 127.0.0.1] [--secret S] [--fail-every N]
 *                [--out FILE]
 *   -> "PORT <n>" on stdout once listening
 *
 * HTTP/1.1 with keep-alive and pipelining, bodies framed by Content-Length.
 * Every POST is answered (any path):
 *   401 when --secret is given and X-OpenClaw-Signature is not
 *       sha256=<hex HMAC-SHA256 of the body>
 *   500 every Nth signed request with --fail-every N (exercises the
 *       gateway's retries; not recorded)
 *   400 when the body is not a JSON object
 *   200 {} and one line in --out:
 *       <idempotencyKey>\t<inReplyTo>\t<to.id>\t<text>\t<receive CLOCK_MONOTONIC ns>
 *       (tab, newline, CR and backslash in the fields written as \t \n \r \\)
 * The lines are buffered, written at least every 100 ms and on SIGTERM or
 * SIGINT; then the counters go to stderr and the sink exits 0.
 *
 * One thread, one libuv loop: a request costs one JSON parse and, with
 * --secret, one HMAC. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "mini_http.h"
#include "util/buf.h"

#define READ_CHUNK 65536
#define MAX_BODY (4 * 1024 * 1024)
#define FLUSH_MS 100
#define FLUSH_BYTES (1024 * 1024)

typedef struct conn_s conn_t;

typedef struct sink_s {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t flush_timer;
    uv_signal_t sig_term, sig_int;
    const char *secret;
    size_t secret_len;
    uint64_t fail_every;
    int out_fd; /* -1: nothing recorded */
    gw_buf_t out;
    struct json_tokener *tok;
    conn_t *conns;
    uint64_t requests, signed_ok, recorded, injected, bad_signature, bad_body, bad_http;
} sink_t;

struct conn_s {
    uv_tcp_t tcp;
    sink_t *s;
    conn_t *prev, *next;
    gw_buf_t in;
    int continue_sent; /* 100 Continue already sent for the request being read */
    int closing;
};

/* A response write that could not complete at once; owns its bytes. */
typedef struct wreq_s {
    uv_write_t req;
    conn_t *c;
    int close_after;
    char data[];
} wreq_t;

static const char RESP_OK[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: 2\r\n\r\n{}";

/* ---- recording ------------------------------------------------------------ */

static void flush_out(sink_t *s)
{
    size_t off = 0;
    while (s->out_fd >= 0 && off < s->out.len) {
        ssize_t n = write(s->out_fd, s->out.data + off, s->out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "webhook-sink: write to --out failed: %s\n", strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    gw_buf_reset(&s->out);
}

/* One field of a record line: the separators cannot appear inside. */
static void put_field(gw_buf_t *b, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\t')
            gw_buf_append(b, "\\t", 2);
        else if (c == '\n')
            gw_buf_append(b, "\\n", 2);
        else if (c == '\r')
            gw_buf_append(b, "\\r", 2);
        else if (c == '\\')
            gw_buf_append(b, "\\\\", 2);
        else
            gw_buf_putc(b, c);
    }
}

static void put_member(gw_buf_t *b, struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (o != NULL && json_object_object_get_ex(o, key, &v) &&
        json_object_is_type(v, json_type_string))
        put_field(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

/* 0 and a line in s->out, or -1 when the body is not a JSON object. */
static int record(sink_t *s, const char *body, size_t len, uint64_t now_ns)
{
    json_tokener_reset(s->tok);
    struct json_object *o = json_tokener_parse_ex(s->tok, body, (int)len);
    if (o == NULL || json_tokener_get_error(s->tok) != json_tokener_success ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -1;
    }
    if (s->out_fd >= 0) {
        struct json_object *to = NULL;
        json_object_object_get_ex(o, "to", &to);
        put_member(&s->out, o, "idempotencyKey");
        gw_buf_putc(&s->out, '\t');
        put_member(&s->out, o, "inReplyTo");
        gw_buf_putc(&s->out, '\t');
        put_member(&s->out, to, "id");
        gw_buf_putc(&s->out, '\t');
        put_member(&s->out, o, "text");
        gw_buf_printf(&s->out, "\t%llu\n", (unsigned long long)now_ns);
        if (s->out.len >= FLUSH_BYTES)
            flush_out(s);
    }
    json_object_put(o);
    s->recorded++;
    return 0;
}

/* ---- requests --------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int signature_ok(const sink_t *s, const mh_head_t *h, const char *body, size_t len)
{
    uint8_t mac[32];
    const char *v = h->signature;
    if (v == NULL || h->signature_len != 7 + 64 || memcmp(v, "sha256=", 7) != 0)
        return 0;
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, s->secret, s->secret_len, body, len, mac) != 0)
        return 0;
    unsigned diff = 0;
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(v[7 + 2 * i]), lo = hexval(v[8 + 2 * i]);
        if (hi < 0 || lo < 0)
            return 0;
        diff |= (unsigned)(mac[i] ^ (uint8_t)(hi << 4 | lo));
    }
    return diff == 0;
}

static void error_response(gw_buf_t *r, int code, const char *reason, const char *msg, int close)
{
    size_t n = strlen(msg) + 12; /* {"error":""} */
    gw_buf_printf(r, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n{\"error\":\"%s\"}",
                  code, reason, n, close ? "Connection: close\r\n" : "", msg);
}

/* One complete request: its answer goes to r. */
static void handle(sink_t *s, const mh_head_t *h, const char *body, size_t len, uint64_t now,
                   gw_buf_t *r)
{
    s->requests++;
    if (h->method_len != 4 || memcmp(h->method, "POST", 4) != 0) {
        error_response(r, 405, "Method Not Allowed", "use POST", h->close);
        return;
    }
    if (s->secret != NULL && !signature_ok(s, h, body, len)) {
        s->bad_signature++;
        error_response(r, 401, "Unauthorized", "bad signature", h->close);
        return;
    }
    s->signed_ok++;
    if (s->fail_every > 0 && s->signed_ok % s->fail_every == 0) {
        s->injected++;
        error_response(r, 500, "Internal Server Error", "injected failure", h->close);
        return;
    }
    if (record(s, body, len, now) != 0) {
        s->bad_body++;
        error_response(r, 400, "Bad Request", "body is not a JSON object", h->close);
        return;
    }
    if (h->close)
        gw_buf_puts(r, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Connection: close\r\nContent-Length: 2\r\n\r\n{}");
    else
        gw_buf_append(r, RESP_OK, sizeof RESP_OK - 1);
}

/* ---- connections ------------------------------------------------------------ */

static void on_closed(uv_handle_t *hd)
{
    conn_t *c = hd->data;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    gw_buf_free(&c->in);
    free(c);
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_written(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    if (status != 0 || w->close_after)
        conn_close(w->c);
    free(w);
}

/* Sends r: at once when the socket takes it, else queued with a copy. */
static void send_bytes(conn_t *c, const char *data, size_t len, int close_after)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len) {
        if (close_after)
            conn_close(c);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    wreq_t *w = malloc(sizeof *w + len - done);
    if (w == NULL) {
        conn_close(c);
        return;
    }
    memcpy(w->data, data + done, len - done);
    w->c = c;
    w->close_after = close_after;
    b = uv_buf_init(w->data, (unsigned)(len - done));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_close(c);
    }
}

/* Answers every complete request in the buffer (pipelining), in order, with
 * one write; keeps a partial request for the next read. */
static void process(conn_t *c)
{
    sink_t *s = c->s;
    gw_buf_t r = GW_BUF_INIT;
    size_t off = 0;
    int close_after = 0;
    uint64_t now = uv_hrtime();
    while (!close_after) {
        mh_head_t h;
        const char *p = c->in.data + off;
        size_t avail = c->in.len - off;
        int rc = mh_parse_request(p, avail, &h);
        if (rc == 0)
            break;
        if (rc < 0 || h.chunked || h.content_length > MAX_BODY) {
            s->bad_http++;
            if (rc > 0 && h.content_length > MAX_BODY)
                error_response(&r, 413, "Payload Too Large", "body too large", 1);
            else
                error_response(&r, 400, "Bad Request", "malformed or chunked request", 1);
            close_after = 1;
            break;
        }
        size_t body = h.content_length > 0 ? (size_t)h.content_length : 0;
        if (avail < h.head_len + body) {
            if (h.expect_continue && !c->continue_sent) {
                gw_buf_puts(&r, "HTTP/1.1 100 Continue\r\n\r\n");
                c->continue_sent = 1;
            }
            break;
        }
        handle(s, &h, p + h.head_len, body, now, &r);
        c->continue_sent = 0;
        off += h.head_len + body;
        close_after = h.close;
    }
    if (off > 0) {
        memmove(c->in.data, c->in.data + off, c->in.len - off);
        c->in.len -= off;
        c->in.data[c->in.len] = '\0';
    }
    if (r.len > 0)
        send_bytes(c, r.data, r.len, close_after);
    else if (close_after)
        conn_close(c);
    gw_buf_free(&r);
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = hd->data;
    (void)suggested;
    if (gw_buf_reserve(&c->in, READ_CHUNK) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    /* gw_buf keeps one byte for its NUL */
    *buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0)
        return;
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    process(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    sink_t *s = server->data;
    if (status != 0)
        return;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->s = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
}

/* ---- life cycle ----------------------------------------------------------- */

static void on_flush_timer(uv_timer_t *t)
{
    sink_t *s = t->data;
    if (s->out.len > 0)
        flush_out(s);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    sink_t *s = sig->data;
    (void)signum;
    flush_out(s);
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->flush_timer, NULL);
    uv_close((uv_handle_t *)&s->sig_term, NULL);
    uv_close((uv_handle_t *)&s->sig_int, NULL);
    for (conn_t *c = s->conns; c != NULL; c = c->next)
        conn_close(c);
}

static void usage(FILE *f)
{
    fputs("usage: webhook-sink [--port N] [--host ADDR] [--secret S] [--fail-every N]\n"
          "                    [--out FILE]\n"
          "A fast fake receiver of the webhook channel's replies: answers 200 {} and\n"
          "records <idempotencyKey> TAB <inReplyTo> TAB <to.id> TAB <text> TAB <mono ns>\n"
          "per delivery in FILE. Prints \"PORT <n>\" once listening (--port 0: any).\n",
          f);
}

static int listen_on(sink_t *s, const char *host, int port)
{
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0) {
        fprintf(stderr, "webhook-sink: bad --host %s\n", host);
        return -1;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
    if (rc != 0) {
        fprintf(stderr, "webhook-sink: listen on %s:%d: %s\n", host, port, uv_strerror(rc));
        return -1;
    }
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &len);
    int bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                 : ((struct sockaddr_in *)&got)->sin_port);
    printf("PORT %d\n", bound);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},  {"host", required_argument, NULL, 'H'},
        {"secret", required_argument, NULL, 's'}, {"fail-every", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sink_t s = {.out_fd = -1};
    const char *host = "127.0.0.1", *out = NULL;
    uint64_t port = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (mh_parse_u64(optarg, &port) != 0 || port > 65535) {
                fprintf(stderr, "webhook-sink: bad --port %s\n", optarg);
                return 2;
            }
            break;
        case 'H': host = optarg; break;
        case 's': s.secret = optarg; s.secret_len = strlen(optarg); break;
        case 'f':
            if (mh_parse_u64(optarg, &s.fail_every) != 0) {
                fprintf(stderr, "webhook-sink: bad --fail-every %s\n", optarg);
                return 2;
            }
            break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (out != NULL) {
        s.out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s.out_fd < 0) {
            fprintf(stderr, "webhook-sink: cannot open %s: %s\n", out, strerror(errno));
            return 1;
        }
    }
    s.tok = json_tokener_new();
    s.loop = uv_default_loop();
    if (s.tok == NULL || listen_on(&s, host, (int)port) != 0)
        return 1;
    uv_timer_init(s.loop, &s.flush_timer);
    s.flush_timer.data = &s;
    uv_timer_start(&s.flush_timer, on_flush_timer, FLUSH_MS, FLUSH_MS);
    uv_signal_init(s.loop, &s.sig_term);
    uv_signal_init(s.loop, &s.sig_int);
    s.sig_term.data = s.sig_int.data = &s;
    uv_signal_start(&s.sig_term, on_signal, SIGTERM);
    uv_signal_start(&s.sig_int, on_signal, SIGINT);
    uv_run(s.loop, UV_RUN_DEFAULT);

    flush_out(&s);
    if (s.out_fd >= 0)
        close(s.out_fd);
    fprintf(stderr, "webhook-sink: requests %llu, recorded %llu, injected 500s %llu, "
                    "bad signature %llu, bad body %llu, bad http %llu\n",
            (unsigned long long)s.requests, (unsigned long long)s.recorded,
            (unsigned long long)s.injected, (unsigned long long)s.bad_signature,
            (unsigned long long)s.bad_body, (unsigned long long)s.bad_http);
    json_tokener_free(s.tok);
    gw_buf_free(&s.out);
    uv_loop_close(s.loop);
    return 0;
}
