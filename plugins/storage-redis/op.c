/* op.c - storage-redis: what every op shares: its name, its results, the
 * callback call. Ops are made on H, run on T, delivered and freed on H
 * (internal ops never leave T). */
#include <stdlib.h>
#include <string.h>

#include "rd.h"

const char *rd_op_name(rd_op_kind_t kind)
{
    static const char *const names[RD_OP__COUNT] = {
        [RD_OP_SESSION_PUT] = "session_put",
        [RD_OP_SESSION_GET] = "session_get",
        [RD_OP_SESSION_LIST] = "session_list",
        [RD_OP_SESSION_DELETE] = "session_delete",
        [RD_OP_TRANSCRIPT_APPEND] = "transcript_append",
        [RD_OP_TRANSCRIPT_READ] = "transcript_read",
        [RD_OP_TRANSCRIPT_CLEAR] = "transcript_clear",
        [RD_OP_INBOX_PUT] = "inbox_put",
        [RD_OP_INBOX_PENDING] = "inbox_pending",
        [RD_OP_COMMIT] = "commit",
        [RD_OP_OUTBOX_PENDING] = "outbox_pending",
        [RD_OP_OUTBOX_UPDATE] = "outbox_update",
        [RD_OP_PAIRING_REQUEST] = "pairing_request",
        [RD_OP_PAIRING_LIST] = "pairing_list",
        [RD_OP_PAIRING_APPROVE] = "pairing_approve",
        [RD_OP_ALLOW_ADD] = "allow_add",
        [RD_OP_ALLOW_CHECK] = "allow_check",
        [RD_OP_LEASE_ACQUIRE] = "lease_acquire",
        [RD_OP_LEASE_RELEASE] = "lease_release",
        [RD_OP_INBOX_SESSION_PENDING] = "inbox_session_pending",
        [RD_OP_OUTBOX_CLAIM] = "outbox_claim",
        [RD_OP_PRUNE] = "prune",
        [RD_OP_AUTH] = "AUTH",
        [RD_OP_SELECT] = "SELECT",
        [RD_OP_SETNAME] = "CLIENT SETNAME",
        [RD_OP_LAYOUT] = "the key layout check",
        [RD_OP_LOAD] = "SCRIPT LOAD",
        [RD_OP_PING] = "PING",
    };
    return (unsigned)kind < RD_OP__COUNT && names[kind] != NULL ? names[kind] : "unknown";
}

void rd_op_drop_results(rd_op_t *op)
{
    free(op->out.row);
    for (size_t i = 0; i < op->out.count; i++)
        free(op->out.rows[i]);
    free(op->out.rows);
    memset(&op->out, 0, sizeof op->out);
}

void rd_op_free(rd_op_t *op)
{
    if (op == NULL)
        return;
    rd_op_drop_results(op);
    free(op);
}

void rd_op_deliver(rd_op_t *op)
{
    int32_t s = op->status;
    int ok = s == OC_OK;
    void *row = op->out.row;
    const void *const *rows = ok ? (const void *const *)op->out.rows : NULL;
    size_t count = ok ? op->out.count : 0;
    /* A successful list of nothing still passes an array (never NULL). */
    static const void *const none[1] = {NULL};
    if (ok && rows == NULL)
        rows = none;
    switch (op->kind) {
    case RD_OP_SESSION_PUT:
    case RD_OP_SESSION_DELETE:
    case RD_OP_TRANSCRIPT_CLEAR:
    case RD_OP_COMMIT:
    case RD_OP_OUTBOX_UPDATE:
    case RD_OP_ALLOW_ADD:
    case RD_OP_ALLOW_CHECK:
    case RD_OP_LEASE_RELEASE:
    case RD_OP_PRUNE:
        op->cb.done(op->data, s);
        break;
    case RD_OP_SESSION_GET:
        op->cb.session(op->data, s, ok ? row : NULL);
        break;
    case RD_OP_SESSION_LIST:
        op->cb.list(op->data, s, (const oc_session_t *const *)rows, count);
        break;
    case RD_OP_TRANSCRIPT_APPEND:
        op->cb.append(op->data, s, ok ? op->out.id : 0);
        break;
    case RD_OP_TRANSCRIPT_READ:
        op->cb.turns(op->data, s, (const oc_turn_t *const *)rows, count);
        break;
    case RD_OP_INBOX_PUT:
        op->cb.inbox_put(op->data, s, ok ? op->out.id : 0, ok ? op->out.flag : 0);
        break;
    case RD_OP_INBOX_PENDING:
    case RD_OP_INBOX_SESSION_PENDING:
        op->cb.inbox_list(op->data, s, (const oc_inbox_item_t *const *)rows, count);
        break;
    case RD_OP_OUTBOX_PENDING:
        op->cb.outbox_list(op->data, s, (const oc_outbox_item_t *const *)rows, count);
        break;
    case RD_OP_OUTBOX_CLAIM: /* the item with OC_OK and OC_EEXIST */
        op->cb.outbox_item(op->data, s, ok || s == OC_EEXIST ? row : NULL);
        break;
    case RD_OP_PAIRING_REQUEST:
    case RD_OP_PAIRING_APPROVE:
        op->cb.pairing(op->data, s, ok ? row : NULL, ok ? op->out.flag : 0);
        break;
    case RD_OP_PAIRING_LIST:
        op->cb.pairing_list(op->data, s, (const oc_pairing_t *const *)rows, count);
        break;
    case RD_OP_LEASE_ACQUIRE: /* the lease with OC_OK and OC_EBUSY */
        op->cb.lease(op->data, s, ok || s == OC_EBUSY ? row : NULL);
        break;
    default:
        break;
    }
}
