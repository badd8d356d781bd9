/* io.c - storage-redis: the I/O thread (T) and the ops on it.
 *
 * T runs its own libuv loop with the one hiredis connection. H appends ops
 * to the shared submit FIFO and wakes T (uv_async); T sends them in that
 * order on the one connection, so Redis applies them in call order
 * (pipelined, no round trip each). Replies come back in send order; each
 * finished op goes to the shared done FIFO and H is woken with host->post.
 *
 * Deadlines: an op fails with OC_EUNAVAIL timeoutMs after its call. An op
 * waiting for a handshake fails alone; a sent op without a reply means the
 * connection is stuck: it is dropped, and every op on it fails (each op is
 * one script, so none is half-applied). Ops arriving while no connection
 * or attempt exists fail at once.
 *
 * Stop: ops accepted before the stop still run (or fail); then T closes
 * everything, its loop ends, and its last act is to post "exited" to H. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_int.h"

#define PING_EVERY_MS 1000
#define STOP_GRACE_MS 5000 /* well inside the host's 10 s stop deadline */
#define ARGV_STACK 64
#define REFUSED_LOG_EVERY_MS 10000

/* ---- lists ------------------------------------------------------------------ */

#define ON_FLY 1
#define ON_WAIT 2

static void push(rd_op_t **head, rd_op_t **tail, rd_op_t *op)
{
    op->next = NULL;
    op->prev = *tail;
    if (*tail != NULL)
        (*tail)->next = op;
    else
        *head = op;
    *tail = op;
}

static void unlink_op(rd_op_t **head, rd_op_t **tail, rd_op_t *op)
{
    if (op->prev != NULL)
        op->prev->next = op->next;
    else
        *head = op->next;
    if (op->next != NULL)
        op->next->prev = op->prev;
    else
        *tail = op->prev;
    op->next = op->prev = NULL;
}

/* ---- deadlines ---------------------------------------------------------------- */

static void on_op_timer(uv_timer_t *t);

/* Both lists are in deadline order: their heads are the earliest. */
static void arm_op_timer(rd_io_t *io)
{
    uint64_t d = 0;
    if (io->fly_head != NULL)
        d = io->fly_head->deadline_ms;
    if (io->wait_head != NULL && (d == 0 || io->wait_head->deadline_ms < d))
        d = io->wait_head->deadline_ms;
    if (d == 0 || io->phase == IO_CLOSING || (io->timer_at != 0 && io->timer_at <= d))
        return;
    uint64_t now = rd_mono_ms();
    uv_timer_start(&io->op_timer, on_op_timer, d > now ? d - now : 0, 0);
    io->timer_at = d;
}

static void on_op_timer(uv_timer_t *t)
{
    rd_io_t *io = t->data;
    io->timer_at = 0;
    uint64_t now = rd_mono_ms();
    while (io->wait_head != NULL && io->wait_head->deadline_ms <= now)
        io_finish(io, io->wait_head, OC_EUNAVAIL);
    rd_op_t *head = io->fly_head;
    if (head != NULL && head->deadline_ms <= now)
        io_drop(io, "no reply to %s within %" PRIu64 " ms (timeoutMs)", rd_op_name(head->kind),
                io->st->cfg.timeout_ms);
    arm_op_timer(io);
}

void io_track(rd_io_t *io, rd_op_t *op)
{
    push(&io->fly_head, &io->fly_tail, op);
    op->tracked = ON_FLY;
    arm_op_timer(io);
}

void io_untrack(rd_io_t *io, rd_op_t *op)
{
    if (op->tracked == ON_FLY)
        unlink_op(&io->fly_head, &io->fly_tail, op);
    else if (op->tracked == ON_WAIT)
        unlink_op(&io->wait_head, &io->wait_tail, op);
    op->tracked = 0;
}

/* ---- ops ---------------------------------------------------------------------- */

void io_finish(rd_io_t *io, rd_op_t *op, int32_t status)
{
    io_untrack(io, op);
    op->status = status;
    io->user_ops--;
    rd_complete(io->st, op);
    if (io->stopping && io->user_ops == 0)
        io_shutdown(io);
}

void io_fail_waiting(rd_io_t *io, int32_t status)
{
    while (io->wait_head != NULL)
        io_finish(io, io->wait_head, status);
}

void io_send(rd_io_t *io, rd_op_t *op)
{
    rd_conn_t *c = io->conn;
    if (c == NULL || c->ac == NULL || c->failed) {
        io_finish(io, op, OC_EUNAVAIL);
        return;
    }
    const char *sv[ARGV_STACK];
    size_t sl[ARGV_STACK];
    size_t n = op->argc + 4;
    const char **argv = n <= ARGV_STACK ? sv : malloc(n * sizeof *argv);
    size_t *lens = n <= ARGV_STACK ? sl : malloc(n * sizeof *lens);
    if (argv == NULL || lens == NULL) {
        if (argv != sv)
            free(argv);
        if (lens != sl)
            free(lens);
        io_finish(io, op, OC_ENOMEM);
        return;
    }
    const char *script = op->eval ? rd_scripts[op->kind] : io->sha[op->kind];
    argv[0] = op->eval ? "EVAL" : "EVALSHA";
    lens[0] = strlen(argv[0]);
    argv[1] = script;
    lens[1] = strlen(script);
    argv[2] = "0"; /* numkeys: the keys are built from the prefix (lua.h) */
    lens[2] = 1;
    argv[3] = io->st->cfg.prefix;
    lens[3] = strlen(argv[3]);
    memcpy(argv + 4, op->argv, op->argc * sizeof *argv);
    memcpy(lens + 4, op->argvlen, op->argc * sizeof *lens);
    int rc = redisAsyncCommandArgv(c->ac, io_on_reply, op, (int)n, argv, lens);
    if (argv != sv)
        free(argv);
    if (lens != sl)
        free(lens);
    if (rc != REDIS_OK) {
        io_finish(io, op, OC_EUNAVAIL);
        return;
    }
    io_track(io, op);
}

void io_flush_waiting(rd_io_t *io)
{
    while (io->wait_head != NULL && io->phase == IO_READY) {
        rd_op_t *op = io->wait_head;
        io_untrack(io, op);
        io_send(io, op);
    }
}

/* The deadline of an op sent again (NOSCRIPT, prune's next batch). */
static uint64_t fresh_deadline(const rd_io_t *io)
{
    uint64_t t = io->st->cfg.timeout_ms;
    return rd_mono_ms() + (io->stopping && t > STOP_GRACE_MS ? STOP_GRACE_MS : t);
}

/* An error reply to a storage op: logged, at most every 10 s (an OOM
 * server would otherwise flood the log). */
static void log_refused(rd_io_t *io, const rd_op_t *op, const char *err)
{
    uint64_t now = rd_mono_ms();
    if (io->err_logged_ms != 0 && now - io->err_logged_ms < REFUSED_LOG_EVERY_MS) {
        io->err_suppressed++;
        return;
    }
    if (io->err_suppressed > 0)
        io->st->host->log(io->st->self, OC_LOG_WARN,
                          "the server refused %s: %s (and %u more since the last report)",
                          rd_op_name(op->kind), err, io->err_suppressed);
    else
        io->st->host->log(io->st->self, OC_LOG_WARN, "the server refused %s: %s",
                          rd_op_name(op->kind), err);
    io->err_logged_ms = now;
    io->err_suppressed = 0;
}

void io_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    rd_op_t *op = privdata;
    rd_conn_t *c = adapter_conn(ac);
    rd_io_t *io = c->io;
    const redisReply *r = reply;
    io_untrack(io, op);
    if (op->kind >= RD_OP__USER) {
        hs_reply(io, c, op, r);
        return;
    }
    if (r == NULL) { /* the connection is going: hiredis fails what is pending */
        io_report_down(io, c);
        io_finish(io, op, OC_EUNAVAIL);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR && !op->eval && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        op->eval = 1;
        hs_reload(io);
        op->deadline_ms = fresh_deadline(io);
        io_send(io, op);
        return;
    }
    int more = rd_reply_apply(op, r);
    if (r->type == REDIS_REPLY_ERROR)
        log_refused(io, op, r->str);
    if (more) { /* prune: the next batch, with a deadline of its own */
        op->deadline_ms = fresh_deadline(io);
        io_send(io, op);
        return;
    }
    io_finish(io, op, op->status);
}

void io_report_down(rd_io_t *io, rd_conn_t *c)
{
    if (c->reported || io->phase != IO_READY)
        return;
    c->reported = 1;
    const char *why = "the connection was closed";
    if (c->failed)
        why = c->error;
    else if (c->ac != NULL && c->ac->c.err != 0)
        why = c->ac->c.errstr;
    rd_set_health(io->st, OC_EUNAVAIL, "%s unreachable: %s", io->st->cfg.url.display, why);
}

void io_drop(rd_io_t *io, const char *fmt, ...)
{
    rd_conn_t *c = io->conn;
    if (c == NULL || c->ac == NULL)
        return;
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->error, sizeof c->error, fmt, ap);
        va_end(ap);
        c->failed = 1;
    }
    io_report_down(io, c);
    redisAsyncFree(c->ac); /* pending callbacks get NULL, then cleanup -> conn_gone */
}

/* ---- H's requests --------------------------------------------------------------- */

static void accept_op(rd_io_t *io, rd_op_t *op)
{
    io->user_ops++;
    op->deadline_ms = op->t0_ns / 1000000u + io->st->cfg.timeout_ms;
    switch (io->phase) {
    case IO_READY:
        io_send(io, op);
        break;
    case IO_RESOLVING:
    case IO_CONNECTING:
        push(&io->wait_head, &io->wait_tail, op);
        op->tracked = ON_WAIT;
        arm_op_timer(io);
        break;
    default: /* between attempts: fail now rather than hold it */
        io_finish(io, op, OC_EUNAVAIL);
        break;
    }
}

static void begin_stop(rd_io_t *io)
{
    io->stopping = 1;
    if (io->phase != IO_READY)
        io_fail_waiting(io, OC_ECANCELED);
    if (io->user_ops == 0) {
        io_shutdown(io);
        return;
    }
    /* Accepted ops get a little longer to finish, not timeoutMs (up to ten
     * minutes): stop must end before the host's deadline. Clamping every
     * deadline keeps the list in deadline order. */
    uint64_t cap = rd_mono_ms() + STOP_GRACE_MS;
    for (rd_op_t *op = io->fly_head; op != NULL; op = op->next)
        if (op->deadline_ms > cap)
            op->deadline_ms = cap;
    arm_op_timer(io);
}

static void on_wake(uv_async_t *a)
{
    rd_io_t *io = a->data;
    rd_shared_t *sh = &io->st->sh;
    pthread_mutex_lock(&sh->mu);
    rd_op_t *ops = sh->submit_head;
    sh->submit_head = sh->submit_tail = NULL;
    int stop = sh->stop;
    pthread_mutex_unlock(&sh->mu);
    while (ops != NULL) {
        rd_op_t *next = ops->next;
        ops->next = NULL;
        if (io->phase == IO_CLOSING) { /* cannot happen: H submits nothing after stop */
            io->user_ops++;
            io_finish(io, ops, OC_ECANCELED);
        } else {
            accept_op(io, ops);
        }
        ops = next;
    }
    if (stop && !io->stopping)
        begin_stop(io);
}

/* ---- timers, shutdown --------------------------------------------------------------- */

static void on_conn_timer(uv_timer_t *t)
{
    conn_timer_fired(t->data);
}

void io_arm_conn_timer(rd_io_t *io, uint64_t delay_ms)
{
    if (io->phase != IO_CLOSING)
        uv_timer_start(&io->conn_timer, on_conn_timer, delay_ms, 0);
}

static void on_ping_timer(uv_timer_t *t)
{
    hs_ping(t->data);
}

void io_start_ping(rd_io_t *io)
{
    uv_timer_start(&io->ping_timer, on_ping_timer, PING_EVERY_MS, PING_EVERY_MS);
}

void io_shutdown(rd_io_t *io)
{
    if (io->phase == IO_CLOSING)
        return;
    io->phase = IO_CLOSING;
    io->stopping = 1;
    io_fail_waiting(io, OC_ECANCELED);
    uv_close((uv_handle_t *)&io->op_timer, NULL);
    uv_close((uv_handle_t *)&io->conn_timer, NULL);
    uv_close((uv_handle_t *)&io->ping_timer, NULL);
    /* Once the loop is closed a wake-up would write to a closed fd (libuv
     * aborts on that): H checks this flag under the same lock. */
    pthread_mutex_lock(&io->st->sh.mu);
    io->st->sh.closed = 1;
    pthread_mutex_unlock(&io->st->sh.mu);
    uv_close((uv_handle_t *)&io->wake, NULL);
    if (io->gai_active)
        uv_cancel((uv_req_t *)&io->gai);
    rd_conn_t *c = io->conn;
    if (c != NULL && c->ac != NULL) {
        conn_set_error(c, 0, "stopping");
        redisAsyncFree(c->ac); /* deferred when inside a hiredis callback */
    }
    rd_metrics_connected(io->st, 0);
}

/* ---- the thread ---------------------------------------------------------------------- */

static void *io_main(void *arg)
{
    rd_io_t *io = arg;
    conn_attempt(io);
    uv_run(&io->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&io->loop) != 0)
        io->st->host->log(io->st->self, OC_LOG_ERROR, "the I/O loop closed with open handles");
    /* Startup failures are joined by start itself; after a successful start,
     * H learns of the end from this post, which comes after every deliver
     * post (posts run in order). Nothing touches io after it. */
    if (io->started)
        rd_io_exited_post(io->st);
    return NULL;
}

int32_t rd_io_start(rd_state_t *st)
{
    rd_io_t *io = calloc(1, sizeof *io);
    if (io == NULL)
        return OC_ENOMEM;
    io->st = st;
    io->backoff_ms = 100;
    io->phase = IO_IDLE;
    io->startup_deadline_ms = rd_mono_ms() + st->cfg.startup_retry_ms;
    /* Set up before the thread exists: H may wake it right away. */
    if (uv_loop_init(&io->loop) != 0) {
        free(io);
        return OC_EIO;
    }
    uv_async_init(&io->loop, &io->wake, on_wake);
    uv_timer_init(&io->loop, &io->op_timer);
    uv_timer_init(&io->loop, &io->conn_timer);
    uv_timer_init(&io->loop, &io->ping_timer);
    io->wake.data = io->op_timer.data = io->conn_timer.data = io->ping_timer.data = io;
    st->io = io;
    int rc = pthread_create(&st->thread, NULL, io_main, io);
    if (rc != 0) {
        uv_close((uv_handle_t *)&io->wake, NULL);
        uv_close((uv_handle_t *)&io->op_timer, NULL);
        uv_close((uv_handle_t *)&io->conn_timer, NULL);
        uv_close((uv_handle_t *)&io->ping_timer, NULL);
        uv_run(&io->loop, UV_RUN_DEFAULT);
        uv_loop_close(&io->loop);
        free(io);
        st->io = NULL;
        return OC_ENOMEM;
    }
    st->thread_live = 1;
    return OC_OK;
}

void rd_io_wake(rd_state_t *st)
{
    pthread_mutex_lock(&st->sh.mu);
    if (!st->sh.closed)
        uv_async_send(&st->io->wake);
    pthread_mutex_unlock(&st->sh.mu);
}

void rd_io_join(rd_state_t *st)
{
    if (!st->thread_live)
        return;
    pthread_join(st->thread, NULL);
    st->thread_live = 0;
    free(st->io);
    st->io = NULL;
}
