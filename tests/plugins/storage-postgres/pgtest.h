/* pgtest.h - helpers for the storage-postgres tests: the server from the
 * environment, a schema of our own per test (so tests share the database
 * without seeing each other's rows), and a plain blocking libpq connection
 * for the checks a test makes behind the plugin's back. Test code only:
 * blocking is fine here, never in the plugin. */
#ifndef PGTEST_H
#define PGTEST_H

#include <stddef.h>

#include <libpq-fe.h>
#include <stdint.h>

#include "conformance.h"

#define PGT_PLUGIN "storage-postgres"

/* OPENCLAW_TEST_PG_URL; fails the test with how to set it when unset. */
const char *pgt_url(void);
/* $OPENCLAW_TEST_PLUGIN_DIR/storage-postgres.so */
const char *pgt_so(void);
/* A new schema name unique to this process and call: "oct_<pid>_<n>_<t>". */
void pgt_schema_name(char *buf, size_t len);
/* DROP SCHEMA ... CASCADE (what the test created; a missing one is fine). */
void pgt_schema_drop(const char *schema);
/* A blocking connection to `url` (NULL: pgt_url()) with search_path set to
 * `schema` (NULL: untouched); asserts it connected. PQfinish it. */
PGconn *pgt_connect(const char *url, const char *schema);
/* Run SQL (several statements allowed) in `schema`; asserts it worked. */
void pgt_exec(const char *schema, const char *sql);
/* The first column of the first row as an integer; -1 when there is no row. */
long long pgt_int(const char *schema, const char *sql);
/* The storage section for `url` and `schema`, then `extra` YAML lines (each
 * "  key: value\n"; may be NULL). The URL gets application_name=<schema> so
 * a test can find its plugin's backends. malloc'd. */
char *pgt_yaml(const char *url, const char *schema, const char *extra);
/* pg_terminate_backend of every backend whose application_name is
 * `schema`; returns how many. */
int pgt_terminate(const char *schema);

/* ---- the plugin in a test host ---------------------------------------- */

/* Load the plugin with `yaml` (start included) into *env; `b` must outlive
 * env (it is filled here). Asserts the load worked. */
void pgt_open(sc_env_t *env, sc_backend_t *b, const char *yaml);
/* Load with `yaml` expecting start to fail: returns the load's status;
 * the test host's warnings and errors go to errors (truncated to len) and
 * the time the load took to *ms (may be NULL). */
int32_t pgt_load_fails(const char *yaml, char *errors, size_t len, uint64_t *ms);
/* Run the loop until health is `status` with `needle` in its text (NULL:
 * any text), at most timeout_ms; asserts it happened and returns the text
 * (borrowed until the next plugin call). */
const char *pgt_wait_health(sc_env_t *env, int32_t status, const char *needle,
                            uint64_t timeout_ms);
/* Run the loop until the test host's warnings and errors contain `needle`. */
const char *pgt_wait_logged(sc_env_t *env, const char *needle, uint64_t timeout_ms);
/* session_get through the plugin: its status, and how long the callback
 * took in ms (*ms may be NULL). */
int32_t pgt_get_timed(sc_env_t *env, const char *key, uint64_t *ms);
/* The test server's port, and its URL pointed at 127.0.0.1:port instead
 * (same user and database; malloc'd). */
int pgt_server_port(void);
char *pgt_url_at(int port);
/* `url` with the first `from` replaced by `to` (asserts it is there; malloc'd). */
char *pgt_replace(const char *url, const char *from, const char *to);
/* A TCP port on 127.0.0.1 where nothing listens. */
int pgt_free_port(void);
/* The value of one metric series (exact name with labels), -1 when absent. */
double pgt_metric(sc_env_t *env, const char *series);
/* How many times `needle` occurs in `hay`. */
int pgt_count(const char *hay, const char *needle);
uint64_t pgt_mono_ms(void);

#endif
