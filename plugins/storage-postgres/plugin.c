/* plugin.c - storage-postgres: descriptor, lifecycle and health.
 *
 * init reads and checks the storage section (no I/O). start waits for the
 * first connection (connected, schema migrated, statements prepared) and
 * fails with OC_EUNAVAIL, the reason logged, on a permanent error (wrong
 * password, missing database, a newer schema) or when startupRetrySeconds
 * pass without a connection (startup.c); the other connections follow in
 * the background. stop lets accepted ops finish, cancels what waits for a
 * connection, closes every connection, then calls done. Home loop only. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg.h"

uint64_t pg_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pg_mono_ms(void)
{
    return pg_mono_ns() / 1000000u;
}

uint64_t pg_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pg_one_line(const pg_state_t *st, char *dst, size_t len, const char *msg)
{
    size_t j = 0;
    int space = 0, line = 0; /* a run of whitespace; it held a newline */
    for (const char *s = msg != NULL ? msg : ""; *s != '\0' && j + 1 < len; s++) {
        if (isspace((unsigned char)*s)) {
            space = j > 0;
            line |= *s == '\n';
            continue;
        }
        /* A line starting a sentence becomes a clause ("refused; Is the
         * server running..."); a wrapped line just goes on. */
        if (space && line && isupper((unsigned char)*s) && j + 3 < len &&
            strchr(".:;?!", dst[j - 1]) == NULL)
            dst[j++] = ';';
        if (space && j + 2 < len)
            dst[j++] = ' ';
        space = line = 0;
        dst[j++] = *s;
    }
    dst[j] = '\0';
    pg_url_scrub(&st->cfg.url, dst, len);
}

static void state_free(pg_state_t *st)
{
    pg_url_free(&st->cfg.url);
    free(st);
}

static int32_t pg_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                       void **state)
{
    if (host == NULL || state == NULL)
        return OC_EINVAL;
    if (!OC_HOST_HAS(host, io_start) || !OC_HOST_HAS(host, io_update) ||
        !OC_HOST_HAS(host, io_stop) || !OC_HOST_HAS(host, work_submit)) {
        host->log(self, OC_LOG_ERROR,
                  "this gateway has no io_start host service (ABI 1.2 socket watching): "
                  "upgrade the gateway to use " PG_NAME);
        return OC_ENOTSUP;
    }
    pg_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    st->phase = PG_PHASE_NEW;
    int32_t rc = pg_config_read(st, cfg);
    if (rc != OC_OK) {
        state_free(st);
        return rc;
    }
    *state = st;
    return OC_OK;
}

static int32_t pg_start(void *state)
{
    pg_state_t *st = state;
    if (st->phase != PG_PHASE_NEW)
        return OC_EINVAL;
    pg_metrics_register(st);
    return pg_pool_start(st);
}

static void pg_stop(void *state, oc_stop_done_cb done, void *done_data)
{
    pg_state_t *st = state;
    if (st->phase == PG_PHASE_NEW || st->phase == PG_PHASE_STOPPING ||
        st->phase == PG_PHASE_STOPPED) {
        if (done != NULL) /* never started, or a second stop */
            done(done_data);
        return;
    }
    st->stop_done = done;
    st->stop_data = done_data;
    pg_pool_stop(st); /* done comes from a timer, once everything is closed */
}

/* Free ops without calling them back: destroy only. */
static void free_list(pg_op_t *op)
{
    while (op != NULL) {
        pg_op_t *next = op->next;
        pg_op_free(op);
        op = next;
    }
}

static void pg_destroy(void *state)
{
    pg_state_t *st = state;
    if (st == NULL)
        return;
    const oc_host_api_t *h = st->host;
    if (st->phase != PG_PHASE_NEW && st->phase != PG_PHASE_STOPPED) {
        /* Destroyed before stop finished (the host's stop deadline): close
         * everything here; callbacks are not called any more. */
        for (uint32_t i = 0; i < st->cfg.pool_size; i++) {
            pg_conn_t *c = &st->conns[i];
            if (c->resolve != NULL)
                pg_resolve_abandon(c);
            if (c->timer != NULL)
                h->timer_stop(c->timer);
            pg_conn_unwatch(c);
            if (c->pq != NULL)
                PQfinish(c->pq);
            free_list(c->q_head);
            free_list(c->f_head);
        }
        free_list(st->soon_head);
        if (st->soon_timer != NULL)
            h->timer_stop(st->soon_timer);
        if (st->sweep_timer != NULL)
            h->timer_stop(st->sweep_timer);
        if (st->resolves > 0) {
            /* A lookup on the thread pool still points here: leak rather
             * than let its done callback touch freed memory. */
            h->log(st->self, OC_LOG_ERROR, "destroyed while %d host lookups were running",
                   st->resolves);
            return;
        }
    }
    state_free(st);
}

int32_t pg_storage_health(void *state, const char **text)
{
    pg_state_t *st = state;
    pg_pool_health(st);
    if (text != NULL)
        *text = st->health;
    return st->health_status;
}

static const oc_plugin_ops_t pg_plugin_ops = {
    OC_PLUGIN_OPS_INIT,
    .init = pg_init,
    .start = pg_start,
    .reload = NULL, /* storage.* changes restart the gateway (SPEC §9) */
    .stop = pg_stop,
    .destroy = pg_destroy,
};

OC_PLUGIN_DEFINE(OC_KIND_STORAGE, PG_NAME, PG_VERSION,
                 "PostgreSQL storage: sessions, transcripts, inbox/outbox, pairing, leases "
                 "(libpq pipeline, connection pool)",
                 &pg_plugin_ops, &pg_storage_ops)
