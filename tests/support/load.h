/* tests/support/load.h - webhook-load, the inbound-message load generator:
 * state shared by its files.
 *
 *   webhook_load.c  options, start, the report
 *   load_sched.c    the schedule (fixed rate or all at once), per-session
 *                   order, retries, the outcome of each message
 *   load_conn.c     HTTP/1.1 on keep-alive connections (load_net.c): one
 *                   request at a time
 *
 * One thread, one libuv loop. Times are CLOCK_MONOTONIC nanoseconds, the
 * clock webhook-sink stamps its records with, so the two can be compared. */
#ifndef LOAD_H
#define LOAD_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "load_clock.h"
#include "load_hist.h"
#include "load_net.h"
#include "util/buf.h"

/* Error kinds: a message's final error, or the cause of a retry. */
enum {
    LE_CONN,    /* connection lost before the answer (refused, reset, closed) */
    LE_TIMEOUT, /* no answer within --timeout-ms */
    LE_HTTP,    /* an HTTP status other than 2xx (counted per status too) */
    LE_KINDS
};

typedef struct load_s load_t;

typedef struct conn_s {
    ln_conn_t net; /* its timer is the request timeout while busy */
    load_t *L;
    int idle;     /* up, in L->idle, no message */
    int64_t msg;  /* the message in flight, -1 when none */
    gw_buf_t req; /* the request being sent (net.in holds the answer) */
} conn_t;

typedef struct retry_s {
    uint64_t msg;
    uint64_t due_ns;
} retry_t;

struct load_s {
    uv_loop_t *loop;
    /* options */
    ln_url_t url;
    const char *secret, *prefix, *session_prefix;
    uint64_t messages, sessions, rate;
    uint32_t concurrency, timeout_ms;
    double max_seconds;
    int retry, ordered, progress, json;
    FILE *acked_file;

    /* schedule */
    uint64_t t0;          /* when the run started */
    uint64_t released;    /* messages the schedule let go so far, in index order */
    uint64_t *ring;       /* ready messages, FIFO of capacity messages + 1 */
    uint64_t ring_head, ring_tail;
    retry_t *retries;     /* waiting for their backoff; unordered */
    size_t nretries, retries_cap;
    uint8_t *busy;        /* per session: one message in flight or waiting to retry */
    uint64_t *waiting;    /* per session: released messages queued behind it */
    uint64_t *start_ns;   /* per message: latency is measured from here */
    uint32_t *attempts;   /* per message */
    lc_timer_t tfd;       /* the next release or retry */
    uv_timer_t progress_timer;
    uv_signal_t sig_int, sig_term;
    int stopping;

    /* connections */
    conn_t *conns;
    conn_t **idle;
    uint32_t nidle;

    /* results */
    uint64_t finished, requests, sent_messages, accepted, duplicates, other_2xx;
    uint64_t errors[LE_KINDS], retried[LE_KINDS], connect_failures;
    uint64_t http_status[600]; /* final errors by status */
    uint64_t retry_status[600];
    uint64_t first_send_ns, last_answer_ns, last_progress_done;
    lh_hist_t latency; /* microseconds */
};

/* load_sched.c */
int load_sched_init(load_t *L);
void load_sched_start(load_t *L);
void load_sched_free(load_t *L);
/* Hands ready messages to idle connections. */
void load_dispatch(load_t *L);
/* The answer to message i: a 2xx status, or an error of kind (status for
 * LE_HTTP). Retried or final as the options say. */
void load_answered(load_t *L, uint64_t i, int status);
void load_failed(load_t *L, uint64_t i, int kind, int status);
/* Stops the run: closes every handle; uv_run returns afterwards. */
void load_stop(load_t *L);

/* load_conn.c */
void load_conn_start(load_t *L, conn_t *c);
/* Sends message i on the idle connection c. */
void load_conn_send(conn_t *c, uint64_t i);
void load_conn_close(conn_t *c);

#endif
