/* io_int.h - storage-redis: the I/O thread's own types (T only).
 *
 *   io.c         the thread, H's wake-ups, sending ops, deadlines, stop
 *   conn.c       connection attempts: resolve, connect, backoff, startup
 *   handshake.c  AUTH, SELECT, the layout check, SCRIPT LOAD, keep-alive
 *   adapter.c    hiredis's event hooks over a uv_poll
 *
 * Every function here runs on T, the thread that owns io->loop. */
#ifndef RD_IO_INT_H
#define RD_IO_INT_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "rd.h"

typedef enum {
    IO_IDLE,       /* no connection: waiting for the next attempt */
    IO_RESOLVING,  /* looking the host name up */
    IO_CONNECTING, /* TCP connect and the handshake */
    IO_READY,      /* ops run */
    IO_CLOSING     /* stopping: handles are closing */
} io_phase_t;

/* One hiredis connection (or attempt) and its poll handle. Freed in the
 * poll handle's close callback, after hiredis is done with it. */
typedef struct rd_conn_s {
    uv_poll_t poll;
    int events;             /* UV_READABLE | UV_WRITABLE wanted by hiredis */
    redisAsyncContext *ac;  /* NULL once hiredis freed it */
    rd_io_t *io;
    int hs_pending;         /* handshake replies still to come */
    int failed;             /* error is set: the connection is going */
    int permanent;          /* retrying cannot help (wrong password...) */
    int reported;           /* health already says it is down */
    char error[RD_TEXT_MAX];
} rd_conn_t;

struct rd_io_s {
    rd_state_t *st;
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t op_timer;   /* the earliest op deadline */
    uv_timer_t conn_timer; /* connect timeout, or the wait before the next attempt */
    uv_timer_t ping_timer; /* keep-alive while idle */
    uv_getaddrinfo_t gai;
    int gai_active;
    int resolve_expired;   /* connectTimeoutMs passed while resolving */
    io_phase_t phase;
    rd_conn_t *conn;
    rd_op_t *fly_head, *fly_tail;   /* sent, with a deadline, in send order */
    rd_op_t *wait_head, *wait_tail; /* user ops waiting for the handshake */
    size_t user_ops;       /* storage ops on T, waiting or in flight */
    uint64_t timer_at;     /* monotonic ms op_timer fires at; 0 = not armed */
    char sha[RD_OP__USER][41];
    int reloading;         /* a SCRIPT LOAD after NOSCRIPT is on its way */
    char ip[64];
    uint64_t backoff_ms;
    uint64_t startup_deadline_ms;
    int started;           /* startup succeeded: H is running */
    int stopping;
    int ready_once;        /* READY since the last loss (for the recovery log) */
    uint64_t lost_at_ms;
    unsigned attempts;     /* failed attempts since the loss */
    int layout_from;       /* what the layout script found */
    char logged[RD_TEXT_MAX]; /* the last attempt error logged, to log each once */
    uint64_t err_logged_ms;   /* rate limit of "the server refused an op" logs */
    unsigned err_suppressed;
};

/* io.c */
/* hiredis's reply callback of every command (privdata: the op). */
void io_on_reply(redisAsyncContext *ac, void *reply, void *privdata);
void io_send(rd_io_t *io, rd_op_t *op);
/* A storage op is finished: hand it to H (status already set or given). */
void io_finish(rd_io_t *io, rd_op_t *op, int32_t status);
void io_fail_waiting(rd_io_t *io, int32_t status);
void io_flush_waiting(rd_io_t *io);
void io_track(rd_io_t *io, rd_op_t *op);   /* onto the in-flight list, timer armed */
void io_untrack(rd_io_t *io, rd_op_t *op);
void io_shutdown(rd_io_t *io);             /* close everything; the loop then ends */
void io_arm_conn_timer(rd_io_t *io, uint64_t delay_ms); /* fires conn_timer_fired */
void io_start_ping(rd_io_t *io);
/* Drop the connection with a reason (its ops fail with OC_EUNAVAIL). */
void io_drop(rd_io_t *io, const char *fmt, ...) OC_PRINTF(2, 3);
/* Health says the connection is down, before its ops fail: a caller that
 * got OC_EUNAVAIL then sees it in health too. */
void io_report_down(rd_io_t *io, rd_conn_t *c);

/* conn.c */
void conn_attempt(rd_io_t *io);
void conn_timer_fired(rd_io_t *io);
/* The connection is gone (adapter cleanup): count the attempt or the loss,
 * schedule the next attempt, or end the startup. */
void conn_gone(rd_io_t *io, rd_conn_t *c);
void conn_ready(rd_io_t *io);

/* handshake.c */
int hs_begin(rd_io_t *io, rd_conn_t *c); /* queue the handshake: 0 or -1 */
void hs_reply(rd_io_t *io, rd_conn_t *c, rd_op_t *op, const redisReply *r);
void hs_ping(rd_io_t *io);
void hs_reload(rd_io_t *io); /* SCRIPT LOAD again after a NOSCRIPT */
/* Whether a server error means retrying cannot help. */
int hs_permanent(const char *err);

/* adapter.c. Attach a new context: the conn, or NULL (ac then freed). */
rd_conn_t *adapter_attach(rd_io_t *io, redisAsyncContext *ac);
/* The conn of a context's callbacks. */
rd_conn_t *adapter_conn(const redisAsyncContext *ac);
/* Record why the connection goes (the first reason wins). */
void conn_set_error(rd_conn_t *c, int permanent, const char *fmt, ...) OC_PRINTF(3, 4);

#endif
