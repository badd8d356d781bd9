/* ops_pairing.c - storage-postgres: pairing requests and allow lists (ABI
 * 1.1). Validation and statement parameters as in ops.c. Loop only.
 *
 * pairing_request is one round of three statements: a transaction-scoped
 * advisory lock on the channel (so two gateways apply the rule one after the
 * other, with no serialization failures to retry), the sweep of expired
 * requests, and the rule itself in one statement that says which branch it
 * took. */
#include <string.h>

#include "pg.h"

#define PAIRING_MIN PG_MIN_SIZE(oc_pairing_t, expires_ms)

static int fin_request(pg_op_t *op)
{
    const PGresult *r = op->res[2];
    if (PQntuples(r) != 1) {
        op->status = OC_EINTERNAL;
        return PG_FIN_DONE;
    }
    int64_t outcome = pg_i64(r, 0, 0);
    if (outcome == -1) {
        op->status = OC_ELIMIT;
    } else if (outcome == -2) {
        op->status = OC_EEXIST;
    } else {
        op->out.row = pg_row_pairing(op, r, 0, 1);
        op->out.flag = outcome == 1;
        op->status = op->out.row != NULL ? OC_OK : OC_ENOMEM;
    }
    return PG_FIN_DONE;
}

int32_t pg_pairing_request(void *state, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, oc_pairing_cb cb, void *data)
{
    pg_state_t *st = state;
    if (req == NULL || cb == NULL || req->struct_size < PAIRING_MIN || req->channel == NULL ||
        req->account == NULL || req->sender_id == NULL || req->code == NULL ||
        req->code[0] == '\0')
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_PAIRING_REQUEST, data, fin_request);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.pairing = cb;
    pg_arena_t *a = &op->arena;
    const char *channel = pg_arena_str(a, req->channel);
    const char *now = pg_arena_u64(a, now_ms);
    const char **p = pg_op_call(op, PG_ST_PAIRING_LOCK);
    if (p != NULL)
        p[0] = channel;
    if ((p = pg_op_call(op, PG_ST_PAIRING_EXPIRE)) != NULL)
        p[0] = now;
    if ((p = pg_op_call(op, PG_ST_PAIRING_REQUEST)) != NULL) {
        p[0] = channel;
        p[1] = pg_arena_str(a, req->account);
        p[2] = pg_arena_str(a, req->sender_id);
        p[3] = pg_arena_str(a, req->code);
        p[4] = pg_arena_str(a, req->meta_json);
        p[5] = now;
        p[6] = pg_arena_u64(a, req->expires_ms);
        p[7] = pg_arena_u64(a, max_pending);
    }
    return pg_submit_checked(st, op);
}

static void *row_pairing(pg_op_t *op, const PGresult *r, int i)
{
    return pg_row_pairing(op, r, i, 0);
}

static int fin_list(pg_op_t *op)
{
    op->status = pg_rows(op, op->res[0], row_pairing);
    return PG_FIN_DONE;
}

int32_t pg_pairing_list(void *state, const char *channel, uint64_t now_ms, oc_pairing_list_cb cb,
                        void *data)
{
    pg_state_t *st = state;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_PAIRING_LIST, data, fin_list);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.pairing_list = cb;
    const char **p =
        pg_op_call(op, channel != NULL ? PG_ST_PAIRING_LIST_CHANNEL : PG_ST_PAIRING_LIST);
    if (p != NULL) {
        p[0] = pg_arena_u64(&op->arena, now_ms);
        if (channel != NULL)
            p[1] = pg_arena_str(&op->arena, channel);
    }
    return pg_submit_checked(st, op);
}

static int fin_approve(pg_op_t *op)
{
    if (PQntuples(op->res[0]) == 0) {
        op->status = OC_ENOENT;
        return PG_FIN_DONE;
    }
    op->out.row = pg_row_pairing(op, op->res[0], 0, 0);
    op->out.flag = 0; /* created is unused here */
    op->status = op->out.row != NULL ? OC_OK : OC_ENOMEM;
    return PG_FIN_DONE;
}

int32_t pg_pairing_approve(void *state, const char *channel, const char *code, uint64_t now_ms,
                           oc_pairing_cb cb, void *data)
{
    pg_state_t *st = state;
    if (channel == NULL || code == NULL || cb == NULL)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_PAIRING_APPROVE, data, fin_approve);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.pairing = cb;
    const char **p = pg_op_call(op, PG_ST_PAIRING_APPROVE);
    if (p != NULL) {
        p[0] = pg_arena_str(&op->arena, channel);
        p[1] = pg_arena_str(&op->arena, code);
        p[2] = pg_arena_u64(&op->arena, now_ms);
    }
    return pg_submit_checked(st, op);
}

static int fin_ok(pg_op_t *op)
{
    op->status = OC_OK;
    return PG_FIN_DONE;
}

static int fin_found(pg_op_t *op)
{
    op->status = PQntuples(op->res[0]) > 0 ? OC_OK : OC_ENOENT;
    return PG_FIN_DONE;
}

static int32_t allow_op(pg_state_t *st, pg_op_kind_t kind, const char *channel,
                        const char *account, const char *sender_id, oc_storage_done_cb cb,
                        void *data)
{
    if (channel == NULL || account == NULL || sender_id == NULL || cb == NULL)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    int add = kind == PG_OP_ALLOW_ADD;
    pg_op_t *op = pg_op_new(kind, data, add ? fin_ok : fin_found);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    const char **p = pg_op_call(op, add ? PG_ST_ALLOW_ADD : PG_ST_ALLOW_CHECK);
    if (p != NULL) {
        p[0] = pg_arena_str(&op->arena, channel);
        p[1] = pg_arena_str(&op->arena, account);
        p[2] = pg_arena_str(&op->arena, sender_id);
        if (add)
            p[3] = pg_arena_u64(&op->arena, op->now_ms);
    }
    return pg_submit_checked(st, op);
}

int32_t pg_allow_add(void *state, const char *channel, const char *account,
                     const char *sender_id, oc_storage_done_cb cb, void *data)
{
    return allow_op(state, PG_OP_ALLOW_ADD, channel, account, sender_id, cb, data);
}

int32_t pg_allow_check(void *state, const char *channel, const char *account,
                       const char *sender_id, oc_storage_done_cb cb, void *data)
{
    return allow_op(state, PG_OP_ALLOW_CHECK, channel, account, sender_id, cb, data);
}
