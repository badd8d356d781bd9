/* sql_outbox.c - storage-sqlite: outbox_pending and outbox_update, and the
 * insert commit makes (worker). Each runs inside the batch's transaction. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

/* Inserted pending whatever the item says; an existing key wins. */
static const char sql_insert[] =
    "INSERT INTO outbox (idempotency_key, channel, account, peer_kind, peer_id, text,"
    " in_reply_to, state, attempts, last_error, created_ms, next_attempt_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (idempotency_key) DO NOTHING";

#define OUTBOX_COLS                                                                            \
    "id, state, idempotency_key, channel, account, peer_kind, attempts, peer_id, text,"       \
    " in_reply_to, last_error, created_ms, next_attempt_ms"

static const char sql_get[] = "SELECT " OUTBOX_COLS ", claim_holder, claim_until_ms"
                              " FROM outbox WHERE id = ?1";

static const char sql_claim[] =
    "UPDATE outbox SET claim_holder = ?2, claim_until_ms = ?3 WHERE id = ?1";

static const char sql_pending[] = "SELECT " OUTBOX_COLS " FROM outbox"
                                  " WHERE state = 1 AND id > ?1 ORDER BY id LIMIT ?2";

/* An update ends the attempt: the claim goes with it. */
static const char sql_update[] =
    "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_ms = ?4, last_error = ?5,"
    " claim_holder = NULL, claim_until_ms = 0 WHERE id = ?1";

/* Columns as in OUTBOX_COLS. */
void *sq_row_outbox(sqlite3_stmt *st)
{
    sq_col_t key = sq_col(st, 2), chan = sq_col(st, 3), acct = sq_col(st, 4),
             peer = sq_col(st, 7), text = sq_col(st, 8), reply = sq_col(st, 9),
             err = sq_col(st, 10);
    oc_outbox_item_t *o =
        malloc(sizeof *o + sq_col_size(key) + sq_col_size(chan) + sq_col_size(acct) +
               sq_col_size(peer) + sq_col_size(text) + sq_col_size(reply) + sq_col_size(err));
    if (o == NULL)
        return NULL;
    char *cur = (char *)(o + 1);
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->id = (uint64_t)sqlite3_column_int64(st, 0);
    o->state = (uint32_t)sqlite3_column_int(st, 1);
    o->idempotency_key = sq_col_copy(&cur, key);
    o->channel = sq_col_copy(&cur, chan);
    o->account = sq_col_copy(&cur, acct);
    o->peer_kind = (uint32_t)sqlite3_column_int(st, 5);
    o->attempts = (uint32_t)sqlite3_column_int64(st, 6);
    o->peer_id = sq_col_copy(&cur, peer);
    o->text = sq_col_copy(&cur, text);
    o->in_reply_to = sq_col_copy(&cur, reply);
    o->last_error = sq_col_copy(&cur, err);
    o->created_ms = (uint64_t)sqlite3_column_int64(st, 11);
    o->next_attempt_ms = (uint64_t)sqlite3_column_int64(st, 12);
    return o;
}

int sq_outbox_insert(sq_db_t *d, const sq_outbox_in_t *o)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_OUTBOX_INSERT, sql_insert);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, o->key);
    sq_bind_text(st, 2, o->channel);
    sq_bind_text(st, 3, o->account);
    sqlite3_bind_int(st, 4, (int)o->peer_kind);
    sq_bind_text(st, 5, o->peer_id);
    sq_bind_text(st, 6, o->text);
    sq_bind_text(st, 7, o->in_reply_to);
    sqlite3_bind_int64(st, 8, o->attempts);
    sq_bind_text(st, 9, o->last_error);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)o->created_ms);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)o->next_attempt_ms);
    return sq_step_done(st);
}

int sq_exec_outbox_pending(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_OUTBOX_PENDING, sql_pending);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    uint32_t limit = op->in.pending.limit;
    sqlite3_bind_int64(st, 1, sq_id64(op->in.pending.after_id));
    sqlite3_bind_int64(st, 2, limit);
    int rc = sq_collect_rows(st, limit < 16 ? limit : 16, sq_row_outbox, &op->out.rows,
                             &op->out.count);
    if (rc != SQLITE_DONE)
        return rc;
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_exec_outbox_update(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_OUTBOX_UPDATE, sql_update);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(op->in.outbox_update.id));
    sqlite3_bind_int(st, 2, (int)op->in.outbox_update.state);
    sqlite3_bind_int64(st, 3, op->in.outbox_update.attempts);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)op->in.outbox_update.next_attempt_ms);
    sq_bind_text(st, 5, op->in.outbox_update.last_error);
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    /* changes counts matched rows, also when no value changed. */
    op->status = sqlite3_changes(d->db) > 0 ? OC_OK : OC_ENOENT;
    return SQLITE_OK;
}

/* Claim rules as storage.h's outbox_claim, on this host's wall clock. */
int sq_exec_outbox_claim(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_OUTBOX_GET, sql_get);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(op->in.lease.id));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        op->status = OC_ENOENT;
        return SQLITE_OK;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc;
    }
    uint64_t now = sq_wall_ms();
    uint32_t state = (uint32_t)sqlite3_column_int(st, 1);
    sq_col_t holder = sq_col(st, 13);
    uint64_t until = (uint64_t)sqlite3_column_int64(st, 14);
    int other = holder.p != NULL && until > now &&
                (holder.n != strlen(op->in.lease.holder) ||
                 memcmp(holder.p, op->in.lease.holder, holder.n) != 0);
    oc_outbox_item_t *item = sq_row_outbox(st);
    sqlite3_reset(st);
    if (item == NULL)
        return SQLITE_NOMEM;
    op->out.row = item;
    if (state != OC_OUTBOX_PENDING) {
        op->status = OC_EEXIST;
        return SQLITE_OK;
    }
    if (other) {
        op->status = OC_EBUSY;
        return SQLITE_OK;
    }
    st = sq_db_stmt(d, SQ_STMT_OUTBOX_CLAIM, sql_claim);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(op->in.lease.id));
    sq_bind_text(st, 2, op->in.lease.holder);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(now + op->in.lease.ttl_ms));
    rc = sq_step_done(st);
    if (rc == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}
