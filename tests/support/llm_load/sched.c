/* tests/support/llm_load/sched.c - oc-llm-load: when each request goes out.
 *
 * First every connection connects (at most CONNECT_BATCH at a time: a
 * burst of 10k SYNs overflows the server's listen queue), then the run
 * starts (t0) in one of three modes:
 *
 * Fixed rate (LM_RATE): request i is due at t0 + i/R whatever became of
 * the others (open loop). Its latency counts from that intended time, so a
 * stall shows as latency instead of a lower send rate (no coordinated
 * omission). A due request takes an idle connection, or waits in the queue
 * (the wait counts); when --max-inflight requests are already sent or
 * waiting it is dropped by the client, and counted so.
 * Closed loop (LM_CLOSED): each connection sends its next request when the
 * answer to the last one is in, until --duration is over.
 * Held streams (LM_HOLD): one stream per connection, all due at t0; the
 * run ends when every one has finished.
 *
 * Requests due during --warmup are sent but counted apart. Once sending is
 * over the run waits for the answers, each bounded by --timeout-ms from its
 * intended send time (a request still waiting in the queue then is a
 * timeout, checked every second). */
#include <stdlib.h>
#include <string.h>

#include "llm_load.h"

#define CONNECT_BATCH 256
/* The schedule's timer ticks every 1/R s, but not more often than this:
 * beyond 50k/s one tick lets out a few requests (each still measured from
 * its own intended time). */
#define MIN_TICK_NS 20000

ll_stats_t *ll_stats_of(ll_t *L, int measured)
{
    return measured ? &L->meas : &L->warm;
}

/* ---- the wait queue ----------------------------------------------------------------- */

static void q_push(ll_t *L, uint64_t start_ns, int measured)
{
    L->queue[L->qtail] = (ll_wait_t){.start_ns = start_ns, .measured = measured};
    L->qtail = (L->qtail + 1) % (L->max_inflight + 1);
    L->queued++;
    if (L->busy + L->queued > L->peak_inflight)
        L->peak_inflight = L->busy + L->queued;
}

static ll_wait_t q_pop(ll_t *L)
{
    ll_wait_t w = L->queue[L->qhead];
    L->qhead = (L->qhead + 1) % (L->max_inflight + 1);
    L->queued--;
    return w;
}

static void make_idle(ll_t *L, ll_conn_t *c)
{
    if (!c->idle) {
        c->idle = 1;
        L->idle[L->nidle++] = c;
    }
}

static void dispatch(ll_t *L)
{
    while (!L->stopping && L->nidle > 0 && L->queued > 0) {
        ll_conn_t *c = L->idle[--L->nidle];
        c->idle = 0;
        if (c->busy || c->net.state != LN_UP)
            continue; /* not idle after all (conn.c takes a closing one off the list) */
        ll_wait_t w = q_pop(L);
        ll_conn_send(c, w.start_ns, w.measured);
    }
}

static void try_stop(ll_t *L)
{
    if (L->begun && L->sending_done && L->queued == 0 && L->busy == 0)
        ll_stop(L);
}

/* Requests that waited in the queue for --timeout-ms: timeouts. */
static void expire_queue(ll_t *L, uint64_t now)
{
    uint64_t limit = (uint64_t)L->timeout_ms * 1000000u;
    while (L->queued > 0 && L->queue[L->qhead].start_ns + limit <= now) {
        ll_wait_t w = q_pop(L);
        ll_stats_t *st = ll_stats_of(L, w.measured);
        st->errors[LK_TIMEOUT]++;
        if (st->first_done_ns == 0)
            st->first_done_ns = now;
        st->last_done_ns = now;
    }
}

/* ---- fixed rate ------------------------------------------------------------------------ */

static uint64_t due_of(const ll_t *L, uint64_t i)
{
    return L->t0 + (uint64_t)((unsigned __int128)i * 1000000000u / L->rate);
}

static void release(ll_t *L, uint64_t i)
{
    uint64_t start = due_of(L, i);
    int measured = start >= L->measure_ns;
    ll_stats_t *st = ll_stats_of(L, measured);
    st->requests++;
    if (L->busy + L->queued >= L->max_inflight) {
        st->dropped++;
        return;
    }
    q_push(L, start, measured);
}

/* Lets out every request due by now. The timer is periodic (armed once in
 * begin): no re-arming per request. */
static void tick(ll_t *L)
{
    uint64_t now = lc_now_ns();
    while (L->released < L->total && due_of(L, L->released) <= now)
        release(L, L->released++);
    dispatch(L);
    if (L->stopping || L->released < L->total)
        return;
    lc_timer_arm(&L->tick_timer, UINT64_MAX);
    L->sending_done = 1;
    try_stop(L);
}

static void on_tick(lc_timer_t *t)
{
    ll_t *L = t->data;
    if (!L->stopping)
        tick(L);
}

/* ---- connections ------------------------------------------------------------------------- */

static void begin(ll_t *L);

void ll_conn_settled(ll_t *L, ll_conn_t *c)
{
    (void)c;
    L->settled++;
    L->connecting--;
    while (L->connecting < CONNECT_BATCH && L->next_connect < L->nconns) {
        L->connecting++;
        ln_conn_start(&L->conns[L->next_connect++].net);
    }
    if (L->settled == L->nconns && !L->begun && !L->stopping)
        begin(L);
}

void ll_conn_ready(ll_t *L, ll_conn_t *c)
{
    if (L->stopping || c->busy || c->net.state != LN_UP)
        return;
    if (L->begun && L->mode == LM_CLOSED && !L->sending_done) {
        uint64_t now = lc_now_ns();
        int measured = now >= L->measure_ns;
        ll_stats_of(L, measured)->requests++;
        ll_conn_send(c, now, measured);
        return;
    }
    make_idle(L, c);
    if (L->begun)
        dispatch(L);
}

void ll_request_done(ll_t *L, ll_conn_t *c)
{
    if (c->net.state == LN_UP)
        ll_conn_ready(L, c);
    try_stop(L);
}

/* ---- the run ------------------------------------------------------------------------------- */

static void on_end(uv_timer_t *t)
{
    ll_t *L = t->data;
    L->sending_done = 1;
    try_stop(L);
}

static void begin(ll_t *L)
{
    L->begun = 1;
    L->t0 = lc_now_ns();
    L->measure_ns = L->t0 + (uint64_t)(L->warmup_s * 1e9);
    L->end_ns = L->measure_ns + (uint64_t)(L->duration_s * 1e9);
    uint32_t up = 0;
    for (uint32_t k = 0; k < L->nconns; k++)
        up += L->conns[k].net.state == LN_UP;
    if (up < L->nconns)
        fprintf(stderr, "oc-llm-load: only %u of %u connections are up (%s); running anyway\n",
                up, L->nconns, uv_strerror(L->last_conn_err));
    else if (L->progress)
        fprintf(stderr, "oc-llm-load: %u connections up; running\n", L->nconns);
    switch (L->mode) {
    case LM_RATE:
        L->total = (uint64_t)((L->warmup_s + L->duration_s) * (double)L->rate + 0.5);
        uint64_t period = 1000000000u / L->rate;
        lc_timer_every(&L->tick_timer, L->t0 + period, period > MIN_TICK_NS ? period : MIN_TICK_NS);
        tick(L);
        break;
    case LM_CLOSED:
        uv_timer_start(&L->end_timer, on_end, (uint64_t)((L->end_ns - L->t0) / 1000000u), 0);
        while (L->nidle > 0 && !L->stopping) {
            ll_conn_t *c = L->idle[--L->nidle];
            c->idle = 0;
            ll_conn_ready(L, c);
        }
        break;
    default: /* LM_HOLD */
        L->measure_ns = L->t0;
        for (uint32_t k = 0; k < L->nconns; k++) {
            L->meas.requests++;
            q_push(L, L->t0, 1);
        }
        L->sending_done = 1;
        dispatch(L);
        try_stop(L);
        break;
    }
}

static void on_progress(uv_timer_t *t)
{
    ll_t *L = t->data;
    uint64_t now = lc_now_ns();
    expire_queue(L, now);
    if (L->progress && !L->begun) {
        uint32_t up = 0;
        for (uint32_t k = 0; k < L->nconns; k++)
            up += L->conns[k].net.state == LN_UP;
        fprintf(stderr, "oc-llm-load: connecting: %u of %u up, %llu failed connects\n", up,
                L->nconns, (unsigned long long)L->connect_failures);
    } else if (L->progress) {
        uint64_t sent = L->warm.sent + L->meas.sent, ok = L->warm.ok + L->meas.ok;
        uint64_t err = 0, dropped = L->warm.dropped + L->meas.dropped;
        for (int k = 0; k < LK_KINDS; k++)
            err += L->warm.errors[k] + L->meas.errors[k];
        fprintf(stderr,
                "[%5.1fs] sent %llu, ok %llu, errors %llu, dropped %llu, inflight %llu "
                "(waiting %llu), %llu/s",
                (double)(now - L->t0) / 1e9, (unsigned long long)sent, (unsigned long long)ok,
                (unsigned long long)err, (unsigned long long)dropped,
                (unsigned long long)(L->busy + L->queued), (unsigned long long)L->queued,
                (unsigned long long)(ok - L->last_progress_ok));
        if (L->stream)
            fprintf(stderr, ", streams open %llu, streaming %llu (peak %llu)",
                    (unsigned long long)L->open_streams, (unsigned long long)L->streaming,
                    (unsigned long long)L->peak_streaming);
        fputc('\n', stderr);
        L->last_progress_ok = ok;
    }
    try_stop(L);
}

static void on_signal(uv_signal_t *s, int signum)
{
    ll_t *L = s->data;
    (void)signum;
    L->interrupted = 1;
    ll_stop(L);
}

int ll_sched_init(ll_t *L)
{
    L->conns = calloc(L->nconns, sizeof *L->conns);
    L->idle = calloc(L->nconns, sizeof *L->idle);
    L->queue = calloc(L->max_inflight + 1, sizeof *L->queue);
    if (L->conns == NULL || L->idle == NULL || L->queue == NULL)
        return -1;
    int rc = lc_timer_init(L->loop, &L->tick_timer, on_tick);
    if (rc != 0)
        return rc;
    L->tick_timer.data = L;
    uv_timer_init(L->loop, &L->progress_timer);
    uv_timer_init(L->loop, &L->end_timer);
    L->progress_timer.data = L->end_timer.data = L;
    uv_signal_init(L->loop, &L->sig_int);
    uv_signal_init(L->loop, &L->sig_term);
    L->sig_int.data = L->sig_term.data = L;
    for (uint32_t k = 0; k < L->nconns; k++)
        ll_conn_init(L, &L->conns[k]);
    return 0;
}

void ll_sched_start(ll_t *L)
{
    uv_timer_start(&L->progress_timer, on_progress, 1000, 1000);
    uv_signal_start(&L->sig_int, on_signal, SIGINT);
    uv_signal_start(&L->sig_term, on_signal, SIGTERM);
    while (L->connecting < CONNECT_BATCH && L->next_connect < L->nconns) {
        L->connecting++;
        ln_conn_start(&L->conns[L->next_connect++].net);
    }
}

void ll_stop(ll_t *L)
{
    if (L->stopping)
        return;
    L->stopping = 1;
    L->unfinished = L->busy + L->queued;
    lc_timer_close(&L->tick_timer);
    uv_close((uv_handle_t *)&L->progress_timer, NULL);
    uv_close((uv_handle_t *)&L->end_timer, NULL);
    uv_close((uv_handle_t *)&L->sig_int, NULL);
    uv_close((uv_handle_t *)&L->sig_term, NULL);
    for (uint32_t k = 0; k < L->nconns; k++)
        ll_conn_close(&L->conns[k]);
}

void ll_sched_free(ll_t *L)
{
    for (uint32_t k = 0; L->conns != NULL && k < L->nconns; k++)
        ll_conn_free(&L->conns[k]);
    free(L->conns);
    free(L->idle);
    free(L->queue);
}
