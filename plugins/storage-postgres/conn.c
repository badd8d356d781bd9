/* conn.c - storage-postgres: one connection's life and its pipeline.
 *
 * DOWN -> (RESOLVING) -> CONNECTING -> SETUP -> READY, and back to DOWN on any
 * failure (the pool decides when to try again). In READY the connection is
 * in libpq pipeline mode and non-blocking: ops leave the queue as rounds
 * (statements + Sync) while fewer than pipelineDepth are in flight; results
 * come back in send order and go to the oldest round in flight.
 *
 * Home loop only. Callbacks of completed ops run from the io callback here;
 * failed ops go to the pool's "soon" list instead, so no callback ever runs
 * inside a storage call. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"

static void on_io(void *data, int32_t status, uint32_t events);

void pg_conn_init(pg_conn_t *c, pg_state_t *st, int index)
{
    memset(c, 0, sizeof *c);
    c->st = st;
    c->index = index;
    c->fd = -1;
    c->state = PG_CONN_DOWN;
}

/* ---- the socket watch ---------------------------------------------------- */

void pg_conn_unwatch(pg_conn_t *c)
{
    if (c->io != NULL)
        c->st->host->io_stop(c->io);
    c->io = NULL;
    c->fd = -1;
    c->events = 0;
}

/* While start drives the connection (startup.c polls c->fd for c->events). */
static void sync_watch(pg_conn_t *c, int fd, uint32_t events)
{
    c->fd = fd;
    c->events = events;
}

/* `fresh`: a new watch even on the same descriptor number (libpq may have
 * closed its socket and opened another that got the same number). */
void pg_conn_watch(pg_conn_t *c, int fd, uint32_t events, int fresh)
{
    const oc_host_api_t *h = c->st->host;
    if (fd < 0) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "libpq has no socket");
        return;
    }
    if (c->st->sync && c->io == NULL) {
        sync_watch(c, fd, events);
        return;
    }
    if (!fresh && c->io != NULL && fd == c->fd) {
        if (events != c->events && h->io_update(c->io, events) == OC_OK)
            c->events = events;
        return;
    }
    pg_conn_unwatch(c);
    c->io = h->io_start(c->st->self, fd, events, on_io, c);
    if (c->io == NULL) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot watch the connection's socket");
        return;
    }
    c->fd = fd;
    c->events = events;
}

/* ---- queue and pipeline ----------------------------------------------------- */

void pg_conn_enqueue(pg_conn_t *c, pg_op_t *op)
{
    op->next = NULL;
    if (c->q_tail != NULL)
        c->q_tail->next = op;
    else
        c->q_head = op;
    c->q_tail = op;
    c->queued++;
}

static pg_op_t *dequeue(pg_conn_t *c)
{
    pg_op_t *op = c->q_head;
    if (op != NULL) {
        c->q_head = op->next;
        if (c->q_head == NULL)
            c->q_tail = NULL;
        c->queued--;
        op->next = NULL;
    }
    return op;
}

/* Queue the round's statements and its Sync in libpq's buffer. 0 when libpq
 * refused (the connection is broken); the op is in flight either way. */
static int send_round(pg_conn_t *c, pg_op_t *op)
{
    op->next = NULL;
    if (c->f_tail != NULL)
        c->f_tail->next = op;
    else
        c->f_head = op;
    c->f_tail = op;
    c->inflight++;
    op->nres = 0;
    op->sent_ms = pg_mono_ms();
    for (int i = 0; i < op->ncalls; i++) {
        const pg_stmt_t *s = &pg_stmts[op->calls[i].stmt];
        if (!PQsendQueryPrepared(c->pq, s->name, s->nparams, op->calls[i].params, NULL, NULL,
                                 0))
            return 0;
    }
    return PQpipelineSync(c->pq);
}

/* Push libpq's buffer to the socket; watch for writability while some is
 * left (and keep reading meanwhile, as libpq asks). 0 on failure. */
int pg_conn_flush(pg_conn_t *c)
{
    int rc = PQflush(c->pq);
    if (rc < 0) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot send to the server: %s",
                     PQerrorMessage(c->pq));
        return 0;
    }
    pg_conn_watch(c, c->fd, rc == 1 ? OC_IO_READ | OC_IO_WRITE : OC_IO_READ, 0);
    return c->state != PG_CONN_DOWN && c->state != PG_CONN_CLOSED;
}

void pg_conn_pump(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    if (c->state != PG_CONN_READY || c->processing)
        return;
    int sent = 0;
    while (c->q_head != NULL && c->inflight < st->cfg.pipeline_depth) {
        pg_op_t *op = dequeue(c);
        if (!send_round(c, op)) {
            pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot send to the server: %s",
                         PQerrorMessage(c->pq));
            return;
        }
        sent = 1;
    }
    if (sent && !pg_conn_flush(c))
        return;
    if (st->phase == PG_PHASE_STOPPING && c->q_head == NULL && c->f_head == NULL) {
        pg_conn_close(c); /* drained: stop may finish */
        pg_pool_check_stopped(st);
    }
}

int pg_conn_retry_ok(const pg_conn_t *c, const pg_op_t *op)
{
    if (op->key == NULL)
        return 1;
    for (const pg_op_t *o = c->f_head; o != NULL; o = o->next)
        if (o != op && o->key != NULL && strcmp(o->key, op->key) == 0)
            return 0; /* a later op of the key already ran: no going back */
    return 1;
}

/* The oldest round's Sync arrived: its results are all there. */
static void round_done(pg_conn_t *c, pg_op_t *op)
{
    pg_state_t *st = c->st;
    int fin = pg_op_finish(st, op, c);
    if (fin == PG_FIN_AGAIN) {
        if (!send_round(c, op))
            pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot send to the server: %s",
                         PQerrorMessage(c->pq));
        return;
    }
    c->progress_ms = pg_mono_ms();
    pg_pool_complete(st, op); /* the callback may queue more ops: pumped later */
}

/* Hand every available result to the oldest round in flight. Results: per
 * statement one PGresult then NULL; per Sync one PGRES_PIPELINE_SYNC. */
static void process(pg_conn_t *c)
{
    c->processing = 1;
    while (c->state == PG_CONN_READY && c->f_head != NULL && !PQisBusy(c->pq)) {
        PGresult *r = PQgetResult(c->pq);
        if (r == NULL) {
            if (!c->await_null)
                break; /* nothing ready after all */
            c->await_null = 0;
            continue;
        }
        pg_op_t *op = c->f_head;
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            c->await_null = 0;
            c->f_head = op->next;
            if (c->f_head == NULL)
                c->f_tail = NULL;
            c->inflight--;
            op->next = NULL;
            round_done(c, op);
            continue;
        }
        c->await_null = 1;
        if (op->nres < op->ncalls)
            op->res[op->nres++] = r;
        else
            PQclear(r); /* more results than statements: not ours to keep */
    }
    c->processing = 0;
    if (c->close_pending) {
        c->close_pending = 0;
        pg_conn_close(c);
        pg_pool_check_stopped(c->st);
        return;
    }
    if (c->state == PG_CONN_READY && PQstatus(c->pq) == CONNECTION_BAD)
        pg_conn_fail(c, 1, OC_EUNAVAIL, "%s", PQerrorMessage(c->pq));
}

static void ready_io(pg_conn_t *c, uint32_t events)
{
    if ((events & OC_IO_WRITE) && !pg_conn_flush(c))
        return;
    if (events & OC_IO_READ) {
        if (!PQconsumeInput(c->pq)) {
            pg_conn_fail(c, 1, OC_EUNAVAIL, "%s", PQerrorMessage(c->pq));
            return;
        }
        process(c);
        if (c->state != PG_CONN_READY)
            return;
        if ((c->events & OC_IO_WRITE) && !pg_conn_flush(c))
            return;
    }
    pg_conn_pump(c);
}

static void on_io(void *data, int32_t status, uint32_t events)
{
    (void)status; /* libpq's own read or write reports a socket error */
    pg_conn_on_io(data, events);
}

void pg_conn_on_io(pg_conn_t *c, uint32_t events)
{
    switch (c->state) {
    case PG_CONN_CONNECTING:
        pg_connect_poll(c);
        break;
    case PG_CONN_SETUP:
        pg_setup_input(c);
        break;
    case PG_CONN_READY:
        ready_io(c, events);
        break;
    default:
        break;
    }
}

/* ---- attempts, failure, close ---------------------------------------------- */

static void on_attempt_timeout(void *data)
{
    pg_conn_t *c = data;
    /* Migrations may take long; only connecting and preparing are bounded. */
    if (c->state == PG_CONN_SETUP && c->step < PG_SETUP_PREPARE)
        return;
    if (c->state == PG_CONN_RESOLVING || c->state == PG_CONN_CONNECTING ||
        c->state == PG_CONN_SETUP)
        pg_conn_fail(c, 1, OC_EUNAVAIL, "no connection within %u ms (connectTimeoutMs)",
                     c->st->cfg.connect_timeout_ms);
}

/* ---- the connection's one timer --------------------------------------------- */

static void on_timer(void *data)
{
    pg_conn_t *c = data;
    void (*cb)(void *) = c->sync_cb;
    c->timer = NULL; /* one-shot: the host releases it after this */
    c->sync_cb = NULL;
    c->sync_due_ms = 0;
    if (cb != NULL)
        cb(c);
}

void pg_conn_timer_stop(pg_conn_t *c)
{
    if (c->timer != NULL)
        c->st->host->timer_stop(c->timer);
    c->timer = NULL;
    c->sync_cb = NULL;
    c->sync_due_ms = 0;
}

int pg_conn_timer_armed(const pg_conn_t *c)
{
    return c->sync_cb != NULL;
}

/* cb(c) after ms; replaces the armed one. sync_cb holds the callback in
 * both modes; startup.c fires it itself when sync_due_ms is reached. */
static void timer_start(pg_conn_t *c, uint64_t ms, void (*cb)(void *))
{
    pg_conn_timer_stop(c);
    c->sync_cb = cb;
    c->sync_due_ms = pg_mono_ms() + ms;
    if (!c->st->sync)
        c->timer = c->st->host->timer_start(c->st->self, ms, 0, on_timer, c);
}

void pg_conn_arm_attempt(pg_conn_t *c)
{
    timer_start(c, c->st->cfg.connect_timeout_ms, on_attempt_timeout);
}

void pg_conn_connect(pg_conn_t *c)
{
    pg_conn_arm_attempt(c);
    c->step = PG_SETUP_BEGIN;
    if (c->st->cfg.url.host_is_name) {
        c->state = PG_CONN_RESOLVING;
        if (pg_resolve_start(c) != 0)
            pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot look up the host: the thread pool refused");
        return;
    }
    pg_connect_start(c, NULL);
}

static void on_backoff(void *data)
{
    pg_conn_t *c = data;
    if (c->state == PG_CONN_DOWN)
        pg_conn_connect(c);
}

void pg_conn_retry_later(pg_conn_t *c, uint32_t delay_ms)
{
    timer_start(c, delay_ms, on_backoff);
}

/* Close libpq and the watch; ops are the caller's business. */
static void drop(pg_conn_t *c)
{
    if (c->resolve != NULL)
        pg_resolve_abandon(c);
    pg_conn_timer_stop(c);
    pg_conn_unwatch(c);
    if (c->pq != NULL)
        PQfinish(c->pq);
    c->pq = NULL;
    c->await_null = 0;
    c->prepare_left = 0;
    c->setup_failed = 0;
}

static void fail_list(pg_state_t *st, pg_op_t *op, int32_t status, const char *why)
{
    while (op != NULL) {
        pg_op_t *next = op->next;
        op->why = why;
        pg_op_clear_results(op);
        pg_pool_soon(st, op, status);
        op = next;
    }
}

void pg_conn_fail_queued(pg_conn_t *c, int32_t status, const char *why)
{
    pg_op_t *q = c->q_head;
    c->q_head = c->q_tail = NULL;
    c->queued = 0;
    fail_list(c->st, q, status, why);
}

void pg_conn_fail(pg_conn_t *c, int transient, int32_t status, const char *fmt, ...)
{
    pg_state_t *st = c->st;
    if (c->state == PG_CONN_DOWN || c->state == PG_CONN_CLOSED)
        return;
    char msg[PG_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pg_one_line(st, st->last_error, sizeof st->last_error, msg);

    int was_ready = c->state == PG_CONN_READY;
    drop(c);
    c->state = PG_CONN_DOWN;
    /* Rounds in flight: their outcome is unknown (applied whole or not at
     * all). Queued ops of a connection that was serving fail too: nothing
     * is held for a server that just went away. */
    pg_op_t *f = c->f_head;
    c->f_head = c->f_tail = NULL;
    c->inflight = 0;
    fail_list(st, f, status, "the connection broke with the operation in flight");
    if (was_ready || st->phase == PG_PHASE_STOPPING)
        pg_conn_fail_queued(c, st->phase == PG_PHASE_STOPPING ? OC_ECANCELED : status,
                            "the connection broke");
    pg_pool_conn_down(st, c, was_ready, transient);
}

void pg_conn_close(pg_conn_t *c)
{
    if (c->state == PG_CONN_CLOSED)
        return;
    if (c->processing) { /* process() closes it when its loop is done */
        c->close_pending = 1;
        return;
    }
    drop(c);
    c->state = PG_CONN_CLOSED;
    pg_op_t *f = c->f_head;
    c->f_head = c->f_tail = NULL;
    c->inflight = 0;
    fail_list(c->st, f, OC_ECANCELED, "the gateway is stopping");
    pg_conn_fail_queued(c, OC_ECANCELED, "the gateway is stopping");
}

void pg_conn_sweep(pg_conn_t *c, uint64_t now_ms)
{
    uint32_t timeout = c->st->cfg.timeout_ms;
    if (c->state == PG_CONN_READY) {
        /* Stuck: the oldest round waits and nothing completed for timeoutMs
         * (a deep pipeline the server works through is not stuck). */
        uint64_t since = c->f_head != NULL ? c->f_head->sent_ms : 0;
        if (c->progress_ms > since)
            since = c->progress_ms;
        if (c->f_head != NULL && now_ms - since >= timeout)
            pg_conn_fail(c, 1, OC_EUNAVAIL,
                         "no answer from the server within %u ms (timeoutMs)", timeout);
        return;
    }
    /* Waiting for a connection: in call order, so the oldest come first. */
    while (c->q_head != NULL && now_ms - c->q_head->call_ms >= timeout) {
        pg_op_t *op = dequeue(c);
        op->why = "no connection to the server within timeoutMs";
        pg_pool_soon(c->st, op, OC_EUNAVAIL);
    }
}
