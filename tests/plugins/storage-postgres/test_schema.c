/* storage-postgres: schema versions and migrations. An older schema written
 * with the raw client is migrated and its data survives; a newer one is
 * refused untouched; two gateways starting on one new schema migrate it
 * once. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"

#define LATEST 2

static char g_schema[64];

static void setup(void)
{
    pgt_schema_name(g_schema, sizeof g_schema);
}

static void teardown(void)
{
    if (getenv("OPENCLAW_TEST_PG_URL") != NULL)
        pgt_schema_drop(g_schema);
}

static long long q(const char *fmt, const char *arg)
{
    char sql[512];
    snprintf(sql, sizeof sql, fmt, arg);
    return pgt_int(NULL, sql);
}

/* Schema v1 exactly as storage-postgres 1.1's first migration made it. */
static const char v1_schema[] =
    "CREATE TABLE openclaw_schema_version (version integer PRIMARY KEY,"
    " description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE openclaw_sessions (key text COLLATE \"C\" PRIMARY KEY, agent_id text NOT NULL,"
    " channel text, meta_json text, created_ms bigint NOT NULL, updated_ms bigint NOT NULL,"
    " turn_count bigint NOT NULL DEFAULT 0, next_seq bigint NOT NULL DEFAULT 1);"
    "CREATE INDEX openclaw_sessions_by_updated ON openclaw_sessions (updated_ms DESC, key DESC);"
    "CREATE INDEX openclaw_sessions_by_agent ON openclaw_sessions"
    " (agent_id, updated_ms DESC, key DESC);"
    "CREATE TABLE openclaw_turns (session_key text COLLATE \"C\" NOT NULL, seq bigint NOT NULL,"
    " role text NOT NULL, content text NOT NULL, meta_json text, created_ms bigint NOT NULL,"
    " PRIMARY KEY (session_key, seq));"
    "CREATE TABLE openclaw_inbox (id bigserial PRIMARY KEY, channel text NOT NULL,"
    " account text NOT NULL, message_id text NOT NULL, envelope_json text NOT NULL,"
    " received_ms bigint NOT NULL, state smallint NOT NULL DEFAULT 1,"
    " UNIQUE (channel, account, message_id));"
    "CREATE INDEX openclaw_inbox_pending ON openclaw_inbox (id) WHERE state = 1;"
    "CREATE TABLE openclaw_outbox (id bigserial PRIMARY KEY,"
    " idempotency_key text NOT NULL UNIQUE, channel text NOT NULL, account text NOT NULL,"
    " peer_kind smallint NOT NULL, peer_id text NOT NULL, text text NOT NULL, in_reply_to text,"
    " state smallint NOT NULL DEFAULT 1, attempts bigint NOT NULL DEFAULT 0, last_error text,"
    " created_ms bigint NOT NULL, next_attempt_ms bigint NOT NULL DEFAULT 0);"
    "CREATE INDEX openclaw_outbox_pending ON openclaw_outbox (id) WHERE state = 1;"
    "CREATE TABLE openclaw_pairing_requests (channel text NOT NULL, account text NOT NULL,"
    " sender_id text NOT NULL, code text NOT NULL, meta_json text, created_ms bigint NOT NULL,"
    " last_seen_ms bigint NOT NULL, expires_ms bigint NOT NULL, seq bigserial NOT NULL,"
    " PRIMARY KEY (channel, account, sender_id));"
    "CREATE INDEX openclaw_pairing_by_code ON openclaw_pairing_requests (channel, upper(code));"
    "CREATE INDEX openclaw_pairing_by_expiry ON openclaw_pairing_requests (expires_ms);"
    "CREATE TABLE openclaw_allow_entries (channel text NOT NULL, account text NOT NULL,"
    " sender_id text NOT NULL, created_ms bigint NOT NULL,"
    " PRIMARY KEY (channel, account, sender_id));"
    "CREATE FUNCTION openclaw_guard(ok boolean, code text, message text) RETURNS boolean"
    " LANGUAGE plpgsql AS $$ BEGIN IF ok IS NOT TRUE THEN RAISE EXCEPTION USING"
    " ERRCODE = code, MESSAGE = message; END IF; RETURN true; END $$;"
    "INSERT INTO openclaw_schema_version (version, description) VALUES (1, 'v1');";

static void make_v1(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", g_schema);
    pgt_exec(NULL, sql);
    pgt_exec(g_schema, v1_schema);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

Test(storage_postgres_schema, migrates_v1_to_v2_and_keeps_data, .init = setup,
     .fini = teardown)
{
    make_v1();
    char data[1400];
    uint64_t now = wall_ms();
    snprintf(data, sizeof data,
             "INSERT INTO openclaw_sessions VALUES ('agent:main:main', 'main', 'telegram',"
             " '{\"a\":1}', 100, 200, 2, 3);"
             "INSERT INTO openclaw_turns VALUES ('agent:main:main', 1, 'user', 'hi', NULL, 101),"
             " ('agent:main:main', 2, 'assistant', 'hello', '{}', 102);"
             "INSERT INTO openclaw_inbox (channel, account, message_id, envelope_json,"
             " received_ms, state) VALUES ('tg', 'acct', 'm1', '{\"x\":1}', 10, 1),"
             " ('tg', 'acct', 'm2', '{}', 11, 2);"
             "INSERT INTO openclaw_outbox (idempotency_key, channel, account, peer_kind,"
             " peer_id, text, created_ms) VALUES ('k1', 'tg', 'acct', 1, '42', 'reply', 12);"
             "INSERT INTO openclaw_pairing_requests (channel, account, sender_id, code,"
             " created_ms, last_seen_ms, expires_ms) VALUES ('tg', 'acct', 's1', 'ABCD2345',"
             " %llu, %llu, %llu);"
             "INSERT INTO openclaw_allow_entries VALUES ('tg', 'acct', 's0', 5);",
             (unsigned long long)now, (unsigned long long)now,
             (unsigned long long)(now + 3600000));
    pgt_exec(g_schema, data);

    char *yaml = pgt_yaml(pgt_url(), g_schema, NULL);
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    sc_res_t r;
    cr_assert_eq(sc_get(&env, "agent:main:main", &r), OC_OK, "the v1 session was lost");
    SC_STR_EQ(r.sessions[0].channel, "telegram");
    SC_STR_EQ(r.sessions[0].meta_json, "{\"a\":1}");
    cr_assert_eq(r.sessions[0].created_ms, 100);
    cr_assert_eq(r.sessions[0].updated_ms, 200);
    cr_assert_eq(r.sessions[0].turn_count, 2);
    sc_res_free(&r);
    cr_assert_eq(sc_read(&env, "agent:main:main", 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    SC_STR_EQ(r.turns[0].content, "hi");
    SC_STR_EQ(r.turns[1].meta_json, "{}");
    sc_res_free(&r);
    uint64_t last;
    cr_assert_eq(sc_append_text(&env, "agent:main:main", "user", "after", &last), OC_OK);
    cr_assert_eq(last, 3, "next_seq of the v1 row continues");

    /* The v1 inbox: m1 still pending and deduplicated, m2 done. */
    cr_assert_eq(sc_inbox_pending(&env, 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    SC_STR_EQ(r.inbox[0].message_id, "m1");
    SC_STR_EQ(r.inbox[0].envelope_json, "{\"x\":1}");
    uint64_t m1 = r.inbox[0].id;
    sc_res_free(&r);
    uint64_t id;
    int32_t dup;
    cr_assert_eq(sc_inbox_put(&env, "tg", "acct", "m1", "{}", &id, &dup), OC_OK);
    cr_assert(dup == 1 && id == m1);
    /* v2: a v1 row has no session key; a new one has. */
    cr_assert_eq(sc_inbox_session_pending(&env, "agent:main:main", 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 0);
    sc_res_free(&r);
    oc_inbox_item_t it = {.struct_size = sizeof it, .channel = "tg", .account = "acct",
                          .message_id = "m3", .envelope_json = "{}", .received_ms = 13,
                          .session_key = "agent:main:main"};
    cr_assert_eq(sc_inbox_put_item(&env, &it, &id, NULL), OC_OK);
    cr_assert_eq(sc_inbox_session_pending(&env, "agent:main:main", 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, id);
    sc_res_free(&r);

    /* The v1 outbox item can be claimed (v2 columns) and delivered. */
    cr_assert_eq(sc_outbox_pending(&env, 0, 0, &r), OC_OK);
    cr_assert_eq(r.noutbox, 1);
    uint64_t k1 = r.outbox[0].id;
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(&env, k1, "gw-a", 10000, &r), OC_OK);
    SC_STR_EQ(r.outbox[0].text, "reply");
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(&env, k1, "gw-b", 10000, &r), OC_EBUSY);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_update(&env, k1, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);

    cr_assert_eq(sc_pairing_list(&env, "tg", now, &r), OC_OK);
    cr_assert_eq(r.npairings, 1);
    SC_STR_EQ(r.pairings[0].sender_id, "s1");
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(&env, "tg", "acct", "s0"), OC_OK);
    cr_assert_eq(sc_lease_acquire(&env, "poller", "gw-a", 5000, &r), OC_OK);
    sc_res_free(&r);
    sc_env_close(&env);

    cr_assert_eq(q("SELECT max(version) FROM %s.openclaw_schema_version", g_schema), LATEST);
    cr_assert_eq(q("SELECT count(*) FROM %s.openclaw_schema_version", g_schema), LATEST);
    cr_assert_eq(q("SELECT count(*) FROM information_schema.columns WHERE table_schema = '%s'"
                   " AND (table_name, column_name) IN (('openclaw_inbox', 'session_key'),"
                   " ('openclaw_outbox', 'claim_holder'), ('openclaw_outbox', 'claim_expires_at'))",
                   g_schema),
                 3);
    cr_assert_eq(q("SELECT count(*) FROM pg_indexes WHERE schemaname = '%s' AND indexname IN"
                   " ('openclaw_inbox_session_pending', 'openclaw_inbox_done_by_received',"
                   " 'openclaw_outbox_settled_by_created')",
                   g_schema),
                 3);
    free(yaml);
}

Test(storage_postgres_schema, newer_schema_is_refused_untouched, .init = setup,
     .fini = teardown)
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", g_schema);
    pgt_exec(NULL, sql);
    pgt_exec(g_schema, "CREATE TABLE openclaw_schema_version (version integer PRIMARY KEY,"
                       " description text NOT NULL, applied_at timestamptz NOT NULL"
                       " DEFAULT now()); INSERT INTO openclaw_schema_version VALUES"
                       " (99, 'from the future', now())");
    char *yaml = pgt_yaml(pgt_url(), g_schema, "  startupRetrySeconds: 30\n");
    char want[256], errs[4096];
    snprintf(want, sizeof want,
             "the database schema version 99 (schema \"%s\") is newer than this "
             "storage-postgres knows (%d): upgrade the gateway",
             g_schema, LATEST);
    uint64_t ms;
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, &ms), OC_EUNAVAIL);
    cr_assert(strstr(errs, want) != NULL, "%s", errs);
    cr_assert_lt(ms, 5000, "a newer schema is a permanent error, not retried");
    cr_assert_eq(q("SELECT max(version) FROM %s.openclaw_schema_version", g_schema), 99);
    cr_assert_eq(q("SELECT count(*) FROM pg_tables WHERE schemaname = '%s'", g_schema), 1,
                 "the plugin created tables in a newer schema");
    free(yaml);
}

static int healthy(void *arg)
{
    const sc_env_t *env = arg;
    return env->ops->health(env->st, NULL) == OC_OK;
}

/* A child and the parent start on one new schema at the same moment: the
 * advisory lock lets one migrate, the other finds it done. */
Test(storage_postgres_schema, two_gateways_starting_together_migrate_once, .init = setup,
     .fini = teardown)
{
    char *yaml = pgt_yaml(pgt_url(), g_schema, "  poolSize: 1\n");
    int go[2];
    cr_assert_eq(pipe(go), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        oc_test_host_t *th = oc_test_host_new(yaml);
        if (th == NULL || oc_test_host_load(th, pgt_so()) != OC_OK)
            _exit(3);
        sc_env_t env = {.th = th, .ops = oc_test_host_kind_ops(th, PGT_PLUGIN),
                        .st = oc_test_host_state(th, PGT_PLUGIN)};
        int ok = oc_test_host_run_until(th, healthy, &env, 20000);
        oc_test_host_free(th);
        _exit(ok ? 0 : 4); /* no Criterion calls in the child */
    }
    sc_env_t env;
    sc_backend_t b;
    cr_assert_eq(write(go[1], "g", 1), 1); /* both start now */
    pgt_open(&env, &b, yaml);
    pgt_wait_health(&env, OC_OK, NULL, 20000);
    cr_assert_eq(sc_put_simple(&env, "agent:main:main", "main", 0), OC_OK);
    sc_env_close(&env);
    int ws = 0;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the other gateway failed (%d)",
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    close(go[0]);
    close(go[1]);
    cr_assert_eq(q("SELECT count(*) FROM %s.openclaw_schema_version", g_schema), LATEST);
    cr_assert_eq(q("SELECT count(*) FROM pg_tables WHERE schemaname = '%s'", g_schema), 8);
    free(yaml);
}

/* At the latest version a start runs no migration; the tables are in the
 * configured schema, not in public. */
Test(storage_postgres_schema, reopen_runs_no_migration, .init = setup, .fini = teardown)
{
    char *yaml = pgt_yaml(pgt_url(), g_schema, NULL);
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_put_simple(&env, "agent:main:main", "main", 0), OC_OK);
    sc_env_close(&env);
    long long applied = q("SELECT extract(epoch FROM max(applied_at)) * 1000000"
                          " FROM %s.openclaw_schema_version", g_schema);
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_get(&env, "agent:main:main", NULL), OC_OK);
    sc_env_close(&env);
    cr_assert_eq(q("SELECT count(*) FROM %s.openclaw_schema_version", g_schema), LATEST);
    cr_assert_eq(q("SELECT extract(epoch FROM max(applied_at)) * 1000000"
                   " FROM %s.openclaw_schema_version", g_schema),
                 applied);
    cr_assert_eq(q("SELECT count(*) FROM pg_tables WHERE schemaname = '%s'"
                   " AND tablename LIKE 'openclaw\\_%%'", g_schema),
                 8);
    free(yaml);
}
