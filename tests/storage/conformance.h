/* tests/storage/conformance.h - the storage conformance suite: what every
 * storage plugin (sqlite, postgres, redis) must do, per openclaw/storage.h,
 * checked through the real .so loaded in the test host.
 *
 * A backend runner (tests/plugins/storage-<name>/) describes how to load its
 * plugin and emits one Criterion test per case:
 *
 *     static sc_backend_t be = {.plugin = "storage-sqlite", ...};
 *     #define SC_TEST(name) Test(storage_sqlite, name, .init = setup, .fini = teardown) \
 *         { sc_run(&be, #name); }
 *     SC_FOR_EACH_CASE(SC_TEST)
 *
 * Cases never assume an empty store: every key and agent id they use lives
 * under a namespace unique to the run (env->ns), so a shared PostgreSQL or
 * Redis needs no wiping between cases. The 1.1 cases follow the same rule:
 *  - channel names are "<ns>.<suffix>" (sc_chan); inbox_pending,
 *    outbox_pending and pairing_list(NULL) see the whole store, so cases
 *    keep only the items of their own channels and page with after_id
 *    rather than expect a page to hold only theirs;
 *  - pairing_request deletes every expired request, other runs' included,
 *    so: requests meant to stay pending expire an hour or more after the
 *    wall clock; now_ms is never later than the wall clock plus half an
 *    hour; and a request that must be seen alive before it expires gets an
 *    expiry after the wall clock (requests already expired by it can be
 *    swept by any other case at any time);
 *  - cases mark the inbox and outbox items they leave pending as done or
 *    sent before they end, so scans of a shared store stay short. */
#ifndef TESTS_STORAGE_CONFORMANCE_H
#define TESTS_STORAGE_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>
#include <openclaw/testing.h>

/* How to load one backend. */
typedef struct sc_backend_s {
    const char *plugin;  /* plugin name, e.g. "storage-sqlite" */
    const char *so_path; /* the .so to load */
    const char *yaml;    /* gateway.yaml text selecting and configuring it */
    int persistent;      /* data survives freeing the host and loading again */
} sc_backend_t;

/* A loaded backend: what every case gets. */
typedef struct sc_env_s {
    const sc_backend_t *backend;
    oc_test_host_t *th; /* NULL while closed (see sc_env_reopen) */
    const oc_host_api_t *host;
    const oc_storage_ops_t *ops;
    void *st;
    char ns[40];     /* unique per case: keys are "agent:<ns>:..." */
    char agent[48];  /* an agent id unique per case ("<ns>") */
    char agent2[48]; /* a second one ("<ns>b") */
} sc_env_t;

typedef void (*sc_case_fn)(sc_env_t *env);

typedef struct sc_case_s {
    const char *name;
    sc_case_fn fn;
} sc_case_t;

/* Every case, by name. Runners expand it into one test each. */
#define SC_FOR_EACH_CASE(X)                                                                    \
    X(put_get_roundtrip)                                                                       \
    X(put_zero_timestamps_are_now)                                                             \
    X(created_kept_on_update)                                                                  \
    X(get_missing_is_enoent)                                                                   \
    X(list_order_filters_limit)                                                                \
    X(list_default_limit_is_100)                                                               \
    X(list_prefix_is_literal)                                                                  \
    X(delete_cascades_and_enoent)                                                              \
    X(append_seq_numbering)                                                                    \
    X(append_many_turns_in_one_call)                                                           \
    X(append_missing_is_enoent)                                                                \
    X(read_last_n_oldest_first)                                                                \
    X(clear_then_append_continues_seq)                                                         \
    X(per_session_order_1000_ops)                                                              \
    X(invalid_arguments_einval)                                                                \
    X(durable_across_restart)                                                                  \
    X(acknowledged_writes_survive_kill_9)                                                      \
    X(stop_completes_accepted_ops)                                                             \
    X(loop_not_blocked_20k_appends)                                                            \
    X(health_ok_when_ready)                                                                    \
    X(inbox_put_dedupes_on_channel_account_message_id)                                         \
    X(inbox_duplicate_keeps_first_envelope_and_state)                                          \
    X(inbox_pending_order_after_id_limit)                                                      \
    X(commit_turns_inbox_outbox_together)                                                      \
    X(commit_missing_session_applies_nothing)                                                  \
    X(commit_clear_transcript_then_turns)                                                      \
    X(commit_upserts_session_then_turns)                                                       \
    X(commit_without_turns_needs_no_session)                                                   \
    X(outbox_existing_idempotency_key_is_noop)                                                 \
    X(outbox_pending_order_after_id_limit)                                                     \
    X(outbox_update_state_transitions)                                                         \
    X(outbox_update_unknown_id_is_enoent)                                                      \
    X(pairing_request_creates_then_repeats)                                                    \
    X(pairing_max_pending_is_elimit)                                                           \
    X(pairing_code_collision_is_eexist)                                                        \
    X(pairing_expired_requests_vanish_and_free_a_slot)                                         \
    X(pairing_list_channel_filter_oldest_first)                                                \
    X(pairing_approve_moves_sender_to_allow_list)                                              \
    X(pairing_approve_unknown_or_expired_is_enoent)                                            \
    X(allow_add_idempotent_and_check_scoped)                                                   \
    X(messaging_invalid_arguments_einval)                                                      \
    X(messaging_durable_across_restart)                                                        \
    X(acknowledged_commits_survive_kill_9)                                                     \
    X(inbound_pipeline_10k_messages)                                                          \
    X(lease_acquire_renew_release_tokens)                                                      \
    X(lease_expires_then_another_holder_takes_it)                                              \
    X(lease_invalid_arguments_einval)                                                          \
    X(inbox_session_pending_filters_by_session)                                                \
    X(commit_inbox_pending_flag_refuses_processed_items)                                       \
    X(outbox_claim_rules)                                                                      \
    X(outbox_claim_expires)                                                                    \
    X(prune_deletes_only_finished_old_items)                                                   \
    X(shared_invalid_arguments_einval)

#define SC_DECLARE(name) void sc_case_##name(sc_env_t *env);
SC_FOR_EACH_CASE(SC_DECLARE)
#undef SC_DECLARE

extern const sc_case_t sc_cases[];
extern const size_t sc_case_count;

/* Load the backend in a new test host (asserts on failure). */
void sc_env_open(sc_env_t *env, const sc_backend_t *b);
/* Free the test host (stop, destroy, unload). Idempotent. */
void sc_env_close(sc_env_t *env);
/* Close and load again on the same configuration, keeping ns. */
void sc_env_reopen(sc_env_t *env);
/* Open, run the named case, close. */
void sc_run(const sc_backend_t *b, const char *case_name);

/* ---- helpers, also for backend-specific tests ------------------------- */

#define SC_TIMEOUT_MS 60000

/* Copies of what callbacks returned (they get borrowed pointers). */
typedef struct sc_session_s {
    char *key, *agent_id, *channel, *meta_json;
    uint64_t created_ms, updated_ms, turn_count;
} sc_session_t;

typedef struct sc_turn_s {
    uint64_t seq;
    char *role, *content, *meta_json;
    uint64_t created_ms;
} sc_turn_t;

typedef struct sc_inbox_s {
    uint64_t id;
    uint32_t state;
    char *channel, *account, *message_id, *envelope_json;
    char *session_key; /* 1.2 */
    uint64_t received_ms;
} sc_inbox_t;

typedef struct sc_outbox_s {
    uint64_t id;
    uint32_t state, peer_kind, attempts;
    char *idempotency_key, *channel, *account, *peer_id, *text, *in_reply_to, *last_error;
    uint64_t created_ms, next_attempt_ms;
} sc_outbox_t;

typedef struct sc_pairing_s {
    char *channel, *account, *sender_id, *code, *meta_json;
    uint64_t created_ms, last_seen_ms, expires_ms;
} sc_pairing_t;

typedef struct sc_res_s {
    int calls; /* times the callback ran */
    int32_t status;
    uint64_t last_seq;
    uint64_t id;    /* inbox_put */
    int32_t flag;   /* inbox_put: duplicate; pairing_request: created */
    int null_items; /* the callback got a NULL session / items / request pointer */
    sc_session_t *sessions;
    size_t nsessions;
    sc_turn_t *turns;
    size_t nturns;
    sc_inbox_t *inbox;
    size_t ninbox;
    sc_outbox_t *outbox;
    size_t noutbox;
    sc_pairing_t *pairings;
    size_t npairings;
    /* 1.2: lease_acquire's lease (has_lease when one was passed) */
    int has_lease;
    char *lease_name, *lease_holder;
    uint64_t lease_token, lease_left_ms;
} sc_res_t;

void sc_res_free(sc_res_t *r);
/* "agent:<ns>:<suffix>" into buf. */
const char *sc_key(const sc_env_t *env, char *buf, size_t len, const char *suffix);
/* A channel name unique to the case: "<ns>.<suffix>" into buf. */
const char *sc_chan(const sc_env_t *env, char *buf, size_t len, const char *suffix);
/* The wall clock in ms, as the storage reads it. */
uint64_t sc_now_ms(void);
/* Both non-NULL and equal; a printable stand-in for NULL. */
int sc_streq(const char *a, const char *b);
const char *sc_show(const char *s);
/* Expands to Criterion's cr_assert: include <criterion/criterion.h>. */
#define SC_STR_EQ(a, b)                                                                        \
    cr_assert(sc_streq((a), (b)), "%s: \"%s\" != \"%s\"", #a, sc_show(a), sc_show(b))
/* Run the loop until *flag != 0; asserts it happened in time. */
void sc_wait(sc_env_t *env, const int *flag);

/* Synchronous wrappers: call, assert OC_PENDING, wait for the callback,
 * return its status (results in *r when given; free with sc_res_free). */
int32_t sc_put(sc_env_t *env, const oc_session_t *s);
int32_t sc_put_simple(sc_env_t *env, const char *key, const char *agent, uint64_t updated_ms);
int32_t sc_get(sc_env_t *env, const char *key, sc_res_t *r);
int32_t sc_list(sc_env_t *env, uint32_t limit, const char *agent, const char *prefix,
                sc_res_t *r);
int32_t sc_delete(sc_env_t *env, const char *key);
int32_t sc_append(sc_env_t *env, const char *key, const oc_turn_t *const *turns, size_t n,
                  uint64_t *last_seq);
int32_t sc_append_text(sc_env_t *env, const char *key, const char *role, const char *content,
                       uint64_t *last_seq);
int32_t sc_read(sc_env_t *env, const char *key, uint32_t limit, sc_res_t *r);
int32_t sc_clear(sc_env_t *env, const char *key);

/* 1.1. Results: inbox_put's id and duplicate in *id / *dup (either may be
 * NULL); lists in r->inbox, r->outbox, r->pairings; a pairing request in
 * r->pairings[0] with created in r->flag. sc_inbox_put's item has
 * received_ms SC_RECEIVED_MS. */
#define SC_RECEIVED_MS 1700000000000ull
int32_t sc_inbox_put_item(sc_env_t *env, const oc_inbox_item_t *it, uint64_t *id,
                          int32_t *dup);
int32_t sc_inbox_put(sc_env_t *env, const char *channel, const char *account,
                     const char *message_id, const char *envelope, uint64_t *id, int32_t *dup);
int32_t sc_inbox_pending(sc_env_t *env, uint64_t after_id, uint32_t limit, sc_res_t *r);
int32_t sc_commit(sc_env_t *env, const oc_commit_t *c);
int32_t sc_outbox_pending(sc_env_t *env, uint64_t after_id, uint32_t limit, sc_res_t *r);
int32_t sc_outbox_update(sc_env_t *env, uint64_t id, uint32_t state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error);
int32_t sc_pairing_request(sc_env_t *env, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, sc_res_t *r);
int32_t sc_pairing_list(sc_env_t *env, const char *channel, uint64_t now_ms, sc_res_t *r);
int32_t sc_pairing_approve(sc_env_t *env, const char *channel, const char *code,
                           uint64_t now_ms, sc_res_t *r);
int32_t sc_allow_add(sc_env_t *env, const char *channel, const char *account,
                     const char *sender_id);
int32_t sc_allow_check(sc_env_t *env, const char *channel, const char *account,
                       const char *sender_id);

/* 1.2. The lease in r->lease_* (r->has_lease); a claimed item in r->outbox[0]. */
int32_t sc_lease_acquire(sc_env_t *env, const char *name, const char *holder, uint32_t ttl_ms,
                         sc_res_t *r);
int32_t sc_lease_release(sc_env_t *env, const char *name, const char *holder);
int32_t sc_inbox_session_pending(sc_env_t *env, const char *session_key, uint64_t after_id,
                                 uint32_t limit, sc_res_t *r);
int32_t sc_outbox_claim(sc_env_t *env, uint64_t id, const char *holder, uint32_t ttl_ms,
                        sc_res_t *r);
int32_t sc_prune(sc_env_t *env, uint64_t before_ms);

#endif
