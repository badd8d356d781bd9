/* storage-redis and its server: unreachable at start, wrong or missing
 * credentials, a database that does not exist, a connection killed, a
 * server killed, paused or flushed under the plugin. Private redis-server
 * processes stand in for what the shared one must not go through. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conformance.h"
#include "redis_fixture.h"

static char g_acl_user[64]; /* deleted by teardown when set */

static void setup(void)
{
    rf_setup();
    g_acl_user[0] = '\0';
}

static void teardown(void)
{
    if (g_acl_user[0] != '\0') {
        redisContext *c = rf_client();
        freeReplyObject(rf_cmd(c, 0, "ACL DELUSER %s", g_acl_user));
        redisFree(c);
    }
    rf_teardown();
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static const char *url_of_port(int port, const char *auth)
{
    static char url[256];
    snprintf(url, sizeof url, "redis://%s127.0.0.1:%d/0", auth != NULL ? auth : "", port);
    return url;
}

/* Opens a conformance env on `yaml` (the load must succeed). */
static void open_env(sc_env_t *env, const char *yaml)
{
    static char copy[4096];
    static sc_backend_t b;
    snprintf(copy, sizeof copy, "%s", yaml);
    b = (sc_backend_t){.plugin = RF_PLUGIN, .so_path = rf_so, .yaml = copy, .persistent = 1};
    sc_env_open(env, &b);
}

static int g_calls; /* callbacks of calls that must not call back */

static void counting_get(void *data, int32_t status, const oc_session_t *session)
{
    (void)data, (void)status, (void)session;
    g_calls++;
}

/* Start fails with OC_EUNAVAIL after min_ms to max_ms; the errors and the
 * health text say `needle` and never show `secret`; ops are refused at
 * once without a callback. */
static void expect_start_failure(const char *yaml, const char *needle, const char *secret,
                                 uint64_t min_ms, uint64_t max_ms)
{
    uint64_t t0 = mono_ms();
    oc_test_host_t *th = rf_load(yaml, OC_EUNAVAIL);
    uint64_t took = mono_ms() - t0;
    const char *errs = oc_test_host_errors(th);
    cr_assert(took >= min_ms && took <= max_ms, "start failed after %llu ms, not in [%llu, %llu]",
              (unsigned long long)took, (unsigned long long)min_ms, (unsigned long long)max_ms);
    cr_assert(strstr(errs, needle) != NULL, "errors do not say \"%s\":\n%s", needle, errs);
    if (secret != NULL)
        cr_assert(strstr(errs, secret) == NULL, "the password leaked:\n%s", errs);
    const char *text = NULL;
    const oc_storage_ops_t *ops = rf_ops(th);
    void *st = rf_state(th);
    cr_assert_eq(ops->health(st, &text), OC_EUNAVAIL);
    cr_assert(text != NULL && strstr(text, needle) != NULL, "health: %s", text);
    if (secret != NULL)
        cr_assert(strstr(text, secret) == NULL, "the password leaked: %s", text);
    g_calls = 0;
    cr_assert_eq(ops->session_get(st, "agent:a:main", counting_get, NULL), OC_EUNAVAIL);
    cr_assert_eq(g_calls, 0);
    oc_test_host_free(th);
}

/* ---- the server is not there at start --------------------------------------- */

Test(storage_redis_connection, down_at_start_gives_up_after_the_retry_window, .init = setup,
     .fini = teardown)
{
    int port = rf_free_port();
    char needle[256];
    snprintf(needle, sizeof needle,
             "cannot reach redis://127.0.0.1:%d/0 (gave up after 1 s, startupRetrySeconds): "
             "Connection refused",
             port);
    expect_start_failure(rf_yaml(url_of_port(port, NULL), "  startupRetrySeconds: 1\n"), needle,
                         NULL, 1000, 4000);
}

Test(storage_redis_connection, down_at_start_without_retries_fails_at_once, .init = setup,
     .fini = teardown)
{
    int port = rf_free_port();
    expect_start_failure(rf_yaml(url_of_port(port, ":" "pw-xyz-123@"),
                                 "  startupRetrySeconds: 0\n"),
                         "redis://:***@127.0.0.1", "pw-xyz-123", 0, 900);
}

Test(storage_redis_connection, a_silent_server_times_out_the_handshake, .init = setup,
     .fini = teardown)
{
    int port = rf_blackhole();
    expect_start_failure(rf_yaml(url_of_port(port, NULL),
                                 "  startupRetrySeconds: 0\n  connectTimeoutMs: 300\n"),
                         "no answer within 300 ms (connectTimeoutMs)", NULL, 250, 2000);
}

Test(storage_redis_connection, an_unknown_host_is_named, .init = setup, .fini = teardown)
{
    expect_start_failure(rf_yaml("redis://no-such-host.invalid:6379/0",
                                 "  startupRetrySeconds: 0\n  connectTimeoutMs: 2000\n"),
                         "resolv", NULL, 0, 4000);
}

/* ---- credentials, databases, permissions ------------------------------------------ */

Test(storage_redis_connection, wrong_password_fails_at_once, .init = setup, .fini = teardown)
{
    redisContext *c = rf_client();
    snprintf(g_acl_user, sizeof g_acl_user, "gwtest-%ld", (long)getpid());
    freeReplyObject(
        rf_cmd(c, 0, "ACL SETUSER %s on >secret ~openclaw-test:* +@all", g_acl_user));
    char url[256], extra[] = "  startupRetrySeconds: 30\n";
    /* Permanent: no retrying for 30 s. */
    snprintf(url, sizeof url, "redis://%s:wrong-pw-123@%s:%d/%d", g_acl_user, rf_host(),
             rf_port(), rf_db());
    expect_start_failure(rf_yaml(url, extra), "authentication failed", "wrong-pw-123", 0, 5000);
    expect_start_failure(rf_yaml(url, extra), "WRONGPASS", "wrong-pw-123", 0, 5000);

    /* The right one works, for the keys the user may use. */
    snprintf(url, sizeof url, "redis://%s:secret@%s:%d/%d", g_acl_user, rf_host(), rf_port(),
             rf_db());
    sc_env_t env;
    open_env(&env, rf_yaml(url, extra));
    cr_assert_eq(sc_put_simple(&env, "agent:acl:main", "acl", 0), OC_OK);
    cr_assert_eq(sc_get(&env, "agent:acl:main", NULL), OC_OK);
    sc_env_close(&env);

    /* A prefix outside the user's key pattern is refused at once, too. */
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "storage:\n  type: redis\n  url: '%s'\n  keyPrefix: 'elsewhere:'\n%s", url, extra);
    expect_start_failure(yaml, "the user may not use the keys under keyPrefix \"elsewhere:\"",
                         "secret@", 0, 5000);
    freeReplyObject(rf_cmd(c, 0, "ACL DELUSER %s", g_acl_user));
    g_acl_user[0] = '\0';
    redisFree(c);
}

Test(storage_redis_connection, server_passwords_and_databases, .init = setup, .fini = teardown)
{
    static const char *const args[] = {"--requirepass", "pw-ok", "--databases", "2", NULL};
    rf_server_t *s = rf_server_start(args);
    const char *extra = "  startupRetrySeconds: 30\n";
    expect_start_failure(rf_yaml(url_of_port(s->port, NULL), extra),
                         "the server requires a password", NULL, 0, 5000);
    expect_start_failure(rf_yaml(url_of_port(s->port, ":bad-pw-123@"), extra),
                         "authentication failed", "bad-pw-123", 0, 5000);
    char url[256];
    snprintf(url, sizeof url, "redis://:pw-ok@127.0.0.1:%d/5", s->port);
    expect_start_failure(rf_yaml(url, extra), "database 5 does not exist on the server", "pw-ok",
                         0, 5000);
    snprintf(url, sizeof url, "redis://:pw-ok@127.0.0.1:%d/1", s->port);
    sc_env_t env;
    open_env(&env, rf_yaml(url, extra));
    cr_assert_eq(sc_put_simple(&env, "agent:pw:main", "pw", 0), OC_OK);
    sc_env_close(&env);
    redisContext *c = rf_server_client(s, "pw-ok");
    freeReplyObject(rf_cmd(c, 0, "SELECT 1"));
    redisReply *r = rf_cmd(c, 0, "EXISTS %ss:agent:pw:main", rf_prefix);
    cr_assert_eq(r->integer, 1, "the session is not in database 1");
    freeReplyObject(r);
    redisFree(c);
}

/* ---- the connection goes away under the plugin --------------------------------------- */

static void tick(void *data)
{
    if (data != NULL)
        *(int *)data = 1;
}

typedef struct health_wait_s {
    sc_env_t *env;
    int32_t want;
} health_wait_t;

static int health_is(void *arg)
{
    health_wait_t *w = arg;
    return w->env->ops->health(w->env->st, NULL) == w->want;
}

/* T updates health by itself: a 10 ms timer wakes the test loop to look. */
static void wait_health(sc_env_t *env, int32_t want, uint64_t timeout_ms)
{
    health_wait_t w = {env, want};
    oc_timer_t *t = env->host->timer_start(NULL, 10, 10, tick, NULL);
    int ok = oc_test_host_run_until(env->th, health_is, &w, timeout_ms);
    env->host->timer_stop(t);
    const char *text = NULL;
    env->ops->health(env->st, &text);
    cr_assert(ok, "health is not %d after %llu ms: %s", want, (unsigned long long)timeout_ms,
              text != NULL ? text : "");
}

static int flag_set(void *arg)
{
    return *(int *)arg != 0;
}

/* Lets the loop run for ms (a reconnect's backoff, say). */
static void run_for(sc_env_t *env, uint64_t ms)
{
    int fired = 0;
    cr_assert_not_null(env->host->timer_start(NULL, ms, 0, tick, &fired));
    cr_assert(oc_test_host_run_until(env->th, flag_set, &fired, ms + 10000));
}

typedef struct burst_s {
    int want, calls, ok, unavail, other;
} burst_t;

static void burst_cb(void *data, int32_t status, uint64_t last)
{
    burst_t *b = data;
    (void)last;
    b->calls++;
    if (status == OC_OK)
        b->ok++;
    else if (status == OC_EUNAVAIL)
        b->unavail++;
    else
        b->other++;
}

static int burst_done(void *arg)
{
    const burst_t *b = arg;
    return b->calls >= b->want;
}

/* Kills every connection the plugin has to the shared server. */
static long long kill_plugin_client(void)
{
    redisContext *c = rf_client();
    long long ids[4];
    size_t k = rf_plugin_clients(c, ids, 4);
    cr_assert_eq(k, 1, "the plugin has %zu connections, not 1", k);
    freeReplyObject(rf_cmd(c, 0, "CLIENT KILL ID %lld", ids[0]));
    redisFree(c);
    return ids[0];
}

/* Queues n appends (killing the connection right after, when asked) and
 * waits until every one called back. */
static void burst(sc_env_t *env, const char *key, int n, burst_t *b, int kill)
{
    memset(b, 0, sizeof *b);
    b->want = n;
    oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "burst"};
    const oc_turn_t *tp[] = {&t};
    for (int i = 0; i < n; i++)
        cr_assert_eq(env->ops->transcript_append(env->st, key, tp, 1, burst_cb, b), OC_PENDING);
    if (kill)
        kill_plugin_client();
    cr_assert(oc_test_host_run_until(env->th, burst_done, b, SC_TIMEOUT_MS));
    cr_assert_eq(b->calls, n);
    cr_assert_eq(b->other, 0, "statuses other than OK and EUNAVAIL");
}

/* Appends until one succeeds (the plugin reconnects by itself). */
static void append_until_ok(sc_env_t *env, const char *key)
{
    for (int i = 0; i < 200; i++) {
        int32_t st = sc_append_text(env, key, "user", "after", NULL);
        if (st == OC_OK)
            return;
        cr_assert_eq(st, OC_EUNAVAIL, "append gave %d", st);
        run_for(env, 50);
    }
    cr_assert_fail("the plugin did not reconnect");
}

/* The transcript holds seqs 1..n without a gap; returns n. */
static size_t contiguous(sc_env_t *env, const char *key)
{
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    for (size_t i = 0; i < r.nturns; i++)
        cr_assert_eq(r.turns[i].seq, i + 1, "turn %zu has seq %llu", i,
                     (unsigned long long)r.turns[i].seq);
    size_t n = r.nturns;
    sc_res_free(&r);
    return n;
}

static double metric(sc_env_t *env, const char *series)
{
    char *page = oc_test_host_metrics(env->th);
    cr_assert_not_null(page);
    double v = -1;
    size_t n = strlen(series);
    for (const char *p = strstr(page, series); p != NULL; p = strstr(p + n, series))
        if ((p == page || p[-1] == '\n') && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
    free(page);
    return v;
}

Test(storage_redis_connection, client_kill_reconnects_by_itself, .init = setup, .fini = teardown)
{
    sc_env_t env;
    open_env(&env, rf_yaml(NULL, "  timeoutMs: 5000\n"));
    const char *key = "agent:kill:main";
    cr_assert_eq(sc_put_simple(&env, key, "kill", 0), OC_OK);

    /* Killed while idle: the next ops fail or succeed, then succeed. */
    long long before = kill_plugin_client();
    append_until_ok(&env, key);
    wait_health(&env, OC_OK, 10000);
    redisContext *c = rf_client();
    long long ids[4];
    cr_assert_eq(rf_plugin_clients(c, ids, 4), 1);
    cr_assert_neq(ids[0], before, "still the killed connection");
    redisFree(c);

    /* Killed with 300 appends queued: each one calls back once, OK or
     * EUNAVAIL; none is half-applied, none applied twice. */
    burst_t b;
    burst(&env, key, 300, &b, 1);
    append_until_ok(&env, key);
    size_t n = contiguous(&env, key);
    cr_assert_geq(n, (size_t)(1 + b.ok + 1), "acknowledged appends are missing");
    cr_assert_leq(n, (size_t)(1 + 300 + 1));

    const char *errs = oc_test_host_errors(env.th);
    cr_assert_geq(count(errs, "lost the connection to redis://"), 1, "%s", errs);
    cr_assert_leq(count(errs, "lost the connection to redis://"), 2,
                  "one warning per loss, not per attempt:\n%s", errs);
    cr_assert_geq(metric(&env, "openclaw_storage_redis_reconnects_total"), 1);
    cr_assert_eq(metric(&env, "openclaw_storage_redis_connected"), 1);
    sc_env_close(&env);
}

Test(storage_redis_connection, server_killed_then_back, .init = setup, .fini = teardown)
{
    rf_server_t *s = rf_server_start(NULL);
    sc_env_t env;
    open_env(&env, rf_yaml(url_of_port(s->port, NULL),
                           "  timeoutMs: 1000\n  connectTimeoutMs: 500\n"));
    cr_assert_eq(sc_put_simple(&env, "agent:k:main", "k", 0), OC_OK);

    rf_server_kill(s);
    wait_health(&env, OC_EUNAVAIL, 5000);
    const char *text = NULL;
    env.ops->health(env.st, &text);
    cr_assert(strstr(text, "unreachable") != NULL, "health: %s", text);
    /* While it is down, ops fail promptly (well within timeoutMs). */
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = mono_ms();
        cr_assert_eq(sc_put_simple(&env, "agent:k:main", "k", 0), OC_EUNAVAIL);
        cr_assert_lt(mono_ms() - t0, 1000);
        run_for(&env, 30);
    }
    cr_assert_eq(metric(&env, "openclaw_storage_redis_connected"), 0);

    rf_server_restart(s);
    wait_health(&env, OC_OK, 15000);
    cr_assert_eq(sc_put_simple(&env, "agent:k:main", "k", 0), OC_OK);
    cr_assert_eq(sc_get(&env, "agent:k:main", NULL), OC_OK);
    const char *errs = oc_test_host_errors(env.th);
    cr_assert_eq(count(errs, "lost the connection"), 1,
                 "one warning when lost, none per retry:\n%s", errs);
    cr_assert_eq(metric(&env, "openclaw_storage_redis_reconnects_total"), 1);
    sc_env_close(&env);
}

Test(storage_redis_connection, a_paused_server_fails_ops_within_the_timeout, .init = setup,
     .fini = teardown)
{
    rf_server_t *s = rf_server_start(NULL);
    sc_env_t env;
    open_env(&env, rf_yaml(url_of_port(s->port, NULL),
                           "  timeoutMs: 500\n  connectTimeoutMs: 500\n"));
    cr_assert_eq(sc_put_simple(&env, "agent:p:main", "p", 0), OC_OK);

    rf_server_pause(s);
    uint64_t t0 = mono_ms();
    cr_assert_eq(sc_put_simple(&env, "agent:p:main", "p", 0), OC_EUNAVAIL);
    uint64_t took = mono_ms() - t0;
    cr_assert(took >= 400 && took < 2000, "failed after %llu ms, timeoutMs is 500",
              (unsigned long long)took);
    const char *text = NULL;
    cr_assert_eq(env.ops->health(env.st, &text), OC_EUNAVAIL);
    cr_assert(strstr(text, "no reply to session_put within 500 ms (timeoutMs)") != NULL,
              "health: %s", text);

    rf_server_resume(s);
    wait_health(&env, OC_OK, 15000);
    cr_assert_eq(sc_put_simple(&env, "agent:p:main", "p", 0), OC_OK);
    sc_env_close(&env);
}

Test(storage_redis_connection, lost_scripts_fall_back_to_eval, .init = setup, .fini = teardown)
{
    rf_server_t *s = rf_server_start(NULL);
    sc_env_t env;
    open_env(&env, rf_yaml(url_of_port(s->port, NULL), NULL));
    const char *key = "agent:f:main";
    cr_assert_eq(sc_put_simple(&env, key, "f", 0), OC_OK);
    redisContext *c = rf_server_client(s, NULL);
    freeReplyObject(rf_cmd(c, 0, "SCRIPT FLUSH"));

    burst_t b;
    burst(&env, key, 20, &b, 0);
    cr_assert_eq(b.ok, 20, "ops failed after SCRIPT FLUSH: %d of 20", 20 - b.ok);
    cr_assert_eq(contiguous(&env, key), 20, "in call order, each once");
    const char *errs = oc_test_host_errors(env.th);
    cr_assert_eq(count(errs, "the server lost the scripts"), 1, "%s", errs);

    /* Loaded again: later ops use EVALSHA, not EVAL. */
    redisReply *r = rf_cmd(c, 0, "INFO commandstats");
    const char *e = strstr(r->str, "cmdstat_eval:calls=");
    long before = e != NULL ? strtol(e + 19, NULL, 10) : 0;
    freeReplyObject(r);
    burst(&env, key, 10, &b, 0);
    cr_assert_eq(b.ok, 10);
    r = rf_cmd(c, 0, "INFO commandstats");
    e = strstr(r->str, "cmdstat_eval:calls=");
    long after = e != NULL ? strtol(e + 19, NULL, 10) : 0;
    freeReplyObject(r);
    cr_assert_eq(after, before, "the scripts were not loaded again");
    redisFree(c);
    sc_env_close(&env);
}

typedef struct stop_count_s {
    int calls, ok, unavail, canceled;
} stop_count_t;

static void stop_cb(void *data, int32_t status, uint64_t last)
{
    stop_count_t *s = data;
    (void)last;
    s->calls++;
    s->ok += status == OC_OK;
    s->unavail += status == OC_EUNAVAIL;
    s->canceled += status == OC_ECANCELED;
}

Test(storage_redis_connection, stop_while_the_server_is_gone, .init = setup, .fini = teardown)
{
    rf_server_t *s = rf_server_start(NULL);
    sc_env_t env;
    open_env(&env, rf_yaml(url_of_port(s->port, NULL),
                           "  timeoutMs: 3000\n  connectTimeoutMs: 3000\n"));
    cr_assert_eq(sc_put_simple(&env, "agent:s:main", "s", 0), OC_OK);
    /* Paused: the connection hangs (and so will the next attempt). */
    rf_server_pause(s);
    stop_count_t *counts = calloc(40, sizeof *counts);
    cr_assert_not_null(counts);
    oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "queued"};
    const oc_turn_t *tp[] = {&t};
    for (int i = 0; i < 40; i++)
        cr_assert_eq(env.ops->transcript_append(env.st, "agent:s:main", tp, 1, stop_cb,
                                                &counts[i]),
                     OC_PENDING);
    uint64_t t0 = mono_ms();
    sc_env_close(&env); /* stop: waits for every accepted op */
    uint64_t took = mono_ms() - t0;
    cr_assert_lt(took, 6000, "stop took %llu ms", (unsigned long long)took);
    for (int i = 0; i < 40; i++) {
        cr_assert_eq(counts[i].calls, 1, "op %d called back %d times", i, counts[i].calls);
        cr_assert_eq(counts[i].ok, 0);
    }
    free(counts);
    rf_server_resume(s);
}
