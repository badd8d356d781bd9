/* ops_messaging.c - storage-redis: the inbox, outbox and commit ops of ABI
 * 1.1 (and commit's 1.2 flag). H only: validation and argument copies, as
 * in ops.c. */
#include <stdlib.h>
#include <string.h>

#include "rd.h"

#define INBOX_MIN RD_MIN_SIZE(oc_inbox_item_t, received_ms)
#define INBOX_KEY_MIN RD_MIN_SIZE(oc_inbox_item_t, session_key)
#define OUTBOX_MIN RD_MIN_SIZE(oc_outbox_item_t, next_attempt_ms)
#define SESSION_MIN RD_MIN_SIZE(oc_session_t, updated_ms)
#define COMMIT_MIN RD_MIN_SIZE(oc_commit_t, outbox_count)
#define COMMIT_FLAGS_MIN RD_MIN_SIZE(oc_commit_t, flags)
#define COMMIT_FLAGS_KNOWN OC_COMMIT_F_INBOX_PENDING

/* Far above any real commit; keeps the argument arithmetic from wrapping. */
#define COMMIT_ITEMS_MAX ((size_t)1 << 24)

/* ---- inbox_put ------------------------------------------------------------- */

typedef struct inbox_in_s {
    const oc_inbox_item_t *it;
    const char *session_key;
    uint64_t now;
} inbox_in_t;

/* ARGV: channel, account, message_id, envelope, received_ms, session_key? */
static void fill_inbox(rd_args_t *a, const void *in)
{
    const inbox_in_t *p = in;
    rd_arg_str(a, p->it->channel);
    rd_arg_str(a, p->it->account);
    rd_arg_str(a, p->it->message_id);
    rd_arg_str(a, p->it->envelope_json);
    rd_arg_u64(a, p->it->received_ms != 0 ? p->it->received_ms : p->now);
    rd_arg_opt(a, p->session_key);
}

int32_t rd_inbox_put(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb, void *data)
{
    if (item == NULL || cb == NULL || item->struct_size < INBOX_MIN || item->channel == NULL ||
        item->account == NULL || item->message_id == NULL || item->envelope_json == NULL)
        return OC_EINVAL;
    /* session_key came with 1.2: a smaller item has none. */
    const char *skey = item->struct_size >= INBOX_KEY_MIN ? item->session_key : NULL;
    if (skey != NULL && !rd_key_ok(skey))
        return OC_EINVAL;
    inbox_in_t in = {item, skey, rd_wall_ms()};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_INBOX_PUT, data, fill_inbox, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.inbox_put = cb;
    return rd_submit(state, op);
}

/* ---- inbox_pending, outbox_pending ----------------------------------------- */

typedef struct page_in_s {
    uint64_t after;
    uint32_t limit;
} page_in_t;

/* ARGV: after_id, limit */
static void fill_page(rd_args_t *a, const void *in)
{
    const page_in_t *p = in;
    rd_arg_u64(a, p->after);
    rd_arg_u64(a, p->limit);
}

int32_t rd_inbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                         void *data)
{
    if (cb == NULL)
        return OC_EINVAL;
    page_in_t in = {after_id, limit != 0 ? limit : RD_LIST_DEFAULT};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_INBOX_PENDING, data, fill_page, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.inbox_list = cb;
    return rd_submit(state, op);
}

int32_t rd_outbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_outbox_list_cb cb,
                          void *data)
{
    if (cb == NULL)
        return OC_EINVAL;
    page_in_t in = {after_id, limit != 0 ? limit : RD_LIST_DEFAULT};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_OUTBOX_PENDING, data, fill_page, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.outbox_list = cb;
    return rd_submit(state, op);
}

/* ---- outbox_update --------------------------------------------------------- */

typedef struct update_in_s {
    uint64_t id, next;
    uint32_t state, attempts;
    const char *error;
} update_in_t;

/* ARGV: id, state, attempts, next_attempt_ms, last_error? */
static void fill_update(rd_args_t *a, const void *in)
{
    const update_in_t *u = in;
    rd_arg_u64(a, u->id);
    rd_arg_u64(a, u->state);
    rd_arg_u64(a, u->attempts);
    rd_arg_u64(a, u->next);
    rd_arg_opt(a, u->error);
}

int32_t rd_outbox_update(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error,
                         oc_storage_done_cb cb, void *data)
{
    if (cb == NULL || (new_state != OC_OUTBOX_PENDING && new_state != OC_OUTBOX_SENT &&
                       new_state != OC_OUTBOX_FAILED))
        return OC_EINVAL;
    update_in_t in = {id, next_attempt_ms, new_state, attempts, last_error};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_OUTBOX_UPDATE, data, fill_update, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}

/* ---- commit ---------------------------------------------------------------- */

static int outbox_item_ok(const oc_outbox_item_t *o)
{
    return o != NULL && o->struct_size >= OUTBOX_MIN && o->idempotency_key != NULL &&
           o->channel != NULL && o->account != NULL && o->peer_id != NULL && o->text != NULL &&
           (o->peer_kind == OC_PEER_DIRECT || o->peer_kind == OC_PEER_GROUP);
}

/* Everything commit reads, as storage.h states it. */
static int commit_ok(const oc_commit_t *c, uint32_t *flags)
{
    if (c->struct_size < COMMIT_MIN || c->turn_count > COMMIT_ITEMS_MAX ||
        c->inbox_done_count > COMMIT_ITEMS_MAX || c->outbox_count > COMMIT_ITEMS_MAX)
        return 0;
    *flags = c->struct_size >= COMMIT_FLAGS_MIN ? c->flags : 0;
    if ((*flags & ~COMMIT_FLAGS_KNOWN) != 0)
        return 0; /* a flag this plugin does not implement must not be ignored */
    if ((c->turn_count > 0 && c->turns == NULL) ||
        (c->inbox_done_count > 0 && c->inbox_done == NULL) ||
        (c->outbox_count > 0 && c->outbox == NULL))
        return 0;
    const oc_session_t *s = c->session;
    if (s != NULL && (s->struct_size < SESSION_MIN || !rd_key_ok(s->key) || s->agent_id == NULL))
        return 0;
    /* A key is needed to touch the transcript; one given must be valid. */
    if ((c->turn_count > 0 || c->clear_transcript || c->session_key != NULL) &&
        !rd_key_ok(c->session_key))
        return 0;
    if (!rd_turns_ok(c->turns, c->turn_count))
        return 0;
    for (size_t i = 0; i < c->outbox_count; i++)
        if (!outbox_item_ok(c->outbox[i]))
            return 0;
    return 1;
}

typedef struct commit_in_s {
    const oc_commit_t *c;
    uint32_t flags;
    uint64_t now;
} commit_in_t;

/* ARGV: pending_only, clear, now, session_key?, has_session, the session
 * (key, agent, channel?, meta?, created, updated; placeholders without
 * one), turn count, turns (4 each), inbox count, inbox ids, outbox count,
 * outbox items (11 each). */
static void fill_commit(rd_args_t *a, const void *in)
{
    const commit_in_t *p = in;
    const oc_commit_t *c = p->c;
    rd_arg_bool(a, (p->flags & OC_COMMIT_F_INBOX_PENDING) != 0);
    rd_arg_bool(a, c->clear_transcript != 0);
    rd_arg_u64(a, p->now);
    rd_arg_opt(a, c->session_key);
    const oc_session_t *s = c->session;
    rd_arg_bool(a, s != NULL);
    rd_arg_str(a, s != NULL ? s->key : "");
    rd_arg_str(a, s != NULL ? s->agent_id : "");
    rd_arg_opt(a, s != NULL ? s->channel : NULL);
    rd_arg_opt(a, s != NULL ? s->meta_json : NULL);
    rd_arg_u64(a, s != NULL && s->created_ms != 0 ? s->created_ms : p->now);
    rd_arg_u64(a, s != NULL && s->updated_ms != 0 ? s->updated_ms : p->now);
    rd_arg_u64(a, c->turn_count);
    rd_fill_turns(a, c->turns, c->turn_count, p->now);
    rd_arg_u64(a, c->inbox_done_count);
    for (size_t i = 0; i < c->inbox_done_count; i++)
        rd_arg_u64(a, c->inbox_done[i]);
    rd_arg_u64(a, c->outbox_count);
    for (size_t i = 0; i < c->outbox_count; i++) {
        const oc_outbox_item_t *o = c->outbox[i];
        rd_arg_str(a, o->idempotency_key);
        rd_arg_str(a, o->channel);
        rd_arg_str(a, o->account);
        rd_arg_u64(a, o->peer_kind);
        rd_arg_str(a, o->peer_id);
        rd_arg_str(a, o->text);
        rd_arg_opt(a, o->in_reply_to);
        rd_arg_opt(a, o->last_error);
        rd_arg_u64(a, o->attempts);
        rd_arg_u64(a, o->created_ms != 0 ? o->created_ms : p->now);
        rd_arg_u64(a, o->next_attempt_ms);
    }
}

int32_t rd_commit(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data)
{
    uint32_t flags = 0;
    if (c == NULL || cb == NULL || !commit_ok(c, &flags))
        return OC_EINVAL;
    commit_in_t in = {c, flags, rd_wall_ms()};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_COMMIT, data, fill_commit, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}
