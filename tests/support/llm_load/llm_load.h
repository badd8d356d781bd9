/* tests/support/llm_load/llm_load.h - oc-llm-load, the LLM load generator:
 * state shared by its files.
 *
 *   main.c    options, the request, start and exit status
 *   sched.c   the modes (fixed rate, closed loop, held streams), the wait
 *             queue and --max-inflight, progress, the end of the run
 *   conn.c    one HTTP/1.1 exchange at a time on a keep-alive connection
 *             (tests/support/load_net.c): the answer, its body, its stream
 *   body.c    body framing (Content-Length, chunked, close)
 *   sse.c     the SSE events of a chat completion stream
 *   report.c  the text report and --json
 *
 * One thread, one libuv loop. Times are CLOCK_MONOTONIC nanoseconds;
 * figures are microseconds. */
#ifndef LLM_LOAD_H
#define LLM_LOAD_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "body.h"
#include "load_clock.h"
#include "load_hist.h"
#include "load_net.h"
#include "sse.h"
#include "util/buf.h"

/* Why a request failed. */
enum {
    LK_CONN,    /* connection refused, reset or closed before the whole answer */
    LK_TIMEOUT, /* no whole answer within --timeout-ms (queue wait included) */
    LK_HTTP,    /* a status other than 2xx (counted per status too) */
    LK_PROTO,   /* a malformed HTTP head or body framing */
    LK_BODY,    /* 2xx without a chat completion ("choices") in the body */
    LK_STREAM,  /* 2xx stream with an error event, malformed SSE, or no [DONE] */
    LK_KINDS
};
extern const char *const LL_KIND_NAMES[LK_KINDS];

enum { LM_RATE, LM_CLOSED, LM_HOLD };

/* A histogram with the sum and the minimum the percentiles lack. */
typedef struct ll_dist_s {
    lh_hist_t h;
    uint64_t sum, min;
} ll_dist_t;

void ll_dist_add(ll_dist_t *d, uint64_t v);

/* The figures of one phase (warm-up or measured). */
typedef struct ll_stats_s {
    uint64_t requests; /* scheduled: sent + dropped + timed out waiting */
    uint64_t sent, ok, dropped;
    uint64_t errors[LK_KINDS];
    uint64_t status[600]; /* LK_HTTP by status */
    ll_dist_t latency;    /* ok requests: intended (or actual) send to the whole answer */
    ll_dist_t ttft;       /* streams: send to the first content event */
    ll_dist_t gap;        /* streams: between content events */
    ll_dist_t chunks;     /* ok streams: content events per stream */
    uint64_t events;      /* SSE events with data, all kinds */
    uint64_t content_events;
    uint64_t content_reads;   /* reads that completed at least one content event */
    uint64_t coalesced_reads; /* reads that completed more than one */
    uint64_t first_done_ns;   /* the first answer (or failure) */
    uint64_t last_done_ns;    /* the last one */
} ll_stats_t;

typedef struct ll_s ll_t;

/* A request waiting for a free connection. */
typedef struct ll_wait_s {
    uint64_t start_ns; /* latency counts from here: the intended send time */
    int measured;
} ll_wait_t;

/* One connection of the pool and the request on it. Owned by L->conns. */
typedef struct ll_conn_s {
    ln_conn_t net; /* its timer is the request timeout while busy */
    ll_t *L;       /* borrowed: the run */
    int idle;      /* up, in L->idle */
    int busy;      /* a request in flight */
    int settled;   /* its first connect finished (well or not) */
    int measured;  /* the request counts (not warm-up) */
    uint64_t start_ns; /* its latency, TTFT and timeout count from here */
    /* the answer */
    int have_head, status;
    int close;         /* the server closes after it (or the body ends at the close) */
    int open;          /* a 2xx stream counted in L->open_streams */
    int streaming;     /* ... that has had content: counted in L->streaming */
    ll_body_t body;
    ll_sse_t sse;
    gw_buf_t resp;     /* owned: a non-streaming body, for the "choices" check */
    uint32_t chunks;   /* content events of this stream */
    uint64_t last_chunk_ns;
    int read_content;  /* content events completed by the current read */
    int sse_done;      /* "data: [DONE]" came */
    int sse_bad;       /* an error event, or SSE that could not be read */
} ll_conn_t;

/* The run. One, static in main(); every pointer in it is owned unless said. */
struct ll_s {
    uv_loop_t *loop; /* borrowed: the default loop */
    /* options */
    ln_url_t url;
    int mode, stream, progress;
    uint64_t rate;
    double duration_s, warmup_s;
    uint32_t nconns;
    uint64_t max_inflight;
    uint32_t timeout_ms;
    const char *json_path; /* borrowed (argv) */
    const char *url_text;  /* borrowed (argv) */
    char *request;         /* the whole HTTP request, the same for every send */
    size_t request_len, body_len;

    /* schedule */
    uint64_t t0, measure_ns, end_ns; /* start, end of warm-up, end of sending */
    uint64_t total, released;        /* fixed rate: requests in the run, let go so far */
    int begun, sending_done, stopping, interrupted;
    ll_wait_t *queue;                /* FIFO, capacity max_inflight + 1 */
    uint64_t qhead, qtail, queued;
    uint64_t busy, peak_busy;        /* requests sent and not yet answered */
    uint64_t peak_inflight;          /* sent or waiting for a connection */
    uint64_t open_streams, peak_open; /* 2xx stream heads in, not yet ended */
    uint64_t streaming, peak_streaming; /* ... of which content has come */
    uint64_t all_open_ns;            /* hold: when every stream had content */
    uint32_t connecting, next_connect, settled;
    lc_timer_t tick_timer;           /* fixed rate: the next due request */
    uv_timer_t progress_timer, end_timer;
    uv_signal_t sig_int, sig_term;
    uint64_t last_progress_ok, connect_failures;
    int last_conn_err;   /* libuv error of the last failed connect or write */
    uint64_t unfinished; /* sent or waiting when the run was stopped early */

    /* connections */
    ll_conn_t *conns;
    ll_conn_t **idle; /* borrowed pointers into conns */
    uint32_t nidle;

    /* results */
    ll_stats_t warm, meas;
};

/* sched.c */
int ll_sched_init(ll_t *L);
void ll_sched_start(ll_t *L);
void ll_sched_free(ll_t *L);
/* Connection events for the schedule. */
void ll_conn_settled(ll_t *L, ll_conn_t *c);
void ll_conn_ready(ll_t *L, ll_conn_t *c); /* up and idle: give it work */
/* A request finished (ok or kind); c is idle again unless it was dropped. */
void ll_request_done(ll_t *L, ll_conn_t *c);
void ll_stop(ll_t *L);
ll_stats_t *ll_stats_of(ll_t *L, int measured);

/* conn.c */
void ll_conn_init(ll_t *L, ll_conn_t *c);
void ll_conn_send(ll_conn_t *c, uint64_t start_ns, int measured);
void ll_conn_close(ll_conn_t *c);
void ll_conn_free(ll_conn_t *c);

/* report.c */
void ll_report_text(const ll_t *L, FILE *f);
int ll_report_json(const ll_t *L, const char *path);

#endif
