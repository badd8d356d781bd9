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
 * Redis needs no wiping between cases. */
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
    X(health_ok_when_ready)

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

typedef struct sc_res_s {
    int calls; /* times the callback ran */
    int32_t status;
    uint64_t last_seq;
    int null_items; /* the callback got a NULL session / items pointer */
    sc_session_t *sessions;
    size_t nsessions;
    sc_turn_t *turns;
    size_t nturns;
} sc_res_t;

void sc_res_free(sc_res_t *r);
/* "agent:<ns>:<suffix>" into buf. */
const char *sc_key(const sc_env_t *env, char *buf, size_t len, const char *suffix);
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

#endif
