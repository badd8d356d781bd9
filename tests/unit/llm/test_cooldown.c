/* Unit tests for llm/cooldown.c: the steps and their cap, Retry-After, the
 * half-open probe (exactly one request probes), and two threads sharing the
 * table. Time is passed in, so nothing waits. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include "llm/cooldown.h"

#define T0 1000000u /* a monotonic "now", ms */

Test(cooldown, closed_slots_are_used)
{
    gw_cooldown_t *c = gw_cooldown_new(2, 1.0);
    cr_assert_not_null(c);
    cr_assert_eq(gw_cooldown_acquire(c, 0, T0, NULL), GW_CD_USE);
    cr_assert_eq(gw_cooldown_acquire(c, 1, T0, NULL), GW_CD_USE);
    cr_assert_eq(gw_cooldown_open(c), 0);
    gw_cooldown_free(c);
}

Test(cooldown, steps_30s_1min_then_5min_cap)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    gw_cooldown_info_t ci;
    uint64_t until = 0, now = T0;
    static const uint64_t want[] = {30000, 60000, 300000, 300000, 300000};
    for (size_t i = 0; i < 5; i++) {
        int probe = i > 0;
        if (probe) { /* the cooldown is over: this request probes, and fails */
            cr_assert_eq(gw_cooldown_acquire(c, 0, now, NULL), GW_CD_PROBE);
        }
        cr_assert_eq(gw_cooldown_failure(c, 0, probe, 0, now), 1, "step %zu began", i);
        cr_assert_eq(gw_cooldown_acquire(c, 0, now + want[i] - 1, &until), GW_CD_SKIP);
        cr_assert_eq(until, now + want[i], "step %zu lasts %llu ms", i,
                     (unsigned long long)want[i]);
        gw_cooldown_info(c, 0, now, &ci);
        cr_assert_eq(ci.state, GW_CD_STATE_COOLING);
        cr_assert_eq(ci.remaining_ms, want[i]);
        cr_assert_eq(ci.failures, i + 1);
        now += want[i];
    }
    gw_cooldown_info(c, 0, now, &ci);
    cr_assert_eq(ci.state, GW_CD_STATE_PROBING, "an expired cooldown is half-open");
    cr_assert_eq(ci.cooldowns, 5);
    cr_assert_eq(ci.step, 3, "the step stays at the cap");
    gw_cooldown_free(c);
}

Test(cooldown, success_closes_and_resets_the_step)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    gw_cooldown_failure(c, 0, 0, 0, T0);
    cr_assert_eq(gw_cooldown_acquire(c, 0, T0 + 30000, NULL), GW_CD_PROBE);
    gw_cooldown_success(c, 0, 1);
    cr_assert_eq(gw_cooldown_open(c), 0);
    cr_assert_eq(gw_cooldown_acquire(c, 0, T0 + 30001, NULL), GW_CD_USE);
    gw_cooldown_info_t ci;
    gw_cooldown_info(c, 0, T0 + 30001, &ci);
    cr_assert_eq(ci.state, GW_CD_STATE_OK);
    cr_assert_eq(ci.failures, 0);
    /* The next failure starts from the first step again. */
    cr_assert_eq(gw_cooldown_failure(c, 0, 0, 0, T0 + 40000), 1);
    uint64_t until = 0;
    cr_assert_eq(gw_cooldown_acquire(c, 0, T0 + 40000, &until), GW_CD_SKIP);
    cr_assert_eq(until, T0 + 40000 + 30000);
    gw_cooldown_free(c);
}

Test(cooldown, retry_after_longer_than_the_step_wins)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    uint64_t until = 0;
    gw_cooldown_failure(c, 0, 0, 90000, T0);
    gw_cooldown_acquire(c, 0, T0, &until);
    cr_assert_eq(until, T0 + 90000, "cooldown = max(step, Retry-After)");
    gw_cooldown_free(c);
    c = gw_cooldown_new(1, 1.0);
    gw_cooldown_failure(c, 0, 0, 5000, T0);
    gw_cooldown_acquire(c, 0, T0, &until);
    cr_assert_eq(until, T0 + 30000, "a shorter Retry-After does not shorten the step");
    gw_cooldown_free(c);
}

Test(cooldown, scale_shortens_steps_but_not_retry_after)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 0.01);
    uint64_t until = 0;
    gw_cooldown_failure(c, 0, 0, 0, T0);
    gw_cooldown_acquire(c, 0, T0, &until);
    cr_assert_eq(until, T0 + 300);
    gw_cooldown_free(c);
    c = gw_cooldown_new(1, 0.01);
    gw_cooldown_failure(c, 0, 0, 2000, T0);
    gw_cooldown_acquire(c, 0, T0, &until);
    cr_assert_eq(until, T0 + 2000);
    gw_cooldown_free(c);
    /* Scale 0: over at once; the next request probes. */
    c = gw_cooldown_new(1, 0);
    gw_cooldown_failure(c, 0, 0, 0, T0);
    cr_assert_eq(gw_cooldown_acquire(c, 0, T0, NULL), GW_CD_PROBE);
    gw_cooldown_free(c);
}

Test(cooldown, exactly_one_probe)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    gw_cooldown_failure(c, 0, 0, 0, T0);
    uint64_t now = T0 + 30000;
    cr_assert_eq(gw_cooldown_acquire(c, 0, now, NULL), GW_CD_PROBE);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(gw_cooldown_acquire(c, 0, now + (uint64_t)i, NULL), GW_CD_SKIP,
                     "others skip while the probe runs");
    /* The probe fails: cooling again, one step longer. */
    cr_assert_eq(gw_cooldown_failure(c, 0, 1, 0, now), 1);
    uint64_t until = 0;
    cr_assert_eq(gw_cooldown_acquire(c, 0, now, &until), GW_CD_SKIP);
    cr_assert_eq(until, now + 60000);
    gw_cooldown_free(c);
}

Test(cooldown, released_probe_lets_the_next_request_probe)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    gw_cooldown_failure(c, 0, 0, 0, T0);
    uint64_t now = T0 + 30000;
    cr_assert_eq(gw_cooldown_acquire(c, 0, now, NULL), GW_CD_PROBE);
    gw_cooldown_release(c, 0, 1); /* the probe's client went away */
    cr_assert_eq(gw_cooldown_acquire(c, 0, now, NULL), GW_CD_PROBE);
    gw_cooldown_free(c);
}

Test(cooldown, concurrent_failures_do_not_escalate)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    /* Ten requests in flight all fail: one cooldown, at the first step. */
    cr_assert_eq(gw_cooldown_failure(c, 0, 0, 0, T0), 1);
    for (int i = 1; i < 10; i++)
        cr_assert_eq(gw_cooldown_failure(c, 0, 0, 0, T0 + (uint64_t)i), 0);
    uint64_t until = 0;
    gw_cooldown_acquire(c, 0, T0, &until);
    cr_assert_eq(until, T0 + 30000);
    gw_cooldown_info_t ci;
    gw_cooldown_info(c, 0, T0, &ci);
    cr_assert_eq(ci.cooldowns, 1);
    cr_assert_eq(ci.failures, 10);
    /* A late failure with a longer Retry-After still extends it. */
    gw_cooldown_failure(c, 0, 0, 45000, T0 + 10);
    gw_cooldown_acquire(c, 0, T0, &until);
    cr_assert_eq(until, T0 + 10 + 45000);
    gw_cooldown_free(c);
}

Test(cooldown, force_takes_the_probe_when_free)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    gw_cooldown_failure(c, 0, 0, 0, T0);
    cr_assert_eq(gw_cooldown_force(c, 0), GW_CD_PROBE);
    cr_assert_eq(gw_cooldown_force(c, 0), GW_CD_USE, "a second forced try is no probe");
    gw_cooldown_free(c);
}

Test(cooldown, out_of_range_slots_are_harmless)
{
    gw_cooldown_t *c = gw_cooldown_new(1, 1.0);
    cr_assert_eq(gw_cooldown_failure(c, 5, 0, 0, T0), 0);
    cr_assert_eq(gw_cooldown_acquire(c, 5, T0, NULL), GW_CD_USE);
    gw_cooldown_success(c, 5, 1);
    gw_cooldown_release(c, 5, 1);
    cr_assert_eq(gw_cooldown_open(c), 0);
    gw_cooldown_free(c);
}

/* Two threads: each round, both race for the probe of an expired
 * cooldown; exactly one wins, and its verdict is reported. */
typedef struct race_s {
    gw_cooldown_t *c;
    atomic_int round;
    atomic_int arrived;
    atomic_int probes[200];
} race_t;

static void *racer(void *arg)
{
    race_t *r = arg;
    for (int round = 0; round < 200; round++) {
        while (atomic_load(&r->round) < round) {
        }
        uint64_t now = T0 + (uint64_t)round * 1000000u;
        if (gw_cooldown_acquire(r->c, 0, now, NULL) == GW_CD_PROBE) {
            atomic_fetch_add(&r->probes[round], 1);
            gw_cooldown_success(r->c, 0, 1); /* the loser saw SKIP, or USE after this */
        }
        atomic_fetch_add(&r->arrived, 1);
    }
    return NULL;
}

Test(cooldown, two_threads_one_probe_per_expiry)
{
    static race_t r;
    r.c = gw_cooldown_new(1, 1.0);
    atomic_init(&r.round, -1);
    atomic_init(&r.arrived, 0);
    pthread_t a, b;
    pthread_create(&a, NULL, racer, &r);
    pthread_create(&b, NULL, racer, &r);
    for (int round = 0; round < 200; round++) {
        uint64_t now = T0 + (uint64_t)round * 1000000u;
        /* (Re)open the slot in the past so it is expired at `now`. */
        gw_cooldown_success(r.c, 0, 1);
        gw_cooldown_failure(r.c, 0, 0, 0, now - 400000);
        atomic_store(&r.round, round);
        while (atomic_load(&r.arrived) < 2 * (round + 1)) {
        }
        cr_assert_eq(atomic_load(&r.probes[round]), 1, "round %d: %d probes", round,
                     atomic_load(&r.probes[round]));
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    gw_cooldown_free(r.c);
}
