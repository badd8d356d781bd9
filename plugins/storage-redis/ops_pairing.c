/* ops_pairing.c - storage-redis: the pairing and allow-list ops of ABI 1.1.
 * H only: validation and argument copies, as in ops.c. */
#include <stdlib.h>
#include <string.h>

#include "rd.h"

#define PAIRING_MIN RD_MIN_SIZE(oc_pairing_t, expires_ms)

typedef struct request_in_s {
    const oc_pairing_t *req;
    uint32_t max_pending;
    uint64_t now;
} request_in_t;

/* ARGV: channel, account, sender, code, meta?, expires_ms, now_ms, max_pending */
static void fill_request(rd_args_t *a, const void *in)
{
    const request_in_t *p = in;
    rd_arg_str(a, p->req->channel);
    rd_arg_str(a, p->req->account);
    rd_arg_str(a, p->req->sender_id);
    rd_arg_str(a, p->req->code);
    rd_arg_opt(a, p->req->meta_json);
    rd_arg_u64(a, p->req->expires_ms);
    rd_arg_u64(a, p->now);
    rd_arg_u64(a, p->max_pending);
}

int32_t rd_pairing_request(void *state, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, oc_pairing_cb cb, void *data)
{
    if (req == NULL || cb == NULL || req->struct_size < PAIRING_MIN || req->channel == NULL ||
        req->account == NULL || req->sender_id == NULL || req->code == NULL ||
        req->code[0] == '\0')
        return OC_EINVAL;
    request_in_t in = {req, max_pending, now_ms};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_PAIRING_REQUEST, data, fill_request, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.pairing = cb;
    return rd_submit(state, op);
}

typedef struct code_in_s {
    const char *channel, *code; /* list: code NULL (not an argument) */
    uint64_t now;
} code_in_t;

/* list ARGV: channel?, now_ms */
static void fill_list(rd_args_t *a, const void *in)
{
    const code_in_t *p = in;
    rd_arg_opt(a, p->channel);
    rd_arg_u64(a, p->now);
}

/* approve ARGV: channel, code, now_ms */
static void fill_approve(rd_args_t *a, const void *in)
{
    const code_in_t *p = in;
    rd_arg_str(a, p->channel);
    rd_arg_str(a, p->code);
    rd_arg_u64(a, p->now);
}

int32_t rd_pairing_list(void *state, const char *channel, uint64_t now_ms, oc_pairing_list_cb cb,
                        void *data)
{
    if (cb == NULL)
        return OC_EINVAL;
    code_in_t in = {channel, NULL, now_ms};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_PAIRING_LIST, data, fill_list, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.pairing_list = cb;
    return rd_submit(state, op);
}

int32_t rd_pairing_approve(void *state, const char *channel, const char *code, uint64_t now_ms,
                           oc_pairing_cb cb, void *data)
{
    if (channel == NULL || code == NULL || cb == NULL)
        return OC_EINVAL;
    code_in_t in = {channel, code, now_ms};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_PAIRING_APPROVE, data, fill_approve, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.pairing = cb;
    return rd_submit(state, op);
}

typedef struct allow_in_s {
    const char *channel, *account, *sender;
} allow_in_t;

/* ARGV: channel, account, sender */
static void fill_allow(rd_args_t *a, const void *in)
{
    const allow_in_t *p = in;
    rd_arg_str(a, p->channel);
    rd_arg_str(a, p->account);
    rd_arg_str(a, p->sender);
}

static int32_t allow_op(rd_state_t *st, rd_op_kind_t kind, const char *channel,
                        const char *account, const char *sender_id, oc_storage_done_cb cb,
                        void *data)
{
    if (channel == NULL || account == NULL || sender_id == NULL || cb == NULL)
        return OC_EINVAL;
    allow_in_t in = {channel, account, sender_id};
    rd_op_t *op;
    int32_t rc = rd_prepare(st, kind, data, fill_allow, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(st, op);
}

int32_t rd_allow_add(void *state, const char *channel, const char *account,
                     const char *sender_id, oc_storage_done_cb cb, void *data)
{
    return allow_op(state, RD_OP_ALLOW_ADD, channel, account, sender_id, cb, data);
}

int32_t rd_allow_check(void *state, const char *channel, const char *account,
                       const char *sender_id, oc_storage_done_cb cb, void *data)
{
    return allow_op(state, RD_OP_ALLOW_CHECK, channel, account, sender_id, cb, data);
}
