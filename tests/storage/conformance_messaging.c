/* tests/storage/conformance_messaging.c - the conformance cases of storage
 * ABI 1.1: inbox, outbox, the atomic commit, pairing requests and allow
 * lists (see conformance.h for the rules every case follows in a shared
 * store). Backend-independent: only openclaw/storage.h semantics. */
#define _GNU_SOURCE
#include "conformance.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOUR_MS 3600000ull
#define UNKNOWN_ID ((uint64_t)INT64_MAX - 7) /* never assigned in a test store */

/* ---- helpers -------------------------------------------------------------- */

static int is_ours(const sc_env_t *env, const char *channel)
{
    size_t n = strlen(env->ns);
    return channel != NULL && strncmp(channel, env->ns, n) == 0 && channel[n] == '.';
}

/* "<ns>:<suffix>": idempotency keys, sender ids and the like, unique per case. */
static const char *uniq(const sc_env_t *env, char *buf, size_t len, const char *suffix)
{
    snprintf(buf, len, "%s:%s", env->ns, suffix);
    return buf;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void take_inbox(sc_res_t *dst, sc_inbox_t *x)
{
    dst->inbox = realloc(dst->inbox, (dst->ninbox + 1) * sizeof *dst->inbox);
    cr_assert_not_null(dst->inbox);
    dst->inbox[dst->ninbox++] = *x;
    memset(x, 0, sizeof *x);
}

static void take_outbox(sc_res_t *dst, sc_outbox_t *x)
{
    dst->outbox = realloc(dst->outbox, (dst->noutbox + 1) * sizeof *dst->outbox);
    cr_assert_not_null(dst->outbox);
    dst->outbox[dst->noutbox++] = *x;
    memset(x, 0, sizeof *x);
}

/* Page through the pending inbox after `after` (`page` per call), checking
 * every page is ascending, within the limit and pending; keeps this case's
 * items in *ours. */
static void scan_inbox(sc_env_t *env, uint64_t after, uint32_t page, sc_res_t *ours)
{
    uint32_t cap = page != 0 ? page : 100;
    memset(ours, 0, sizeof *ours);
    for (;;) {
        sc_res_t r;
        cr_assert_eq(sc_inbox_pending(env, after, page, &r), OC_OK);
        cr_assert_leq(r.ninbox, cap, "inbox_pending: %zu items over limit %u", r.ninbox, cap);
        for (size_t i = 0; i < r.ninbox; i++) {
            sc_inbox_t *x = &r.inbox[i];
            cr_assert_gt(x->id, after, "inbox_pending: id %llu after %llu (not ascending)",
                         (unsigned long long)x->id, (unsigned long long)after);
            cr_assert_eq(x->state, OC_INBOX_PENDING, "inbox_pending listed a done item");
            after = x->id;
            if (is_ours(env, x->channel))
                take_inbox(ours, x);
        }
        size_t n = r.ninbox;
        sc_res_free(&r);
        if (n < cap)
            return;
    }
}

/* The same for the outbox. */
static void scan_outbox(sc_env_t *env, uint64_t after, uint32_t page, sc_res_t *ours)
{
    uint32_t cap = page != 0 ? page : 100;
    memset(ours, 0, sizeof *ours);
    for (;;) {
        sc_res_t r;
        cr_assert_eq(sc_outbox_pending(env, after, page, &r), OC_OK);
        cr_assert_leq(r.noutbox, cap, "outbox_pending: %zu items over limit %u", r.noutbox, cap);
        for (size_t i = 0; i < r.noutbox; i++) {
            sc_outbox_t *x = &r.outbox[i];
            cr_assert_gt(x->id, after, "outbox_pending: id %llu after %llu (not ascending)",
                         (unsigned long long)x->id, (unsigned long long)after);
            cr_assert_eq(x->state, OC_OUTBOX_PENDING, "outbox_pending listed a settled item");
            after = x->id;
            if (is_ours(env, x->channel))
                take_outbox(ours, x);
        }
        size_t n = r.noutbox;
        sc_res_free(&r);
        if (n < cap)
            return;
    }
}

/* This case's pending requests (pairing_list(NULL) lists every channel). */
static void list_ours(sc_env_t *env, uint64_t now_ms, sc_res_t *ours)
{
    sc_res_t r;
    cr_assert_eq(sc_pairing_list(env, NULL, now_ms, &r), OC_OK);
    memset(ours, 0, sizeof *ours);
    ours->pairings = calloc(r.npairings + 1, sizeof *ours->pairings);
    cr_assert_not_null(ours->pairings);
    for (size_t i = 0; i < r.npairings; i++) {
        cr_assert(r.pairings[i].expires_ms > now_ms, "pairing_list listed an expired request");
        if (i > 0)
            cr_assert_geq(r.pairings[i].created_ms, r.pairings[i - 1].created_ms,
                          "pairing_list is not oldest first");
        if (is_ours(env, r.pairings[i].channel)) {
            ours->pairings[ours->npairings++] = r.pairings[i];
            memset(&r.pairings[i], 0, sizeof r.pairings[i]);
        }
    }
    sc_res_free(&r);
}

/* Settle what the case leaves pending (see conformance.h). */
static void tidy(sc_env_t *env, uint64_t inbox_after, uint64_t outbox_after)
{
    sc_res_t r;
    scan_inbox(env, inbox_after, 500, &r);
    if (r.ninbox > 0) {
        uint64_t *ids = calloc(r.ninbox, sizeof *ids);
        cr_assert_not_null(ids);
        for (size_t i = 0; i < r.ninbox; i++)
            ids[i] = r.inbox[i].id;
        oc_commit_t c = {.struct_size = sizeof c, .inbox_done = ids,
                         .inbox_done_count = r.ninbox};
        int32_t st = sc_commit(env, &c);
        free(ids);
        cr_assert_eq(st, OC_OK);
    }
    sc_res_free(&r);
    scan_outbox(env, outbox_after, 500, &r);
    for (size_t i = 0; i < r.noutbox; i++)
        cr_assert_eq(sc_outbox_update(env, r.outbox[i].id, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
    sc_res_free(&r);
}

static oc_outbox_item_t out_item(const char *key, const char *channel, const char *text)
{
    return (oc_outbox_item_t){.struct_size = sizeof(oc_outbox_item_t),
                              .idempotency_key = key,
                              .channel = channel,
                              .account = "acct",
                              .peer_kind = OC_PEER_DIRECT,
                              .peer_id = "peer-1",
                              .text = text};
}

static int32_t commit_outbox(sc_env_t *env, const oc_outbox_item_t *const *items, size_t n)
{
    oc_commit_t c = {.struct_size = sizeof c, .outbox = items, .outbox_count = n};
    return sc_commit(env, &c);
}

static int32_t commit_done(sc_env_t *env, const uint64_t *ids, size_t n)
{
    oc_commit_t c = {.struct_size = sizeof c, .inbox_done = ids, .inbox_done_count = n};
    return sc_commit(env, &c);
}

static const sc_outbox_t *find_outbox(const sc_res_t *r, const char *key)
{
    for (size_t i = 0; i < r->noutbox; i++)
        if (sc_streq(r->outbox[i].idempotency_key, key))
            return &r->outbox[i];
    return NULL;
}

static const sc_inbox_t *find_inbox(const sc_res_t *r, uint64_t id)
{
    for (size_t i = 0; i < r->ninbox; i++)
        if (r->inbox[i].id == id)
            return &r->inbox[i];
    return NULL;
}

static oc_pairing_t pairing(const char *channel, const char *account, const char *sender,
                            const char *code, uint64_t expires_ms)
{
    return (oc_pairing_t){.struct_size = sizeof(oc_pairing_t),
                          .channel = channel,
                          .account = account,
                          .sender_id = sender,
                          .code = code,
                          .expires_ms = expires_ms};
}

/* pairing_request that must create (created = 1). */
static void request_new(sc_env_t *env, const oc_pairing_t *req, uint32_t max, uint64_t now)
{
    sc_res_t r;
    int32_t st = sc_pairing_request(env, req, max, now, &r);
    cr_assert_eq(st, OC_OK, "pairing_request %s/%s: %d", req->account, req->sender_id, st);
    cr_assert_eq(r.flag, 1, "pairing_request %s: created %d", req->sender_id, r.flag);
    sc_res_free(&r);
}

/* ---- inbox ---------------------------------------------------------------- */

void sc_case_inbox_put_dedupes_on_channel_account_message_id(sc_env_t *env)
{
    char ch[64], ch2[64];
    sc_chan(env, ch, sizeof ch, "telegram");
    sc_chan(env, ch2, sizeof ch2, "slack");
    uint64_t id[6], again;
    int32_t dup;
    cr_assert_eq(sc_inbox_put(env, ch, "acct1", "m1", "{}", &id[0], &dup), OC_OK);
    cr_assert_eq(dup, 0, "a new message is not a duplicate");

    cr_assert_eq(sc_inbox_put(env, ch, "acct1", "m1", "{}", &again, &dup), OC_OK);
    cr_assert_eq(dup, 1, "the same (channel, account, message_id) again is a duplicate");
    cr_assert_eq(again, id[0], "a duplicate reports the first id");

    /* Any part of the key differing makes a new message. */
    cr_assert_eq(sc_inbox_put(env, ch, "acct2", "m1", "{}", &id[1], &dup), OC_OK);
    cr_assert_eq(dup, 0, "same message id on another account is not a duplicate");
    cr_assert_eq(sc_inbox_put(env, ch2, "acct1", "m1", "{}", &id[2], &dup), OC_OK);
    cr_assert_eq(dup, 0, "same message id on another channel is not a duplicate");
    cr_assert_eq(sc_inbox_put(env, ch, "acct1", "m2", "{}", &id[3], &dup), OC_OK);
    cr_assert_eq(dup, 0);
    cr_assert_eq(sc_inbox_put(env, ch, "acct1", "M1", "{}", &id[4], &dup), OC_OK);
    cr_assert_eq(dup, 0, "message ids compare exactly (case-sensitive)");
    /* Parts are not concatenated: ("a", "b:c") and ("a:b", "c") differ. */
    cr_assert_eq(sc_inbox_put(env, ch, "a:b", "c", "{}", &id[5], &dup), OC_OK);
    cr_assert_eq(sc_inbox_put(env, ch, "a", "b:c", "{}", &again, &dup), OC_OK);
    cr_assert_eq(dup, 0, "key parts must not run together");

    for (int i = 1; i < 6; i++)
        cr_assert_gt(id[i], id[i - 1], "ids ascend in accept order");
    cr_assert_eq(sc_inbox_put(env, ch2, "acct1", "m1", "{\"other\":1}", &again, &dup), OC_OK);
    cr_assert(dup == 1 && again == id[2]);

    sc_res_t r;
    scan_inbox(env, id[0] - 1, 0, &r);
    cr_assert_eq(r.ninbox, 7, "7 distinct messages pending, %zu listed", r.ninbox);
    SC_STR_EQ(r.inbox[0].channel, ch);
    SC_STR_EQ(r.inbox[0].account, "acct1");
    SC_STR_EQ(r.inbox[0].message_id, "m1");
    SC_STR_EQ(r.inbox[2].channel, ch2);
    sc_res_free(&r);
    tidy(env, id[0] - 1, UNKNOWN_ID);
}

void sc_case_inbox_duplicate_keeps_first_envelope_and_state(sc_env_t *env)
{
    char ch[64];
    sc_chan(env, ch, sizeof ch, "telegram");
    const char *env1 = "{\"text\":\"Gr\\u00fc\xc3\x9f dich\",\"n\":[1,2]}";
    /* The state passed in is ignored: inserts are always pending. */
    oc_inbox_item_t it = {.struct_size = sizeof it, .state = OC_INBOX_DONE, .channel = ch,
                          .account = "default", .message_id = "4711",
                          .envelope_json = env1, .received_ms = 1700000001234ull};
    cr_assert_eq(env->ops->inbox_put(env->st, &it, NULL, NULL), OC_EINVAL, "no callback");
    uint64_t id, again;
    int32_t dup;
    cr_assert_eq(sc_inbox_put(env, ch, "default", "4711", env1, &id, &dup), OC_OK);
    cr_assert_eq(sc_inbox_put(env, ch, "default", "4711", "{\"v\":2}", &again, &dup), OC_OK);
    cr_assert(dup == 1 && again == id);

    sc_res_t r;
    scan_inbox(env, id - 1, 0, &r);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, id);
    cr_assert_eq(r.inbox[0].state, OC_INBOX_PENDING);
    SC_STR_EQ(r.inbox[0].envelope_json, env1);
    SC_STR_EQ(r.inbox[0].message_id, "4711");
    SC_STR_EQ(r.inbox[0].account, "default");
    cr_assert_eq(r.inbox[0].received_ms, SC_RECEIVED_MS, "received_ms of the first put");
    sc_res_free(&r);

    /* A put whose item says "done" is still accepted pending, with its fields. */
    it.message_id = "4712";
    uint64_t id2;
    cr_assert_eq(sc_inbox_put_item(env, &it, &id2, &dup), OC_OK);
    cr_assert_eq(dup, 0);
    scan_inbox(env, id - 1, 0, &r);
    const sc_inbox_t *x = find_inbox(&r, id2);
    cr_assert_not_null(x, "an item put with state done is not pending");
    cr_assert_eq(x->state, OC_INBOX_PENDING);
    cr_assert_eq(x->received_ms, 1700000001234ull);
    SC_STR_EQ(x->envelope_json, env1);
    sc_res_free(&r);

    /* Processed: a redelivery is still a duplicate and stays done. */
    cr_assert_eq(commit_done(env, &id, 1), OC_OK);
    cr_assert_eq(sc_inbox_put(env, ch, "default", "4711", env1, &again, &dup), OC_OK);
    cr_assert_eq(dup, 1, "a processed message redelivered is a duplicate");
    cr_assert_eq(again, id);
    scan_inbox(env, id - 1, 0, &r);
    cr_assert_null(find_inbox(&r, id), "a duplicate put made a done item pending again");
    cr_assert_not_null(find_inbox(&r, id2));
    sc_res_free(&r);
    /* Marking done again is harmless. */
    cr_assert_eq(commit_done(env, &id, 1), OC_OK);
    tidy(env, id - 1, UNKNOWN_ID);
}

void sc_case_inbox_pending_order_after_id_limit(sc_env_t *env)
{
    enum { N = 7, MORE = 101 };
    char ch[64], msg[32];
    sc_chan(env, ch, sizeof ch, "telegram");
    uint64_t id[N];
    for (int i = 0; i < N; i++) {
        snprintf(msg, sizeof msg, "m%d", i);
        cr_assert_eq(sc_inbox_put(env, ch, "acct", msg, "{}", &id[i], NULL), OC_OK);
        if (i > 0)
            cr_assert_gt(id[i], id[i - 1], "ids ascend in accept order");
    }
    const uint64_t start = id[0] - 1;

    /* A limit: exactly that many when more are pending, the first id first
     * (nothing can sit between id[0] - 1 and id[0]). */
    sc_res_t r;
    cr_assert_eq(sc_inbox_pending(env, start, 3, &r), OC_OK);
    cr_assert_eq(r.ninbox, 3, "limit 3 with 7 pending gave %zu", r.ninbox);
    cr_assert_eq(r.inbox[0].id, id[0]);
    cr_assert(r.inbox[0].id < r.inbox[1].id && r.inbox[1].id < r.inbox[2].id);
    SC_STR_EQ(r.inbox[0].message_id, "m0");
    sc_res_free(&r);
    cr_assert_eq(sc_inbox_pending(env, id[2], 1, &r), OC_OK);
    cr_assert_eq(r.ninbox, 1);
    cr_assert(r.inbox[0].id > id[2] && r.inbox[0].id <= id[3], "after_id is exclusive");
    sc_res_free(&r);

    /* Pages of 2 from the start: all 7 in accept order. */
    scan_inbox(env, start, 2, &r);
    cr_assert_eq(r.ninbox, N);
    for (int i = 0; i < N; i++) {
        snprintf(msg, sizeof msg, "m%d", i);
        cr_assert_eq(r.inbox[i].id, id[i]);
        SC_STR_EQ(r.inbox[i].message_id, msg);
    }
    sc_res_free(&r);

    /* Done items disappear; the others keep their order. */
    uint64_t done[2] = {id[1], id[4]};
    cr_assert_eq(commit_done(env, done, 2), OC_OK);
    scan_inbox(env, start, 2, &r);
    cr_assert_eq(r.ninbox, N - 2);
    static const int left[N - 2] = {0, 2, 3, 5, 6};
    for (int i = 0; i < N - 2; i++)
        cr_assert_eq(r.inbox[i].id, id[left[i]]);
    sc_res_free(&r);

    /* limit 0 means 100. */
    for (int i = 0; i < MORE; i++) {
        snprintf(msg, sizeof msg, "more%d", i);
        cr_assert_eq(sc_inbox_put(env, ch, "acct", msg, "{}", NULL, NULL), OC_OK);
    }
    cr_assert_eq(sc_inbox_pending(env, start, 0, &r), OC_OK);
    cr_assert_eq(r.ninbox, 100, "limit 0 means 100, got %zu", r.ninbox);
    sc_res_free(&r);
    cr_assert_eq(sc_inbox_pending(env, start, 1000, &r), OC_OK);
    cr_assert_geq(r.ninbox, (size_t)(N - 2 + MORE));
    sc_res_free(&r);

    tidy(env, start, UNKNOWN_ID);
    scan_inbox(env, start, 0, &r);
    cr_assert_eq(r.ninbox, 0, "every item was marked done");
    sc_res_free(&r);
}

/* ---- commit --------------------------------------------------------------- */

void sc_case_commit_turns_inbox_outbox_together(sc_env_t *env)
{
    char key[600], ch[64], okey[128];
    sc_key(env, key, sizeof key, "telegram:direct:42");
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, okey, sizeof okey, "reply:m1");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 1000), OC_OK);
    uint64_t id1, id2;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "m1", "{\"text\":\"hi\"}", &id1, NULL), OC_OK);
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "m2", "{\"text\":\"later\"}", &id2, NULL), OC_OK);

    oc_turn_t t[2] = {
        {.struct_size = sizeof t[0], .role = "user", .content = "hi",
         .meta_json = "{\"msg\":\"m1\"}", .created_ms = 111},
        {.struct_size = sizeof t[0], .role = "assistant", .content = "hello!"},
    };
    const oc_turn_t *tp[2] = {&t[0], &t[1]};
    oc_outbox_item_t o = out_item(okey, ch, "hello!");
    o.peer_id = "42";
    o.in_reply_to = "m1";
    o.created_ms = 5555;
    o.next_attempt_ms = 6666;
    const oc_outbox_item_t *op[1] = {&o};
    oc_commit_t c = {.struct_size = sizeof c, .session_key = key, .turns = tp, .turn_count = 2,
                     .inbox_done = &id1, .inbox_done_count = 1, .outbox = op,
                     .outbox_count = 1};
    uint64_t before = sc_now_ms();
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    uint64_t after = sc_now_ms();

    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    cr_assert_eq(r.turns[0].seq, 1);
    SC_STR_EQ(r.turns[0].role, "user");
    SC_STR_EQ(r.turns[0].meta_json, "{\"msg\":\"m1\"}");
    cr_assert_eq(r.turns[0].created_ms, 111);
    cr_assert_eq(r.turns[1].seq, 2);
    SC_STR_EQ(r.turns[1].content, "hello!");
    cr_assert(r.turns[1].created_ms >= before && r.turns[1].created_ms <= after,
              "a turn's created_ms 0 means now");
    sc_res_free(&r);
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].turn_count, 2);
    cr_assert_gt(r.sessions[0].updated_ms, 1000, "turns update updated_ms, as an append does");
    sc_res_free(&r);

    scan_inbox(env, id1 - 1, 0, &r);
    cr_assert_eq(r.ninbox, 1, "the committed inbox item is no longer pending");
    cr_assert_eq(r.inbox[0].id, id2);
    sc_res_free(&r);

    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 1);
    const sc_outbox_t *x = &r.outbox[0];
    cr_assert_gt(x->id, 0);
    cr_assert_eq(x->state, OC_OUTBOX_PENDING);
    SC_STR_EQ(x->idempotency_key, okey);
    SC_STR_EQ(x->channel, ch);
    SC_STR_EQ(x->account, "acct");
    cr_assert_eq(x->peer_kind, OC_PEER_DIRECT);
    SC_STR_EQ(x->peer_id, "42");
    SC_STR_EQ(x->text, "hello!");
    SC_STR_EQ(x->in_reply_to, "m1");
    cr_assert_null(x->last_error);
    cr_assert_eq(x->attempts, 0);
    cr_assert_eq(x->created_ms, 5555);
    cr_assert_eq(x->next_attempt_ms, 6666);
    sc_res_free(&r);
    tidy(env, id1 - 1, 0);
}

void sc_case_commit_missing_session_applies_nothing(sc_env_t *env)
{
    char ghost[600], real[600], other[600], ch[64], okey[128];
    sc_key(env, ghost, sizeof ghost, "ghost");
    sc_key(env, real, sizeof real, "real");
    sc_key(env, other, sizeof other, "upserted");
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, okey, sizeof okey, "reply:1");
    cr_assert_eq(sc_put_simple(env, real, env->agent, 0), OC_OK);
    cr_assert_eq(sc_append_text(env, real, "user", "first", NULL), OC_OK);
    uint64_t id;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "m1", "{}", &id, NULL), OC_OK);

    oc_turn_t t = {.struct_size = sizeof t, .role = "assistant", .content = "reply"};
    const oc_turn_t *tp[1] = {&t};
    oc_outbox_item_t o = out_item(okey, ch, "reply");
    const oc_outbox_item_t *op[1] = {&o};
    oc_commit_t c = {.struct_size = sizeof c, .session_key = ghost, .turns = tp, .turn_count = 1,
                     .inbox_done = &id, .inbox_done_count = 1, .outbox = op,
                     .outbox_count = 1};
    cr_assert_eq(sc_commit(env, &c), OC_ENOENT, "turns for a missing session");

    /* A session upserted in the same commit does not rescue another key,
     * and is itself rolled back. */
    oc_session_t s = {.struct_size = sizeof s, .key = other, .agent_id = env->agent};
    c.session = &s;
    cr_assert_eq(sc_commit(env, &c), OC_ENOENT);
    cr_assert_eq(sc_get(env, other, NULL), OC_ENOENT, "a failed commit upserted its session");

    /* clear_transcript alone needs the session too. */
    oc_commit_t clear = {.struct_size = sizeof clear, .clear_transcript = 1, .session_key = ghost,
                         .inbox_done = &id, .inbox_done_count = 1};
    cr_assert_eq(sc_commit(env, &clear), OC_ENOENT);

    cr_assert_eq(sc_get(env, ghost, NULL), OC_ENOENT);
    sc_res_t r;
    scan_inbox(env, id - 1, 0, &r);
    cr_assert_eq(r.ninbox, 1, "a failed commit marked the inbox item done");
    cr_assert_eq(r.inbox[0].id, id);
    sc_res_free(&r);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 0, "a failed commit inserted its outbox item");
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, real, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 1);
    sc_res_free(&r);

    /* The same work against an existing session goes through: nothing of
     * the failed attempts was kept (the idempotency key is still free). */
    c.session = NULL;
    c.session_key = real;
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    cr_assert_eq(sc_read(env, real, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    cr_assert_eq(r.turns[1].seq, 2, "failed commits consumed no seq");
    SC_STR_EQ(r.turns[1].content, "reply");
    sc_res_free(&r);
    scan_inbox(env, id - 1, 0, &r);
    cr_assert_eq(r.ninbox, 0);
    sc_res_free(&r);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 1);
    SC_STR_EQ(r.outbox[0].idempotency_key, okey);
    sc_res_free(&r);
    tidy(env, id - 1, 0);
}

void sc_case_commit_clear_transcript_then_turns(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "main");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(sc_append_text(env, key, "user", "old", NULL), OC_OK);

    /* The clear comes first, then the commit's turns. */
    oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "fresh start"};
    const oc_turn_t *tp[1] = {&t};
    oc_commit_t c = {.struct_size = sizeof c, .clear_transcript = 1, .session_key = key,
                     .turns = tp, .turn_count = 1};
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 1, "clear_transcript kept %zu turns", r.nturns);
    cr_assert_eq(r.turns[0].seq, 4, "seq numbers are never reused");
    SC_STR_EQ(r.turns[0].content, "fresh start");
    sc_res_free(&r);
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].turn_count, 1);
    sc_res_free(&r);

    /* A clear with no turns empties it. */
    oc_commit_t c2 = {.struct_size = sizeof c2, .clear_transcript = 1, .session_key = key};
    cr_assert_eq(sc_commit(env, &c2), OC_OK);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 0);
    sc_res_free(&r);
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].turn_count, 0);
    sc_res_free(&r);
    uint64_t last;
    cr_assert_eq(sc_append_text(env, key, "user", "next", &last), OC_OK);
    cr_assert_eq(last, 5);
}

void sc_case_commit_upserts_session_then_turns(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "telegram:direct:7");
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent,
                      .channel = "telegram", .meta_json = "{\"m\":1}",
                      .created_ms = 1000, .updated_ms = 2000};
    oc_turn_t t[2] = {
        {.struct_size = sizeof t[0], .role = "user", .content = "first message"},
        {.struct_size = sizeof t[0], .role = "assistant", .content = "first answer"},
    };
    const oc_turn_t *tp[2] = {&t[0], &t[1]};
    oc_commit_t c = {.struct_size = sizeof c, .session = &s, .session_key = key, .turns = tp,
                     .turn_count = 2};
    cr_assert_eq(sc_get(env, key, NULL), OC_ENOENT);
    cr_assert_eq(sc_commit(env, &c), OC_OK, "a new session upserted in the commit takes turns");

    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    SC_STR_EQ(r.sessions[0].agent_id, env->agent);
    SC_STR_EQ(r.sessions[0].channel, "telegram");
    SC_STR_EQ(r.sessions[0].meta_json, "{\"m\":1}");
    cr_assert_eq(r.sessions[0].created_ms, 1000);
    cr_assert_eq(r.sessions[0].turn_count, 2);
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    cr_assert_eq(r.turns[0].seq, 1);
    cr_assert_eq(r.turns[1].seq, 2);
    SC_STR_EQ(r.turns[1].content, "first answer");
    sc_res_free(&r);

    /* Again, as session_put: created_ms kept, the rest replaced. */
    oc_session_t s2 = {.struct_size = sizeof s2, .key = key, .agent_id = env->agent,
                       .channel = "telegram", .meta_json = "{\"m\":2}", .created_ms = 9000};
    c.session = &s2;
    c.turn_count = 1;
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].created_ms, 1000, "created_ms changed on update");
    SC_STR_EQ(r.sessions[0].meta_json, "{\"m\":2}");
    cr_assert_eq(r.sessions[0].turn_count, 3);
    sc_res_free(&r);

    /* A session upsert alone (no turns, no key) is fine too. */
    char key2[600];
    sc_key(env, key2, sizeof key2, "upsert-only");
    oc_session_t s3 = {.struct_size = sizeof s3, .key = key2, .agent_id = env->agent2};
    oc_commit_t c3 = {.struct_size = sizeof c3, .session = &s3};
    cr_assert_eq(sc_commit(env, &c3), OC_OK);
    cr_assert_eq(sc_get(env, key2, &r), OC_OK);
    SC_STR_EQ(r.sessions[0].agent_id, env->agent2);
    cr_assert_eq(r.sessions[0].turn_count, 0);
    sc_res_free(&r);
}

void sc_case_commit_without_turns_needs_no_session(sc_env_t *env)
{
    char ch[64], okey[128];
    sc_chan(env, ch, sizeof ch, "webhook");
    uniq(env, okey, sizeof okey, "notice");
    uint64_t id;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "m1", "{}", &id, NULL), OC_OK);
    oc_outbox_item_t o = out_item(okey, ch, "dropped: not allowed");
    const oc_outbox_item_t *op[1] = {&o};
    /* A message dropped by policy: inbox done plus a notice, no transcript. */
    oc_commit_t c = {.struct_size = sizeof c, .inbox_done = &id, .inbox_done_count = 1,
                     .outbox = op, .outbox_count = 1};
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    sc_res_t r;
    scan_inbox(env, id - 1, 0, &r);
    cr_assert_eq(r.ninbox, 0);
    sc_res_free(&r);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 1);
    sc_res_free(&r);

    /* An empty commit does nothing and succeeds. */
    oc_commit_t empty = {.struct_size = sizeof empty};
    cr_assert_eq(sc_commit(env, &empty), OC_OK);
    tidy(env, id - 1, 0);
}

/* ---- outbox --------------------------------------------------------------- */

void sc_case_outbox_existing_idempotency_key_is_noop(sc_env_t *env)
{
    char ch[64], ka[128], kb[128], kc[128];
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, ka, sizeof ka, "a");
    uniq(env, kb, sizeof kb, "b");
    uniq(env, kc, sizeof kc, "c");
    oc_outbox_item_t a = out_item(ka, ch, "one");
    a.peer_kind = OC_PEER_GROUP;
    a.peer_id = "group-9";
    oc_outbox_item_t b = out_item(kb, ch, "two");
    const oc_outbox_item_t *first[2] = {&a, &b};
    uint64_t before = sc_now_ms();
    cr_assert_eq(commit_outbox(env, first, 2), OC_OK);
    uint64_t after = sc_now_ms();

    /* The same key with other contents: no-op, and the commit succeeds. */
    oc_outbox_item_t a2 = out_item(ka, ch, "changed");
    a2.peer_id = "someone-else";
    const oc_outbox_item_t *again[1] = {&a2};
    cr_assert_eq(commit_outbox(env, again, 1), OC_OK);
    /* Twice in one commit: the first wins. */
    oc_outbox_item_t c1 = out_item(kc, ch, "c first"), c2 = out_item(kc, ch, "c second");
    const oc_outbox_item_t *twice[2] = {&c1, &c2};
    cr_assert_eq(commit_outbox(env, twice, 2), OC_OK);

    sc_res_t r;
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 3, "3 keys, %zu items", r.noutbox);
    SC_STR_EQ(r.outbox[0].idempotency_key, ka);
    SC_STR_EQ(r.outbox[0].text, "one");
    SC_STR_EQ(r.outbox[0].peer_id, "group-9");
    cr_assert_eq(r.outbox[0].peer_kind, OC_PEER_GROUP);
    cr_assert_null(r.outbox[0].in_reply_to);
    cr_assert(r.outbox[0].created_ms >= before && r.outbox[0].created_ms <= after,
              "created_ms 0 means now");
    SC_STR_EQ(r.outbox[1].idempotency_key, kb);
    SC_STR_EQ(r.outbox[2].idempotency_key, kc);
    SC_STR_EQ(r.outbox[2].text, "c first");
    uint64_t ida = r.outbox[0].id;
    sc_res_free(&r);

    /* Sent, then the same reply committed again (a replayed turn): it is
     * not sent twice. */
    cr_assert_eq(sc_outbox_update(env, ida, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
    cr_assert_eq(commit_outbox(env, again, 1), OC_OK);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 2);
    cr_assert_null(find_outbox(&r, ka), "a sent item came back pending");
    sc_res_free(&r);
    tidy(env, UNKNOWN_ID, 0);
}

void sc_case_outbox_pending_order_after_id_limit(sc_env_t *env)
{
    enum { N = 7, MORE = 101 };
    char ch[64], keys[N][128], text[32];
    sc_chan(env, ch, sizeof ch, "telegram");
    oc_outbox_item_t items[N];
    const oc_outbox_item_t *ip[N];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "k%d", i);
        uniq(env, keys[i], sizeof keys[i], text);
        items[i] = out_item(keys[i], ch, keys[i]);
        ip[i] = &items[i];
    }
    /* Not yet due: listed anyway ("whatever their next_attempt_ms"). */
    items[3].next_attempt_ms = sc_now_ms() + 24 * HOUR_MS;
    cr_assert_eq(commit_outbox(env, ip, 5), OC_OK);
    cr_assert_eq(commit_outbox(env, ip + 5, 2), OC_OK);

    sc_res_t r;
    scan_outbox(env, 0, 2, &r);
    cr_assert_eq(r.noutbox, N);
    uint64_t id[N];
    for (int i = 0; i < N; i++) {
        SC_STR_EQ(r.outbox[i].idempotency_key, keys[i]);
        id[i] = r.outbox[i].id;
        if (i > 0)
            cr_assert_gt(id[i], id[i - 1], "ids ascend in insertion order");
    }
    sc_res_free(&r);

    cr_assert_eq(sc_outbox_pending(env, id[0] - 1, 2, &r), OC_OK);
    cr_assert_eq(r.noutbox, 2, "limit 2 with 7 pending gave %zu", r.noutbox);
    cr_assert_eq(r.outbox[0].id, id[0]);
    sc_res_free(&r);
    cr_assert_eq(sc_outbox_pending(env, id[2], 1, &r), OC_OK);
    cr_assert_eq(r.noutbox, 1);
    cr_assert(r.outbox[0].id > id[2] && r.outbox[0].id <= id[3], "after_id is exclusive");
    sc_res_free(&r);
    scan_outbox(env, id[N - 1], 0, &r);
    cr_assert_eq(r.noutbox, 0, "nothing of ours after the last id");
    sc_res_free(&r);

    /* limit 0 means 100. */
    oc_outbox_item_t *more = calloc(MORE, sizeof *more);
    const oc_outbox_item_t **mp = calloc(MORE, sizeof *mp);
    char (*mk)[128] = calloc(MORE, sizeof *mk);
    cr_assert(more != NULL && mp != NULL && mk != NULL);
    for (int i = 0; i < MORE; i++) {
        snprintf(text, sizeof text, "more%d", i);
        uniq(env, mk[i], sizeof mk[i], text);
        more[i] = out_item(mk[i], ch, "more");
        mp[i] = &more[i];
    }
    int32_t st = commit_outbox(env, mp, MORE);
    free(more);
    free(mp);
    free(mk);
    cr_assert_eq(st, OC_OK);
    cr_assert_eq(sc_outbox_pending(env, id[0] - 1, 0, &r), OC_OK);
    cr_assert_eq(r.noutbox, 100, "limit 0 means 100, got %zu", r.noutbox);
    sc_res_free(&r);
    tidy(env, UNKNOWN_ID, id[0] - 1);
}

void sc_case_outbox_update_state_transitions(sc_env_t *env)
{
    char ch[64], ka[128], kb[128], kc[128];
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, ka, sizeof ka, "a");
    uniq(env, kb, sizeof kb, "b");
    uniq(env, kc, sizeof kc, "c");
    oc_outbox_item_t a = out_item(ka, ch, "a"), b = out_item(kb, ch, "b"),
                     c = out_item(kc, ch, "c");
    const oc_outbox_item_t *ip[3] = {&a, &b, &c};
    cr_assert_eq(commit_outbox(env, ip, 3), OC_OK);
    sc_res_t r;
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 3);
    uint64_t ida = r.outbox[0].id, idb = r.outbox[1].id, idc = r.outbox[2].id;
    sc_res_free(&r);
    const uint64_t start = ida - 1;

    /* A failed attempt: still pending, with the retry bookkeeping. */
    uint64_t next = sc_now_ms() + 5000;
    cr_assert_eq(sc_outbox_update(env, ida, OC_OUTBOX_PENDING, 1, next, "HTTP 502"), OC_OK);
    scan_outbox(env, start, 0, &r);
    const sc_outbox_t *x = find_outbox(&r, ka);
    cr_assert_not_null(x, "a retried item left the pending list");
    cr_assert_eq(x->state, OC_OUTBOX_PENDING);
    cr_assert_eq(x->attempts, 1);
    cr_assert_eq(x->next_attempt_ms, next);
    SC_STR_EQ(x->last_error, "HTTP 502");
    SC_STR_EQ(x->text, "a"); /* update changes only the delivery fields */
    sc_res_free(&r);

    /* last_error NULL clears it. */
    cr_assert_eq(sc_outbox_update(env, ida, OC_OUTBOX_PENDING, 2, next + 1, NULL), OC_OK);
    scan_outbox(env, start, 0, &r);
    x = find_outbox(&r, ka);
    cr_assert_not_null(x);
    cr_assert_eq(x->attempts, 2);
    cr_assert_eq(x->next_attempt_ms, next + 1);
    cr_assert_null(x->last_error, "last_error NULL must clear it");
    sc_res_free(&r);

    /* Sent and failed items leave the pending list. */
    cr_assert_eq(sc_outbox_update(env, ida, OC_OUTBOX_SENT, 3, 0, NULL), OC_OK);
    cr_assert_eq(sc_outbox_update(env, idb, OC_OUTBOX_FAILED, 5, 0, "400 chat not found"),
                 OC_OK);
    scan_outbox(env, start, 0, &r);
    cr_assert_eq(r.noutbox, 1);
    cr_assert_eq(r.outbox[0].id, idc);
    sc_res_free(&r);

    /* Updating a settled item is allowed: an operator's retry of a failed one. */
    cr_assert_eq(sc_outbox_update(env, ida, OC_OUTBOX_SENT, 3, 0, NULL), OC_OK);
    cr_assert_eq(sc_outbox_update(env, idb, OC_OUTBOX_PENDING, 0, 0, NULL), OC_OK);
    scan_outbox(env, start, 0, &r);
    cr_assert_eq(r.noutbox, 2);
    cr_assert_eq(r.outbox[0].id, idb, "ids do not change on update");
    cr_assert_eq(r.outbox[0].attempts, 0);
    cr_assert_null(r.outbox[0].last_error);
    cr_assert_eq(r.outbox[1].id, idc);
    sc_res_free(&r);
    tidy(env, UNKNOWN_ID, start);
}

void sc_case_outbox_update_unknown_id_is_enoent(sc_env_t *env)
{
    cr_assert_eq(sc_outbox_update(env, UNKNOWN_ID, OC_OUTBOX_SENT, 1, 0, NULL), OC_ENOENT);
    cr_assert_eq(sc_outbox_update(env, UNKNOWN_ID, OC_OUTBOX_PENDING, 1, 5, "x"), OC_ENOENT);
    /* Nothing was created by it. */
    char ch[64], k[128];
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, k, sizeof k, "real");
    oc_outbox_item_t o = out_item(k, ch, "x");
    const oc_outbox_item_t *ip[1] = {&o};
    cr_assert_eq(commit_outbox(env, ip, 1), OC_OK);
    sc_res_t r;
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 1);
    cr_assert_eq(sc_outbox_update(env, r.outbox[0].id, OC_OUTBOX_SENT, 1, 0, NULL), OC_OK);
    sc_res_free(&r);
}

/* ---- pairing -------------------------------------------------------------- */

void sc_case_pairing_request_creates_then_repeats(sc_env_t *env)
{
    char ch[64], u1[96], u2[96];
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, u1, sizeof u1, "u1");
    uniq(env, u2, sizeof u2, "u2");
    const uint64_t base = sc_now_ms(), exp = base + HOUR_MS;
    oc_pairing_t req = pairing(ch, "acct", u1, "ABCD2345", exp);
    req.meta_json = "{\"name\":\"Ann\"}";
    sc_res_t r;
    cr_assert_eq(sc_pairing_request(env, &req, 3, base - 5000, &r), OC_OK);
    cr_assert_eq(r.flag, 1, "a first request is created");
    const sc_pairing_t *p = &r.pairings[0];
    SC_STR_EQ(p->channel, ch);
    SC_STR_EQ(p->account, "acct");
    SC_STR_EQ(p->sender_id, u1);
    SC_STR_EQ(p->code, "ABCD2345");
    SC_STR_EQ(p->meta_json, "{\"name\":\"Ann\"}");
    cr_assert_eq(p->created_ms, base - 5000, "created_ms is now_ms");
    cr_assert_eq(p->last_seen_ms, base - 5000);
    cr_assert_eq(p->expires_ms, exp);
    sc_res_free(&r);

    /* The same sender again: the existing request, seen again. */
    oc_pairing_t again = pairing(ch, "acct", u1, "ZZZZ9999", exp + HOUR_MS);
    again.meta_json = "{\"name\":\"Other\"}";
    cr_assert_eq(sc_pairing_request(env, &again, 3, base - 1000, &r), OC_OK);
    cr_assert_eq(r.flag, 0, "a repeated request is not created");
    p = &r.pairings[0];
    SC_STR_EQ(p->sender_id, u1);
    SC_STR_EQ(p->code, "ABCD2345"); /* the first code stays */
    SC_STR_EQ(p->meta_json, "{\"name\":\"Ann\"}");
    cr_assert_eq(p->created_ms, base - 5000);
    cr_assert_eq(p->last_seen_ms, base - 1000, "last_seen_ms is updated");
    cr_assert_eq(p->expires_ms, exp, "a repeat does not extend the request");
    sc_res_free(&r);

    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 1, "a repeat adds no request");
    cr_assert_eq(r.pairings[0].last_seen_ms, base - 1000);
    sc_res_free(&r);

    /* The repeat's code was not taken. */
    oc_pairing_t other = pairing(ch, "acct", u2, "ZZZZ9999", exp);
    request_new(env, &other, 3, base);
}

void sc_case_pairing_max_pending_is_elimit(sc_env_t *env)
{
    char ch[64], u[5][96];
    sc_chan(env, ch, sizeof ch, "telegram");
    static const char *const codes[5] = {"AAAA1111", "BBBB2222", "CCCC3333", "DDDD4444",
                                         "EEEE5555"};
    for (int i = 0; i < 5; i++) {
        char s[8];
        snprintf(s, sizeof s, "u%d", i);
        uniq(env, u[i], sizeof u[i], s);
    }
    const uint64_t base = sc_now_ms(), exp = base + HOUR_MS;
    for (int i = 0; i < 3; i++) {
        oc_pairing_t q = pairing(ch, "acct", u[i], codes[i], exp);
        request_new(env, &q, 3, base - 3000 + (uint64_t)i);
    }
    sc_res_t r;
    oc_pairing_t q4 = pairing(ch, "acct", u[3], codes[3], exp);
    cr_assert_eq(sc_pairing_request(env, &q4, 3, base, &r), OC_ELIMIT, "a 4th request of 3");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 3, "a refused request was stored");
    sc_res_free(&r);

    /* A repeat of a pending sender is not limited. */
    oc_pairing_t q2 = pairing(ch, "acct", u[1], codes[4], exp);
    cr_assert_eq(sc_pairing_request(env, &q2, 3, base, &r), OC_OK);
    cr_assert_eq(r.flag, 0);
    SC_STR_EQ(r.pairings[0].code, codes[1]);
    sc_res_free(&r);

    /* The limit is per (channel, account) and the caller's to set. */
    oc_pairing_t other_acct = pairing(ch, "acct2", u[3], codes[3], exp);
    request_new(env, &other_acct, 3, base);
    oc_pairing_t bigger = pairing(ch, "acct", u[4], codes[4], exp);
    request_new(env, &bigger, 4, base);
    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 5);
    sc_res_free(&r);
}

void sc_case_pairing_code_collision_is_eexist(sc_env_t *env)
{
    char ch[64], ch2[64], u[6][96];
    sc_chan(env, ch, sizeof ch, "telegram");
    sc_chan(env, ch2, sizeof ch2, "discord");
    for (int i = 0; i < 6; i++) {
        char s[8];
        snprintf(s, sizeof s, "u%d", i);
        uniq(env, u[i], sizeof u[i], s);
    }
    const uint64_t base = sc_now_ms(), exp = base + HOUR_MS;
    oc_pairing_t q1 = pairing(ch, "acct1", u[1], "QWER7890", exp);
    request_new(env, &q1, 3, base);

    sc_res_t r;
    oc_pairing_t q2 = pairing(ch, "acct1", u[2], "QWER7890", exp);
    cr_assert_eq(sc_pairing_request(env, &q2, 3, base, &r), OC_EEXIST);
    sc_res_free(&r);
    /* Codes are unique per channel, across its accounts. */
    oc_pairing_t q3 = pairing(ch, "acct2", u[3], "QWER7890", exp);
    cr_assert_eq(sc_pairing_request(env, &q3, 3, base, &r), OC_EEXIST);
    sc_res_free(&r);
    /* Another channel may use it. */
    oc_pairing_t q4 = pairing(ch2, "acct1", u[4], "QWER7890", exp);
    request_new(env, &q4, 3, base);
    /* The caller draws another code and calls again. */
    q2.code = "TYUI1234";
    request_new(env, &q2, 3, base);
    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 2);
    SC_STR_EQ(r.pairings[0].sender_id, u[1]);
    SC_STR_EQ(r.pairings[1].sender_id, u[2]);
    SC_STR_EQ(r.pairings[1].code, "TYUI1234");
    sc_res_free(&r);

    /* An expired request's code is free again (expired ones go first). */
    oc_pairing_t old = pairing(ch, "acct1", u[5], "EXPD0001", base - 1000);
    request_new(env, &old, 3, base - 60000);
    oc_pairing_t reuse = pairing(ch, "acct2", u[3], "EXPD0001", exp);
    request_new(env, &reuse, 3, base);
}

/* Requests expired by the wall clock may be swept by any other case's
 * pairing_request at any time; so the ones this case needs alive before
 * they expire live in the near future, and now_ms moves forward past them
 * (not beyond an hour, where other cases' requests expire). */
void sc_case_pairing_expired_requests_vanish_and_free_a_slot(sc_env_t *env)
{
    char ch[64], u[5][96];
    sc_chan(env, ch, sizeof ch, "telegram");
    for (int i = 0; i < 5; i++) {
        char s[8];
        snprintf(s, sizeof s, "u%d", i);
        uniq(env, u[i], sizeof u[i], s);
    }
    const uint64_t t0 = sc_now_ms(), t1 = t0 + 10 * 60000, exp = t0 + HOUR_MS;
    oc_pairing_t q1 = pairing(ch, "acct", u[1], "EXP10001", t1);
    oc_pairing_t q2 = pairing(ch, "acct", u[2], "EXP20002", exp);
    oc_pairing_t q3 = pairing(ch, "acct", u[3], "EXP30003", exp);
    request_new(env, &q1, 3, t0);
    request_new(env, &q2, 3, t0 + 1);
    request_new(env, &q3, 3, t0 + 2);

    sc_res_t r;
    cr_assert_eq(sc_pairing_list(env, ch, t0 + 10, &r), OC_OK);
    cr_assert_eq(r.npairings, 3, "nothing has expired at t0");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, ch, t1 - 1, &r), OC_OK);
    cr_assert_eq(r.npairings, 3, "a request is listed until its expires_ms");
    sc_res_free(&r);
    /* expires_ms <= now is expired: at exactly expires_ms it is gone. */
    cr_assert_eq(sc_pairing_list(env, ch, t1, &r), OC_OK);
    cr_assert_eq(r.npairings, 2, "a request at its expires_ms is still listed");
    SC_STR_EQ(r.pairings[0].sender_id, u[2]);
    sc_res_free(&r);

    /* Full while u1 is alive; its expiry frees the slot. */
    oc_pairing_t q4 = pairing(ch, "acct", u[4], "EXP40004", exp);
    cr_assert_eq(sc_pairing_request(env, &q4, 3, t0 + 10, &r), OC_ELIMIT);
    sc_res_free(&r);
    request_new(env, &q4, 3, t1);
    cr_assert_eq(sc_pairing_list(env, ch, t1, &r), OC_OK);
    cr_assert_eq(r.npairings, 3);
    SC_STR_EQ(r.pairings[0].sender_id, u[2]);
    SC_STR_EQ(r.pairings[2].sender_id, u[4]);
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, ch, t0 + 10, &r), OC_OK);
    cr_assert_eq(r.npairings, 3, "the expired request was deleted, not just hidden");
    for (size_t i = 0; i < r.npairings; i++)
        cr_assert(!sc_streq(r.pairings[i].sender_id, u[1]));
    sc_res_free(&r);

    /* A sender whose request expired gets a new one, not the old one. */
    char v[96];
    uniq(env, v, sizeof v, "v");
    oc_pairing_t v1 = pairing(ch, "acct2", v, "OLDV0001", t1 - 1000);
    request_new(env, &v1, 3, t0);
    oc_pairing_t v2 = pairing(ch, "acct2", v, "NEWV0002", exp);
    cr_assert_eq(sc_pairing_request(env, &v2, 3, t1, &r), OC_OK);
    cr_assert_eq(r.flag, 1, "an expired request is replaced, not repeated");
    SC_STR_EQ(r.pairings[0].code, "NEWV0002");
    cr_assert_eq(r.pairings[0].created_ms, t1);
    sc_res_free(&r);
}

void sc_case_pairing_list_channel_filter_oldest_first(sc_env_t *env)
{
    char cha[64], chb[64], none[64], u[4][96];
    sc_chan(env, cha, sizeof cha, "telegram");
    sc_chan(env, chb, sizeof chb, "discord");
    sc_chan(env, none, sizeof none, "none");
    for (int i = 0; i < 4; i++) {
        char s[8];
        snprintf(s, sizeof s, "u%d", i);
        uniq(env, u[i], sizeof u[i], s);
    }
    const uint64_t base = sc_now_ms(), exp = base + HOUR_MS;
    /* Created out of call order: the list goes by created_ms. */
    oc_pairing_t q1 = pairing(cha, "acct", u[1], "LIST0001", exp);
    oc_pairing_t q2 = pairing(chb, "acct", u[2], "LIST0002", exp);
    oc_pairing_t q3 = pairing(cha, "acct2", u[3], "LIST0003", exp);
    request_new(env, &q1, 3, base - 3000);
    request_new(env, &q2, 3, base - 5000);
    request_new(env, &q3, 3, base - 4000);

    sc_res_t r;
    cr_assert_eq(sc_pairing_list(env, cha, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 2, "channel filter: %zu", r.npairings);
    SC_STR_EQ(r.pairings[0].sender_id, u[3]);
    SC_STR_EQ(r.pairings[0].account, "acct2");
    SC_STR_EQ(r.pairings[1].sender_id, u[1]);
    cr_assert_eq(r.pairings[1].created_ms, base - 3000);
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, chb, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 1);
    SC_STR_EQ(r.pairings[0].channel, chb);
    SC_STR_EQ(r.pairings[0].code, "LIST0002");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, none, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 0);
    sc_res_free(&r);

    /* NULL: every channel, oldest first. */
    list_ours(env, base, &r);
    cr_assert_eq(r.npairings, 3);
    SC_STR_EQ(r.pairings[0].sender_id, u[2]);
    SC_STR_EQ(r.pairings[1].sender_id, u[3]);
    SC_STR_EQ(r.pairings[2].sender_id, u[1]);
    sc_res_free(&r);
}

void sc_case_pairing_approve_moves_sender_to_allow_list(sc_env_t *env)
{
    char ch[64], u1[96], u2[96], u3[96];
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, u1, sizeof u1, "u1");
    uniq(env, u2, sizeof u2, "u2");
    uniq(env, u3, sizeof u3, "u3");
    const uint64_t base = sc_now_ms(), exp = base + HOUR_MS;
    oc_pairing_t q1 = pairing(ch, "acct1", u1, "K7PQ2XZM", exp);
    q1.meta_json = "{\"name\":\"Bo\"}";
    oc_pairing_t q2 = pairing(ch, "acct1", u2, "M3NB8VCX", exp);
    request_new(env, &q1, 3, base - 2000);
    request_new(env, &q2, 3, base - 1000);
    cr_assert_eq(sc_allow_check(env, ch, "acct1", u1), OC_ENOENT);

    sc_res_t r;
    cr_assert_eq(sc_pairing_approve(env, ch, "k7pq2xzm", base, &r), OC_OK,
                 "codes compare case-insensitively");
    const sc_pairing_t *p = &r.pairings[0];
    SC_STR_EQ(p->channel, ch);
    SC_STR_EQ(p->account, "acct1");
    SC_STR_EQ(p->sender_id, u1);
    SC_STR_EQ(p->code, "K7PQ2XZM");
    SC_STR_EQ(p->meta_json, "{\"name\":\"Bo\"}");
    cr_assert_eq(p->created_ms, base - 2000);
    cr_assert_eq(r.flag, 0, "created is unused (0)");
    sc_res_free(&r);

    cr_assert_eq(sc_allow_check(env, ch, "acct1", u1), OC_OK, "approved sender not allowed");
    cr_assert_eq(sc_allow_check(env, ch, "acct2", u1), OC_ENOENT, "allowed on another account");
    cr_assert_eq(sc_allow_check(env, ch, "acct1", u2), OC_ENOENT);
    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 1, "the approved request is gone");
    SC_STR_EQ(r.pairings[0].sender_id, u2);
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_approve(env, ch, "K7PQ2XZM", base, &r), OC_ENOENT,
                 "a code approves once");
    sc_res_free(&r);

    /* The code is free for a new request. */
    oc_pairing_t q3 = pairing(ch, "acct1", u3, "K7PQ2XZM", exp);
    request_new(env, &q3, 3, base);
    cr_assert_eq(sc_pairing_approve(env, ch, "M3NB8VCX", base, &r), OC_OK);
    SC_STR_EQ(r.pairings[0].sender_id, u2);
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(env, ch, "acct1", u2), OC_OK);
}

void sc_case_pairing_approve_unknown_or_expired_is_enoent(sc_env_t *env)
{
    char ch[64], ch2[64], u1[96], u2[96];
    sc_chan(env, ch, sizeof ch, "telegram");
    sc_chan(env, ch2, sizeof ch2, "discord");
    uniq(env, u1, sizeof u1, "u1");
    uniq(env, u2, sizeof u2, "u2");
    const uint64_t base = sc_now_ms();
    sc_res_t r;
    cr_assert_eq(sc_pairing_approve(env, ch, "NOPE0000", base, &r), OC_ENOENT);
    sc_res_free(&r);

    oc_pairing_t old = pairing(ch, "acct", u1, "OLD00001", base - 1000);
    request_new(env, &old, 3, base - 60000);
    cr_assert_eq(sc_pairing_approve(env, ch, "OLD00001", base - 1000, &r), OC_ENOENT,
                 "a request at its expires_ms is expired");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_approve(env, ch, "OLD00001", base, &r), OC_ENOENT,
                 "an expired request cannot be approved");
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(env, ch, "acct", u1), OC_ENOENT);

    oc_pairing_t live = pairing(ch, "acct", u2, "LIVE0001", base + HOUR_MS);
    request_new(env, &live, 3, base);
    cr_assert_eq(sc_pairing_approve(env, ch2, "LIVE0001", base, &r), OC_ENOENT,
                 "a code belongs to its channel");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_approve(env, ch, "LIVE0002", base, &r), OC_ENOENT);
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_approve(env, ch, "", base, &r), OC_ENOENT);
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(env, ch, "acct", u2), OC_ENOENT);
    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 1, "a failed approve removed the request");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_approve(env, ch, "LIVE0001", base, &r), OC_OK);
    sc_res_free(&r);
}

void sc_case_allow_add_idempotent_and_check_scoped(sc_env_t *env)
{
    char ch[64], ch2[64], s1[96], s2[96], s1up[96];
    sc_chan(env, ch, sizeof ch, "telegram");
    sc_chan(env, ch2, sizeof ch2, "discord");
    uniq(env, s1, sizeof s1, "sender");
    uniq(env, s2, sizeof s2, "other");
    uniq(env, s1up, sizeof s1up, "SENDER");
    cr_assert_eq(sc_allow_check(env, ch, "a1", s1), OC_ENOENT);
    cr_assert_eq(sc_allow_add(env, ch, "a1", s1), OC_OK);
    cr_assert_eq(sc_allow_add(env, ch, "a1", s1), OC_OK, "adding twice is a no-op");
    cr_assert_eq(sc_allow_check(env, ch, "a1", s1), OC_OK);
    cr_assert_eq(sc_allow_check(env, ch, "a2", s1), OC_ENOENT, "scoped by account");
    cr_assert_eq(sc_allow_check(env, ch2, "a1", s1), OC_ENOENT, "scoped by channel");
    cr_assert_eq(sc_allow_check(env, ch, "a1", s2), OC_ENOENT);
    cr_assert_eq(sc_allow_check(env, ch, "a1", s1up), OC_ENOENT, "sender ids compare exactly");
    cr_assert_eq(sc_allow_add(env, ch, "a2", s1), OC_OK);
    cr_assert_eq(sc_allow_check(env, ch, "a2", s1), OC_OK);
    cr_assert_eq(sc_allow_check(env, ch, "a1", s1), OC_OK);
}

/* ---- invalid arguments ------------------------------------------------------ */

static int bad_calls;

static void bad_done(void *data, int32_t status)
{
    (void)data;
    (void)status;
    bad_calls++;
}

static void bad_put(void *data, int32_t status, uint64_t id, int32_t dup)
{
    (void)data;
    (void)status;
    (void)id;
    (void)dup;
    bad_calls++;
}

static void bad_pairing(void *data, int32_t status, const oc_pairing_t *p, int32_t created)
{
    (void)data;
    (void)status;
    (void)p;
    (void)created;
    bad_calls++;
}

void sc_case_messaging_invalid_arguments_einval(sc_env_t *env)
{
    const oc_storage_ops_t *o = env->ops;
    void *st = env->st;
    char ch[64], key[600], ghost[600], okey[128], sender[96];
    sc_chan(env, ch, sizeof ch, "telegram");
    sc_key(env, key, sizeof key, "main");
    sc_key(env, ghost, sizeof ghost, "never-created");
    uniq(env, okey, sizeof okey, "reply");
    uniq(env, sender, sizeof sender, "sender");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    uint64_t id;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "pending", "{}", &id, NULL), OC_OK);
    bad_calls = 0;

    /* inbox_put: no item, no callback, a required string missing, too small. */
    oc_inbox_item_t it = {.struct_size = sizeof it, .channel = ch, .account = "acct",
                          .message_id = "m1", .envelope_json = "{}"};
    cr_assert_eq(o->inbox_put(st, NULL, bad_put, NULL), OC_EINVAL);
    cr_assert_eq(o->inbox_put(st, &it, NULL, NULL), OC_EINVAL);
    oc_inbox_item_t bad = it;
    bad.channel = NULL;
    cr_assert_eq(o->inbox_put(st, &bad, bad_put, NULL), OC_EINVAL, "NULL channel");
    bad = it;
    bad.account = NULL;
    cr_assert_eq(o->inbox_put(st, &bad, bad_put, NULL), OC_EINVAL, "NULL account");
    bad = it;
    bad.message_id = NULL;
    cr_assert_eq(o->inbox_put(st, &bad, bad_put, NULL), OC_EINVAL, "NULL message_id");
    bad = it;
    bad.envelope_json = NULL;
    cr_assert_eq(o->inbox_put(st, &bad, bad_put, NULL), OC_EINVAL, "NULL envelope_json");
    bad = it;
    bad.struct_size = 8;
    cr_assert_eq(o->inbox_put(st, &bad, bad_put, NULL), OC_EINVAL, "struct_size too small");

    /* Lists: no callback. */
    cr_assert_eq(o->inbox_pending(st, 0, 10, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_pending(st, 0, 10, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->pairing_list(st, ch, 1, NULL, NULL), OC_EINVAL);

    /* commit. Each one would otherwise mark `id` done and insert okey. */
    oc_turn_t good = {.struct_size = sizeof good, .role = "assistant", .content = "ok"};
    oc_turn_t badrole = {.struct_size = sizeof badrole, .role = "robot", .content = "x"};
    oc_turn_t nocontent = {.struct_size = sizeof nocontent, .role = "user"};
    const oc_turn_t *turns[1] = {&good};
    const oc_turn_t *turns_badrole[2] = {&good, &badrole};
    const oc_turn_t *turns_nocontent[1] = {&nocontent};
    const oc_turn_t *turns_null[1] = {NULL};
    oc_outbox_item_t out = out_item(okey, ch, "reply");
    const oc_outbox_item_t *outs[1] = {&out};
    const oc_commit_t c0 = {.struct_size = sizeof c0, .session_key = key, .turns = turns,
                            .turn_count = 1, .inbox_done = &id, .inbox_done_count = 1,
                            .outbox = outs, .outbox_count = 1};
    oc_commit_t c = c0;
    cr_assert_eq(o->commit(st, NULL, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->commit(st, &c, NULL, NULL), OC_EINVAL, "no callback");
    c.session_key = NULL;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "turns without session_key");
    c = c0;
    c.turn_count = 0;
    c.session_key = NULL;
    c.clear_transcript = 1;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "clear without session_key");
    c = c0;
    c.turns = NULL;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "turn_count without turns");
    c = c0;
    c.turns = turns_badrole;
    c.turn_count = 2;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "a bad role");
    c = c0;
    c.turns = turns_nocontent;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "NULL content");
    c = c0;
    c.turns = turns_null;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "a NULL turn");
    c = c0;
    c.inbox_done = NULL;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "inbox_done_count without ids");
    c = c0;
    c.outbox = NULL;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "outbox_count without items");
    const oc_outbox_item_t *null_out[1] = {NULL};
    c = c0;
    c.outbox = null_out;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "a NULL outbox item");
    oc_session_t noagent = {.struct_size = sizeof noagent, .key = key};
    c = c0;
    c.session = &noagent;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "a session without agent_id");
    oc_session_t nokey = {.struct_size = sizeof nokey, .agent_id = env->agent};
    c.session = &nokey;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "a session without key");
    c = c0;
    c.struct_size = 8;
    cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "struct_size too small");
    /* Outbox items: each required field, and the peer kind. */
    for (int f = 0; f < 7; f++) {
        oc_outbox_item_t b = out_item(okey, ch, "reply");
        switch (f) {
        case 0: b.idempotency_key = NULL; break;
        case 1: b.channel = NULL; break;
        case 2: b.account = NULL; break;
        case 3: b.peer_id = NULL; break;
        case 4: b.text = NULL; break;
        case 5: b.peer_kind = 0; break;
        default: b.peer_kind = 3; break;
        }
        const oc_outbox_item_t *bp[2] = {&out, &b};
        c = c0;
        c.outbox = bp;
        c.outbox_count = 2;
        cr_assert_eq(o->commit(st, &c, bad_done, NULL), OC_EINVAL, "outbox item field %d", f);
    }

    /* outbox_update: no callback, a state that does not exist. */
    cr_assert_eq(o->outbox_update(st, 1, OC_OUTBOX_SENT, 1, 0, NULL, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_update(st, 1, 0, 1, 0, NULL, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->outbox_update(st, 1, 4, 1, 0, NULL, bad_done, NULL), OC_EINVAL);

    /* Pairing: no request, no callback, a required string missing. */
    const uint64_t now = sc_now_ms();
    oc_pairing_t req = pairing(ch, "acct", sender, "BADA0001", now + HOUR_MS);
    cr_assert_eq(o->pairing_request(st, NULL, 3, now, bad_pairing, NULL), OC_EINVAL);
    cr_assert_eq(o->pairing_request(st, &req, 3, now, NULL, NULL), OC_EINVAL);
    for (int f = 0; f < 5; f++) {
        oc_pairing_t b = req;
        switch (f) {
        case 0: b.channel = NULL; break;
        case 1: b.account = NULL; break;
        case 2: b.sender_id = NULL; break;
        case 3: b.code = NULL; break;
        default: b.struct_size = 8; break;
        }
        cr_assert_eq(o->pairing_request(st, &b, 3, now, bad_pairing, NULL), OC_EINVAL,
                     "pairing field %d", f);
    }
    cr_assert_eq(o->pairing_approve(st, NULL, "BADA0001", now, bad_pairing, NULL), OC_EINVAL);
    cr_assert_eq(o->pairing_approve(st, ch, NULL, now, bad_pairing, NULL), OC_EINVAL);
    cr_assert_eq(o->pairing_approve(st, ch, "BADA0001", now, NULL, NULL), OC_EINVAL);

    /* Allow lists. */
    cr_assert_eq(o->allow_add(st, NULL, "acct", sender, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_add(st, ch, NULL, sender, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_add(st, ch, "acct", NULL, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_add(st, ch, "acct", sender, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_check(st, NULL, "acct", sender, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_check(st, ch, NULL, sender, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_check(st, ch, "acct", NULL, bad_done, NULL), OC_EINVAL);
    cr_assert_eq(o->allow_check(st, ch, "acct", sender, NULL, NULL), OC_EINVAL);

    /* Nothing was applied, and no rejected call ever called back. */
    uint64_t id1;
    int32_t dup;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "m1", "{}", &id1, &dup), OC_OK);
    cr_assert_eq(dup, 0, "a rejected inbox_put stored the message");
    sc_res_t r;
    scan_inbox(env, id - 1, 0, &r);
    cr_assert_not_null(find_inbox(&r, id), "a rejected commit marked the inbox item done");
    sc_res_free(&r);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 0, "a rejected commit inserted its outbox item");
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 0, "a rejected commit appended turns");
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, ch, now, &r), OC_OK);
    cr_assert_eq(r.npairings, 0, "a rejected pairing_request stored a request");
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(env, ch, "acct", sender), OC_ENOENT);
    cr_assert_eq(sc_get(env, ghost, NULL), OC_ENOENT);
    cr_assert_eq(bad_calls, 0, "a rejected call ran its callback %d times", bad_calls);
    tidy(env, id - 1, 0);
}

/* ---- durability ----------------------------------------------------------- */

void sc_case_messaging_durable_across_restart(sc_env_t *env)
{
    if (!env->backend->persistent)
        cr_skip_test("%s does not persist across restarts", env->backend->plugin);
    char key[600], ch[64], okey[128], sender[96], allowed[96];
    sc_key(env, key, sizeof key, "durable");
    sc_chan(env, ch, sizeof ch, "telegram");
    uniq(env, okey, sizeof okey, "reply");
    uniq(env, sender, sizeof sender, "pairing");
    uniq(env, allowed, sizeof allowed, "allowed");
    uint64_t ida, idb;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "a", "{\"a\":1}", &ida, NULL), OC_OK);
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "b", "{\"b\":1}", &idb, NULL), OC_OK);
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent};
    oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "b"};
    const oc_turn_t *tp[1] = {&t};
    oc_outbox_item_t o = out_item(okey, ch, "answer to b");
    o.in_reply_to = "b";
    const oc_outbox_item_t *op[1] = {&o};
    oc_commit_t c = {.struct_size = sizeof c, .session = &s, .session_key = key, .turns = tp,
                     .turn_count = 1, .inbox_done = &idb, .inbox_done_count = 1, .outbox = op,
                     .outbox_count = 1};
    cr_assert_eq(sc_commit(env, &c), OC_OK);
    const uint64_t base = sc_now_ms();
    oc_pairing_t q = pairing(ch, "acct", sender, "DURA0001", base + HOUR_MS);
    request_new(env, &q, 3, base);
    cr_assert_eq(sc_allow_add(env, ch, "acct", allowed), OC_OK);

    sc_env_reopen(env);

    uint64_t again;
    int32_t dup;
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "a", "{}", &again, &dup), OC_OK);
    cr_assert(dup == 1 && again == ida, "the inbox key did not survive a restart");
    cr_assert_eq(sc_inbox_put(env, ch, "acct", "b", "{}", &again, &dup), OC_OK);
    cr_assert(dup == 1 && again == idb);
    sc_res_t r;
    scan_inbox(env, ida - 1, 0, &r);
    cr_assert_eq(r.ninbox, 1);
    cr_assert_eq(r.inbox[0].id, ida);
    SC_STR_EQ(r.inbox[0].envelope_json, "{\"a\":1}");
    sc_res_free(&r);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, 1);
    SC_STR_EQ(r.outbox[0].idempotency_key, okey);
    SC_STR_EQ(r.outbox[0].in_reply_to, "b");
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 1);
    sc_res_free(&r);
    cr_assert_eq(sc_pairing_list(env, ch, base, &r), OC_OK);
    cr_assert_eq(r.npairings, 1);
    SC_STR_EQ(r.pairings[0].code, "DURA0001");
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(env, ch, "acct", allowed), OC_OK);
    cr_assert_eq(sc_pairing_approve(env, ch, "dura0001", base, &r), OC_OK);
    sc_res_free(&r);
    cr_assert_eq(sc_allow_check(env, ch, "acct", sender), OC_OK);
    tidy(env, ida - 1, 0);
}

/* The child of acknowledged_commits_survive_kill_9: no Criterion calls,
 * only exit codes. */
#define KILL_N 40

typedef struct kill_s {
    int puts, commits;
    uint64_t ids[KILL_N];
} kill_t;

typedef struct kill_op_s {
    kill_t *k;
    int i;
} kill_op_t;

static void kill_put_cb(void *data, int32_t status, uint64_t id, int32_t dup)
{
    kill_op_t *op = data;
    if (status != OC_OK || dup != 0 || id == 0)
        _exit(5);
    op->k->ids[op->i] = id;
    op->k->puts++;
}

static void kill_commit_cb(void *data, int32_t status)
{
    kill_op_t *op = data;
    if (status != OC_OK)
        _exit(6);
    op->k->commits++;
}

static int kill_puts_done(void *arg)
{
    return ((kill_t *)arg)->puts >= KILL_N;
}

static int kill_commits_done(void *arg)
{
    return ((kill_t *)arg)->commits >= KILL_N;
}

static void kill_child(const sc_env_t *env, const char *key, const char *ch)
{
    const sc_backend_t *b = env->backend;
    oc_test_host_t *th = oc_test_host_new(b->yaml);
    if (th == NULL || oc_test_host_load(th, b->so_path) != OC_OK)
        _exit(2);
    const oc_storage_ops_t *ops = oc_test_host_kind_ops(th, b->plugin);
    void *st = oc_test_host_state(th, b->plugin);
    static kill_t k;
    static kill_op_t kops[KILL_N];
    for (int i = 0; i < KILL_N; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%d", i);
        kops[i] = (kill_op_t){&k, i};
        oc_inbox_item_t it = {.struct_size = sizeof it, .channel = ch, .account = "acct",
                              .message_id = msg, .envelope_json = "{}"};
        if (ops->inbox_put(st, &it, kill_put_cb, &kops[i]) != OC_PENDING)
            _exit(3);
    }
    if (!oc_test_host_run_until(th, kill_puts_done, &k, SC_TIMEOUT_MS))
        _exit(4);
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent};
    for (int i = 0; i < KILL_N; i++) {
        char okey[128], text[32];
        snprintf(okey, sizeof okey, "%s:kill:%d", env->ns, i);
        snprintf(text, sizeof text, "answer %d", i);
        oc_turn_t t = {.struct_size = sizeof t, .role = "assistant", .content = text};
        const oc_turn_t *tp[1] = {&t};
        oc_outbox_item_t o = out_item(okey, ch, text);
        const oc_outbox_item_t *op[1] = {&o};
        oc_commit_t c = {.struct_size = sizeof c, .session = &s, .session_key = key,
                         .turns = tp, .turn_count = 1, .inbox_done = &k.ids[i],
                         .inbox_done_count = 1, .outbox = op, .outbox_count = 1};
        if (ops->commit(st, &c, kill_commit_cb, &kops[i]) != OC_PENDING)
            _exit(7);
    }
    if (!oc_test_host_run_until(th, kill_commits_done, &k, SC_TIMEOUT_MS))
        _exit(8);
    /* Every commit was acknowledged: die without stopping anything. */
    kill(getpid(), SIGKILL);
    _exit(9);
}

void sc_case_acknowledged_commits_survive_kill_9(sc_env_t *env)
{
    if (!env->backend->persistent)
        cr_skip_test("%s does not persist across restarts", env->backend->plugin);
    char key[600], ch[64];
    sc_key(env, key, sizeof key, "killed");
    sc_chan(env, ch, sizeof ch, "telegram");
    sc_env_close(env);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        kill_child(env, key, ch);
    int wstatus = 0;
    cr_assert_eq(waitpid(pid, &wstatus, 0), pid);
    cr_assert(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL,
              "the child failed before the kill (exit %d)",
              WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    sc_env_reopen(env);

    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK, "the session was lost");
    cr_assert_eq(r.nturns, KILL_N, "%d commits acknowledged, %zu turns survived", KILL_N,
                 r.nturns);
    sc_res_free(&r);
    uint64_t first = 0;
    for (int i = 0; i < KILL_N; i++) {
        char msg[16];
        uint64_t id;
        int32_t dup;
        snprintf(msg, sizeof msg, "m%d", i);
        cr_assert_eq(sc_inbox_put(env, ch, "acct", msg, "{}", &id, &dup), OC_OK);
        cr_assert_eq(dup, 1, "accepted message %d was lost", i);
        if (i == 0)
            first = id;
    }
    scan_inbox(env, first - 1, 0, &r);
    cr_assert_eq(r.ninbox, 0, "%zu committed inbox items are pending again", r.ninbox);
    sc_res_free(&r);
    scan_outbox(env, 0, 0, &r);
    cr_assert_eq(r.noutbox, KILL_N, "%d replies committed, %zu survived", KILL_N, r.noutbox);
    sc_res_free(&r);
    tidy(env, first - 1, 0);
}

/* ---- throughput ------------------------------------------------------------- */

#define PIPE_N 10000
#define PIPE_SESSIONS 50

typedef struct pipe_s {
    int puts, commits, updates, failures;
    int32_t first_failure;
    uint64_t *ids;
} pipe_t;

typedef struct pipe_op_s {
    pipe_t *p;
    int i;
} pipe_op_t;

static void pipe_fail(pipe_t *p, int32_t status)
{
    if (p->failures++ == 0)
        p->first_failure = status;
}

static void pipe_put_cb(void *data, int32_t status, uint64_t id, int32_t dup)
{
    pipe_op_t *op = data;
    if (status != OC_OK || dup != 0)
        pipe_fail(op->p, status != OC_OK ? status : 1);
    op->p->ids[op->i] = id;
    op->p->puts++;
}

static void pipe_commit_cb(void *data, int32_t status)
{
    pipe_op_t *op = data;
    if (status != OC_OK)
        pipe_fail(op->p, status);
    op->p->commits++;
}

static void pipe_update_cb(void *data, int32_t status)
{
    pipe_t *p = data;
    if (status != OC_OK)
        pipe_fail(p, status);
    p->updates++;
}

static int pipe_puts(void *arg)
{
    return ((pipe_t *)arg)->puts >= PIPE_N;
}

static int pipe_commits(void *arg)
{
    return ((pipe_t *)arg)->commits >= PIPE_N;
}

static int pipe_updates(void *arg)
{
    return ((pipe_t *)arg)->updates >= PIPE_N;
}

/* The gateway's inbound path, 10k messages: accept (inbox_put), answer
 * (commit: session upsert, two turns, inbox done, one reply), deliver
 * (outbox_pending pages, outbox_update sent). Prints the rate. */
void sc_case_inbound_pipeline_10k_messages(sc_env_t *env)
{
    char ch[64], keys[PIPE_SESSIONS][600];
    sc_chan(env, ch, sizeof ch, "pipe");
    for (int s = 0; s < PIPE_SESSIONS; s++) {
        char sfx[24];
        snprintf(sfx, sizeof sfx, "pipe:direct:%d", s);
        sc_key(env, keys[s], sizeof keys[s], sfx);
    }
    pipe_t *p = calloc(1, sizeof *p);
    pipe_op_t *ops = calloc(PIPE_N, sizeof *ops);
    cr_assert(p != NULL && ops != NULL);
    p->ids = calloc(PIPE_N, sizeof *p->ids);
    cr_assert_not_null(p->ids);
    static const char envelope[] =
        "{\"channel\":\"pipe\",\"account\":\"acct\",\"peer_kind\":1,\"peer_id\":\"p\","
        "\"sender_id\":\"p\",\"sender_name\":\"Someone\",\"text\":\"hello there, how are "
        "you today?\",\"mentioned\":0}";

    uint64_t t0 = mono_ms();
    for (int i = 0; i < PIPE_N; i++) {
        char msg[24];
        snprintf(msg, sizeof msg, "msg-%d", i);
        ops[i] = (pipe_op_t){p, i};
        oc_inbox_item_t it = {.struct_size = sizeof it, .channel = ch, .account = "acct",
                              .message_id = msg, .envelope_json = envelope,
                              .received_ms = 1700000000000ull + (uint64_t)i};
        cr_assert_eq(env->ops->inbox_put(env->st, &it, pipe_put_cb, &ops[i]), OC_PENDING);
    }
    cr_assert(oc_test_host_run_until(env->th, pipe_puts, p, SC_TIMEOUT_MS * 2));
    cr_assert_eq(p->failures, 0, "inbox_put failed: %d", p->first_failure);
    uint64_t t1 = mono_ms();

    for (int i = 0; i < PIPE_N; i++) {
        int s = i % PIPE_SESSIONS;
        char msg[24], okey[96], reply[48];
        snprintf(msg, sizeof msg, "msg-%d", i);
        snprintf(okey, sizeof okey, "%s:pipe:%d", env->ns, i);
        snprintf(reply, sizeof reply, "answer to message %d", i);
        oc_session_t sess = {.struct_size = sizeof sess, .key = keys[s], .agent_id = env->agent,
                             .channel = "pipe", .meta_json = "{\"peer\":\"p\"}"};
        oc_turn_t t[2] = {
            {.struct_size = sizeof t[0], .role = "user", .content = "hello there, how are you?",
             .meta_json = "{\"msg\":1}"},
            {.struct_size = sizeof t[0], .role = "assistant", .content = reply},
        };
        const oc_turn_t *tp[2] = {&t[0], &t[1]};
        oc_outbox_item_t o = out_item(okey, ch, reply);
        o.in_reply_to = msg;
        const oc_outbox_item_t *op[1] = {&o};
        oc_commit_t c = {.struct_size = sizeof c, .session = &sess, .session_key = keys[s],
                         .turns = tp, .turn_count = 2, .inbox_done = &p->ids[i],
                         .inbox_done_count = 1, .outbox = op, .outbox_count = 1};
        cr_assert_eq(env->ops->commit(env->st, &c, pipe_commit_cb, &ops[i]), OC_PENDING);
    }
    cr_assert(oc_test_host_run_until(env->th, pipe_commits, p, SC_TIMEOUT_MS * 2));
    cr_assert_eq(p->failures, 0, "commit failed: %d", p->first_failure);
    uint64_t t2 = mono_ms();

    /* Deliver: page through the outbox, settle each reply as sent. */
    uint64_t after = 0;
    int ours = 0;
    for (;;) {
        sc_res_t r;
        cr_assert_eq(sc_outbox_pending(env, after, 1000, &r), OC_OK);
        for (size_t i = 0; i < r.noutbox; i++) {
            after = r.outbox[i].id;
            if (!is_ours(env, r.outbox[i].channel))
                continue;
            ours++;
            cr_assert_eq(env->ops->outbox_update(env->st, r.outbox[i].id, OC_OUTBOX_SENT, 1, 0,
                                                 NULL, pipe_update_cb, p),
                         OC_PENDING);
        }
        size_t n = r.noutbox;
        sc_res_free(&r);
        if (n < 1000)
            break;
    }
    cr_assert_eq(ours, PIPE_N, "%d of %d replies were pending", ours, PIPE_N);
    cr_assert(oc_test_host_run_until(env->th, pipe_updates, p, SC_TIMEOUT_MS * 2));
    cr_assert_eq(p->failures, 0, "outbox_update failed: %d", p->first_failure);
    uint64_t t3 = mono_ms();

    double total = (double)(t3 - t0) / 1000.0;
    fprintf(stderr,
            "[%s] %d inbound messages: inbox_put %llu ms, commit %llu ms, deliver %llu ms; "
            "%.0f messages/s end to end\n",
            env->backend->plugin, PIPE_N, (unsigned long long)(t1 - t0),
            (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2),
            total > 0 ? PIPE_N / total : 0.0);

    uint64_t first = p->ids[0];
    for (int i = 1; i < PIPE_N; i++)
        if (p->ids[i] < first)
            first = p->ids[i];
    free(p->ids);
    free(p);
    free(ops);
    sc_res_t r;
    scan_inbox(env, first - 1, 1000, &r);
    cr_assert_eq(r.ninbox, 0, "%zu answered messages are still pending", r.ninbox);
    sc_res_free(&r);
    scan_outbox(env, 0, 1000, &r);
    cr_assert_eq(r.noutbox, 0, "%zu delivered replies are still pending", r.noutbox);
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, keys[7], 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2 * PIPE_N / PIPE_SESSIONS);
    cr_assert_eq(r.turns[r.nturns - 1].seq, 2 * PIPE_N / PIPE_SESSIONS);
    sc_res_free(&r);
}
