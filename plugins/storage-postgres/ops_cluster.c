/* ops_cluster.c - storage-postgres: ABI 1.2, several gateways on one store:
 * leases, per-session inbox scans, outbox claims, pruning. Times are the
 * server's (clock_timestamp()), so gateways with skewed clocks agree.
 * Validation and statement parameters as in ops.c. Loop only.
 *
 * A lease's ops and an outbox item's ops carry a routing key ("lease" or
 * "outbox" and the name or id, in a namespace session keys never use), so
 * one caller's acquire and release, or claim and update, reach the server
 * in call order. */
#include <stdio.h>
#include <string.h>

#include "pg.h"

/* Routing keys outside the session key space ("agent:..."). */
static const char *route_key(pg_op_t *op, const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 2;
    char *k = pg_arena_alloc(&op->arena, n);
    if (k != NULL)
        snprintf(k, n, "%s\x1f%s", kind, name);
    return k;
}

/* ---- leases ---------------------------------------------------------------- */

static int fin_lease_acquire(pg_op_t *op)
{
    const PGresult *r = op->res[0];
    if (PQntuples(r) == 1) {
        int acquired = pg_i64(r, 0, 0) == 1;
        const char *holder = pg_val(r, 0, 1);
        uint64_t left = pg_u64(r, 0, 3);
        int race = !acquired && (holder == NULL || left == 0 ||
                                 strcmp(holder, op->in.holder) == 0);
        if (!race) {
            oc_lease_t *l = pg_arena_alloc(&op->arena, sizeof *l);
            if (l == NULL) {
                op->status = OC_ENOMEM;
                return PG_FIN_DONE;
            }
            l->struct_size = sizeof *l;
            l->name = op->calls[0].params[0];
            l->holder = holder;
            l->token = pg_u64(r, 0, 2);
            l->expires_in_ms = left;
            op->out.row = l;
            op->status = acquired ? OC_OK : OC_EBUSY;
            return PG_FIN_DONE;
        }
    }
    /* No row, or a row that says we should have got it: it changed under the
     * statement (another gateway's acquire or release committed meanwhile).
     * Ask again: this time the statement starts after that change (unless a
     * later op on this lease already ran: then the caller asks again). */
    if (op->attempts >= PG_RETRIES || !pg_op_retry_ok(op)) {
        op->status = OC_EAGAIN;
        return PG_FIN_DONE;
    }
    op->attempts++;
    pg_op_clear_results(op);
    return PG_FIN_AGAIN;
}

static int ttl_ok(uint32_t ttl_ms)
{
    return ttl_ms >= 1 && ttl_ms <= PG_TTL_MAX;
}

int32_t pg_lease_acquire(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                         oc_lease_cb cb, void *data)
{
    pg_state_t *st = state;
    if (cb == NULL || !pg_name_ok(name) || !pg_name_ok(holder) || !ttl_ok(ttl_ms))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_LEASE_ACQUIRE, data, fin_lease_acquire);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.lease = cb;
    op->key = route_key(op, "lease", name);
    const char **p = pg_op_call(op, PG_ST_LEASE_ACQUIRE);
    if (p != NULL) {
        p[0] = pg_arena_str(&op->arena, name);
        p[1] = op->in.holder = pg_arena_str(&op->arena, holder);
        p[2] = pg_arena_u64(&op->arena, ttl_ms);
    }
    return pg_submit_checked(st, op);
}

static int fin_one_row(pg_op_t *op)
{
    op->status = pg_cmd_rows(op->res[0]) > 0 ? OC_OK : OC_ENOENT;
    return PG_FIN_DONE;
}

int32_t pg_lease_release(void *state, const char *name, const char *holder,
                         oc_storage_done_cb cb, void *data)
{
    pg_state_t *st = state;
    if (cb == NULL || !pg_name_ok(name) || !pg_name_ok(holder))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_LEASE_RELEASE, data, fin_one_row);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    op->key = route_key(op, "lease", name);
    const char **p = pg_op_call(op, PG_ST_LEASE_RELEASE);
    if (p != NULL) {
        p[0] = pg_arena_str(&op->arena, name);
        p[1] = pg_arena_str(&op->arena, holder);
    }
    return pg_submit_checked(st, op);
}

/* ---- per-session inbox ------------------------------------------------------ */

static void *row_inbox(pg_op_t *op, const PGresult *r, int i)
{
    return pg_row_inbox(op, r, i);
}

static int fin_inbox_list(pg_op_t *op)
{
    op->status = pg_rows(op, op->res[0], row_inbox);
    return PG_FIN_DONE;
}

/* Routed with the session: it sees every commit of the session called
 * before it. */
int32_t pg_inbox_session_pending(void *state, const char *session_key, uint64_t after_id,
                                 uint32_t limit, oc_inbox_list_cb cb, void *data)
{
    pg_state_t *st = state;
    if (cb == NULL || !pg_key_ok(session_key))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_INBOX_SESSION_PENDING, data, fin_inbox_list);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.inbox_list = cb;
    op->key = pg_arena_str(&op->arena, session_key);
    const char **p = pg_op_call(op, PG_ST_INBOX_SESSION_PENDING);
    if (p != NULL) {
        p[0] = op->key;
        p[1] = pg_arena_u64(&op->arena, after_id);
        p[2] = pg_arena_u64(&op->arena, limit != 0 ? limit : PG_LIST_DEFAULT);
    }
    return pg_submit_checked(st, op);
}

/* ---- outbox claims ------------------------------------------------------------ */

/* Columns: outcome, busy, then the item. */
static int fin_claim(pg_op_t *op)
{
    const PGresult *r = op->res[0];
    if (PQntuples(r) == 0) {
        op->status = OC_ENOENT;
        return PG_FIN_DONE;
    }
    int claimed = pg_i64(r, 0, 0) == 1;
    const char *busy = pg_val(r, 0, 1);
    uint32_t state = (uint32_t)pg_u64(r, 0, 3);
    if (claimed || state != OC_OUTBOX_PENDING) {
        op->out.row = pg_row_outbox(op, r, 0, 2);
        op->status = op->out.row == NULL ? OC_ENOMEM : claimed ? OC_OK : OC_EEXIST;
        return PG_FIN_DONE;
    }
    if (busy != NULL && busy[0] == 't') {
        op->status = OC_EBUSY;
        return PG_FIN_DONE;
    }
    /* Pending and claimable as the statement saw it, yet not claimed: it
     * changed while the UPDATE waited for its row. Ask again (unless a later
     * op on this item already ran). */
    if (op->attempts >= PG_RETRIES || !pg_op_retry_ok(op)) {
        op->status = OC_EBUSY;
        return PG_FIN_DONE;
    }
    op->attempts++;
    pg_op_clear_results(op);
    return PG_FIN_AGAIN;
}

int32_t pg_outbox_claim(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                        oc_outbox_item_cb cb, void *data)
{
    pg_state_t *st = state;
    if (cb == NULL || !pg_name_ok(holder) || !ttl_ok(ttl_ms))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_OUTBOX_CLAIM, data, fin_claim);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.outbox_item = cb;
    const char *ids = pg_arena_u64(&op->arena, id);
    op->key = ids != NULL ? route_key(op, "outbox", ids) : NULL;
    const char **p = pg_op_call(op, PG_ST_OUTBOX_CLAIM);
    if (p != NULL) {
        p[0] = ids;
        p[1] = op->in.holder = pg_arena_str(&op->arena, holder);
        p[2] = pg_arena_u64(&op->arena, ttl_ms);
    }
    return pg_submit_checked(st, op);
}

/* outbox_update's key, so an update follows the claim before it. */
const char *pg_outbox_route_key(pg_op_t *op, uint64_t id)
{
    const char *ids = pg_arena_u64(&op->arena, id);
    return ids != NULL ? route_key(op, "outbox", ids) : NULL;
}

/* ---- prune ------------------------------------------------------------------- */

static int fin_ok(pg_op_t *op)
{
    op->status = OC_OK;
    return PG_FIN_DONE;
}

int32_t pg_prune(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data)
{
    pg_state_t *st = state;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_PRUNE, data, fin_ok);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    const char *before = pg_arena_u64(&op->arena, before_ms);
    const char **p = pg_op_call(op, PG_ST_PRUNE_INBOX);
    if (p != NULL)
        p[0] = before;
    if ((p = pg_op_call(op, PG_ST_PRUNE_OUTBOX)) != NULL)
        p[0] = before;
    return pg_submit_checked(st, op);
}
