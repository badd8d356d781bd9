/* queue.c - storage-sqlite: the op queue and the one job in flight (loop).
 *
 * Ops are kept in call order. At most one work item is in flight; it takes
 * every queued op (up to SQ_BATCH_MAX) and runs them in one transaction on a
 * thread-pool thread (group commit). Its done callback, on the loop, calls
 * each op's callback in order, then submits the next batch. With one queue
 * and one job at a time, ops apply in exactly the order they were called,
 * across sessions too.
 *
 * The same slot runs the open (submitted by start; ops queue behind it) and
 * the close (submitted by stop once the queue is empty).
 *
 * Invariant: when no job is in flight and the phase is READY, the queue is
 * empty (every done callback and every push submits what is queued). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq.h"

static void sq_job_done(void *data, int32_t status);

/* ---- work functions (thread pool) -------------------------------------- */

static void sq_job_work(void *data)
{
    sq_state_t *st = data;
    sq_job_t *job = &st->job;
    job->ran = 1;
    switch (job->type) {
    case SQ_JOB_OPEN:
        job->db = sq_db_open(&st->cfg, job->err, sizeof job->err);
        job->rc = job->db != NULL ? SQLITE_OK : SQLITE_CANTOPEN;
        break;
    case SQ_JOB_BATCH:
        job->rc = sq_batch_run(job->db, job->ops, job->err, sizeof job->err);
        break;
    case SQ_JOB_CLOSE:
        sq_db_close(job->db);
        job->db = NULL;
        job->rc = SQLITE_OK;
        break;
    }
}

static int32_t sq_job_submit(sq_state_t *st, sq_job_type_t type)
{
    sq_job_t *job = &st->job;
    job->type = type;
    job->ran = 0;
    job->rc = SQLITE_OK;
    job->err[0] = '\0';
    st->in_flight = 1;
    int32_t rc = st->host->work_submit(st->self, sq_job_work, sq_job_done, st);
    if (rc != OC_OK)
        st->in_flight = 0;
    return rc;
}

/* ---- the FIFO ---------------------------------------------------------- */

/* Detach up to `max` ops from the head, still linked in order. */
static sq_op_t *sq_take(sq_state_t *st, size_t max, size_t *count)
{
    sq_op_t *first = st->head, *last = NULL, *op = st->head;
    size_t n = 0;
    while (op != NULL && n < max) {
        last = op;
        op = op->next;
        n++;
    }
    if (last != NULL)
        last->next = NULL;
    st->head = op;
    if (op == NULL)
        st->tail = NULL;
    st->queued -= n;
    *count = n;
    return n > 0 ? first : NULL;
}

/* Put a detached list back at the head (its submit failed). */
static void sq_untake(sq_state_t *st, sq_op_t *ops, size_t count)
{
    if (ops == NULL)
        return;
    sq_op_t *last = ops;
    while (last->next != NULL)
        last = last->next;
    last->next = st->head;
    if (st->head == NULL)
        st->tail = last;
    st->head = ops;
    st->queued += count;
}

/* Call back and free a list of ops, in order. When `force` is not OC_OK the
 * ops never ran and all get that status. in_flight stays set meanwhile, so
 * ops started by the callbacks queue behind instead of running ahead. */
static void sq_deliver_list(sq_state_t *st, sq_op_t *ops, int32_t force)
{
    int was = st->in_flight;
    st->in_flight = 1;
    uint64_t end = sq_mono_ns();
    while (ops != NULL) {
        sq_op_t *next = ops->next;
        if (force != OC_OK)
            ops->status = force;
        sq_metrics_op(st, ops, end);
        sq_op_deliver(ops);
        sq_op_free(ops);
        ops = next;
    }
    st->in_flight = was;
}

static int32_t sq_submit_batch(sq_state_t *st)
{
    size_t n;
    sq_op_t *ops = sq_take(st, SQ_BATCH_MAX, &n);
    st->job.ops = ops;
    st->job.count = n;
    st->job.db = st->db;
    int32_t rc = sq_job_submit(st, SQ_JOB_BATCH);
    if (rc != OC_OK) {
        st->job.ops = NULL;
        st->job.count = 0;
        sq_untake(st, ops, n);
    } else {
        sq_metrics_batch(st, n);
    }
    return rc;
}

int32_t sq_queue_push(sq_state_t *st, sq_op_t *op)
{
    op->next = NULL;
    if (st->tail != NULL)
        st->tail->next = op;
    else
        st->head = op;
    st->tail = op;
    st->queued++;
    if (st->in_flight || st->phase != SQ_PHASE_READY || st->head != op)
        return OC_PENDING; /* runs after the job in flight */
    /* Idle: this op is alone. Submit now; on failure the caller gets the
     * error at once and the callback never runs. */
    int32_t rc = sq_submit_batch(st);
    if (rc != OC_OK) {
        size_t n;
        (void)sq_take(st, 1, &n);
        return rc;
    }
    return OC_PENDING;
}

void sq_queue_drop(sq_state_t *st)
{
    size_t n;
    sq_op_t *ops = sq_take(st, SIZE_MAX, &n);
    while (ops != NULL) {
        sq_op_t *next = ops->next;
        sq_op_free(ops);
        ops = next;
    }
}

/* ---- the pump (loop) --------------------------------------------------- */

/* Submit what is queued, or once stopping and drained, close and finish.
 * May call stop's done, after which `st` may be gone: callers return right
 * after calling this. */
void sq_queue_pump(sq_state_t *st)
{
    while (!st->in_flight) {
        if (st->head != NULL) {
            if (st->phase == SQ_PHASE_OPENING)
                return; /* cannot happen: the open is a job in flight */
            int32_t rc = st->phase == SQ_PHASE_READY ? sq_submit_batch(st) : OC_EUNAVAIL;
            if (rc == OC_OK)
                return;
            size_t n;
            sq_op_t *ops = sq_take(st, SIZE_MAX, &n);
            sq_deliver_list(st, ops, rc);
            continue; /* callbacks may have queued more */
        }
        if (!st->stopping)
            return;
        if (st->db != NULL) {
            st->job.db = st->db;
            st->db = NULL;
            if (sq_job_submit(st, SQ_JOB_CLOSE) == OC_OK)
                return;
            /* The pool refuses work (the gateway is going down): close here,
             * the one time the loop calls sqlite. */
            sq_db_close(st->job.db);
            st->job.db = NULL;
        }
        st->phase = SQ_PHASE_CLOSED;
        sq_set_health(st, OC_EUNAVAIL, "stopped");
        oc_stop_done_cb done = st->stop_done;
        void *done_data = st->stop_data;
        st->stop_done = NULL;
        if (done != NULL)
            done(done_data); /* last touch of st */
        return;
    }
}

int32_t sq_queue_open(sq_state_t *st)
{
    st->phase = SQ_PHASE_OPENING;
    sq_set_health(st, OC_EUNAVAIL, "opening %s", st->cfg.path);
    int32_t rc = sq_job_submit(st, SQ_JOB_OPEN);
    if (rc != OC_OK) {
        st->phase = SQ_PHASE_FAILED;
        sq_set_health(st, OC_EUNAVAIL, "cannot open %s: the thread pool refused the job (%s)",
                      st->cfg.path, st->host->strerror(rc));
        st->host->log(st->self, OC_LOG_ERROR, "%s", st->health);
    }
    return rc;
}

/* ---- done callbacks (loop) --------------------------------------------- */

static void sq_open_done(sq_state_t *st, int32_t status)
{
    sq_job_t *job = &st->job;
    const oc_host_api_t *h = st->host;
    if (job->ran && job->db != NULL) {
        st->db = job->db;
        job->db = NULL;
        st->phase = SQ_PHASE_READY;
        sq_set_health(st, OC_OK, "ok");
        char schema[64];
        int from = st->db->schema_from, latest = sq_schema_latest();
        if (from == 0)
            snprintf(schema, sizeof schema, "new database, schema v%d", latest);
        else if (from < latest)
            snprintf(schema, sizeof schema, "schema migrated from v%d to v%d", from, latest);
        else
            snprintf(schema, sizeof schema, "schema v%d", latest);
        h->log(st->self, OC_LOG_INFO, "opened %s (%s; sqlite %s, %s, synchronous=%s)",
               st->cfg.path, schema, sqlite3_libversion(), st->db->wal ? "WAL" : "no WAL",
               st->cfg.synchronous_full ? "full" : "normal");
        return;
    }
    st->phase = SQ_PHASE_FAILED;
    if (job->ran)
        sq_set_health(st, OC_EUNAVAIL, "%s", job->err);
    else
        sq_set_health(st, OC_EUNAVAIL, "cannot open %s: %s", st->cfg.path, h->strerror(status));
    h->log(st->self, OC_LOG_ERROR, "storage unavailable: %s", st->health);
}

static void sq_batch_done(sq_state_t *st, int32_t status)
{
    sq_job_t *job = &st->job;
    sq_op_t *ops = job->ops;
    job->ops = NULL;
    job->count = 0;
    const oc_host_api_t *h = st->host;
    if (!job->ran) {
        sq_deliver_list(st, ops, status != OC_OK ? status : OC_EINTERNAL);
        return;
    }
    if (job->rc != SQLITE_OK) {
        if (!st->degraded)
            h->log(st->self, OC_LOG_ERROR, "transaction failed: %s", job->err);
        st->degraded = 1;
        sq_set_health(st, OC_EUNAVAIL, "last transaction failed: %s", job->err);
    } else if (st->degraded) {
        st->degraded = 0;
        sq_set_health(st, OC_OK, "ok");
        h->log(st->self, OC_LOG_INFO, "transactions succeed again");
    }
    sq_deliver_list(st, ops, OC_OK);
}

static void sq_close_done(sq_state_t *st, int32_t status)
{
    sq_job_t *job = &st->job;
    if (!job->ran && job->db != NULL) {
        sq_db_close(job->db); /* canceled: see sq_queue_pump */
    }
    job->db = NULL;
    (void)status;
}

static void sq_job_done(void *data, int32_t status)
{
    sq_state_t *st = data;
    switch (st->job.type) {
    case SQ_JOB_OPEN:
        sq_open_done(st, status);
        break;
    case SQ_JOB_BATCH:
        sq_batch_done(st, status);
        break;
    case SQ_JOB_CLOSE:
        sq_close_done(st, status);
        break;
    }
    st->in_flight = 0;
    sq_queue_pump(st); /* may finish stop: st is not touched after it */
}
