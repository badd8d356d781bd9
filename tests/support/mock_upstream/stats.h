/* mock_upstream/stats.h - the counters behind GET /mock/stats.
 *
 * Each worker owns one stats_t and is its only writer (STAT_ADD: a relaxed
 * load and store, no locked instruction on the hot path); any thread may
 * read them with relaxed loads. /mock/reset does not write other workers'
 * counters: it records a baseline that later reports subtract. The gauges
 * that span workers (streams open, stalled) are shared atomics. */
#ifndef MOCK_STATS_H
#define MOCK_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"

enum { EP_CHAT, EP_MESSAGES, EP_MODELS, EP_EMBEDDINGS, EP_OTHER, EP_COUNT };

typedef struct stats_s {
    _Atomic uint64_t requests;
    _Atomic uint64_t by_endpoint[EP_COUNT];
    _Atomic uint64_t by_status[600];
    _Atomic uint64_t streams;     /* streams started */
    _Atomic uint64_t chunks_out;  /* SSE events written */
    _Atomic uint64_t bytes_out;
    _Atomic uint64_t client_aborts;
} stats_t;

/* Plain copy of the counters (sums, baselines). */
typedef struct stats_snap_s {
    uint64_t requests, by_endpoint[EP_COUNT], by_status[600];
    uint64_t streams, chunks_out, bytes_out, client_aborts;
} stats_snap_t;

/* The gauges shared by all workers. */
typedef struct gauges_s {
    _Atomic int64_t streams_open;
    _Atomic int64_t streams_max;
    _Atomic int64_t stalled;
} gauges_t;

/* Single-writer increment (the owning worker's thread only). */
#define STAT_ADD(field, n)                                                                    \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (n),  \
                          memory_order_relaxed)

/* Adds s's counters to *sum. Any thread. */
void stats_accumulate(const stats_t *s, stats_snap_t *sum);

/* A stream opened / closed: keeps the high-water mark. Any thread. */
void gauges_stream_open(gauges_t *g);
void gauges_stream_close(gauges_t *g);

/* Appends the report: now minus base, plus the gauges. */
void stats_to_json(const stats_snap_t *now, const stats_snap_t *base, gauges_t *g,
                   gw_buf_t *out);

#endif
