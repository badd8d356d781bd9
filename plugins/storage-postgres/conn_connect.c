/* conn_connect.c - storage-postgres: open a libpq connection without
 * blocking. PQconnectStartParams with the URL's parts, our settings and the
 * URL's query parameters; then PQconnectPoll each time the socket is ready
 * as libpq asked. libpq may close its socket and open another (next
 * address, SSL retry), so every step watches the socket afresh.
 *
 * DNS: a host name is resolved beforehand (conn_resolve.c: off the loop once
 * the gateway serves) and given as hostaddr, since libpq would resolve it
 * with a blocking call.
 *
 * A failure is permanent when retrying cannot help (wrong password, missing
 * database or role, refused by pg_hba.conf, bad TLS settings): libpq 15
 * gives no SQLSTATE for connection errors, so the server's message decides.
 * Home loop only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define APP_NAME "openclaw-gateway"
#define KW_MAX (PG_URL_PARAMS_MAX + 16)

typedef struct cause_s {
    const char *needle;
    const char *hint;
} cause_t;

/* Permanent causes, by the server's or libpq's message. */
static const cause_t permanent[] = {
    {"password authentication failed",
     "wrong password for this user: fix the password in storage.url"},
    {"no password supplied", "the server asks for a password: put one in storage.url"},
    {"does not exist", "create it, or fix the name in storage.url"},
    {"pg_hba.conf", "the server's pg_hba.conf refuses this user, database or address"},
    {"authentication failed", "the server refused the credentials in storage.url"},
    {"permission denied", "the user may not connect to this database (GRANT CONNECT)"},
    {"does not support SSL", "the server has no TLS: set sslmode=disable or prefer"},
    {"SSL negotiation", "the port does not speak the PostgreSQL protocol"},
    {"certificate", "check sslmode and the certificates in storage.url"},
    {"invalid ", "fix the connection parameter in storage.url"},
};

static const char *permanent_hint(const char *msg)
{
    if (strstr(msg, "the database system is") != NULL) /* starting up, shutting down */
        return NULL;
    for (size_t i = 0; i < sizeof permanent / sizeof permanent[0]; i++)
        if (strstr(msg, permanent[i].needle) != NULL)
            return permanent[i].hint;
    return NULL;
}

static void connect_failed(pg_conn_t *c, const char *libpq_msg)
{
    pg_state_t *st = c->st;
    char line[PG_TEXT_MAX];
    pg_one_line(st, line, sizeof line, libpq_msg != NULL && libpq_msg[0] != '\0'
                                           ? libpq_msg
                                           : "the connection failed");
    int needs_password = c->pq != NULL && PQconnectionNeedsPassword(c->pq);
    const char *hint = needs_password ? "the server asks for a password: put one in storage.url"
                                      : permanent_hint(line);
    if (hint != NULL)
        pg_conn_fail(c, 0, OC_EUNAVAIL, "%s (%s)", line, hint);
    else
        pg_conn_fail(c, 1, OC_EUNAVAIL, "%s", line);
}

static void notice(void *arg, const char *message)
{
    pg_conn_t *c = arg;
    pg_state_t *st = c->st;
    if (!st->host->log_enabled(st->self, OC_LOG_DEBUG))
        return;
    char line[PG_TEXT_MAX];
    pg_one_line(st, line, sizeof line, message);
    st->host->log(st->self, OC_LOG_DEBUG, "server notice: %s", line);
}

/* "name,name,..." once per address in hostaddr (libpq pairs them up). */
static char *host_list(const char *host, const char *hostaddr)
{
    size_t n = 1;
    for (const char *p = hostaddr; *p != '\0'; p++)
        n += *p == ',';
    size_t len = n * (strlen(host) + 1) + 1;
    char *out = malloc(len);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, host);
        if (i + 1 < n)
            strcat(out, ",");
    }
    return out;
}

static int has_param(const pg_url_t *u, const char *key)
{
    for (size_t i = 0; i < u->nparams; i++)
        if (strcmp(u->keys[i], key) == 0)
            return 1;
    return 0;
}

void pg_connect_start(pg_conn_t *c, const char *hostaddr)
{
    pg_state_t *st = c->st;
    const pg_url_t *u = &st->cfg.url;
    const char *kw[KW_MAX + 1], *val[KW_MAX + 1];
    int n = 0;
#define ADD(k, v)                                                                              \
    do {                                                                                       \
        if ((v) != NULL && n < KW_MAX) {                                                       \
            kw[n] = (k);                                                                       \
            val[n++] = (v);                                                                    \
        }                                                                                      \
    } while (0)

    char *hosts = hostaddr != NULL && u->host != NULL ? host_list(u->host, hostaddr) : NULL;
    ADD("host", hosts != NULL ? hosts : u->host);
    ADD("hostaddr", hostaddr);
    ADD("port", u->port);
    ADD("dbname", u->dbname);
    ADD("user", u->user);
    ADD("password", u->password);
    /* Our session settings ride on the startup packet: no extra round trip.
     * The server cancels a statement a little before the client gives up on
     * it, so a slow statement fails alone (OC_ETIMEDOUT) and the connection
     * stays. */
    char options[PG_TEXT_MAX];
    uint32_t stmt_ms = st->cfg.timeout_ms - st->cfg.timeout_ms / 10;
    const char *user_options = NULL;
    for (size_t i = 0; i < u->nparams; i++)
        if (strcmp(u->keys[i], "options") == 0)
            user_options = u->vals[i];
    snprintf(options, sizeof options, "-c search_path=%s -c statement_timeout=%u%s%s",
             st->cfg.schema, stmt_ms > 0 ? stmt_ms : 1, user_options != NULL ? " " : "",
             user_options != NULL ? user_options : "");
    ADD("options", options);
    ADD("fallback_application_name", APP_NAME);
    ADD("client_encoding", "UTF8");
    /* A peer that vanished is noticed even while no op is in flight. */
    if (!has_param(u, "keepalives_idle"))
        ADD("keepalives_idle", "30");
    if (!has_param(u, "keepalives_interval"))
        ADD("keepalives_interval", "10");
    if (!has_param(u, "keepalives_count"))
        ADD("keepalives_count", "3");
    for (size_t i = 0; i < u->nparams; i++)
        if (strcmp(u->keys[i], "options") != 0)
            ADD(u->keys[i], u->vals[i]);
    kw[n] = NULL;
    val[n] = NULL;
#undef ADD

    c->state = PG_CONN_CONNECTING;
    c->pq = PQconnectStartParams(kw, val, 0);
    free(hosts);
    if (c->pq == NULL) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "libpq is out of memory");
        return;
    }
    if (PQstatus(c->pq) == CONNECTION_BAD) {
        connect_failed(c, PQerrorMessage(c->pq));
        return;
    }
    PQsetNoticeProcessor(c->pq, notice, c);
    /* libpq: act as if PQconnectPoll had asked to wait for writability. */
    pg_conn_watch(c, PQsocket(c->pq), OC_IO_WRITE, 1);
}

void pg_connect_poll(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    switch (PQconnectPoll(c->pq)) {
    case PGRES_POLLING_READING:
        pg_conn_watch(c, PQsocket(c->pq), OC_IO_READ, 1);
        return;
    case PGRES_POLLING_WRITING:
        pg_conn_watch(c, PQsocket(c->pq), OC_IO_WRITE, 1);
        return;
    case PGRES_POLLING_OK:
        break;
    default:
        connect_failed(c, PQerrorMessage(c->pq));
        return;
    }
    if (PQsetnonblocking(c->pq, 1) != 0) {
        pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot make the connection non-blocking: %s",
                     PQerrorMessage(c->pq));
        return;
    }
    const char *v = PQparameterStatus(c->pq, "server_version");
    if (v != NULL)
        snprintf(st->server_version, sizeof st->server_version, "%s", v);
    pg_conn_watch(c, PQsocket(c->pq), OC_IO_READ, 1);
    if (c->state == PG_CONN_CONNECTING)
        pg_setup_begin(c);
}
