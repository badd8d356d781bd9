/* server/stream.h - a streamed (text/event-stream) response on an h2o
 * worker loop.
 *
 * Writes go out at once: one h2o_send per write while the connection is
 * free; only while a send is in flight do writes queue, and then they all go
 * out in the next send (h2o allows one send in flight per request). Nothing
 * is ever held back. The response head (200, the SSE headers) goes with the
 * first write, so until then the caller may still answer with an error
 * status instead (gw_stream_started).
 *
 * Keep-alive: while nothing was written for keepalive_ms (0 = never), a
 * ": keep-alive\n\n" comment is written; the first one starts the response.
 *
 * Threads: the worker loop of the request. Ownership: the stream lives in
 * its owner's memory; after gw_stream_close the owner waits for on_closed
 * before freeing it (the timer handle's close callback). */
#ifndef GW_SERVER_STREAM_H
#define GW_SERVER_STREAM_H

#include <h2o.h>
#include <uv.h>

#include "server/http.h"
#include "util/buf.h"

typedef struct gw_stream_s gw_stream_t;
typedef void (*gw_stream_cb)(void *data);

struct gw_stream_s {
    h2o_generator_t gen;      /* h2o's handle on us */
    gw_http_req_t *r;         /* borrowed: the owner's; r->req NULL once disposed */
    gw_buf_t queue;           /* written while a send was in flight */
    gw_buf_t inflight;        /* the bytes h2o is sending (valid until proceed) */
    int started;              /* the head went out */
    int sending;              /* a send is in flight */
    int ending;               /* gw_stream_end called: FINAL after the queue */
    int ended;                /* FINAL sent (or the client is gone) */
    int gone;                 /* h2o stopped the generator: never send again */
    uint32_t keepalive_ms;
    uv_timer_t ka;
    int ka_open;              /* the timer handle is initialised and not closed */
    gw_stream_cb on_closed;   /* after gw_stream_close: the handle is closed */
    void *data;
};

/* Sets the stream up (no I/O). keepalive_ms 0 = no keep-alives. */
void gw_stream_init(gw_stream_t *s, gw_http_req_t *r, uv_loop_t *loop, uint32_t keepalive_ms,
                    gw_stream_cb on_closed, void *data);
/* Appends n bytes (copied) and sends them now, or with the next send when
 * one is in flight. Starts the response when needed. No-op once ended or
 * the client is gone. */
void gw_stream_write(gw_stream_t *s, const char *p, size_t n);
/* For writes built in place: the buffer to append to (NULL once ended or
 * the client is gone); then gw_stream_commit sends it (or queues it). */
gw_buf_t *gw_stream_buf(gw_stream_t *s);
void gw_stream_commit(gw_stream_t *s);
/* Ends the response once what is queued went out. */
void gw_stream_end(gw_stream_t *s);
/* The request is gone (pool disposed): never touch it again. */
void gw_stream_detach(gw_stream_t *s);
/* Stops and closes the keep-alive timer; on_closed follows from the loop
 * (at once when the timer could not be set up). Call once. */
void gw_stream_close(gw_stream_t *s);

#endif
