/* metrics.c - storage-redis: Prometheus metrics. The first two families are
 * storage-sqlite's, with the same labels, so dashboards work with either:
 *
 *   openclaw_storage_ops_total{op,status}  ops completed, by outcome
 *   openclaw_storage_op_seconds{op}        call to callback, queueing included
 *   openclaw_storage_redis_connected       1 while the connection is ready
 *   openclaw_storage_redis_reconnects_total connections re-established after a loss
 *
 * Registered in start (H); updated from H (ops) and T (connection). The
 * host's update functions are thread-safe; a refused family is left out. */
#include "rd.h"

static const double seconds_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

void rd_metrics_register(rd_state_t *st)
{
    const oc_host_api_t *h = st->host;
    if (!OC_HOST_HAS(h, metric_new))
        return;
    static const char *const op_status[] = {"op", "status", NULL};
    static const char *const op_only[] = {"op", NULL};
    rd_metrics_t *m = &st->metrics;
    m->ops_total = h->metric_new(st->self, OC_METRIC_COUNTER, "storage_ops_total",
                                 "Storage operations completed, by operation and status.",
                                 op_status, NULL, 0);
    m->op_seconds = h->metric_new(
        st->self, OC_METRIC_HISTOGRAM, "storage_op_seconds",
        "Storage operation latency from call to callback, queueing included.", op_only,
        seconds_buckets, sizeof seconds_buckets / sizeof seconds_buckets[0]);
    m->connected = h->metric_new(st->self, OC_METRIC_GAUGE, "storage_redis_connected",
                                 "1 while the Redis connection is up and ready.", NULL, NULL, 0);
    m->reconnects = h->metric_new(st->self, OC_METRIC_COUNTER, "storage_redis_reconnects_total",
                                  "Redis connections re-established after a loss.", NULL, NULL,
                                  0);
}

/* Bounded, short label values (as storage-sqlite's). */
static const char *status_label(int32_t status)
{
    switch (status) {
    case OC_OK: return "ok";
    case OC_EINVAL: return "einval";
    case OC_ENOMEM: return "enomem";
    case OC_EAGAIN: return "eagain";
    case OC_EBUSY: return "ebusy";
    case OC_ECANCELED: return "ecanceled";
    case OC_ENOENT: return "enoent";
    case OC_EIO: return "eio";
    case OC_EPROTO: return "eproto";
    case OC_EINTERNAL: return "einternal";
    case OC_EACCES: return "eacces";
    case OC_EUNAVAIL: return "eunavail";
    case OC_ELIMIT: return "elimit";
    case OC_EEXIST: return "eexist";
    default: return "other";
    }
}

void rd_metrics_op(rd_state_t *st, const rd_op_t *op, uint64_t end_ns)
{
    const oc_host_api_t *h = st->host;
    const rd_metrics_t *m = &st->metrics;
    const char *name = rd_op_name(op->kind);
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

void rd_metrics_connected(rd_state_t *st, int up)
{
    if (st->metrics.connected != NULL)
        st->host->metric_set(st->metrics.connected, NULL, up ? 1 : 0);
}
