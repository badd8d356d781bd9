/* storage-postgres: what the conformance suite does not see. Metrics, other
 * ways to reach the server (a socket directory, a host name looked up off
 * the loop), and the pool and pipeline settings at their extremes. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"

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

Test(storage_postgres_features, metrics_use_the_storage_families, .init = setup,
     .fini = teardown)
{
    char *yaml = pgt_yaml(pgt_url(), g_schema, "  poolSize: 3\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    pgt_wait_health(&env, OC_OK, "ok: 3 connections", 10000);
    cr_assert_eq(sc_put_simple(&env, "agent:m:main", "m", 0), OC_OK);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(sc_append_text(&env, "agent:m:main", "user", "x", NULL), OC_OK);
    cr_assert_eq(sc_get(&env, "agent:m:nobody", NULL), OC_ENOENT);
    cr_assert_eq(
        pgt_metric(&env, "openclaw_storage_ops_total{op=\"transcript_append\",status=\"ok\"}"),
        5);
    cr_assert_eq(
        pgt_metric(&env, "openclaw_storage_ops_total{op=\"session_get\",status=\"enoent\"}"), 1);
    cr_assert_eq(pgt_metric(&env, "openclaw_storage_op_seconds_count{op=\"transcript_append\"}"),
                 5);
    cr_assert_eq(pgt_metric(&env, "openclaw_storage_postgres_connections"), 3);
    sc_env_close(&env);
    free(yaml);
}

/* postgresql://user@%2Fsocket%2Fdir:port/db: the server's socket directory. */
Test(storage_postgres_features, unix_socket_directory_url, .init = setup, .fini = teardown)
{
    PGconn *c = pgt_connect(NULL, NULL);
    PGresult *r = PQexec(c, "SHOW unix_socket_directories");
    cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    char dir[256];
    snprintf(dir, sizeof dir, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    dir[strcspn(dir, ",")] = '\0';
    cr_assert(dir[0] == '/', "the test server has no socket directory: \"%s\"", dir);
    char enc[768], *e = enc;
    for (const char *s = dir; *s != '\0'; s++)
        e += *s == '/' ? sprintf(e, "%%2F") : sprintf(e, "%c", *s);
    char url[1024];
    snprintf(url, sizeof url, "postgresql://postgres@%s:%d/gwtest", enc, pgt_server_port());
    char *yaml = pgt_yaml(url, g_schema, "  poolSize: 2\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_put_simple(&env, "agent:u:main", "u", 0), OC_OK);
    cr_assert_eq(sc_get(&env, "agent:u:main", NULL), OC_OK);
    pgt_wait_health(&env, OC_OK, "ok: 2 connections", 10000);
    sc_env_close(&env);
    free(yaml);
}

/* A host name is looked up on the thread pool, then each address tried. */
Test(storage_postgres_features, host_name_is_looked_up, .init = setup, .fini = teardown)
{
    char *url = pgt_replace(pgt_url(), "127.0.0.1", "localhost");
    char *yaml = pgt_yaml(url, g_schema, "  poolSize: 2\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    cr_assert_eq(sc_put_simple(&env, "agent:h:main", "h", 0), OC_OK);
    pgt_wait_health(&env, OC_OK, "ok: 2 connections to postgresql://postgres@localhost:",
                    10000);
    sc_env_close(&env);
    free(yaml);
    free(url);
}

Test(storage_postgres_features, unknown_host_is_reported, .init = setup, .fini = teardown)
{
    char *yaml = pgt_yaml("postgresql://postgres@no-such-host.invalid:5432/gwtest", g_schema,
                          "  startupRetrySeconds: 0\n");
    char errs[4096];
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, NULL), OC_EUNAVAIL);
    cr_assert(strstr(errs, "cannot look up host \"no-such-host.invalid\"") != NULL, "%s", errs);
    free(yaml);
}

/* One connection without pipelining, and the largest pool: the ordering
 * and throughput cases of the suite still hold. */
static void run_case(const char *extra, const char *name)
{
    char *yaml = pgt_yaml(pgt_url(), g_schema, extra);
    sc_backend_t b = {.plugin = PGT_PLUGIN, .so_path = pgt_so(), .yaml = yaml,
                      .persistent = 1};
    sc_run(&b, name);
    free(yaml);
}

Test(storage_postgres_features, one_connection_no_pipeline_keeps_order, .init = setup,
     .fini = teardown)
{
    run_case("  poolSize: 1\n  pipelineDepth: 1\n", "per_session_order_1000_ops");
    run_case("  poolSize: 1\n  pipelineDepth: 1\n", "stop_completes_accepted_ops");
}

Test(storage_postgres_features, large_pool_keeps_order, .init = setup, .fini = teardown)
{
    run_case("  poolSize: 16\n", "per_session_order_1000_ops");
    run_case("  poolSize: 16\n", "inbound_pipeline_10k_messages");
}

/* An inbox item's put and a read of its session's pending inbox, called
 * back to back in one loop turn, apply in call order: the read sees the
 * item (they share the session's connection), 200 times over. */
typedef struct order_s {
    int puts, reads, failures;
    uint64_t last_put_id;
    char first[160];
} order_t;

static void on_put(void *data, int32_t status, uint64_t id, int32_t dup)
{
    order_t *o = data;
    if (status != OC_OK || dup != 0)
        o->failures++;
    o->last_put_id = id;
    o->puts++;
}

static void on_read(void *data, int32_t status, const oc_inbox_item_t *const *items, size_t n)
{
    order_t *o = data;
    o->reads++;
    /* The i-th read must see exactly the i items put before it. */
    if (status != OC_OK || n != (size_t)o->reads) {
        if (o->failures++ == 0)
            snprintf(o->first, sizeof o->first, "read %d saw %zu items (status %d)", o->reads,
                     n, status);
    }
    (void)items;
}

static int all_read(void *arg)
{
    return ((order_t *)arg)->reads >= 200;
}

Test(storage_postgres_features, inbox_put_then_session_read_in_call_order, .init = setup,
     .fini = teardown)
{
    char *yaml = pgt_yaml(pgt_url(), g_schema, "  poolSize: 4\n");
    sc_env_t env;
    sc_backend_t b;
    pgt_open(&env, &b, yaml);
    pgt_wait_health(&env, OC_OK, "ok: 4 connections", 10000);
    order_t o = {0};
    for (int i = 0; i < 200; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%d", i);
        oc_inbox_item_t it = {.struct_size = sizeof it, .channel = "ord", .account = "a",
                              .message_id = msg, .envelope_json = "{}",
                              .session_key = "agent:o:main"};
        cr_assert_eq(env.ops->inbox_put(env.st, &it, on_put, &o), OC_PENDING);
        cr_assert_eq(env.ops->inbox_session_pending(env.st, "agent:o:main", 0, 1000, on_read, &o),
                     OC_PENDING);
    }
    cr_assert(oc_test_host_run_until(env.th, all_read, &o, 30000));
    cr_assert_eq(o.puts, 200);
    cr_assert_eq(o.failures, 0, "%s", o.first);
    sc_env_close(&env);
    free(yaml);
}
