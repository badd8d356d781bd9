/* ops_shared.c - storage-sqlite: the ops of ABI 1.2 for several gateways on
 * one store (loop side): leases, per-session inbox reads, outbox claims and
 * pruning. Validation and argument copies, as in ops.c. One sqlite file is
 * shared only by gateways on one host, so the lease clock is that host's. */
#include <string.h>

#include "sq.h"

#define SQ_LEASE_NAME_MAX 255
#define SQ_LEASE_TTL_MAX 86400000u

static int name_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strnlen(s, SQ_LEASE_NAME_MAX + 1) <= SQ_LEASE_NAME_MAX;
}

/* lease_acquire, lease_release, outbox_claim: one block with the strings. */
static int32_t lease_op(sq_state_t *st, sq_op_kind_t kind, const char *name, const char *holder,
                        uint32_t ttl_ms, void *data, sq_op_t **out)
{
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(kind, data, 0, sq_str_size(name) + sq_str_size(holder), &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->in.lease.name = sq_arena_str(&cur, name);
    op->in.lease.holder = sq_arena_str(&cur, holder);
    op->in.lease.ttl_ms = ttl_ms;
    *out = op;
    return OC_OK;
}

int32_t sq_lease_acquire(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                         oc_lease_cb cb, void *data)
{
    if (cb == NULL || !name_ok(name) || !name_ok(holder) || ttl_ms == 0 ||
        ttl_ms > SQ_LEASE_TTL_MAX)
        return OC_EINVAL;
    sq_op_t *op;
    int32_t rc = lease_op(state, SQ_OP_LEASE_ACQUIRE, name, holder, ttl_ms, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.lease = cb;
    return sq_submit(state, op);
}

int32_t sq_lease_release(void *state, const char *name, const char *holder,
                         oc_storage_done_cb cb, void *data)
{
    if (cb == NULL || !name_ok(name) || !name_ok(holder))
        return OC_EINVAL;
    sq_op_t *op;
    int32_t rc = lease_op(state, SQ_OP_LEASE_RELEASE, name, holder, 0, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return sq_submit(state, op);
}

int32_t sq_outbox_claim(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                        oc_outbox_item_cb cb, void *data)
{
    if (cb == NULL || !name_ok(holder) || ttl_ms == 0 || ttl_ms > SQ_LEASE_TTL_MAX)
        return OC_EINVAL;
    sq_op_t *op;
    int32_t rc = lease_op(state, SQ_OP_OUTBOX_CLAIM, NULL, holder, ttl_ms, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.outbox_item = cb;
    op->in.lease.id = id;
    return sq_submit(state, op);
}

int32_t sq_inbox_session_pending(void *state, const char *session_key, uint64_t after_id,
                                 uint32_t limit, oc_inbox_list_cb cb, void *data)
{
    sq_state_t *st = state;
    if (cb == NULL || !sq_key_ok(session_key))
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_INBOX_SESSION_PENDING, data, 0, sq_str_size(session_key),
                            &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.inbox_list = cb;
    op->key = sq_arena_str(&cur, session_key);
    op->in.pending.after_id = after_id;
    op->in.pending.limit = limit != 0 ? limit : SQ_LIST_DEFAULT;
    return sq_submit(st, op);
}

int32_t sq_prune(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data)
{
    sq_state_t *st = state;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_PRUNE, data, 0, 0, &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    op->in.prune.before_ms = before_ms;
    return sq_submit(st, op);
}
