/* conformance_shared.c - the storage conformance cases of ABI 1.2: leases,
 * per-session inbox reads, the conditional commit, outbox claims, pruning.
 * What several gateways sharing one store rely on. Same rules as the other
 * cases (conformance.h): everything lives under the case's namespace, and
 * items left pending are settled before the case ends. */
#include "conformance.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN_ID ((uint64_t)INT64_MAX - 11)

static const char *name_of(const sc_env_t *env, char *buf, size_t len, const char *suffix)
{
    snprintf(buf, len, "%s:%s", env->ns, suffix);
    return buf;
}

static int ticked(void *arg)
{
    return *(int *)arg != 0;
}

static void tick_cb(void *data)
{
    *(int *)data = 1;
}

/* Let the loop run for ms (for lease expiries: the store's clock decides). */
static void run_for(sc_env_t *env, uint64_t ms)
{
    int fired = 0;
    cr_assert_not_null(env->host->timer_start(NULL, ms, 0, tick_cb, &fired));
    cr_assert(oc_test_host_run_until(env->th, ticked, &fired, SC_TIMEOUT_MS));
}

/* The id of our outbox item `key`, by paging the pending list. */
static uint64_t outbox_id(sc_env_t *env, const char *key)
{
    uint64_t after = 0, id = 0;
    for (;;) {
        sc_res_t r;
        cr_assert_eq(sc_outbox_pending(env, after, 200, &r), OC_OK);
        for (size_t i = 0; i < r.noutbox; i++)
            if (strcmp(r.outbox[i].idempotency_key, key) == 0)
                id = r.outbox[i].id;
        size_t n = r.noutbox;
        if (n > 0)
            after = r.outbox[n - 1].id;
        sc_res_free(&r);
        if (id != 0 || n < 200)
            return id;
    }
}

static uint64_t put_outbox(sc_env_t *env, const char *key, const char *ch, uint64_t created_ms)
{
    oc_outbox_item_t o = {.struct_size = sizeof o,
                          .idempotency_key = key,
                          .channel = ch,
                          .account = "acct",
                          .peer_kind = OC_PEER_DIRECT,
                          .peer_id = "peer-1",
                          .text = "reply",
                          .created_ms = created_ms};
    const oc_outbox_item_t *op[1] = {&o};
    oc_commit_t c = {.struct_size = sizeof c, .outbox = op, .outbox_count = 1};
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    uint64_t id = outbox_id(env, key);
    cr_assert_gt(id, 0, "the committed outbox item is not pending");
    return id;
}

static uint64_t put_inbox(sc_env_t *env, const char *ch, const char *msg, const char *session,
                          uint64_t received_ms)
{
    oc_inbox_item_t it = {.struct_size = sizeof it,
                          .channel = ch,
                          .account = "acct",
                          .message_id = msg,
                          .envelope_json = "{\"text\":\"hi\"}",
                          .received_ms = received_ms,
                          .session_key = session};
    uint64_t id = 0;
    int32_t dup = -1;
    cr_assert_eq(sc_inbox_put_item(env, &it, &id, &dup), OC_OK);
    cr_assert_eq(dup, 0);
    return id;
}

static void settle_inbox(sc_env_t *env, const uint64_t *ids, size_t n)
{
    oc_commit_t c = {.struct_size = sizeof c, .inbox_done = ids, .inbox_done_count = n};
    cr_assert_eq(sc_commit(env, &c), OC_OK);
}

void sc_case_lease_acquire_renew_release_tokens(sc_env_t *env)
{
    char name[96];
    name_of(env, name, sizeof name, "poller");
    sc_res_t r;
    cr_assert_eq(sc_lease_acquire(env, name, "gw-a", 30000, &r), OC_OK);
    SC_STR_EQ(r.lease_name, name);
    SC_STR_EQ(r.lease_holder, "gw-a");
    cr_assert_gt(r.lease_token, 0);
    cr_assert(r.lease_left_ms > 25000 && r.lease_left_ms <= 30000, "left %llu",
              (unsigned long long)r.lease_left_ms);
    uint64_t t1 = r.lease_token;
    sc_res_free(&r);

    /* A renewal keeps the token. */
    cr_assert_eq(sc_lease_acquire(env, name, "gw-a", 60000, &r), OC_OK);
    cr_assert_eq(r.lease_token, t1, "a renewal must not change the token");
    cr_assert_gt(r.lease_left_ms, 30000, "the renewal set the new ttl");
    sc_res_free(&r);

    /* Another holder is told who has it and for how long. */
    cr_assert_eq(sc_lease_acquire(env, name, "gw-b", 30000, &r), OC_EBUSY);
    SC_STR_EQ(r.lease_holder, "gw-a");
    cr_assert_eq(r.lease_token, t1);
    cr_assert(r.lease_left_ms > 0 && r.lease_left_ms <= 60000);
    sc_res_free(&r);

    /* Only the holder releases. */
    cr_assert_eq(sc_lease_release(env, name, "gw-b"), OC_ENOENT);
    cr_assert_eq(sc_lease_release(env, name, "gw-a"), OC_OK);
    cr_assert_eq(sc_lease_release(env, name, "gw-a"), OC_ENOENT, "released twice");

    /* Free now: B takes it with a larger token. */
    cr_assert_eq(sc_lease_acquire(env, name, "gw-b", 30000, &r), OC_OK);
    SC_STR_EQ(r.lease_holder, "gw-b");
    cr_assert_gt(r.lease_token, t1, "a new holder gets a larger token");
    sc_res_free(&r);
    cr_assert_eq(sc_lease_acquire(env, name, "gw-a", 30000, &r), OC_EBUSY);
    sc_res_free(&r);

    /* Leases are independent by name; a never-taken one releases as ENOENT. */
    char other[96];
    name_of(env, other, sizeof other, "other");
    cr_assert_eq(sc_lease_release(env, other, "gw-a"), OC_ENOENT);
    cr_assert_eq(sc_lease_acquire(env, other, "gw-a", 30000, &r), OC_OK);
    sc_res_free(&r);
    cr_assert_eq(sc_lease_release(env, other, "gw-a"), OC_OK);
    cr_assert_eq(sc_lease_release(env, name, "gw-b"), OC_OK);
}

void sc_case_lease_expires_then_another_holder_takes_it(sc_env_t *env)
{
    char name[96];
    name_of(env, name, sizeof name, "poller");
    sc_res_t r;
    cr_assert_eq(sc_lease_acquire(env, name, "gw-a", 400, &r), OC_OK);
    uint64_t t1 = r.lease_token;
    sc_res_free(&r);
    cr_assert_eq(sc_lease_acquire(env, name, "gw-b", 5000, &r), OC_EBUSY);
    sc_res_free(&r);

    /* The holder died: B keeps trying until the store says it expired. */
    int32_t st = OC_EBUSY;
    for (int i = 0; i < 200 && st == OC_EBUSY; i++) {
        run_for(env, 50);
        st = sc_lease_acquire(env, name, "gw-b", 5000, &r);
        if (st == OC_EBUSY)
            sc_res_free(&r);
    }
    cr_assert_eq(st, OC_OK, "the expired lease was never given to another holder");
    SC_STR_EQ(r.lease_holder, "gw-b");
    cr_assert_gt(r.lease_token, t1, "taking an expired lease is a change of hands");
    sc_res_free(&r);

    /* The old holder lost it: its renewal and its release fail. */
    cr_assert_eq(sc_lease_acquire(env, name, "gw-a", 5000, &r), OC_EBUSY);
    SC_STR_EQ(r.lease_holder, "gw-b");
    sc_res_free(&r);
    cr_assert_eq(sc_lease_release(env, name, "gw-a"), OC_ENOENT);
    cr_assert_eq(sc_lease_release(env, name, "gw-b"), OC_OK);
}

/* Callbacks that count: refused calls must never call back. */
static int lease_calls;
static void lease_cb_count(void *data, int32_t status, const oc_lease_t *l)
{
    (void)data, (void)status, (void)l;
    lease_calls++;
}
static void done_cb_count(void *data, int32_t status)
{
    (void)data, (void)status;
    lease_calls++;
}
static void list_cb_count(void *data, int32_t status, const oc_inbox_item_t *const *items,
                          size_t n)
{
    (void)data, (void)status, (void)items, (void)n;
    lease_calls++;
}
static void item_cb_count(void *data, int32_t status, const oc_outbox_item_t *item)
{
    (void)data, (void)status, (void)item;
    lease_calls++;
}
static void put_cb_count(void *data, int32_t status, uint64_t id, int32_t dup)
{
    (void)data, (void)status, (void)id, (void)dup;
    lease_calls++;
}

void sc_case_lease_invalid_arguments_einval(sc_env_t *env)
{
    const oc_storage_ops_t *o = env->ops;
    char name[96], huge[300];
    name_of(env, name, sizeof name, "x");
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    lease_calls = 0;
    cr_assert_eq(o->lease_acquire(env->st, NULL, "h", 1000, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, "", "h", 1000, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, huge, "h", 1000, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, name, NULL, 1000, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, name, "", 1000, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, name, huge, 1000, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, name, "h", 0, lease_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, name, "h", 86400001, lease_cb_count, NULL),
                 OC_EINVAL);
    cr_assert_eq(o->lease_acquire(env->st, name, "h", 1000, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_release(env->st, NULL, "h", done_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_release(env->st, name, NULL, done_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->lease_release(env->st, name, "h", NULL, NULL), OC_EINVAL);
    /* Nothing was taken by the refused calls. */
    sc_res_t r;
    cr_assert_eq(sc_lease_acquire(env, name, "other", 1000, &r), OC_OK);
    sc_res_free(&r);
    cr_assert_eq(sc_lease_release(env, name, "other"), OC_OK);
    cr_assert_eq(lease_calls, 0, "a refused call must never call back");
}

void sc_case_inbox_session_pending_filters_by_session(sc_env_t *env)
{
    char ch[64], k1[128], k2[128];
    sc_chan(env, ch, sizeof ch, "webhook");
    sc_key(env, k1, sizeof k1, "direct:alice");
    sc_key(env, k2, sizeof k2, "direct:bob");
    uint64_t a1 = put_inbox(env, ch, "m1", k1, SC_RECEIVED_MS);
    uint64_t b1 = put_inbox(env, ch, "m2", k2, SC_RECEIVED_MS);
    uint64_t a2 = put_inbox(env, ch, "m3", k1, SC_RECEIVED_MS);
    uint64_t none = put_inbox(env, ch, "m4", NULL, SC_RECEIVED_MS);
    uint64_t a3 = put_inbox(env, ch, "m5", k1, SC_RECEIVED_MS);
    cr_assert(a1 < b1 && b1 < a2 && a2 < none && none < a3);

    sc_res_t r;
    cr_assert_eq(sc_inbox_session_pending(env, k1, 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 3, "alice has 3 pending, got %zu", r.ninbox);
    cr_assert_eq(r.inbox[0].id, a1);
    cr_assert_eq(r.inbox[1].id, a2);
    cr_assert_eq(r.inbox[2].id, a3);
    SC_STR_EQ(r.inbox[0].session_key, k1);
    SC_STR_EQ(r.inbox[1].message_id, "m3");
    cr_assert_eq(r.inbox[1].state, OC_INBOX_PENDING);
    sc_res_free(&r);

    /* after_id and limit page through it. */
    cr_assert_eq(sc_inbox_session_pending(env, k1, a1, 1, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, a2);
    sc_res_free(&r);
    cr_assert_eq(sc_inbox_session_pending(env, k2, 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, b1);
    sc_res_free(&r);

    /* The whole-store scan reports the session key too. */
    cr_assert_eq(sc_inbox_pending(env, a1 - 1, 1, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, a1);
    SC_STR_EQ(r.inbox[0].session_key, k1);
    sc_res_free(&r);

    /* Done items leave it; an unknown session has none. */
    const uint64_t first[2] = {a1, a2};
    settle_inbox(env, first, 2);
    cr_assert_eq(sc_inbox_session_pending(env, k1, 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, a3);
    sc_res_free(&r);
    char k3[128];
    sc_key(env, k3, sizeof k3, "direct:nobody");
    cr_assert_eq(sc_inbox_session_pending(env, k3, 0, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 0);
    cr_assert(!r.null_items, "an empty list is an empty array, not NULL");
    sc_res_free(&r);
    const uint64_t rest[3] = {b1, none, a3};
    settle_inbox(env, rest, 3);
}

void sc_case_commit_inbox_pending_flag_refuses_processed_items(sc_env_t *env)
{
    char ch[64], key[128], ok1[128], ok2[128];
    sc_chan(env, ch, sizeof ch, "webhook");
    sc_key(env, key, sizeof key, "main");
    snprintf(ok1, sizeof ok1, "%s:reply:1", env->ns);
    snprintf(ok2, sizeof ok2, "%s:reply:2", env->ns);
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    uint64_t id = put_inbox(env, ch, "m1", key, SC_RECEIVED_MS);

    oc_turn_t user = {.struct_size = sizeof user, .role = "user", .content = "hi"};
    const oc_turn_t *turns[1] = {&user};
    oc_outbox_item_t o = {.struct_size = sizeof o, .idempotency_key = ok1, .channel = ch,
                          .account = "acct", .peer_kind = OC_PEER_DIRECT, .peer_id = "p",
                          .text = "hello"};
    const oc_outbox_item_t *outs[1] = {&o};
    oc_commit_t c = {.struct_size = sizeof c, .session_key = key, .turns = turns,
                     .turn_count = 1, .inbox_done = &id, .inbox_done_count = 1,
                     .outbox = outs, .outbox_count = 1, .flags = OC_COMMIT_F_INBOX_PENDING};
    cr_assert_eq(sc_commit(env, &c), OC_OK);

    /* The same item again (another gateway's late commit): nothing applied. */
    o.idempotency_key = ok2;
    cr_assert_eq(sc_commit(env, &c), OC_EEXIST);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 1, "a refused commit appended turns");
    sc_res_free(&r);
    cr_assert_eq(outbox_id(env, ok2), 0, "a refused commit inserted its reply");

    /* Without the flag the old rule holds (marking done twice is allowed). */
    c.flags = 0;
    c.turn_count = 0;
    c.outbox_count = 0;
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    /* An unknown flag is refused. */
    c.flags = 0x80000000u;
    lease_calls = 0;
    cr_assert_eq(env->ops->commit(env->st, &c, done_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(lease_calls, 0);
    uint64_t oid = outbox_id(env, ok1);
    cr_assert_gt(oid, 0);
    cr_assert_eq(sc_outbox_update(env, oid, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
}

void sc_case_outbox_claim_rules(sc_env_t *env)
{
    char ch[64], key[128];
    sc_chan(env, ch, sizeof ch, "webhook");
    snprintf(key, sizeof key, "%s:claim", env->ns);
    uint64_t id = put_outbox(env, key, ch, 0);
    sc_res_t r;
    cr_assert_eq(sc_outbox_claim(env, id, "gw-a", 30000, &r), OC_OK);
    cr_assert_eq(r.outbox[0].id, id);
    SC_STR_EQ(r.outbox[0].idempotency_key, key);
    SC_STR_EQ(r.outbox[0].text, "reply");
    cr_assert_eq(r.outbox[0].state, OC_OUTBOX_PENDING);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, id, "gw-b", 30000, &r), OC_EBUSY);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, id, "gw-a", 30000, &r), OC_OK, "the holder re-claims");
    sc_res_free(&r);

    /* An update ends the attempt and its claim. */
    cr_assert_eq(sc_outbox_update(env, id, OC_OUTBOX_PENDING, 1, 0, "HTTP 502"), OC_OK);
    cr_assert_eq(sc_outbox_claim(env, id, "gw-b", 30000, &r), OC_OK);
    cr_assert_eq(r.outbox[0].attempts, 1);
    SC_STR_EQ(r.outbox[0].last_error, "HTTP 502");
    sc_res_free(&r);

    /* Sent: nobody claims it again, and everyone learns it is settled. */
    cr_assert_eq(sc_outbox_update(env, id, OC_OUTBOX_SENT, 2, 0, NULL), OC_OK);
    cr_assert_eq(sc_outbox_claim(env, id, "gw-a", 30000, &r), OC_EEXIST);
    cr_assert_eq(r.outbox[0].state, OC_OUTBOX_SENT);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, id, "gw-b", 30000, &r), OC_EEXIST);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, UNKNOWN_ID, "gw-a", 30000, &r), OC_ENOENT);
    sc_res_free(&r);
}

void sc_case_outbox_claim_expires(sc_env_t *env)
{
    char ch[64], key[128];
    sc_chan(env, ch, sizeof ch, "webhook");
    snprintf(key, sizeof key, "%s:claim", env->ns);
    uint64_t id = put_outbox(env, key, ch, 0);
    sc_res_t r;
    cr_assert_eq(sc_outbox_claim(env, id, "gw-a", 300, &r), OC_OK);
    sc_res_free(&r);
    int32_t st = OC_EBUSY;
    for (int i = 0; i < 200 && st == OC_EBUSY; i++) {
        st = sc_outbox_claim(env, id, "gw-b", 30000, &r);
        sc_res_free(&r);
        if (st == OC_EBUSY)
            run_for(env, 50);
    }
    cr_assert_eq(st, OC_OK, "an expired claim was never given to another gateway");
    cr_assert_eq(sc_outbox_claim(env, id, "gw-a", 300, &r), OC_EBUSY);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_update(env, id, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
}

void sc_case_prune_deletes_only_finished_old_items(sc_env_t *env)
{
    /* Times far in the past: other cases' items (now, or SC_RECEIVED_MS)
     * are never old enough for the cut-off used here. */
    const uint64_t old = 1000, cut = 5000, young = 9000;
    char ch[64], k_sent[128], k_pend[128], k_fail[128], k_young[128];
    sc_chan(env, ch, sizeof ch, "webhook");
    uint64_t in_done = put_inbox(env, ch, "done-old", NULL, old);
    uint64_t in_pend = put_inbox(env, ch, "pending-old", NULL, old);
    uint64_t in_young = put_inbox(env, ch, "done-young", NULL, young);
    const uint64_t done[2] = {in_done, in_young};
    settle_inbox(env, done, 2);
    snprintf(k_sent, sizeof k_sent, "%s:sent", env->ns);
    snprintf(k_pend, sizeof k_pend, "%s:pending", env->ns);
    snprintf(k_fail, sizeof k_fail, "%s:failed", env->ns);
    snprintf(k_young, sizeof k_young, "%s:young", env->ns);
    uint64_t o_sent = put_outbox(env, k_sent, ch, old);
    uint64_t o_pend = put_outbox(env, k_pend, ch, old);
    uint64_t o_fail = put_outbox(env, k_fail, ch, old);
    uint64_t o_young = put_outbox(env, k_young, ch, young);
    cr_assert_eq(sc_outbox_update(env, o_sent, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
    cr_assert_eq(sc_outbox_update(env, o_fail, OC_OUTBOX_FAILED, 5, 0, "gone"), OC_OK);
    cr_assert_eq(sc_outbox_update(env, o_young, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);

    cr_assert_eq(sc_prune(env, cut), OC_OK);

    /* A pruned inbox item is forgotten: the same message id is new again. */
    uint64_t id;
    int32_t dup;
    oc_inbox_item_t it = {.struct_size = sizeof it, .channel = ch, .account = "acct",
                          .message_id = "done-old", .envelope_json = "{}",
                          .received_ms = young};
    cr_assert_eq(sc_inbox_put_item(env, &it, &id, &dup), OC_OK);
    cr_assert_eq(dup, 0, "a done item older than the cut-off was kept");
    cr_assert_neq(id, in_done);
    it.message_id = "done-young";
    cr_assert_eq(sc_inbox_put_item(env, &it, &id, &dup), OC_OK);
    cr_assert_eq(dup, 1, "a done item newer than the cut-off was pruned");
    it.message_id = "pending-old";
    cr_assert_eq(sc_inbox_put_item(env, &it, &id, &dup), OC_OK);
    cr_assert_eq(dup, 1, "a pending item was pruned");
    cr_assert_eq(id, in_pend);

    /* Outbox: pending stays (claimable), settled old ones are gone. */
    sc_res_t r;
    cr_assert_eq(sc_outbox_claim(env, o_pend, "gw", 1000, &r), OC_OK);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, o_sent, "gw", 1000, &r), OC_ENOENT);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, o_fail, "gw", 1000, &r), OC_ENOENT);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_claim(env, o_young, "gw", 1000, &r), OC_EEXIST);
    sc_res_free(&r);

    uint64_t again = 0;
    sc_res_t p;
    cr_assert_eq(sc_inbox_pending(env, in_young, 500, &p), OC_OK);
    for (size_t i = 0; i < p.ninbox; i++)
        if (strcmp(p.inbox[i].channel, ch) == 0 && strcmp(p.inbox[i].message_id, "done-old") == 0)
            again = p.inbox[i].id;
    sc_res_free(&p);
    cr_assert_gt(again, 0);
    const uint64_t rest[2] = {in_pend, again};
    settle_inbox(env, rest, 2);
    cr_assert_eq(sc_outbox_update(env, o_pend, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
}

void sc_case_shared_invalid_arguments_einval(sc_env_t *env)
{
    const oc_storage_ops_t *o = env->ops;
    char big[600];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lease_calls = 0;
    char key[128];
    sc_key(env, key, sizeof key, "main");
    cr_assert_eq(o->inbox_session_pending(env->st, NULL, 0, 0, list_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->inbox_session_pending(env->st, "", 0, 0, list_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->inbox_session_pending(env->st, big, 0, 0, list_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->inbox_session_pending(env->st, key, 0, 0, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_claim(env->st, 1, NULL, 1000, item_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_claim(env->st, 1, "", 1000, item_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_claim(env->st, 1, "h", 0, item_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_claim(env->st, 1, "h", 86400001, item_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_claim(env->st, 1, "h", 1000, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->prune(env->st, 0, NULL, NULL), OC_EINVAL);
    /* A session key over 512 bytes is refused by inbox_put too. */
    char ch[64];
    sc_chan(env, ch, sizeof ch, "webhook");
    oc_inbox_item_t it = {.struct_size = sizeof it, .channel = ch, .account = "a",
                          .message_id = "m", .envelope_json = "{}", .session_key = big};
    cr_assert_eq(o->inbox_put(env->st, &it, put_cb_count, NULL), OC_EINVAL);
    cr_assert_eq(lease_calls, 0);
}
