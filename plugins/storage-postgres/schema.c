/* schema.c - storage-postgres: the schema and its ordered migrations.
 *
 * openclaw_schema_version holds one row per migration applied; the highest
 * version is the schema's. At start the first connection runs, in ONE
 * transaction holding pg_advisory_xact_lock (so two gateways starting on one
 * database take turns), every migration newer than that, then records them
 * (conn_setup.c). A schema newer than this plugin knows is refused, never
 * touched.
 *
 * To change the schema, append a migration (never edit one that shipped):
 * its version is its position + 1. Tables are prefixed openclaw_ so they can
 * share a database schema with an application's own. Keys are COLLATE "C":
 * prefix scans and ordering are byte-wise whatever the database's locale. */
#include "pg.h"

typedef struct migration_s {
    const char *what;
    const char *sql;
} migration_t;

static const migration_t migrations[] = {
    /* v1: everything ABI 1.1 needs. */
    {"sessions, transcripts, inbox, outbox, pairing requests and allow lists",
     "CREATE TABLE openclaw_schema_version ("
     " version integer PRIMARY KEY,"
     " description text NOT NULL,"
     " applied_at timestamptz NOT NULL DEFAULT now());"
     "CREATE TABLE openclaw_sessions ("
     " key text COLLATE \"C\" PRIMARY KEY,"
     " agent_id text NOT NULL,"
     " channel text,"
     " meta_json text,"
     " created_ms bigint NOT NULL,"
     " updated_ms bigint NOT NULL,"
     " turn_count bigint NOT NULL DEFAULT 0,"
     " next_seq bigint NOT NULL DEFAULT 1);"
     "CREATE INDEX openclaw_sessions_by_updated ON openclaw_sessions"
     " (updated_ms DESC, key DESC);"
     "CREATE INDEX openclaw_sessions_by_agent ON openclaw_sessions"
     " (agent_id, updated_ms DESC, key DESC);"
     "CREATE TABLE openclaw_turns ("
     " session_key text COLLATE \"C\" NOT NULL,"
     " seq bigint NOT NULL,"
     " role text NOT NULL,"
     " content text NOT NULL,"
     " meta_json text,"
     " created_ms bigint NOT NULL,"
     " PRIMARY KEY (session_key, seq));"
     /* Ids from sequences: ascending in insert order, never reused. */
     "CREATE TABLE openclaw_inbox ("
     " id bigserial PRIMARY KEY,"
     " channel text NOT NULL,"
     " account text NOT NULL,"
     " message_id text NOT NULL,"
     " envelope_json text NOT NULL,"
     " received_ms bigint NOT NULL,"
     " state smallint NOT NULL DEFAULT 1,"
     " UNIQUE (channel, account, message_id));"
     /* Pending scans read only pending rows, however large the table. */
     "CREATE INDEX openclaw_inbox_pending ON openclaw_inbox (id) WHERE state = 1;"
     "CREATE TABLE openclaw_outbox ("
     " id bigserial PRIMARY KEY,"
     " idempotency_key text NOT NULL UNIQUE,"
     " channel text NOT NULL,"
     " account text NOT NULL,"
     " peer_kind smallint NOT NULL,"
     " peer_id text NOT NULL,"
     " text text NOT NULL,"
     " in_reply_to text,"
     " state smallint NOT NULL DEFAULT 1,"
     " attempts bigint NOT NULL DEFAULT 0,"
     " last_error text,"
     " created_ms bigint NOT NULL,"
     " next_attempt_ms bigint NOT NULL DEFAULT 0);"
     "CREATE INDEX openclaw_outbox_pending ON openclaw_outbox (id) WHERE state = 1;"
     /* seq orders requests created in the same millisecond. */
     "CREATE TABLE openclaw_pairing_requests ("
     " channel text NOT NULL,"
     " account text NOT NULL,"
     " sender_id text NOT NULL,"
     " code text NOT NULL,"
     " meta_json text,"
     " created_ms bigint NOT NULL,"
     " last_seen_ms bigint NOT NULL,"
     " expires_ms bigint NOT NULL,"
     " seq bigserial NOT NULL,"
     " PRIMARY KEY (channel, account, sender_id));"
     "CREATE INDEX openclaw_pairing_by_code ON openclaw_pairing_requests"
     " (channel, upper(code));"
     "CREATE INDEX openclaw_pairing_by_expiry ON openclaw_pairing_requests (expires_ms);"
     "CREATE TABLE openclaw_allow_entries ("
     " channel text NOT NULL,"
     " account text NOT NULL,"
     " sender_id text NOT NULL,"
     " created_ms bigint NOT NULL,"
     " PRIMARY KEY (channel, account, sender_id));"
     /* Aborts the round it runs in (a commit) with a SQLSTATE the plugin
      * maps to OC_ENOENT / OC_EEXIST: all or nothing in one round trip. */
     "CREATE FUNCTION openclaw_guard(ok boolean, code text, message text)"
     " RETURNS boolean LANGUAGE plpgsql AS $$"
     " BEGIN"
     " IF ok IS NOT TRUE THEN RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;"
     " END IF;"
     " RETURN true;"
     " END $$;"},
    /* v2: ABI 1.2, several gateways on one store. The new columns are
     * nullable (no table rewrite); rows of v1 keep working: an inbox item
     * without a session key is simply never in a per-session scan. */
    {"leases, per-session inbox scans, outbox claims and pruning (ABI 1.2)",
     "ALTER TABLE openclaw_inbox ADD COLUMN session_key text COLLATE \"C\";"
     "CREATE INDEX openclaw_inbox_session_pending ON openclaw_inbox (session_key, id)"
     " WHERE state = 1;"
     "CREATE INDEX openclaw_inbox_done_by_received ON openclaw_inbox (received_ms)"
     " WHERE state = 2;"
     "ALTER TABLE openclaw_outbox ADD COLUMN claim_holder text,"
     " ADD COLUMN claim_expires_at timestamptz;"
     "CREATE INDEX openclaw_outbox_settled_by_created ON openclaw_outbox (created_ms)"
     " WHERE state <> 1;"
     "CREATE TABLE openclaw_leases ("
     " name text COLLATE \"C\" PRIMARY KEY,"
     " holder text,"
     " token bigint NOT NULL,"
     " expires_at timestamptz);"},
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int pg_schema_latest(void)
{
    return N_MIGRATIONS;
}

const char *pg_schema_sql(int v)
{
    return v >= 1 && v <= N_MIGRATIONS ? migrations[v - 1].sql : NULL;
}

const char *pg_schema_what(int v)
{
    return v >= 1 && v <= N_MIGRATIONS ? migrations[v - 1].what : "unknown";
}
