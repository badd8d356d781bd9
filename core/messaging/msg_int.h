/* messaging/msg_int.h - the messaging core's internals, shared by its files.
 * Main loop only. */
#ifndef GW_MESSAGING_MSG_INT_H
#define GW_MESSAGING_MSG_INT_H

#include <json-c/json.h>
#include <openclaw/plugin.h>
#include <stdint.h>

#include "llm/llm.h"
#include "llm/run.h"
#include "messaging/envelope.h"
#include "messaging/messaging.h"
#include "messaging/policy.h"
#include "messaging/routing.h"
#include "metrics/metrics.h"
#include "util/map.h"

#define GW_SESSION_KEY_MAX 512

typedef struct gw_lane_s gw_lane_t;
typedef struct gw_turn_s gw_turn_t;
typedef struct gw_hook_run_s gw_hook_run_t;
typedef struct gw_api_run_s gw_api_run_t;

/* One message in the pipeline: an inbox item, or an HTTP run (/hooks/agent,
 * or an OpenAI API request for an agent model: both carry a hook run). */
typedef struct gw_msg_s {
    struct gw_msg_s *next;
    uint64_t inbox_id;        /* 0 for hook runs */
    gw_envelope_t env;        /* hook runs: text (and sender "hook") only */
    int verdict;              /* GW_VERDICT_*, 0 = not decided yet */
    int queued_behind;        /* arrived while a turn of its lane ran */
    uint64_t enqueued_mono;   /* ms, for the wait metric */
    gw_hook_run_t *hook;      /* non-NULL for hook runs (borrowed until answered) */
} gw_msg_t;

struct gw_lane_s {
    gw_messaging_t *m;
    char *key;                /* session key */
    const gw_agent_cfg_t *agent;
    gw_msg_t *head, *tail;
    size_t depth;             /* messages queued (not in the running turn) */
    gw_turn_t *turn;          /* the running turn, or NULL */
    int busy;                 /* an async step on the head is in flight */
    int waiting_slot;         /* in m's slot wait list */
    gw_lane_t *slot_next;
    oc_timer_t *timer;        /* debounce or retry wake-up */
    uint64_t last_arrival_mono;
    /* shared store (shared.c): the session's lease and the inbox sync */
    int leased;               /* this gateway holds "session:<key>" */
    int synced;               /* the head was checked against the store's inbox */
    oc_timer_t *renew;        /* renews the lease while held */
    int renewing;             /* a renewal is in flight */
};

struct gw_messaging_s {
    const gw_config_t *cfg;
    gw_plugins_t *ps;
    gw_metrics_t *metrics;
    gw_loop_t *home;
    gw_llm_t *llm;            /* borrowed: model chains, runs (set before start) */
    const oc_storage_t *st;   /* set by start */

    gw_channel_policy_t *policies; /* one per channels.<name> */
    size_t npolicies;
    gw_channel_policy_t default_policy;
    gw_mention_set_t *agent_mentions; /* parallel to cfg->agents */

    gw_map_t lanes;           /* session key -> gw_lane_t */
    int running;              /* turns running (global slots used) */
    gw_lane_t *slot_head, *slot_tail; /* lanes waiting for a slot */
    size_t queued;            /* messages waiting in lanes */

    /* recovery */
    int recovering, recovered;
    uint64_t recover_cursor, recovered_max;
    size_t recovered_count;
    gw_msg_t *held_head, *held_tail; /* accepted during recovery */

    /* outbox delivery */
    uint64_t out_cursor;
    int out_scanning, out_rescan;
    size_t out_inflight;
    gw_map_t out_ids;         /* ids in flight or waiting for a retry */
    gw_map_t out_peers;       /* peer -> its active delivery (later ones parked) */
    oc_timer_t *out_sweep;    /* periodic full rescan */

    /* several gateways on one store (shared.c) */
    int shared;               /* the storage is postgres or redis with 1.2 ops */
    oc_timer_t *orphan_timer; /* periodic scan for other gateways' leftovers */
    oc_timer_t *prune_timer;  /* drops settled inbox/outbox rows past retention */
    int orphan_scanning;
    uint64_t orphan_cursor;

    int stopping;
    size_t pending_ops;       /* storage ops and sends in flight (for stop) */
    void (*stop_done)(void *data);
    void *stop_data;
    oc_timer_t *stop_timer;

    /* metrics */
    gw_metric_t *m_received, *m_sent, *m_queue_depth, *m_queue_wait, *m_dropped;
    gw_metric_t *m_turns, *m_turn_seconds, *m_sessions, *m_pairing, *m_running;
};

/* inbound.c */
int32_t gw_msg_inbound(void *ctx, oc_plugin_t *from, const oc_envelope_t *env, oc_inbound_cb cb,
                       void *data);
void gw_msg_recover(gw_messaging_t *m);
void gw_msg_dispatch(gw_messaging_t *m, gw_msg_t *msg);
void gw_msg_free(gw_msg_t *msg);

/* lane.c */
void gw_lane_enqueue(gw_messaging_t *m, const char *key, const gw_agent_cfg_t *agent,
                     gw_msg_t *msg);
void gw_lane_pump(gw_lane_t *l);
/* The running turn of l ended (committed, failed for good, or aborted with
 * its messages handed back in `requeue`, oldest first). */
void gw_lane_turn_ended(gw_lane_t *l, gw_msg_t *requeue);
void gw_lane_wake_later(gw_lane_t *l, uint64_t ms);
void gw_lanes_free(gw_messaging_t *m);

/* decide.c: policy for the head message; may go async (lane busy). Returns
 * 1 when msg->verdict is set now, 0 when the lane will be pumped later. */
int gw_decide(gw_lane_t *l, gw_msg_t *msg);
/* Processes a head message whose verdict is DROP, CONTEXT or PAIRING
 * (pops it; the lane is busy until its commit is done). */
void gw_settle(gw_lane_t *l, gw_msg_t *msg);
/* The meta_json of a user turn (channel, sender, message id); malloc'd. */
char *gw_msg_turn_meta(const gw_msg_t *msg);
/* Marks messages done with no reply (queue drops), outside lane order. */
void gw_drop_msgs(gw_messaging_t *m, gw_msg_t *list, const char *reason);

/* turn.c */
void gw_turn_start(gw_lane_t *l, gw_msg_t *msgs);
/* Asks the running turn to stop (interrupt mode): it ends through
 * gw_lane_turn_ended with its messages handed back. */
void gw_turn_abort(gw_turn_t *t);
void gw_turn_cancel_for_stop(gw_turn_t *t);

/* shared.c: several gateways on one store. A lane's head runs only while
 * this gateway holds the session's lease and after the lane was reconciled
 * with the store's pending inbox of the session (so messages accepted by
 * another gateway run here in id order, and ones it processed are
 * dropped). gw_shared_gate returns 1 when the head may proceed now, 0 when
 * the lane went async (busy or a wake-up timer). */
int gw_shared_gate(gw_lane_t *l);
/* The lane is empty: release the lease. */
void gw_shared_lane_idle(gw_lane_t *l);
/* The head was consumed: the next one needs a new sync. */
void gw_shared_head_consumed(gw_lane_t *l);
void gw_shared_start(gw_messaging_t *m);
void gw_shared_stop(gw_messaging_t *m);

/* outbox.c */
void gw_outbox_kick(gw_messaging_t *m);
void gw_outbox_start(gw_messaging_t *m);
void gw_outbox_stop(gw_messaging_t *m);
/* Frees what is left (after the channels stopped). */
void gw_outbox_free(gw_messaging_t *m);

/* hooks.c */
int gw_hooks_register(gw_messaging_t *m);
/* A hook run's turn finished: status OC_OK with the reply, or an error. */
void gw_hook_done(gw_hook_run_t *h, int32_t status, const char *reply, const char *error,
                  const char *session_key);

/* Where a hook run's reply is delivered: 1 and the target when the request
 * asked for delivery, else 0. Strings borrowed from the hook run. */
int gw_hook_delivery(const gw_hook_run_t *h, const char **channel, const char **account,
                     int *peer_kind, const char **to, const char **run_id);
/* OpenAI API agent requests ride hook runs through the lanes (so lanes,
 * queue drops and stops treat them alike): a hook run for one, its API run
 * (NULL for /hooks/agent), and the transcript meta of its user turn. */
gw_hook_run_t *gw_hook_run_for_api(gw_messaging_t *m, gw_api_run_t *api);
gw_api_run_t *gw_hook_api(const gw_hook_run_t *h);
const char *gw_hook_meta(const gw_hook_run_t *h);

/* api_turn.c: the turn's side of an API run. */
/* The turn t starts for it: 0, or -1 when the client went away meanwhile
 * (end the turn without running it). */
int gw_api_turn_begin(gw_api_run_t *a, gw_turn_t *t);
/* Its turn ended without answering (interrupt mode hands it back to the
 * lane): no turn runs for it now. */
void gw_api_turn_detach(gw_api_run_t *a);
int gw_api_stream(const gw_api_run_t *a);
/* Adds the request's system text (after the agent's system prompt) and its
 * sampling members to the chat request being built. */
void gw_api_extend(const gw_api_run_t *a, json_object *req);
/* A streamed chunk: its content delta goes to the client, and into the
 * reply. OC_OK or OC_ECANCELED. */
int32_t gw_api_chunk(gw_api_run_t *a, const char *json, size_t len);
/* The streamed reply so far (malloc'd; NULL on ENOMEM). */
char *gw_api_take_text(gw_api_run_t *a);
/* What the provider run ended with (class, status, usage, finish reason). */
void gw_api_note(gw_api_run_t *a, const gw_llm_result_t *res, const char *finish);
/* The answer (from gw_hook_done): the API run is freed. */
void gw_api_finish(gw_api_run_t *a, int32_t status, const char *reply, const char *error,
                   const char *session_key);

/* messaging.c */
const gw_channel_policy_t *gw_msg_policy(const gw_messaging_t *m, const char *channel);
const gw_mention_set_t *gw_msg_agent_mentions(const gw_messaging_t *m,
                                              const gw_agent_cfg_t *agent);
void gw_msg_op_begin(gw_messaging_t *m);
void gw_msg_op_end(gw_messaging_t *m);
/* While stopping: calls the stop callback once nothing runs any more. */
void gw_msg_check_stopped(gw_messaging_t *m);

#endif
