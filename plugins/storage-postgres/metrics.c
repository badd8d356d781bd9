/* metrics.c - storage-postgres: Prometheus metrics (loop). The first two
 * families are the ones every storage plugin exports (storage-sqlite's
 * names and labels), so dashboards work whatever the backend:
 *
 *   openclaw_storage_ops_total{op,status}      ops completed, by outcome
 *   openclaw_storage_op_seconds{op}            call to callback, queueing included
 *   openclaw_storage_postgres_connections      connections ready to serve
 *   openclaw_storage_postgres_reconnects_total connections lost while serving
 *
 * Registered in start (validate never starts). A family the host refuses
 * (NULL) is left out. */
#include "pg.h"

static const double seconds_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

void pg_metrics_register(pg_state_t *st)
{
    const oc_host_api_t *h = st->host;
    if (!OC_HOST_HAS(h, metric_new))
        return;
    static const char *const op_status[] = {"op", "status", NULL};
    static const char *const op_only[] = {"op", NULL};
    pg_metrics_t *m = &st->metrics;
    m->ops_total = h->metric_new(st->self, OC_METRIC_COUNTER, "storage_ops_total",
                                 "Storage operations completed, by operation and status.",
                                 op_status, NULL, 0);
    m->op_seconds = h->metric_new(
        st->self, OC_METRIC_HISTOGRAM, "storage_op_seconds",
        "Storage operation latency from call to callback, queueing included.", op_only,
        seconds_buckets, sizeof seconds_buckets / sizeof seconds_buckets[0]);
    m->connections = h->metric_new(st->self, OC_METRIC_GAUGE, "storage_postgres_connections",
                                   "PostgreSQL connections ready to serve operations.", NULL,
                                   NULL, 0);
    m->reconnects = h->metric_new(st->self, OC_METRIC_COUNTER,
                                  "storage_postgres_reconnects_total",
                                  "PostgreSQL connections lost while serving.", NULL, NULL, 0);
}

/* Bounded, short label values. */
static const char *status_label(int32_t status)
{
    switch (status) {
    case OC_OK: return "ok";
    case OC_EINVAL: return "einval";
    case OC_ENOMEM: return "enomem";
    case OC_EAGAIN: return "eagain";
    case OC_EBUSY: return "ebusy";
    case OC_ETIMEDOUT: return "etimedout";
    case OC_ECANCELED: return "ecanceled";
    case OC_ENOENT: return "enoent";
    case OC_EIO: return "eio";
    case OC_EINTERNAL: return "einternal";
    case OC_EUNAVAIL: return "eunavail";
    case OC_ELIMIT: return "elimit";
    case OC_EEXIST: return "eexist";
    default: return "other";
    }
}

void pg_metrics_op(pg_state_t *st, const pg_op_t *op, uint64_t end_ns)
{
    const oc_host_api_t *h = st->host;
    const pg_metrics_t *m = &st->metrics;
    const char *name = pg_op_name(op->kind);
    if (m->ops_total != NULL) {
        const char *labels[] = {name, status_label(op->status)};
        h->metric_add(m->ops_total, labels, 1);
    }
    if (m->op_seconds != NULL) {
        const char *labels[] = {name};
        double s = end_ns > op->t0_ns ? (double)(end_ns - op->t0_ns) / 1e9 : 0;
        h->metric_observe(m->op_seconds, labels, s);
    }
}

void pg_metrics_pool(pg_state_t *st, int reconnect)
{
    const oc_host_api_t *h = st->host;
    const pg_metrics_t *m = &st->metrics;
    if (m->connections != NULL) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < st->cfg.pool_size; i++)
            n += st->conns[i].state == PG_CONN_READY;
        h->metric_set(m->connections, NULL, (double)n);
    }
    if (reconnect && m->reconnects != NULL)
        h->metric_add(m->reconnects, NULL, 1);
}
