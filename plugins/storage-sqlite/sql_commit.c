/* sql_commit.c - storage-sqlite: the atomic turn commit (worker).
 *
 * Runs inside its own savepoint (batch.c): when any step fails, or the
 * transcript's session does not exist (OC_ENOENT), the savepoint is rolled
 * back and nothing of the commit remains. Order as storage.h says: session
 * upsert, clear, turns, inbox states, outbox inserts. */
#include "sq.h"

/* SQLITE_NOTFOUND from a transcript step means the session is missing. */
static int missing(sq_op_t *op, int rc)
{
    if (rc != SQLITE_NOTFOUND)
        return rc;
    op->status = OC_ENOENT;
    return SQLITE_OK;
}

int sq_exec_commit(sq_db_t *d, sq_op_t *op)
{
    const sq_session_in_t *s = &op->in.commit.session;
    int rc;
    /* Checked first: a refused commit must not have touched anything. */
    if (op->in.commit.flags & OC_COMMIT_F_INBOX_PENDING)
        for (size_t i = 0; i < op->in.commit.inbox_done_count; i++) {
            uint32_t state;
            if ((rc = sq_inbox_state(d, op->in.commit.inbox_done[i], &state)) != SQLITE_OK)
                return rc;
            if (state != OC_INBOX_PENDING) {
                op->status = OC_EEXIST;
                return SQLITE_OK;
            }
        }
    if (s->key != NULL && (rc = sq_session_upsert(d, s)) != SQLITE_OK)
        return rc;
    if (op->in.commit.clear) {
        rc = sq_turns_clear(d, op->key, op->now_ms);
        if (rc != SQLITE_OK)
            return missing(op, rc);
    }
    if (op->in.commit.turn_count > 0) {
        uint64_t last;
        rc = sq_turns_append(d, op->key, op->in.commit.turns, op->in.commit.turn_count,
                             op->now_ms, &last);
        if (rc != SQLITE_OK)
            return missing(op, rc);
    }
    for (size_t i = 0; i < op->in.commit.inbox_done_count; i++) {
        rc = sq_inbox_mark_done(d, op->in.commit.inbox_done[i]);
        if (rc != SQLITE_OK)
            return rc;
    }
    for (size_t i = 0; i < op->in.commit.outbox_count; i++) {
        rc = sq_outbox_insert(d, &op->in.commit.outbox[i]);
        if (rc != SQLITE_OK)
            return rc;
    }
    op->status = OC_OK;
    return SQLITE_OK;
}
