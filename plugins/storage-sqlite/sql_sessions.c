/* sql_sessions.c - storage-sqlite: session_put/get/list/delete (worker).
 * Each runs inside the batch's transaction (batch.c). */
#include <stdlib.h>
#include <string.h>

#include "sq.h"

/* sq_collect_rows takes rows as void *. */
static void *row_session(sqlite3_stmt *st)
{
    return sq_row_session(st);
}

#define SQ_SESSION_COLS "key, agent_id, channel, meta_json, created_ms, updated_ms, turn_count"

/* created_ms, turn_count and next_seq are kept on update. */
static const char sq_sql_put[] =
    "INSERT INTO sessions (key, agent_id, channel, meta_json, created_ms, updated_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT (key) DO UPDATE SET agent_id = excluded.agent_id,"
    " channel = excluded.channel, meta_json = excluded.meta_json,"
    " updated_ms = excluded.updated_ms";

static const char sq_sql_get[] = "SELECT " SQ_SESSION_COLS " FROM sessions WHERE key = ?1";

/* ?2/?3: the key range of the prefix (NULL = unbounded). */
static const char sq_sql_list[] =
    "SELECT " SQ_SESSION_COLS " FROM sessions"
    " WHERE (?2 IS NULL OR key >= ?2) AND (?3 IS NULL OR key < ?3)"
    " ORDER BY updated_ms DESC, key DESC LIMIT ?4";

static const char sq_sql_list_agent[] =
    "SELECT " SQ_SESSION_COLS " FROM sessions"
    " WHERE agent_id = ?1 AND (?2 IS NULL OR key >= ?2) AND (?3 IS NULL OR key < ?3)"
    " ORDER BY updated_ms DESC, key DESC LIMIT ?4";

static const char sq_sql_delete[] = "DELETE FROM sessions WHERE key = ?1";

int sq_session_upsert(sq_db_t *d, const sq_session_in_t *s)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_SESSION_PUT, sq_sql_put);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, s->key);
    sq_bind_text(st, 2, s->agent_id);
    sq_bind_text(st, 3, s->channel);
    sq_bind_text(st, 4, s->meta_json);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->created_ms);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)s->updated_ms);
    return sq_step_done(st);
}

int sq_exec_session_put(sq_db_t *d, sq_op_t *op)
{
    int rc = sq_session_upsert(d, &op->in.put);
    if (rc == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}

int sq_exec_session_get(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_SESSION_GET, sq_sql_get);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        op->out.row = sq_row_session(st);
        rc = op->out.row != NULL ? SQLITE_OK : SQLITE_NOMEM;
        op->status = OC_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
        op->status = OC_ENOENT;
    }
    sqlite3_reset(st);
    return rc;
}

/* The smallest string greater than every string starting with `prefix`
 * (bytewise, as sqlite's BINARY collation compares): drop trailing 0xff
 * bytes, then increment the last one. 0 when there is none. */
static int sq_prefix_upper(const char *prefix, char *out, size_t outlen)
{
    size_t n = strlen(prefix);
    if (n >= outlen)
        return 0;
    memcpy(out, prefix, n + 1);
    while (n > 0 && (unsigned char)out[n - 1] == 0xff)
        out[--n] = '\0';
    if (n == 0)
        return 0;
    out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
    return 1;
}

int sq_exec_session_list(sq_db_t *d, sq_op_t *op)
{
    const char *agent = op->in.list.agent_id;
    sqlite3_stmt *st = agent != NULL
                           ? sq_db_stmt(d, SQ_STMT_SESSION_LIST_AGENT, sq_sql_list_agent)
                           : sq_db_stmt(d, SQ_STMT_SESSION_LIST, sq_sql_list);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    char upper[SQ_KEY_MAX + 2];
    const char *prefix = op->in.list.prefix;
    if (agent != NULL)
        sq_bind_text(st, 1, agent);
    sq_bind_text(st, 2, prefix);
    if (prefix != NULL && sq_prefix_upper(prefix, upper, sizeof upper))
        sqlite3_bind_text(st, 3, upper, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, op->in.list.limit);

    /* What was built goes to the op either way: sq_op_free releases it. */
    int rc = sq_collect_rows(st, op->in.list.limit < 16 ? op->in.list.limit : 16, row_session,
                             &op->out.rows, &op->out.count);
    if (rc == SQLITE_DONE) {
        op->status = OC_OK;
        rc = SQLITE_OK;
    }
    return rc;
}

int sq_exec_session_delete(sq_db_t *d, sq_op_t *op)
{
    sqlite3_stmt *st = sq_db_stmt(d, SQ_STMT_SESSION_DELETE, sq_sql_delete);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    sq_bind_text(st, 1, op->key);
    int rc = sq_step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    if (sqlite3_changes(d->db) == 0) {
        op->status = OC_ENOENT;
        return SQLITE_OK;
    }
    rc = sq_turns_delete(d, op->key);
    if (rc == SQLITE_OK)
        op->status = OC_OK;
    return rc;
}
