/* storage-redis's key layout: the keys README.md documents are the keys
 * written; a v1 layout written with a plain client is migrated to v2 and
 * its data survives; a newer, an unreadable or a missing version is
 * refused at start and left untouched. */
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
    snprintf(yaml, sizeof yaml, "%s", rf_yaml(NULL, "  startupRetrySeconds: 30\n"));
    b = (sc_backend_t){.plugin = RF_PLUGIN, .so_path = rf_so, .yaml = yaml, .persistent = 1};
    sc_env_open(env, &b);
}

/* The type of <prefix><suffix>. */
static void expect_type(redisContext *c, const char *suffix, const char *type)
{
    redisReply *r = rf_cmd(c, 0, "TYPE %s%s", rf_prefix, suffix);
    cr_assert_str_eq(r->str, type, "%s%s is a %s, not a %s", rf_prefix, suffix, r->str, type);
    freeReplyObject(r);
}

/* HGET <prefix><suffix> field, as a malloc'd string (NULL when absent). */
static char *hget(redisContext *c, const char *suffix, const char *field)
{
    redisReply *r = rf_cmd(c, 0, "HGET %s%s %s", rf_prefix, suffix, field);
    char *v = r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    freeReplyObject(r);
    return v;
}

static void expect_field(redisContext *c, const char *suffix, const char *field, const char *want)
{
    char *v = hget(c, suffix, field);
    cr_assert(v != NULL && strcmp(v, want) == 0, "%s%s %s is \"%s\", not \"%s\"", rf_prefix,
              suffix, field, v != NULL ? v : "(absent)", want);
    free(v);
}

static long long integer(redisContext *c, const char *fmt, const char *suffix)
{
    redisReply *r = rf_cmd(c, 0, fmt, rf_prefix, suffix);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                  : r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10)
                                                  : -1;
    freeReplyObject(r);
    return v;
}

Test(storage_redis_layout, the_documented_keys_are_written, .init = setup, .fini = teardown)
{
    sc_env_t env;
    open_env(&env);
    const char *key = "agent:lay:telegram:direct:7";
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = "lay",
                      .channel = "telegram", .created_ms = 10, .updated_ms = 20};
    cr_assert_eq(sc_put(&env, &s), OC_OK);
    cr_assert_eq(sc_append_text(&env, key, "user", "hi, there", NULL), OC_OK);
    uint64_t id;
    cr_assert_eq(sc_inbox_put(&env, "tg", "acct", "m1", "{}", &id, NULL), OC_OK);
    oc_outbox_item_t o = {.struct_size = sizeof o, .idempotency_key = "k1", .channel = "tg",
                          .account = "acct", .peer_kind = OC_PEER_DIRECT, .peer_id = "7",
                          .text = "hello"};
    const oc_outbox_item_t *op[1] = {&o};
    oc_commit_t c1 = {.struct_size = sizeof c1, .inbox_done = &id, .inbox_done_count = 1,
                      .outbox = op, .outbox_count = 1};
    cr_assert_eq(sc_commit(&env, &c1), OC_OK);
    oc_pairing_t p = {.struct_size = sizeof p, .channel = "tg", .account = "acct",
                      .sender_id = "u1", .code = "ABCD1234", .expires_ms = sc_now_ms() + 60000};
    sc_res_t r;
    cr_assert_eq(sc_pairing_request(&env, &p, 3, sc_now_ms(), &r), OC_OK);
    sc_res_free(&r);
    cr_assert_eq(sc_allow_add(&env, "tg", "acct", "u9"), OC_OK);
    sc_env_close(&env);

    redisContext *c = rf_client();
    expect_type(c, "version", "string");
    cr_assert_eq(integer(c, "GET %s%s", "version"), 2);
    char sk[128], tk[128], sa[64];
    snprintf(sk, sizeof sk, "s:%s", key);
    snprintf(tk, sizeof tk, "t:%s", key);
    snprintf(sa, sizeof sa, "sa:lay");
    expect_type(c, sk, "hash");
    expect_field(c, sk, "a", "lay");
    expect_field(c, sk, "c", "telegram");
    expect_field(c, sk, "cr", "10");
    expect_field(c, sk, "n", "1");
    expect_field(c, sk, "q", "2");
    expect_type(c, tk, "list");
    redisReply *t = rf_cmd(c, 0, "LINDEX %s%s 0", rf_prefix, tk);
    cr_assert(t->type == REDIS_REPLY_STRING && strncmp(t->str, "1,user,", 7) == 0 &&
                  strstr(t->str, ",1,-hi, there") != NULL,
              "turn stored as \"%s\"", t->str);
    freeReplyObject(t);
    expect_type(c, "sessions", "zset");
    expect_type(c, sa, "zset");
    expect_type(c, "i:1", "hash");
    expect_field(c, "i:1", "s", "2");
    expect_type(c, "inbox:ids", "hash");
    expect_type(c, "inbox:done", "zset");
    cr_assert_eq(integer(c, "GET %s%s", "inbox:next"), 1);
    expect_type(c, "o:1", "hash");
    expect_field(c, "o:1", "key", "k1");
    expect_type(c, "outbox:pending", "zset");
    expect_type(c, "outbox:keys", "hash");
    cr_assert_eq(integer(c, "GET %s%s", "outbox:next"), 1);
    expect_type(c, "p:0000000000000001", "hash");
    expect_type(c, "pair:exp", "zset");
    expect_type(c, "pair:created", "zset");
    expect_type(c, "pair:ch:tg", "zset");
    expect_type(c, "pair:sender", "hash");
    expect_type(c, "pair:ca:2:tgacct", "set");
    expect_type(c, "pair:code:tg", "hash");
    expect_type(c, "allow:2:tgacct", "set");
    /* Nothing outside the prefix, nothing unexpected inside it. */
    redisReply *all = rf_cmd(c, 0, "KEYS %s*", rf_prefix);
    cr_assert_eq(all->elements, 22, "%zu keys under the prefix", all->elements);
    freeReplyObject(all);
    redisFree(c);
}

/* v1: the first layout, without the per-agent index. */
static void write_v1(redisContext *c)
{
    const char *P = rf_prefix;
    freeReplyObject(rf_cmd(c, 0, "SET %sversion 1", P));
    freeReplyObject(rf_cmd(c, 0,
                           "HSET %ss:agent:m:one a agentA c telegram m {\"x\":1} cr 100 up 200 "
                           "n 2 q 3",
                           P));
    freeReplyObject(rf_cmd(c, 0, "RPUSH %st:agent:m:one %s %s", P, "1,user,101,1,-hello",
                           "2,assistant,102,3,={}hi, there"));
    freeReplyObject(rf_cmd(c, 0, "HSET %ss:agent:m:two a agentB cr 150 up 300 n 0 q 1", P));
    freeReplyObject(
        rf_cmd(c, 0, "ZADD %ssessions 200 agent:m:one 300 agent:m:two", P));
    /* 300 more sessions of one agent: the migration indexes them all. */
    for (int i = 0; i < 300; i++) {
        redisAppendCommand(c, "HSET %ss:agent:bulk:%d a bulk cr 1 up %d n 0 q 1", P, i, 1000 + i);
        redisAppendCommand(c, "ZADD %ssessions %d agent:bulk:%d", P, 1000 + i, i);
    }
    for (int i = 0; i < 600; i++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    freeReplyObject(rf_cmd(c, 0, "HSET %si:1 c ch a acct m m1 e {} r 5 s 1", P));
    freeReplyObject(rf_cmd(c, 0, "ZADD %sinbox:pending 1 1", P));
    freeReplyObject(rf_cmd(c, 0, "HSET %sinbox:ids 2:ch4:acctm1 1", P));
    freeReplyObject(rf_cmd(c, 0, "SET %sinbox:next 1", P));
}

Test(storage_redis_layout, v1_is_migrated_and_keeps_its_data, .init = setup, .fini = teardown)
{
    redisContext *c = rf_client();
    write_v1(c);
    sc_env_t env;
    open_env(&env);
    cr_assert_eq(integer(c, "GET %s%s", "version"), 2, "the version was not raised");
    cr_assert_eq(integer(c, "ZCARD %s%s", "sa:bulk"), 300);
    cr_assert_eq(integer(c, "ZSCORE %s%s agent:m:one", "sa:agentA"), 200);

    sc_res_t r;
    cr_assert_eq(sc_get(&env, "agent:m:one", &r), OC_OK, "the v1 session was lost");
    SC_STR_EQ(r.sessions[0].agent_id, "agentA");
    SC_STR_EQ(r.sessions[0].channel, "telegram");
    SC_STR_EQ(r.sessions[0].meta_json, "{\"x\":1}");
    cr_assert_eq(r.sessions[0].created_ms, 100);
    cr_assert_eq(r.sessions[0].updated_ms, 200);
    cr_assert_eq(r.sessions[0].turn_count, 2);
    sc_res_free(&r);
    cr_assert_eq(sc_read(&env, "agent:m:one", 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    cr_assert_eq(r.turns[0].seq, 1);
    SC_STR_EQ(r.turns[0].role, "user");
    SC_STR_EQ(r.turns[0].content, "hello");
    cr_assert_null(r.turns[0].meta_json);
    cr_assert_eq(r.turns[0].created_ms, 101);
    SC_STR_EQ(r.turns[1].content, "hi, there");
    SC_STR_EQ(r.turns[1].meta_json, "{}");
    sc_res_free(&r);
    uint64_t last;
    cr_assert_eq(sc_append_text(&env, "agent:m:one", "user", "after", &last), OC_OK);
    cr_assert_eq(last, 3);

    /* The agent filter now reads the new index. */
    cr_assert_eq(sc_list(&env, 0, "agentA", NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 1);
    SC_STR_EQ(r.sessions[0].key, "agent:m:one");
    sc_res_free(&r);
    cr_assert_eq(sc_list(&env, 1000, "bulk", NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 300);
    SC_STR_EQ(r.sessions[0].key, "agent:bulk:299");
    sc_res_free(&r);
    /* An agent change moves the session between indexes. */
    oc_session_t s = {.struct_size = sizeof s, .key = "agent:m:two", .agent_id = "agentC"};
    cr_assert_eq(sc_put(&env, &s), OC_OK);
    cr_assert_eq(sc_list(&env, 0, "agentB", NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 0);
    sc_res_free(&r);
    cr_assert_eq(sc_list(&env, 0, "agentC", NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 1);
    sc_res_free(&r);

    /* The v1 inbox is the v2 inbox. */
    uint64_t id;
    int32_t dup;
    cr_assert_eq(sc_inbox_put(&env, "ch", "acct", "m1", "{}", &id, &dup), OC_OK);
    cr_assert(dup == 1 && id == 1, "the v1 dedupe key was lost");
    cr_assert_eq(sc_inbox_put(&env, "ch", "acct", "m2", "{}", &id, &dup), OC_OK);
    cr_assert(dup == 0 && id == 2, "ids continue from the v1 counter");
    sc_env_close(&env);

    /* Loading again finds v2 and changes nothing. */
    open_env(&env);
    cr_assert_eq(integer(c, "GET %s%s", "version"), 2);
    sc_env_close(&env);
    redisFree(c);
}

/* Start fails at once (not after startupRetrySeconds), saying `needle`,
 * and the prefix keeps exactly `keys` keys. */
static void expect_refused(redisContext *c, const char *needle, size_t keys)
{
    oc_test_host_t *th = rf_load(rf_yaml(NULL, "  startupRetrySeconds: 30\n"), OC_EUNAVAIL);
    const char *errs = oc_test_host_errors(th);
    cr_assert(strstr(errs, needle) != NULL, "errors do not say \"%s\":\n%s", needle, errs);
    oc_test_host_free(th);
    redisReply *all = rf_cmd(c, 0, "KEYS %s*", rf_prefix);
    cr_assert_eq(all->elements, keys, "the refused prefix was changed: %zu keys",
                 all->elements);
    freeReplyObject(all);
}

Test(storage_redis_layout, a_newer_layout_is_refused, .init = setup, .fini = teardown)
{
    redisContext *c = rf_client();
    freeReplyObject(rf_cmd(c, 0, "SET %sversion 3", rf_prefix));
    freeReplyObject(rf_cmd(c, 0, "HSET %ss:agent:x:main a x", rf_prefix));
    char needle[256];
    snprintf(needle, sizeof needle,
             "the key layout under keyPrefix \"%s\" is version 3, newer than this storage-redis "
             "understands (2); upgrade the gateway",
             rf_prefix);
    expect_refused(c, needle, 2);
    cr_assert_eq(integer(c, "GET %s%s", "version"), 3);
    redisFree(c);
}

Test(storage_redis_layout, keys_without_a_version_are_refused, .init = setup, .fini = teardown)
{
    redisContext *c = rf_client();
    freeReplyObject(rf_cmd(c, 0, "ZADD %ssessions 1 agent:x:main", rf_prefix));
    expect_refused(c, "but", 1);
    expect_refused(c, "version does not: they are another application's or a damaged store", 1);
    redisFree(c);
}

Test(storage_redis_layout, an_unreadable_version_is_refused, .init = setup, .fini = teardown)
{
    redisContext *c = rf_client();
    freeReplyObject(rf_cmd(c, 0, "SET %sversion abc", rf_prefix));
    expect_refused(c, "version holds \"abc\", not a key layout version", 1);
    freeReplyObject(rf_cmd(c, 0, "SET %sversion 1.5", rf_prefix));
    expect_refused(c, "version holds \"1.5\"", 1);
    redisFree(c);
}
