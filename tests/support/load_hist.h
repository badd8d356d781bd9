/* tests/support/load_hist.h - a latency histogram for the load generator:
 * log-linear buckets in the spirit of HdrHistogram (32 sub-buckets per power
 * of two, so any value is off by at most ~3%), fixed size, no allocation. */
#ifndef LOAD_HIST_H
#define LOAD_HIST_H

#include <stdint.h>

#define LH_SUB_BITS 5
#define LH_SUB (1u << LH_SUB_BITS)
#define LH_BUCKETS ((64 - LH_SUB_BITS) * LH_SUB + LH_SUB)

typedef struct lh_hist_s {
    uint64_t counts[LH_BUCKETS];
    uint64_t total;
    uint64_t max; /* exact */
} lh_hist_t;

void lh_add(lh_hist_t *h, uint64_t v);
/* The value at quantile q (0..1): the upper edge of its bucket, never above
 * the exact maximum. 0 when empty. */
uint64_t lh_quantile(const lh_hist_t *h, double q);

#endif
