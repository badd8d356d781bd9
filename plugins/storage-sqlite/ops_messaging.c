/* ops_messaging.c - storage-sqlite: the inbox, outbox and commit ops of ABI
 * 1.1 (loop side): validation and argument copies, as in ops.c. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

#define INBOX_MIN SQ_MIN_SIZE(oc_inbox_item_t, received_ms)
#define OUTBOX_MIN SQ_MIN_SIZE(oc_outbox_item_t, next_attempt_ms)
#define COMMIT_MIN SQ_MIN_SIZE(oc_commit_t, outbox_count)

/* Far above any real commit; keeps the size arithmetic below from wrapping. */
#define COMMIT_ITEMS_MAX ((size_t)1 << 24)

int32_t sq_inbox_put(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb, void *data)
{
    sq_state_t *st = state;
    if (item == NULL || cb == NULL || item->struct_size < INBOX_MIN || item->channel == NULL ||
        item->account == NULL || item->message_id == NULL || item->envelope_json == NULL)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    /* since 1.2: the session the message routes to */
    const char *skey = item->struct_size >= SQ_MIN_SIZE(oc_inbox_item_t, session_key)
                           ? item->session_key : NULL;
    if (skey != NULL && !sq_key_ok(skey))
        return OC_EINVAL;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_INBOX_PUT, data, 0,
                            sq_str_size(item->channel) + sq_str_size(item->account) +
                                sq_str_size(item->message_id) +
                                sq_str_size(item->envelope_json) + sq_str_size(skey),
                            &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.inbox_put = cb;
    op->in.inbox.channel = sq_arena_str(&cur, item->channel);
    op->in.inbox.account = sq_arena_str(&cur, item->account);
    op->in.inbox.message_id = sq_arena_str(&cur, item->message_id);
    op->in.inbox.envelope_json = sq_arena_str(&cur, item->envelope_json);
    op->in.inbox.session_key = sq_arena_str(&cur, skey);
    op->in.inbox.received_ms = item->received_ms != 0 ? item->received_ms : op->now_ms;
    return sq_submit(st, op);
}

/* inbox_pending and outbox_pending: the callback is set by the caller. */
static int32_t pending_op(sq_state_t *st, sq_op_kind_t kind, uint64_t after_id, uint32_t limit,
                          void *data, sq_op_t **out)
{
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(kind, data, 0, 0, &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->in.pending.after_id = after_id;
    op->in.pending.limit = limit != 0 ? limit : SQ_LIST_DEFAULT;
    *out = op;
    return OC_OK;
}

int32_t sq_inbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                         void *data)
{
    sq_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = pending_op(state, SQ_OP_INBOX_PENDING, after_id, limit, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.inbox_list = cb;
    return sq_submit(state, op);
}

int32_t sq_outbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_outbox_list_cb cb,
                          void *data)
{
    sq_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = pending_op(state, SQ_OP_OUTBOX_PENDING, after_id, limit, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.outbox_list = cb;
    return sq_submit(state, op);
}

static int state_ok(uint32_t s)
{
    return s == OC_OUTBOX_PENDING || s == OC_OUTBOX_SENT || s == OC_OUTBOX_FAILED;
}

int32_t sq_outbox_update(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error,
                         oc_storage_done_cb cb, void *data)
{
    sq_state_t *st = state;
    if (cb == NULL || !state_ok(new_state))
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_OUTBOX_UPDATE, data, 0, sq_str_size(last_error), &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    op->in.outbox_update.id = id;
    op->in.outbox_update.state = new_state;
    op->in.outbox_update.attempts = attempts;
    op->in.outbox_update.next_attempt_ms = next_attempt_ms;
    op->in.outbox_update.last_error = sq_arena_str(&cur, last_error);
    return sq_submit(st, op);
}

/* ---- commit ------------------------------------------------------------- */

static int outbox_item_ok(const oc_outbox_item_t *o)
{
    return o != NULL && o->struct_size >= OUTBOX_MIN && o->idempotency_key != NULL &&
           o->channel != NULL && o->account != NULL && o->peer_id != NULL &&
           o->text != NULL && (o->peer_kind == OC_PEER_DIRECT || o->peer_kind == OC_PEER_GROUP);
}

static size_t outbox_strings(const oc_outbox_item_t *o)
{
    return sq_str_size(o->idempotency_key) + sq_str_size(o->channel) +
           sq_str_size(o->account) + sq_str_size(o->peer_id) + sq_str_size(o->text) +
           sq_str_size(o->in_reply_to) + sq_str_size(o->last_error);
}

static size_t session_strings(const oc_session_t *s)
{
    return sq_str_size(s->key) + sq_str_size(s->agent_id) + sq_str_size(s->channel) +
           sq_str_size(s->meta_json);
}

/* Checks everything commit reads; sets *strings to the bytes of its
 * strings. OC_OK or OC_EINVAL. */
static int32_t commit_check(const oc_commit_t *c, size_t *strings)
{
    if (c->struct_size < COMMIT_MIN || c->turn_count > COMMIT_ITEMS_MAX ||
        c->inbox_done_count > COMMIT_ITEMS_MAX || c->outbox_count > COMMIT_ITEMS_MAX)
        return OC_EINVAL;
    if (c->struct_size >= SQ_MIN_SIZE(oc_commit_t, flags) &&
        (c->flags & ~OC_COMMIT_F_INBOX_PENDING) != 0)
        return OC_EINVAL; /* a flag this plugin does not know */
    if ((c->turn_count > 0 && c->turns == NULL) ||
        (c->inbox_done_count > 0 && c->inbox_done == NULL) ||
        (c->outbox_count > 0 && c->outbox == NULL))
        return OC_EINVAL;
    size_t n = 0;
    const oc_session_t *s = c->session;
    if (s != NULL) {
        if (s->struct_size < SQ_SESSION_MIN || !sq_key_ok(s->key) || s->agent_id == NULL)
            return OC_EINVAL;
        n += session_strings(s);
    }
    /* A key is needed to touch the transcript; one given must be valid. */
    if (c->turn_count > 0 || c->clear_transcript || c->session_key != NULL) {
        if (!sq_key_ok(c->session_key))
            return OC_EINVAL;
        n += sq_str_size(c->session_key);
    }
    for (size_t i = 0; i < c->turn_count; i++) {
        const oc_turn_t *t = c->turns[i];
        if (t == NULL || t->struct_size < SQ_TURN_MIN || sq_role_static(t->role) == NULL ||
            t->content == NULL)
            return OC_EINVAL;
        n += sq_str_size(t->content) + sq_str_size(t->meta_json);
    }
    for (size_t i = 0; i < c->outbox_count; i++) {
        if (!outbox_item_ok(c->outbox[i]))
            return OC_EINVAL;
        n += outbox_strings(c->outbox[i]);
    }
    *strings = n;
    return OC_OK;
}

static void copy_outbox(sq_outbox_in_t *d, const oc_outbox_item_t *o, char **cur,
                        uint64_t now_ms)
{
    d->key = sq_arena_str(cur, o->idempotency_key);
    d->channel = sq_arena_str(cur, o->channel);
    d->account = sq_arena_str(cur, o->account);
    d->peer_id = sq_arena_str(cur, o->peer_id);
    d->text = sq_arena_str(cur, o->text);
    d->in_reply_to = sq_arena_str(cur, o->in_reply_to);
    d->last_error = sq_arena_str(cur, o->last_error);
    d->peer_kind = o->peer_kind;
    d->attempts = o->attempts;
    d->created_ms = o->created_ms != 0 ? o->created_ms : now_ms;
    d->next_attempt_ms = o->next_attempt_ms;
}

int32_t sq_commit(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data)
{
    sq_state_t *st = state;
    size_t strings;
    if (c == NULL || cb == NULL || commit_check(c, &strings) != OC_OK)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    /* The arrays first (all 8-byte multiples), then the strings. */
    size_t turns_sz = c->turn_count * sizeof(sq_turn_in_t);
    size_t outbox_sz = c->outbox_count * sizeof(sq_outbox_in_t);
    size_t done_sz = c->inbox_done_count * sizeof(uint64_t);
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_COMMIT, data, turns_sz + outbox_sz + done_sz, strings, &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    char *arrays = (char *)(op + 1);
    op->in.commit.clear = c->clear_transcript != 0;
    const oc_session_t *s = c->session;
    if (s != NULL) {
        sq_session_in_t *d = &op->in.commit.session;
        d->key = sq_arena_str(&cur, s->key);
        d->agent_id = sq_arena_str(&cur, s->agent_id);
        d->channel = sq_arena_str(&cur, s->channel);
        d->meta_json = sq_arena_str(&cur, s->meta_json);
        d->created_ms = s->created_ms != 0 ? s->created_ms : op->now_ms;
        d->updated_ms = s->updated_ms != 0 ? s->updated_ms : op->now_ms;
    }
    op->key = sq_arena_str(&cur, c->session_key);

    sq_turn_in_t *turns = (sq_turn_in_t *)arrays;
    for (size_t i = 0; i < c->turn_count; i++) {
        const oc_turn_t *t = c->turns[i];
        turns[i].role = sq_role_static(t->role);
        turns[i].content = sq_arena_str(&cur, t->content);
        turns[i].meta_json = sq_arena_str(&cur, t->meta_json);
        turns[i].created_ms = t->created_ms != 0 ? t->created_ms : op->now_ms;
    }
    op->in.commit.turns = turns;
    op->in.commit.turn_count = c->turn_count;

    sq_outbox_in_t *outbox = (sq_outbox_in_t *)(arrays + turns_sz);
    for (size_t i = 0; i < c->outbox_count; i++)
        copy_outbox(&outbox[i], c->outbox[i], &cur, op->now_ms);
    op->in.commit.outbox = outbox;
    op->in.commit.outbox_count = c->outbox_count;

    uint64_t *done = (uint64_t *)(arrays + turns_sz + outbox_sz);
    if (done_sz > 0)
        memcpy(done, c->inbox_done, done_sz);
    op->in.commit.inbox_done = done;
    op->in.commit.inbox_done_count = c->inbox_done_count;
    op->in.commit.flags =
        c->struct_size >= SQ_MIN_SIZE(oc_commit_t, flags) ? c->flags : 0; /* since 1.2 */
    return sq_submit(st, op);
}
