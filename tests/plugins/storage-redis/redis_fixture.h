/* redis_fixture.h - what the storage-redis tests share: the test server's
 * URL, a key prefix unique to each test (deleted at the end), a plain
 * blocking hiredis client for the test's own checks, and private
 * redis-server processes for what the shared server must not be put
 * through (kill, pause, SCRIPT FLUSH, a password, few databases).
 *
 * The shared server comes from OPENCLAW_TEST_REDIS_URL (set by
 * `eval "$(scripts/ci-services env)"`); without it every test fails and
 * says so. Test thread only; blocking calls are fine here (the plugin's
 * loop is the test host's, and only runs inside oc_test_host_run_until). */
#ifndef REDIS_FIXTURE_H
#define REDIS_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include <openclaw/plugin.h>
#include <openclaw/testing.h>

#define RF_PLUGIN "storage-redis"

/* Set by rf_setup for the current test. */
extern char rf_prefix[96]; /* "openclaw-test:<pid>-<n>-<ms>:" */
extern char rf_so[1024];   /* the plugin file */

/* Per test: checks the environment, picks the prefix. */
void rf_setup(void);
/* The same for tests that need no server (configuration): no URL needed. */
void rf_setup_offline(void);
/* Per test: deletes the prefix's keys, stops private servers. */
void rf_teardown(void);

/* The shared server: its URL, host, port and db. */
const char *rf_url(void);
const char *rf_host(void);
int rf_port(void);
int rf_db(void);

/* gateway.yaml text for the plugin: storage.url `url` (NULL: the shared
 * server), keyPrefix rf_prefix, then `extra` (more indented "key: value"
 * lines, may be NULL). Returns a static buffer. */
const char *rf_yaml(const char *url, const char *extra);

/* A blocking client of the shared server (database selected); asserts. */
redisContext *rf_client(void);
/* Runs a command with argv-style arguments on c; asserts it is not an
 * error unless allow_error. Caller frees with freeReplyObject. */
redisReply *rf_cmd(redisContext *c, int allow_error, const char *fmt, ...);
/* Deletes every key under `prefix` (SCAN + UNLINK). */
void rf_delete_prefix(redisContext *c, const char *prefix);

/* A free TCP port on 127.0.0.1 (nothing listens there). */
int rf_free_port(void);
/* A socket listening on 127.0.0.1 that never accepts: connects succeed,
 * nothing ever answers. Returns its port; closed by rf_teardown. */
int rf_blackhole(void);

/* A private redis-server on a free port. args: extra options (NULL-ended,
 * may be NULL; static). Waits for "Ready to accept connections". The
 * fixture owns it and kills it in rf_teardown; it also dies with the test
 * process. */
typedef struct rf_server_s {
    pid_t pid;
    int port;
    char dir[256];
    const char *const *args;
} rf_server_t;
rf_server_t *rf_server_start(const char *const *args);
/* SIGKILL and reap; start again on the same port. */
void rf_server_kill(rf_server_t *s);
void rf_server_restart(rf_server_t *s);
void rf_server_pause(rf_server_t *s);  /* SIGSTOP */
void rf_server_resume(rf_server_t *s); /* SIGCONT */
/* A client of a private server (AUTH with password when not NULL). */
redisContext *rf_server_client(const rf_server_t *s, const char *password);

/* Test-host helpers. */
oc_test_host_t *rf_load(const char *yaml, int32_t expect); /* asserts the load status */
const oc_storage_ops_t *rf_ops(oc_test_host_t *th);
void *rf_state(oc_test_host_t *th);
/* The plugin's client ids on c's server (CLIENT LIST, name openclaw-<pid>). */
size_t rf_plugin_clients(redisContext *c, long long *ids, size_t max);

#endif
