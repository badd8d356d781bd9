/* llm/cooldown.c - see cooldown.h. */
#include "llm/cooldown.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct slot_s {
    uint64_t until;     /* monotonic ms the cooldown ends; 0 = closed */
    uint32_t step;      /* 0 closed, 1.. (3 = the cap) */
    uint32_t failures;  /* consecutive failover-class failures */
    int probing;        /* a probe is in flight */
    uint64_t cooldowns; /* begun since start */
    gw_series_t *state_series, *entered_series;
} slot_t;

struct gw_cooldown_s {
    pthread_mutex_t lock;
    atomic_size_t open; /* slots with until != 0 or a probe running */
    double scale;
    size_t n;
    slot_t s[];
};

gw_cooldown_t *gw_cooldown_new(size_t n, double scale)
{
    gw_cooldown_t *c = calloc(1, sizeof(*c) + n * sizeof(slot_t));
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    atomic_init(&c->open, 0);
    c->scale = scale < 0 ? 0 : scale;
    c->n = n;
    return c;
}

void gw_cooldown_free(gw_cooldown_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void gw_cooldown_set_series(gw_cooldown_t *c, size_t i, gw_series_t *state,
                            gw_series_t *entered)
{
    if (i >= c->n)
        return;
    c->s[i].state_series = state;
    c->s[i].entered_series = entered;
    gw_series_set(state, GW_CD_STATE_OK);
}

static int is_open(const slot_t *s)
{
    return s->until != 0 || s->probing;
}

static int state_of(const slot_t *s, uint64_t now)
{
    if (!is_open(s))
        return GW_CD_STATE_OK;
    if (s->probing || now >= s->until)
        return GW_CD_STATE_PROBING;
    return GW_CD_STATE_COOLING;
}

/* Under the lock: after a change of slot i, keep `open` and the gauge in
 * step. was_open: is_open() before the change. */
static void changed(gw_cooldown_t *c, slot_t *s, int was_open, uint64_t now)
{
    int open = is_open(s);
    if (open && !was_open)
        atomic_fetch_add(&c->open, 1);
    else if (!open && was_open)
        atomic_fetch_sub(&c->open, 1);
    gw_series_set(s->state_series, state_of(s, now));
}

int gw_cooldown_acquire(gw_cooldown_t *c, size_t i, uint64_t now_ms, uint64_t *until)
{
    if (atomic_load_explicit(&c->open, memory_order_acquire) == 0 || i >= c->n)
        return GW_CD_USE; /* the common case: nobody is cooling */
    pthread_mutex_lock(&c->lock);
    slot_t *s = &c->s[i];
    int rc = GW_CD_USE;
    if (s->until != 0 && (now_ms < s->until || s->probing)) {
        rc = GW_CD_SKIP;
        if (until)
            *until = s->until;
    } else if (s->until != 0) {
        s->probing = 1; /* half-open: this request is the probe */
        changed(c, s, 1, now_ms);
        rc = GW_CD_PROBE;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int gw_cooldown_force(gw_cooldown_t *c, size_t i)
{
    if (i >= c->n)
        return GW_CD_USE;
    pthread_mutex_lock(&c->lock);
    slot_t *s = &c->s[i];
    int rc = GW_CD_USE;
    if (s->until != 0 && !s->probing) {
        s->probing = 1;
        changed(c, s, 1, 0);
        rc = GW_CD_PROBE;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void gw_cooldown_success(gw_cooldown_t *c, size_t i, int probe)
{
    if (i >= c->n)
        return;
    slot_t *s = &c->s[i];
    /* Nothing to reset when no slot is open: a failure always opens its
     * slot and only a success closes it (and clears the count). */
    if (atomic_load_explicit(&c->open, memory_order_acquire) == 0 && !probe)
        return;
    pthread_mutex_lock(&c->lock);
    int was = is_open(s);
    s->until = 0;
    s->step = 0;
    s->failures = 0;
    if (probe)
        s->probing = 0;
    changed(c, s, was, 0);
    pthread_mutex_unlock(&c->lock);
}

static uint64_t step_ms(uint32_t step)
{
    return step <= 1 ? GW_CD_STEP1_MS : step == 2 ? GW_CD_STEP2_MS : GW_CD_CAP_MS;
}

int gw_cooldown_failure(gw_cooldown_t *c, size_t i, int probe, uint32_t retry_after_ms,
                        uint64_t now_ms)
{
    if (i >= c->n)
        return 0;
    pthread_mutex_lock(&c->lock);
    slot_t *s = &c->s[i];
    int was = is_open(s), began = 0;
    s->failures++;
    if (probe)
        s->probing = 0;
    if (s->until == 0 || probe) {
        if (s->step < 3)
            s->step++;
        uint64_t d = (uint64_t)((double)step_ms(s->step) * c->scale);
        if (retry_after_ms > d)
            d = retry_after_ms;
        s->until = now_ms + d;
        if (s->until == 0)
            s->until = 1; /* 0 means closed */
        s->cooldowns++;
        began = 1;
    } else if (now_ms + retry_after_ms > s->until) {
        /* Already cooling (a request from before the cooldown failed too):
         * no new step, but the upstream's Retry-After still counts. */
        s->until = now_ms + retry_after_ms;
    }
    changed(c, s, was, now_ms);
    pthread_mutex_unlock(&c->lock);
    if (began)
        gw_series_add(s->entered_series, 1);
    return began;
}

void gw_cooldown_release(gw_cooldown_t *c, size_t i, int probe)
{
    if (!probe || i >= c->n)
        return;
    pthread_mutex_lock(&c->lock);
    slot_t *s = &c->s[i];
    int was = is_open(s);
    s->probing = 0;
    changed(c, s, was, 0);
    pthread_mutex_unlock(&c->lock);
}

void gw_cooldown_info(gw_cooldown_t *c, size_t i, uint64_t now_ms, gw_cooldown_info_t *out)
{
    out->state = GW_CD_STATE_OK;
    out->remaining_ms = 0;
    out->failures = 0;
    out->step = 0;
    out->cooldowns = 0;
    if (i >= c->n)
        return;
    pthread_mutex_lock(&c->lock);
    slot_t *s = &c->s[i];
    out->state = state_of(s, now_ms);
    out->remaining_ms = out->state == GW_CD_STATE_COOLING ? s->until - now_ms : 0;
    out->failures = s->failures;
    out->step = s->step;
    out->cooldowns = s->cooldowns;
    gw_series_set(s->state_series, out->state);
    pthread_mutex_unlock(&c->lock);
}

size_t gw_cooldown_open(const gw_cooldown_t *c)
{
    return atomic_load_explicit(&c->open, memory_order_acquire);
}
