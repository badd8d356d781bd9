/* op.c - storage-postgres: what every op shares. Allocation (the op and its
 * arena), the round's statements, the generic reading of a round's results
 * (server errors, guards, retries) before the kind's own finish, delivery
 * to the caller's callback, and SQLSTATE -> OC_* mapping. Loop only. */
#include <stdlib.h>
#include <string.h>

#include "pg.h"

const char *pg_op_name(pg_op_kind_t kind)
{
    static const char *const names[PG_OP__COUNT] = {
        [PG_OP_PUT] = "session_put",
        [PG_OP_GET] = "session_get",
        [PG_OP_LIST] = "session_list",
        [PG_OP_DELETE] = "session_delete",
        [PG_OP_APPEND] = "transcript_append",
        [PG_OP_READ] = "transcript_read",
        [PG_OP_CLEAR] = "transcript_clear",
        [PG_OP_INBOX_PUT] = "inbox_put",
        [PG_OP_INBOX_PENDING] = "inbox_pending",
        [PG_OP_COMMIT] = "commit",
        [PG_OP_OUTBOX_PENDING] = "outbox_pending",
        [PG_OP_OUTBOX_UPDATE] = "outbox_update",
        [PG_OP_PAIRING_REQUEST] = "pairing_request",
        [PG_OP_PAIRING_LIST] = "pairing_list",
        [PG_OP_PAIRING_APPROVE] = "pairing_approve",
        [PG_OP_ALLOW_ADD] = "allow_add",
        [PG_OP_ALLOW_CHECK] = "allow_check",
        [PG_OP_LEASE_ACQUIRE] = "lease_acquire",
        [PG_OP_LEASE_RELEASE] = "lease_release",
        [PG_OP_INBOX_SESSION_PENDING] = "inbox_session_pending",
        [PG_OP_OUTBOX_CLAIM] = "outbox_claim",
        [PG_OP_PRUNE] = "prune",
    };
    return (unsigned)kind < PG_OP__COUNT ? names[kind] : "unknown";
}

pg_op_t *pg_op_new(pg_op_kind_t kind, void *data, pg_finish_fn finish)
{
    pg_op_t *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->kind = kind;
    op->data = data;
    op->finish = finish;
    op->status = OC_EINTERNAL;
    op->t0_ns = pg_mono_ns();
    op->call_ms = op->t0_ns / 1000000u;
    op->now_ms = pg_wall_ms();
    return op;
}

const char **pg_op_call(pg_op_t *op, pg_stmt_id_t stmt)
{
    if (op->ncalls >= PG_CALLS_MAX) { /* a bug in a builder: refuse the op */
        op->arena.oom = 1;
        return NULL;
    }
    int n = pg_stmts[stmt].nparams;
    const char **params = pg_arena_alloc(&op->arena, (size_t)(n > 0 ? n : 1) * sizeof *params);
    if (params == NULL)
        return NULL;
    op->calls[op->ncalls].stmt = stmt;
    op->calls[op->ncalls].params = params;
    op->ncalls++;
    return params;
}

void pg_op_clear_results(pg_op_t *op)
{
    for (int i = 0; i < op->nres; i++)
        PQclear(op->res[i]);
    op->nres = 0;
    memset(&op->out, 0, sizeof op->out); /* rows pointed into the results */
}

void pg_op_free(pg_op_t *op)
{
    if (op == NULL)
        return;
    pg_op_clear_results(op);
    pg_arena_free(&op->arena);
    free(op);
}

int32_t pg_status_from_sqlstate(const char *s)
{
    if (s == NULL || strlen(s) != 5)
        return OC_EIO;
    if (strcmp(s, PG_GUARD_NO_SESSION) == 0)
        return OC_ENOENT;
    if (strcmp(s, PG_GUARD_NOT_PENDING) == 0)
        return OC_EEXIST;
    if (strncmp(s, "08", 2) == 0) /* connection exception */
        return OC_EUNAVAIL;
    if (strcmp(s, "57014") == 0) /* statement_timeout */
        return OC_ETIMEDOUT;
    if (strncmp(s, "57P", 3) == 0) /* shutdown, crash, database dropped */
        return OC_EUNAVAIL;
    if (strcmp(s, "53200") == 0)
        return OC_ENOMEM;
    if (strcmp(s, "53300") == 0) /* too many connections */
        return OC_EUNAVAIL;
    if (strncmp(s, "53", 2) == 0) /* disk full and the like */
        return OC_EIO;
    if (strncmp(s, "40", 2) == 0) /* serialization failure, deadlock */
        return OC_EAGAIN;
    if (strncmp(s, "55", 2) == 0) /* lock not available, object in use */
        return OC_EBUSY;
    if (strcmp(s, "25006") == 0) /* a read-only server (a standby) */
        return OC_EUNAVAIL;
    if (strncmp(s, "22", 2) == 0 || strncmp(s, "54", 2) == 0)
        return OC_EINVAL; /* invalid UTF-8, a value or row too large */
    if (strncmp(s, "23", 2) == 0 || strncmp(s, "42", 2) == 0 || strncmp(s, "25", 2) == 0)
        return OC_EINTERNAL; /* the schema is not what the statements expect */
    return OC_EIO;
}

static int retryable(const char *s)
{
    return s != NULL && (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0);
}

int pg_op_finish(pg_state_t *st, pg_op_t *op, const pg_conn_t *c)
{
    if (op->nres < op->ncalls) {
        op->status = OC_EINTERNAL;
        return PG_FIN_DONE;
    }
    int aborted = 0;
    for (int i = 0; i < op->nres; i++) {
        const PGresult *r = op->res[i];
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
            continue;
        if (s == PGRES_PIPELINE_ABORTED) { /* after an error, which tells why */
            aborted = 1;
            continue;
        }
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* Whether a retry keeps the key's order is asked only on a retryable
         * error: it walks the rounds in flight. */
        if (retryable(code) && op->attempts < PG_RETRIES && pg_conn_retry_ok(c, op)) {
            op->attempts++; /* the round rolled back as a whole: run it again */
            pg_op_clear_results(op);
            return PG_FIN_AGAIN;
        }
        op->status = pg_status_from_sqlstate(code);
        if (op->status != OC_ENOENT && op->status != OC_EEXIST)
            pg_log_op_error(st, op, r);
        pg_op_clear_results(op);
        return PG_FIN_DONE;
    }
    if (aborted) {
        op->status = OC_EINTERNAL;
        return PG_FIN_DONE;
    }
    op->conn = c;
    return op->finish(op);
}

int pg_op_retry_ok(const pg_op_t *op)
{
    return op->conn != NULL && pg_conn_retry_ok(op->conn, op);
}

void pg_op_deliver(pg_op_t *op)
{
    int ok = op->status == OC_OK;
    void *row = ok ? op->out.row : NULL;
    const void *const *rows = ok ? (const void *const *)op->out.rows : NULL;
    size_t count = ok ? op->out.count : 0;
    static const void *const none[1] = {NULL}; /* an empty list is an array, never NULL */
    if (ok && rows == NULL)
        rows = none;
    switch (op->kind) {
    case PG_OP_PUT:
    case PG_OP_DELETE:
    case PG_OP_CLEAR:
    case PG_OP_COMMIT:
    case PG_OP_OUTBOX_UPDATE:
    case PG_OP_ALLOW_ADD:
    case PG_OP_ALLOW_CHECK:
    case PG_OP_LEASE_RELEASE:
    case PG_OP_PRUNE:
        op->cb.done(op->data, op->status);
        break;
    case PG_OP_GET:
        op->cb.session(op->data, op->status, row);
        break;
    case PG_OP_LIST:
        op->cb.list(op->data, op->status, (const oc_session_t *const *)rows, count);
        break;
    case PG_OP_APPEND:
        op->cb.append(op->data, op->status, ok ? op->out.id : 0);
        break;
    case PG_OP_READ:
        op->cb.turns(op->data, op->status, (const oc_turn_t *const *)rows, count);
        break;
    case PG_OP_INBOX_PUT:
        op->cb.inbox_put(op->data, op->status, ok ? op->out.id : 0, ok ? op->out.flag : 0);
        break;
    case PG_OP_INBOX_PENDING:
    case PG_OP_INBOX_SESSION_PENDING:
        op->cb.inbox_list(op->data, op->status, (const oc_inbox_item_t *const *)rows, count);
        break;
    case PG_OP_OUTBOX_PENDING:
        op->cb.outbox_list(op->data, op->status, (const oc_outbox_item_t *const *)rows, count);
        break;
    case PG_OP_OUTBOX_CLAIM:
        /* The item also comes with OC_EEXIST (no longer pending). */
        op->cb.outbox_item(op->data, op->status,
                           ok || op->status == OC_EEXIST ? op->out.row : NULL);
        break;
    case PG_OP_PAIRING_REQUEST:
    case PG_OP_PAIRING_APPROVE:
        op->cb.pairing(op->data, op->status, row, ok ? op->out.flag : 0);
        break;
    case PG_OP_PAIRING_LIST:
        op->cb.pairing_list(op->data, op->status, (const oc_pairing_t *const *)rows, count);
        break;
    case PG_OP_LEASE_ACQUIRE:
        /* The lease also comes with OC_EBUSY: who holds it, for how long. */
        op->cb.lease(op->data, op->status,
                     ok || op->status == OC_EBUSY ? op->out.row : NULL);
        break;
    default:
        break;
    }
}
