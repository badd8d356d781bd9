/* stmts.c - storage-postgres: every SQL statement the ops run, prepared once
 * per connection after connect (conn_setup.c). Parameters are always bound
 * (text format); nothing here is built from user data.
 *
 * Concurrency notes (READ COMMITTED, several gateways on one database):
 *  - a statement that must see rows committed while it waited for a lock
 *    is a separate statement of the round (each gets a fresh snapshot): the
 *    turns deletes after a session delete / clear, the inbox lookup after a
 *    conflicting insert;
 *  - statements that pair an UPDATE with a look at the row as it was
 *    (claims, leases) report what they saw, and the op takes another round
 *    when what they saw says the UPDATE should have matched (a race);
 *  - openclaw_guard() raises PG_GUARD_* to abort a commit's whole round. */
#include "pg.h"

#define SESSION_COLS "key, agent_id, channel, meta_json, created_ms, updated_ms, turn_count"
#define INBOX_COLS                                                                             \
    "id, state, channel, account, message_id, envelope_json, received_ms, session_key"
#define OUTBOX_COLS                                                                            \
    "id, state, idempotency_key, channel, account, peer_kind, attempts, peer_id, text,"        \
    " in_reply_to, last_error, created_ms, next_attempt_ms"
#define PAIRING_COLS                                                                           \
    "channel, account, sender_id, code, meta_json, created_ms, last_seen_ms, expires_ms"
#define PAIRING_NULLS                                                                          \
    "NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint,"                \
    " NULL::bigint, NULL::bigint"
/* Milliseconds left until a timestamptz, on the server's clock. */
#define MS_LEFT(ts)                                                                            \
    "GREATEST(0, ceil(extract(epoch FROM (" ts ") - clock_timestamp()) * 1000))::bigint"

/* A session's turns appended in one statement: the session row is updated
 * (and locked) first, so concurrent appends to one session take turns and
 * seq numbers never repeat. No row when the session does not exist. */
#define APPEND_CTE                                                                             \
    "WITH s AS (UPDATE openclaw_sessions SET next_seq = next_seq + $2::bigint,"                \
    " turn_count = turn_count + $2::bigint, updated_ms = $3::bigint WHERE key = $1"            \
    " RETURNING next_seq - $2::bigint AS first_seq),"                                          \
    " ins AS (INSERT INTO openclaw_turns (session_key, seq, role, content, meta_json,"         \
    " created_ms) SELECT $1, s.first_seq + t.n - 1, t.role, t.content, t.meta_json,"           \
    " t.created_ms FROM s, unnest($4::text[], $5::text[], $6::text[], $7::bigint[])"           \
    " WITH ORDINALITY AS t(role, content, meta_json, created_ms, n)) "

#define CLEAR_CTE                                                                              \
    "WITH s AS (UPDATE openclaw_sessions SET turn_count = 0, updated_ms = $2::bigint"          \
    " WHERE key = $1 RETURNING 1) "

const pg_stmt_t pg_stmts[PG_ST__COUNT] = {
    [PG_ST_SESSION_PUT] =
        {"oc_session_put", 6,
         "INSERT INTO openclaw_sessions (key, agent_id, channel, meta_json, created_ms,"
         " updated_ms) VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint)"
         " ON CONFLICT (key) DO UPDATE SET agent_id = EXCLUDED.agent_id,"
         " channel = EXCLUDED.channel, meta_json = EXCLUDED.meta_json,"
         " updated_ms = EXCLUDED.updated_ms"},
    [PG_ST_SESSION_GET] = {"oc_session_get", 1,
                           "SELECT " SESSION_COLS " FROM openclaw_sessions WHERE key = $1"},
    /* The prefix: a range scan from it, then a byte-wise prefix test. */
    [PG_ST_SESSION_LIST] = {"oc_session_list", 2,
                            "SELECT " SESSION_COLS " FROM openclaw_sessions"
                            " WHERE ($1::text IS NULL OR (key >= $1 AND starts_with(key, $1)))"
                            " ORDER BY updated_ms DESC, key DESC LIMIT $2::bigint"},
    [PG_ST_SESSION_LIST_AGENT] =
        {"oc_session_list_agent", 3,
         "SELECT " SESSION_COLS " FROM openclaw_sessions WHERE agent_id = $1"
         " AND ($2::text IS NULL OR (key >= $2 AND starts_with(key, $2)))"
         " ORDER BY updated_ms DESC, key DESC LIMIT $3::bigint"},
    [PG_ST_SESSION_DELETE] = {"oc_session_delete", 1,
                              "DELETE FROM openclaw_sessions WHERE key = $1"},
    [PG_ST_TURNS_DELETE] = {"oc_turns_delete", 1,
                            "DELETE FROM openclaw_turns WHERE session_key = $1"},
    [PG_ST_APPEND] = {"oc_append", 7, APPEND_CTE "SELECT first_seq + $2::bigint - 1 FROM s"},
    [PG_ST_APPEND_GUARD] = {"oc_append_guard", 7,
                            APPEND_CTE "SELECT openclaw_guard(count(*) = 1, '" PG_GUARD_NO_SESSION
                                       "', 'the session does not exist') FROM s"},
    /* No row: no session. One row with a NULL seq: no turns. */
    [PG_ST_READ] = {"oc_read", 2,
                    "SELECT t.seq, t.role, t.content, t.meta_json, t.created_ms"
                    " FROM openclaw_sessions s LEFT JOIN LATERAL (SELECT seq, role, content,"
                    " meta_json, created_ms FROM openclaw_turns WHERE session_key = s.key"
                    " ORDER BY seq DESC LIMIT $2::bigint) t ON true WHERE s.key = $1"
                    " ORDER BY t.seq"},
    [PG_ST_CLEAR] = {"oc_clear", 2, CLEAR_CTE "SELECT count(*) FROM s"},
    [PG_ST_CLEAR_GUARD] = {"oc_clear_guard", 2,
                           CLEAR_CTE "SELECT openclaw_guard(count(*) = 1, '" PG_GUARD_NO_SESSION
                                     "', 'the session does not exist') FROM s"},

    /* Before a put with a session key, in the same round: one session's
     * puts take turns, so its ids are assigned in commit order and a
     * per-session scan never sees a higher id before a lower one. */
    [PG_ST_INBOX_LOCK] = {"oc_inbox_lock", 1,
                          "SELECT pg_advisory_xact_lock(28515, hashtext('inbox:' || $1))"},
    [PG_ST_INBOX_PUT] = {"oc_inbox_put", 6,
                         "INSERT INTO openclaw_inbox (channel, account, message_id,"
                         " envelope_json, received_ms, session_key)"
                         " VALUES ($1, $2, $3, $4, $5::bigint, $6)"
                         " ON CONFLICT (channel, account, message_id) DO NOTHING RETURNING id"},
    [PG_ST_INBOX_FIND] = {"oc_inbox_find", 3,
                          "SELECT id FROM openclaw_inbox"
                          " WHERE channel = $1 AND account = $2 AND message_id = $3"},
    [PG_ST_INBOX_PENDING] = {"oc_inbox_pending", 2,
                             "SELECT " INBOX_COLS " FROM openclaw_inbox"
                             " WHERE state = 1 AND id > $1::bigint ORDER BY id LIMIT $2::bigint"},
    [PG_ST_INBOX_SESSION_PENDING] =
        {"oc_inbox_session_pending", 3,
         "SELECT " INBOX_COLS " FROM openclaw_inbox WHERE session_key = $1 AND state = 1"
         " AND id > $2::bigint ORDER BY id LIMIT $3::bigint"},
    [PG_ST_INBOX_DONE] = {"oc_inbox_done", 1,
                          "UPDATE openclaw_inbox SET state = 2"
                          " WHERE id = ANY($1::bigint[]) AND state = 1"},
    /* $2: how many distinct ids $1 holds; all must still be pending. */
    [PG_ST_INBOX_DONE_GUARD] =
        {"oc_inbox_done_guard", 2,
         "WITH u AS (UPDATE openclaw_inbox SET state = 2 WHERE id = ANY($1::bigint[])"
         " AND state = 1 RETURNING 1) SELECT openclaw_guard(count(*) = $2::bigint, '"
         PG_GUARD_NOT_PENDING "', 'an inbox item is no longer pending') FROM u"},

    /* In the order given; an existing idempotency key keeps its row. */
    [PG_ST_OUTBOX_INSERT] =
        {"oc_outbox_insert", 11,
         "INSERT INTO openclaw_outbox (idempotency_key, channel, account, peer_kind, peer_id,"
         " text, in_reply_to, attempts, last_error, created_ms, next_attempt_ms)"
         " SELECT k, c, a, pk, p, tx, r, at, e, cr, na FROM unnest($1::text[], $2::text[],"
         " $3::text[], $4::smallint[], $5::text[], $6::text[], $7::text[], $8::bigint[],"
         " $9::text[], $10::bigint[], $11::bigint[])"
         " WITH ORDINALITY AS o(k, c, a, pk, p, tx, r, at, e, cr, na, n) ORDER BY n"
         " ON CONFLICT (idempotency_key) DO NOTHING"},
    [PG_ST_OUTBOX_PENDING] = {"oc_outbox_pending", 2,
                              "SELECT " OUTBOX_COLS " FROM openclaw_outbox"
                              " WHERE state = 1 AND id > $1::bigint ORDER BY id LIMIT $2::bigint"},
    [PG_ST_OUTBOX_UPDATE] = {"oc_outbox_update", 5,
                             "UPDATE openclaw_outbox SET state = $2::smallint,"
                             " attempts = $3::bigint, next_attempt_ms = $4::bigint,"
                             " last_error = $5, claim_holder = NULL, claim_expires_at = NULL"
                             " WHERE id = $1::bigint"},
    /* outcome 1: claimed; 0: not claimed, with the row as it was and
     * whether another holder's claim is unexpired. */
    [PG_ST_OUTBOX_CLAIM] =
        {"oc_outbox_claim", 3,
         "WITH c AS (UPDATE openclaw_outbox SET claim_holder = $2,"
         " claim_expires_at = clock_timestamp() + $3::bigint * interval '1 millisecond'"
         " WHERE id = $1::bigint AND state = 1 AND (claim_holder IS NULL"
         " OR claim_expires_at <= clock_timestamp() OR claim_holder = $2)"
         " RETURNING " OUTBOX_COLS ")"
         " SELECT 1 AS outcome, false AS busy, " OUTBOX_COLS " FROM c"
         " UNION ALL SELECT 0, (claim_holder IS NOT NULL AND claim_holder <> $2"
         " AND claim_expires_at > clock_timestamp()), " OUTBOX_COLS
         " FROM openclaw_outbox WHERE id = $1::bigint AND NOT EXISTS (SELECT 1 FROM c)"},

    /* pairing_request: one channel's requests change one at a time. */
    [PG_ST_PAIRING_LOCK] = {"oc_pairing_lock", 1,
                            "SELECT pg_advisory_xact_lock(28515, hashtext('pairing:' || $1))"},
    [PG_ST_PAIRING_EXPIRE] = {"oc_pairing_expire", 1,
                              "DELETE FROM openclaw_pairing_requests"
                              " WHERE expires_ms <= $1::bigint"},
    /* outcome 0: seen again; 1: created; -1: max_pending reached; -2: the
     * code is taken. $8 = max_pending. */
    [PG_ST_PAIRING_REQUEST] =
        {"oc_pairing_request", 8,
         "WITH seen AS (UPDATE openclaw_pairing_requests SET last_seen_ms = $6::bigint"
         " WHERE channel = $1 AND account = $2 AND sender_id = $3 RETURNING " PAIRING_COLS "),"
         " full_ AS (SELECT count(*) >= $8::bigint AS yes FROM openclaw_pairing_requests"
         " WHERE channel = $1 AND account = $2),"
         " taken AS (SELECT EXISTS (SELECT 1 FROM openclaw_pairing_requests"
         " WHERE channel = $1 AND upper(code) = upper($4)) AS yes),"
         " ins AS (INSERT INTO openclaw_pairing_requests (" PAIRING_COLS ")"
         " SELECT $1, $2, $3, $4, $5, $6::bigint, $6::bigint, $7::bigint"
         " WHERE NOT EXISTS (SELECT 1 FROM seen) AND NOT (SELECT yes FROM full_)"
         " AND NOT (SELECT yes FROM taken) RETURNING " PAIRING_COLS ")"
         " SELECT 0 AS outcome, " PAIRING_COLS " FROM seen"
         " UNION ALL SELECT 1, " PAIRING_COLS " FROM ins"
         " UNION ALL SELECT CASE WHEN (SELECT yes FROM full_) THEN -1 ELSE -2 END, "
         PAIRING_NULLS " WHERE NOT EXISTS (SELECT 1 FROM seen)"
         " AND NOT EXISTS (SELECT 1 FROM ins)"},
    [PG_ST_PAIRING_LIST] = {"oc_pairing_list", 1,
                            "SELECT " PAIRING_COLS " FROM openclaw_pairing_requests"
                            " WHERE expires_ms > $1::bigint ORDER BY created_ms, seq"},
    [PG_ST_PAIRING_LIST_CHANNEL] = {"oc_pairing_list_channel", 2,
                                    "SELECT " PAIRING_COLS " FROM openclaw_pairing_requests"
                                    " WHERE channel = $2 AND expires_ms > $1::bigint"
                                    " ORDER BY created_ms, seq"},
    /* The oldest unexpired request of the channel with the code, deleted and
     * its sender allowed, in one statement (the row lock makes a concurrent
     * approve of the same code find nothing). */
    [PG_ST_PAIRING_APPROVE] =
        {"oc_pairing_approve", 3,
         "WITH p AS (DELETE FROM openclaw_pairing_requests WHERE (channel, account, sender_id)"
         " IN (SELECT channel, account, sender_id FROM openclaw_pairing_requests"
         " WHERE channel = $1 AND upper(code) = upper($2) AND expires_ms > $3::bigint"
         " ORDER BY created_ms, seq LIMIT 1 FOR UPDATE) RETURNING " PAIRING_COLS "),"
         " a AS (INSERT INTO openclaw_allow_entries (channel, account, sender_id, created_ms)"
         " SELECT channel, account, sender_id, $3::bigint FROM p"
         " ON CONFLICT (channel, account, sender_id) DO NOTHING)"
         " SELECT " PAIRING_COLS " FROM p"},
    [PG_ST_ALLOW_ADD] = {"oc_allow_add", 4,
                         "INSERT INTO openclaw_allow_entries (channel, account, sender_id,"
                         " created_ms) VALUES ($1, $2, $3, $4::bigint)"
                         " ON CONFLICT (channel, account, sender_id) DO NOTHING"},
    [PG_ST_ALLOW_CHECK] = {"oc_allow_check", 3,
                           "SELECT 1 FROM openclaw_allow_entries"
                           " WHERE channel = $1 AND account = $2 AND sender_id = $3"},

    /* outcome 1: taken or renewed; 0: held by someone else (as it was). The
     * token grows whenever the holder changes, never on a renewal. */
    [PG_ST_LEASE_ACQUIRE] =
        {"oc_lease_acquire", 3,
         "WITH up AS (INSERT INTO openclaw_leases AS l (name, holder, token, expires_at)"
         " VALUES ($1, $2, 1, clock_timestamp() + $3::bigint * interval '1 millisecond')"
         " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,"
         " token = CASE WHEN l.holder = EXCLUDED.holder THEN l.token ELSE l.token + 1 END,"
         " expires_at = EXCLUDED.expires_at WHERE l.holder IS NULL"
         " OR l.expires_at <= clock_timestamp() OR l.holder = EXCLUDED.holder"
         " RETURNING holder, token, expires_at)"
         " SELECT 1 AS outcome, holder, token, " MS_LEFT("expires_at") " FROM up"
         " UNION ALL SELECT 0, holder, token, " MS_LEFT("expires_at")
         " FROM openclaw_leases WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM up)"},
    [PG_ST_LEASE_RELEASE] = {"oc_lease_release", 2,
                             "UPDATE openclaw_leases SET holder = NULL, expires_at = NULL"
                             " WHERE name = $1 AND holder = $2"
                             " AND expires_at > clock_timestamp()"},
    [PG_ST_PRUNE_INBOX] = {"oc_prune_inbox", 1,
                           "DELETE FROM openclaw_inbox WHERE state = 2"
                           " AND received_ms < $1::bigint"},
    [PG_ST_PRUNE_OUTBOX] = {"oc_prune_outbox", 1,
                            "DELETE FROM openclaw_outbox WHERE state <> 1"
                            " AND created_ms < $1::bigint"},
};
