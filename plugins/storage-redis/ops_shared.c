/* ops_shared.c - storage-redis: the ops of ABI 1.2 that let several
 * gateways share one store: leases, per-session inbox reads, outbox claims,
 * pruning. H only: validation and argument copies, as in ops.c. Expiries
 * are Redis key expiries (PX): the server's clock, never a gateway's. */
#include <stdlib.h>
#include <string.h>

#include "rd.h"

#define LEASE_TTL_MAX 86400000u /* leases and claims: a day at most */

static int name_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strnlen(s, RD_LEASE_NAME_MAX + 1) <= RD_LEASE_NAME_MAX;
}

typedef struct lease_in_s {
    const char *name, *holder;
    uint32_t ttl; /* 0: not an argument (release) */
} lease_in_t;

/* acquire ARGV: name, holder, ttl_ms; release ARGV: name, holder */
static void fill_lease(rd_args_t *a, const void *in)
{
    const lease_in_t *p = in;
    rd_arg_str(a, p->name);
    rd_arg_str(a, p->holder);
    if (p->ttl != 0)
        rd_arg_u64(a, p->ttl);
}

int32_t rd_lease_acquire(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                         oc_lease_cb cb, void *data)
{
    if (cb == NULL || !name_ok(name) || !name_ok(holder) || ttl_ms == 0 ||
        ttl_ms > LEASE_TTL_MAX)
        return OC_EINVAL;
    lease_in_t in = {name, holder, ttl_ms};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_LEASE_ACQUIRE, data, fill_lease, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.lease = cb;
    return rd_submit(state, op);
}

int32_t rd_lease_release(void *state, const char *name, const char *holder,
                         oc_storage_done_cb cb, void *data)
{
    if (cb == NULL || !name_ok(name) || !name_ok(holder))
        return OC_EINVAL;
    lease_in_t in = {name, holder, 0};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_LEASE_RELEASE, data, fill_lease, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}

typedef struct spend_in_s {
    const char *key;
    uint64_t after;
    uint32_t limit;
} spend_in_t;

/* ARGV: session_key, after_id, limit */
static void fill_session_pending(rd_args_t *a, const void *in)
{
    const spend_in_t *p = in;
    rd_arg_str(a, p->key);
    rd_arg_u64(a, p->after);
    rd_arg_u64(a, p->limit);
}

int32_t rd_inbox_session_pending(void *state, const char *session_key, uint64_t after_id,
                                 uint32_t limit, oc_inbox_list_cb cb, void *data)
{
    if (cb == NULL || !rd_key_ok(session_key))
        return OC_EINVAL;
    spend_in_t in = {session_key, after_id, limit != 0 ? limit : RD_LIST_DEFAULT};
    rd_op_t *op;
    int32_t rc =
        rd_prepare(state, RD_OP_INBOX_SESSION_PENDING, data, fill_session_pending, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.inbox_list = cb;
    return rd_submit(state, op);
}

typedef struct claim_in_s {
    uint64_t id;
    const char *holder;
    uint32_t ttl;
} claim_in_t;

/* ARGV: id, holder, ttl_ms */
static void fill_claim(rd_args_t *a, const void *in)
{
    const claim_in_t *p = in;
    rd_arg_u64(a, p->id);
    rd_arg_str(a, p->holder);
    rd_arg_u64(a, p->ttl);
}

int32_t rd_outbox_claim(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                        oc_outbox_item_cb cb, void *data)
{
    if (cb == NULL || !name_ok(holder) || ttl_ms == 0 || ttl_ms > LEASE_TTL_MAX)
        return OC_EINVAL;
    claim_in_t in = {id, holder, ttl_ms};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_OUTBOX_CLAIM, data, fill_claim, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.outbox_item = cb;
    return rd_submit(state, op);
}

/* ARGV: before_ms, batch size */
static void fill_prune(rd_args_t *a, const void *in)
{
    rd_arg_u64(a, *(const uint64_t *)in);
    rd_arg_u64(a, RD_PRUNE_BATCH);
}

int32_t rd_prune(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data)
{
    if (cb == NULL)
        return OC_EINVAL;
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_PRUNE, data, fill_prune, &before_ms, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}
