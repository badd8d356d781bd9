/* plugin.c - storage-redis: descriptor, lifecycle and health (H).
 *
 * init validates the `storage` section (no I/O). start runs the I/O thread,
 * which connects, authenticates, selects the database, checks or migrates
 * the key layout and loads the scripts; start waits for that outcome,
 * because the gateway must not come up without its storage and start is
 * synchronous: nothing else runs on the home loop yet (storage starts
 * first), and the wait is bounded by startupRetrySeconds plus one attempt.
 * stop lets accepted ops finish, then T closes the connection and ends;
 * done runs when H has joined it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rd.h"

/* start's own limit, beyond T's: T decides the outcome long before it. */
#define START_GUARD_MS 5000

static int shared_init(rd_shared_t *sh)
{
    pthread_condattr_t ca;
    if (pthread_mutex_init(&sh->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&sh->cond, &ca) != 0) {
        pthread_mutex_destroy(&sh->mu);
        return -1;
    }
    pthread_condattr_destroy(&ca);
    return 0;
}

static int32_t rd_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                       void **state)
{
    if (host == NULL || state == NULL)
        return OC_EINVAL;
    rd_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    st->phase = RD_PHASE_NEW;
    if (shared_init(&st->sh) != 0) {
        free(st);
        return OC_ENOMEM;
    }
    rd_set_health(st, OC_EUNAVAIL, "not started");
    int32_t rc = rd_config_read(st, cfg);
    if (rc != OC_OK) {
        rd_config_free(&st->cfg);
        pthread_cond_destroy(&st->sh.cond);
        pthread_mutex_destroy(&st->sh.mu);
        free(st);
        return rc;
    }
    *state = st;
    return OC_OK;
}

/* Waits for T's startup outcome, at most until deadline_ms (monotonic). */
static rd_start_t wait_start(rd_state_t *st, uint64_t deadline_ms)
{
    rd_shared_t *sh = &st->sh;
    pthread_mutex_lock(&sh->mu);
    while (sh->start == RD_START_PENDING) {
        struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
                              .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
        if (pthread_cond_timedwait(&sh->cond, &sh->mu, &ts) == ETIMEDOUT)
            break;
    }
    rd_start_t r = sh->start;
    pthread_mutex_unlock(&sh->mu);
    return r;
}

static int32_t rd_start(void *state)
{
    rd_state_t *st = state;
    if (st->phase != RD_PHASE_NEW)
        return OC_EINVAL;
    rd_metrics_register(st);
    rd_set_health(st, OC_EUNAVAIL, "connecting to %s", st->cfg.url.display);
    int32_t rc = rd_io_start(st);
    if (rc != OC_OK) {
        st->phase = RD_PHASE_FAILED;
        rd_set_health(st, OC_EUNAVAIL, "cannot start the I/O thread: %s", st->host->strerror(rc));
        st->host->log(st->self, OC_LOG_ERROR, "storage unavailable: cannot start the I/O thread");
        return rc;
    }
    uint64_t limit = st->cfg.startup_retry_ms + st->cfg.connect_timeout_ms + START_GUARD_MS;
    if (wait_start(st, rd_mono_ms() + limit) == RD_START_READY) {
        st->phase = RD_PHASE_READY;
        return OC_OK;
    }
    /* Failed, or T is stuck past every limit: stop it and say why. */
    pthread_mutex_lock(&st->sh.mu);
    st->sh.stop = 1;
    if (st->sh.start == RD_START_PENDING)
        snprintf(st->sh.start_error, sizeof st->sh.start_error,
                 "%s: no outcome from the connection after %" PRIu64 " s", st->cfg.url.display,
                 limit / 1000);
    char why[RD_TEXT_MAX];
    snprintf(why, sizeof why, "%s", st->sh.start_error);
    pthread_mutex_unlock(&st->sh.mu);
    rd_io_wake(st);
    rd_io_join(st);
    st->phase = RD_PHASE_FAILED;
    rd_set_health(st, OC_EUNAVAIL, "%s", why);
    st->host->log(st->self, OC_LOG_ERROR, "storage unavailable: %s", why);
    return OC_EUNAVAIL;
}

static void rd_stop(void *state, oc_stop_done_cb done, void *done_data)
{
    rd_state_t *st = state;
    if (st->stopping) { /* a second stop: nothing more to wait for here */
        if (done != NULL)
            done(done_data);
        return;
    }
    if (!st->thread_live) { /* start failed or never ran */
        st->stopping = 1;
        st->phase = RD_PHASE_CLOSED;
        rd_set_health(st, OC_EUNAVAIL, "stopped");
        if (done != NULL)
            done(done_data);
        return;
    }
    st->stopping = 1;
    st->stop_done = done;
    st->stop_data = done_data;
    pthread_mutex_lock(&st->sh.mu);
    st->sh.stop = 1;
    pthread_mutex_unlock(&st->sh.mu);
    rd_io_wake(st); /* T finishes the accepted ops; io_exited (deliver.c) calls done */
}

static void free_list(rd_op_t *op)
{
    while (op != NULL) {
        rd_op_t *next = op->next;
        rd_op_free(op);
        op = next;
    }
}

static void rd_destroy(void *state)
{
    rd_state_t *st = state;
    if (st == NULL)
        return;
    if (st->thread_live) {
        /* Only when the host broke the contract (destroy before stop's done):
         * T still runs and will post to this state, so ask it to end and
         * leak the state rather than crash. */
        st->host->log(st->self, OC_LOG_ERROR, "destroy while the I/O thread runs");
        pthread_mutex_lock(&st->sh.mu);
        st->sh.stop = 1;
        pthread_mutex_unlock(&st->sh.mu);
        rd_io_wake(st);
        return;
    }
    free_list(st->sh.submit_head);
    free_list(st->sh.done_head); /* only if a post was refused at shutdown */
    rd_config_free(&st->cfg);
    pthread_cond_destroy(&st->sh.cond);
    pthread_mutex_destroy(&st->sh.mu);
    free(st);
}

/* H, no I/O: the state T last reported. */
int32_t rd_storage_health(void *state, const char **text)
{
    rd_state_t *st = state;
    pthread_mutex_lock(&st->sh.mu);
    int32_t status = st->sh.health_status;
    memcpy(st->health, st->sh.health, sizeof st->health);
    pthread_mutex_unlock(&st->sh.mu);
    if (text != NULL)
        *text = st->health;
    return status;
}

static const oc_plugin_ops_t rd_plugin_ops = {
    OC_PLUGIN_OPS_INIT,
    .init = rd_init,
    .start = rd_start,
    .reload = NULL, /* storage.* changes restart the gateway (SPEC §9) */
    .stop = rd_stop,
    .destroy = rd_destroy,
};

OC_PLUGIN_DEFINE(OC_KIND_STORAGE, RD_NAME, RD_VERSION,
                 "Redis storage: sessions, transcripts, inbox/outbox, pairing, leases (Lua "
                 "scripts, one pipelined connection)",
                 &rd_plugin_ops, &rd_storage_ops)
