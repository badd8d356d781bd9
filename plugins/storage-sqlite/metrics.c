/* metrics.c - storage-sqlite: Prometheus metrics (loop).
 *
 *   openclaw_storage_ops_total{op,status}  ops completed, by outcome
 *   openclaw_storage_op_seconds{op}        call to callback, queueing included
 *   openclaw_storage_sqlite_batch_ops      ops per transaction (group commit)
 *   openclaw_storage_sqlite_queue_depth    ops waiting behind the transaction in flight
 *
 * Registered in start (validate never starts). A host that refuses a family
 * (NULL) just leaves it out. */
#include "sq.h"

static const double sq_seconds_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
static const double sq_batch_buckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

void sq_metrics_register(sq_state_t *st)
{
    const oc_host_api_t *h = st->host;
    if (!OC_HOST_HAS(h, metric_new))
        return;
    static const char *const op_status[] = {"op", "status", NULL};
    static const char *const op_only[] = {"op", NULL};
    sq_metrics_t *m = &st->metrics;
    m->ops_total = h->metric_new(st->self, OC_METRIC_COUNTER, "storage_ops_total",
                                 "Storage operations completed, by operation and status.",
                                 op_status, NULL, 0);
    m->op_seconds = h->metric_new(
        st->self, OC_METRIC_HISTOGRAM, "storage_op_seconds",
        "Storage operation latency from call to callback, queueing included.", op_only,
        sq_seconds_buckets, sizeof sq_seconds_buckets / sizeof sq_seconds_buckets[0]);
    m->batch_ops = h->metric_new(st->self, OC_METRIC_HISTOGRAM, "storage_sqlite_batch_ops",
                                 "Operations committed per sqlite transaction.", NULL,
                                 sq_batch_buckets,
                                 sizeof sq_batch_buckets / sizeof sq_batch_buckets[0]);
    m->queue = h->metric_new(st->self, OC_METRIC_GAUGE, "storage_sqlite_queue_depth",
                             "Operations waiting for the sqlite transaction in flight.", NULL,
                             NULL, 0);
}

/* Bounded, short label values. */
static const char *sq_status_label(int32_t status)
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
    case OC_EINTERNAL: return "einternal";
    case OC_EUNAVAIL: return "eunavail";
    case OC_ELIMIT: return "elimit";
    case OC_EEXIST: return "eexist";
    default: return "other";
    }
}

void sq_metrics_op(sq_state_t *st, const sq_op_t *op, uint64_t end_ns)
{
    const oc_host_api_t *h = st->host;
    const sq_metrics_t *m = &st->metrics;
    const char *name = sq_op_name(op->kind);
    if (m->ops_total != NULL) {
        const char *labels[] = {name, sq_status_label(op->status)};
        h->metric_add(m->ops_total, labels, 1);
    }
    if (m->op_seconds != NULL) {
        const char *labels[] = {name};
        double s = end_ns > op->t0_ns ? (double)(end_ns - op->t0_ns) / 1e9 : 0;
        h->metric_observe(m->op_seconds, labels, s);
    }
}

void sq_metrics_batch(sq_state_t *st, size_t count)
{
    const oc_host_api_t *h = st->host;
    if (st->metrics.batch_ops != NULL)
        h->metric_observe(st->metrics.batch_ops, NULL, (double)count);
    if (st->metrics.queue != NULL)
        h->metric_set(st->metrics.queue, NULL, (double)st->queued);
}
