/* storage-redis ops where Redis's limits shape the implementation: big
 * appends and commits (pushed 1000 at a time inside the script), prune in
 * batches (one script run each), expiries kept by the server (PX keys). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "redis_fixture.h"

static void setup(void)
{
    rf_setup();
}

static void teardown(void)
{
    rf_teardown();
}

static void open_env(sc_env_t *env)
{
    static char yaml[4096];
    static sc_backend_t b;
    snprintf(yaml, sizeof yaml, "%s", rf_yaml(NULL, "  timeoutMs: 30000\n"));
    b = (sc_backend_t){.plugin = RF_PLUGIN, .so_path = rf_so, .yaml = yaml, .persistent = 1};
    sc_env_open(env, &b);
}

Test(storage_redis_ops, appends_and_commits_of_thousands_of_turns, .init = setup,
     .fini = teardown)
{
    enum { N = 2500 };
    sc_env_t env;
    open_env(&env);
    const char *key = "agent:big:main";
    cr_assert_eq(sc_put_simple(&env, key, "big", 0), OC_OK);
    oc_turn_t *t = calloc(N, sizeof *t);
    const oc_turn_t **tp = calloc(N, sizeof *tp);
    char (*text)[32] = calloc(N, sizeof *text);
    cr_assert(t != NULL && tp != NULL && text != NULL);
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "turn %d, with a comma", i);
        t[i] = (oc_turn_t){.struct_size = sizeof t[i], .role = i % 2 ? "assistant" : "user",
                           .content = text[i], .meta_json = i % 3 ? NULL : "{\"i\":1}"};
        tp[i] = &t[i];
    }
    uint64_t last;
    cr_assert_eq(sc_append(&env, key, tp, N, &last), OC_OK);
    cr_assert_eq(last, N);
    oc_commit_t c = {.struct_size = sizeof c, .session_key = key, .turns = tp, .turn_count = N};
    cr_assert_eq(sc_commit(&env, &c), OC_OK);

    sc_res_t r;
    cr_assert_eq(sc_read(&env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2 * N);
    for (size_t i = 0; i < r.nturns; i++) {
        cr_assert_eq(r.turns[i].seq, i + 1);
        SC_STR_EQ(r.turns[i].content, text[i % N]);
        if (i % N % 3 == 0)
            SC_STR_EQ(r.turns[i].meta_json, "{\"i\":1}");
        else
            cr_assert_null(r.turns[i].meta_json);
    }
    sc_res_free(&r);
    cr_assert_eq(sc_read(&env, key, 3, &r), OC_OK);
    cr_assert_eq(r.nturns, 3);
    cr_assert_eq(r.turns[0].seq, 2 * N - 2);
    sc_res_free(&r);
    free(t);
    free(tp);
    free(text);
    sc_env_close(&env);
}

Test(storage_redis_ops, prune_runs_batch_after_batch, .init = setup, .fini = teardown)
{
    enum { N = 1234 };
    sc_env_t env;
    open_env(&env);
    uint64_t *ids = calloc(N, sizeof *ids);
    cr_assert_not_null(ids);
    for (int i = 0; i < N; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%d", i);
        oc_inbox_item_t it = {.struct_size = sizeof it, .channel = "c", .account = "a",
                              .message_id = msg, .envelope_json = "{}", .received_ms = 100};
        cr_assert_eq(sc_inbox_put_item(&env, &it, &ids[i], NULL), OC_OK);
    }
    oc_commit_t c = {.struct_size = sizeof c, .inbox_done = ids, .inbox_done_count = N};
    cr_assert_eq(sc_commit(&env, &c), OC_OK);
    free(ids);

    redisContext *rc = rf_client();
    redisReply *r = rf_cmd(rc, 0, "ZCARD %sinbox:done", rf_prefix);
    cr_assert_eq(r->integer, N);
    freeReplyObject(r);
    cr_assert_eq(sc_prune(&env, 200), OC_OK); /* three batches of 500 */
    r = rf_cmd(rc, 0, "ZCARD %sinbox:done", rf_prefix);
    cr_assert_eq(r->integer, 0, "%lld done items left", r->integer);
    freeReplyObject(r);
    r = rf_cmd(rc, 0, "HLEN %sinbox:ids", rf_prefix);
    cr_assert_eq(r->integer, 0, "%lld dedupe keys left", r->integer);
    freeReplyObject(r);
    r = rf_cmd(rc, 0, "EXISTS %si:1 %si:1234", rf_prefix, rf_prefix);
    cr_assert_eq(r->integer, 0);
    freeReplyObject(r);
    redisFree(rc);
    sc_env_close(&env);
}

Test(storage_redis_ops, leases_and_claims_expire_on_the_server, .init = setup, .fini = teardown)
{
    sc_env_t env;
    open_env(&env);
    sc_res_t r;
    cr_assert_eq(sc_lease_acquire(&env, "poller", "gw-a", 60000, &r), OC_OK);
    uint64_t token = r.lease_token;
    sc_res_free(&r);
    redisContext *rc = rf_client();
    redisReply *x = rf_cmd(rc, 0, "PTTL %slease:poller", rf_prefix);
    cr_assert(x->integer > 50000 && x->integer <= 60000, "PTTL %lld", x->integer);
    freeReplyObject(x);
    /* The server's clock decides: expire it there, and B takes over. */
    freeReplyObject(rf_cmd(rc, 0, "PEXPIRE %slease:poller 1", rf_prefix));
    int32_t st = OC_EBUSY;
    for (int i = 0; i < 100 && st == OC_EBUSY; i++) {
        st = sc_lease_acquire(&env, "poller", "gw-b", 60000, &r);
        if (st == OC_OK)
            cr_assert_gt(r.lease_token, token);
        sc_res_free(&r);
    }
    cr_assert_eq(st, OC_OK);
    x = rf_cmd(rc, 0, "HGET %sleasetok poller", rf_prefix);
    cr_assert_str_eq(x->str, "2");
    freeReplyObject(x);
    redisFree(rc);
    sc_env_close(&env);
}
