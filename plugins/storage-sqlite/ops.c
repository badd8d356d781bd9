/* ops.c - storage-sqlite: the storage operations of the ABI (the 1.0 ones
 * here, the 1.1 ones in ops_messaging.c and ops_pairing.c).
 *
 * Each operation validates its arguments (OC_EINVAL at once, callback never
 * called), copies them into one op block (callers' pointers are borrowed for
 * the call only) and hands the op to the queue. Results come back in the op
 * and are given to the callback as borrowed pointers, then freed. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

#define SQ_QUERY_MIN (offsetof(oc_session_query_t, key_prefix) + sizeof(const char *))

static const char *const sq_roles[] = {"system", "user", "assistant", "tool"};

const char *sq_role_static(const char *role)
{
    if (role == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof sq_roles / sizeof sq_roles[0]; i++)
        if (strcmp(role, sq_roles[i]) == 0)
            return sq_roles[i];
    return NULL;
}

int sq_key_ok(const char *key)
{
    if (key == NULL || key[0] == '\0')
        return 0;
    return strnlen(key, SQ_KEY_MAX + 1) <= SQ_KEY_MAX;
}

const char *sq_op_name(sq_op_kind_t kind)
{
    static const char *const names[SQ_OP__COUNT] = {
        [SQ_OP_PUT] = "session_put",         [SQ_OP_GET] = "session_get",
        [SQ_OP_LIST] = "session_list",       [SQ_OP_DELETE] = "session_delete",
        [SQ_OP_APPEND] = "transcript_append", [SQ_OP_READ] = "transcript_read",
        [SQ_OP_CLEAR] = "transcript_clear",
        [SQ_OP_INBOX_PUT] = "inbox_put",     [SQ_OP_INBOX_PENDING] = "inbox_pending",
        [SQ_OP_COMMIT] = "commit",           [SQ_OP_OUTBOX_PENDING] = "outbox_pending",
        [SQ_OP_OUTBOX_UPDATE] = "outbox_update",
        [SQ_OP_PAIRING_REQUEST] = "pairing_request",
        [SQ_OP_PAIRING_LIST] = "pairing_list",
        [SQ_OP_PAIRING_APPROVE] = "pairing_approve",
        [SQ_OP_ALLOW_ADD] = "allow_add",     [SQ_OP_ALLOW_CHECK] = "allow_check",
        [SQ_OP_LEASE_ACQUIRE] = "lease_acquire", [SQ_OP_LEASE_RELEASE] = "lease_release",
        [SQ_OP_INBOX_SESSION_PENDING] = "inbox_session_pending",
        [SQ_OP_OUTBOX_CLAIM] = "outbox_claim", [SQ_OP_PRUNE] = "prune",
    };
    return (unsigned)kind < SQ_OP__COUNT ? names[kind] : "unknown";
}

/* ---- op blocks --------------------------------------------------------- */

size_t sq_str_size(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

const char *sq_arena_str(char **cur, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = *cur;
    memcpy(d, s, n);
    *cur += n;
    return d;
}

/* The op is sizeof-aligned (it holds uint64_t), so what follows it is too;
 * callers keep `pre` a multiple of 8. */
sq_op_t *sq_op_new(sq_op_kind_t kind, void *data, size_t pre, size_t strings, char **cur)
{
    sq_op_t *op = calloc(1, sizeof(sq_op_t) + pre + strings);
    if (op == NULL)
        return NULL;
    op->kind = kind;
    op->data = data;
    op->status = OC_EINTERNAL;
    op->t0_ns = sq_mono_ns();
    op->now_ms = sq_wall_ms();
    *cur = (char *)(op + 1) + pre;
    return op;
}

void sq_op_drop_results(sq_op_t *op)
{
    free(op->out.row);
    for (size_t i = 0; i < op->out.count; i++)
        free(op->out.rows[i]);
    free(op->out.rows);
    memset(&op->out, 0, sizeof op->out);
}

void sq_op_free(sq_op_t *op)
{
    if (op == NULL)
        return;
    sq_op_drop_results(op);
    free(op);
}

void sq_op_deliver(sq_op_t *op)
{
    int ok = op->status == OC_OK;
    void *row = ok ? op->out.row : NULL;
    const void *const *rows = ok ? (const void *const *)op->out.rows : NULL;
    size_t count = ok ? op->out.count : 0;
    /* A successful list of nothing still passes an array (never NULL). */
    static const void *const none[1] = {NULL};
    if (ok && rows == NULL)
        rows = none;
    switch (op->kind) {
    case SQ_OP_PUT:
    case SQ_OP_DELETE:
    case SQ_OP_CLEAR:
    case SQ_OP_COMMIT:
    case SQ_OP_OUTBOX_UPDATE:
    case SQ_OP_ALLOW_ADD:
    case SQ_OP_ALLOW_CHECK:
    case SQ_OP_LEASE_RELEASE:
    case SQ_OP_PRUNE:
        op->cb.done(op->data, op->status);
        break;
    case SQ_OP_LEASE_ACQUIRE: /* the lease also with OC_EBUSY: who holds it */
        op->cb.lease(op->data, op->status,
                     ok || op->status == OC_EBUSY ? op->out.row : NULL);
        break;
    case SQ_OP_OUTBOX_CLAIM: /* the item also when it is no longer pending */
        op->cb.outbox_item(op->data, op->status,
                           ok || op->status == OC_EEXIST || op->status == OC_EBUSY
                               ? op->out.row : NULL);
        break;
    case SQ_OP_GET:
        op->cb.session(op->data, op->status, row);
        break;
    case SQ_OP_LIST:
        op->cb.list(op->data, op->status, (const oc_session_t *const *)rows, count);
        break;
    case SQ_OP_APPEND:
        op->cb.append(op->data, op->status, ok ? op->out.id : 0);
        break;
    case SQ_OP_READ:
        op->cb.turns(op->data, op->status, (const oc_turn_t *const *)rows, count);
        break;
    case SQ_OP_INBOX_PUT:
        op->cb.inbox_put(op->data, op->status, ok ? op->out.id : 0, ok ? op->out.flag : 0);
        break;
    case SQ_OP_INBOX_PENDING:
    case SQ_OP_INBOX_SESSION_PENDING:
        op->cb.inbox_list(op->data, op->status, (const oc_inbox_item_t *const *)rows, count);
        break;
    case SQ_OP_OUTBOX_PENDING:
        op->cb.outbox_list(op->data, op->status, (const oc_outbox_item_t *const *)rows, count);
        break;
    case SQ_OP_PAIRING_REQUEST:
    case SQ_OP_PAIRING_APPROVE:
        op->cb.pairing(op->data, op->status, row, ok ? op->out.flag : 0);
        break;
    case SQ_OP_PAIRING_LIST:
        op->cb.pairing_list(op->data, op->status, (const oc_pairing_t *const *)rows, count);
        break;
    default:
        break;
    }
}

/* Whether the instance takes new ops, as the status to return at once. */
int32_t sq_accepting(const sq_state_t *st)
{
    if (st->stopping || st->phase == SQ_PHASE_CLOSED)
        return OC_ECANCELED;
    switch (st->phase) {
    case SQ_PHASE_NEW:
        return OC_EAGAIN; /* storage is available from start on */
    case SQ_PHASE_FAILED:
        return OC_EUNAVAIL; /* health says why */
    default:
        return OC_OK;
    }
}

int32_t sq_submit(sq_state_t *st, sq_op_t *op)
{
    int32_t rc = sq_queue_push(st, op);
    if (rc != OC_PENDING)
        sq_op_free(op);
    return rc;
}

/* ---- the operations ---------------------------------------------------- */

static int32_t sq_session_put(void *state, const oc_session_t *s, oc_storage_done_cb cb,
                              void *data)
{
    sq_state_t *st = state;
    if (s == NULL || cb == NULL || s->struct_size < SQ_SESSION_MIN || !sq_key_ok(s->key) ||
        s->agent_id == NULL)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_PUT, data, 0,
                            sq_str_size(s->key) + sq_str_size(s->agent_id) +
                                sq_str_size(s->channel) + sq_str_size(s->meta_json),
                            &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    op->key = sq_arena_str(&cur, s->key);
    op->in.put.key = op->key;
    op->in.put.agent_id = sq_arena_str(&cur, s->agent_id);
    op->in.put.channel = sq_arena_str(&cur, s->channel);
    op->in.put.meta_json = sq_arena_str(&cur, s->meta_json);
    op->in.put.created_ms = s->created_ms != 0 ? s->created_ms : op->now_ms;
    op->in.put.updated_ms = s->updated_ms != 0 ? s->updated_ms : op->now_ms;
    return sq_submit(st, op);
}

/* get, delete, clear: a key and a callback. */
static int32_t sq_key_op(sq_state_t *st, sq_op_kind_t kind, const char *key, sq_op_t **out,
                         void *data)
{
    if (!sq_key_ok(key))
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(kind, data, 0, sq_str_size(key), &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->key = sq_arena_str(&cur, key);
    *out = op;
    return OC_OK;
}

static int32_t sq_session_get(void *state, const char *key, oc_session_cb cb, void *data)
{
    sq_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_key_op(state, SQ_OP_GET, key, &op, data);
    if (rc != OC_OK)
        return rc;
    op->cb.session = cb;
    return sq_submit(state, op);
}

static int32_t sq_session_delete(void *state, const char *key, oc_storage_done_cb cb, void *data)
{
    sq_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_key_op(state, SQ_OP_DELETE, key, &op, data);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return sq_submit(state, op);
}

static int32_t sq_transcript_clear(void *state, const char *key, oc_storage_done_cb cb,
                                   void *data)
{
    sq_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_key_op(state, SQ_OP_CLEAR, key, &op, data);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return sq_submit(state, op);
}

static int32_t sq_transcript_read(void *state, const char *key, uint32_t limit, oc_turns_cb cb,
                                  void *data)
{
    sq_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_key_op(state, SQ_OP_READ, key, &op, data);
    if (rc != OC_OK)
        return rc;
    op->cb.turns = cb;
    op->in.read.limit = limit;
    return sq_submit(state, op);
}

/* q may be NULL: every session, newest first, at most 100. */
static int32_t sq_session_list(void *state, const oc_session_query_t *q, oc_session_list_cb cb,
                               void *data)
{
    sq_state_t *st = state;
    if (cb == NULL || (q != NULL && q->struct_size < SQ_QUERY_MIN))
        return OC_EINVAL;
    const char *agent = q != NULL ? q->agent_id : NULL;
    const char *prefix = q != NULL && q->key_prefix != NULL && q->key_prefix[0] != '\0'
                             ? q->key_prefix
                             : NULL;
    if (prefix != NULL && strnlen(prefix, SQ_KEY_MAX + 1) > SQ_KEY_MAX)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op =
        sq_op_new(SQ_OP_LIST, data, 0, sq_str_size(agent) + sq_str_size(prefix), &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.list = cb;
    op->in.list.limit = q != NULL && q->limit != 0 ? q->limit : SQ_LIST_DEFAULT;
    op->in.list.agent_id = sq_arena_str(&cur, agent);
    op->in.list.prefix = sq_arena_str(&cur, prefix);
    return sq_submit(st, op);
}

static int32_t sq_transcript_append(void *state, const char *key, const oc_turn_t *const *turns,
                                    size_t count, oc_append_cb cb, void *data)
{
    sq_state_t *st = state;
    if (cb == NULL || !sq_key_ok(key) || turns == NULL || count == 0 ||
        count > SIZE_MAX / sizeof(sq_turn_in_t) / 2)
        return OC_EINVAL;
    size_t strings = sq_str_size(key);
    for (size_t i = 0; i < count; i++) {
        const oc_turn_t *t = turns[i];
        if (t == NULL || t->struct_size < SQ_TURN_MIN || sq_role_static(t->role) == NULL ||
            t->content == NULL)
            return OC_EINVAL;
        strings += sq_str_size(t->content) + sq_str_size(t->meta_json);
    }
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_APPEND, data, count * sizeof(sq_turn_in_t), strings, &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.append = cb;
    op->key = sq_arena_str(&cur, key);
    op->in.append.turns = (sq_turn_in_t *)(op + 1);
    op->in.append.count = count;
    for (size_t i = 0; i < count; i++) {
        const oc_turn_t *t = turns[i];
        sq_turn_in_t *d = &op->in.append.turns[i];
        d->role = sq_role_static(t->role);
        d->content = sq_arena_str(&cur, t->content);
        d->meta_json = sq_arena_str(&cur, t->meta_json);
        d->created_ms = t->created_ms != 0 ? t->created_ms : op->now_ms;
    }
    return sq_submit(st, op);
}

const oc_storage_ops_t sq_storage_ops = {
    OC_STORAGE_OPS_INIT,
    .health = sq_storage_health,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_list = sq_session_list,
    .session_delete = sq_session_delete,
    .transcript_append = sq_transcript_append,
    .transcript_read = sq_transcript_read,
    .transcript_clear = sq_transcript_clear,
    .inbox_put = sq_inbox_put,
    .inbox_pending = sq_inbox_pending,
    .commit = sq_commit,
    .outbox_pending = sq_outbox_pending,
    .outbox_update = sq_outbox_update,
    .pairing_request = sq_pairing_request,
    .pairing_list = sq_pairing_list,
    .pairing_approve = sq_pairing_approve,
    .allow_add = sq_allow_add,
    .allow_check = sq_allow_check,
    .lease_acquire = sq_lease_acquire,
    .lease_release = sq_lease_release,
    .inbox_session_pending = sq_inbox_session_pending,
    .outbox_claim = sq_outbox_claim,
    .prune = sq_prune,
};
