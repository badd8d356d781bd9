/* messaging/messaging.h - the messaging core (SPEC §7): durable inbox,
 * policies and pairing, routing, per-session lanes, agent runs through the
 * provider chain, durable outbox, and /hooks/agent.
 *
 * Life of a message: a channel calls the host's inbound_submit -> the inbox
 * (dedupe + durable) -> the channel acknowledges -> route to an agent and a
 * session key -> the session's lane (one turn at a time, arrival order;
 * maxConcurrent turns overall) -> policy (drop, keep as context, pairing, or
 * run) -> the turn (history + provider chain) -> one atomic storage commit of
 * the transcript, the reply in the outbox and the inbox state -> delivery
 * through the channel, retried durably. After a crash, pending inbox items
 * are run again and pending outbox items delivered: each accepted message is
 * answered once (the reply's idempotency key is derived from the inbox id).
 *
 * Threads: everything runs on the main loop. */
#ifndef GW_MESSAGING_MESSAGING_H
#define GW_MESSAGING_MESSAGING_H

#include <stdint.h>

#include "config/config.h"
#include "llm/agent_job.h"
#include "llm/llm.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "plugin/plugins.h"
#include "util/diag.h"

typedef struct gw_messaging_s gw_messaging_t;

/* Builds the channel policies from the config (before the plugins are
 * created, so their keys count as read), compiles mention patterns,
 * registers /hooks/agent in the route table and installs the inbound hook in
 * ps. Borrowed: cfg, ps, metrics, home (they outlive the messaging core).
 * 0, or -EINVAL with the problems in d, or -ENOMEM. */
int gw_messaging_new(gw_messaging_t **out, const gw_config_t *cfg, gw_plugins_t *ps,
                     gw_metrics_t *metrics, gw_loop_t *home, gw_diag_t *d);
/* The model catalog turns run their chains from (borrowed; it outlives the
 * messaging core). Call before start. */
void gw_messaging_set_llm(gw_messaging_t *m, gw_llm_t *llm);
/* Runs an OpenAI API agent job (llm/agent_job.h) as a turn of the job's
 * session (api_turn.c): the gw_llm_agent_submit_fn the gateway installs.
 * 0, or -ECANCELED when stopping or not started (the caller answers). */
int gw_messaging_api_submit(void *ctx, gw_llm_agent_job_t *job);
/* Registers the metrics (once the registry exists); call before start. */
void gw_messaging_register_metrics(gw_messaging_t *m);
/* After the plugins started: checks the storage supports the messaging
 * operations (ABI 1.1), then recovers: every pending inbox item is routed
 * again and every pending outbox item delivered. Inbound messages submitted
 * meanwhile are stored and wait for the recovery to finish. 0, or -ENOTSUP
 * with the reason in d (a storage plugin built for ABI 1.0). */
int gw_messaging_start(gw_messaging_t *m, gw_diag_t *d);
/* Non-zero once the recovery scan finished. */
int gw_messaging_recovered(const gw_messaging_t *m);
/* Stops taking messages; running turns may finish until deadline_ms, then
 * are canceled (their messages stay pending for the next start); outbox
 * sends in flight likewise. done(data) once all is quiet. */
void gw_messaging_stop(gw_messaging_t *m, uint64_t deadline_ms, void (*done)(void *data),
                       void *data);
void gw_messaging_free(gw_messaging_t *m);
/* The "queue" object of /health/detailed (malloc'd JSON). */
char *gw_messaging_health_json(const gw_messaging_t *m);

#endif
