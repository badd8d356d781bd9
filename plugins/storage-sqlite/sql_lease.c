/* sql_lease.c - storage-sqlite: leases and pruning (worker). Each runs
 * inside the batch's transaction, in its own savepoint.
 *
 * A released lease keeps its row (holder NULL) so that its token keeps
 * growing across holders: tokens are fencing tokens. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

static const char sql_get[] = "SELECT holder, token, expires_ms FROM leases WHERE name = ?1";

static const char sql_put[] =
    "INSERT INTO leases (name, holder, token, expires_ms) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (name) DO UPDATE SET holder = ?2, token = ?3, expires_ms = ?4";

static const char sql_release[] =
    "UPDATE leases SET holder = NULL, expires_ms = 0"
    " WHERE name = ?1 AND holder = ?2 AND expires_ms > ?3";

static const char sql_prune_inbox[] = "DELETE FROM inbox WHERE state = 2 AND received_ms < ?1";

static const char sql_prune_outbox[] =
    "DELETE FROM outbox WHERE state <> 1 AND created_ms < ?1";

static oc_lease_t *lease_row(const char *name, const char *holder, size_t holder_len,
                             uint64_t token, uint64_t left_ms)
{
    size_t nlen = strlen(name);
    oc_lease_t *l = calloc(1, sizeof *l + nlen + 1 + (holder ? holder_len + 1 : 0));
    if (l == NULL)
        return NULL;
    char *cur = (char *)(l + 1);
    l->struct_size = sizeof *l;
    memcpy(cur, name, nlen + 1);
    l->name = cur;
    cur += nlen + 1;
    if (holder != NULL) {
        memcpy(cur, holder, holder_len);
        cur[holder_len] = '\0';
        l->holder = cur;
    }
    l->token = token;
    l->expires_in_ms = left_ms;
    return l;
}

int sq_exec_lease_acquire(sq_db_t *d, sq_op_t *op)
{
    const char *name = op->in.lease.name, *me = op->in.lease.holder;
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_LEASE_GET, sql_get);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return rc;
    }
    uint64_t now = sq_wall_ms(), token = 0, expires = 0;
    int mine = 0, free_ = 1;
    char other[256];
    size_t other_len = 0;
    if (rc == SQLITE_ROW) {
        sq_col_t h = sq_col(st, 0);
        token = (uint64_t)sqlite3_column_int64(st, 1);
        expires = (uint64_t)sqlite3_column_int64(st, 2);
        mine = h.p != NULL && h.n == strlen(me) && memcmp(h.p, me, h.n) == 0;
        free_ = h.p == NULL || expires <= now;
        if (!mine && !free_) {
            other_len = h.n < sizeof other ? h.n : sizeof other - 1;
            memcpy(other, h.p, other_len);
        }
    }
    sqlite3_reset(st);
    if (!mine && !free_) {
        op->out.row = lease_row(name, other, other_len, token, expires - now);
        if (op->out.row == NULL)
            return SQLITE_NOMEM;
        op->status = OC_EBUSY;
        return SQLITE_OK;
    }
    /* The token changes only when the lease changes hands. */
    if (!mine)
        token++;
    expires = now + op->in.lease.ttl_ms;
    st = sq_db_stmt(d, SQ_STMT_LEASE_PUT, sql_put);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, name);
    sq_bind_text(st, 2, me);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)token);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)expires);
    if ((rc = sq_step_done(st)) != SQLITE_OK)
        return rc;
    op->out.row = lease_row(name, me, strlen(me), token, op->in.lease.ttl_ms);
    if (op->out.row == NULL)
        return SQLITE_NOMEM;
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_exec_lease_release(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_LEASE_RELEASE, sql_release);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->in.lease.name);
    sq_bind_text(st, 2, op->in.lease.holder);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)sq_wall_ms());
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    op->status = sqlite3_changes(d->db) > 0 ? OC_OK : OC_ENOENT;
    return SQLITE_OK;
}

int sq_exec_prune(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_PRUNE_INBOX, sql_prune_inbox);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(op->in.prune.before_ms));
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    st = sq_db_stmt(d, SQ_STMT_PRUNE_OUTBOX, sql_prune_outbox);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(op->in.prune.before_ms));
    if ((rc = sq_step_done(st)) == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}
