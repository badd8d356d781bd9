/* sql_transcript.c - storage-sqlite: transcript_append/read/clear (worker),
 * and the append and clear that commit reuses. Each runs inside the batch's
 * transaction; append and clear inside their own savepoint too (batch.c),
 * so a failure half-way leaves nothing.
 *
 * sessions.next_seq is the seq the next appended turn gets. It only grows,
 * also across clears, so a seq is never reused. */
#include <stdlib.h>

#include "sq.h"

/* sq_collect_rows takes rows as void *. */
static void *row_turn(sqlite3_stmt *st)
{
    return sq_row_turn(st);
}

static const char sq_sql_counters[] =
    "SELECT next_seq, turn_count FROM sessions WHERE key = ?1";

static const char sq_sql_insert[] =
    "INSERT INTO turns (session_key, seq, role, content, meta_json, created_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char sq_sql_appended[] =
    "UPDATE sessions SET next_seq = ?2, turn_count = turn_count + ?3, updated_ms = ?4"
    " WHERE key = ?1";

static const char sq_sql_all[] =
    "SELECT seq, role, content, meta_json, created_ms FROM turns"
    " WHERE session_key = ?1 ORDER BY seq ASC";

static const char sq_sql_last[] =
    "SELECT seq, role, content, meta_json, created_ms FROM turns"
    " WHERE session_key = ?1 ORDER BY seq DESC LIMIT ?2";

static const char sq_sql_cleared[] =
    "UPDATE sessions SET turn_count = 0, updated_ms = ?2 WHERE key = ?1";

static const char sq_sql_turns_delete[] = "DELETE FROM turns WHERE session_key = ?1";

/* next_seq and turn_count of `key`; SQLITE_NOTFOUND when there is no such
 * session. */
static int sq_counters(sq_db_t *d, const char *key, uint64_t *next_seq, uint64_t *turns)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_SESSION_COUNTERS, sq_sql_counters);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *next_seq = (uint64_t)sqlite3_column_int64(st, 0);
        *turns = (uint64_t)sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_NOTFOUND;
    }
    sqlite3_reset(st);
    return rc;
}

int sq_turns_append(sq_db_t *d, const char *key, const sq_turn_in_t *turns, size_t n,
                    uint64_t now_ms, uint64_t *last_seq)
{
    uint64_t seq, count;
    int rc = sq_counters(d, key, &seq, &count);
    if (rc != SQLITE_OK)
        return rc;
    if (seq == 0)
        seq = 1;
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_TURN_INSERT, sq_sql_insert);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    for (size_t i = 0; i < n; i++) {
        const sq_turn_in_t *t = &turns[i];
        sqlite3_reset(st);
        sq_bind_text(st, 1, key);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(seq + i));
        sq_bind_text(st, 3, t->role);
        sq_bind_text(st, 4, t->content);
        sq_bind_text(st, 5, t->meta_json);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)t->created_ms);
        rc = sq_step_done(st);
        if (rc != SQLITE_OK)
            return rc;
    }
    st = sq_db_stmt(d, SQ_STMT_SESSION_APPENDED, sq_sql_appended);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(seq + n));
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)now_ms);
    rc = sq_step_done(st);
    if (rc == SQLITE_OK)
        *last_seq = seq + n - 1;
    return rc;
}

int sq_exec_transcript_append(sq_db_t *d, sq_op_t *op)
{
    int rc = sq_turns_append(d, op->key, op->in.append.turns, op->in.append.count, op->now_ms,
                             &op->out.id);
    if (rc == SQLITE_NOTFOUND) {
        op->status = OC_ENOENT;
        return SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}

int sq_exec_transcript_read(sq_db_t *d, sq_op_t *op)
{
    uint64_t next, total;
    int rc = sq_counters(d, op->key, &next, &total);
    if (rc == SQLITE_NOTFOUND) {
        op->status = OC_ENOENT;
        return SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        return rc;
    uint32_t limit = op->in.read.limit;
    sqlite3_stmt *st = limit == 0 ? sq_db_stmt(d, SQ_STMT_TURNS_ALL, sq_sql_all)
                                  : sq_db_stmt(d, SQ_STMT_TURNS_LAST, sq_sql_last);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->key);
    if (limit != 0)
        sqlite3_bind_int64(st, 2, limit);

    /* turn_count is the expected size; grow if it is off. What was built
     * goes to the op either way (sq_op_free releases it). */
    size_t cap = limit != 0 && limit < total ? limit : (size_t)total;
    rc = sq_collect_rows(st, cap, row_turn, &op->out.rows, &op->out.count);
    if (rc != SQLITE_DONE)
        return rc;
    if (limit != 0) { /* newest first from sqlite: make it oldest first */
        void **items = op->out.rows;
        for (size_t i = 0, j = op->out.count; i + 1 < j; i++, j--) {
            void *t = items[i];
            items[i] = items[j - 1];
            items[j - 1] = t;
        }
    }
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_turns_delete(sq_db_t *d, const char *key)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_TURNS_DELETE, sq_sql_turns_delete);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, key);
    return sq_step_done(st);
}

int sq_turns_clear(sq_db_t *d, const char *key, uint64_t now_ms)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_SESSION_CLEARED, sq_sql_cleared);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ms);
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    if (sqlite3_changes(d->db) == 0)
        return SQLITE_NOTFOUND;
    return sq_turns_delete(d, key);
}

int sq_exec_transcript_clear(sq_db_t *d, sq_op_t *op)
{
    int rc = sq_turns_clear(d, op->key, op->now_ms);
    if (rc == SQLITE_NOTFOUND) {
        op->status = OC_ENOENT;
        return SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}
