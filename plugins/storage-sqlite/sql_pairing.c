/* sql_pairing.c - storage-sqlite: pairing requests and allow lists (worker).
 * Each runs inside the batch's transaction; pairing_request and
 * pairing_approve inside their own savepoint too (batch.c), so one that
 * reports an error leaves nothing behind.
 *
 * pairing_requests.code has COLLATE NOCASE: the collision check and approve
 * both compare codes case-insensitively, through the same index. */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

#define PAIRING_COLS                                                                           \
    "channel, account, sender_id, code, meta_json, created_ms, last_seen_ms, expires_ms"

static const char sql_expire[] = "DELETE FROM pairing_requests WHERE expires_ms <= ?1";

static const char sql_find[] = "SELECT " PAIRING_COLS " FROM pairing_requests"
                               " WHERE channel = ?1 AND account = ?2 AND sender_id = ?3";

static const char sql_seen[] = "UPDATE pairing_requests SET last_seen_ms = ?4"
                               " WHERE channel = ?1 AND account = ?2 AND sender_id = ?3";

static const char sql_count[] =
    "SELECT COUNT(*) FROM pairing_requests WHERE channel = ?1 AND account = ?2";

static const char sql_code[] =
    "SELECT 1 FROM pairing_requests WHERE channel = ?1 AND code = ?2 LIMIT 1";

static const char sql_insert[] =
    "INSERT INTO pairing_requests (" PAIRING_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)";

/* Oldest first; rowid breaks ties in creation order. */
static const char sql_list[] = "SELECT " PAIRING_COLS " FROM pairing_requests"
                               " WHERE expires_ms > ?1 ORDER BY created_ms, rowid";

static const char sql_list_channel[] =
    "SELECT " PAIRING_COLS " FROM pairing_requests"
    " WHERE channel = ?2 AND expires_ms > ?1 ORDER BY created_ms, rowid";

static const char sql_by_code[] =
    "SELECT " PAIRING_COLS " FROM pairing_requests"
    " WHERE channel = ?1 AND code = ?2 AND expires_ms > ?3 ORDER BY created_ms, rowid LIMIT 1";

static const char sql_delete[] =
    "DELETE FROM pairing_requests WHERE channel = ?1 AND account = ?2 AND sender_id = ?3";

static const char sql_allow_insert[] =
    "INSERT INTO allow_entries (channel, account, sender_id, created_ms)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, account, sender_id) DO NOTHING";

static const char sql_allow_check[] =
    "SELECT 1 FROM allow_entries WHERE channel = ?1 AND account = ?2 AND sender_id = ?3";

/* Columns as in PAIRING_COLS. */
static void *row_pairing(sqlite3_stmt *st)
{
    sq_col_t chan = sq_col(st, 0), acct = sq_col(st, 1), sender = sq_col(st, 2),
             code = sq_col(st, 3), meta = sq_col(st, 4);
    oc_pairing_t *p = malloc(sizeof *p + sq_col_size(chan) + sq_col_size(acct) +
                             sq_col_size(sender) + sq_col_size(code) + sq_col_size(meta));
    if (p == NULL)
        return NULL;
    char *cur = (char *)(p + 1);
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->channel = sq_col_copy(&cur, chan);
    p->account = sq_col_copy(&cur, acct);
    p->sender_id = sq_col_copy(&cur, sender);
    p->code = sq_col_copy(&cur, code);
    p->meta_json = sq_col_copy(&cur, meta);
    p->created_ms = (uint64_t)sqlite3_column_int64(st, 5);
    p->last_seen_ms = (uint64_t)sqlite3_column_int64(st, 6);
    p->expires_ms = (uint64_t)sqlite3_column_int64(st, 7);
    return p;
}

/* Step a statement that returns at most one row: into op->out.row when
 * there is one. SQLITE_OK (row or none) or the error. Resets st. */
static int one_row(sqlite3_stmt *st, sq_op_t *op)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        op->out.row = row_pairing(st);
        rc = op->out.row != NULL ? SQLITE_OK : SQLITE_NOMEM;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* The request of (channel, account, sender_id) into op->out.row, if any. */
static int find(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_PAIRING_FIND, sql_find);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->in.pairing.channel);
    sq_bind_text(st, 2, op->in.pairing.account);
    sq_bind_text(st, 3, op->in.pairing.sender_id);
    return one_row(st, op);
}

/* The first column of a one-row query over (channel, account|code). */
static int count(sq_db_t *d, sq_stmt_id_t id, const char *sql, const char *a, const char *b,
                 int64_t *out)
{
    sqlite3_stmt *st = sq_db_stmt(d, id, sql);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, a);
    sq_bind_text(st, 2, b);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Steps as storage.h orders them; the savepoint makes them one. */
int sq_exec_pairing_request(sq_db_t *d, sq_op_t *op)
{
    const char *chan = op->in.pairing.channel, *acct = op->in.pairing.account;
    sqlite3_int64 now = (sqlite3_int64)op->in.pairing.at_ms;
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_PAIRING_EXPIRE, sql_expire);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, now);
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;

    st = sq_db_stmt(d, SQ_STMT_PAIRING_SEEN, sql_seen);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, chan);
    sq_bind_text(st, 2, acct);
    sq_bind_text(st, 3, op->in.pairing.sender_id);
    sqlite3_bind_int64(st, 4, now);
    if ((rc = sq_step_done(st)) != SQLITE_OK)
        return rc;
    int existing = sqlite3_changes(d->db) > 0;

    if (!existing) {
        int64_t n;
        rc = count(d, SQ_STMT_PAIRING_COUNT, sql_count, chan, acct, &n);
        if (rc != SQLITE_OK)
            return rc;
        if (n >= (int64_t)op->in.pairing.max_pending) {
            op->status = OC_ELIMIT;
            return SQLITE_OK;
        }
        rc = count(d, SQ_STMT_PAIRING_CODE, sql_code, chan, op->in.pairing.code, &n);
        if (rc != SQLITE_OK)
            return rc;
        if (n != 0) {
            op->status = OC_EEXIST;
            return SQLITE_OK;
        }
        st = sq_db_stmt(d, SQ_STMT_PAIRING_INSERT, sql_insert);
        if (st == NULL)
            return sqlite3_errcode(d->db);
        sq_bind_text(st, 1, chan);
        sq_bind_text(st, 2, acct);
        sq_bind_text(st, 3, op->in.pairing.sender_id);
        sq_bind_text(st, 4, op->in.pairing.code);
        sq_bind_text(st, 5, op->in.pairing.meta_json);
        sqlite3_bind_int64(st, 6, now);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)op->in.pairing.expires_ms);
        if ((rc = sq_step_done(st)) != SQLITE_OK)
            return rc;
    }
    /* Report the stored request (new, or the existing one just seen). */
    if ((rc = find(d, op)) != SQLITE_OK)
        return rc;
    if (op->out.row == NULL)
        return SQLITE_INTERNAL; /* written above in this transaction */
    op->out.flag = !existing;
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_exec_pairing_list(sq_db_t *d, sq_op_t *op)
{
    const char *chan = op->in.pairing.channel;
    sqlite3_stmt *st = chan != NULL
                           ? sq_db_stmt(d, SQ_STMT_PAIRING_LIST_CHANNEL, sql_list_channel)
                           : sq_db_stmt(d, SQ_STMT_PAIRING_LIST, sql_list);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)op->in.pairing.at_ms);
    if (chan != NULL)
        sq_bind_text(st, 2, chan);
    int rc = sq_collect_rows(st, 4, row_pairing, &op->out.rows, &op->out.count);
    if (rc != SQLITE_DONE)
        return rc;
    op->status = OC_OK;
    return SQLITE_OK;
}

static int allow_insert(sq_db_t *d, const char *chan, const char *acct, const char *sender,
                        uint64_t now_ms)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_ALLOW_INSERT, sql_allow_insert);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, chan);
    sq_bind_text(st, 2, acct);
    sq_bind_text(st, 3, sender);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)now_ms);
    return sq_step_done(st);
}

int sq_exec_pairing_approve(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_PAIRING_BY_CODE, sql_by_code);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->in.pairing.channel);
    sq_bind_text(st, 2, op->in.pairing.code);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)op->in.pairing.at_ms);
    int rc = one_row(st, op);
    if (rc != SQLITE_OK)
        return rc;
    const oc_pairing_t *p = op->out.row;
    if (p == NULL) {
        op->status = OC_ENOENT;
        return SQLITE_OK;
    }
    st = sq_db_stmt(d, SQ_STMT_PAIRING_DELETE, sql_delete);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, p->channel);
    sq_bind_text(st, 2, p->account);
    sq_bind_text(st, 3, p->sender_id);
    if ((rc = sq_step_done(st)) != SQLITE_OK)
        return rc;
    rc = allow_insert(d, p->channel, p->account, p->sender_id, op->in.pairing.at_ms);
    if (rc != SQLITE_OK)
        return rc;
    op->out.flag = 0; /* created is unused here */
    op->status = OC_OK;
    return SQLITE_OK;
}

int sq_exec_allow_add(sq_db_t *d, sq_op_t *op)
{
    int rc = allow_insert(d, op->in.allow.channel, op->in.allow.account, op->in.allow.sender_id,
                          op->now_ms);
    if (rc == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}

int sq_exec_allow_check(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_ALLOW_CHECK, sql_allow_check);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->in.allow.channel);
    sq_bind_text(st, 2, op->in.allow.account);
    sq_bind_text(st, 3, op->in.allow.sender_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    op->status = rc == SQLITE_ROW ? OC_OK : OC_ENOENT;
    return SQLITE_OK;
}
