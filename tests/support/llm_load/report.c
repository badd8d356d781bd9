/* tests/support/llm_load/report.c - oc-llm-load: the figures of a run as
 * text (stdout) and as JSON (--json FILE). */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "llm_load.h"

const char *const LL_KIND_NAMES[LK_KINDS] = {"conn",     "timeout",  "http",
                                             "protocol", "bad_body", "bad_stream"};
static const char *const MODE_NAMES[] = {"rate", "closed", "hold"};

void ll_dist_add(ll_dist_t *d, uint64_t v)
{
    if (d->h.total == 0 || v < d->min)
        d->min = v;
    d->sum += v;
    lh_add(&d->h, v);
}

static double mean_of(const ll_dist_t *d)
{
    return d->h.total ? (double)d->sum / (double)d->h.total : 0;
}

static uint64_t errors_of(const ll_stats_t *s)
{
    uint64_t n = 0;
    for (int k = 0; k < LK_KINDS; k++)
        n += s->errors[k];
    return n;
}

/* The seconds throughput is counted over. Held streams: from the start to
 * the last answer. Otherwise the span of the answers, but not less than
 * --duration: a proxy that keeps up answers in a window as long as the one
 * the requests were sent in (one latency later), one that falls behind in
 * a longer one. An interrupted run: the span alone. */
static double elapsed_of(const ll_t *L)
{
    const ll_stats_t *m = &L->meas;
    if (m->last_done_ns == 0)
        return 0;
    if (L->mode == LM_HOLD)
        return m->last_done_ns > L->t0 ? (double)(m->last_done_ns - L->t0) / 1e9 : 0;
    double span = (double)(m->last_done_ns - m->first_done_ns) / 1e9;
    return span > L->duration_s || L->interrupted ? span : L->duration_s;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- text ------------------------------------------------------------------------- */

static void text_dist(FILE *f, const char *name, const ll_dist_t *d)
{
    const lh_hist_t *h = &d->h;
    fprintf(f, "%-12s p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  mean %.0f  (%llu)\n",
            name, (unsigned long long)lh_quantile(h, 0.50),
            (unsigned long long)lh_quantile(h, 0.90), (unsigned long long)lh_quantile(h, 0.99),
            (unsigned long long)lh_quantile(h, 0.999), (unsigned long long)h->max, mean_of(d),
            (unsigned long long)h->total);
}

void ll_report_text(const ll_t *L, FILE *f)
{
    const ll_stats_t *m = &L->meas, *w = &L->warm;
    double el = elapsed_of(L);
    fprintf(f, "target      %s (%zu-byte body%s)\n", L->url_text, L->body_len,
            L->stream ? ", streaming" : "");
    switch (L->mode) {
    case LM_RATE:
        fprintf(f, "load        fixed rate %llu/s for %.1f s (+%.1f s warm-up), %u connections,"
                   " max in flight %llu\n",
                (unsigned long long)L->rate, L->duration_s, L->warmup_s, L->nconns,
                (unsigned long long)L->max_inflight);
        break;
    case LM_CLOSED:
        fprintf(f, "load        closed loop, %u concurrent for %.1f s (+%.1f s warm-up)\n",
                L->nconns, L->duration_s, L->warmup_s);
        break;
    default:
        fprintf(f, "load        %u streams held open together until they end\n", L->nconns);
        break;
    }
    fprintf(f, "requests    %llu: sent %llu, ok %llu (%.2f%%), errors %llu, dropped by the "
               "client %llu%s\n",
            (unsigned long long)m->requests, (unsigned long long)m->sent,
            (unsigned long long)m->ok,
            m->requests ? 100.0 * (double)m->ok / (double)m->requests : 0,
            (unsigned long long)errors_of(m), (unsigned long long)m->dropped,
            L->interrupted ? " (interrupted)" : "");
    if (errors_of(m) > 0) {
        fprintf(f, "errors     ");
        for (int k = 0; k < LK_KINDS; k++)
            if (k != LK_HTTP && m->errors[k] > 0)
                fprintf(f, " %s %llu", LL_KIND_NAMES[k], (unsigned long long)m->errors[k]);
        for (int s = 0; s < 600; s++)
            if (m->status[s] > 0)
                fprintf(f, " http_%d %llu", s, (unsigned long long)m->status[s]);
        fputc('\n', f);
    }
    if (L->unfinished > 0 || L->connect_failures > 0)
        fprintf(f, "unfinished  %llu; failed connects %llu%s%s%s\n",
                (unsigned long long)L->unfinished, (unsigned long long)L->connect_failures,
                L->last_conn_err ? " (last: " : "",
                L->last_conn_err ? uv_strerror(L->last_conn_err) : "", L->last_conn_err ? ")" : "");
    if (w->requests > 0)
        fprintf(f, "warm-up     %llu requests, ok %llu, errors %llu, dropped %llu (not counted "
                   "above)\n",
                (unsigned long long)w->requests, (unsigned long long)w->ok,
                (unsigned long long)errors_of(w), (unsigned long long)w->dropped);
    fprintf(f, "throughput  %.0f ok/s over %.3f s (answers); peak in flight %llu sent, %llu "
               "with those waiting for a connection\n",
            el > 0 ? (double)m->ok / el : 0, el, (unsigned long long)L->peak_busy,
            (unsigned long long)L->peak_inflight);
    fprintf(f, "latency µs, %s:\n",
            L->mode == LM_RATE ? "from the intended send time" : "from the send");
    text_dist(f, "  total", &m->latency);
    if (L->stream) {
        text_dist(f, "  ttft", &m->ttft);
        text_dist(f, "  chunk gap", &m->gap);
        fprintf(f, "chunks      per ok stream min %llu mean %.1f max %llu; content events %llu "
                   "of %llu events\n",
                (unsigned long long)m->chunks.min, mean_of(&m->chunks),
                (unsigned long long)m->chunks.h.max, (unsigned long long)m->content_events,
                (unsigned long long)m->events);
        fprintf(f, "coalescing  %llu of %llu reads carried more than one content event\n",
                (unsigned long long)m->coalesced_reads, (unsigned long long)m->content_reads);
        fprintf(f, "streams     peak open together %llu, streaming (content came) %llu",
                (unsigned long long)L->peak_open, (unsigned long long)L->peak_streaming);
        if (L->mode == LM_HOLD && L->all_open_ns)
            fprintf(f, " (all %u streaming %.3f s after the start)", L->nconns,
                    (double)(L->all_open_ns - L->t0) / 1e9);
        fputc('\n', f);
    }
    fprintf(f, "cpu         %.3f s (this process)\n", cpu_seconds());
}

/* ---- JSON --------------------------------------------------------------------------- */

static void json_dist(FILE *f, const char *name, const ll_dist_t *d)
{
    const lh_hist_t *h = &d->h;
    fprintf(f, "\"%s\":{\"count\":%llu,\"min\":%llu,\"mean\":%.1f,\"p50\":%llu,\"p90\":%llu,"
               "\"p99\":%llu,\"p999\":%llu,\"max\":%llu}",
            name, (unsigned long long)h->total, (unsigned long long)d->min, mean_of(d),
            (unsigned long long)lh_quantile(h, 0.50), (unsigned long long)lh_quantile(h, 0.90),
            (unsigned long long)lh_quantile(h, 0.99), (unsigned long long)lh_quantile(h, 0.999),
            (unsigned long long)h->max);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int ll_report_json(const ll_t *L, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -errno;
    const ll_stats_t *m = &L->meas, *w = &L->warm;
    double el = elapsed_of(L);
    fprintf(f, "{\"tool\":\"oc-llm-load\",\"url\":");
    json_str(f, L->url_text);
    fprintf(f, ",\"mode\":\"%s\",\"streaming\":%s,\"rate\":%llu,\"connections\":%u,"
               "\"max_inflight\":%llu,\"duration_s\":%.3f,\"warmup_s\":%.3f,\"timeout_ms\":%u,"
               "\"body_bytes\":%zu,",
            MODE_NAMES[L->mode], L->stream ? "true" : "false", (unsigned long long)L->rate,
            L->nconns, (unsigned long long)L->max_inflight, L->duration_s, L->warmup_s,
            L->timeout_ms, L->body_len);
    fprintf(f, "\"requests\":%llu,\"sent\":%llu,\"ok\":%llu,\"success_pct\":%.3f,"
               "\"errors\":%llu,\"dropped\":%llu,\"unfinished\":%llu,\"connect_failures\":%llu,"
               "\"interrupted\":%s,\"errors_by_kind\":{",
            (unsigned long long)m->requests, (unsigned long long)m->sent,
            (unsigned long long)m->ok,
            m->requests ? 100.0 * (double)m->ok / (double)m->requests : 0,
            (unsigned long long)errors_of(m), (unsigned long long)m->dropped,
            (unsigned long long)L->unfinished, (unsigned long long)L->connect_failures,
            L->interrupted ? "true" : "false");
    for (int k = 0; k < LK_KINDS; k++)
        fprintf(f, "%s\"%s\":%llu", k ? "," : "", LL_KIND_NAMES[k],
                (unsigned long long)m->errors[k]);
    fprintf(f, "},\"errors_by_status\":{");
    const char *sep = "";
    for (int s = 0; s < 600; s++) {
        if (m->status[s] > 0) {
            fprintf(f, "%s\"%d\":%llu", sep, s, (unsigned long long)m->status[s]);
            sep = ",";
        }
    }
    fprintf(f, "},\"elapsed_s\":%.6f,\"throughput\":%.1f,\"peak_sent\":%llu,"
               "\"peak_inflight\":%llu,",
            el, el > 0 ? (double)m->ok / el : 0, (unsigned long long)L->peak_busy,
            (unsigned long long)L->peak_inflight);
    json_dist(f, "latency_us", &m->latency);
    if (L->stream) {
        fprintf(f, ",\"stream\":{");
        json_dist(f, "ttft_us", &m->ttft);
        fputc(',', f);
        json_dist(f, "chunk_gap_us", &m->gap);
        fputc(',', f);
        json_dist(f, "chunks_per_stream", &m->chunks);
        fprintf(f, ",\"events\":%llu,\"content_events\":%llu,\"content_reads\":%llu,"
                   "\"coalesced_reads\":%llu,\"peak_open\":%llu,\"peak_streaming\":%llu,"
                   "\"all_streaming_s\":",
                (unsigned long long)m->events, (unsigned long long)m->content_events,
                (unsigned long long)m->content_reads, (unsigned long long)m->coalesced_reads,
                (unsigned long long)L->peak_open, (unsigned long long)L->peak_streaming);
        if (L->mode == LM_HOLD && L->all_open_ns)
            fprintf(f, "%.3f}", (double)(L->all_open_ns - L->t0) / 1e9);
        else
            fprintf(f, "null}");
    }
    fprintf(f, ",\"warmup\":{\"requests\":%llu,\"sent\":%llu,\"ok\":%llu,\"errors\":%llu,"
               "\"dropped\":%llu,\"content_events\":%llu},\"last_connect_error\":",
            (unsigned long long)w->requests, (unsigned long long)w->sent,
            (unsigned long long)w->ok, (unsigned long long)errors_of(w),
            (unsigned long long)w->dropped, (unsigned long long)w->content_events);
    if (L->last_conn_err != 0)
        json_str(f, uv_strerror(L->last_conn_err));
    else
        fputs("null", f);
    fprintf(f, ",\"cpu_s\":%.3f}\n", cpu_seconds());
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return -EIO;
    return 0;
}
