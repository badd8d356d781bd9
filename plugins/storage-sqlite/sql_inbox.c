/* sql_inbox.c - storage-sqlite: inbox_put and inbox_pending, and marking
 * items done for commit (worker). Each runs inside the batch's transaction.
 *
 * Rows are never deleted: the (channel, account, message_id) key must keep
 * answering "duplicate" after the item was processed. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

/* The state is always pending on insert (inbox_put ignores the item's). */
static const char sql_insert[] =
    "INSERT INTO inbox (channel, account, message_id, envelope_json, received_ms, state,"
    " session_key) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)"
    " ON CONFLICT (channel, account, message_id) DO NOTHING";

static const char sql_find[] =
    "SELECT id FROM inbox WHERE channel = ?1 AND account = ?2 AND message_id = ?3";

#define INBOX_COLS                                                                             \
    "id, state, channel, account, message_id, envelope_json, received_ms, session_key"

static const char sql_pending[] = "SELECT " INBOX_COLS " FROM inbox"
                                  " WHERE state = 1 AND id > ?1 ORDER BY id LIMIT ?2";

static const char sql_session_pending[] =
    "SELECT " INBOX_COLS " FROM inbox"
    " WHERE session_key = ?1 AND state = 1 AND id > ?2 ORDER BY id LIMIT ?3";

static const char sql_state[] = "SELECT state FROM inbox WHERE id = ?1";

static const char sql_done[] = "UPDATE inbox SET state = 2 WHERE id = ?1";

/* Columns as in INBOX_COLS. */
void *sq_row_inbox(sqlite3_stmt *st)
{
    sq_col_t chan = sq_col(st, 2), acct = sq_col(st, 3), msg = sq_col(st, 4),
             env = sq_col(st, 5), skey = sq_col(st, 7);
    oc_inbox_item_t *it = malloc(sizeof *it + sq_col_size(chan) + sq_col_size(acct) +
                                 sq_col_size(msg) + sq_col_size(env) + sq_col_size(skey));
    if (it == NULL)
        return NULL;
    char *cur = (char *)(it + 1);
    memset(it, 0, sizeof *it);
    it->struct_size = sizeof *it;
    it->id = (uint64_t)sqlite3_column_int64(st, 0);
    it->state = (uint32_t)sqlite3_column_int(st, 1);
    it->channel = sq_col_copy(&cur, chan);
    it->account = sq_col_copy(&cur, acct);
    it->message_id = sq_col_copy(&cur, msg);
    it->envelope_json = sq_col_copy(&cur, env);
    it->received_ms = (uint64_t)sqlite3_column_int64(st, 6);
    it->session_key = sq_col_copy(&cur, skey);
    return it;
}

int sq_exec_inbox_put(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_INBOX_INSERT, sql_insert);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->in.inbox.channel);
    sq_bind_text(st, 2, op->in.inbox.account);
    sq_bind_text(st, 3, op->in.inbox.message_id);
    sq_bind_text(st, 4, op->in.inbox.envelope_json);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)op->in.inbox.received_ms);
    sq_bind_text(st, 6, op->in.inbox.session_key);
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    if (sqlite3_changes(d->db) == 1) {
        op->out.id = (uint64_t)sqlite3_last_insert_rowid(d->db);
        op->out.flag = 0;
        op->status = OC_OK;
        return SQLITE_OK;
    }
    /* Accepted before: report the first id; nothing changed. */
    st = sq_db_stmt(d, SQ_STMT_INBOX_FIND, sql_find);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->in.inbox.channel);
    sq_bind_text(st, 2, op->in.inbox.account);
    sq_bind_text(st, 3, op->in.inbox.message_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        op->out.id = (uint64_t)sqlite3_column_int64(st, 0);
        op->out.flag = 1;
        op->status = OC_OK;
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_INTERNAL; /* the insert conflicted with a row that is not there */
    }
    sqlite3_reset(st);
    return rc;
}

int sq_exec_inbox_pending(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_INBOX_PENDING, sql_pending);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    uint32_t limit = op->in.pending.limit;
    sqlite3_bind_int64(st, 1, sq_id64(op->in.pending.after_id));
    sqlite3_bind_int64(st, 2, limit);
    int rc = sq_collect_rows(st, limit < 16 ? limit : 16, sq_row_inbox, &op->out.rows,
                             &op->out.count);
    if (rc != SQLITE_DONE)
        return rc;
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_inbox_mark_done(sq_db_t *d, uint64_t id)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_INBOX_DONE, sql_done);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(id));
    return sq_step_done(st);
}

int sq_exec_inbox_session_pending(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_INBOX_SESSION_PENDING, sql_session_pending);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    uint32_t limit = op->in.pending.limit;
    sq_bind_text(st, 1, op->key);
    sqlite3_bind_int64(st, 2, sq_id64(op->in.pending.after_id));
    sqlite3_bind_int64(st, 3, limit);
    int rc = sq_collect_rows(st, limit < 16 ? limit : 16, sq_row_inbox, &op->out.rows,
                             &op->out.count);
    if (rc != SQLITE_DONE)
        return rc;
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_inbox_state(sq_db_t *d, uint64_t id, uint32_t *state)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_INBOX_STATE, sql_state);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, sq_id64(id));
    int rc = sqlite3_step(st);
    *state = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}
