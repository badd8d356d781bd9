/* pool.c - storage-postgres: the connections together.
 *
 * Routing: an op with a key (a session, a lease, an outbox item) always goes
 * to connection hash(key) % poolSize, so that key's ops reach the server in
 * call order; other ops go to the least busy ready connection.
 *
 * Availability: start waits for connection 0 (connected, migrated,
 * prepared: startup.c); the others follow in the background, and ops routed
 * to them wait for them at most timeoutMs. A connection that breaks fails
 * its ops (OC_EUNAVAIL) and reconnects at once, then with backoff (100 ms
 * doubling to 5 s); while its reconnection fails, its ops fail at once. One
 * warning when the pool stops being fully connected, one info when it is
 * again.
 *
 * Callbacks of failed ops run from a 0 ms timer ("soon"), never inside a
 * storage call; stop finishes from that timer too, as its last action.
 * Home loop only. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int connecting(const pg_conn_t *c)
{
    return c->state == PG_CONN_RESOLVING || c->state == PG_CONN_CONNECTING ||
           c->state == PG_CONN_SETUP;
}

static pg_conn_t *route(pg_state_t *st, const pg_op_t *op)
{
    uint32_t n = st->cfg.pool_size;
    if (op->key != NULL)
        return &st->conns[hash(op->key) % n];
    pg_conn_t *best = NULL;
    size_t load = (size_t)-1;
    for (uint32_t i = 0; i < n && load > 0; i++) {
        pg_conn_t *c = &st->conns[(st->rr + i) % n];
        if (c->state == PG_CONN_READY && c->queued + c->inflight < load) {
            best = c;
            load = c->queued + c->inflight;
        }
    }
    st->rr++;
    if (best != NULL)
        return best;
    for (uint32_t i = 0; i < n; i++)
        if (connecting(&st->conns[i]))
            return &st->conns[i];
    return &st->conns[st->rr % n];
}

/* The op's connection is down and its reconnection failed: fail at once
 * (ops are only called after start, when connection 0 was ready). */
static int fail_fast(const pg_conn_t *c)
{
    return c->state == PG_CONN_DOWN && c->failures > 0;
}

int32_t pg_submit(pg_state_t *st, pg_op_t *op)
{
    pg_conn_t *c = route(st, op);
    if (fail_fast(c)) {
        op->why = "the server is unreachable";
        pg_pool_soon(st, op, OC_EUNAVAIL);
        return OC_PENDING;
    }
    pg_conn_enqueue(c, op);
    /* Sent on the next writable event: every op called in this loop turn
     * leaves in one write. */
    if (c->state == PG_CONN_READY)
        pg_conn_watch(c, c->fd, OC_IO_READ | OC_IO_WRITE, 0);
    return OC_PENDING;
}

/* ---- delivery ------------------------------------------------------------ */

void pg_pool_complete(pg_state_t *st, pg_op_t *op)
{
    if (op->status != OC_OK && op->why != NULL &&
        st->host->log_enabled(st->self, OC_LOG_DEBUG))
        st->host->log(st->self, OC_LOG_DEBUG, "%s: %s: %s", pg_op_name(op->kind),
                      st->host->strerror(op->status), op->why);
    pg_metrics_op(st, op, pg_mono_ns());
    pg_op_deliver(op);
    pg_op_free(op);
}

static void finish_stop(pg_state_t *st)
{
    if (st->phase != PG_PHASE_STOPPING || st->resolves > 0 || st->soon_head != NULL)
        return;
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        if (st->conns[i].state != PG_CONN_CLOSED)
            return;
    if (st->sweep_timer != NULL)
        st->host->timer_stop(st->sweep_timer);
    st->sweep_timer = NULL;
    st->phase = PG_PHASE_STOPPED;
    pg_metrics_pool(st, 0);
    oc_stop_done_cb done = st->stop_done;
    void *data = st->stop_data;
    st->stop_done = NULL;
    if (done != NULL)
        done(data); /* the host may destroy st now: nothing follows */
}

static void on_soon(void *data)
{
    pg_state_t *st = data;
    st->soon_timer = NULL;
    pg_op_t *op = st->soon_head;
    st->soon_head = st->soon_tail = NULL;
    while (op != NULL) {
        pg_op_t *next = op->next;
        pg_pool_complete(st, op); /* may queue new failures: the next turn */
        op = next;
    }
    finish_stop(st);
}

static void arm_soon(pg_state_t *st)
{
    if (st->soon_timer == NULL)
        st->soon_timer = st->host->timer_start(st->self, 0, 0, on_soon, st);
}

void pg_pool_soon(pg_state_t *st, pg_op_t *op, int32_t status)
{
    op->status = status;
    op->next = NULL;
    if (st->soon_tail != NULL)
        st->soon_tail->next = op;
    else
        st->soon_head = op;
    st->soon_tail = op;
    arm_soon(st);
}

void pg_pool_check_stopped(pg_state_t *st)
{
    if (st->phase == PG_PHASE_STOPPING)
        arm_soon(st);
}

/* ---- connections up and down ------------------------------------------------ */

static uint32_t ready_count(const pg_state_t *st)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        n += st->conns[i].state == PG_CONN_READY;
    return n;
}

/* The connections that never tried: they follow connection 0. */
static void connect_idle(pg_state_t *st)
{
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        if (st->conns[i].state == PG_CONN_DOWN && !pg_conn_timer_armed(&st->conns[i]))
            pg_conn_connect(&st->conns[i]);
}

void pg_pool_conn_ready(pg_state_t *st, pg_conn_t *c)
{
    const oc_host_api_t *h = st->host;
    if (st->phase == PG_PHASE_STARTING) {
        st->phase = PG_PHASE_RUNNING;
        if (!st->sync) /* else pg_pool_start connects them once start's wait is over */
            connect_idle(st);
    }
    pg_metrics_pool(st, 0);
    if (!st->all_up && ready_count(st) == st->cfg.pool_size) {
        st->all_up = 1;
        if (st->down_since_ms == 0)
            h->log(st->self, OC_LOG_INFO,
                   "connected to %s: PostgreSQL %s, schema \"%s\" v%d, %u connections, "
                   "pipeline depth %u",
                   st->cfg.url.redacted, st->server_version, st->cfg.schema,
                   pg_schema_latest(), st->cfg.pool_size, st->cfg.pipeline_depth);
        else
            h->log(st->self, OC_LOG_INFO, "connection to %s is back after %" PRIu64 " ms",
                   st->cfg.url.redacted, pg_mono_ms() - st->down_since_ms);
        st->down_since_ms = 0;
    }
    pg_conn_pump(c);
}

/* A permanent error inside start: start fails (startup.c sees the phase). */
static void start_failed(pg_state_t *st)
{
    st->phase = PG_PHASE_FAILED;
    st->host->log(st->self, OC_LOG_ERROR, "cannot start: %s: %s", st->cfg.url.redacted,
                  st->last_error);
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        pg_conn_close(&st->conns[i]);
}

void pg_pool_conn_down(pg_state_t *st, pg_conn_t *c, int was_ready, int transient)
{
    const oc_host_api_t *h = st->host;
    pg_metrics_pool(st, was_ready);
    if (st->phase == PG_PHASE_STOPPING || st->phase == PG_PHASE_STOPPED ||
        st->phase == PG_PHASE_FAILED) {
        pg_conn_close(c);
        pg_pool_check_stopped(st);
        return;
    }
    if (was_ready) {
        if (st->all_up || st->down_since_ms == 0) {
            h->log(st->self, OC_LOG_WARN, "lost the connection to %s: %s; reconnecting",
                   st->cfg.url.redacted, st->last_error);
            st->down_since_ms = pg_mono_ms();
        }
        st->all_up = 0;
        c->failures = 0;
        c->backoff_ms = 0;
        pg_conn_connect(c); /* at once: most breaks are one connection's */
        return;
    }
    c->failures++;
    if (h->log_enabled(st->self, OC_LOG_DEBUG))
        h->log(st->self, OC_LOG_DEBUG, "connection %d: attempt %d failed: %s", c->index,
               c->failures, st->last_error);
    if (!transient && !st->migrated) {
        start_failed(st);
        return;
    }
    if (!st->migrated) {
        int in_window = st->cfg.startup_retry_s > 0 && pg_mono_ms() < st->start_deadline_ms;
        if (!in_window && !st->start_window_over) {
            st->start_window_over = 1; /* start's wait ends: startup.c */
            h->log(st->self, OC_LOG_ERROR,
                   "cannot start: no connection to %s within startupRetrySeconds (%u s): %s",
                   st->cfg.url.redacted, st->cfg.startup_retry_s, st->last_error);
            return;
        }
    } else {
        /* The reconnection failed: what waited for it fails now. */
        pg_conn_fail_queued(c, OC_EUNAVAIL, "the server is unreachable");
        if (!transient && c->failures == 1)
            h->log(st->self, OC_LOG_ERROR, "cannot reconnect to %s: %s (retrying every %d s)",
                   st->cfg.url.redacted, st->last_error, BACKOFF_MAX_MS / 1000);
    }
    uint32_t next = c->backoff_ms == 0 ? BACKOFF_MIN_MS : c->backoff_ms * 2;
    c->backoff_ms = !transient || next > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : next;
    pg_conn_retry_later(c, c->backoff_ms);
}

/* ---- start, stop, sweep --------------------------------------------------------- */

static void on_sweep(void *data)
{
    pg_state_t *st = data;
    uint64_t now = pg_mono_ms();
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        pg_conn_sweep(&st->conns[i], now);
}

int32_t pg_pool_start(pg_state_t *st)
{
    const oc_host_api_t *h = st->host;
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        pg_conn_init(&st->conns[i], st, (int)i);
    st->phase = PG_PHASE_STARTING;
    st->start_deadline_ms = pg_mono_ms() + (uint64_t)st->cfg.startup_retry_s * 1000u;
    int32_t rc = pg_startup_run(st);
    if (rc != OC_OK)
        return rc;
    uint32_t every = st->cfg.timeout_ms / 10;
    every = every < 10 ? 10 : every > 250 ? 250 : every;
    st->sweep_timer = h->timer_start(st->self, every, every, on_sweep, st);
    if (st->sweep_timer == NULL) {
        pg_conn_close(&st->conns[0]);
        st->phase = PG_PHASE_STOPPED;
        return OC_ENOMEM;
    }
    connect_idle(st);
    return OC_OK;
}

void pg_pool_stop(pg_state_t *st)
{
    st->phase = PG_PHASE_STOPPING;
    for (uint32_t i = 0; i < st->cfg.pool_size; i++) {
        pg_conn_t *c = &st->conns[i];
        if (c->state != PG_CONN_READY)
            pg_conn_close(c); /* never connected: what waits is canceled */
        else if (c->q_head == NULL && c->f_head == NULL)
            pg_conn_close(c);
        /* else: it drains, then pg_conn_pump closes it */
    }
    pg_pool_check_stopped(st);
}

void pg_log_op_error(pg_state_t *st, const pg_op_t *op, const PGresult *r)
{
    uint64_t now = pg_mono_ms();
    if (now - st->last_log_ms < 1000 && st->last_log_ms != 0)
        return; /* one a second at most: a broken schema must not flood */
    st->last_log_ms = now;
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    char line[PG_TEXT_MAX];
    pg_one_line(st, line, sizeof line, msg != NULL ? msg : PQresultErrorMessage(r));
    st->host->log(st->self, OC_LOG_WARN, "%s failed: %s (SQLSTATE %s)", pg_op_name(op->kind),
                  line, code != NULL ? code : "none");
}

void pg_pool_health(pg_state_t *st)
{
    uint32_t n = st->cfg.pool_size, ready = ready_count(st);
    const char *url = st->cfg.url.redacted != NULL ? st->cfg.url.redacted : "postgresql";
    int32_t status = OC_EUNAVAIL;
    switch (st->phase) {
    case PG_PHASE_NEW:
        snprintf(st->health, sizeof st->health, "not started");
        break;
    case PG_PHASE_STOPPING:
    case PG_PHASE_STOPPED:
    case PG_PHASE_FAILED: /* start failed: the host destroys the instance */
        snprintf(st->health, sizeof st->health, "stopped");
        break;
    default:
        if (ready == n) {
            status = OC_OK;
            snprintf(st->health, sizeof st->health, "ok: %u connections to %s, schema v%d", n,
                     url, pg_schema_latest());
        } else if (ready > 0) {
            status = OC_OK; /* most ops work; the rest reconnects */
            snprintf(st->health, sizeof st->health,
                     "degraded: %u of %u connections to %s up; last error: %s", ready, n, url,
                     st->last_error);
        } else {
            snprintf(st->health, sizeof st->health, "unavailable: no connection to %s: %s; "
                     "retrying", url, st->last_error);
        }
        break;
    }
    st->health_status = status;
}
