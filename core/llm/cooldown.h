/* llm/cooldown.h - per-provider cooldown after failover-class failures, with
 * a half-open probe (SPEC §7 "Model chain").
 *
 * A provider is in one of three states:
 *   ok       closed: every request may use it;
 *   cooling  a failure put it aside until `until`: requests skip it;
 *   probing  the cooldown is over (half-open): exactly one request, the
 *            probe, uses it; the others keep skipping it until the probe's
 *            verdict. Success closes it; failure cools it again, one step
 *            longer.
 * Steps: 30 s, 1 min, then 5 min (the cap), each max'ed with the upstream's
 * Retry-After and multiplied by `scale` (1 in production; tests shorten the
 * steps through OPENCLAW_TEST_COOLDOWN_SCALE, see llm.h). Failures of
 * requests that were already in flight when the cooldown began do not
 * escalate it (only a probe's failure does): ten concurrent 500s are one
 * outage, not ten.
 *
 * Threads: every function is thread-safe (the worker loops share one
 * table). When no provider is cooling, gw_cooldown_acquire is one atomic
 * load; otherwise a short mutex section. */
#ifndef GW_LLM_COOLDOWN_H
#define GW_LLM_COOLDOWN_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"

typedef struct gw_cooldown_s gw_cooldown_t;

/* gw_cooldown_acquire / gw_cooldown_force results. */
#define GW_CD_USE 0   /* use it */
#define GW_CD_PROBE 1 /* use it: this request is the probe; report its verdict */
#define GW_CD_SKIP 2  /* cooling, or another request probes: skip it */

/* States (also the values of the openclaw_provider_cooldown gauge). */
#define GW_CD_STATE_OK 0
#define GW_CD_STATE_COOLING 1
#define GW_CD_STATE_PROBING 2

#define GW_CD_STEP1_MS 30000u
#define GW_CD_STEP2_MS 60000u
#define GW_CD_CAP_MS 300000u

/* A table of n providers (slots 0..n-1), all ok. scale >= 0 multiplies the
 * steps (not Retry-After). NULL when out of memory. */
gw_cooldown_t *gw_cooldown_new(size_t n, double scale);
void gw_cooldown_free(gw_cooldown_t *c);

/* Optional metric series of slot i (borrowed, registry-owned): `state` is
 * set to the slot's GW_CD_STATE_* on every change, `entered` counts
 * cooldowns begun. Call before the table is shared. */
void gw_cooldown_set_series(gw_cooldown_t *c, size_t i, gw_series_t *state,
                            gw_series_t *entered);

/* May a request use slot i now? GW_CD_USE, GW_CD_PROBE (the caller is the
 * probe and must end it with success, failure or release) or GW_CD_SKIP
 * (then *until, when not NULL, is when the cooldown ends, monotonic ms;
 * for a slot being probed, the time the probe started counts). */
int gw_cooldown_acquire(gw_cooldown_t *c, size_t i, uint64_t now_ms, uint64_t *until);
/* Every candidate was skipped: use slot i anyway. Returns GW_CD_PROBE when
 * this request took the probe (no other probe was running), else
 * GW_CD_USE. */
int gw_cooldown_force(gw_cooldown_t *c, size_t i);
/* The call answered: the slot closes (consecutive failures back to 0).
 * probe: the caller held the probe. */
void gw_cooldown_success(gw_cooldown_t *c, size_t i, int probe);
/* A failover-class failure (connect, timeout, 429, 5xx, auth). A closed
 * slot, or the probe's failure, starts the next step: max(step * scale,
 * retry_after_ms). Returns 1 when a cooldown began (and was counted). */
int gw_cooldown_failure(gw_cooldown_t *c, size_t i, int probe, uint32_t retry_after_ms,
                        uint64_t now_ms);
/* The call ended without a verdict on the provider (canceled): a probe
 * gives its slot up, so the next request probes. */
void gw_cooldown_release(gw_cooldown_t *c, size_t i, int probe);

typedef struct gw_cooldown_info_s {
    int state;             /* GW_CD_STATE_* */
    uint64_t remaining_ms; /* cooling: until the probe may start; else 0 */
    uint32_t failures;     /* consecutive failover-class failures */
    uint32_t step;         /* 0 = closed; 1, 2, 3 (the cap) */
    uint64_t cooldowns;    /* cooldowns begun since start */
} gw_cooldown_info_t;
/* A snapshot of slot i; also refreshes its state series (an expired
 * cooldown shows as probing: the next request probes). */
void gw_cooldown_info(gw_cooldown_t *c, size_t i, uint64_t now_ms, gw_cooldown_info_t *out);
/* Number of slots not ok (cooling or probing). Lock-free. */
size_t gw_cooldown_open(const gw_cooldown_t *c);

#endif
