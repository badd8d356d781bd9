/* conn_setup.c - storage-postgres: a new connection's setup, before it
 * serves ops.
 *
 * The first connection at start migrates (plain protocol, one statement at a
 * time, in one transaction):
 *   BEGIN; SET LOCAL statement_timeout = 0 (migrations may be slow);
 *   pg_advisory_xact_lock (a second gateway starting now waits here);
 *   does the schema exist, and its openclaw_schema_version table?
 *   CREATE SCHEMA if it must; read the version;
 *   refuse a newer one; run each missing migration and record it; COMMIT.
 * Every connection then enters pipeline mode and PREPAREs every statement of
 * stmts.c in one round trip, and is READY.
 *
 * An SQL error here is permanent (it will fail the same way next time)
 * unless its SQLSTATE says the server or the connection is at fault.
 * Home loop only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

static void send_step(pg_conn_t *c);

static int transient_state(const char *s)
{
    return s == NULL || strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0 ||
           strcmp(s, "53300") == 0 || strncmp(s, "40", 2) == 0 || strcmp(s, "55P03") == 0;
}

static const char *step_what(const pg_conn_t *c, char *buf, size_t len)
{
    switch (c->step) {
    case PG_SETUP_LOCK:
        return "waiting for the migration lock";
    case PG_SETUP_PROBE:
    case PG_SETUP_VERSION:
        return "reading the schema version";
    case PG_SETUP_CREATE_SCHEMA:
        snprintf(buf, len, "creating schema \"%s\"", c->st->cfg.schema);
        return buf;
    case PG_SETUP_MIGRATE:
    case PG_SETUP_RECORD:
        snprintf(buf, len, "migration to schema version %d (%s)", c->migrate_v,
                 pg_schema_what(c->migrate_v));
        return buf;
    case PG_SETUP_COMMIT:
        return "committing the migrations";
    default:
        return "setting up the session";
    }
}

/* Remember the first error of a step; the step ends when libpq says so. */
static void record_error(pg_conn_t *c, const PGresult *r, const char *what)
{
    if (c->setup_failed)
        return;
    c->setup_failed = 1;
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    c->setup_permanent = !transient_state(code);
    char raw[PG_TEXT_MAX];
    snprintf(raw, sizeof raw, "%s failed: %s (SQLSTATE %s)%s%s", what,
             msg != NULL ? msg : PQresultErrorMessage(r), code != NULL ? code : "none",
             hint != NULL ? "; hint: " : "", hint != NULL ? hint : "");
    pg_one_line(c->st, c->setup_err, sizeof c->setup_err, raw);
}

static void fail_setup(pg_conn_t *c)
{
    c->setup_failed = 0;
    pg_conn_fail(c, !c->setup_permanent, OC_EUNAVAIL, "%s", c->setup_err);
}

static void ready(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    pg_conn_timer_stop(c);
    c->state = PG_CONN_READY;
    c->progress_ms = pg_mono_ms();
    c->failures = 0;
    c->backoff_ms = 0;
    c->await_null = 0;
    pg_pool_conn_ready(st, c);
}

/* The statement of the current step is done (its last NULL arrived). */
static void step_done(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    if (c->setup_failed) {
        fail_setup(c);
        return;
    }
    int latest = pg_schema_latest();
    switch (c->step) {
    case PG_SETUP_BEGIN:
        c->step = PG_SETUP_NO_TIMEOUT;
        break;
    case PG_SETUP_NO_TIMEOUT:
        c->step = PG_SETUP_LOCK;
        break;
    case PG_SETUP_LOCK:
        c->step = PG_SETUP_PROBE;
        break;
    case PG_SETUP_PROBE:
        c->migrate_from = 0;
        c->migrate_v = 1;
        c->step = !c->schema_exists  ? PG_SETUP_CREATE_SCHEMA
                  : c->table_exists ? PG_SETUP_VERSION
                                    : PG_SETUP_MIGRATE;
        break;
    case PG_SETUP_CREATE_SCHEMA:
        c->step = PG_SETUP_MIGRATE;
        break;
    case PG_SETUP_VERSION:
        if (c->migrate_from > latest) {
            pg_conn_fail(c, 0, OC_EUNAVAIL,
                         "the database schema version %d (schema \"%s\") is newer than this "
                         PG_NAME " knows (%d): upgrade the gateway, or point storage.schema "
                         "at another schema",
                         c->migrate_from, st->cfg.schema, latest);
            return;
        }
        c->migrate_v = c->migrate_from + 1;
        c->step = c->migrate_from == latest ? PG_SETUP_COMMIT : PG_SETUP_MIGRATE;
        break;
    case PG_SETUP_MIGRATE:
        c->step = PG_SETUP_RECORD;
        break;
    case PG_SETUP_RECORD:
        c->migrate_v++;
        c->step = c->migrate_v <= latest ? PG_SETUP_MIGRATE : PG_SETUP_COMMIT;
        break;
    case PG_SETUP_COMMIT:
        st->migrated = 1;
        st->schema_from = c->migrate_from;
        if (c->migrate_from < latest)
            st->host->log(st->self, OC_LOG_INFO, "schema \"%s\" migrated from v%d to v%d",
                          st->cfg.schema, c->migrate_from, latest);
        c->step = PG_SETUP_PREPARE;
        break;
    default:
        return;
    }
    send_step(c);
}

static int send_params(pg_conn_t *c, const char *sql, int n, const char *const *vals)
{
    return PQsendQueryParams(c->pq, sql, n, NULL, vals, NULL, NULL, 0);
}

/* Session settings that depend on the server's version, sent before the
 * PREPAREs in the same round. client_connection_check_interval (14+): a
 * statement still running for a client that gave up on it (timeoutMs) is
 * canceled instead of committing later unseen. */
static int session_settings(pg_conn_t *c)
{
    if (PQserverVersion(c->pq) < 140000)
        return 0;
    const char *v[1] = {"1000"};
    return PQsendQueryParams(c->pq,
                             "SELECT set_config('client_connection_check_interval', $1, false)",
                             1, NULL, v, NULL, NULL, 0)
               ? 1
               : -1;
}

static int send_prepares(pg_conn_t *c)
{
    if (!PQenterPipelineMode(c->pq))
        return 0;
    int extra = session_settings(c);
    if (extra < 0)
        return 0;
    for (int i = 0; i < PG_ST__COUNT; i++)
        if (!PQsendPrepare(c->pq, pg_stmts[i].name, pg_stmts[i].sql, pg_stmts[i].nparams, NULL))
            return 0;
    c->settings_left = extra;
    c->prepare_left = PG_ST__COUNT;
    c->await_null = 0;
    return PQpipelineSync(c->pq);
}

static void send_step(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    const char *schema = st->cfg.schema;
    char buf[160], qual[96], num[16];
    int ok = 0;
    switch (c->step) {
    case PG_SETUP_BEGIN:
        ok = PQsendQuery(c->pq, "BEGIN");
        break;
    case PG_SETUP_NO_TIMEOUT:
        ok = PQsendQuery(c->pq, "SET LOCAL statement_timeout = 0");
        break;
    case PG_SETUP_LOCK: {
        snprintf(buf, sizeof buf, "schema:%s", schema);
        const char *v[1] = {buf};
        ok = send_params(c, "SELECT pg_advisory_xact_lock(28515, hashtext($1))", 1, v);
        break;
    }
    case PG_SETUP_PROBE: {
        snprintf(qual, sizeof qual, "%s.openclaw_schema_version", schema);
        const char *v[2] = {schema, qual};
        ok = send_params(c,
                         "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),"
                         " to_regclass($2) IS NOT NULL",
                         2, v);
        break;
    }
    case PG_SETUP_CREATE_SCHEMA:
        /* An identifier cannot be a parameter; config.c allows only
         * [a-z0-9_] in it. */
        snprintf(buf, sizeof buf, "CREATE SCHEMA \"%s\"", schema);
        ok = PQsendQuery(c->pq, buf);
        break;
    case PG_SETUP_VERSION:
        ok = PQsendQuery(c->pq, "SELECT coalesce(max(version), 0) FROM openclaw_schema_version");
        break;
    case PG_SETUP_MIGRATE:
        ok = PQsendQuery(c->pq, pg_schema_sql(c->migrate_v));
        break;
    case PG_SETUP_RECORD: {
        snprintf(num, sizeof num, "%d", c->migrate_v);
        const char *v[2] = {num, pg_schema_what(c->migrate_v)};
        ok = send_params(c,
                         "INSERT INTO openclaw_schema_version (version, description)"
                         " VALUES ($1::integer, $2)",
                         2, v);
        break;
    }
    case PG_SETUP_COMMIT:
        ok = PQsendQuery(c->pq, "COMMIT");
        break;
    case PG_SETUP_PREPARE:
        if (!pg_conn_timer_armed(c))
            pg_conn_arm_attempt(c); /* bounded again after a migration */
        ok = send_prepares(c);
        break;
    default:
        return;
    }
    if (!ok) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot send to the server: %s", PQerrorMessage(c->pq));
        return;
    }
    pg_conn_flush(c);
}

void pg_setup_begin(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    c->state = PG_CONN_SETUP;
    c->setup_failed = 0;
    c->schema_exists = c->table_exists = 0;
    if (!st->migrated && c->index == 0) {
        /* Migrations are not bounded by connectTimeoutMs (a big table's
         * index takes what it takes); TCP keepalives notice a dead server. */
        pg_conn_timer_stop(c);
        c->step = PG_SETUP_BEGIN;
    } else {
        c->step = PG_SETUP_PREPARE;
    }
    send_step(c);
}

static void prepare_input(pg_conn_t *c)
{
    while (!PQisBusy(c->pq)) {
        PGresult *r = PQgetResult(c->pq);
        if (r == NULL) {
            if (!c->await_null)
                return;
            c->await_null = 0;
            continue;
        }
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (c->setup_failed) {
                fail_setup(c);
                return;
            }
            ready(c);
            return;
        }
        c->await_null = 1;
        if (c->settings_left > 0) {
            c->settings_left--;
            if (s != PGRES_TUPLES_OK && s != PGRES_PIPELINE_ABORTED)
                record_error(c, r, "setting client_connection_check_interval");
            PQclear(r);
            continue;
        }
        int index = PG_ST__COUNT - c->prepare_left;
        c->prepare_left--;
        if (s != PGRES_COMMAND_OK && s != PGRES_PIPELINE_ABORTED && index >= 0 &&
            index < PG_ST__COUNT) {
            char what[192];
            snprintf(what, sizeof what, "preparing statement %s (is schema \"%s\" at v%d?)",
                     pg_stmts[index].name, c->st->cfg.schema, pg_schema_latest());
            record_error(c, r, what);
        }
        PQclear(r);
    }
}

static void read_values(pg_conn_t *c, const PGresult *r)
{
    if (c->step == PG_SETUP_PROBE && PQntuples(r) == 1) {
        c->schema_exists = pg_val(r, 0, 0) != NULL && pg_val(r, 0, 0)[0] == 't';
        c->table_exists = pg_val(r, 0, 1) != NULL && pg_val(r, 0, 1)[0] == 't';
    } else if (c->step == PG_SETUP_VERSION && PQntuples(r) == 1) {
        int64_t v = pg_i64(r, 0, 0);
        c->migrate_from = v > 1000000 ? 1000000 : v < 0 ? 0 : (int)v;
    }
}

void pg_setup_input(pg_conn_t *c)
{
    if ((c->events & OC_IO_WRITE) && !pg_conn_flush(c))
        return;
    if (!PQconsumeInput(c->pq)) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "lost the connection during setup: %s",
                     PQerrorMessage(c->pq));
        return;
    }
    if (c->step == PG_SETUP_PREPARE) {
        prepare_input(c);
        return;
    }
    char buf[160];
    while (c->state == PG_CONN_SETUP && !PQisBusy(c->pq)) {
        PGresult *r = PQgetResult(c->pq);
        if (r == NULL) {
            step_done(c); /* sends the next step, or ends the setup */
            return;
        }
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
            read_values(c, r);
        else
            record_error(c, r, step_what(c, buf, sizeof buf));
        PQclear(r);
    }
}
