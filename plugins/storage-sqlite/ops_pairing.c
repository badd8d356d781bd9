/* ops_pairing.c - storage-sqlite: the pairing and allow-list ops of ABI 1.1
 * (loop side): validation and argument copies, as in ops.c. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

#define PAIRING_MIN SQ_MIN_SIZE(oc_pairing_t, expires_ms)

int32_t sq_pairing_request(void *state, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, oc_pairing_cb cb, void *data)
{
    sq_state_t *st = state;
    if (req == NULL || cb == NULL || req->struct_size < PAIRING_MIN || req->channel == NULL ||
        req->account == NULL || req->sender_id == NULL || req->code == NULL ||
        req->code[0] == '\0')
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_PAIRING_REQUEST, data, 0,
                            sq_str_size(req->channel) + sq_str_size(req->account) +
                                sq_str_size(req->sender_id) + sq_str_size(req->code) +
                                sq_str_size(req->meta_json),
                            &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.pairing = cb;
    op->in.pairing.channel = sq_arena_str(&cur, req->channel);
    op->in.pairing.account = sq_arena_str(&cur, req->account);
    op->in.pairing.sender_id = sq_arena_str(&cur, req->sender_id);
    op->in.pairing.code = sq_arena_str(&cur, req->code);
    op->in.pairing.meta_json = sq_arena_str(&cur, req->meta_json);
    op->in.pairing.expires_ms = req->expires_ms;
    op->in.pairing.at_ms = now_ms;
    op->in.pairing.max_pending = max_pending;
    return sq_submit(st, op);
}

int32_t sq_pairing_list(void *state, const char *channel, uint64_t now_ms, oc_pairing_list_cb cb,
                        void *data)
{
    sq_state_t *st = state;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_PAIRING_LIST, data, 0, sq_str_size(channel), &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.pairing_list = cb;
    op->in.pairing.channel = sq_arena_str(&cur, channel);
    op->in.pairing.at_ms = now_ms;
    return sq_submit(st, op);
}

int32_t sq_pairing_approve(void *state, const char *channel, const char *code, uint64_t now_ms,
                           oc_pairing_cb cb, void *data)
{
    sq_state_t *st = state;
    if (channel == NULL || code == NULL || cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(SQ_OP_PAIRING_APPROVE, data, 0,
                            sq_str_size(channel) + sq_str_size(code), &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.pairing = cb;
    op->in.pairing.channel = sq_arena_str(&cur, channel);
    op->in.pairing.code = sq_arena_str(&cur, code);
    op->in.pairing.at_ms = now_ms;
    return sq_submit(st, op);
}

static int32_t allow_op(sq_state_t *st, sq_op_kind_t kind, const char *channel,
                        const char *account, const char *sender_id, oc_storage_done_cb cb,
                        void *data)
{
    if (channel == NULL || account == NULL || sender_id == NULL || cb == NULL)
        return OC_EINVAL;
    int32_t rc = sq_accepting(st);
    if (rc != OC_OK)
        return rc;
    char *cur;
    sq_op_t *op = sq_op_new(kind, data, 0,
                            sq_str_size(channel) + sq_str_size(account) + sq_str_size(sender_id),
                            &cur);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    op->in.allow.channel = sq_arena_str(&cur, channel);
    op->in.allow.account = sq_arena_str(&cur, account);
    op->in.allow.sender_id = sq_arena_str(&cur, sender_id);
    return sq_submit(st, op);
}

int32_t sq_allow_add(void *state, const char *channel, const char *account,
                     const char *sender_id, oc_storage_done_cb cb, void *data)
{
    return allow_op(state, SQ_OP_ALLOW_ADD, channel, account, sender_id, cb, data);
}

int32_t sq_allow_check(void *state, const char *channel, const char *account,
                       const char *sender_id, oc_storage_done_cb cb, void *data)
{
    return allow_op(state, SQ_OP_ALLOW_CHECK, channel, account, sender_id, cb, data);
}
