/* mock_upstream/mock.h - oc-mock-upstream, a fast mock of LLM provider APIs
 * (OpenAI chat completions and embeddings, Anthropic messages, model lists)
 * for the gateway's tests and benchmarks. The state its files share:
 *
 *   main.c       options, listeners, worker threads, signals
 *   conn.c       connections: reading, pipelining, writes, deferral, close
 *   route.c      one request: routing, knob headers, failure injection
 *   llm_req.c    reading and validating OpenAI / Anthropic request bodies
 *   openai.c     OpenAI answers: completions, chunks, embeddings, errors
 *   anthropic.c  Anthropic answers: messages, events, errors
 *   stream.c     SSE streams: the deadline schedule of their events
 *   respond.c    HTTP heads, chunk framing, error bodies of both dialects
 *   control.c    the shared config and the /mock/... control API
 *   knobs.c, stats.c, text.c, http_req.c: see their headers
 *
 * Threads: one libuv loop per worker thread. A conn_t, its stream and its
 * worker_t belong to that worker's thread. mock_t is shared: its knobs and
 * baseline under `mu`, its gauges and reply counter atomic. */
#ifndef MOCK_H
#define MOCK_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "http_req.h"
#include "knobs.h"
#include "stats.h"
#include "text.h"
#include "util/buf.h"

#define MOCK_MAX_BODY (8u << 20) /* bigger request bodies get 413 */
#define MOCK_READ_BUF 65536

enum { D_OPENAI, D_ANTHROPIC };

typedef struct worker_s worker_t;
typedef struct conn_s conn_t;

typedef struct mock_s {
    /* set before the workers start, read-only after */
    char **models;          /* owned (util/strv) */
    size_t nmodels;
    int quiet;
    uint64_t seed;
    knobs_t defaults;       /* from the command line: /mock/reset restores them */
    worker_t *workers;
    int nworkers;

    pthread_mutex_t mu;     /* guards knobs and base */
    knobs_t knobs;          /* in effect; workers copy them when gen moves */
    stats_snap_t base;      /* counters at the last /mock/reset */
    _Atomic uint64_t gen;   /* bumped on every knobs change */

    gauges_t gauges;
    _Atomic uint64_t replies; /* reply numbers ("mock reply <n>", ids); 0 at reset */
} mock_t;

struct worker_s {
    mock_t *m;
    int id;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop;
    uv_thread_t thread;
    conn_t *conns;            /* open connections (doubly linked) */
    char *rbuf;               /* shared read buffer (MOCK_READ_BUF) for idle connections */
    gw_buf_t out;             /* answers batched for one write (pipelining) */
    gw_buf_t scratch;         /* one answer or one event being built */
    gw_buf_t body;            /* a decoded chunked request body */
    gw_buf_t user;            /* the last user message of the request being read */
    struct json_tokener *tok;
    knobs_t knobs;            /* copy of m->knobs at generation knobs_gen */
    uint64_t knobs_gen;
    uint64_t rng;             /* xorshift64* state for fail_rate */
    stats_t stats;
};

/* A model's reply (text or a tool call): built whole, or streamed as SSE
 * events from a connection's timer (then owned by the conn_t, freed when
 * the stream ends or the client leaves). */
typedef struct reply_s {
    int dialect;
    int tool;                 /* a tool call instead of text */
    int include_usage;        /* OpenAI stream_options.include_usage */
    uint64_t n;               /* reply number */
    int64_t created;          /* unix seconds */
    char *model;              /* owned, JSON-escaped */
    char *tool_name;          /* owned, JSON-escaped; NULL unless tool */
    text_t text;              /* the content, or the tool arguments */
    uint32_t pieces;          /* content events */
    int64_t error_at;         /* error event in place of piece error_at; -1: none */
    uint64_t t0;              /* uv_now of the first event */
    uint32_t interval_ms;
    uint32_t next;            /* the next piece */
    uint32_t prompt_tokens, completion_tokens;
    gw_buf_t event_head;      /* the start every event shares, built once */
} reply_t;

struct conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;         /* latency and stream schedule */
    worker_t *w;
    conn_t *prev, *next;
    gw_buf_t in;              /* received, not yet answered (pipelined requests) */
    hr_chunked_t chunk;       /* scan state of a chunked body being received */
    gw_buf_t delayed;         /* a complete answer waiting for its latency */
    reply_t *stream;
    uint32_t pending_writes;  /* uv_write requests not completed */
    int open_handles;         /* tcp and timer: freed when both are closed */
    unsigned busy : 1;        /* an answer is deferred: later requests wait */
    unsigned stalled : 1;
    unsigned raw_stream : 1;  /* HTTP/1.0: stream without chunk framing */
    unsigned close_after : 1; /* close once the deferred answer is out */
    unsigned closing : 1;
    unsigned continue_sent : 1;
    unsigned reading : 1;
};

/* ---- conn.c (worker thread) ---- */
void conn_accept(worker_t *w, uv_stream_t *listener);
/* Sends bytes now (copying what the socket does not take). The callers
 * count them in bytes_out (control answers are not counted). The
 * connection may be closing on return when the write failed. */
void conn_send(conn_t *c, const uv_buf_t *bufs, unsigned n);
/* Deferrals (route.c, after its answer is decided); later requests on the
 * connection wait until the deferred answer is out:
 * conn_defer takes *ans (a complete response) and sends it after delay_ms;
 * conn_stream takes st (heap) and runs it (stream.c);
 * conn_stall never answers (until the client leaves). */
void conn_defer(conn_t *c, gw_buf_t *ans, uint32_t delay_ms);
void conn_stream(conn_t *c, reply_t *st);
void conn_stall(conn_t *c);
/* The deferred answer is complete: go on with pipelined requests. */
void conn_resume(conn_t *c);
/* Closes; `aborted`: the client left while an answer was pending. */
void conn_close(conn_t *c, int aborted);

/* ---- route.c (worker thread) ---- */
typedef struct req_s {
    conn_t *c;
    const hr_req_t *h;
    const char *body;
    size_t body_len;
} req_t;
/* Answers one complete request: appends to w->out, or defers (c->busy). */
void route_request(req_t *r);
/* Parses a request body that must be one JSON value: the value (the
 * caller puts it), or NULL with the reason appended to err. */
struct json_object *worker_parse_json(worker_t *w, const char *body, size_t len,
                                      gw_buf_t *err);
/* An HTTP-level error (malformed head, 413...): answer and close. */
void route_http_error(conn_t *c, const hr_req_t *h, int status, const char *why);

/* ---- respond.c ---- */
const char *status_reason(int status);
/* Appends a complete response. extra: more header lines (each ending in
 * CRLF), or NULL. */
void respond(gw_buf_t *out, int status, const char *ctype, const char *extra, const char *body,
             size_t len, int close);
/* Appends an error body of the dialect: message msg, machine code code. */
void error_body(gw_buf_t *out, int dialect, int status, const char *code, const char *msg);
/* Sends one SSE event as its own write (chunk-framed unless raw). */
void send_event(conn_t *c, const char *ev, size_t len);
/* Sends the end of a chunked body. */
void send_last_chunk(conn_t *c);

/* ---- stream.c (worker thread) ---- */
/* Starts c->stream (already set): its first event at t0, from the
 * connection's timer. */
void stream_start(conn_t *c);
/* Frees what st owns; reply_free also frees st itself (heap). */
void reply_clear(reply_t *st);
void reply_free(reply_t *st);

/* ---- openai.c / anthropic.c: one SSE event or a whole body ---- */
enum { EV_PRE, EV_PIECE, EV_TAIL, EV_ERROR };
/* Number of EV_PRE and EV_TAIL events of a stream. */
void openai_event_counts(const reply_t *st, uint32_t *npre, uint32_t *ntail);
void anthropic_event_counts(const reply_t *st, uint32_t *npre, uint32_t *ntail);
/* Appends event i of kind ev (for EV_PIECE: the next piece of st->text). */
void openai_event(reply_t *st, int ev, uint32_t i, gw_buf_t *out);
void anthropic_event(reply_t *st, int ev, uint32_t i, gw_buf_t *out);
/* The whole (non-streamed) answer body of reply st. */
void openai_body(reply_t *st, gw_buf_t *out);
void anthropic_body(reply_t *st, gw_buf_t *out);

/* ---- control.c ---- */
/* The knobs in effect, refreshed when the shared config changed. */
const knobs_t *worker_knobs(worker_t *w);
/* GET/POST /mock/config, GET /mock/stats, POST /mock/reset: appends the
 * answer to out. Any worker thread. */
void control_request(worker_t *w, const hr_req_t *h, const char *body, size_t len,
                     gw_buf_t *out);
void control_reset(mock_t *m);

#endif
