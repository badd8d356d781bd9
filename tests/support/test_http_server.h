/* tests/support/test_http_server.h - a small loopback HTTP/1.1 server for
 * tests of HTTP clients (httpc, provider and channel plugins).
 *
 * It runs on its own libuv loop in its own thread, listens on 127.0.0.1 on a
 * port chosen by the kernel, answers each path with a canned response and
 * records every request it read. Keep-alive is supported (one request at a
 * time per connection); a path without a route gets 404.
 *
 * Threads: every function may be called from any thread (the test's
 * thread, or a callback on the client's loop); gw_ths_stop from one thread
 * once. Strings passed in are copied. */
#ifndef GW_TEST_HTTP_SERVER_H
#define GW_TEST_HTTP_SERVER_H

#include <stddef.h>

typedef struct gw_ths_s gw_ths_t;

typedef struct gw_ths_response_s {
    int status;          /* 0 = 200 */
    const char *headers; /* extra header lines "Name: value\r\n..."; NULL = none */
    const char *body;    /* NULL = "" */
    size_t body_len;     /* 0 = strlen(body) */
    unsigned delay_ms;   /* wait this long after the request before answering */
    /* chunks > 0: a chunked response of `chunks` chunks, chunk i being
     * body followed by "<i>\n", chunk_interval_ms apart. */
    int chunks;
    unsigned chunk_interval_ms;
    /* gated: each chunk after the first, and the final zero chunk, is sent
     * only after one gw_ths_release() (instead of the interval). */
    int gated;
    int close_without_response; /* read the request, then close the connection */
    int close_after;            /* "Connection: close" and close after answering */
    /* pieces != NULL (npieces > 0): a chunked response whose chunks are
     * exactly these byte strings, in order (piece_lens[i] bytes each, or
     * strlen when piece_lens is NULL), instead of body + "<i>\n". They are
     * paced by chunk_interval_ms or `gated` as above, and written with
     * TCP_NODELAY so each one leaves in its own segment: this is how a test
     * cuts a stream (SSE) at chosen byte boundaries. `chunks` is ignored. */
    const char *const *pieces;
    const size_t *piece_lens;
    size_t npieces;
} gw_ths_response_t;

/* A recorded request. Strings are NUL-terminated; body may hold NULs. */
typedef struct gw_ths_request_s {
    char *method;
    char *path; /* as sent, query included */
    char **header_names;
    char **header_values;
    size_t header_count;
    char *body;
    size_t body_len;
    size_t connection; /* index of the connection it came on (0-based) */
} gw_ths_request_t;

/* Start a server; NULL on failure. Sets SIGPIPE to ignored (process-wide):
 * a write to a connection the client closed then fails with EPIPE. */
gw_ths_t *gw_ths_start(void);
int gw_ths_port(const gw_ths_t *s);
/* "http://127.0.0.1:<port><path>" into buf. */
void gw_ths_url(const gw_ths_t *s, const char *path, char *buf, size_t len);

/* Set (or replace) the response for `path` (exact match on the path with
 * its query, else on the path without it). Returns 0 or -ENOMEM. */
int gw_ths_route(gw_ths_t *s, const char *path, const gw_ths_response_t *r);

/* Queue a one-shot response for `path`: the next request that matches it
 * gets the oldest queued response; once the queue of that path is empty,
 * requests get the route set by gw_ths_route (or 404). Lets a test script
 * "fail, fail, then succeed". Returns 0 or -ENOMEM. */
int gw_ths_route_once(gw_ths_t *s, const char *path, const gw_ths_response_t *r);

/* Let one gated piece out. */
void gw_ths_release(gw_ths_t *s);

size_t gw_ths_request_count(gw_ths_t *s);
size_t gw_ths_connection_count(gw_ths_t *s);
/* A copy of request i (0-based, in arrival order) into out; free it with
 * gw_ths_request_free. Returns 0, or -ENOENT when there is no such request. */
int gw_ths_request(gw_ths_t *s, size_t i, gw_ths_request_t *out);
void gw_ths_request_free(gw_ths_request_t *r);
/* Value of header `name` (case-insensitive) in r, or NULL. */
const char *gw_ths_request_header(const gw_ths_request_t *r, const char *name);

/* Close every connection, stop the thread, free. */
void gw_ths_stop(gw_ths_t *s);

#endif
