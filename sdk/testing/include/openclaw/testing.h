/* openclaw/testing.h - a test host for plugin unit tests, without a gateway.
 *
 * The test host is the gateway's own host implementation (config, loader,
 * timers, thread pool, HTTP client, metrics) on a private event loop, with no
 * HTTP server. A plugin author loads the real .so, drives it, and runs the
 * loop until a condition holds:
 *
 *     oc_test_host_t *th = oc_test_host_new("storage:\n  path: /tmp/x.db\n");
 *     cr_assert_eq(oc_test_host_load(th, "build/storage-sqlite.so"), OC_OK,
 *                  "%s", oc_test_host_errors(th));
 *     const oc_storage_ops_t *ops = oc_test_host_kind_ops(th, "storage-sqlite");
 *     void *st = oc_test_host_state(th, "storage-sqlite");
 *     ... ops->session_put(st, &s, done_cb, &flag);
 *     cr_assert(oc_test_host_run_until(th, flag_is_set, &flag, 5000));
 *     oc_test_host_free(th);
 *
 * Not thread-safe: use one test host from one thread. Link with
 * `openclaw_testhost` (CMake target OpenClawPlugin::testhost). */
#ifndef OPENCLAW_TESTING_H
#define OPENCLAW_TESTING_H

#include <stdint.h>

#include "openclaw/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oc_test_host_s oc_test_host_t;

/* A host whose configuration is `yaml` (gateway.yaml text; NULL = empty).
 * ${VAR} expansion applies as in the gateway. Returns NULL when the YAML does
 * not parse; oc_test_host_last_error() then says why. */
oc_test_host_t *oc_test_host_new(const char *yaml);
const char *oc_test_host_last_error(void);

/* Load a plugin file through the gateway's loader (every ABI check applies),
 * call its init with its config section, then start. Returns OC_OK, or the
 * error; oc_test_host_errors() has the messages. */
int32_t oc_test_host_load(oc_test_host_t *th, const char *so_path);
/* Like oc_test_host_load but stops after init (no start). */
int32_t oc_test_host_load_init_only(oc_test_host_t *th, const char *so_path);

/* The host table given to plugins. */
const oc_host_api_t *oc_test_host_api(oc_test_host_t *th);
/* A loaded plugin's state (what its init returned) and kind table, by name. */
void *oc_test_host_state(oc_test_host_t *th, const char *plugin_name);
const void *oc_test_host_kind_ops(oc_test_host_t *th, const char *plugin_name);

/* Run the loop until cond(arg) returns non-zero (checked after every loop
 * iteration) or timeout_ms passed. Returns 1 when the condition held. */
int oc_test_host_run_until(oc_test_host_t *th, int (*cond)(void *arg), void *arg,
                           uint64_t timeout_ms);

/* Everything reported so far (loader refusals, config errors, plugin log
 * lines at warn and above), one per line; "" when none. Borrowed until the
 * next call into the test host. */
const char *oc_test_host_errors(oc_test_host_t *th);

/* The metrics page as the gateway would serve it. Caller frees with free(). */
char *oc_test_host_metrics(oc_test_host_t *th);

/* Stop every plugin (waiting for their done callbacks), destroy, unload,
 * free. */
void oc_test_host_free(oc_test_host_t *th);

#ifdef __cplusplus
}
#endif
#endif
