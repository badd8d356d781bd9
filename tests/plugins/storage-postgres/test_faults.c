/* storage-postgres: what happens when the server is away, refuses us, is
 * slow, or drops our connections. The server "goes away" through a TCP
 * proxy the test cuts and heals (tcp_proxy.c), or by pg_terminate_backend of
 * this test's own backends; the shared server itself is never touched. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgtest.h"
#include "tcp_proxy.h"

#define SECRET "hunter2-Secret"

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

static char *yaml_for(const char *url, const char *extra)
{
    return pgt_yaml(url, g_schema, extra);
}

/* ---- callbacks counted per op --------------------------------------------- */

#define OPS_MAX 4000

typedef struct tally_s {
    int done, ok, unavail, other;
    int32_t other_status;
    uint64_t seq[OPS_MAX];
    int32_t status[OPS_MAX];
} tally_t;

typedef struct tally_op_s {
    tally_t *t;
    int i;
} tally_op_t;

static void tally(tally_t *t, int i, int32_t status)
{
    t->done++;
    t->status[i] = status;
    if (status == OC_OK) {
        t->ok++;
    } else if (status == OC_EUNAVAIL) {
        t->unavail++;
    } else {
        t->other++;
        t->other_status = status;
    }
}

static void on_append(void *data, int32_t status, uint64_t last)
{
    tally_op_t *op = data;
    op->t->seq[op->i] = last;
    tally(op->t, op->i, status);
}

static void on_get(void *data, int32_t status, const oc_session_t *s)
{
    (void)s;
    tally_op_t *op = data;
    tally(op->t, op->i, status);
}

typedef struct until_s {
    const tally_t *t;
    int n;
} until_t;

static int reached(void *arg)
{
    const until_t *u = arg;
    return u->t->done >= u->n;
}

static void wait_done(sc_env_t *env, const tally_t *t, int n, uint64_t timeout_ms)
{
    until_t u = {t, n};
    cr_assert(oc_test_host_run_until(env->th, reached, &u, timeout_ms),
              "%d of %d callbacks in %llu ms", t->done, n, (unsigned long long)timeout_ms);
}

/* ---- unreachable at start -------------------------------------------------- */

/* start retries for startupRetrySeconds, then fails (the gateway exits 1)
 * with one error naming the store, without its password. */
Test(storage_postgres_faults, unreachable_at_start_fails_after_the_window, .init = setup,
     .fini = teardown)
{
    int port = pgt_free_port();
    char url[160], redacted[160], errs[4096];
    snprintf(url, sizeof url, "postgresql://postgres:" SECRET "@127.0.0.1:%d/gwtest", port);
    snprintf(redacted, sizeof redacted, "postgresql://postgres:***@127.0.0.1:%d/gwtest", port);
    char *yaml = yaml_for(url, "  startupRetrySeconds: 1\n");
    uint64_t ms;
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, &ms), OC_EUNAVAIL);
    cr_assert(ms >= 1000 && ms < 8000, "start gave up after %llu ms", (unsigned long long)ms);
    cr_assert(strstr(errs, "cannot start: no connection to") != NULL, "%s", errs);
    cr_assert(strstr(errs, "within startupRetrySeconds (1 s)") != NULL, "%s", errs);
    cr_assert(strstr(errs, redacted) != NULL, "the error does not name the store: %s", errs);
    cr_assert(strstr(errs, "Connection refused") != NULL, "the error does not say why: %s", errs);
    cr_assert(strstr(errs, SECRET) == NULL, "the error leaked the password: %s", errs);
    cr_assert_eq(pgt_count(errs, "cannot start"), 1, "one error, not one per retry: %s", errs);
    free(yaml);
}

Test(storage_postgres_faults, no_retry_window_fails_at_the_first_attempt, .init = setup,
     .fini = teardown)
{
    char url[160], errs[4096];
    snprintf(url, sizeof url, "postgresql://postgres@127.0.0.1:%d/gwtest", pgt_free_port());
    char *yaml = yaml_for(url, "  startupRetrySeconds: 0\n");
    uint64_t ms;
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, &ms), OC_EUNAVAIL);
    cr_assert(ms < 2000, "took %llu ms", (unsigned long long)ms);
    cr_assert(strstr(errs, "within startupRetrySeconds (0 s)") != NULL, "%s", errs);
    free(yaml);
}

/* A server still starting (it closes the first connections) is waited for. */
Test(storage_postgres_faults, server_coming_up_within_the_window, .init = setup,
     .fini = teardown)
{
    tcp_proxy_t *px = tcp_proxy_start(pgt_server_port());
    cr_assert_not_null(px);
    tcp_proxy_refuse(px, 3);
    char *url = pgt_url_at(tcp_proxy_port(px));
    char *yaml = yaml_for(url, "  startupRetrySeconds: 30\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml); /* asserts start succeeded */
    cr_assert_eq(tcp_proxy_refused(px), 3, "the first attempts were not refused");
    cr_assert_eq(sc_get(&env, "agent:t:early", NULL), OC_ENOENT);
    pgt_wait_health(&env, OC_OK, "ok: 4 connections", 20000);
    cr_assert(strstr(oc_test_host_errors(env.th), "cannot start") == NULL);
    sc_env_close(&env);
    tcp_proxy_free(px);
    free(yaml);
    free(url);
}

/* A server that accepts TCP and never answers: connectTimeoutMs. */
Test(storage_postgres_faults, silent_server_hits_the_connect_timeout, .init = setup,
     .fini = teardown)
{
    tcp_proxy_t *px = tcp_proxy_start(pgt_server_port());
    tcp_proxy_hang(px);
    char url[160], errs[4096];
    snprintf(url, sizeof url, "postgresql://postgres@127.0.0.1:%d/gwtest?sslmode=disable",
             tcp_proxy_port(px));
    char *yaml = yaml_for(url, "  startupRetrySeconds: 0\n  connectTimeoutMs: 300\n");
    uint64_t ms;
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, &ms), OC_EUNAVAIL);
    cr_assert(ms >= 300 && ms < 3000, "took %llu ms", (unsigned long long)ms);
    cr_assert(strstr(errs, "no connection within 300 ms (connectTimeoutMs)") != NULL, "%s",
              errs);
    tcp_proxy_free(px);
    free(yaml);
}

/* While running: an op waits for a reconnection at most timeoutMs. */
Test(storage_postgres_faults, an_op_waits_for_a_connection_at_most_timeout_ms, .init = setup,
     .fini = teardown)
{
    tcp_proxy_t *px = tcp_proxy_start(pgt_server_port());
    char *url = pgt_url_at(tcp_proxy_port(px));
    char *yaml = yaml_for(url, "  poolSize: 1\n  timeoutMs: 500\n  connectTimeoutMs: 20000\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    tcp_proxy_hang(px); /* the connection breaks; the reconnection hangs */
    pgt_wait_logged(&env, "lost the connection", 5000);
    uint64_t ms;
    cr_assert_eq(pgt_get_timed(&env, "agent:t:x", &ms), OC_EUNAVAIL);
    cr_assert(ms >= 450 && ms < 2000, "failed after %llu ms", (unsigned long long)ms);
    tcp_proxy_heal(px);
    sc_env_close(&env);
    tcp_proxy_free(px);
    free(yaml);
    free(url);
}

/* ---- permanent errors ----------------------------------------------------------- */

static const char *password_url(void)
{
    const char *u = getenv("OPENCLAW_TEST_PG_PASSWORD_URL");
    if (u == NULL || u[0] == '\0')
        cr_assert_fail("OPENCLAW_TEST_PG_PASSWORD_URL is not set: scripts/ci-services start "
                       "creates the role gwpass; then eval \"$(scripts/ci-services env)\"");
    return u;
}

Test(storage_postgres_faults, wrong_password_fails_at_once, .init = setup, .fini = teardown)
{
    char *url = pgt_replace(password_url(), ":gwpass-secret@", ":" SECRET "@");
    char *yaml = yaml_for(url, "  startupRetrySeconds: 30\n");
    char errs[4096];
    uint64_t ms;
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, &ms), OC_EUNAVAIL);
    /* Well before the 30 s window: retrying cannot fix a password. */
    cr_assert_lt(ms, 5000, "took %llu ms", (unsigned long long)ms);
    cr_assert(strstr(errs, "cannot start: postgresql://gwpass:***@") != NULL, "%s", errs);
    cr_assert(strstr(errs, "password authentication failed for user \"gwpass\"") != NULL,
              "%s", errs);
    cr_assert(strstr(errs, "wrong password for this user: fix the password in storage.url") !=
                  NULL,
              "%s", errs);
    cr_assert(strstr(errs, SECRET) == NULL, "the error leaked the password: %s", errs);
    cr_assert_eq(pgt_count(errs, "cannot start"), 1, "%s", errs);
    free(yaml);
    free(url);
}

/* The right password, percent-encoded in the URL, works (and the user's
 * own schema holds the tables). */
Test(storage_postgres_faults, percent_encoded_password_connects, .init = setup,
     .fini = teardown)
{
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s AUTHORIZATION gwpass", g_schema);
    pgt_exec(NULL, sql);
    char *url = pgt_replace(password_url(), ":gwpass-secret@", ":gwpass%2Dsecret@");
    char *yaml = yaml_for(url, NULL);
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_put_simple(&env, "agent:t:main", "t", 0), OC_OK);
    cr_assert_eq(sc_get(&env, "agent:t:main", NULL), OC_OK);
    sc_env_close(&env);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_tables WHERE schemaname = '%s' AND tableowner = 'gwpass'",
             g_schema);
    cr_assert_geq(pgt_int(NULL, sql), 7);
    free(yaml);
    free(url);
}

Test(storage_postgres_faults, missing_database_fails_at_once, .init = setup, .fini = teardown)
{
    char *url = pgt_replace(pgt_url(), "/gwtest", "/no_such_db_oct");
    char *yaml = yaml_for(url, "  startupRetrySeconds: 30\n");
    char errs[4096];
    uint64_t ms;
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, &ms), OC_EUNAVAIL);
    cr_assert_lt(ms, 5000, "took %llu ms", (unsigned long long)ms);
    cr_assert(strstr(errs, "database \"no_such_db_oct\" does not exist") != NULL, "%s", errs);
    cr_assert(strstr(errs, "create it, or fix the name in storage.url") != NULL, "%s", errs);
    free(yaml);
    free(url);
}

/* ---- losing the server while running --------------------------------------------- */

static int reconnected(void *arg)
{
    sc_env_t *env = arg;
    return pgt_metric(env, "openclaw_storage_postgres_reconnects_total") >= 4;
}

Test(storage_postgres_faults, killed_connections_reconnect_by_themselves, .init = setup,
     .fini = teardown)
{
    char *yaml = yaml_for(pgt_url(), "  poolSize: 4\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    pgt_wait_health(&env, OC_OK, "ok: 4 connections", 10000);
    cr_assert_eq(sc_put_simple(&env, "agent:t:main", "t", 0), OC_OK);
    cr_assert_eq(sc_append_text(&env, "agent:t:main", "user", "before", NULL), OC_OK);

    cr_assert_eq(pgt_terminate(g_schema), 4, "four backends of ours to kill");
    cr_assert(oc_test_host_run_until(env.th, reconnected, &env, 10000),
              "the plugin did not notice the four lost connections");
    pgt_wait_health(&env, OC_OK, "ok: 4 connections", 10000);

    uint64_t last = 0;
    cr_assert_eq(sc_append_text(&env, "agent:t:main", "user", "after", &last), OC_OK);
    cr_assert_eq(last, 2);
    sc_res_t r;
    cr_assert_eq(sc_read(&env, "agent:t:main", 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    SC_STR_EQ(r.turns[0].content, "before");
    sc_res_free(&r);
    const char *log = oc_test_host_errors(env.th);
    cr_assert_eq(pgt_count(log, "lost the connection"), 1,
                 "one warning for the loss, not one per connection:\n%s", log);
    sc_env_close(&env);
    free(yaml);
}

/* Connections killed in the middle of 3000 pipelined appends of 3 turns
 * each: every op is called back once, with OC_OK or OC_EUNAVAIL, and none
 * was half applied (the stored turns come in whole groups of three). */
Test(storage_postgres_faults, kill_under_load_applies_each_op_whole_or_not, .init = setup,
     .fini = teardown)
{
    enum { N = 3000 };
    char *yaml = yaml_for(pgt_url(), "  poolSize: 2\n  pipelineDepth: 32\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    const char *key = "agent:t:load";
    cr_assert_eq(sc_put_simple(&env, key, "t", 0), OC_OK);
    tally_t *t = calloc(1, sizeof *t);
    tally_op_t *ops = calloc(N, sizeof *ops);
    cr_assert(t != NULL && ops != NULL);
    for (int i = 0; i < N; i++) {
        char a[16], bb[16], c[16];
        snprintf(a, sizeof a, "%d:a", i);
        snprintf(bb, sizeof bb, "%d:b", i);
        snprintf(c, sizeof c, "%d:c", i);
        oc_turn_t turns[3] = {
            {.struct_size = sizeof(oc_turn_t), .role = "user", .content = a},
            {.struct_size = sizeof(oc_turn_t), .role = "assistant", .content = bb},
            {.struct_size = sizeof(oc_turn_t), .role = "tool", .content = c},
        };
        const oc_turn_t *tp[3] = {&turns[0], &turns[1], &turns[2]};
        ops[i] = (tally_op_t){t, i};
        cr_assert_eq(env.ops->transcript_append(env.st, key, tp, 3, on_append, &ops[i]),
                     OC_PENDING);
    }
    wait_done(&env, t, 300, 30000);
    cr_assert_lt(t->done, N, "every append finished before the kill: nothing tested");
    cr_assert_geq(pgt_terminate(g_schema), 1);
    wait_done(&env, t, N, 60000);
    cr_assert_eq(t->other, 0, "an append failed with %d", t->other_status);
    cr_assert_gt(t->ok, 0);
    uint64_t prev = 0;
    for (int i = 0; i < N; i++) {
        if (t->status[i] != OC_OK)
            continue;
        cr_assert(t->seq[i] > prev && t->seq[i] % 3 == 0,
                  "append %d: last seq %llu after %llu", i, (unsigned long long)t->seq[i],
                  (unsigned long long)prev);
        prev = t->seq[i];
    }
    pgt_wait_health(&env, OC_OK, "ok: 2 connections", 10000);
    sc_res_t r;
    cr_assert_eq(sc_read(&env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns % 3, 0, "%zu turns stored: an append was half applied", r.nturns);
    cr_assert_geq(r.nturns, (size_t)t->ok * 3);
    for (size_t i = 0; i < r.nturns; i += 3) {
        int n = atoi(r.turns[i].content);
        char want[3][16];
        snprintf(want[0], sizeof want[0], "%d:a", n);
        snprintf(want[1], sizeof want[1], "%d:b", n);
        snprintf(want[2], sizeof want[2], "%d:c", n);
        for (int k = 0; k < 3; k++) {
            SC_STR_EQ(r.turns[i + (size_t)k].content, want[k]);
            cr_assert_eq(r.turns[i + (size_t)k].seq, r.turns[i].seq + (uint64_t)k);
        }
    }
    sc_res_free(&r);
    cr_assert_geq(pgt_metric(&env, "openclaw_storage_postgres_reconnects_total"), 1);
    fprintf(stderr, "[storage-postgres] kill under load: %d ok, %d unavailable of %d\n", t->ok,
            t->unavail, N);
    sc_env_close(&env);
    free(ops);
    free(t);
    free(yaml);
}

/* The server goes away (the proxy is cut) and comes back: ops fail promptly
 * meanwhile, health says so, one warning is logged, and everything works
 * again by itself. */
Test(storage_postgres_faults, server_away_then_back, .init = setup, .fini = teardown)
{
    tcp_proxy_t *px = tcp_proxy_start(pgt_server_port());
    cr_assert_not_null(px);
    char *url = pgt_url_at(tcp_proxy_port(px));
    char *yaml = yaml_for(url, "  poolSize: 2\n  timeoutMs: 2000\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    pgt_wait_health(&env, OC_OK, "ok: 2 connections", 10000);
    cr_assert_eq(sc_put_simple(&env, "agent:t:main", "t", 0), OC_OK);

    /* Ops in flight when it goes: each is called back once, promptly. */
    tally_t *t = calloc(1, sizeof *t);
    tally_op_t ops[200];
    for (int i = 0; i < 200; i++) {
        ops[i] = (tally_op_t){t, i};
        oc_turn_t turn = {.struct_size = sizeof turn, .role = "user", .content = "x"};
        const oc_turn_t *tp[1] = {&turn};
        cr_assert_eq(
            env.ops->transcript_append(env.st, "agent:t:main", tp, 1, on_append, &ops[i]),
            OC_PENDING);
    }
    tcp_proxy_cut(px);
    uint64_t t0 = pgt_mono_ms();
    wait_done(&env, t, 200, 10000);
    cr_assert_lt(pgt_mono_ms() - t0, 2500, "in-flight ops took too long to fail");
    cr_assert_eq(t->other, 0, "status %d", t->other_status);

    const char *text = pgt_wait_health(&env, OC_EUNAVAIL, "unavailable", 10000);
    cr_assert(strstr(text, "retrying") != NULL, "health: %s", text);
    for (int i = 0; i < 3; i++) {
        uint64_t ms;
        cr_assert_eq(pgt_get_timed(&env, "agent:t:main", &ms), OC_EUNAVAIL);
        cr_assert_lt(ms, 2100, "an op took %llu ms to fail", (unsigned long long)ms);
    }

    cr_assert_eq(tcp_proxy_heal(px), 0);
    pgt_wait_health(&env, OC_OK, "ok: 2 connections", 15000);
    cr_assert_eq(sc_get(&env, "agent:t:main", NULL), OC_OK);
    const char *log = oc_test_host_errors(env.th);
    cr_assert_eq(pgt_count(log, "lost the connection"), 1, "%s", log);
    cr_assert_eq(pgt_count(log, PGT_PLUGIN ": "), 1, "one warning in all, no line per retry:\n%s",
                 log);
    sc_env_close(&env);
    tcp_proxy_free(px);
    free(t);
    free(yaml);
    free(url);
}

/* ---- slow statements ---------------------------------------------------------------- */

/* Lock the session row from another connection (the plugin's next append
 * waits on it). */
static PGconn *lock_session(const char *key)
{
    PGconn *c = pgt_connect(NULL, g_schema);
    PQclear(PQexec(c, "BEGIN"));
    const char *v[1] = {key};
    PGresult *r = PQexecParams(c, "SELECT 1 FROM openclaw_sessions WHERE key = $1 FOR UPDATE",
                               1, NULL, v, NULL, NULL, 0);
    cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s",
              PQerrorMessage(c));
    PQclear(r);
    return c;
}

static void unlock_session(PGconn *c)
{
    PQclear(PQexec(c, "ROLLBACK"));
    PQfinish(c);
}

/* The server cancels a statement that runs too long (just before the
 * client would give up): that op fails with OC_ETIMEDOUT, the connection
 * stays. */
Test(storage_postgres_faults, slow_statement_times_out_alone, .init = setup, .fini = teardown)
{
    char *yaml = yaml_for(pgt_url(), "  poolSize: 1\n  timeoutMs: 1000\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_put_simple(&env, "agent:t:locked", "t", 0), OC_OK);
    PGconn *lk = lock_session("agent:t:locked");
    tally_t *t = calloc(1, sizeof *t);
    tally_op_t op = {t, 0};
    oc_turn_t turn = {.struct_size = sizeof turn, .role = "user", .content = "late"};
    const oc_turn_t *tp[1] = {&turn};
    uint64_t t0 = pgt_mono_ms();
    cr_assert_eq(env.ops->transcript_append(env.st, "agent:t:locked", tp, 1, on_append, &op),
                 OC_PENDING);
    wait_done(&env, t, 1, 10000);
    uint64_t ms = pgt_mono_ms() - t0;
    unlock_session(lk);
    cr_assert_eq(t->status[0], OC_ETIMEDOUT, "status %d", t->status[0]);
    cr_assert(ms >= 800 && ms < 1500, "timed out after %llu ms", (unsigned long long)ms);
    uint64_t last;
    cr_assert_eq(sc_append_text(&env, "agent:t:locked", "user", "next", &last), OC_OK);
    cr_assert_eq(last, 1, "the canceled append left nothing");
    cr_assert_leq(pgt_metric(&env, "openclaw_storage_postgres_reconnects_total"), 0,
                  "the connection was dropped");
    sc_env_close(&env);
    free(t);
    free(yaml);
}

/* With the server's own timeout off, a server that stops answering costs
 * the connection: ops in flight fail with OC_EUNAVAIL after timeoutMs and
 * the plugin reconnects. */
Test(storage_postgres_faults, no_answer_within_timeout_drops_the_connection, .init = setup,
     .fini = teardown)
{
    char *url = NULL;
    cr_assert(asprintf(&url, "%s?options=-c%%20statement_timeout%%3D0", pgt_url()) > 0);
    char *yaml = yaml_for(url, "  poolSize: 1\n  timeoutMs: 800\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_put_simple(&env, "agent:t:locked", "t", 0), OC_OK);
    PGconn *lk = lock_session("agent:t:locked");
    tally_t *t = calloc(1, sizeof *t);
    tally_op_t op = {t, 0};
    oc_turn_t turn = {.struct_size = sizeof turn, .role = "user", .content = "late"};
    const oc_turn_t *tp[1] = {&turn};
    uint64_t t0 = pgt_mono_ms();
    cr_assert_eq(env.ops->transcript_append(env.st, "agent:t:locked", tp, 1, on_append, &op),
                 OC_PENDING);
    wait_done(&env, t, 1, 10000);
    uint64_t ms = pgt_mono_ms() - t0;
    cr_assert_eq(t->status[0], OC_EUNAVAIL, "status %d", t->status[0]);
    cr_assert(ms >= 700 && ms < 2000, "failed after %llu ms", (unsigned long long)ms);
    pgt_wait_logged(&env, "no answer from the server within 800 ms (timeoutMs)", 1000);
    unlock_session(lk);
    pgt_wait_health(&env, OC_OK, "ok: 1 connections", 10000);
    cr_assert_eq(sc_append_text(&env, "agent:t:locked", "user", "next", NULL), OC_OK);
    sc_res_t r;
    cr_assert_eq(sc_read(&env, "agent:t:locked", 0, &r), OC_OK);
    /* The abandoned append ran whole or not at all. */
    cr_assert(r.nturns == 1 || r.nturns == 2, "%zu turns", r.nturns);
    SC_STR_EQ(r.turns[r.nturns - 1].content, "next");
    sc_res_free(&r);
    sc_env_close(&env);
    free(t);
    free(yaml);
    free(url);
}

/* ---- stop ---------------------------------------------------------------------------- */

/* Ops waiting for a reconnection are canceled by stop, at once. */
Test(storage_postgres_faults, stop_cancels_ops_waiting_for_the_server, .init = setup,
     .fini = teardown)
{
    tcp_proxy_t *px = tcp_proxy_start(pgt_server_port());
    char *url = pgt_url_at(tcp_proxy_port(px));
    char *yaml = yaml_for(url, "  timeoutMs: 60000\n  connectTimeoutMs: 60000\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    pgt_wait_health(&env, OC_OK, "ok: 4 connections", 10000);
    tcp_proxy_hang(px);
    pgt_wait_health(&env, OC_EUNAVAIL, NULL, 5000); /* every connection is reconnecting */
    tally_t *t = calloc(1, sizeof *t);
    tally_op_t ops[10];
    for (int i = 0; i < 10; i++) {
        char key[32];
        snprintf(key, sizeof key, "agent:t:%d", i);
        ops[i] = (tally_op_t){t, i};
        cr_assert_eq(env.ops->session_get(env.st, key, on_get, &ops[i]), OC_PENDING);
    }
    uint64_t t0 = pgt_mono_ms();
    sc_env_close(&env);
    cr_assert_lt(pgt_mono_ms() - t0, 2000, "stop waited for the unreachable server");
    cr_assert_eq(t->done, 10, "%d of 10 called back across stop", t->done);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(t->status[i], OC_ECANCELED, "op %d: %d", i, t->status[i]);
    tcp_proxy_free(px);
    free(t);
    free(yaml);
    free(url);
}
