/* schema.c - storage-sqlite: the schema and its migrations (worker side).
 *
 * `schema_version` holds one row: the version of the newest migration
 * applied. At open, every migration newer than it runs, in order, in one
 * transaction with the version update: a database is either fully at the
 * new version or untouched. A database newer than this plugin knows is
 * refused, never modified.
 *
 * To change the schema, append a migration to the list (never edit one that
 * shipped): the version is its position + 1. */
#include <stdio.h>

#include "sq.h"

typedef struct sq_migration_s {
    const char *what;
    const char *sql;
} sq_migration_t;

static const sq_migration_t sq_migrations[] = {
    /* v1 */
    {"sessions and transcript turns",
     "CREATE TABLE sessions ("
     " key TEXT PRIMARY KEY NOT NULL,"
     " agent_id TEXT NOT NULL,"
     " channel TEXT,"
     " meta_json TEXT,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL,"
     " turn_count INTEGER NOT NULL DEFAULT 0,"
     " next_seq INTEGER NOT NULL DEFAULT 1);"
     "CREATE TABLE turns ("
     " session_key TEXT NOT NULL,"
     " seq INTEGER NOT NULL,"
     " role TEXT NOT NULL,"
     " content TEXT NOT NULL,"
     " meta_json TEXT,"
     " created_ms INTEGER NOT NULL,"
     " PRIMARY KEY (session_key, seq));"},
    /* v2 */
    {"indexes for listing sessions",
     "CREATE INDEX sessions_by_updated ON sessions (updated_ms DESC, key DESC);"
     "CREATE INDEX sessions_by_agent ON sessions (agent_id, updated_ms DESC, key DESC);"},
    /* v3. AUTOINCREMENT: ids are never reused, so after_id scans stay sound.
     * Pairing codes compare case-insensitively (approve does). */
    {"inbox, outbox, pairing requests and allow lists",
     "CREATE TABLE inbox ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " channel TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " message_id TEXT NOT NULL,"
     " envelope_json TEXT NOT NULL,"
     " received_ms INTEGER NOT NULL,"
     " state INTEGER NOT NULL DEFAULT 1,"
     " UNIQUE (channel, account, message_id));"
     "CREATE INDEX inbox_by_state ON inbox (state, id);"
     "CREATE TABLE outbox ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " idempotency_key TEXT NOT NULL UNIQUE,"
     " channel TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " peer_kind INTEGER NOT NULL,"
     " peer_id TEXT NOT NULL,"
     " text TEXT NOT NULL,"
     " in_reply_to TEXT,"
     " state INTEGER NOT NULL DEFAULT 1,"
     " attempts INTEGER NOT NULL DEFAULT 0,"
     " last_error TEXT,"
     " created_ms INTEGER NOT NULL,"
     " next_attempt_ms INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX outbox_by_state ON outbox (state, id);"
     "CREATE TABLE pairing_requests ("
     " channel TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " sender_id TEXT NOT NULL,"
     " code TEXT NOT NULL COLLATE NOCASE,"
     " meta_json TEXT,"
     " created_ms INTEGER NOT NULL,"
     " last_seen_ms INTEGER NOT NULL,"
     " expires_ms INTEGER NOT NULL,"
     " UNIQUE (channel, account, sender_id));"
     "CREATE INDEX pairing_by_code ON pairing_requests (channel, code);"
     "CREATE INDEX pairing_by_expiry ON pairing_requests (expires_ms);"
     "CREATE TABLE allow_entries ("
     " channel TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " sender_id TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " PRIMARY KEY (channel, account, sender_id)) WITHOUT ROWID;"},
    /* v4. Leases keep their row when released, so tokens only grow. */
    {"leases, per-session inbox reads, outbox claims, pruning",
     "ALTER TABLE inbox ADD COLUMN session_key TEXT;"
     "CREATE INDEX inbox_by_session ON inbox (session_key, id) WHERE state = 1;"
     "CREATE INDEX inbox_by_received ON inbox (received_ms) WHERE state = 2;"
     "ALTER TABLE outbox ADD COLUMN claim_holder TEXT;"
     "ALTER TABLE outbox ADD COLUMN claim_until_ms INTEGER NOT NULL DEFAULT 0;"
     "CREATE INDEX outbox_by_created ON outbox (created_ms) WHERE state <> 1;"
     "CREATE TABLE leases ("
     " name TEXT PRIMARY KEY NOT NULL,"
     " holder TEXT,"
     " token INTEGER NOT NULL,"
     " expires_ms INTEGER NOT NULL) WITHOUT ROWID;"},
};

#define SQ_MIGRATIONS ((int)(sizeof sq_migrations / sizeof sq_migrations[0]))

int sq_schema_latest(void)
{
    return SQ_MIGRATIONS;
}

static int sq_exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s: %s", what, msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

static int sq_read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0); /* NULL (empty table) reads as 0 */
        *version = v > 1000000 ? 1000000 : v < 0 ? 0 : (int)v;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int sq_schema_migrate(sqlite3 *db, int *from, char *err, size_t errlen)
{
    int rc = sq_exec(db, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen);
    if (rc != SQLITE_OK)
        return rc;
    rc = sq_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                 "cannot read the schema version", err, errlen);
    int version = 0;
    if (rc == SQLITE_OK) {
        rc = sq_read_version(db, &version);
        if (rc != SQLITE_OK)
            snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
    }
    if (rc == SQLITE_OK && version > SQ_MIGRATIONS) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this " SQ_NAME
                 " (%d); upgrade the gateway",
                 version, SQ_MIGRATIONS);
        rc = SQ_SCHEMA_NEWER;
    }
    *from = version;
    for (int v = version + 1; rc == SQLITE_OK && v <= SQ_MIGRATIONS; v++) {
        char what[128];
        snprintf(what, sizeof what, "migration to schema version %d (%s) failed", v,
                 sq_migrations[v - 1].what);
        rc = sq_exec(db, sq_migrations[v - 1].sql, what, err, errlen);
    }
    if (rc == SQLITE_OK && version < SQ_MIGRATIONS) {
        char sql[96];
        snprintf(sql, sizeof sql,
                 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
                 SQ_MIGRATIONS);
        rc = sq_exec(db, sql, "cannot record the schema version", err, errlen);
    }
    if (rc == SQLITE_OK)
        rc = sq_exec(db, "COMMIT", "cannot commit the schema", err, errlen);
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(db)) {
        char ignored[8];
        (void)sq_exec(db, "ROLLBACK", "rollback", ignored, sizeof ignored);
    }
    return rc;
}
