/* mock_upstream/stats.c - see stats.h. */
#include "stats.h"

static const char *const endpoint_names[EP_COUNT] = {"chat_completions", "messages", "models",
                                                     "embeddings", "other"};

static uint64_t ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

void stats_accumulate(const stats_t *s, stats_snap_t *sum)
{
    sum->requests += ld(&s->requests);
    for (int i = 0; i < EP_COUNT; i++)
        sum->by_endpoint[i] += ld(&s->by_endpoint[i]);
    for (int i = 0; i < 600; i++)
        sum->by_status[i] += ld(&s->by_status[i]);
    sum->streams += ld(&s->streams);
    sum->chunks_out += ld(&s->chunks_out);
    sum->bytes_out += ld(&s->bytes_out);
    sum->client_aborts += ld(&s->client_aborts);
}

void gauges_stream_open(gauges_t *g)
{
    int64_t now = atomic_fetch_add_explicit(&g->streams_open, 1, memory_order_relaxed) + 1;
    int64_t max = atomic_load_explicit(&g->streams_max, memory_order_relaxed);
    while (now > max && !atomic_compare_exchange_weak_explicit(
                            &g->streams_max, &max, now, memory_order_relaxed,
                            memory_order_relaxed)) {
    }
}

void gauges_stream_close(gauges_t *g)
{
    atomic_fetch_sub_explicit(&g->streams_open, 1, memory_order_relaxed);
}

/* now - base, never below zero (a counter read while a reset races). */
static unsigned long long diff(uint64_t now, uint64_t base)
{
    return now > base ? (unsigned long long)(now - base) : 0;
}

void stats_to_json(const stats_snap_t *now, const stats_snap_t *base, gauges_t *g,
                   gw_buf_t *out)
{
    gw_buf_printf(out, "{\"requests_total\":%llu,\"by_endpoint\":{",
                  diff(now->requests, base->requests));
    for (int i = 0; i < EP_COUNT; i++)
        gw_buf_printf(out, "%s\"%s\":%llu", i ? "," : "", endpoint_names[i],
                      diff(now->by_endpoint[i], base->by_endpoint[i]));
    gw_buf_puts(out, "},\"by_status\":{");
    int first = 1;
    for (int i = 0; i < 600; i++) {
        unsigned long long n = diff(now->by_status[i], base->by_status[i]);
        if (n == 0)
            continue;
        gw_buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", i, n);
        first = 0;
    }
    gw_buf_printf(out,
                  "},\"streams_total\":%llu,\"streams_open\":%lld,\"streams_max\":%lld,"
                  "\"chunks_out\":%llu,\"bytes_out\":%llu,\"stalled_now\":%lld,"
                  "\"client_aborts\":%llu}",
                  diff(now->streams, base->streams),
                  (long long)atomic_load_explicit(&g->streams_open, memory_order_relaxed),
                  (long long)atomic_load_explicit(&g->streams_max, memory_order_relaxed),
                  diff(now->chunks_out, base->chunks_out), diff(now->bytes_out, base->bytes_out),
                  (long long)atomic_load_explicit(&g->stalled, memory_order_relaxed),
                  diff(now->client_aborts, base->client_aborts));
}
