/* ops_messaging.c - storage-postgres: the inbox, outbox and commit ops of
 * ABI 1.1 (with 1.2's inbox session key and conditional commit).
 * Validation and statement parameters as in ops.c. Loop only.
 *
 * A commit is one round: every part is a statement of the same implicit
 * transaction, and the checks that must abort it (the session exists, the
 * inbox items are still pending) are openclaw_guard() calls that raise, so
 * the whole round rolls back and the error says which check failed. */
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define INBOX_MIN PG_MIN_SIZE(oc_inbox_item_t, received_ms)
#define INBOX_SESSION_MIN PG_MIN_SIZE(oc_inbox_item_t, session_key)
#define OUTBOX_MIN PG_MIN_SIZE(oc_outbox_item_t, next_attempt_ms)
#define COMMIT_MIN PG_MIN_SIZE(oc_commit_t, outbox_count)
#define COMMIT_FLAGS_MIN PG_MIN_SIZE(oc_commit_t, flags)
#define SESSION_MIN PG_MIN_SIZE(oc_session_t, updated_ms)
#define COMMIT_FLAGS_KNOWN OC_COMMIT_F_INBOX_PENDING
/* Far above any real commit; keeps array sizes from wrapping. */
#define ITEMS_MAX ((size_t)1 << 24)

/* ---- inbox ---------------------------------------------------------------- */

/* Round 1 inserted unless (channel, account, message_id) exists; round 2
 * (only on a conflict) reads the first id with a fresh snapshot, which sees
 * a row another connection committed while the insert waited for it. */
/* The insert (after its session lock) or the lookup: the round's last. */
static int fin_inbox_put(pg_op_t *op)
{
    const PGresult *r = op->res[op->nres - 1];
    if (PQntuples(r) == 1) {
        op->out.id = pg_u64(r, 0, 0);
        op->out.flag = op->in.step; /* found by the lookup: a duplicate */
        op->status = OC_OK;
        return PG_FIN_DONE;
    }
    /* The insert conflicted: look the row up (a read: it may come after
     * later ops). The lookup found nothing (the row was pruned since):
     * insert again, if that keeps the session's order. */
    if (op->attempts >= PG_RETRIES || (op->in.step == 1 && !pg_op_retry_ok(op))) {
        op->status = OC_EAGAIN;
        return PG_FIN_DONE;
    }
    op->attempts++;
    pg_op_clear_results(op);
    op->ncalls = 0;
    op->in.step = !op->in.step;
    pg_stmt_id_t next = op->in.step ? PG_ST_INBOX_FIND : PG_ST_INBOX_PUT;
    const char *skey = op->in.saved[5];
    const char **p;
    if (next == PG_ST_INBOX_PUT && skey != NULL && (p = pg_op_call(op, PG_ST_INBOX_LOCK)) != NULL)
        p[0] = skey;
    p = pg_op_call(op, next);
    if (p == NULL) {
        op->status = OC_ENOMEM;
        return PG_FIN_DONE;
    }
    memcpy(p, op->in.saved, (size_t)pg_stmts[next].nparams * sizeof *p);
    return PG_FIN_AGAIN;
}

int32_t pg_inbox_put(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb, void *data)
{
    pg_state_t *st = state;
    if (item == NULL || cb == NULL || item->struct_size < INBOX_MIN || item->channel == NULL ||
        item->account == NULL || item->message_id == NULL || item->envelope_json == NULL)
        return OC_EINVAL;
    const char *skey = item->struct_size >= INBOX_SESSION_MIN ? item->session_key : NULL;
    if (skey != NULL && !pg_key_ok(skey))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_INBOX_PUT, data, fin_inbox_put);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.inbox_put = cb;
    pg_arena_t *a = &op->arena;
    const char *key = pg_arena_str(a, skey);
    const char **p;
    if (key != NULL && (p = pg_op_call(op, PG_ST_INBOX_LOCK)) != NULL)
        p[0] = key;
    p = pg_op_call(op, PG_ST_INBOX_PUT);
    if (p != NULL) {
        p[0] = pg_arena_str(a, item->channel);
        p[1] = pg_arena_str(a, item->account);
        p[2] = pg_arena_str(a, item->message_id);
        p[3] = pg_arena_str(a, item->envelope_json);
        p[4] = pg_arena_u64(a, item->received_ms != 0 ? item->received_ms : op->now_ms);
        p[5] = key;
        op->in.saved = p; /* channel, account, message_id first: the lookup's too */
        /* With its session: ordered with that session's inbox reads and
         * commits (a read called after this put's callback sees it, a read
         * called before it answers before it). */
        op->key = p[5];
    }
    return pg_submit_checked(st, op);
}

static void *row_inbox(pg_op_t *op, const PGresult *r, int i)
{
    return pg_row_inbox(op, r, i);
}

static void *row_outbox(pg_op_t *op, const PGresult *r, int i)
{
    return pg_row_outbox(op, r, i, 0);
}

static int fin_inbox_list(pg_op_t *op)
{
    op->status = pg_rows(op, op->res[0], row_inbox);
    return PG_FIN_DONE;
}

static int fin_outbox_list(pg_op_t *op)
{
    op->status = pg_rows(op, op->res[0], row_outbox);
    return PG_FIN_DONE;
}

/* inbox_pending, outbox_pending: keyless reads of one statement. */
static int32_t pending_op(pg_state_t *st, pg_op_kind_t kind, pg_stmt_id_t stmt, pg_finish_fn fin,
                          uint64_t after_id, uint32_t limit, void *data, pg_op_t **out)
{
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(kind, data, fin);
    if (op == NULL)
        return OC_ENOMEM;
    const char **p = pg_op_call(op, stmt);
    if (p != NULL) {
        p[0] = pg_arena_u64(&op->arena, after_id);
        p[1] = pg_arena_u64(&op->arena, limit != 0 ? limit : PG_LIST_DEFAULT);
    }
    *out = op;
    return OC_OK;
}

int32_t pg_inbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                         void *data)
{
    pg_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = pending_op(state, PG_OP_INBOX_PENDING, PG_ST_INBOX_PENDING, fin_inbox_list,
                            after_id, limit, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.inbox_list = cb;
    return pg_submit_checked(state, op);
}

int32_t pg_outbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_outbox_list_cb cb,
                          void *data)
{
    pg_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = pending_op(state, PG_OP_OUTBOX_PENDING, PG_ST_OUTBOX_PENDING, fin_outbox_list,
                            after_id, limit, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.outbox_list = cb;
    return pg_submit_checked(state, op);
}

static int fin_one_row(pg_op_t *op)
{
    op->status = pg_cmd_rows(op->res[0]) > 0 ? OC_OK : OC_ENOENT;
    return PG_FIN_DONE;
}

static int state_ok(uint32_t s)
{
    return s == OC_OUTBOX_PENDING || s == OC_OUTBOX_SENT || s == OC_OUTBOX_FAILED;
}

int32_t pg_outbox_update(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error,
                         oc_storage_done_cb cb, void *data)
{
    pg_state_t *st = state;
    if (cb == NULL || !state_ok(new_state))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_OUTBOX_UPDATE, data, fin_one_row);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    op->key = pg_outbox_route_key(op, id);
    const char **p = pg_op_call(op, PG_ST_OUTBOX_UPDATE);
    if (p != NULL) {
        pg_arena_t *a = &op->arena;
        p[0] = pg_arena_u64(a, id);
        p[1] = pg_arena_u64(a, new_state);
        p[2] = pg_arena_u64(a, attempts);
        p[3] = pg_arena_u64(a, next_attempt_ms);
        p[4] = pg_arena_str(a, last_error);
    }
    return pg_submit_checked(st, op);
}

/* ---- commit ----------------------------------------------------------------- */

static int outbox_item_ok(const oc_outbox_item_t *o)
{
    return o != NULL && o->struct_size >= OUTBOX_MIN && o->idempotency_key != NULL &&
           o->channel != NULL && o->account != NULL && o->peer_id != NULL && o->text != NULL &&
           (o->peer_kind == OC_PEER_DIRECT || o->peer_kind == OC_PEER_GROUP);
}

static int32_t commit_check(const oc_commit_t *c)
{
    if (c->struct_size < COMMIT_MIN || c->turn_count > ITEMS_MAX ||
        c->inbox_done_count > ITEMS_MAX || c->outbox_count > ITEMS_MAX)
        return OC_EINVAL;
    if ((c->turn_count > 0 && c->turns == NULL) ||
        (c->inbox_done_count > 0 && c->inbox_done == NULL) ||
        (c->outbox_count > 0 && c->outbox == NULL))
        return OC_EINVAL;
    if (c->struct_size >= COMMIT_FLAGS_MIN && (c->flags & ~COMMIT_FLAGS_KNOWN) != 0)
        return OC_EINVAL; /* a flag this plugin cannot honour */
    const oc_session_t *s = c->session;
    if (s != NULL && (s->struct_size < SESSION_MIN || !pg_key_ok(s->key) || s->agent_id == NULL))
        return OC_EINVAL;
    /* A key is needed to touch the transcript; one given must be valid. */
    if ((c->turn_count > 0 || c->clear_transcript || c->session_key != NULL) &&
        !pg_key_ok(c->session_key))
        return OC_EINVAL;
    if (!pg_turns_ok(c->turns, c->turn_count))
        return OC_EINVAL;
    for (size_t i = 0; i < c->outbox_count; i++)
        if (!outbox_item_ok(c->outbox[i]))
            return OC_EINVAL;
    return OC_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The distinct inbox ids, sorted (rows are then locked in one order). */
static uint64_t *unique_ids(pg_op_t *op, const uint64_t *ids, size_t n, size_t *out)
{
    uint64_t *u = pg_arena_alloc(&op->arena, n * sizeof *u);
    if (u == NULL)
        return NULL;
    memcpy(u, ids, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || u[k - 1] != u[i])
            u[k++] = u[i];
    *out = k;
    return u;
}

static void outbox_arrays(pg_op_t *op, const char **p, const oc_outbox_item_t *const *items,
                          size_t n)
{
    pg_arena_t *a = &op->arena;
    const char **col[7]; /* key, channel, account, peer_id, text, in_reply_to, last_error */
    uint64_t *num[4];    /* peer_kind, attempts, created_ms, next_attempt_ms */
    for (int i = 0; i < 7; i++)
        if ((col[i] = pg_arena_alloc(a, n * sizeof *col[i])) == NULL)
            return;
    for (int i = 0; i < 4; i++)
        if ((num[i] = pg_arena_alloc(a, n * sizeof *num[i])) == NULL)
            return;
    for (size_t i = 0; i < n; i++) {
        const oc_outbox_item_t *o = items[i];
        col[0][i] = o->idempotency_key;
        col[1][i] = o->channel;
        col[2][i] = o->account;
        col[3][i] = o->peer_id;
        col[4][i] = o->text;
        col[5][i] = o->in_reply_to;
        col[6][i] = o->last_error;
        num[0][i] = o->peer_kind;
        num[1][i] = o->attempts;
        num[2][i] = o->created_ms != 0 ? o->created_ms : op->now_ms;
        num[3][i] = o->next_attempt_ms;
    }
    p[0] = pg_arena_text_array(a, col[0], n);
    p[1] = pg_arena_text_array(a, col[1], n);
    p[2] = pg_arena_text_array(a, col[2], n);
    p[3] = pg_arena_u64_array(a, num[0], n);
    p[4] = pg_arena_text_array(a, col[3], n);
    p[5] = pg_arena_text_array(a, col[4], n);
    p[6] = pg_arena_text_array(a, col[5], n);
    p[7] = pg_arena_u64_array(a, num[1], n);
    p[8] = pg_arena_text_array(a, col[6], n);
    p[9] = pg_arena_u64_array(a, num[2], n);
    p[10] = pg_arena_u64_array(a, num[3], n);
}

static int fin_commit(pg_op_t *op)
{
    op->status = OC_OK; /* a failed check raised, and the round rolled back */
    return PG_FIN_DONE;
}

/* The statements of one commit, in storage.h's order (the pending check
 * first: it is the cheapest way to fail). */
static void commit_build(pg_op_t *op, const oc_commit_t *c)
{
    pg_arena_t *a = &op->arena;
    const char **p;
    const char *key = pg_arena_str(a, c->session_key);
    const oc_session_t *s = c->session;
    const char *skey = s != NULL ? pg_arena_str(a, s->key) : NULL;
    if (s != NULL && (p = pg_op_call(op, PG_ST_SESSION_PUT)) != NULL) {
        p[0] = skey;
        p[1] = pg_arena_str(a, s->agent_id);
        p[2] = pg_arena_str(a, s->channel);
        p[3] = pg_arena_str(a, s->meta_json);
        p[4] = pg_arena_u64(a, s->created_ms != 0 ? s->created_ms : op->now_ms);
        p[5] = pg_arena_u64(a, s->updated_ms != 0 ? s->updated_ms : op->now_ms);
    }
    int guard = c->struct_size >= COMMIT_FLAGS_MIN && (c->flags & OC_COMMIT_F_INBOX_PENDING);
    size_t nids = 0;
    const char *ids = NULL;
    if (c->inbox_done_count > 0) {
        uint64_t *u = unique_ids(op, c->inbox_done, c->inbox_done_count, &nids);
        ids = u != NULL ? pg_arena_u64_array(a, u, nids) : NULL;
    }
    if (ids != NULL && guard && (p = pg_op_call(op, PG_ST_INBOX_DONE_GUARD)) != NULL) {
        p[0] = ids;
        p[1] = pg_arena_u64(a, nids);
    }
    if (c->clear_transcript) {
        if ((p = pg_op_call(op, PG_ST_CLEAR_GUARD)) != NULL) {
            p[0] = key;
            p[1] = pg_arena_u64(a, op->now_ms);
        }
        if ((p = pg_op_call(op, PG_ST_TURNS_DELETE)) != NULL)
            p[0] = key;
    }
    if (c->turn_count > 0 && (p = pg_op_call(op, PG_ST_APPEND_GUARD)) != NULL)
        pg_turn_arrays(op, p, key, c->turns, c->turn_count);
    if (ids != NULL && !guard && (p = pg_op_call(op, PG_ST_INBOX_DONE)) != NULL)
        p[0] = ids;
    if (c->outbox_count > 0 && (p = pg_op_call(op, PG_ST_OUTBOX_INSERT)) != NULL)
        outbox_arrays(op, p, c->outbox, c->outbox_count);
    /* Route with the session the commit is about (ordering with its other
     * ops); a commit of inbox states and replies only goes anywhere. */
    op->key = key != NULL ? key : skey;
}

int32_t pg_commit(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data)
{
    pg_state_t *st = state;
    if (c == NULL || cb == NULL || commit_check(c) != OC_OK)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_COMMIT, data, fin_commit);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    commit_build(op, c);
    return pg_submit_checked(st, op);
}
