/* deliver.c - storage-redis: ops crossing between H and T.
 *
 * H appends to the submit FIFO and wakes T; T appends finished ops to the
 * done FIFO and, when no deliver post is already on its way, posts one
 * (host->post: the ABI's one thread-safe way onto the home loop). H's
 * deliver runs every finished op's callback in order and frees it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rd.h"

uint64_t rd_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rd_mono_ms(void)
{
    return rd_mono_ns() / 1000000u;
}

uint64_t rd_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Any thread. */
void rd_set_health(rd_state_t *st, int32_t status, const char *fmt, ...)
{
    pthread_mutex_lock(&st->sh.mu);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->sh.health, sizeof st->sh.health, fmt, ap);
    va_end(ap);
    st->sh.health_status = status;
    pthread_mutex_unlock(&st->sh.mu);
}

/* H. */
int32_t rd_accepting(const rd_state_t *st)
{
    if (st->stopping || st->phase == RD_PHASE_CLOSED)
        return OC_ECANCELED;
    switch (st->phase) {
    case RD_PHASE_NEW:
        return OC_EAGAIN; /* storage is available from start on */
    case RD_PHASE_FAILED:
        return OC_EUNAVAIL; /* health says why */
    default:
        return OC_OK;
    }
}

/* H. */
int32_t rd_submit(rd_state_t *st, rd_op_t *op)
{
    rd_shared_t *sh = &st->sh;
    op->next = NULL;
    pthread_mutex_lock(&sh->mu);
    if (sh->submit_tail != NULL)
        sh->submit_tail->next = op;
    else
        sh->submit_head = op;
    sh->submit_tail = op;
    pthread_mutex_unlock(&sh->mu);
    rd_io_wake(st);
    return OC_PENDING;
}

/* H: every finished op, in the order T finished them. */
static void deliver(void *data)
{
    rd_state_t *st = data;
    pthread_mutex_lock(&st->sh.mu);
    rd_op_t *ops = st->sh.done_head;
    st->sh.done_head = st->sh.done_tail = NULL;
    st->sh.post_pending = 0;
    pthread_mutex_unlock(&st->sh.mu);
    uint64_t end = rd_mono_ns();
    while (ops != NULL) {
        rd_op_t *next = ops->next;
        rd_metrics_op(st, ops, end);
        rd_op_deliver(ops);
        rd_op_free(ops);
        ops = next;
    }
}

/* T. */
void rd_complete(rd_state_t *st, rd_op_t *op)
{
    rd_shared_t *sh = &st->sh;
    op->next = op->prev = NULL;
    pthread_mutex_lock(&sh->mu);
    if (sh->done_tail != NULL)
        sh->done_tail->next = op;
    else
        sh->done_head = op;
    sh->done_tail = op;
    int post = !sh->post_pending;
    sh->post_pending = 1;
    pthread_mutex_unlock(&sh->mu);
    if (post)
        rd_deliver_post(st);
}

/* T. */
void rd_deliver_post(rd_state_t *st)
{
    int32_t rc = st->host->post(st->self, deliver, st);
    if (rc != OC_OK) {
        /* Only once the gateway is going down: the ops stay queued and are
         * freed, without callbacks, by destroy. */
        pthread_mutex_lock(&st->sh.mu);
        st->sh.post_pending = 0;
        pthread_mutex_unlock(&st->sh.mu);
        st->host->log(st->self, OC_LOG_ERROR, "cannot reach the home loop (%s): callbacks lost",
                      st->host->strerror(rc));
    }
}

/* H: T's last post. Join it, deliver what is left, finish stop. */
static void io_exited(void *data)
{
    rd_state_t *st = data;
    rd_io_join(st);
    deliver(st);
    st->phase = RD_PHASE_CLOSED;
    rd_set_health(st, OC_EUNAVAIL, "stopped");
    oc_stop_done_cb done = st->stop_done;
    void *done_data = st->stop_data;
    st->stop_done = NULL;
    if (done != NULL)
        done(done_data); /* may destroy st: last touch */
}

/* T. */
void rd_io_exited_post(rd_state_t *st)
{
    if (st->host->post(st->self, io_exited, st) != OC_OK)
        st->host->log(st->self, OC_LOG_ERROR, "cannot reach the home loop: stop cannot finish");
}
