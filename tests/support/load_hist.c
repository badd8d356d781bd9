/* tests/support/load_hist.c - see load_hist.h. */
#include "load_hist.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < LH_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= LH_SUB_BITS */
    unsigned sub = (unsigned)(v >> (e - LH_SUB_BITS)) & (LH_SUB - 1);
    return (e - LH_SUB_BITS + 1) * LH_SUB + sub;
}

/* The largest value that falls into bucket b. */
static uint64_t bucket_top(unsigned b)
{
    if (b < LH_SUB)
        return b;
    unsigned e = b / LH_SUB + LH_SUB_BITS - 1, sub = b % LH_SUB;
    uint64_t lo = ((uint64_t)(LH_SUB + sub)) << (e - LH_SUB_BITS);
    return lo + (1ull << (e - LH_SUB_BITS)) - 1;
}

void lh_add(lh_hist_t *h, uint64_t v)
{
    h->counts[bucket_of(v)]++;
    h->total++;
    if (v > h->max)
        h->max = v;
}

uint64_t lh_quantile(const lh_hist_t *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->total + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank > h->total)
        rank = h->total;
    uint64_t seen = 0;
    for (unsigned b = 0; b < LH_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t top = bucket_top(b);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
