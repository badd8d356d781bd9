/* pgtest.c - see pgtest.h. */
#define _GNU_SOURCE
#include "pgtest.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *pgt_url(void)
{
    const char *url = getenv("OPENCLAW_TEST_PG_URL");
    if (url == NULL || url[0] == '\0')
        cr_assert_fail("OPENCLAW_TEST_PG_URL is not set: start the test services with "
                       "scripts/ci-services start, then eval \"$(scripts/ci-services env)\"");
    return url;
}

const char *pgt_so(void)
{
    static char path[PATH_MAX];
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(path, sizeof path, "%s/" PGT_PLUGIN ".so", dir);
    return path;
}

void pgt_schema_name(char *buf, size_t len)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, len, "oct_%u_%u_%lx", (unsigned)getpid(), counter++,
             (unsigned long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000) & 0xffffffful);
}

PGconn *pgt_connect(const char *url, const char *schema)
{
    PGconn *c = PQconnectdb(url != NULL ? url : pgt_url());
    cr_assert(PQstatus(c) == CONNECTION_OK, "test connection failed: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, NULL, NULL);
    if (schema != NULL) {
        const char *v[1] = {schema};
        PGresult *r = PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL,
                                   v, NULL, NULL, 0);
        cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
        PQclear(r);
    }
    return c;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

void pgt_schema_drop(const char *schema)
{
    PGconn *c = PQconnectdb(pgt_url());
    if (PQstatus(c) == CONNECTION_OK) {
        PQsetNoticeProcessor(c, quiet, NULL);
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", schema);
        PQclear(PQexec(c, sql));
    }
    PQfinish(c);
}

void pgt_exec(const char *schema, const char *sql)
{
    PGconn *c = pgt_connect(NULL, schema);
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    char err[512];
    snprintf(err, sizeof err, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    cr_assert(s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK, "%s: %s", sql, err);
}

long long pgt_int(const char *schema, const char *sql)
{
    PGconn *c = pgt_connect(NULL, schema);
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    long long v = -1;
    if (s == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    char err[512];
    snprintf(err, sizeof err, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    cr_assert(s == PGRES_TUPLES_OK, "%s: %s", sql, err);
    return v;
}

char *pgt_yaml(const char *url, const char *schema, const char *extra)
{
    char *y = NULL;
    int n = asprintf(&y,
                     "storage:\n  type: postgres\n  url: '%s%capplication_name=%s'\n"
                     "  schema: %s\n%s",
                     url, strchr(url, '?') != NULL ? '&' : '?', schema, schema,
                     extra != NULL ? extra : "");
    cr_assert(n > 0 && y != NULL);
    return y;
}

int pgt_terminate(const char *schema)
{
    PGconn *c = pgt_connect(NULL, NULL);
    const char *v[1] = {schema};
    PGresult *r = PQexecParams(c,
                               "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                               " WHERE application_name = $1",
                               1, NULL, v, NULL, NULL, 0);
    cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}

/* ---- the plugin in a test host -------------------------------------------- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

uint64_t pgt_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pgt_open(sc_env_t *env, sc_backend_t *b, const char *yaml)
{
    *b = (sc_backend_t){.plugin = PGT_PLUGIN, .so_path = pgt_so(), .yaml = yaml,
                        .persistent = 1};
    sc_env_open(env, b);
}

typedef struct health_wait_s {
    sc_env_t *env;
    int32_t status;
    const char *needle;
    const char *text;
} health_wait_t;

static int health_is(void *arg)
{
    health_wait_t *w = arg;
    w->text = NULL;
    int32_t s = w->env->ops->health(w->env->st, &w->text);
    return s == w->status &&
           (w->needle == NULL || (w->text != NULL && strstr(w->text, w->needle) != NULL));
}

const char *pgt_wait_health(sc_env_t *env, int32_t status, const char *needle,
                            uint64_t timeout_ms)
{
    health_wait_t w = {env, status, needle, NULL};
    int ok = oc_test_host_run_until(env->th, health_is, &w, timeout_ms);
    cr_assert(ok, "health did not become %d%s%s within %llu ms; it is: %s", status,
              needle != NULL ? " with " : "", needle != NULL ? needle : "",
              (unsigned long long)timeout_ms, w.text != NULL ? w.text : "(none)");
    return w.text;
}

typedef struct log_wait_s {
    sc_env_t *env;
    const char *needle;
} log_wait_t;

static int logged(void *arg)
{
    log_wait_t *w = arg;
    return strstr(oc_test_host_errors(w->env->th), w->needle) != NULL;
}

const char *pgt_wait_logged(sc_env_t *env, const char *needle, uint64_t timeout_ms)
{
    log_wait_t w = {env, needle};
    int ok = oc_test_host_run_until(env->th, logged, &w, timeout_ms);
    cr_assert(ok, "\"%s\" was not logged within %llu ms; the log has:\n%s", needle,
              (unsigned long long)timeout_ms, oc_test_host_errors(env->th));
    return oc_test_host_errors(env->th);
}

typedef struct get_s {
    int calls;
    int32_t status;
    uint64_t at;
} get_t;

static void got(void *data, int32_t status, const oc_session_t *s)
{
    (void)s;
    get_t *g = data;
    g->calls++;
    g->status = status;
    g->at = pgt_mono_ms();
}

static int get_done(void *arg)
{
    return ((get_t *)arg)->calls > 0;
}

int32_t pgt_get_timed(sc_env_t *env, const char *key, uint64_t *ms)
{
    get_t g = {0};
    uint64_t t0 = pgt_mono_ms();
    int32_t rc = env->ops->session_get(env->st, key, got, &g);
    if (rc != OC_PENDING)
        return rc;
    cr_assert(oc_test_host_run_until(env->th, get_done, &g, 60000), "no callback in 60 s");
    cr_assert_eq(g.calls, 1);
    if (ms != NULL)
        *ms = g.at - t0;
    return g.status;
}

int pgt_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

double pgt_metric(sc_env_t *env, const char *series)
{
    char *page = oc_test_host_metrics(env->th);
    cr_assert_not_null(page);
    double v = -1;
    size_t n = strlen(series);
    for (const char *p = page; (p = strstr(p, series)) != NULL; p += n) {
        if ((p == page || p[-1] == '\n') && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
    }
    free(page);
    return v;
}

int pgt_count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

char *pgt_replace(const char *url, const char *from, const char *to)
{
    const char *at = strstr(url, from);
    cr_assert_not_null(at, "\"%s\" has no \"%s\"", url, from);
    char *out = NULL;
    cr_assert(asprintf(&out, "%.*s%s%s", (int)(at - url), url, to, at + strlen(from)) > 0);
    return out;
}

/* The "host:port" part of the test URL. */
static void host_port(char *buf, size_t len)
{
    const char *url = pgt_url();
    const char *at = strchr(url, '@');
    const char *start = at != NULL ? at + 1 : strstr(url, "://") + 3;
    size_t n = strcspn(start, "/?");
    snprintf(buf, len, "%.*s", (int)n, start);
}

int pgt_server_port(void)
{
    char hp[256];
    host_port(hp, sizeof hp);
    const char *colon = strrchr(hp, ':');
    return colon != NULL ? atoi(colon + 1) : 5432;
}

char *pgt_url_at(int port)
{
    char hp[256], to[64];
    host_port(hp, sizeof hp);
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    return pgt_replace(pgt_url(), hp, to);
}

int32_t pgt_load_fails(const char *yaml, char *errors, size_t len, uint64_t *ms)
{
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_not_null(th, "%s", oc_test_host_last_error());
    uint64_t t0 = pgt_mono_ms();
    int32_t rc = oc_test_host_load(th, pgt_so());
    if (ms != NULL)
        *ms = pgt_mono_ms() - t0;
    snprintf(errors, len, "%s", oc_test_host_errors(th));
    oc_test_host_free(th);
    cr_assert_neq(rc, OC_OK, "start succeeded:\n%s", yaml);
    return rc;
}
