/* tests/support/load_sched.c - when each message goes out, and what became
 * of it.
 *
 * Fixed rate (--rate R): message i is due at t0 + i/R whatever happened to
 * the others (open loop), and its latency counts from that intended time,
 * so a stalled gateway shows as latency instead of a silently lower send
 * rate (no coordinated omission). A nanosecond timer (load_clock.h) wakes
 * the loop at the next due time.
 * --rate 0: everything is due at once; --concurrency connections take
 * messages as fast as they are answered; latency counts from the first
 * attempt.
 *
 * Per-session order (the default): a session has at most one message in
 * flight; its later messages wait until it is acknowledged (or given up),
 * as a chat platform delivers one chat's updates in order. So the gateway
 * sees each session's messages in index order even across retries, and the
 * replies can be checked for order. --unordered drops the rule. */
#include <stdlib.h>

#include "load.h"

#define RETRY_MIN_MS 10
#define RETRY_MAX_SHIFT 5 /* 10 ms doubling up to 320 ms */

static uint64_t due_of(const load_t *L, uint64_t i)
{
    return L->t0 + (uint64_t)((unsigned __int128)i * 1000000000u / L->rate);
}

static void ring_push(load_t *L, uint64_t i)
{
    L->ring[L->ring_tail] = i;
    L->ring_tail = (L->ring_tail + 1) % (L->messages + 1);
}

static int ring_pop(load_t *L, uint64_t *i)
{
    if (L->ring_head == L->ring_tail)
        return 0;
    *i = L->ring[L->ring_head];
    L->ring_head = (L->ring_head + 1) % (L->messages + 1);
    return 1;
}

static void release(load_t *L, uint64_t i)
{
    uint64_t k = i % L->sessions;
    if (L->rate > 0)
        L->start_ns[i] = due_of(L, i);
    if (L->ordered) {
        if (L->busy[k]) {
            L->waiting[k]++;
            return;
        }
        L->busy[k] = 1;
    }
    ring_push(L, i);
}

/* Arms the timer for the next release or retry (disarms when none). */
static void arm(load_t *L)
{
    uint64_t next = UINT64_MAX;
    if (L->rate > 0 && L->released < L->messages)
        next = due_of(L, L->released);
    for (size_t k = 0; k < L->nretries; k++)
        if (L->retries[k].due_ns < next)
            next = L->retries[k].due_ns;
    if (!L->stopping)
        lc_timer_arm(&L->tfd, next);
}

static void tick(load_t *L)
{
    uint64_t now = lc_now_ns();
    while (L->released < L->messages && (L->rate == 0 || due_of(L, L->released) <= now))
        release(L, L->released++);
    for (size_t k = 0; k < L->nretries;) {
        if (L->retries[k].due_ns <= now) {
            ring_push(L, L->retries[k].msg);
            L->retries[k] = L->retries[--L->nretries];
        } else {
            k++;
        }
    }
    load_dispatch(L);
    arm(L);
}

static void on_tfd(lc_timer_t *t)
{
    load_t *L = t->data;
    if (!L->stopping)
        tick(L);
}

void load_dispatch(load_t *L)
{
    uint64_t i;
    while (!L->stopping && L->nidle > 0 && ring_pop(L, &i))
        load_conn_send(L->idle[--L->nidle], i);
}

/* Message i is done (acknowledged or given up): its session's next one. */
static void finish(load_t *L, uint64_t i)
{
    uint64_t k = i % L->sessions;
    L->finished++;
    if (L->ordered) {
        if (L->waiting[k] > 0) {
            L->waiting[k]--;
            ring_push(L, i + L->sessions);
        } else {
            L->busy[k] = 0;
        }
    }
    if (L->finished == L->messages)
        load_stop(L);
    else
        load_dispatch(L);
}

void load_answered(load_t *L, uint64_t i, int status)
{
    uint64_t now = lc_now_ns();
    L->last_answer_ns = now;
    if (status == 202)
        L->accepted++;
    else if (status == 200)
        L->duplicates++;
    else
        L->other_2xx++;
    lh_add(&L->latency, now > L->start_ns[i] ? (now - L->start_ns[i]) / 1000 : 0);
    if (L->acked_file != NULL)
        fprintf(L->acked_file, "%s%llu\t%d\n", L->prefix, (unsigned long long)i, status);
    finish(L, i);
}

static int retryable(int kind, int status)
{
    return kind != LE_HTTP || status == 429 || status >= 500;
}

void load_failed(load_t *L, uint64_t i, int kind, int status)
{
    uint64_t now = lc_now_ns();
    if (status < 0 || status >= 600)
        status = 0;
    if (L->retry && !L->stopping && retryable(kind, status)) {
        L->retried[kind]++;
        if (kind == LE_HTTP)
            L->retry_status[status]++;
        if (L->nretries == L->retries_cap) {
            size_t cap = L->retries_cap ? 2 * L->retries_cap : 64;
            retry_t *r = realloc(L->retries, cap * sizeof *r);
            if (r == NULL) {
                L->errors[kind]++; /* cannot keep it: give up on this one */
                finish(L, i);
                return;
            }
            L->retries = r;
            L->retries_cap = cap;
        }
        uint32_t shift = L->attempts[i] > 0 ? L->attempts[i] - 1 : 0;
        if (shift > RETRY_MAX_SHIFT)
            shift = RETRY_MAX_SHIFT;
        uint64_t delay = (uint64_t)RETRY_MIN_MS * 1000000u << shift;
        L->retries[L->nretries++] = (retry_t){.msg = i, .due_ns = now + delay};
        arm(L);
        return;
    }
    L->errors[kind]++;
    if (kind == LE_HTTP)
        L->http_status[status]++;
    L->last_answer_ns = now;
    finish(L, i);
}

static void on_progress(uv_timer_t *t)
{
    load_t *L = t->data;
    uint64_t now = lc_now_ns();
    double el = (double)(now - L->t0) / 1e9;
    uint64_t done = L->accepted + L->duplicates + L->other_2xx;
    if (L->progress) {
        uint64_t err = 0, ret = 0;
        for (int k = 0; k < LE_KINDS; k++) {
            err += L->errors[k];
            ret += L->retried[k];
        }
        fprintf(stderr,
                "[%5.1fs] sent %llu, acked %llu (dup %llu), errors %llu, retries %llu, "
                "%llu acks/s\n",
                el, (unsigned long long)L->sent_messages, (unsigned long long)done,
                (unsigned long long)L->duplicates, (unsigned long long)err,
                (unsigned long long)ret, (unsigned long long)(done - L->last_progress_done));
    }
    L->last_progress_done = done;
    if (L->max_seconds > 0 && el >= L->max_seconds) {
        fprintf(stderr, "webhook-load: --max-seconds %.0f reached; stopping\n", L->max_seconds);
        load_stop(L);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    load_stop(s->data);
}

int load_sched_init(load_t *L)
{
    size_t n = (size_t)L->messages;
    L->ring = calloc(n + 1, sizeof *L->ring);
    L->start_ns = calloc(n ? n : 1, sizeof *L->start_ns);
    L->attempts = calloc(n ? n : 1, sizeof *L->attempts);
    L->busy = calloc((size_t)L->sessions, 1);
    L->waiting = calloc((size_t)L->sessions, sizeof *L->waiting);
    L->conns = calloc(L->concurrency, sizeof *L->conns);
    L->idle = calloc(L->concurrency, sizeof *L->idle);
    if (!L->ring || !L->start_ns || !L->attempts || !L->busy || !L->waiting || !L->conns ||
        !L->idle || lc_timer_init(L->loop, &L->tfd, on_tfd) != 0)
        return -1;
    L->tfd.data = L;
    uv_timer_init(L->loop, &L->progress_timer);
    L->progress_timer.data = L;
    uv_signal_init(L->loop, &L->sig_int);
    uv_signal_init(L->loop, &L->sig_term);
    L->sig_int.data = L->sig_term.data = L;
    return 0;
}

void load_sched_start(load_t *L)
{
    L->t0 = lc_now_ns();
    uv_timer_start(&L->progress_timer, on_progress, 1000, 1000);
    uv_signal_start(&L->sig_int, on_signal, SIGINT);
    uv_signal_start(&L->sig_term, on_signal, SIGTERM);
    for (uint32_t k = 0; k < L->concurrency; k++)
        load_conn_start(L, &L->conns[k]);
    if (L->messages == 0) {
        load_stop(L);
        return;
    }
    tick(L);
}

void load_stop(load_t *L)
{
    if (L->stopping)
        return;
    L->stopping = 1;
    lc_timer_close(&L->tfd);
    uv_close((uv_handle_t *)&L->progress_timer, NULL);
    uv_close((uv_handle_t *)&L->sig_int, NULL);
    uv_close((uv_handle_t *)&L->sig_term, NULL);
    for (uint32_t k = 0; k < L->concurrency; k++)
        load_conn_close(&L->conns[k]);
}

void load_sched_free(load_t *L)
{
    for (uint32_t k = 0; L->conns != NULL && k < L->concurrency; k++) {
        gw_buf_free(&L->conns[k].req);
        ln_conn_free(&L->conns[k].net);
    }
    free(L->ring);
    free(L->start_ns);
    free(L->attempts);
    free(L->busy);
    free(L->waiting);
    free(L->conns);
    free(L->idle);
    free(L->retries);
}
