/* batch.c - storage-sqlite: run one batch of ops in one transaction (worker).
 *
 * BEGIN IMMEDIATE; each op; COMMIT. A multi-statement write (delete, append,
 * clear, commit, pairing request and approve) runs inside SAVEPOINT so that
 * when it fails half-way, or reports an error such as OC_ENOENT after some
 * writes, it is rolled back alone and the other ops of the batch still
 * commit. Ops with at most one write statement need no savepoint: sqlite
 * makes each statement atomic. If the
 * transaction itself fails (BEGIN or COMMIT, or sqlite rolled it back after
 * an I/O error or a full disk), every op of the batch fails. */
#include <stdio.h>
#include <stdlib.h>

#include "sq.h"

static const sq_exec_fn sq_exec[SQ_OP__COUNT] = {
    [SQ_OP_PUT] = sq_exec_session_put,
    [SQ_OP_GET] = sq_exec_session_get,
    [SQ_OP_LIST] = sq_exec_session_list,
    [SQ_OP_DELETE] = sq_exec_session_delete,
    [SQ_OP_APPEND] = sq_exec_transcript_append,
    [SQ_OP_READ] = sq_exec_transcript_read,
    [SQ_OP_CLEAR] = sq_exec_transcript_clear,
    [SQ_OP_INBOX_PUT] = sq_exec_inbox_put,
    [SQ_OP_INBOX_PENDING] = sq_exec_inbox_pending,
    [SQ_OP_COMMIT] = sq_exec_commit,
    [SQ_OP_OUTBOX_PENDING] = sq_exec_outbox_pending,
    [SQ_OP_OUTBOX_UPDATE] = sq_exec_outbox_update,
    [SQ_OP_PAIRING_REQUEST] = sq_exec_pairing_request,
    [SQ_OP_PAIRING_LIST] = sq_exec_pairing_list,
    [SQ_OP_PAIRING_APPROVE] = sq_exec_pairing_approve,
    [SQ_OP_ALLOW_ADD] = sq_exec_allow_add,
    [SQ_OP_ALLOW_CHECK] = sq_exec_allow_check,
    [SQ_OP_LEASE_ACQUIRE] = sq_exec_lease_acquire,
    [SQ_OP_LEASE_RELEASE] = sq_exec_lease_release,
    [SQ_OP_INBOX_SESSION_PENDING] = sq_exec_inbox_session_pending,
    [SQ_OP_OUTBOX_CLAIM] = sq_exec_outbox_claim,
    [SQ_OP_PRUNE] = sq_exec_prune,
};

static int sq_needs_savepoint(sq_op_kind_t kind)
{
    switch (kind) {
    case SQ_OP_DELETE:
    case SQ_OP_APPEND:
    case SQ_OP_CLEAR:
    case SQ_OP_COMMIT:
    case SQ_OP_PAIRING_REQUEST:
    case SQ_OP_PAIRING_APPROVE:
    case SQ_OP_LEASE_ACQUIRE:
    case SQ_OP_OUTBOX_CLAIM:
    case SQ_OP_PRUNE:
        return 1;
    default:
        return 0;
    }
}

static void sq_fail_all(sq_op_t *ops, int rc)
{
    int32_t status = sq_status_from_sqlite(rc);
    for (sq_op_t *op = ops; op != NULL; op = op->next) {
        sq_op_drop_results(op);
        op->status = status;
    }
}

static void sq_errf(sq_db_t *d, char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "%s: %s (%s)", what, sqlite3_errmsg(d->db), sqlite3_errstr(rc));
}

static int sq_run_op(sq_db_t *d, sq_op_t *op, char *err, size_t errlen)
{
    int sp = sq_needs_savepoint(op->kind);
    int rc;
    if (sp) {
        rc = sq_db_exec_cached(d, SQ_STMT_SAVEPOINT, "SAVEPOINT op");
        if (rc != SQLITE_OK) {
            sq_errf(d, err, errlen, "savepoint", rc);
            op->status = sq_status_from_sqlite(rc);
            return rc;
        }
    }
    rc = sq_exec[op->kind](d, op);
    if (rc != SQLITE_OK) {
        /* Keep the first error text of the batch for the log. */
        if (err[0] == '\0')
            sq_errf(d, err, errlen, sq_op_name(op->kind), rc);
        sq_op_drop_results(op);
        op->status = sq_status_from_sqlite(rc);
    }
    if (sp && !sqlite3_get_autocommit(d->db)) {
        /* All or nothing: an op that did not succeed leaves no write. */
        if (rc != SQLITE_OK || op->status != OC_OK)
            (void)sq_db_exec_cached(d, SQ_STMT_ROLLBACK_TO, "ROLLBACK TO op");
        (void)sq_db_exec_cached(d, SQ_STMT_RELEASE, "RELEASE op");
    }
    return rc;
}

int sq_batch_run(sq_db_t *d, sq_op_t *ops, char *err, size_t errlen)
{
    err[0] = '\0';
    if (d == NULL) {
        snprintf(err, errlen, "database is not open");
        sq_fail_all(ops, SQLITE_CANTOPEN);
        return SQLITE_CANTOPEN;
    }
    int rc = sq_db_exec_cached(d, SQ_STMT_BEGIN, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        sq_errf(d, err, errlen, "begin", rc);
        sq_fail_all(ops, rc);
        return rc;
    }
    for (sq_op_t *op = ops; op != NULL; op = op->next) {
        rc = sq_run_op(d, op, err, errlen);
        if (rc != SQLITE_OK && sqlite3_get_autocommit(d->db)) {
            /* sqlite rolled the whole transaction back (I/O error, full
             * disk, out of memory): what ran before is gone too. */
            sq_fail_all(ops, rc);
            return rc;
        }
    }
    rc = sq_db_exec_cached(d, SQ_STMT_COMMIT, "COMMIT");
    if (rc != SQLITE_OK) {
        sq_errf(d, err, errlen, "commit", rc);
        if (!sqlite3_get_autocommit(d->db))
            (void)sq_db_exec_cached(d, SQ_STMT_ROLLBACK, "ROLLBACK");
        sq_fail_all(ops, rc);
        return rc;
    }
    /* Individual op errors (already in err) do not fail the batch. */
    err[0] = '\0';
    return SQLITE_OK;
}
